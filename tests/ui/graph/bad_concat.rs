chainrule::network! {
    struct Net {
        input: [2, 32],
        graph: {
            let wide = conv1d(input, 8, kernel = 3);
            let same = conv1d(input, 8, kernel = 3, padding = same);
            dense(flatten(concat(wide, same)), 4)
        },
        loss: mse,
    }
}

fn main() {}
