//! The WaveNet layer on AVX-512 or AVX2 registers, when its channel counts
//! are whole registers: a column of 16 channels is one `zmm`, of 8 one
//! `ymm`. Left to itself the compiler keeps the sums of a tile in memory
//! or vectorizes the activation four lanes wide; written out, a tile's
//! sums stay in registers from the mixin to the activation, and `tanh`
//! runs on whole registers.
//!
//! Every operation is the scalar path's, in the same order (each column's
//! sums are taken input by input, tap by tap, with fused multiply-adds),
//! so both paths give the same bits on a level with FMA.

use super::wavenet::{Activations, Layer, Streams};
use super::{Activation, Gating, apply};
use crate::isa::Isa;
use crate::kernels::simd::{Lanes, Ymm, Zmm};
use crate::math::tanh_lanes;

/// The most registers a column of the layer may take (64 channels of
/// AVX-512, 32 of AVX2).
const MAX_REGISTERS: usize = 4;

/// Runs the layer's tiles on vector registers if its sizes and `isa`
/// allow; false (and nothing done) otherwise.
#[inline(always)]
pub(super) fn layer<
    const C: usize,
    const B: usize,
    const Z: usize,
    const K: usize,
    const D: usize,
    A: Activations,
>(
    isa: Isa,
    weights: &Layer<C, B, Z, K>,
    streams: &mut Streams<C, B>,
) -> bool {
    let n = streams.cond.len();
    // The pointer arithmetic below reads and writes inside these bounds.
    let fits = streams.input.len() == D * (K - 1) + n && streams.skip.len() == n && streams.output.len() == n;
    let whole =
        |lanes: usize| [C, B, Z].iter().all(|&size| size % lanes == 0 && size / lanes <= MAX_REGISTERS);
    // `isa` is the level of the calling frame; the CPU runs it when it does
    // not exceed the process's active level.
    if !fits || isa > crate::isa::active() {
        return false;
    }
    match isa {
        // SAFETY: the CPU runs AVX-512 (checked above); the sizes fit.
        Isa::Avx512 if whole(16) => unsafe { tiles::<Zmm, C, B, Z, K, D, A>(isa, weights, streams) },
        // SAFETY: as above, for AVX2.
        Isa::Avx512 | Isa::Avx2 if whole(8) => unsafe {
            tiles::<Ymm, C, B, Z, K, D, A>(isa, weights, streams)
        },
        _ => return false,
    }
    true
}

/// The chunk in tiles of `T` columns, `T` as wide as the registers allow.
///
/// # Safety
/// The CPU runs `L`; the slices have the lengths [`layer`] checks.
#[inline(always)]
unsafe fn tiles<
    L: Lanes,
    const C: usize,
    const B: usize,
    const Z: usize,
    const K: usize,
    const D: usize,
    A: Activations,
>(
    isa: Isa,
    w: &Layer<C, B, Z, K>,
    streams: &mut Streams<C, B>,
) {
    let n = streams.cond.len();
    let mut t0 = 0;
    macro_rules! run {
        ($t:literal) => {
            while n - t0 >= $t {
                // SAFETY: the caller's promise; columns t0..t0 + T exist.
                unsafe { tile::<L, C, B, Z, K, D, $t, A>(isa, w, streams, t0) };
                t0 += $t;
            }
        };
    }
    if Z / L::LANES == 1 {
        run!(8);
    } else {
        run!(4);
    }
    run!(1);
}

