chainrule::network! {
    struct Net {
        input: [6],
        graph: {
            let (a, b) = split(dense(input, 7), 2);
            dense(tanh(a) * sigmoid(b), 1)
        },
        loss: mse,
    }
}

fn main() {}
