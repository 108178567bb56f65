// `quantize: int8` compiles in a quantized file, which it needs.
chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(64), tanh, dense(10)],
        loss: softmax_cross_entropy,
        quantize: int8,
    }
}

fn main() {
    let scores: [f32; 10] = Net::trained().predict(&[0.5; 64]);
    println!("{scores:?} {}", Net::WEIGHT_BYTES);
}
