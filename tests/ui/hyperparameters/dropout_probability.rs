chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), relu, dropout(1.0), dense(2)],
        loss: mse,
    }
}

fn main() {}
