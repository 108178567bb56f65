// A zero-wide layer before `batch_norm` is one mistake, reported once at
// the `0`; batch norm itself raises no follow-up error.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(0), batch_norm, dense(2)],
        loss: mse,
    }
}

fn main() {}
