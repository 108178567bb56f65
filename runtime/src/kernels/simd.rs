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
}

/// An AVX-512 register.
#[derive(Clone, Copy)]
pub(crate) struct Zmm(pub(crate) __m512);

/// An AVX2 register.
#[derive(Clone, Copy)]
pub(crate) struct Ymm(__m256);

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
}
