chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: |y, t| (y - t).abs() + (y % t),
    }
}

fn main() {}