/// Columns `t0..t0 + T` of the layer.
///
/// # Safety
/// As [`tiles`], and `t0 + T <= cond.len()`.
#[inline(always)]
unsafe fn tile<
    L: Lanes,
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
    let (activation, gating) = (A::ACTIVATION, A::GATING);
    let width = L::LANES;
    let (vz, vb, vc) = (Z / width, B / width, C / width);
    // Opaque, so that the weights are loaded where they are used: hoisted
    // out of the loop over tiles, 64 registers of them would be copied to
    // the stack at every call, which for blocks of one sample is a call
    // per sample and layer.
    let w = core::hint::black_box(w);
    unsafe {
        let zero = L::splat(0.0);
        // Column t of the tile at tap k is input column t0 + t + D k.
        let column = |t: usize, k: usize| input.as_ptr().add(t0 + t + D * k).cast::<f32>();
        let mut z = [[zero; MAX_REGISTERS]; T];
        for (t, zt) in z.iter_mut().enumerate() {
            let x = L::splat(cond[t0 + t]);
            for v in 0..vz {
                let offset = v * width;
                zt[v] = L::load(w.mixin.as_ptr().add(offset))
                    .mul_add(x, L::load(w.conv.bias.as_ptr().add(offset)));
            }
        }
        for (k, tap) in w.conv.taps.iter().enumerate() {
            for (j, row) in tap.iter().enumerate() {
                let mut weights = [zero; MAX_REGISTERS];
                for (v, weight) in weights.iter_mut().enumerate().take(vz) {
                    *weight = L::load(row.as_ptr().add(v * width));
                }
                for (t, zt) in z.iter_mut().enumerate() {
                    let x = L::splat(*column(t, k).add(j));
                    for v in 0..vz {
                        zt[v] = weights[v].mul_add(x, zt[v]);
                    }
                }
            }
        }
        // The activation, added to the skip sum and kept for the 1x1.
        let mut a = [[0.0f32; B]; T];
        for t in 0..T {
            let skip = skip[t0 + t].as_mut_ptr();
            for v in 0..vb {
                let value = activate(isa, activation, gating, z[t][v], z[t][vb + v]);
                let s = skip.add(v * width);
                L::load(s).add(value).store(s);
                value.store(a[t].as_mut_ptr().add(v * width));
            }
        }
        // Read back from memory, each value broadcast as it is loaded
        // (rather than extracted from a register by shuffles).
        let a = core::hint::black_box(&a);
        let mut y = [[zero; MAX_REGISTERS]; T];
        for yt in y.iter_mut() {
            for v in 0..vc {
                yt[v] = L::load(w.out_bias.as_ptr().add(v * width));
            }
        }
        for (j, row) in w.out.iter().enumerate() {
            let mut weights = [zero; MAX_REGISTERS];
            for (v, weight) in weights.iter_mut().enumerate().take(vc) {
                *weight = L::load(row.as_ptr().add(v * width));
            }
            for (yt, at) in y.iter_mut().zip(a) {
                let x = L::splat(at[j]);
                for v in 0..vc {
                    yt[v] = weights[v].mul_add(x, yt[v]);
                }
            }
        }
        for (t, yt) in y.iter().enumerate() {
            let (residual, out) = (column(t, K - 1), output[t0 + t].as_mut_ptr());
            for v in 0..vc {
                L::load(residual.add(v * width)).add(yt[v]).store(out.add(v * width));
            }
        }
    }
}

/// The activation of one register of rows, from the rows of both halves.
///
/// # Safety
/// The CPU runs `L`.
#[inline(always)]
unsafe fn activate<L: Lanes>(isa: Isa, activation: Activation, gating: Gating, first: L, second: L) -> L {
    unsafe {
        match gating {
            Gating::None => act(isa, activation, first),
            Gating::Gated(gate) => act(isa, activation, first).mul(act(isa, gate, second)),
            Gating::Blended(blend) => {
                let alpha = act(isa, blend, second);
                alpha.mul_add(act(isa, activation, first), L::splat(1.0).sub(alpha).mul(first))
            }
        }
    }
}

/// An activation on every lane: `tanh` on the registers, the others lane
/// by lane through the scalar definitions.
///
/// # Safety
/// The CPU runs `L`.
#[inline(always)]
unsafe fn act<L: Lanes>(isa: Isa, activation: Activation, x: L) -> L {
    unsafe {
        match activation {
            Activation::Tanh => tanh_lanes(x),
            Activation::Relu => x.max(L::splat(0.0)),
            other => {
                let mut lanes = [0.0f32; 16];
                x.store(lanes.as_mut_ptr());
                for lane in &mut lanes[..L::LANES] {
                    *lane = apply(isa, other, *lane);
                }
                L::load(lanes.as_ptr())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{detected, with_level};
    use crate::math::tanh_f32;

    /// The register `tanh` is the scalar one, lane for lane, to the bit,
    /// on every level with registers this CPU runs.
    #[test]
    fn tanh_on_registers_is_the_scalar_function_to_the_bit() {
        let xs: Vec<f32> =
            (-2000..2000).map(|i| i as f32 * 0.0071).chain([9.0, -9.0, 8.9999, 30.0, -0.0]).collect();
        fn check<L: Lanes>(isa: Isa, xs: &[f32]) {
            for chunk in xs.chunks_exact(L::LANES) {
                let mut got = [0.0f32; 16];
                // SAFETY: run inside a frame of a level that has `L`.
                unsafe { tanh_lanes(L::load(chunk.as_ptr())).store(got.as_mut_ptr()) };
                for (x, y) in chunk.iter().zip(got) {
                    assert_eq!(y.to_bits(), tanh_f32(isa, *x).to_bits(), "tanh({x}) on {isa:?}");
                }
            }
        }
        if detected() >= Isa::Avx2 {
            with_level(
                Isa::Avx2,
                #[inline(always)]
                |isa| check::<Ymm>(isa, &xs),
            );
        }
        if detected() >= Isa::Avx512 {
            with_level(
                Isa::Avx512,
                #[inline(always)]
                |isa| check::<Zmm>(isa, &xs),
            );
        }
    }
}
