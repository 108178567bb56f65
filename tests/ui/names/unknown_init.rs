chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8, init = he_norml), relu, dense(2)],
        loss: mse,
    }
}

fn main() {}
