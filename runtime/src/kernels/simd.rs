//! The vector registers the `f32` kernels of x86-64 are written in: an
//! AVX-512 one of 16 lanes and an AVX2 one of 8, behind one trait so that
//! each kernel is written once. The methods are intrinsics in
//! `#[inline(always)]` wrappers without target features of their own:
//! kernels are inlined into a frame of [`crate::isa::with_isa`] and
//! compiled with its features, where each wrapper becomes one instruction.
//! (A `#[target_feature]` function of the kernel's own would be a call
//! that passes its accumulators through memory.)
//!
//! Every method is `unsafe`: the CPU must run the register's instructions,
//! and pointers must be valid for the lanes they touch.

use core::arch::x86_64::*;

/// A vector register of `f32` lanes.
// Some methods serve only kernels of the `std` build (`sub`, and those of
// the amp models' `tanh`).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) trait Lanes: Copy {
    const LANES: usize;
    /// Registers the kernels' accumulators may take; the rest hold
    /// broadcast inputs and loaded rows.
    const ACCUMULATORS: usize;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    /// Lanes `lo..hi` from `p`, zeros elsewhere; only those lanes are read,
    /// so `p` may point outside the slice where the others would.
    unsafe fn load_range(p: *const f32, lo: usize, hi: usize) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// Stores the first `n` lanes.
    unsafe fn store_first(self, p: *mut f32, n: usize);
    unsafe fn mul(self, b: Self) -> Self;
    /// `self * b + c`, fused.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn div(self, b: Self) -> Self;
    /// The smaller of each pair of lanes (`b`'s where either is NaN).
    unsafe fn min(self, b: Self) -> Self;
    /// The larger of each pair of lanes (`b`'s where either is NaN).
    unsafe fn max(self, b: Self) -> Self;
    /// `|self|`, by clearing the sign bits.
    unsafe fn abs(self) -> Self;
    /// 1 with the sign of each lane.
    unsafe fn sign_one(self) -> Self;
    /// Bit `i` set where lane `i` is greater than `b`'s (never for NaN).
    unsafe fn gt_bits(self, b: Self) -> u32;
    /// Bit `i` set where lane `i` equals `b`'s (never for NaN).
    unsafe fn eq_bits(self, b: Self) -> u32;
    /// Bit `i` set where lane `i` is NaN.
    unsafe fn nan_bits(self) -> u32;
    /// Lane `i` from `a` where bit `i` of `bits` is set, else from `b`.
    unsafe fn select(bits: u32, a: Self, b: Self) -> Self;
    /// The even lanes of `lo` then of `hi`, and the odd ones likewise.
    unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self);
    /// The lanes of half `half` (0: the first `LANES / 2`, 1: the rest),
    /// each twice, in order.
    unsafe fn spread(self, half: usize) -> Self;
}

/// An AVX-512 register.
#[derive(Clone, Copy)]
pub(crate) struct Zmm(pub(crate) __m512);

/// An AVX2 register.
#[derive(Clone, Copy)]
pub(crate) struct Ymm(pub(crate) __m256);

/// The lanes `lo..hi` of 16 as a bit mask.
#[inline(always)]
fn lane_bits(lo: usize, hi: usize) -> u16 {
    ((1u32 << hi) - (1u32 << lo)) as u16
}

/// The lanes `lo..hi` of 8 as an AVX2 mask (sign bits set).
#[inline(always)]
unsafe fn lane_mask(lo: usize, hi: usize) -> __m256i {
    unsafe {
        let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let from = _mm256_cmpgt_epi32(index, _mm256_set1_epi32(lo as i32 - 1));
        let below = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi as i32), index);
        _mm256_and_si256(from, below)
    }
}

