//! A WaveNet's layers and convolutions over [`History`] windows, with the
//! sizes as const parameters: the compiler instantiates them per layer, so
//! every loop bound is a constant and a column of 16 channels is one
//! AVX-512 register (two AVX2 ones).
//!
//! Weights are stored tap-major and output-innermost (`taps[k][j][o]`):
//! a column of outputs is updated by a column of weights times one input
//! value, for `T` columns of time at once so that `T` independent chains
//! of multiply-adds hide their latency.

use super::{Activation, CHUNK, Gating, apply};
use crate::isa::Isa;
use crate::math::mul_add;
use std::vec::Vec;

/// A causal convolution from `I` to `O` channels with `K` taps. Tap
/// `K - 1` multiplies the current column; without a bias, `bias` is zero.
#[derive(Debug)]
pub struct Conv<const I: usize, const O: usize, const K: usize> {
    /// `taps[k][j][o]`: output `o` from input `j` at tap `k`.
    pub taps: [[[f32; O]; I]; K],
    /// Added to every output column.
    pub bias: [f32; O],
}

/// One WaveNet layer over a residual stream of `C` channels, `B` rows of
/// activation (the bottleneck), `Z` rows of convolution (`B`, or `2 B` when
/// gated or blended), `K` taps. Conditioned on the mono input.
#[derive(Debug)]
pub struct Layer<const C: usize, const B: usize, const Z: usize, const K: usize> {
    /// The dilated convolution of the residual stream, with its bias.
    pub conv: Conv<C, Z, K>,
    /// The input sample's weight in each row of the convolution.
    pub mixin: [f32; Z],
    /// From the activation back to the residual stream: `out[j][o]`.
    pub out: [[f32; C]; B],
    /// The bias of that product.
    pub out_bias: [f32; C],
}

/// What one layer reads and writes over a chunk of `n` samples.
pub(super) struct Streams<'a, const C: usize, const B: usize> {
    /// The residual stream: the convolution's past columns, then the chunk's `n`.
    pub input: &'a [[f32; C]],
    /// The input audio, `n` samples.
    pub cond: &'a [f32],
    /// The skip sum, `n` columns.
    pub skip: &'a mut [[f32; B]],
    /// The next residual stream, `n` columns.
    pub output: &'a mut [[f32; C]],
}

/// An input stream of `C` channels as a convolution reads it: the last
/// `reach` columns, then room for the chunk being computed, in a buffer
/// that slides its last `reach` columns back to the front when the next
/// chunk would not fit (every `reach + CHUNK` columns or more, so the copy
/// costs about one column per column computed).
#[derive(Clone, Debug)]
pub struct History<const C: usize> {
    columns: Vec<[f32; C]>,
    /// Where the current chunk starts; `reach` columns of the past precede it.
    start: usize,
    reach: usize,
}

impl<const C: usize> History<C> {
    /// Zero history for a convolution reaching `reach` columns back.
    pub fn new(reach: usize) -> Self {
        History { columns: std::vec![[0.0; C]; 2 * reach + CHUNK], start: reach, reach }
    }

    /// Back to zero history.
    pub fn clear(&mut self) {
        self.columns.fill([0.0; C]);
        self.start = self.reach;
    }

    /// Makes room for a chunk of `n <= CHUNK` columns.
    #[inline(always)]
    pub fn make_room(&mut self, n: usize) {
        if self.start + n > self.columns.len() {
            self.columns.copy_within(self.start - self.reach..self.start, 0);
            self.start = self.reach;
        }
    }

    /// The past `reach` columns and the chunk's `n`.
    #[inline(always)]
    pub fn window(&self, n: usize) -> &[[f32; C]] {
        &self.columns[self.start - self.reach..self.start + n]
    }

    /// The chunk's `n` columns, to be written.
    #[inline(always)]
    pub fn chunk_mut(&mut self, n: usize) -> &mut [[f32; C]] {
        &mut self.columns[self.start..self.start + n]
    }

    /// The chunk's `n` columns, as written.
    #[inline(always)]
    pub fn chunk(&self, n: usize) -> &[[f32; C]] {
        &self.columns[self.start..self.start + n]
    }

    /// The chunk becomes past.
    #[inline(always)]
    pub fn advance(&mut self, n: usize) {
        self.start += n;
    }
}

