// `embedded: true` without weights compiled in: the struct's API is still
// there, so its use gets no further errors.
chainrule::network! {
    struct Net {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3), relu, flatten, dense(3)],
        loss: softmax_cross_entropy,
        embedded: true,
    }
}

fn main() {
    let net = Net::trained();
    let scores: [f32; 3] = net.predict(&[0.5; Net::INPUT_LEN]);
    println!("{scores:?}");
}
