chainrule::network! {
    struct Net {
        input: [4],
        layers: [dens(8), relu, dense(2)],
        loss: mse,
    }
}

fn main() {}
