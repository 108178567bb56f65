chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let a = dense(input + b, 8);
            let b = dense(relu(a), 8);
            dense(b, 2)
        },
        loss: mse,
    }
}

fn main() {}
