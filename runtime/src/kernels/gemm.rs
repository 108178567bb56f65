//! General matrix multiply, `C = alpha A B + beta C`, on strided slices.
//!
//! Why not a crate: `matrixmultiply` (what nalgebra calls) and `gemm` both
//! allocate packing memory inside every call, and a training step here must
//! not allocate at all. This is the classic packed algorithm instead: `B` is
//! copied into `KC x NR` column panels and `A` into `MC`-row blocks of
//! `KC x MR` row panels, zero-padded at the edges, and a register tile of
//! `MR x NR` accumulators sweeps them. The packing buffers are thread-local
//! and only ever grow, so after the first call of a given size nothing is
//! allocated.
//!
//! The register tile is chosen once per process with the instruction-set
//! level (`crate::isa`): 16 x 16 on AVX-512 (a register per row, each
//! value of A broadcast straight from memory into its multiply-add; whole
//! tiles written from the registers), 6 x 16 on AVX2 + FMA, and a plain
//! Rust tile over fixed-size arrays elsewhere, so a plain `cargo build
//! --release` gets the widest path the machine has. Panels are packed from
//! the operand's contiguous direction, one step of the shared dimension at
//! a time, and the packing buffer starts on a cache line.
//!
//! A weight gradient can be consumed as it is made (`gemm_update`): the
//! last depth block of each tile hands its results to the optimizer's rule
//! (`crate::optim::Update`), which updates the weights in place, and the
//! gradient is never stored.

use crate::Scalar;
use crate::isa::{Isa, active, fast_path_available};
use crate::optim::update::Rule;
use std::cell::RefCell;

/// Depth of one packed block (the shared dimension), at most: a panel of B
/// (`KC x NR`) of about 16 KB stays in the first-level cache while the
/// tiles of a block of A sweep it.
const KC: usize = 256;

/// The depth blocks for a shared dimension `k` and a tile `NR` wide: equal
/// blocks of at most `16 KB / (NR values)`, so that no block is a thin
/// remainder.
fn depth<S, const NR: usize>(k: usize) -> usize {
    let most = (16 * 1024 / (NR * size_of::<S>())).clamp(64, KC);
    k.div_ceil(k.div_ceil(most))
}
/// Rows of the AVX-512 register tile (one register of 16 columns per row).
const AVX512_MR: usize = 16;
/// Rows of `A` packed at once.
const MC: usize = 96;
/// Columns of `B` packed at once.
const NC: usize = 2048;

thread_local! {
    static PACK_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACK_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static PARTIALS_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PARTIALS_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Per-type choices: the register tile and the thread's packing buffer.
pub(crate) trait GemmScalar: Scalar {
    /// Runs `f` with a packing buffer of at least `len` elements.
    fn with_pack<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;

    /// The multiply on validated arguments.
    fn dispatch(p: &Problem<'_, Self>);

    /// Rows of the register tile `dispatch` takes on the active level: a
    /// split of the rows into multiples of it gives each part whole tiles.
    fn row_tile() -> usize {
        6
    }

    /// `y[m x n] = x[m x k] * w[n x k]^T` without packing, when this type
    /// and CPU have a kernel for it; false leaves `y` untouched.
    fn dot_rows(_m: usize, _k: usize, _n: usize, _x: &[Self], _w: &[Self], _y: &mut [Self]) -> bool {
        false
    }

    /// Runs `f` on this thread's scratch buffer of at least `len` elements
    /// (kernels' own temporaries, such as a convolution's column matrix;
    /// it only grows, so steady state allocates nothing).
    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;

    /// Like `with_scratch`, a second buffer: for per-sample partial sums
    /// that the parts of a split kernel write while each uses its scratch.
    fn with_partials<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;
}

/// A validated multiply: dimensions, operands with their strides, scalars.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Problem<'a, S> {
    m: usize,
    k: usize,
    n: usize,
    alpha: S,
    a: Operand<'a, S>,
    b: Operand<'a, S>,
    beta: S,
    c: *mut S,
    rsc: usize,
    csc: usize,
    /// An optimizer update applied to each output of the last depth block
    /// instead of storing it (a weight gradient that never reaches memory).
    update: Option<Fused<S>>,
}

/// An update fused into a product's last store: the output at `(i, j)` is
/// the gradient of the weight at the same place of `w` (and of the
/// velocity at `v`, when the rule has one), laid out as `c` is.
#[derive(Clone, Copy)]
struct Fused<S> {
    rule: Rule<S>,
    w: *mut S,
    v: *mut S,
}

impl<S> Fused<S> {
    /// The same update from element `offset` on.
    ///
    /// # Safety
    /// `offset` is within the output.
    unsafe fn from(self, offset: usize) -> Self {
        // SAFETY: the caller's promise; `w` and `v` are as large as `c`.
        unsafe { Self { w: self.w.add(offset), v: self.v.add(offset), ..self } }
    }
}

#[derive(Clone, Copy)]
struct Operand<'a, S> {
    data: &'a [S],
    rs: usize,
    cs: usize,
}

impl<S: Copy> Operand<'_, S> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> S {
        self.data[i * self.rs + j * self.cs]
    }
}

/// Runs `f` on `len` elements of the thread's buffer `key`, starting on a
/// cache line: packed panels are read a vector at a time, and a vector
/// that straddles two lines costs two loads.
fn with_buffer<T: Copy + Default, R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    let slack = 64 / size_of::<T>();
    key.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < len + slack {
            buf.resize(len + slack, T::default());
        }
        let skip = buf.as_ptr().align_offset(64).min(slack);
        f(&mut buf[skip..skip + len])
    })
}

