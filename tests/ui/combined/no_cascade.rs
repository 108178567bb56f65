// After a mistake in the declaration the struct still exists, so code that
// names it gets no second wave of "cannot find type" errors.
chainrule::network! {
    pub struct Net {
        input: [4],
        layers: [dense(0)],
        loss: mse,
    }
}

fn keep(_net: &Net) {}

fn main() {}
