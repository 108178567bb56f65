chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let h = dense(input, 16);
            let y = dense(relu(h), 2);
        },
        loss: mse,
    }
}

fn main() {
    let _ = Net::new(0);
}
