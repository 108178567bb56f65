chainrule::network! {
    struct Net {
        input: [1, 16, 16],
        graph: {
            let a = conv2d(input, 8, kernel = 3, padding = same);
            let b = conv2d(input, 4, kernel = 1);
            dense(flatten(relu(a + b)), 10)
        },
        loss: softmax_cross_entropy,
    }
}

fn main() {
    use chainrule::Network;
    let net = Net::new(0);
    let _ = net.predict(&[0.0; 256]);
}
