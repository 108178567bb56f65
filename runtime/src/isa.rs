//! Which instruction set the hot code runs on, chosen at run time.
//!
//! A plain `cargo build --release` targets baseline x86-64 (SSE2, no FMA),
//! and users must get the fast path without special flags. Hand-written
//! kernels carry `#[target_feature]` themselves; code the macro generates
//! (elementwise maps such as a fast `tanh`, bias additions) gets the same by
//! running inside [`with_fast_path`].

/// True when this CPU runs the AVX2 + FMA kernels (checked once, cached by
/// the standard library).
pub fn fast_path_available() -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    // Without std there is no run-time detection: the fast path only if
    // the build targets it (`-C target-feature=+avx2,+fma`).
    #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
    {
        cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma"))
    }
}

/// Runs `f` inside a frame compiled for AVX2 + FMA when the CPU has them,
/// and as it is otherwise. Pass an `#[inline(always)]` closure: a closure
/// does not inherit its caller's target features, but once inlined into
/// that caller it is compiled with them, so its loops vectorize 8 lanes wide
/// with fused multiply-adds.
///
/// # Example
/// ```
/// let x = [0.5f32; 32];
/// let sum = chainrule::isa::with_fast_path(
///     #[inline(always)]
///     || x.iter().map(|&v| chainrule::math::tanh_f32(v)).sum::<f32>(),
/// );
/// assert!((sum - 32.0 * 0.5f32.tanh()).abs() < 1e-4);
/// ```
#[inline(always)]
pub fn with_fast_path<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if fast_path_available() {
        // SAFETY: the CPU supports AVX2 and FMA.
        return unsafe { run_avx2_fma(f) };
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2_fma<R>(f: impl FnOnce() -> R) -> R {
    f()
}
