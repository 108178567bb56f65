chainrule::network! {
    struct Net {
        input: [2, 8, 8],
        layers: [conv2d(4, kernel = 3), global_max_pool(2), dense(2)],
        loss: mse,
    }
}

fn main() {}
