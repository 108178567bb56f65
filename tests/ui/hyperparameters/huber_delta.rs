chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(2)],
        loss: huber(0),
    }
}

fn main() {}
