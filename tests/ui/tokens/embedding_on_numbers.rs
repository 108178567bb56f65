chainrule::network! {
    struct Net {
        input: { text: [16], style: [4] },
        graph: {
            let e = embedding(text, 100, 8);
            dense(concat(flatten(e), style), 2)
        },
        loss: mse,
    }
}

fn main() {
    let _ = Net::new(0);
}
