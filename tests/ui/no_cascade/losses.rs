// A class loss on one output.
use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer};

chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dense(1)],
        loss: softmax_cross_entropy,
    }
}

fn main() {
    let mut net = Net::new(0);
    let scores = net.predict(&[0.5; 4]);
    println!("{scores:?}");
    let data = Dataset::new(vec![[0.5f32; 4]; 8], vec![0usize; 8]).unwrap();
    let mut trainer = Trainer::new(Sgd::new(0.1), 4, 0);
    trainer.train_epoch(&mut net, &data).unwrap();
}
