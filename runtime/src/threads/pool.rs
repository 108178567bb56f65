//! The worker threads behind [`super::run`]: started once, each pinned to
//! a core of its own, handed jobs through atomics.

use super::{INSIDE, available};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it sleeps: long enough to span the
/// gaps between the parallel kernels of one training step (its serial
/// stretches: an optimizer's step on small tensors, small layers) and
/// between steps. Waking a parked thread takes tens of microseconds and
/// more on a virtual machine, and with parts dealt to fixed threads the
/// caller waits for it: at 200 us the LSTM benchmark ran at half speed.
const SPIN: Duration = Duration::from_millis(2);

/// Pins worker `index` (from 1) to the `index`-th of the cores this
/// process may run on, leaving the first to the threads that call the
/// kernels. Unpinned, the scheduler can put a spinning worker on the core
/// of the thread it waits for, which then runs in time slices: a step many
/// times slower. Linux only; elsewhere the workers are not pinned.
fn pin(index: usize) {
    #[cfg(target_os = "linux")]
    {
        // The two calls of the C library, declared here to avoid a
        // dependency for them.
        unsafe extern "C" {
            fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> i32;
            fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
        }
        let mut allowed = [0u64; 16];
        // SAFETY: the mask is 1024 bits, as `size` says; pid 0 is this thread.
        if unsafe { sched_getaffinity(0, size_of_val(&allowed), allowed.as_mut_ptr()) } != 0 {
            return;
        }
        let cores: Vec<usize> = (0..1024).filter(|&c| allowed[c / 64] >> (c % 64) & 1 == 1).collect();
        if cores.len() < 2 {
            return;
        }
        let core = cores[index % cores.len()];
        let mut mask = [0u64; 16];
        mask[core / 64] |= 1 << (core % 64);
        // SAFETY: as above. A failure leaves the worker unpinned.
        unsafe { sched_setaffinity(0, size_of_val(&mask), mask.as_ptr()) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = index;
}

/// Parts the workers have run, for tests that check the pool took part.
pub(super) static WORKER_PARTS: AtomicU64 = AtomicU64::new(0);

std::thread_local! {
    /// True on the pool's workers.
    static INSIDE_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs the parts on the pool and this thread, or here in order when
/// another thread's job holds the pool.
pub(super) fn run(parts: usize, threads: usize, part: &(dyn Fn(usize) + Sync)) {
    let pool = pool();
    // One job at a time: another thread's kernel using the pool now (two
    // networks training at once) means this one runs here, in order.
    if pool.shared.busy.swap(true, Ordering::Acquire) {
        (0..parts).for_each(part);
        return;
    }
    let panicked = pool.run(parts, threads - 1, part);
    pool.shared.busy.store(false, Ordering::Release);
    if panicked {
        panic!("a part of a parallel kernel panicked");
    }
}

/// The job of the moment: the caller's closure, on the caller's stack.
struct Job<'a> {
    part: &'a (dyn Fn(usize) + Sync),
}

/// The pool: its workers and what they share.
struct Pool {
    shared: Arc<Shared>,
    workers: Vec<Thread>,
}

struct Shared {
    /// Generation (high 44 bits) and parts (20 bits) of the current job.
    /// Parts are dealt out, not taken: participant `t` (the caller 0, the
    /// workers from 1) runs parts `t`, `t + n`, `t + 2n`, .. of `n`
    /// participants. The same thread then runs the same parts of the same
    /// kernel every step, so its thread-local buffers grow once and stay
    /// grown (no allocation in steady state), and the data it writes stays
    /// in its core's cache.
    state: AtomicU64,
    /// The job of the current generation; valid while a part of it is
    /// taken and not done.
    job: AtomicPtr<Job<'static>>,
    /// Parts done in this generation.
    done: AtomicUsize,
    /// Workers asked to take part in this generation.
    wanted: AtomicUsize,
    /// Set when a part panicked; the caller panics in turn.
    panicked: AtomicBool,
    /// Workers asleep (parked), to wake.
    sleeping: AtomicUsize,
    /// A caller is running a job.
    busy: AtomicBool,
}

const PARTS_BITS: u32 = 20;
const PARTS_MASK: u64 = (1 << PARTS_BITS) - 1;

fn pack(generation: u64, parts: u64) -> u64 {
    (generation << PARTS_BITS) | parts
}

fn unpack(state: u64) -> (u64, u64) {
    (state >> PARTS_BITS, state & PARTS_MASK)
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let shared = Arc::new(Shared {
            state: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicUsize::new(0),
            wanted: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleeping: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
        });
        let workers = (1..available().max(2))
            .map(|index| {
                let shared = Arc::clone(&shared);
                thread::Builder::new()
                    .name(format!("chainrule-{index}"))
                    .spawn(move || {
                        pin(index);
                        work(&shared, index)
                    })
                    .expect("the operating system starts a thread")
                    .thread()
                    .clone()
            })
            .collect();
        Pool { shared, workers }
    })
}