// AVX-512 has 32 registers, AVX2 16: accumulators take half.
impl Lanes for Zmm {
    const LANES: usize = 16;
    const ACCUMULATORS: usize = 16;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Zmm(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Zmm(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_range(p: *const f32, lo: usize, hi: usize) -> Self {
        Zmm(unsafe { _mm512_maskz_loadu_ps(lane_bits(lo, hi), p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        unsafe { _mm512_mask_storeu_ps(p, lane_bits(0, n), self.0) }
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        Zmm(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_add_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_sub_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_div_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_min_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_max_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        Zmm(unsafe { _mm512_abs_ps(self.0) })
    }
    #[inline(always)]
    unsafe fn sign_one(self) -> Self {
        unsafe {
            let sign = _mm512_and_si512(_mm512_castps_si512(self.0), _mm512_set1_epi32(i32::MIN));
            Zmm(_mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(1.0)))))
        }
    }
    #[inline(always)]
    unsafe fn gt_bits(self, b: Self) -> u32 {
        u32::from(unsafe { _mm512_cmp_ps_mask::<_CMP_GT_OQ>(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn eq_bits(self, b: Self) -> u32 {
        u32::from(unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn nan_bits(self) -> u32 {
        u32::from(unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(self.0, self.0) })
    }
    #[inline(always)]
    unsafe fn select(bits: u32, a: Self, b: Self) -> Self {
        Zmm(unsafe { _mm512_mask_blend_ps(bits as u16, b.0, a.0) })
    }
    #[inline(always)]
    unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self) {
        // Indices 0-15 pick from `lo`, 16-31 from `hi`.
        unsafe {
            let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            (Zmm(_mm512_permutex2var_ps(lo.0, even, hi.0)), Zmm(_mm512_permutex2var_ps(lo.0, odd, hi.0)))
        }
    }
    #[inline(always)]
    unsafe fn spread(self, half: usize) -> Self {
        unsafe {
            let index = _mm512_add_epi32(
                _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                _mm512_set1_epi32(8 * half as i32),
            );
            Zmm(_mm512_permutexvar_ps(index, self.0))
        }
    }
}

impl Lanes for Ymm {
    const LANES: usize = 8;
    const ACCUMULATORS: usize = 8;
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Ymm(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Ymm(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_range(p: *const f32, lo: usize, hi: usize) -> Self {
        Ymm(unsafe { _mm256_maskload_ps(p, lane_mask(lo, hi)) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, n: usize) {
        unsafe { _mm256_maskstore_ps(p, lane_mask(0, n), self.0) }
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        Ymm(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_add_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_sub_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_div_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_min_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_max_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        Ymm(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    unsafe fn sign_one(self) -> Self {
        unsafe { Ymm(_mm256_or_ps(_mm256_and_ps(self.0, _mm256_set1_ps(-0.0)), _mm256_set1_ps(1.0))) }
    }
    #[inline(always)]
    unsafe fn gt_bits(self, b: Self) -> u32 {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(self.0, b.0)) as u32 }
    }
    #[inline(always)]
    unsafe fn eq_bits(self, b: Self) -> u32 {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, b.0)) as u32 }
    }
    #[inline(always)]
    unsafe fn nan_bits(self) -> u32 {
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0)) as u32 }
    }
    #[inline(always)]
    unsafe fn select(bits: u32, a: Self, b: Self) -> Self {
        unsafe {
            let lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
            let set = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits as i32), lane), lane);
            Ymm(_mm256_blendv_ps(b.0, a.0, _mm256_castsi256_ps(set)))
        }
    }
    #[inline(always)]
    unsafe fn deinterleave(lo: Self, hi: Self) -> (Self, Self) {
        // Within each 128-bit half: two evens (odds) of `lo`, then of
        // `hi`; the 64-bit reorder then puts `lo`'s before `hi`'s.
        unsafe {
            let even = _mm256_shuffle_ps::<0b10_00_10_00>(lo.0, hi.0);
            let odd = _mm256_shuffle_ps::<0b11_01_11_01>(lo.0, hi.0);
            let even = _mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(even));
            let odd = _mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(odd));
            (Ymm(_mm256_castpd_ps(even)), Ymm(_mm256_castpd_ps(odd)))
        }
    }
    #[inline(always)]
    unsafe fn spread(self, half: usize) -> Self {
        unsafe {
            let index = _mm256_add_epi32(
                _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3),
                _mm256_set1_epi32(4 * half as i32),
            );
            Ymm(_mm256_permutevar8x32_ps(self.0, index))
        }
    }
}