/// How many columns one tile computes on `isa`: enough independent
/// multiply-add chains to hide their latency without running out of
/// registers (32 vector registers with AVX-512, 16 with AVX2).
#[inline(always)]
fn tile_width(isa: Isa, rows: usize) -> usize {
    match isa {
        Isa::Avx512 if rows <= 16 => 8,
        _ if rows <= 8 => 8,
        _ => 4,
    }
}

/// Runs `tile::<T>(t0)` over `0..n` in tiles of the width [`tile_width`]
/// picks, then single columns.
macro_rules! tiled {
    ($isa:expr, $rows:expr, $n:expr, |$t0:ident, $width:ident| $tile:expr) => {{
        let mut $t0 = 0;
        if tile_width($isa, $rows) == 8 {
            while $t0 + 8 <= $n {
                const $width: usize = 8;
                $tile;
                $t0 += 8;
            }
        } else {
            while $t0 + 4 <= $n {
                const $width: usize = 4;
                $tile;
                $t0 += 4;
            }
        }
        while $t0 < $n {
            const $width: usize = 1;
            $tile;
            $t0 += 1;
        }
    }};
}

/// Defines `$name`, which runs `$body` (a function of the level it is
/// compiled for, with the arguments) in a function compiled for the level
/// `isa` names, capped at the process's active level: one call per layer
/// and chunk, its sums in that function's registers.
macro_rules! per_level {
    (
        $(#[$doc:meta])*
        pub fn $name:ident[$($decl:tt)*][$($gen:ident),*](isa: Isa, $($arg:ident: $ty:ty),* $(,)?) => $body:ident
    ) => {
        $(#[$doc])*
        #[inline]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<$($decl)*>(isa: Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512<$($decl)*>($($arg: $ty),*) {
                    $body::<$($gen),*>(Isa::Avx512, $($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2<$($decl)*>($($arg: $ty),*) {
                    $body::<$($gen),*>(Isa::Avx2, $($arg),*)
                }
                match isa.min(crate::isa::active()) {
                    // SAFETY: the active level never exceeds what the CPU runs.
                    Isa::Avx512 => return unsafe { avx512::<$($gen),*>($($arg),*) },
                    // SAFETY: as above.
                    Isa::Avx2 => return unsafe { avx2::<$($gen),*>($($arg),*) },
                    Isa::Portable => {}
                }
            }
            $body::<$($gen),*>(Isa::Portable, $($arg),*)
        }
    };
}

/// A layer's activation and gating as constants of a type (one per layer,
/// emitted by the compiler), so that each layer's function is compiled
/// for its own and the choice costs nothing at run time.
pub trait Activations {
    /// The activation of the first half of the rows.
    const ACTIVATION: Activation;
    /// How the second half, if any, enters.
    const GATING: Gating;
}

per_level! {
    /// One WaveNet layer over a chunk of `cond.len()` samples: reads the
    /// residual stream's window (`D (K-1)` past columns, then the chunk),
    /// adds the activation to `skip` and writes the next residual stream.
    pub fn layer[const C: usize, const B: usize, const Z: usize, const K: usize, const D: usize, A: Activations][C, B, Z, K, D, A](
        isa: Isa,
        weights: &Layer<C, B, Z, K>,
        input: &[[f32; C]],
        cond: &[f32],
        skip: &mut [[f32; B]],
        output: &mut [[f32; C]],
    ) => layer_on
}

/// [`layer`] on the level `isa`: on vector registers where the sizes are
/// whole registers, else column by column as the compiler vectorizes it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn layer_on<
    const C: usize,
    const B: usize,
    const Z: usize,
    const K: usize,
    const D: usize,
    A: Activations,
>(
    isa: Isa,
    weights: &Layer<C, B, Z, K>,
    input: &[[f32; C]],
    cond: &[f32],
    skip: &mut [[f32; B]],
    output: &mut [[f32; C]],
) {
    let n = cond.len();
    let mut streams = Streams { input, cond, skip, output };
    #[cfg(target_arch = "x86_64")]
    if super::vector::layer::<C, B, Z, K, D, A>(isa, weights, &mut streams) {
        return;
    }
    tiled!(isa, Z, n, |t0, T| layer_tile::<C, B, Z, K, D, T, A>(isa, weights, &mut streams, t0));
}

#[inline(always)]
fn layer_tile<
    const C: usize,
    const B: usize,
    const Z: usize,
    const K: usize,
    const D: usize,
    const T: usize,
    A: Activations,
>(
    isa: Isa,
    w: &Layer<C, B, Z, K>,
    streams: &mut Streams<C, B>,
    t0: usize,
) {
    let Streams { input, cond, skip, output } = streams;
    let window = &input[t0..t0 + D * (K - 1) + T];
    let mut z = [w.conv.bias; T];
    for (zt, &x) in z.iter_mut().zip(&cond[t0..t0 + T]) {
        for o in 0..Z {
            zt[o] = mul_add(isa, w.mixin[o], x, zt[o]);
        }
    }
    convolve::<C, Z, K, D, T>(isa, &w.conv.taps, window, &mut z);
    let mut a = [[0.0f32; B]; T];
    for (at, zt) in a.iter_mut().zip(&z) {
        activate(isa, A::ACTIVATION, A::GATING, zt, at);
    }
    for (st, at) in skip[t0..t0 + T].iter_mut().zip(&a) {
        for o in 0..B {
            st[o] += at[o];
        }
    }
    for ((yt, at), ht) in output[t0..t0 + T].iter_mut().zip(&a).zip(&window[D * (K - 1)..]) {
        let mut y = w.out_bias;
        for (row, &aj) in w.out.iter().zip(at) {
            for o in 0..C {
                y[o] = mul_add(isa, row[o], aj, y[o]);
            }
        }
        for o in 0..C {
            yt[o] = ht[o] + y[o];
        }
    }
}

/// `z[t] += sum_k taps[k] window[t + D k]` for `T` columns, the window
/// starting `D (K-1)` columns before the first.
#[inline(always)]
fn convolve<const I: usize, const O: usize, const K: usize, const D: usize, const T: usize>(
    isa: Isa,
    taps: &[[[f32; O]; I]; K],
    window: &[[f32; I]],
    z: &mut [[f32; O]; T],
) {
    for (k, tap) in taps.iter().enumerate() {
        let columns = &window[D * k..D * k + T];
        for (j, weights) in tap.iter().enumerate() {
            for (zt, column) in z.iter_mut().zip(columns) {
                let x = column[j];
                for o in 0..O {
                    zt[o] = mul_add(isa, weights[o], x, zt[o]);
                }
            }
        }
    }
}

/// The layer's activation of one column: `B` rows from `Z`.
#[inline(always)]
fn activate<const B: usize, const Z: usize>(
    isa: Isa,
    activation: Activation,
    gating: Gating,
    z: &[f32; Z],
    a: &mut [f32; B],
) {
    match gating {
        Gating::None => {
            for o in 0..B {
                a[o] = apply(isa, activation, z[o]);
            }
        }
        Gating::Gated(gate) => {
            for o in 0..B {
                a[o] = apply(isa, activation, z[o]) * apply(isa, gate, z[B + o]);
            }
        }
        Gating::Blended(blend) => {
            for o in 0..B {
                let alpha = apply(isa, blend, z[B + o]);
                a[o] = mul_add(isa, alpha, apply(isa, activation, z[o]), (1.0 - alpha) * z[o]);
            }
        }
    }
}

per_level! {
    /// A causal convolution over a chunk: `output[t] = bias + sum_k taps[k]
    /// window[t + D k]`, the window starting `D (K-1)` columns before the
    /// chunk. A re-channelling (`K = 1`) reads the chunk alone.
    pub fn conv[const I: usize, const O: usize, const K: usize, const D: usize][I, O, K, D](
        isa: Isa,
        weights: &Conv<I, O, K>,
        window: &[[f32; I]],
        output: &mut [[f32; O]],
    ) => conv_on
}

#[inline(always)]
fn conv_on<const I: usize, const O: usize, const K: usize, const D: usize>(
    isa: Isa,
    weights: &Conv<I, O, K>,
    window: &[[f32; I]],
    output: &mut [[f32; O]],
) {
    let n = output.len();
    tiled!(isa, O, n, |t0, T| {
        let mut z = [weights.bias; T];
        convolve::<I, O, K, D, T>(isa, &weights.taps, &window[t0..t0 + D * (K - 1) + T], &mut z);
        output[t0..t0 + T].copy_from_slice(&z);
    });
}
