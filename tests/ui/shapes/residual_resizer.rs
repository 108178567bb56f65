// The layer that changes the size is blamed, not the last one.
chainrule::network! {
    struct Net {
        input: [8],
        layers: [residual[dense(16), relu], dense(2)],
        loss: mse,
    }
}

fn main() {}
