//! Helpers shared by the integration tests. The README's example is
//! compiled and run as a doctest of this crate, so it cannot go stale.

#[doc = include_str!("../../README.md")]
pub mod readme {}

use chainrule::{Network, Workspace};

/// Compares `loss_and_grad` of an `f64` network with central finite
/// differences of the training loss (step 1e-6), parameter by parameter,
/// with the tolerance of `torch.autograd.gradcheck`: |numeric - analytic| <=
/// 1e-5 + 1e-3 |numeric|. The random stream is reset before every
/// evaluation, so layers like dropout use one fixed mask throughout.
/// Panics naming the first parameter that disagrees.
pub fn check_gradients<N: Network<Scalar = f64>>(net: &mut N, inputs: &[N::Input], targets: &[N::Target]) {
    check_gradients_of(net, |net, grad, ws| net.loss_and_grad(inputs, targets, grad, ws).unwrap());
}

/// [`check_gradients`] of `weighted_loss_and_grad`, sample `i` weighted
/// by `weights[i]`.
pub fn check_weighted_gradients<N: Network<Scalar = f64>>(
    net: &mut N,
    inputs: &[N::Input],
    targets: &[N::Target],
    weights: &[f64],
) {
    check_gradients_of(net, |net, grad, ws| {
        net.weighted_loss_and_grad(inputs, targets, weights, grad, ws).unwrap()
    });
}

/// The check of [`check_gradients`] on any training loss and its gradient.
fn check_gradients_of<N: Network<Scalar = f64>>(
    net: &mut N,
    mut loss_and_grad: impl FnMut(&mut N, &mut [f64], &mut Workspace<f64>) -> f64,
) {
    let mut ws = Workspace::new();
    let state = net.rng_state();
    let mut grad = vec![0.0; N::PARAM_LEN];
    loss_and_grad(net, &mut grad, &mut ws);
    let mut scratch = vec![0.0; N::PARAM_LEN];
    let mut training_loss = |net: &mut N| {
        net.set_rng_state(state);
        loss_and_grad(net, &mut scratch, &mut ws)
    };
    let eps = 1e-6;
    for (i, &analytic) in grad.iter().enumerate() {
        let original = net.params()[i];
        net.params_mut()[i] = original + eps;
        let up = training_loss(net);
        net.params_mut()[i] = original - eps;
        let down = training_loss(net);
        net.params_mut()[i] = original;
        let numeric = (up - down) / (2.0 * eps);
        let name = N::LAYOUT.iter().rev().find(|p| p.offset <= i).map_or("?", |p| p.name);
        assert!(
            (numeric - analytic).abs() <= 1e-5 + 1e-3 * numeric.abs(),
            "parameter {i} ({name}): finite difference {numeric}, gradient {analytic}"
        );
    }
    net.set_rng_state(state);
}

/// Deterministic pseudo-random values in [-scale, scale], for test inputs.
pub fn values(seed: u64, count: usize, scale: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            (2.0 * unit - 1.0) * scale
        })
        .collect()
}

/// `count` samples of `N` values each from [`values`].
pub fn samples<const N: usize>(seed: u64, count: usize, scale: f64) -> Vec<[f64; N]> {
    values(seed, count * N, scale).chunks_exact(N).map(|c| c.try_into().unwrap()).collect()
}

/// Runs `f` once on every instruction-set level this CPU runs, from the
/// narrowest, with the level forced for the whole process
/// (`chainrule::isa::set_limit`), then restores the widest. Callers in
/// one test binary take turns, so each sees the level it asked for.
pub fn on_every_level(mut f: impl FnMut(chainrule::isa::Isa)) {
    use chainrule::isa::{self, Isa};
    let _turn = level_turn();
    for level in Isa::ALL.into_iter().filter(|&level| level <= isa::detected()) {
        assert_eq!(isa::set_limit(level), level);
        assert_eq!(isa::active(), level);
        f(level);
    }
    isa::set_limit(Isa::Avx512);
}

/// Runs `f` while no [`on_every_level`] of the same test binary changes the
/// level: for a test that compares the bits of two computations, which
/// agree only on one level.
pub fn on_one_level<R>(f: impl FnOnce() -> R) -> R {
    let _turn = level_turn();
    f()
}

/// The turn of a test that forces a level or needs it to stay put.
fn level_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
