chainrule::network! {
    struct Net {
        input: [8],
        graph: {
            let h = dense(input, 16);
            let price = dense(h, 1);
            let class = dense(relu(h), 3);
            (price, class)
        },
        loss: { price: mse, klass: softmax_cross_entropy },
    }
}

fn main() {
    // Targets are a tuple, one part per output, even after the mistake.
    let mut net = Net::new(0);
    let mut ws = chainrule::Workspace::new();
    let mut grad = vec![0.0; <Net as chainrule::Network>::PARAM_LEN];
    let _ = chainrule::Network::loss_and_grad(&mut net, &[[0.0; 8]], &[([1.0], 2)], &mut grad, &mut ws);
    let (_price, _class) = Net::outputs(&chainrule::Network::predict(&net, &[0.0; 8]));
}
