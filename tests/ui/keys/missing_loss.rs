chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
    }
}

fn main() {}
