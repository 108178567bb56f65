chainrule::network! {
    struct Net {
        inptu: [4],
        layers: [dense(2)],
        loss: mse,
    }
}

fn main() {}
