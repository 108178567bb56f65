chainrule::network! {
    struct Net {
        input: [u32; 32],
        layers: [embedding(65, 30), positional_embedding, attention(4, causal = true), dense(65)],
        loss: softmax_cross_entropy,
    }
}

fn main() {
    // A class per step, even after the mistake.
    let _: [usize; 32] = <Net as chainrule::Network>::Target::default();
}
