chainrule::network! {
    struct Net {
        input: [32, 8],
        layers: [
            lstm(0),
            gru(16, sequense = true),
            rnn(16, sequence = 1),
            lstm(16, 4),
            gru,
            lstm(8),
            dense(1),
        ],
        loss: mse,
    }
}

fn main() {}
