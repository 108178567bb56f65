// A kernel larger than the image.
use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer};

chainrule::network! {
    struct Net {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 9), relu, flatten, dense(3)],
        loss: softmax_cross_entropy,
    }
}

fn main() {
    let mut net = Net::new(0);
    let scores = net.predict(&[0.5; 64]);
    println!("{scores:?}");
    let data = Dataset::new(vec![[0.5f32; 64]; 8], vec![0usize; 8]).unwrap();
    let mut trainer = Trainer::new(Sgd::new(0.1), 4, 0);
    trainer.train_epoch(&mut net, &data).unwrap();
}
