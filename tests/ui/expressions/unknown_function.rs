chainrule::network! {
    struct Net {
        input: [4],
        layers: [dense(8), activation(|x| x * sigmod(x)), dense(2)],
        loss: mse,
    }
}

fn main() {}
