chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [rnn(16, sequence = 1), dense(1)],
        loss: mse,
    }
}

fn main() {}
