// Independent mistakes are all reported, each at its own token, in one build.
chainrule::network! {
    struct Net {
        input: [0],
        layers: [dens(8), relu(2), dense(0), dense(1)],
        loss: softmax_cross_entropy,
        regularizer: l3(0.1),
    }
}

fn main() {}
