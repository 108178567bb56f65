//! Which instruction set the hot code runs on, chosen once per process.
//!
//! A plain `cargo build --release` targets baseline x86-64 (SSE2, no FMA),
//! and users must get the fast paths without special flags. So the widest
//! set the CPU has is detected at run time, once: AVX-512 (F, VL, BW, DQ,
//! with AVX2 and FMA), AVX2 + FMA, or the portable baseline. Hand-written
//! kernels carry `#[target_feature]` themselves; code the macro generates
//! runs inside [`with_isa`], which enters a frame compiled for the chosen
//! set and tells the code which one it is (a constant there, so kernel
//! dispatch folds away).
//!
//! A lower set can be forced, to measure it or to test it on a wider CPU:
//! the environment variable `CHAINRULE_ISA` (`avx512`, `avx2` or
//! `portable`), read once at the first use, or [`set_limit`]. The chosen
//! set never exceeds what the CPU has. Without `std` there is no run-time
//! detection: the set is the one the build targets
//! (`-C target-feature=+avx2,+fma`, or `+avx512f,...`).
//!
//! Other architectures take the portable set, whose code the compiler
//! still vectorizes for the build's target (NEON on aarch64).

use core::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level, from the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Isa {
    /// Whatever the build targets; baseline x86-64 is SSE2.
    Portable = 0,
    /// AVX2 with fused multiply-add: 8 `f32` lanes.
    Avx2 = 1,
    /// AVX-512 (F, VL, BW, DQ) besides AVX2 and FMA: 16 `f32` lanes.
    Avx512 = 2,
}

impl Isa {
    /// Every level, from the narrowest.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// Its name, as `CHAINRULE_ISA` takes it and the benchmark prints it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The level named `name`, as [`Isa::name`] writes it.
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name() == name)
    }

    /// Whether its code uses fused multiply-adds.
    #[inline(always)]
    pub fn has_fma(self) -> bool {
        self >= Isa::Avx2
    }
}

/// The widest level this CPU runs.
pub fn detected() -> Isa {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        use std::is_x86_feature_detected as has;
        if has!("avx512f")
            && has!("avx512vl")
            && has!("avx512bw")
            && has!("avx512dq")
            && has!("avx2")
            && has!("fma")
        {
            return Isa::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return Isa::Avx2;
        }
        Isa::Portable
    }
    #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
    {
        if cfg!(all(
            target_arch = "x86_64",
            target_feature = "avx512f",
            target_feature = "avx512vl",
            target_feature = "avx512bw",
            target_feature = "avx512dq",
            target_feature = "avx2",
            target_feature = "fma"
        )) {
            Isa::Avx512
        } else if cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "fma")) {
            Isa::Avx2
        } else {
            Isa::Portable
        }
    }
}

/// Not chosen yet.
const UNSET: u8 = u8::MAX;
static ACTIVE: AtomicU8 = AtomicU8::new(UNSET);

/// The level hot code runs on: the detected one, capped by `CHAINRULE_ISA`
/// and [`set_limit`]. Decided at the first call, then one atomic load.
#[inline(always)]
pub fn active() -> Isa {
    match ACTIVE.load(Ordering::Relaxed) {
        0 => Isa::Portable,
        1 => Isa::Avx2,
        2 => Isa::Avx512,
        _ => choose(),
    }
}

#[cold]
fn choose() -> Isa {
    #[cfg(feature = "std")]
    let limit = std::env::var("CHAINRULE_ISA").ok().and_then(|v| Isa::from_name(v.trim()));
    #[cfg(not(feature = "std"))]
    let limit = None;
    let isa = detected().min(limit.unwrap_or(Isa::Avx512));
    ACTIVE.store(isa as u8, Ordering::Relaxed);
    isa
}

/// Caps the level from now on (never above what the CPU has) and returns
/// the level in effect: for tests that run every path the CPU supports,
/// and for measuring a narrower one. Calls in flight on other threads
/// finish on the level they started with.
pub fn set_limit(limit: Isa) -> Isa {
    let isa = detected().min(limit);
    ACTIVE.store(isa as u8, Ordering::Relaxed);
    isa
}

/// True when the hot code runs on AVX2 + FMA or wider.
pub fn fast_path_available() -> bool {
    active() >= Isa::Avx2
}

/// Runs `f` inside a frame compiled for the active level, passing the
/// level. Pass an `#[inline(always)]` closure: a closure does not inherit
/// its caller's target features, but once inlined into that caller it is
/// compiled with them, so its loops vectorize 8 or 16 lanes wide with fused
/// multiply-adds, and a `match` on the level it receives folds to one arm.
///
/// # Example
/// ```
/// use chainrule::isa::{Isa, with_isa};
/// let x = [0.5f32; 32];
/// let (isa, sum) = with_isa(
///     #[inline(always)]
///     |isa| (isa, x.iter().map(|&v| chainrule::math::tanh_f32(isa, v)).sum::<f32>()),
/// );
/// assert!(isa <= chainrule::isa::detected());
/// assert!((sum - 32.0 * 0.5f32.tanh()).abs() < 1e-4);
/// ```
#[inline(always)]
pub fn with_isa<R>(f: impl FnOnce(Isa) -> R) -> R {
    // SAFETY: `active` never exceeds what the CPU runs.
    unsafe { enter(active(), f) }
}

/// [`with_isa`] on a given level, capped at what the CPU runs: for tests
/// and measurements of one path.
pub fn with_level<R>(level: Isa, f: impl FnOnce(Isa) -> R) -> R {
    // SAFETY: capped at what the CPU runs.
    unsafe { enter(level.min(detected()), f) }
}

/// Runs `f` in the frame of `level`.
///
/// # Safety
/// The CPU must run `level`.
#[inline(always)]
unsafe fn enter<R>(level: Isa, f: impl FnOnce(Isa) -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: the caller's promise.
        Isa::Avx512 => return unsafe { run_avx512(f) },
        // SAFETY: as above.
        Isa::Avx2 => return unsafe { run_avx2(f) },
        Isa::Portable => {}
    }
    f(Isa::Portable)
}

/// [`with_isa`] for code that does not ask which level it runs on.
#[inline(always)]
pub fn with_fast_path<R>(f: impl FnOnce() -> R) -> R {
    with_isa(
        #[inline(always)]
        |_| f(),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
fn run_avx512<R>(f: impl FnOnce(Isa) -> R) -> R {
    f(Isa::Avx512)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<R>(f: impl FnOnce(Isa) -> R) -> R {
    f(Isa::Avx2)
}
