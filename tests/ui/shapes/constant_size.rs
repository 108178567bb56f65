// Sizes must be literals: the macro checks shapes before constants have values.
const HIDDEN: usize = 16;

chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(HIDDEN), relu, dense(2)],
        loss: mse,
    }
}

fn main() {
    let _ = HIDDEN;
}
