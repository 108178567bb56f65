chainrule::network! {
    struct Net {
        input: [1, 28, 28],
        layers: [
            conv2d(8, kernel = (3, 3, 3)),
            conv2d(0, kernel = 3),
            max_pool2d(2, 2, 2),
            conv2d(8, kernal = 3),
            conv1d(4, kernel = (2, 2)),
            conv2d(8, kernel = 3, exact = 1),
            conv2d(8, kernel = 3, padding = full),
            conv2d(8),
        ],
        loss: mse,
    }
}

fn main() {}
