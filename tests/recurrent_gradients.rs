//! Backpropagation through time against central finite differences in
//! f64: each cell with its last hidden state and with its whole sequence,
//! and stacked layers.

use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    struct RnnLast { input: [5, 3], layers: [rnn(4), dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct LstmLast { input: [6, 3], layers: [lstm(4), dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    struct GruLast { input: [6, 2], layers: [gru(3), dense(2)], loss: mse, scalar: f64 }
}
chainrule::network! {
    /// Sequence outputs feeding another recurrent layer: gradients flow
    /// through time in both and between them at every step.
    struct Stacked {
        input: [5, 3],
        layers: [lstm(4, sequence = true), gru(3, sequence = true), rnn(3), dense(2)],
        loss: mse,
        scalar: f64,
    }
}
chainrule::network! {
    /// A sequence output read by the loss directly (every step's state).
    struct SequenceLoss { input: [4, 2], layers: [lstm(3, sequence = true), flatten], loss: mse, scalar: f64 }
}

chainrule::network! {
    /// `dense` at every step, before and after a recurrent layer.
    struct DensePerStep {
        input: [4, 2],
        layers: [dense(3), tanh, gru(3, sequence = true), dense(2), flatten],
        loss: mse,
        scalar: f64,
    }
}

#[test]
fn rnn_last_state() {
    check_gradients(&mut RnnLast::new(1), &samples::<15>(1, 3, 1.0), &samples::<2>(2, 3, 1.0));
}

#[test]
fn lstm_last_state() {
    check_gradients(&mut LstmLast::new(2), &samples::<18>(3, 3, 1.0), &samples::<2>(4, 3, 1.0));
}

#[test]
fn gru_last_state() {
    check_gradients(&mut GruLast::new(3), &samples::<12>(5, 3, 1.0), &samples::<2>(6, 3, 1.0));
}

#[test]
fn stacked_sequences() {
    check_gradients(&mut Stacked::new(4), &samples::<15>(7, 2, 1.0), &samples::<2>(8, 2, 1.0));
}

#[test]
fn loss_on_every_step() {
    check_gradients(&mut SequenceLoss::new(5), &samples::<8>(9, 3, 1.0), &samples::<12>(10, 3, 0.5));
}

#[test]
fn dense_at_every_step() {
    check_gradients(&mut DensePerStep::new(6), &samples::<8>(11, 3, 1.0), &samples::<8>(12, 3, 0.5));
}
