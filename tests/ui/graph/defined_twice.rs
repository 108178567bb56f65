chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let h = dense(input, 16);
            let h = relu(h);
            dense(h, 2)
        },
        loss: mse,
    }
}

fn main() {}
