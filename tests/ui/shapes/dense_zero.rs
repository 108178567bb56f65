chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), tanh, dense(0)],
        loss: mse,
    }
}

fn main() {}