impl GemmScalar for f32 {
    fn with_pack<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&PACK_F32, len, f)
    }

    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&SCRATCH_F32, len, f)
    }

    fn with_partials<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&PARTIALS_F32, len, f)
    }

    fn dispatch(p: &Problem<'_, Self>) {
        #[cfg(target_arch = "x86_64")]
        match active() {
            // SAFETY: the level never exceeds what the CPU runs.
            Isa::Avx512 => {
                return Self::with_pack(pack_len::<AVX512_MR, 16>(p), |pack| unsafe {
                    x86::run_f32_avx512(p, pack)
                });
            }
            // SAFETY: as above.
            Isa::Avx2 => {
                return Self::with_pack(pack_len::<6, 16>(p), |pack| unsafe { x86::run_f32(p, pack) });
            }
            Isa::Portable => {}
        }
        Self::with_pack(pack_len::<6, 16>(p), |pack| {
            run::<f32, 6, 16>(p, pack, |kc, a, b, spot| store(p, &microkernel::<f32, 6, 16>(kc, a, b), spot))
        });
    }

    fn row_tile() -> usize {
        if active() == Isa::Avx512 { AVX512_MR } else { 6 }
    }

    fn dot_rows(m: usize, k: usize, n: usize, x: &[f32], w: &[f32], y: &mut [f32]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if fast_path_available() && m > 0 && n > 0 && k >= 8 {
            assert!(x.len() >= m * k && w.len() >= n * k && y.len() >= m * n, "dot_rows: operand too short");
            if m * n * k < PARALLEL_MACS || n < 32 {
                // SAFETY: the CPU supports AVX2 and FMA; lengths checked above.
                unsafe { x86::dot_rows_f32(m, k, n, x, w, y.as_mut_ptr(), n) };
                return true;
            }
            // Output features over threads, in whole tiles of four: each
            // part reads its rows of the weight (the ones it updates, when
            // the optimizer splits the parameters the same way), and each
            // output is one dot product, the same whatever the split.
            let out = Outputs(y.as_mut_ptr());
            crate::threads::ranges(n, 16, 4, &|cols| {
                // SAFETY: as above; the parts write disjoint columns.
                unsafe {
                    x86::dot_rows_f32(m, k, cols.len(), x, &w[cols.start * k..], out.at(cols.start), n)
                };
            });
            return true;
        }
        let _ = (m, k, n, x, w, y);
        false
    }
}

impl GemmScalar for f64 {
    fn with_pack<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&PACK_F64, len, f)
    }

    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&SCRATCH_F64, len, f)
    }

    fn with_partials<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        with_buffer(&PARTIALS_F64, len, f)
    }

    fn dispatch(p: &Problem<'_, Self>) {
        Self::with_pack(pack_len::<6, 8>(p), |pack| {
            #[cfg(target_arch = "x86_64")]
            if fast_path_available() {
                // SAFETY: the CPU supports AVX2 and FMA.
                return unsafe { x86::run_f64(p, pack) };
            }
            run::<f64, 6, 8>(p, pack, |kc, a, b, spot| store(p, &microkernel::<f64, 6, 8>(kc, a, b), spot));
        });
    }
}

/// Packing space for a problem: one block of B panels and one of A panels.
fn pack_len<const MR: usize, const NR: usize>(p: &Problem<'_, impl Copy>) -> usize {
    p.k.min(KC) * (p.n.min(NC).next_multiple_of(NR) + p.m.min(MC).next_multiple_of(MR))
}

/// Where a tile's results go: its first row and column in `c`, how many of
/// its rows and columns are valid, the `beta` of this depth block and
/// whether it is the last one.
#[derive(Clone, Copy)]
struct Spot<S> {
    i0: usize,
    j0: usize,
    rows: usize,
    cols: usize,
    beta: S,
    last: bool,
}

impl<S> Spot<S> {
    /// Whether this tile's results go to an update rather than to `c`.
    fn updates(&self, p: &Problem<'_, S>) -> bool {
        self.last && p.update.is_some()
    }
}

