// A recurrent layer without units; the network still streams.
use chainrule::optim::Sgd;
use chainrule::{Dataset, Network, Trainer};

chainrule::network! {
    struct Net {
        input: [6, 2],
        layers: [lstm(0), dense(2)],
        loss: mse,
    }
}

fn main() {
    let mut net = Net::new(0);
    let scores = net.predict(&[0.5; 12]);
    println!("{scores:?}");
    let step = net.step(&[0.5; 2]);
    println!("{step:?}");
    net.reset();
    let data = Dataset::new(vec![[0.5f32; 12]; 8], vec![[0.0f32; 2]; 8]).unwrap();
    let mut trainer = Trainer::new(Sgd::new(0.1), 4, 0);
    trainer.train_epoch(&mut net, &data).unwrap();
}
