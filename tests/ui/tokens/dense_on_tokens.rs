chainrule::network! {
    struct Net {
        input: [u32; 16],
        layers: [dense(8), relu, dense(2)],
        loss: mse,
    }
}

fn main() {
    let _ = chainrule::Network::predict(&Net::new(0), &[3u32; 16]);
}