/// The AVX2 + FMA path: the blocked loops compiled with those features, and
/// a register tile written with intrinsics. The loops must not sit inside
/// the closure that hands out the packing buffer: a closure does not
/// inherit `#[target_feature]`, so they would be compiled for the baseline.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::simd::{Lanes, Ymm, Zmm};
    use super::{Fused, KC, Problem, Rule, Spot, run, store};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_f32(p: &Problem<'_, f32>, pack: &mut [f32]) {
        run::<f32, 6, 16>(p, pack, |kc, a, b, spot| {
            // SAFETY: this closure runs inside a function compiled for AVX2.
            let acc = unsafe { tile_f32(kc, a, b) };
            match p.update {
                Some(fused) if spot.last && spot.rows == 6 && spot.cols == 16 => {
                    // A whole tile of the last depth block: its gradients
                    // are `alpha acc + beta c`, computed as `store` would.
                    let mut g = acc;
                    for (i, row) in g.iter_mut().enumerate() {
                        let at = (spot.i0 + i) * p.rsc + spot.j0;
                        // SAFETY: the tile lies within `c`, as for `store`.
                        let c = unsafe { std::slice::from_raw_parts(p.c.add(at), 16) };
                        if spot.beta == 0.0 {
                            row.iter_mut().for_each(|v| *v *= p.alpha);
                        } else {
                            row.iter_mut().zip(c).for_each(|(v, &c)| *v = p.alpha * *v + spot.beta * c);
                        }
                    }
                    // SAFETY: AVX2 as above; `gemm_update` checked that the
                    // weights (and velocities) are as large as the output.
                    unsafe { update_tile::<Ymm, 6, 16>(fused, &g, |i| (spot.i0 + i) * p.rsc + spot.j0) }
                }
                _ => store(p, &acc, spot),
            }
        });
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn run_f32_avx512(p: &Problem<'_, f32>, pack: &mut [f32]) {
        run::<f32, { super::AVX512_MR }, 16>(p, pack, |kc, a, b, spot| {
            // SAFETY: this closure runs inside a function compiled for AVX-512.
            unsafe { tile_f32_avx512::<{ super::AVX512_MR }>(kc, a, b, p, spot) }
        });
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_f64(p: &Problem<'_, f64>, pack: &mut [f64]) {
        run::<f64, 6, 8>(p, pack, |kc, a, b, spot| {
            // SAFETY: as above.
            store(p, &unsafe { tile_f64(kc, a, b) }, spot)
        });
    }

    /// `y = x w^T` by dot products along the contiguous rows of both: a
    /// tile of 3 rows of `x` by 4 rows of `w` keeps twelve 8-lane partial
    /// sums in registers and reduces them at the end. Edge tiles repeat the
    /// last row and write only the valid results.
    #[target_feature(enable = "avx2,fma")]
    ///
    /// # Safety
    /// The CPU runs AVX2 and FMA; `y` addresses `m` rows of `n` values,
    /// `rsy` apart, that nothing else accesses meanwhile.
    pub(super) unsafe fn dot_rows_f32(
        m: usize,
        k: usize,
        n: usize,
        x: &[f32],
        w: &[f32],
        y: *mut f32,
        rsy: usize,
    ) {
        for i in (0..m).step_by(3) {
            let xr: [&[f32]; 3] = core::array::from_fn(|a| &x[(i + a).min(m - 1) * k..][..k]);
            for j in (0..n).step_by(4) {
                let wr: [&[f32]; 4] = core::array::from_fn(|b| &w[(j + b).min(n - 1) * k..][..k]);
                // SAFETY: this function is compiled for AVX2 + FMA.
                let mut acc = [[unsafe { Ymm::splat(0.0) }; 4]; 3];
                // The last piece of each row, shorter than a vector, is
                // loaded masked (zeros past the row) and summed alike.
                for p in (0..k).step_by(8) {
                    let lanes = (k - p).min(8);
                    // SAFETY: lanes `0..lanes` from `p` lie within each row.
                    unsafe {
                        let xv = [piece(xr[0], p, lanes), piece(xr[1], p, lanes), piece(xr[2], p, lanes)];
                        for b in 0..4 {
                            let wv = piece(wr[b], p, lanes);
                            for a in 0..3 {
                                acc[a][b] = xv[a].mul_add(wv, acc[a][b]);
                            }
                        }
                    }
                }
                for (a, row) in acc.iter().enumerate().take(3.min(m - i)) {
                    for (b, sum) in row.iter().enumerate().take(4.min(n - j)) {
                        // SAFETY: this function is compiled for AVX2, and the
                        // caller promised the output rows.
                        unsafe { *y.add((i + a) * rsy + j + b) = hsum(sum.0) };
                    }
                }
            }
        }
    }

    /// Lanes `p..p + lanes` of `row` (`lanes` at most 8), zeros after.
    ///
    /// # Safety
    /// The CPU runs AVX2; the lanes lie within `row`.
    #[inline(always)]
    unsafe fn piece(row: &[f32], p: usize, lanes: usize) -> Ymm {
        // SAFETY: the caller's promises.
        unsafe {
            let at = row.as_ptr().add(p);
            if lanes == 8 { Ymm::load(at) } else { Ymm::load_range(at, 0, lanes) }
        }
    }

    /// The sum of the eight lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn hsum(v: __m256) -> f32 {
        let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps::<1>(pair, pair)))
    }

    /// 6 x 16 f32 accumulators in twelve registers; each step broadcasts
    /// one value of A per row and multiplies two vectors of B.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile_f32(kc: usize, pa: &[f32], pb: &[f32]) -> [[f32; 16]; 6] {
        assert!(kc <= KC && pa.len() >= kc * 6 && pb.len() >= kc * 16);
        // Twelve named accumulators, one broadcast of A per row and step:
        // the register allocation is spelled out rather than hoped for.
        let z = _mm256_setzero_ps();
        let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21) = (z, z, z, z, z, z);
        let (mut c30, mut c31, mut c40, mut c41, mut c50, mut c51) = (z, z, z, z, z, z);
        let (a, b) = (pa.as_ptr(), pb.as_ptr());
        // One step of the shared dimension: two vectors of B, each row of A
        // broadcast into them.
        macro_rules! step {
            ($p:expr) => {
                // SAFETY: in bounds by the assertion; unaligned loads.
                unsafe {
                    let b0 = _mm256_loadu_ps(b.add($p * 16));
                    let b1 = _mm256_loadu_ps(b.add($p * 16 + 8));
                    let a_row = a.add($p * 6);
                    let x = _mm256_broadcast_ss(&*a_row);
                    c00 = _mm256_fmadd_ps(x, b0, c00);
                    c01 = _mm256_fmadd_ps(x, b1, c01);
                    let x = _mm256_broadcast_ss(&*a_row.add(1));
                    c10 = _mm256_fmadd_ps(x, b0, c10);
                    c11 = _mm256_fmadd_ps(x, b1, c11);
                    let x = _mm256_broadcast_ss(&*a_row.add(2));
                    c20 = _mm256_fmadd_ps(x, b0, c20);
                    c21 = _mm256_fmadd_ps(x, b1, c21);
                    let x = _mm256_broadcast_ss(&*a_row.add(3));
                    c30 = _mm256_fmadd_ps(x, b0, c30);
                    c31 = _mm256_fmadd_ps(x, b1, c31);
                    let x = _mm256_broadcast_ss(&*a_row.add(4));
                    c40 = _mm256_fmadd_ps(x, b0, c40);
                    c41 = _mm256_fmadd_ps(x, b1, c41);
                    let x = _mm256_broadcast_ss(&*a_row.add(5));
                    c50 = _mm256_fmadd_ps(x, b0, c50);
                    c51 = _mm256_fmadd_ps(x, b1, c51);
                }
            };
        }
        let mut p = 0;
        while p + 4 <= kc {
            step!(p);
            step!(p + 1);
            step!(p + 2);
            step!(p + 3);
            p += 4;
        }
        while p < kc {
            step!(p);
            p += 1;
        }
        let c = [[c00, c01], [c10, c11], [c20, c21], [c30, c31], [c40, c41], [c50, c51]];
        let mut out = [[0.0f32; 16]; 6];
        for (o, row) in out.iter_mut().zip(&c) {
            // SAFETY: each row of `out` holds 16 floats.
            unsafe {
                _mm256_storeu_ps(o.as_mut_ptr(), row[0]);
                _mm256_storeu_ps(o.as_mut_ptr().add(8), row[1]);
            }
        }
        out
    }

    /// `MR x 16` f32 accumulators, one AVX-512 register per row; each
    /// step loads one vector of B and multiplies each row's value of A into
    /// it. Each value of A is read once, so the compiler folds its
    /// broadcast into the multiply-add's memory operand: one instruction
    /// per multiply-add, nothing else on the floating-point ports. A whole
    /// tile of a row-major `c` is written from the registers, `c = alpha
    /// acc + beta c` in vectors; edge tiles go through [`store`].
    #[target_feature(enable = "avx512f,avx2,fma")]
    #[inline]
    unsafe fn tile_f32_avx512<const MR: usize>(
        kc: usize,
        pa: &[f32],
        pb: &[f32],
        p: &Problem<'_, f32>,
        spot: Spot<f32>,
    ) {
        assert!(kc <= KC && pa.len() >= kc * MR && pb.len() >= kc * 16);
        let mut c = [_mm512_setzero_ps(); MR];
        let (a, b) = (pa.as_ptr(), pb.as_ptr());
        for p in 0..kc {
            // SAFETY: in bounds by the assertion; unaligned loads.
            unsafe {
                let b0 = _mm512_loadu_ps(b.add(p * 16));
                let a_row = a.add(p * MR);
                for (i, row) in c.iter_mut().enumerate() {
                    *row = _mm512_fmadd_ps(_mm512_set1_ps(*a_row.add(i)), b0, *row);
                }
            }
        }
        if spot.rows == MR && spot.cols == 16 && p.csc == 1 {
            // Each step over all the registers at once, branch-free, so
            // that they stay registers (a test per element makes the loops
            // opaque and spills the tile). Scaling by 1 would change no bit.
            let at = |i: usize| {
                // SAFETY: `gemm` checked that the m x n output lies inside
                // the slice `c` came from; this whole tile is within it.
                unsafe { p.c.add((spot.i0 + i) * p.rsc + spot.j0) }
            };
            if p.alpha != 1.0 {
                let alpha = _mm512_set1_ps(p.alpha);
                c.iter_mut().for_each(|v| *v = _mm512_mul_ps(alpha, *v));
            }
            if spot.beta != 0.0 {
                let beta = _mm512_set1_ps(spot.beta);
                for (i, v) in c.iter_mut().enumerate() {
                    // SAFETY: within the tile, as above.
                    *v = _mm512_fmadd_ps(beta, unsafe { _mm512_loadu_ps(at(i)) }, *v);
                }
            }
            if let (Some(fused), true) = (p.update, spot.last) {
                // SAFETY: `gemm_update` checked that the weights (and the
                // velocities) are as large as the output; this is a tile.
                return unsafe {
                    update_tile::<Zmm, MR, 16>(fused, &rows(&c), |i| (spot.i0 + i) * p.rsc + spot.j0)
                };
            }
            for (i, &v) in c.iter().enumerate() {
                // SAFETY: within the tile, as above.
                unsafe { _mm512_storeu_ps(at(i), v) };
            }
            return;
        }
        // An edge tile: through `store`.
        store(p, &rows(&c), spot);
    }

    /// The registers' values as an array, for the loops after a tile that
    /// index rows. Built without zeroing first: an array that must start
    /// zeroed is set up ahead of the tile's loop for every tile, and keeps
    /// the registers in memory.
    #[inline(always)]
    fn rows<const MR: usize>(c: &[__m512; MR]) -> [[f32; 16]; MR] {
        let mut out = core::mem::MaybeUninit::<[[f32; 16]; MR]>::uninit();
        let first = out.as_mut_ptr().cast::<f32>();
        for (i, &v) in c.iter().enumerate() {
            // SAFETY: row `i` of the array holds 16 floats; the caller runs
            // in a frame compiled for AVX-512.
            unsafe { _mm512_storeu_ps(first.add(16 * i), v) };
        }
        // SAFETY: every row was written above.
        unsafe { out.assume_init() }
    }

    /// The fused update of `L::LANES` weights at `w` (velocities at `v`)
    /// whose gradients are `g`: the optimizer's rule in vectors, each
    /// operation as [`crate::optim::update::Rule::apply`] performs it (no
    /// contraction into multiply-adds), so the bits are the same. (Written
    /// with intrinsics: the compiler leaves that loop scalar over a tile's
    /// short rows.)
    ///
    /// # Safety
    /// The CPU runs `L`'s instructions; the lanes at `w` (and at `v`, when
    /// the rule has velocities) are within the update's buffers.
    #[inline(always)]
    unsafe fn update_lanes<L: Lanes>(rule: Rule<f32>, w: *mut f32, v: *mut f32, g: L) {
        // SAFETY: the caller's promises.
        unsafe {
            let old = L::load(w);
            let new = match rule {
                Rule::Plain { lr, wd } => {
                    let g = g.add(L::splat(wd).mul(old));
                    old.sub(L::splat(lr).mul(g))
                }
                Rule::Momentum { lr, wd, mu, keep, first, nesterov } => {
                    let g = g.add(L::splat(wd).mul(old));
                    let b = if first { g } else { L::splat(mu).mul(L::load(v)).add(L::splat(keep).mul(g)) };
                    b.store(v);
                    let step = if nesterov { g.add(L::splat(mu).mul(b)) } else { b };
                    old.sub(L::splat(lr).mul(step))
                }
            };
            new.store(w);
        }
    }

    /// [`update_lanes`] over a whole tile of gradients `g`, `L::LANES`
    /// columns at a time, row `i` at element `at(i)` of the weights.
    ///
    /// # Safety
    /// As [`update_lanes`], for every row of the tile.
    #[inline(always)]
    unsafe fn update_tile<L: Lanes, const MR: usize, const NR: usize>(
        fused: Fused<f32>,
        g: &[[f32; NR]; MR],
        at: impl Fn(usize) -> usize,
    ) {
        for (i, row) in g.iter().enumerate() {
            for j in (0..NR).step_by(L::LANES) {
                // SAFETY: the caller's promises; `row` holds NR values.
                unsafe {
                    let (w, v) = (fused.w.add(at(i) + j), fused.v.add(at(i) + j));
                    update_lanes(fused.rule, w, v, L::load(row.as_ptr().add(j)));
                }
            }
        }
    }

    /// 6 x 8 f64 accumulators, the same scheme with 4-wide vectors.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile_f64(kc: usize, pa: &[f64], pb: &[f64]) -> [[f64; 8]; 6] {
        assert!(kc <= KC && pa.len() >= kc * 6 && pb.len() >= kc * 8);
        let mut c = [[_mm256_setzero_pd(); 2]; 6];
        for p in 0..kc {
            // SAFETY: in bounds by the assertion; unaligned loads.
            unsafe {
                let b0 = _mm256_loadu_pd(pb.as_ptr().add(p * 8));
                let b1 = _mm256_loadu_pd(pb.as_ptr().add(p * 8 + 4));
                for (i, row) in c.iter_mut().enumerate() {
                    let a = _mm256_broadcast_sd(&*pa.as_ptr().add(p * 6 + i));
                    row[0] = _mm256_fmadd_pd(a, b0, row[0]);
                    row[1] = _mm256_fmadd_pd(a, b1, row[1]);
                }
            }
        }
        let mut out = [[0.0f64; 8]; 6];
        for (o, row) in out.iter_mut().zip(&c) {
            // SAFETY: each row of `out` holds 8 doubles.
            unsafe {
                _mm256_storeu_pd(o.as_mut_ptr(), row[0]);
                _mm256_storeu_pd(o.as_mut_ptr().add(4), row[1]);
            }
        }
        out
    }
}

