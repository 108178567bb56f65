// `causal` padding keeps a sequence's length by padding its past: it needs
// stride 1, and an image has no past.
chainrule::network! {
    struct Strided {
        input: [2, 32],
        layers: [conv1d(4, kernel = 3, stride = 2, padding = causal), flatten, dense(1)],
        loss: mse,
    }
}

chainrule::network! {
    struct Image {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3, padding = causal), flatten, dense(1)],
        loss: mse,
    }
}

fn main() {}
