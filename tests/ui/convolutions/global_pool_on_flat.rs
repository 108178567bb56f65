chainrule::network! {
    struct Net {
        input: [64],
        layers: [global_avg_pool, dense(2)],
        loss: mse,
    }
}

fn main() {}