fn last_index(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    (rows - 1) * rs + (cols - 1) * cs
}

/// `c = alpha * a * b + beta * c` where `a` is `m x k`, `b` is `k x n`, `c`
/// is `m x n`, each given as a slice with a (row stride, column stride).
/// With `beta == 0`, `c` is overwritten without being read.
///
/// # Panics
/// If a stride reaches past the end of its slice (a caller bug).
///
/// # Example
/// ```
/// use chainrule::kernels::gemm;
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let b = [0.0f32, 1.0, 1.0, 0.0]; // swaps columns
/// let mut c = [0.0f32; 4];
/// gemm(2, 2, 2, 1.0, (&a, 2, 1), (&b, 2, 1), 0.0, (&mut c, 2, 1));
/// assert_eq!(c, [2.0, 1.0, 4.0, 3.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm<S: Scalar>(
    m: usize,
    k: usize,
    n: usize,
    alpha: S,
    a: (&[S], usize, usize),
    b: (&[S], usize, usize),
    beta: S,
    c: (&mut [S], usize, usize),
) {
    let (c, rsc, csc) = c;
    if m == 0 || n == 0 {
        return;
    }
    assert!(last_index(m, n, rsc, csc) < c.len(), "gemm: c too short");
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                let v = &mut c[i * rsc + j * csc];
                *v = if beta == S::ZERO { S::ZERO } else { beta * *v };
            }
        }
        return;
    }
    assert!(last_index(m, k, a.1, a.2) < a.0.len(), "gemm: a too short");
    assert!(last_index(k, n, b.1, b.2) < b.0.len(), "gemm: b too short");
    let problem = Problem {
        m,
        k,
        n,
        alpha,
        a: Operand { data: a.0, rs: a.1, cs: a.2 },
        b: Operand { data: b.0, rs: b.1, cs: b.2 },
        beta,
        c: c.as_mut_ptr(),
        rsc,
        csc,
        update: None,
    };
    split(&problem);
}

