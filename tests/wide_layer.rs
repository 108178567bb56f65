//! A 784 -> 1024 layer has 800k parameters: the generated code must keep
//! them on the heap, so this runs in a debug build on a test thread's
//! default stack without overflowing.

use chainrule::{Network, Workspace};

chainrule::network! {
    struct Wide {
        input: [784],
        layers: [dense(1024), relu, dense(10)],
        loss: softmax_cross_entropy,
    }
}

#[test]
fn a_wide_layer_runs_in_debug_builds() {
    let mut net = Wide::new(0);
    assert_eq!(Wide::PARAM_LEN, 784 * 1024 + 1024 + 1024 * 10 + 10);
    let x = [0.5f32; 784];
    let y = net.predict(&x);
    assert!(y.iter().all(|v| v.is_finite()));
    let mut ws = Workspace::new();
    let mut grad = vec![0.0; Wide::PARAM_LEN];
    let inputs = vec![x; 4];
    let loss = net.loss_and_grad(&inputs, &[1, 2, 3, 4], &mut grad, &mut ws).unwrap();
    assert!(loss.is_finite() && grad.iter().any(|&g| g != 0.0));
}
