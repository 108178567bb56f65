//! Batch normalization of dense features: the gradient flows through the
//! batch mean and variance; running statistics are state, not parameters.

use chainrule::{Network, Role, Workspace};
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct Normalized {
        input: [3],
        layers: [dense(5), batch_norm, tanh, dense(4), batch_norm(momentum = 0.2), dense(2)],
        loss: mse,
        regularizer: l2(0.01),
        scalar: f64,
    }
}

#[test]
fn gradients_include_the_batch_statistics() {
    let mut net = Normalized::new(1);
    // Move scales and shifts away from 1 and 0 so every term matters.
    let mut params = net.params().to_vec();
    for spec in Normalized::LAYOUT.iter().filter(|p| matches!(p.role, Role::Scale | Role::Bias)) {
        for (i, v) in params[spec.offset..spec.offset + spec.len()].iter_mut().enumerate() {
            *v += 0.3 * (i as f64 + 1.0).sin();
        }
    }
    net.params_mut().copy_from_slice(&params);
    check_gradients(&mut net, &samples::<3>(2, 7, 2.0), &samples::<2>(3, 7, 1.0));
}

#[test]
fn running_statistics_are_state_and_move_only_in_training() {
    assert_eq!(Normalized::STATE_LEN, 2 * 5 + 2 * 4);
    let names: Vec<&str> = Normalized::STATE_LAYOUT.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["layers.1.running_mean", "layers.1.running_var", "layers.4.running_mean", "layers.4.running_var"]
    );
    assert!(Normalized::LAYOUT.iter().all(|p| p.role != Role::Statistic), "statistics are not trained");
    let mut net = Normalized::new(4);
    let fresh = net.state().to_vec();
    assert_eq!(&fresh[..5], &[0.0; 5]);
    assert_eq!(&fresh[5..10], &[1.0; 5]);
    let (x, t) = (samples::<3>(5, 8, 1.0), samples::<2>(6, 8, 1.0));
    let mut ws = Workspace::new();
    net.loss(&x, &t, &mut ws).unwrap();
    let mut outputs = vec![Normalized::zero_output(); 8];
    net.predict_batch(&x, &mut outputs, &mut ws).unwrap();
    assert_eq!(net.state(), &fresh[..], "inference leaves the statistics alone");
    let mut grad = vec![0.0; Normalized::PARAM_LEN];
    net.loss_and_grad(&x, &t, &mut grad, &mut ws).unwrap();
    assert_ne!(net.state(), &fresh[..], "training moves them");
}

/// A batch of one has no variance; training on it must not produce NaN.
#[test]
fn a_batch_of_one_stays_finite() {
    let mut net = Normalized::new(7);
    let mut grad = vec![0.0; Normalized::PARAM_LEN];
    let loss =
        net.loss_and_grad(&[[0.5, 1.0, -1.0]], &[[0.1, 0.2]], &mut grad, &mut Workspace::new()).unwrap();
    assert!(loss.is_finite() && grad.iter().all(|g| g.is_finite()));
    assert!(net.state().iter().all(|s| s.is_finite()));
}