/// `c = a b` with `c` a weight's gradient, which is not kept: as each
/// element is complete, `part`'s update is applied to the weight `w` (laid
/// out as `c`, row-major) instead. `c` holds the partial sums between
/// depth blocks. Each weight ends as the optimizer's own step would leave
/// it from `c = a b`, bit for bit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_update<S: Scalar>(
    m: usize,
    k: usize,
    n: usize,
    a: (&[S], usize, usize),
    b: (&[S], usize, usize),
    c: &mut [S],
    w: &mut [S],
    part: crate::optim::Part<'_, S>,
) {
    assert!(c.len() >= m * n && w.len() >= m * n, "gemm_update: c or w too short");
    let v = if part.rule.has_velocity() {
        assert!(part.velocity.len() >= m * n, "gemm_update: velocity too short");
        part.velocity.as_mut_ptr()
    } else {
        w.as_mut_ptr()
    };
    if m == 0 || n == 0 {
        return;
    }
    assert!(k > 0, "gemm_update: an empty product has no gradient to apply");
    assert!(last_index(m, k, a.1, a.2) < a.0.len(), "gemm: a too short");
    assert!(last_index(k, n, b.1, b.2) < b.0.len(), "gemm: b too short");
    let problem = Problem {
        m,
        k,
        n,
        alpha: S::ONE,
        a: Operand { data: a.0, rs: a.1, cs: a.2 },
        b: Operand { data: b.0, rs: b.1, cs: b.2 },
        beta: S::ZERO,
        c: c.as_mut_ptr(),
        rsc: n,
        csc: 1,
        update: Some(Fused { rule: part.rule, w: w.as_mut_ptr(), v }),
    };
    split(&problem);
}

/// An output the parts of a split kernel each write their own elements of.
struct Outputs(*mut f32);

// SAFETY: the parts write disjoint elements.
unsafe impl Sync for Outputs {}

impl Outputs {
    /// The output from element `offset` on.
    ///
    /// # Safety
    /// `offset` is within the output.
    unsafe fn at(&self, offset: usize) -> *mut f32 {
        // SAFETY: the caller's promise.
        unsafe { self.0.add(offset) }
    }
}

/// Below this many multiply-adds a product runs on one thread.
const PARALLEL_MACS: usize = 1 << 17;

/// A problem the parts of [`split`] share: each writes its own columns or
/// rows of `c`, and reads the operands.
struct Parts<'p, 'a, S>(&'p Problem<'a, S>);

// SAFETY: the parts write disjoint ranges of `c` (through the raw pointer)
// and only read the operands, which are shared slices.
unsafe impl<S: Sync> Sync for Parts<'_, '_, S> {}

impl<'p, 'a, S> Parts<'p, 'a, S> {
    fn problem(&self) -> &'p Problem<'a, S> {
        self.0
    }
}

impl<'a, S: Copy> Problem<'a, S> {
    /// The columns `range` of this problem.
    fn columns(&self, range: std::ops::Range<usize>) -> Problem<'a, S> {
        let b = Operand { data: &self.b.data[range.start * self.b.cs..], ..self.b };
        // SAFETY: `gemm` checked that c holds the whole output; this is a
        // part of it.
        let (c, update) = unsafe {
            (self.c.add(range.start * self.csc), self.update.map(|u| u.from(range.start * self.csc)))
        };
        Problem { n: range.len(), b, c, update, ..*self }
    }

    /// The rows `range` of this problem.
    fn rows(&self, range: std::ops::Range<usize>) -> Problem<'a, S> {
        let a = Operand { data: &self.a.data[range.start * self.a.rs..], ..self.a };
        // SAFETY: as above.
        let (c, update) = unsafe {
            (self.c.add(range.start * self.rsc), self.update.map(|u| u.from(range.start * self.rsc)))
        };
        Problem { m: range.len(), a, c, update, ..*self }
    }
}

