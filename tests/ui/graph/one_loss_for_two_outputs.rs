chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let h = dense(input, 16);
            let price = dense(h, 1);
            let class = dense(relu(h), 3);
            (price, class)
        },
        loss: mse,
    }
}

fn main() {
    let _ = Net::new(0);
}