impl Pool {
    /// Publishes the job, takes parts until none is left, waits for the
    /// workers' parts. `helpers` workers are woken. True if a part panicked.
    fn run(&self, parts: usize, helpers: usize, part: &(dyn Fn(usize) + Sync)) -> bool {
        assert!(parts < 1 << PARTS_BITS, "threads: too many parts");
        let s = &self.shared;
        let job = Job { part };
        // SAFETY (lifetime): workers use the job only while a part of this
        // generation is taken and not done, and this function returns only
        // when every part is done.
        let erased = (&job as *const Job<'_>).cast::<Job<'static>>().cast_mut();
        s.job.store(erased, Ordering::Relaxed);
        s.done.store(0, Ordering::Relaxed);
        let helpers = helpers.min(self.workers.len());
        s.wanted.store(helpers, Ordering::Relaxed);
        let (generation, _) = unpack(s.state.load(Ordering::Relaxed));
        let generation = (generation + 1) & ((1 << (64 - PARTS_BITS)) - 1);
        s.state.store(pack(generation, parts as u64), Ordering::SeqCst);
        if s.sleeping.load(Ordering::SeqCst) > 0 {
            self.workers.iter().take(helpers).for_each(Thread::unpark);
        }
        INSIDE.with(|inside| inside.set(true));
        run_parts(s, 0, helpers + 1, parts);
        INSIDE.with(|inside| inside.set(false));
        while s.done.load(Ordering::Acquire) < parts {
            std::hint::spin_loop();
        }
        s.job.store(std::ptr::null_mut(), Ordering::Relaxed);
        s.panicked.swap(false, Ordering::Relaxed)
    }
}

/// Runs the parts dealt to participant `me` of `participants`: `me`,
/// `me + participants`, ...
fn run_parts(s: &Shared, me: usize, participants: usize, parts: usize) {
    if me >= parts {
        // Nothing dealt: the job may already be over.
        return;
    }
    // SAFETY: part `me` is dealt to this participant and not done until it
    // runs it, so the caller is still waiting and its job is alive.
    let job = unsafe { &*s.job.load(Ordering::Acquire) };
    for i in (me..parts).step_by(participants) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.part)(i)));
        if INSIDE_WORKER.with(std::cell::Cell::get) {
            WORKER_PARTS.fetch_add(1, Ordering::Relaxed);
        }
        if outcome.is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.done.fetch_add(1, Ordering::Release);
    }
}

/// A worker: waits for a generation it is wanted in, takes parts, waits
/// again. `index` is 1 for the first worker.
fn work(s: &Shared, index: usize) {
    INSIDE.with(|inside| inside.set(true));
    INSIDE_WORKER.with(|worker| worker.set(true));
    let mut seen = 0;
    loop {
        let since = Instant::now();
        let (generation, parts, wanted) = loop {
            let (g, parts) = unpack(s.state.load(Ordering::Acquire));
            let wanted = s.wanted.load(Ordering::Relaxed);
            if g != seen && index <= wanted {
                break (g, parts, wanted);
            }
            if g != seen {
                // Not wanted this time.
                seen = g;
            }
            if since.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                s.sleeping.fetch_add(1, Ordering::SeqCst);
                let (g, _) = unpack(s.state.load(Ordering::SeqCst));
                if g == seen {
                    thread::park_timeout(Duration::from_millis(100));
                }
                s.sleeping.fetch_sub(1, Ordering::SeqCst);
            }
        };
        seen = generation;
        run_parts(s, index, wanted + 1, parts as usize);
    }
}
