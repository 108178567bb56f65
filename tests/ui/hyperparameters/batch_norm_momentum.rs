chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), batch_norm(momentum = 1.5), relu, dense(2)],
        loss: mse,
    }
}

fn main() {}
