// `sample_weights` is a flag, and the rest of the declaration still reads.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: mse,
        sample_weights: yes,
    }
}

fn main() {
    let _ = Net::new(0);
}