/// Runs `p` on the threads of [`crate::threads`]: split into ranges of
/// whole tiles of columns (or of rows when there are few columns). Every
/// output is computed by one part, over the same depth blocks in the same
/// order whatever the split, so the result does not depend on the thread
/// count.
fn split<S: Scalar>(p: &Problem<'_, S>) {
    if p.m * p.n * p.k < PARALLEL_MACS || crate::threads::current() == 1 {
        return S::gemm(p);
    }
    let parts = Parts(p);
    if p.m >= 48 {
        // Whole register tiles of rows each (a part with half a tile
        // more computes a whole one more). Rows first: for a weight
        // gradient they are output features, the parameters' own order,
        // which the optimizer then splits the same way.
        crate::threads::ranges(p.m, 24, S::gemm_row_tile(), &|range| S::gemm(&parts.problem().rows(range)));
    } else if p.n >= 128 {
        // 32 columns: a tile of every level.
        crate::threads::ranges(p.n, 64, 32, &|range| S::gemm(&parts.problem().columns(range)));
    } else {
        S::gemm(p);
    }
}

/// The blocked loops around a register tile `tile(kc, a_panel, b_panel,
/// spot)`, which multiplies the panels and writes the result to `spot`.
/// `#[inline(always)]` so that each caller (the AVX2 entry or the baseline
/// one) compiles its own copy for its features.
#[inline(always)]
fn run<S: GemmScalar, const MR: usize, const NR: usize>(
    p: &Problem<'_, S>,
    pack: &mut [S],
    tile: impl Fn(usize, &[S], &[S], Spot<S>),
) {
    let b_cols = p.n.min(NC).next_multiple_of(NR);
    let block = depth::<S, NR>(p.k);
    let (pb, pa) = pack.split_at_mut(block * b_cols);
    for jc in (0..p.n).step_by(NC) {
        let nc = (p.n - jc).min(NC);
        for pc in (0..p.k).step_by(block) {
            let kc = (p.k - pc).min(block);
            // Later depth blocks add to what the first one wrote.
            let beta = if pc == 0 { p.beta } else { S::ONE };
            pack_b::<S, NR>(&p.b, pc, kc, jc, nc, pb);
            for ic in (0..p.m).step_by(MC) {
                let mc = (p.m - ic).min(MC);
                pack_a::<S, MR>(&p.a, ic, mc, pc, kc, pa);
                for jr in (0..nc).step_by(NR) {
                    let panel_b = &pb[jr * kc..(jr + NR) * kc];
                    for ir in (0..mc).step_by(MR) {
                        let panel_a = &pa[ir * kc..(ir + MR) * kc];
                        let (rows, cols) = ((mc - ir).min(MR), (nc - jr).min(NR));
                        let last = pc + kc == p.k;
                        let spot = Spot { i0: ic + ir, j0: jc + jr, rows, cols, beta, last };
                        tile(kc, panel_a, panel_b, spot);
                    }
                }
            }
        }
    }
}

/// `KC x NR` panels of `B`: element `(p, j)` of panel `q` at `q*NR*kc + p*NR + j`.
/// The loop order follows the operand's layout so that reads are contiguous
/// runs: whole row segments when rows are contiguous, whole column segments
/// when columns are (a transposed weight matrix).
#[inline(always)]
fn pack_b<S: Scalar, const NR: usize>(
    b: &Operand<'_, S>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    out: &mut [S],
) {
    for (q, j0) in (0..nc).step_by(NR).enumerate() {
        let panel = &mut out[q * NR * kc..(q + 1) * NR * kc];
        let cols = (nc - j0).min(NR);
        if cols < NR {
            panel.fill(S::ZERO);
        }
        if b.cs == 1 {
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                let start = (pc + p) * b.rs + jc + j0;
                if cols == NR {
                    // A copy of constant length: vector moves, not a call.
                    row.copy_from_slice(&b.data[start..start + NR]);
                } else {
                    row[..cols].copy_from_slice(&b.data[start..start + cols]);
                }
            }
        } else if b.rs == 1 {
            // Column-major B (a transposed weight): each step of the panel
            // takes one value from each column, written step by step as for
            // row-major A in `pack_a`.
            let starts: [usize; NR] = core::array::from_fn(|j| (jc + j0 + j.min(cols - 1)) * b.cs + pc);
            for (p, row) in panel.chunks_exact_mut(NR).enumerate() {
                for (v, &start) in row.iter_mut().zip(&starts) {
                    *v = b.data[start + p];
                }
            }
        } else {
            for p in 0..kc {
                for j in 0..cols {
                    panel[p * NR + j] = b.at(pc + p, jc + j0 + j);
                }
            }
        }
    }
}

/// `KC x MR` panels of `A`: element `(i, p)` of panel `q` at `q*MR*kc + p*MR + i`,
/// read in the operand's contiguous direction as for [`pack_b`].
#[inline(always)]
fn pack_a<S: Scalar, const MR: usize>(
    a: &Operand<'_, S>,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    out: &mut [S],
) {
    for (q, i0) in (0..mc).step_by(MR).enumerate() {
        let panel = &mut out[q * MR * kc..(q + 1) * MR * kc];
        let rows = (mc - i0).min(MR);
        if rows < MR {
            panel.fill(S::ZERO);
        }
        if a.cs == 1 {
            // Row-major A: each step of the panel takes one value from each
            // row. Written step by step (a contiguous write of `MR` values);
            // row by row, the compiler scatters, which is slower.
            // Rows past the end repeat the last one: the tile computes
            // them and `store` drops them.
            let starts: [usize; MR] = core::array::from_fn(|i| (ic + i0 + i.min(rows - 1)) * a.rs + pc);
            let last = starts[MR - 1] + kc;
            assert!(last <= a.data.len(), "pack_a: rows past the end of a");
            for (p, col) in panel.chunks_exact_mut(MR).enumerate() {
                for (v, &start) in col.iter_mut().zip(&starts) {
                    *v = a.data[start + p];
                }
            }
        } else if a.rs == 1 {
            for (p, col) in panel.chunks_exact_mut(MR).enumerate() {
                let start = (pc + p) * a.cs + ic + i0;
                if rows == MR {
                    // A copy of constant length: vector moves, not a call.
                    col.copy_from_slice(&a.data[start..start + MR]);
                } else {
                    col[..rows].copy_from_slice(&a.data[start..start + rows]);
                }
            }
        } else {
            for p in 0..kc {
                for i in 0..rows {
                    panel[p * MR + i] = a.at(ic + i0 + i, pc + p);
                }
            }
        }
    }
}

