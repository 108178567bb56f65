chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), residual[dense(16), relu, dense(4)], dense(2)],
        loss: mse,
    }
}

fn main() {}
