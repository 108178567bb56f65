//! Lesson 10, recurrent networks and long memory: backpropagation through
//! time multiplies the gradient by the recurrent Jacobian once per step,
//! so in a plain tanh RNN the gradient reaching an early input shrinks
//! geometrically with its distance from the loss, and what the network
//! must remember from that far back it cannot learn. The LSTM's cell state
//! is updated by addition, gated, so its gradient can cross many steps
//! (when its forget gate starts open, as is usual).
//!
//! The task: a sequence of `T` numbers whose first is +1 or -1 and the
//! rest noise; the class is the first number's sign, asked at the end.
//! The gradient reaching each step is read from a learned per-step offset
//! added to the input (`positional_embedding`, started at zero): its
//! gradient for one sample is the gradient with respect to that step's input.

use crate::common::{Ctx, Outcome, Random};
use crate::figure::{self, Axes, Mark, Series};
use chainrule::optim::Adam;
use chainrule::{Dataset, Network, Trainer, Workspace, metrics};

macro_rules! pair {
    ($rnn:ident, $lstm:ident, $t:literal) => {
        chainrule::network! {
            pub struct $rnn { input: [$t, 1], layers: [positional_embedding, rnn(16), dense(2)], loss: softmax_cross_entropy }
        }
        chainrule::network! {
            pub struct $lstm { input: [$t, 1], layers: [positional_embedding, lstm(16), dense(2)], loss: softmax_cross_entropy }
        }
    };
}
pair!(Rnn5, Lstm5, 5);
pair!(Rnn10, Lstm10, 10);
pair!(Rnn20, Lstm20, 20);
pair!(Rnn40, Lstm40, 40);

pub const DISTANCES: [usize; 4] = [5, 10, 20, 40];

/// `count` sequences of length T: the sign, then noise of sd 0.5.
fn sequences<const T: usize>(count: usize, seed: u64) -> Outcome<Dataset<[f32; T], usize>> {
    let mut draws = Random(seed);
    let (mut xs, mut ts) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let class = usize::from(draws.unit() < 0.5);
        let mut x = [0.0f32; T];
        x[0] = if class == 1 { 1.0 } else { -1.0 };
        for v in &mut x[1..] {
            *v = (0.5 * draws.normal()) as f32;
        }
        xs.push(x);
        ts.push(class);
    }
    Ok(Dataset::new(xs, ts)?)
}

pub struct Memory {
    pub kind: &'static str,
    pub distance: usize,
    pub test_accuracy: f64,
    /// Mean |dL/dx_s| over samples at initialization, s = 0 (the sign) to T-1.
    pub through_time: Vec<f64>,
}

fn memory<N, const T: usize>(kind: &'static str, mut net: N, ctx: &Ctx) -> Outcome<Memory>
where
    N: Network<Input = [f32; T], Target = usize, Scalar = f32> + Sync,
{
    net.params_mut()[..T].fill(0.0); // the per-step offsets start at zero
    // An LSTM's forget gate starts open (bias 1, as Jozefowicz et al.
    // advise): at PyTorch's default of about 0 the gate is a half, and the
    // cell forgets geometrically too. Gates are stacked i, f, g, o.
    if let Some(bias) = N::LAYOUT.iter().find(|p| p.name.ends_with("bias_ih_l0") && p.shape[0] == 64) {
        net.params_mut()[bias.offset + 16..][..16].fill(1.0);
    }
    let (train, test) = (sequences::<T>(ctx.size(2000, 1000), 1)?, sequences::<T>(500, 2)?);
    let mut grad = vec![0.0f32; N::PARAM_LEN];
    let mut through_time = vec![0.0; T];
    let mut ws = Workspace::new();
    let probe = 32;
    for (x, t) in test.inputs().iter().zip(test.targets()).take(probe) {
        net.loss_and_grad(&[*x], &[*t], &mut grad, &mut ws)?;
        for (sum, g) in through_time.iter_mut().zip(&grad[..T]) {
            *sum += f64::from(g.abs()) / probe as f64;
        }
    }
    let mut trainer = Trainer::new(Adam::new(3e-3), 32, 1);
    for _ in 0..ctx.size(30, 12) {
        trainer.train_epoch(&mut net, &train)?;
    }
    Ok(Memory { kind, distance: T, test_accuracy: metrics::accuracy(&net, &test), through_time })
}

pub fn run(ctx: &Ctx) -> Outcome<Vec<Memory>> {
    let runs = vec![
        memory("RNN", Rnn5::new(1), ctx)?,
        memory("LSTM", Lstm5::new(1), ctx)?,
        memory("RNN", Rnn10::new(1), ctx)?,
        memory("LSTM", Lstm10::new(1), ctx)?,
        memory("RNN", Rnn20::new(1), ctx)?,
        memory("LSTM", Lstm20::new(1), ctx)?,
        memory("RNN", Rnn40::new(1), ctx)?,
        memory("LSTM", Lstm40::new(1), ctx)?,
    ];
    let path = ctx.figure("10-recurrent-memory.svg")?;
    let panels = figure::canvas(
        &path,
        (1200, 470),
        "Remembering the first input: plain RNN against LSTM (16 units each)",
        1,
        2,
    )?;
    let longest = &runs[runs.len() - 2..];
    let series: Vec<Series> = longest
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let back =
                m.through_time.iter().enumerate().map(|(s, &g)| ((m.distance - s) as f64, g)).collect();
            Series::line(m.kind, back, figure::color(k)).with(Mark::LineDots)
        })
        .collect();
    let mut axes = Axes::new(
        "gradient reaching each input at initialization, T = 40",
        "steps before the end",
        "mean |dL/dx|",
    );
    axes.log_y = true;
    figure::chart(&panels[0], &axes, &series)?;
    let series: Vec<Series> = ["RNN", "LSTM"]
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let points = runs
                .iter()
                .filter(|m| m.kind == *kind)
                .map(|m| (m.distance as f64, m.test_accuracy))
                .collect();
            Series::line(*kind, points, figure::color(k)).with(Mark::LineDots)
        })
        .collect();
    let mut axes =
        Axes::new("test accuracy after training (0.5 is guessing)", "sequence length T", "test accuracy");
    (axes.log_x, axes.y_range) = (true, Some(0.4..1.05));
    figure::chart(&panels[1], &axes, &series)?;
    panels[0].present()?;
    for m in &runs {
        println!(
            "  {:<4} T = {:>2}: test accuracy {:.3}; gradient at the first input {:.2e}, at the last {:.2e}",
            m.kind,
            m.distance,
            m.test_accuracy,
            m.through_time[0],
            m.through_time[m.distance - 1]
        );
    }
    println!("  figure: {}", path.display());
    Ok(runs)
}
