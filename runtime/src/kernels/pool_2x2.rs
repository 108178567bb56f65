//! Max pooling over 2x2 windows at stride 2, the common case, in vector
//! registers (`f32` on AVX2 and AVX-512). A row of windows reads two input
//! rows as interleaved pairs: the kernels split each into the windows'
//! left and right taps with a permutation, and route the gradient back
//! with bit masks over the lanes, choosing exactly as the scalar code in
//! `pool.rs` does (the first maximum in row-major order, or the first NaN).

use crate::isa::Isa;
use chainrule_spec::Pool2d;

/// One plane's pooling on the level's vector kernel; false (nothing
/// written) where the level has none.
#[inline(always)]
pub(crate) fn max_2x2_f32(isa: Isa, p: &Pool2d, xs: &[f32], ys: &mut [f32]) -> bool {
    assert!(xs.len() >= p.height * p.width && ys.len() >= p.out_h * p.out_w, "max_2x2: plane too short");
    #[cfg(target_arch = "x86_64")]
    {
        use super::simd::{Ymm, Zmm};
        match isa {
            // SAFETY: the level never exceeds what the CPU runs; lengths checked.
            Isa::Avx512 => unsafe { x86::forward::<Zmm>(p, xs, ys) },
            // SAFETY: as above.
            Isa::Avx2 => unsafe { x86::forward::<Ymm>(p, xs, ys) },
            Isa::Portable => return false,
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (isa, p, ys);
        false
    }
}

/// One plane's gradient on the level's vector kernel (`ys` the forward
/// output); false (nothing written) where the level has none.
#[inline(always)]
pub(crate) fn max_2x2_back_f32(
    isa: Isa,
    p: &Pool2d,
    gs: &[f32],
    xs: &[f32],
    ys: &[f32],
    dxs: &mut [f32],
) -> bool {
    let (hw, ohw) = (p.height * p.width, p.out_h * p.out_w);
    assert!(
        xs.len() >= hw && dxs.len() >= hw && gs.len() >= ohw && ys.len() >= ohw,
        "max_2x2_back: plane too short"
    );
    #[cfg(target_arch = "x86_64")]
    {
        use super::simd::{Ymm, Zmm};
        match isa {
            // SAFETY: the level never exceeds what the CPU runs; lengths checked.
            Isa::Avx512 => unsafe { x86::backward::<Zmm>(p, gs, xs, ys, dxs) },
            // SAFETY: as above.
            Isa::Avx2 => unsafe { x86::backward::<Ymm>(p, gs, xs, ys, dxs) },
            Isa::Portable => return false,
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (isa, p, gs, dxs);
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::kernels::simd::Lanes;
    use chainrule_spec::Pool2d;

    /// Lanes `0..n` of `V` from `at` (at most `V::LANES`), zeros after.
    ///
    /// # Safety
    /// The CPU runs `V`; the `n` values lie within a slice.
    #[inline(always)]
    unsafe fn load<V: Lanes>(at: *const f32, n: usize) -> V {
        // SAFETY: the caller's promises.
        unsafe { if n >= V::LANES { V::load(at) } else { V::load_range(at, 0, n) } }
    }

    /// Stores lanes `0..n` (at most `V::LANES`).
    ///
    /// # Safety
    /// As [`load`].
    #[inline(always)]
    unsafe fn store<V: Lanes>(v: V, at: *mut f32, n: usize) {
        // SAFETY: the caller's promises.
        unsafe { if n >= V::LANES { v.store(at) } else { v.store_first(at, n) } }
    }

    /// The pairs of one input row under windows `o..o + n` (`n` at most
    /// `V::LANES`): their left taps and their right taps.
    ///
    /// # Safety
    /// The CPU runs `V`; the `2n` values from `row` lie within the plane.
    #[inline(always)]
    unsafe fn taps<V: Lanes>(row: *const f32, n: usize) -> (V, V) {
        // SAFETY: the caller's promises; each load stays within the 2n values.
        unsafe {
            let lanes = V::LANES;
            let lo = load::<V>(row, (2 * n).min(lanes));
            let hi = if 2 * n > lanes { load::<V>(row.add(lanes), 2 * n - lanes) } else { V::splat(0.0) };
            V::deinterleave(lo, hi)
        }
    }

    /// Whether `v` replaces the running maximum `m`, lane by lane: larger,
    /// or NaN over a number (`pool.rs`'s `replaces`).
    #[inline(always)]
    unsafe fn replaces<V: Lanes>(v: V, m: V) -> u32 {
        // SAFETY: the caller runs in a frame with `V`'s instructions.
        unsafe { v.gt_bits(m) | (v.nan_bits() & !m.nan_bits()) }
    }

    /// # Safety
    /// The CPU runs `V`; `xs` and `ys` hold a plane of `p` and its output.
    #[inline(always)]
    pub(super) unsafe fn forward<V: Lanes>(p: &Pool2d, xs: &[f32], ys: &mut [f32]) {
        let (w, ow) = (p.width, p.out_w);
        for oy in 0..p.out_h {
            for o in (0..ow).step_by(V::LANES) {
                let n = (ow - o).min(V::LANES);
                // SAFETY: rows 2 oy and 2 oy + 1 hold the 2 ow values of
                // the windows; output row oy holds ow.
                unsafe {
                    let top = xs.as_ptr().add(2 * oy * w + 2 * o);
                    let (t0, t1) = taps::<V>(top, n);
                    let (b0, b1) = taps::<V>(top.add(w), n);
                    // The taps in row-major order, as the scalar code.
                    let mut m = t0;
                    for v in [t1, b0, b1] {
                        m = V::select(replaces(v, m), v, m);
                    }
                    store(m, ys.as_mut_ptr().add(oy * ow + o), n);
                }
            }
        }
    }

    /// # Safety
    /// The CPU runs `V`; `gs`, `ys` hold an output plane of `p`, `xs` and
    /// `dxs` an input plane.
    #[inline(always)]
    pub(super) unsafe fn backward<V: Lanes>(p: &Pool2d, gs: &[f32], xs: &[f32], ys: &[f32], dxs: &mut [f32]) {
        let (w, ow, lanes) = (p.width, p.out_w, V::LANES);
        // Lane bits of even (a window's left tap) and odd positions.
        let all = if lanes == 32 { u32::MAX } else { (1u32 << lanes) - 1 };
        let even = 0x5555_5555 & all;
        let odd = 0xAAAA_AAAA & all;
        // A window's other tap's bit, for every lane.
        let swap = |bits: u32| ((bits >> 1) & even) | ((bits << 1) & odd);
        for oy in 0..p.out_h {
            for o in (0..ow).step_by(lanes) {
                let n = (ow - o).min(lanes);
                // SAFETY: output row oy holds windows o..o + n, and input
                // rows 2 oy and 2 oy + 1 their 2n values from 2o.
                unsafe {
                    let (g, m) = (
                        load::<V>(gs.as_ptr().add(oy * ow + o), n),
                        load::<V>(ys.as_ptr().add(oy * ow + o), n),
                    );
                    for half in 0..2 {
                        // Input positions 2o + half * lanes on: windows
                        // o + half * lanes / 2 on, each value spread over
                        // its window's two positions.
                        let first = half * lanes;
                        if 2 * n <= first {
                            break;
                        }
                        let count = (2 * n - first).min(lanes);
                        let (g, m) = (g.spread(half), m.spread(half));
                        let at = 2 * oy * w + 2 * o + first;
                        let (t, b) = (
                            load::<V>(xs.as_ptr().add(at), count),
                            load::<V>(xs.as_ptr().add(at + w), count),
                        );
                        let both_nan = m.nan_bits();
                        let top = t.eq_bits(m) | (t.nan_bits() & both_nan);
                        let bottom = b.eq_bits(m) | (b.nan_bits() & both_nan);
                        let top_any = top | swap(top);
                        // The first match in row-major order: a top left
                        // tap; a top right one unless the left matched; a
                        // bottom left one unless the top did; the bottom
                        // right one otherwise (the scalar code's default).
                        let to_top = top & (even | !swap(top));
                        let to_bottom = !top_any & ((even & bottom) | (odd & !swap(bottom)));
                        let zero = V::splat(0.0);
                        store(V::select(to_top, g, zero), dxs.as_mut_ptr().add(at), count);
                        store(V::select(to_bottom, g, zero), dxs.as_mut_ptr().add(at + w), count);
                    }
                }
            }
            // An odd last column belongs to no window.
            if w > 2 * ow {
                dxs[2 * oy * w + 2 * ow..][..w - 2 * ow].fill(0.0);
                dxs[(2 * oy + 1) * w + 2 * ow..][..w - 2 * ow].fill(0.0);
            }
        }
        // Nor does an odd last row.
        dxs[2 * p.out_h * w..p.height * w].fill(0.0);
    }
}
