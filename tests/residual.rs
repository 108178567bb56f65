//! Skip connections: `residual[...]` adds its input to its output; the
//! gradient of the input is the sum of the skip's and the block's.

use chainrule::{Network, Workspace};
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct Skips {
        input: [3],
        layers: [
            dense(5),
            residual[dense(7), tanh, dense(5)],
            relu,
            residual[batch_norm, dropout(0.3), dense(5), residual[dense(5), sigmoid]],
            dense(2),
        ],
        loss: mse,
        scalar: f64,
    }
}

chainrule::network! {
    /// A residual block whose body is zero computes the identity.
    struct Identity { input: [2], layers: [residual[dense(2)]], loss: mse, scalar: f64 }
}

#[test]
fn gradients_through_nested_skips() {
    check_gradients(&mut Skips::new(1), &samples::<3>(1, 6, 1.0), &samples::<2>(2, 6, 1.0));
}

#[test]
fn names_follow_the_nesting() {
    let names: Vec<&str> = Skips::LAYOUT.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.body.0.weight",
            "layers.1.body.0.bias",
            "layers.1.body.2.weight",
            "layers.1.body.2.bias",
            "layers.3.body.0.weight",
            "layers.3.body.0.bias",
            "layers.3.body.2.weight",
            "layers.3.body.2.bias",
            "layers.3.body.3.body.0.weight",
            "layers.3.body.3.body.0.bias",
            "layers.4.weight",
            "layers.4.bias",
        ]
    );
}

#[test]
fn a_zero_body_passes_the_input_through() {
    let net = Identity::from_params(&[0.0; 6]).unwrap();
    assert_eq!(net.predict(&[1.5, -2.0]), [1.5, -2.0]);
    // The loss gradient still reaches the zero weights through the block.
    let mut grad = vec![0.0; 6];
    let mut net = net;
    net.loss_and_grad(&[[1.0, 2.0]], &[[0.0, 0.0]], &mut grad, &mut Workspace::new()).unwrap();
    assert_eq!(grad, [1.0, 2.0, 2.0, 4.0, 1.0, 2.0], "d/dW = (y - t) x^T with y = x");
}
