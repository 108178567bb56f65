//! Training on every core: a persistent pool of worker threads that the
//! training kernels split their work over.
//!
//! A kernel splits its output into parts (rows of a product, samples of a
//! convolution, ranges of an optimizer's parameters) and the pool runs the
//! parts at once, the calling thread taking a share. Each output is
//! computed whole by one part, in the same order whatever the part count,
//! so results are bitwise identical for any number of threads; where a
//! kernel sums over the batch (a weight gradient of a convolution), it sums
//! per-sample parts in sample order. A run trained with one thread and the
//! same run with eight give the same parameters, bit for bit.
//!
//! The workers are started once, at the first parallel call, and live for
//! the process: no thread is spawned per step, and nothing is allocated
//! per call (the job is a reference to the caller's closure, handed over
//! through atomics). Between calls a worker spins briefly, then sleeps
//! until the next job wakes it.
//!
//! How many threads kernels use: every core by default, [`set`] for the
//! process, [`with`] for one closure on this thread (what
//! [`crate::Trainer::threads`] does), or the environment variable
//! `CHAINRULE_THREADS`, read once. Batch-1 inference (`predict`, `step`)
//! never uses the pool. Without `std` there is no pool: parts run in turn.

#[cfg(feature = "std")]
mod pool;

#[cfg(feature = "std")]
use std::cell::Cell;
#[cfg(feature = "std")]
use std::sync::OnceLock;
#[cfg(feature = "std")]
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads kernels may use, by [`set`]; 0 means not set.
#[cfg(feature = "std")]
static SETTING: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "std")]
thread_local! {
    /// A limit for this thread from [`with`]; 0 means none.
    static LIMIT: Cell<usize> = const { Cell::new(0) };
    /// True on a worker running a part, and on a caller while its parts
    /// run: a kernel called from inside a part runs on its own.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// The cores this process may run on, or 1 where that is unknown.
#[cfg(feature = "std")]
pub fn available() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Threads the training kernels use on this thread now: the limit of
/// [`with`], else the process's setting ([`set`] or `CHAINRULE_THREADS`),
/// else every core. Without `std`, 1.
pub fn current() -> usize {
    #[cfg(feature = "std")]
    {
        let limit = LIMIT.with(Cell::get);
        if limit > 0 {
            return limit;
        }
        match SETTING.load(Ordering::Relaxed) {
            0 => {
                let from_env =
                    std::env::var("CHAINRULE_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
                let threads = from_env.filter(|&n| n > 0).unwrap_or_else(available);
                SETTING.store(threads, Ordering::Relaxed);
                threads
            }
            n => n,
        }
    }
    #[cfg(not(feature = "std"))]
    1
}

/// Sets how many threads the training kernels use in this process (at
/// least 1). Results do not depend on it.
#[cfg(feature = "std")]
pub fn set(threads: usize) {
    SETTING.store(threads.max(1), Ordering::Relaxed);
}

/// Runs `f` with the training kernels on this thread using `threads`
/// threads (at least 1).
#[cfg(feature = "std")]
pub fn with<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    let before = LIMIT.with(|l| l.replace(threads.max(1)));
    let result = f();
    LIMIT.with(|l| l.set(before));
    result
}

/// Parts of parallel kernels the pool's workers (not the calling threads)
/// have run since the process started: for tests that check the work was
/// shared.
#[doc(hidden)]
#[cfg(feature = "std")]
pub fn worker_parts() -> u64 {
    pool::WORKER_PARTS.load(Ordering::Relaxed)
}

/// Runs `part(i)` for every `i` in `0..parts`, at once on the pool's
/// workers and this thread, and returns when every part has run. Parts must
/// write disjoint outputs. With one thread, or from inside a part, the
/// parts run here in order.
pub fn run(parts: usize, part: &(dyn Fn(usize) + Sync)) {
    let threads = current().min(parts);
    #[cfg(feature = "std")]
    if threads > 1 && !INSIDE.with(Cell::get) {
        return pool::run(parts, threads, part);
    }
    let _ = threads;
    (0..parts).for_each(part);
}

/// Splits `len` items into parts of at least `least` items, as many as
/// there are threads: the ranges, in order, each a whole number of `align`
/// items but the last. Calls `f(range)` for each at once through [`run`].
pub fn ranges(len: usize, least: usize, align: usize, f: &(dyn Fn(core::ops::Range<usize>) + Sync)) {
    let align = align.max(1);
    let most_parts = (len / least.max(1)).max(1);
    let parts = current().min(most_parts);
    if parts <= 1 {
        f(0..len);
        return;
    }
    let units = len.div_ceil(align);
    let per = units.div_ceil(parts) * align;
    let parts = len.div_ceil(per);
    run(parts, &|i| f(i * per..((i + 1) * per).min(len)));
}

/// A slice that the parts of a parallel loop each take a disjoint range
/// of (the ranges [`ranges`] hands out never overlap).
pub(crate) struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: core::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: parts take disjoint ranges (the contract of `range`), so sharing
// the pointer between threads shares no element.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub(crate) fn new(slice: &'a mut [T]) -> Self {
        Disjoint { ptr: slice.as_mut_ptr(), len: slice.len(), _slice: core::marker::PhantomData }
    }

    /// The elements `range`.
    ///
    /// # Safety
    /// No other live reference from this `Disjoint` overlaps `range`.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn range(&self, range: core::ops::Range<usize>) -> &'a mut [T] {
        assert!(range.start <= range.end && range.end <= self.len, "Disjoint: range out of bounds");
        // SAFETY: in bounds (asserted); exclusive by the caller's promise.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

/// `f(range, &mut data[range])` over [`ranges`] of `data`.
pub(crate) fn ranges_mut<T: Send>(
    data: &mut [T],
    least: usize,
    align: usize,
    f: &(dyn Fn(core::ops::Range<usize>, &mut [T]) + Sync),
) {
    let shared = Disjoint::new(data);
    ranges(shared.len, least, align, &|range| {
        // SAFETY: `ranges` hands out disjoint ranges.
        f(range.clone(), unsafe { shared.range(range) })
    });
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// Every part runs once, whatever the thread count; nested calls run
    /// inline; ranges cover the items in order.
    #[test]
    fn every_part_runs_once() {
        for threads in [1, 2, 3, 8] {
            with(threads, || {
                for parts in [1, 2, 3, 7, 64] {
                    let hits: Vec<AtomicU32> = (0..parts).map(|_| AtomicU32::new(0)).collect();
                    run(parts, &|i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                        run(2, &|_| ());
                    });
                    assert!(
                        hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                        "{threads} threads, {parts} parts"
                    );
                }
                let covered: Vec<AtomicU32> = (0..1000).map(|_| AtomicU32::new(0)).collect();
                ranges(1000, 10, 16, &|r| {
                    assert!(r.start % 16 == 0);
                    for i in r {
                        covered[i].fetch_add(1, Ordering::Relaxed);
                    }
                });
                assert!(covered.iter().all(|h| h.load(Ordering::Relaxed) == 1));
            });
        }
    }

    /// A part that panics makes the caller panic, and the pool works after.
    #[test]
    fn a_panic_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            with(2, || run(4, &|i| assert!(i != 3, "part 3")));
        });
        assert!(caught.is_err());
        let sum = AtomicU32::new(0);
        with(2, || run(4, &|i| _ = sum.fetch_add(i as u32, Ordering::Relaxed)));
        assert_eq!(sum.load(Ordering::Relaxed), 6);
    }
}
