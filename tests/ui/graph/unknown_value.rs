chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let hidden = relu(dense(input, 16));
            let y = dense(hiden, 2);
            y
        },
        loss: mse,
    }
}

fn main() {}
