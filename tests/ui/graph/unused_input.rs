chainrule::network! {
    struct Net {
        input: { audio: [64, 1], gain: [1] },
        graph: {
            let h = lstm(audio, 16);
            dense(h, 1)
        },
        loss: mse,
    }
}

fn main() {
    let _ = Net::inputs(&[0.0; 64], &[1.0]);
}
