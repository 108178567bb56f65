chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dense(1), log_softmax],
        loss: nll,
    }
}

fn main() {}
