chainrule::network! {
    struct Net {
        input: [64],
        layers: [dense(32), attention(4), dense(2)],
        loss: mse,
    }
}

fn main() {
    let _ = Net::new(0);
}
