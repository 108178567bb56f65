//! Which integer dot-product instructions the int8 kernels use, chosen once
//! per process, like [`crate::isa`] for the `f32` kernels: the widest the
//! CPU has of AVX-512 VNNI (16 sums of four byte products per instruction),
//! AVX-VNNI (the same on 8 lanes), AVX2 (bytes widened to 16 bits, pairs
//! multiplied and added) and the portable loops. Every level computes the
//! same `i32` sums exactly: integer arithmetic has one right answer.
//!
//! A lower level can be forced, to measure it or to test it on a wider
//! CPU: `CHAINRULE_INT8` (`avx512vnni`, `avxvnni`, `avx2` or `portable`),
//! read at the first use, or [`set_limit`]. Without `std` the level is the
//! one the build targets.

use core::sync::atomic::{AtomicU8, Ordering};

/// An int8 instruction level, from the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Plain loops, vectorized as the build's target allows.
    Portable = 0,
    /// AVX2: bytes widened to `i16`, `vpmaddwd` on pairs.
    Avx2 = 1,
    /// AVX-VNNI: `vpdpbusd` on 256-bit registers.
    AvxVnni = 2,
    /// AVX-512 VNNI (with F, BW and DQ): `vpdpbusd` on 512-bit registers.
    Avx512Vnni = 3,
}

impl Level {
    /// Every level, from the narrowest.
    pub const ALL: [Level; 4] = [Level::Portable, Level::Avx2, Level::AvxVnni, Level::Avx512Vnni];

    /// Its name, as `CHAINRULE_INT8` takes it and the benchmark prints it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::AvxVnni => "avxvnni",
            Level::Avx512Vnni => "avx512vnni",
        }
    }

    /// The level named `name`, as [`Level::name`] writes it.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.name() == name)
    }

    /// Whether this CPU runs it.
    pub fn runs_here(self) -> bool {
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        {
            use std::is_x86_feature_detected as has;
            match self {
                Level::Portable => true,
                Level::Avx2 => has!("avx2"),
                Level::AvxVnni => has!("avx2") && has!("avxvnni"),
                Level::Avx512Vnni => {
                    has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vnni")
                }
            }
        }
        #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
        {
            match self {
                Level::Portable => true,
                Level::Avx2 => cfg!(all(target_arch = "x86_64", target_feature = "avx2")),
                Level::AvxVnni => {
                    cfg!(all(target_arch = "x86_64", target_feature = "avx2", target_feature = "avxvnni"))
                }
                Level::Avx512Vnni => cfg!(all(
                    target_arch = "x86_64",
                    target_feature = "avx512f",
                    target_feature = "avx512bw",
                    target_feature = "avx512dq",
                    target_feature = "avx512vnni"
                )),
            }
        }
    }
}

/// The widest level this CPU runs.
pub fn detected() -> Level {
    Level::ALL.into_iter().rev().find(|level| level.runs_here()).unwrap_or(Level::Portable)
}

const UNSET: u8 = u8::MAX;
static ACTIVE: AtomicU8 = AtomicU8::new(UNSET);

/// The level the int8 kernels run on: the detected one, capped by
/// `CHAINRULE_INT8` and [`set_limit`].
#[inline(always)]
pub fn active() -> Level {
    match ACTIVE.load(Ordering::Relaxed) {
        0 => Level::Portable,
        1 => Level::Avx2,
        2 => Level::AvxVnni,
        3 => Level::Avx512Vnni,
        _ => choose(),
    }
}

#[cold]
fn choose() -> Level {
    #[cfg(feature = "std")]
    let limit = std::env::var("CHAINRULE_INT8").ok().and_then(|v| Level::from_name(v.trim()));
    #[cfg(not(feature = "std"))]
    let limit = None;
    capped(limit.unwrap_or(Level::Avx512Vnni))
}

/// Caps the level from now on (at the widest the CPU runs below the cap)
/// and returns the level in effect.
pub fn set_limit(limit: Level) -> Level {
    capped(limit)
}

fn capped(limit: Level) -> Level {
    let level =
        Level::ALL.into_iter().rev().find(|l| *l <= limit && l.runs_here()).unwrap_or(Level::Portable);
    ACTIVE.store(level as u8, Ordering::Relaxed);
    level
}
