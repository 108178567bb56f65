// One output: a value loss is suggested.
chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dense(1)],
    }
}

fn main() {}
