chainrule::network! {
    struct Net {
        input: [i64; 16],
        layers: [embedding(100, 8), flatten, dense(2)],
        loss: mse,
    }
}

fn main() {
    let _ = Net::new(0);
}