/// The portable register tile: `MR x NR` dot products of length `kc` at
/// once, in plain multiply-adds (a fused multiply-add would be a slow
/// library call on CPUs without FMA).
#[inline(always)]
fn microkernel<S: Scalar, const MR: usize, const NR: usize>(kc: usize, pa: &[S], pb: &[S]) -> [[S; NR]; MR] {
    let mut acc = [[S::ZERO; NR]; MR];
    for (a, b) in pa.chunks_exact(MR).zip(pb.chunks_exact(NR)).take(kc) {
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += a[i] * b[j];
            }
        }
    }
    acc
}

/// Writes the valid part of a tile: `c = alpha acc + beta c`. Rows of a
/// row-major `c` are written as contiguous runs with the `beta` test
/// hoisted, so the loop vectorizes: with a short shared dimension (a weight
/// gradient over a small batch) storing is a large share of the work.
#[inline(always)]
fn store<S: Scalar, const MR: usize, const NR: usize>(
    p: &Problem<'_, S>,
    acc: &[[S; NR]; MR],
    spot: Spot<S>,
) {
    let Spot { i0, j0, rows, cols, beta, .. } = spot;
    if spot.updates(p) {
        let mut values = *acc;
        for (i, row) in values.iter_mut().enumerate().take(rows) {
            let base = (i0 + i) * p.rsc + j0;
            // SAFETY: as below; an update is only fused into a row-major `c`.
            let c = unsafe { std::slice::from_raw_parts(p.c.add(base), cols) };
            if beta == S::ZERO {
                row.iter_mut().for_each(|v| *v = p.alpha * *v);
            } else {
                row.iter_mut().zip(c).for_each(|(v, &o)| *v = p.alpha * *v + beta * o);
            }
        }
        return update(p, &values, spot);
    }
    for (i, row) in acc.iter().enumerate().take(rows) {
        let base = (i0 + i) * p.rsc + j0 * p.csc;
        if p.csc == 1 {
            // SAFETY: `gemm` checked that the m x n output with these strides
            // lies inside the slice `c` came from and holds it mutably
            // borrowed; this row segment is within it and no other reference
            // to it exists while the slice lives.
            let out = unsafe { std::slice::from_raw_parts_mut(p.c.add(base), cols) };
            if beta == S::ZERO {
                out.iter_mut().zip(row).for_each(|(o, &v)| *o = p.alpha * v);
            } else {
                out.iter_mut().zip(row).for_each(|(o, &v)| *o = p.alpha * v + beta * *o);
            }
            continue;
        }
        for (j, &v) in row.iter().enumerate().take(cols) {
            // SAFETY: as above, for a strided element.
            unsafe {
                let c = p.c.add(base + j * p.csc);
                *c = if beta == S::ZERO { p.alpha * v } else { p.alpha * v + beta * *c };
            }
        }
    }
}

/// Applies the fused update to the weights of a tile whose gradients are
/// `values` (complete: the last depth block, scaled and added).
#[inline(always)]
fn update<S: Scalar, const MR: usize, const NR: usize>(
    p: &Problem<'_, S>,
    values: &[[S; NR]; MR],
    spot: Spot<S>,
) {
    let Some(fused) = p.update else { return };
    // Plain loops: an iterator adapter's `for_each` may stay a function of
    // its own, compiled without the caller's instruction set.
    for (i, row) in values.iter().enumerate().take(spot.rows) {
        let at = (spot.i0 + i) * p.rsc + spot.j0;
        update_row(fused, at, &row[..spot.cols]);
    }
}

