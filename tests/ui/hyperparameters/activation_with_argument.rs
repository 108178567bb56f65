chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu(0.1), dense(2)],
        loss: mse,
    }
}

fn main() {}