/// The update of the weights from element `base` on, whose gradients are `g`.
#[inline(always)]
fn update_row<S: Scalar>(fused: Fused<S>, base: usize, g: &[S]) {
    // SAFETY: `gemm_update` checked that `w` (and the velocity, when the
    // rule has one) is as large as the row-major output, which holds this
    // row segment; the parts of a split write disjoint ones.
    let (w, v) = unsafe {
        let w = std::slice::from_raw_parts_mut(fused.w.add(base), g.len());
        let v: &mut [S] = if fused.rule.has_velocity() {
            std::slice::from_raw_parts_mut(fused.v.add(base), g.len())
        } else {
            &mut []
        };
        (w, v)
    };
    fused.rule.apply(w, g, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: (&[f64], usize, usize), b: (&[f64], usize, usize)) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a.0[i * a.1 + p * a.2] * b.0[p * b.1 + j * b.2]).sum();
            }
        }
        c
    }

    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len).map(|i| (((i * 7919 + seed * 104729) % 1000) as f64) / 500.0 - 1.0).collect()
    }

    #[test]
    fn matches_the_definition_for_awkward_sizes_and_strides() {
        for &(m, k, n) in &[(1, 1, 1), (7, 3, 5), (6, 16, 16), (33, 300, 17), (100, 9, 130), (2, 520, 3)] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            // Row-major A, and B given transposed (column-major) as `linear` does.
            let bt: Vec<f64> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
            let expected = naive(m, k, n, (&a, k, 1), (&b, n, 1));
            let mut c = vec![f64::NAN; m * n];
            gemm(m, k, n, 1.0, (&a, k, 1), (&bt, 1, k), 0.0, (&mut c, n, 1));
            for (x, y) in c.iter().zip(&expected) {
                assert!((x - y).abs() < 1e-12 * k as f64, "{m}x{k}x{n}: {x} vs {y}");
            }
            // Accumulate with beta = 1 into a transposed (column-major) C.
            let mut ct: Vec<f64> = (0..m * n).map(|idx| expected[(idx % m) * n + idx / m]).collect();
            gemm(m, k, n, 2.0, (&a, k, 1), (&b, n, 1), 1.0, (&mut ct, 1, m));
            for i in 0..m {
                for j in 0..n {
                    let want = 3.0 * expected[i * n + j];
                    assert!((ct[j * m + i] - want).abs() < 1e-11 * k as f64);
                }
            }
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let (m, k, n) = (19, 70, 23);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let (a32, b32): (Vec<f32>, Vec<f32>) =
            (a.iter().map(|&v| v as f32).collect(), b.iter().map(|&v| v as f32).collect());
        let expected = naive(m, k, n, (&a, k, 1), (&b, n, 1));
        let mut c = vec![0.0f32; m * n];
        gemm(m, k, n, 1.0, (&a32, k, 1), (&b32, n, 1), 0.0, (&mut c, n, 1));
        for (x, y) in c.iter().zip(&expected) {
            assert!((f64::from(*x) - y).abs() < 1e-4, "{x} vs {y}");
        }
    }

    /// The baseline microkernel is what machines without AVX2 + FMA run; it
    /// must agree with the fast one (which `gemm` picks on this machine).
    #[test]
    fn baseline_and_fast_paths_agree() {
        let (m, k, n) = (13, 300, 21);
        let (a, b) = (values(m * k, 5), values(k * n, 6));
        let run_with = |fma: bool| {
            let mut c = vec![0.0f64; m * n];
            let p = Problem {
                m,
                k,
                n,
                alpha: 1.0,
                a: Operand { data: &a, rs: k, cs: 1 },
                b: Operand { data: &b, rs: n, cs: 1 },
                beta: 0.0,
                c: c.as_mut_ptr(),
                rsc: n,
                csc: 1,
                update: None,
            };
            f64::with_pack(KC * (NC + MC), |pack| match fma {
                #[cfg(target_arch = "x86_64")]
                true if fast_path_available() => unsafe { x86::run_f64(&p, pack) },
                _ => run::<f64, 6, 8>(&p, pack, |kc, a, b, spot| {
                    store(&p, &microkernel::<f64, 6, 8>(kc, a, b), spot)
                }),
            });
            c
        };
        let expected = naive(m, k, n, (&a, k, 1), (&b, n, 1));
        for c in [run_with(false), run_with(true)] {
            for (x, y) in c.iter().zip(&expected) {
                assert!((x - y).abs() < 1e-12 * k as f64, "{x} vs {y}");
            }
        }
    }

    /// The `f32` kernels of every level this CPU runs (AVX-512, AVX2, the
    /// portable tile) against the `f64` definition: row-major and
    /// transposed operands, edge tiles, `alpha` and `beta`, a strided `c`.
    #[test]
    fn every_f32_kernel_matches_the_definition() {
        use crate::isa::{Isa, detected};
        let shapes = [
            (32usize, 784usize, 128usize),
            (128, 32, 784),
            (13, 7, 37),
            (9, 300, 33),
            (1, 1, 1),
            (8, 64, 32),
        ];
        for &(m, k, n) in &shapes {
            let (a, b) = (values(m * k, 11), values(k * n, 12));
            let c0 = values(m * n, 13);
            let exact = naive(m, k, n, (&a, k, 1), (&b, n, 1));
            let a_t: Vec<f64> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
            let b_t: Vec<f64> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
            let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let (a32, b32, at32, bt32, c32) = (f(&a), f(&b), f(&a_t), f(&b_t), f(&c0));
            for level in Isa::ALL.into_iter().filter(|&isa| isa <= detected()) {
                for (transposed_a, transposed_b, strided_c) in
                    [(false, false, false), (true, true, false), (false, true, true)]
                {
                    let (aop, bop) = (
                        if transposed_a {
                            Operand { data: &at32[..], rs: 1, cs: m }
                        } else {
                            Operand { data: &a32[..], rs: k, cs: 1 }
                        },
                        if transposed_b {
                            Operand { data: &bt32[..], rs: 1, cs: k }
                        } else {
                            Operand { data: &b32[..], rs: n, cs: 1 }
                        },
                    );
                    // A strided c: element (i, j) at i + j * m (column-major).
                    let (rsc, csc) = if strided_c { (1, m) } else { (n, 1) };
                    let mut c: Vec<f32> = c32.clone();
                    let start = c.clone();
                    let p = Problem {
                        m,
                        k,
                        n,
                        alpha: 0.5,
                        a: aop,
                        b: bop,
                        beta: 2.0,
                        c: c.as_mut_ptr(),
                        rsc,
                        csc,
                        update: None,
                    };
                    f32::with_pack(KC * (NC + MC) * 2, |pack| match level {
                        // SAFETY: the CPU runs the level (filtered above).
                        #[cfg(target_arch = "x86_64")]
                        Isa::Avx512 => unsafe { x86::run_f32_avx512(&p, pack) },
                        // SAFETY: as above.
                        #[cfg(target_arch = "x86_64")]
                        Isa::Avx2 => unsafe { x86::run_f32(&p, pack) },
                        _ => run::<f32, 6, 16>(&p, pack, |kc, a, b, spot| {
                            store(&p, &microkernel::<f32, 6, 16>(kc, a, b), spot)
                        }),
                    });
                    for i in 0..m {
                        for j in 0..n {
                            let at = i * rsc + j * csc;
                            let want = 0.5 * exact[i * n + j] + 2.0 * f64::from(start[at]);
                            let got = f64::from(c[at]);
                            assert!(
                                (got - want).abs() < 1e-4 * (1.0 + want.abs()) * (k as f64).sqrt(),
                                "{level:?} {m}x{k}x{n} a^T {transposed_a} b^T {transposed_b} c strided {strided_c} ({i}, {j}): {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A given transposed (columns contiguous) and B row-major: the layout
    /// of a weight gradient.
    #[test]
    fn transposed_a_matches_the_definition() {
        for &(m, k, n) in &[(128usize, 32usize, 784usize), (13, 7, 37), (6, 256, 16), (7, 300, 20), (1, 1, 1)]
        {
            let (a, b) = (values(m * k, 7), values(k * n, 8));
            // a_t holds A column by column: A(i, p) = a_t[p * m + i].
            let a_t: Vec<f64> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
            let expected = naive(m, k, n, (&a, k, 1), (&b, n, 1));
            let (a32, b32): (Vec<f32>, Vec<f32>) =
                (a_t.iter().map(|&v| v as f32).collect(), b.iter().map(|&v| v as f32).collect());
            let mut c = vec![f32::NAN; m * n];
            gemm(m, k, n, 1.0, (&a32, 1, m), (&b32, n, 1), 0.0, (&mut c, n, 1));
            for (x, y) in c.iter().zip(&expected) {
                assert!((f64::from(*x) - y).abs() < 1e-4 * (k as f64).sqrt(), "{m}x{k}x{n}: {x} vs {y}");
            }
            let mut c64 = expected.clone();
            gemm(m, k, n, 1.0, (&a_t, 1, m), (&b, n, 1), 1.0, (&mut c64, n, 1));
            for (x, y) in c64.iter().zip(&expected) {
                assert!((x - 2.0 * y).abs() < 1e-10 * k as f64);
            }
        }
    }

    #[test]
    fn an_empty_inner_dimension_scales_c() {
        let mut c = [1.0f32, 2.0];
        gemm(1, 0, 2, 1.0, (&[], 0, 1), (&[], 2, 1), 3.0, (&mut c, 2, 1));
        assert_eq!(c, [3.0, 6.0]);
    }
}
