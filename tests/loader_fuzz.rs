//! Damaged and hostile files: weight files, checkpoints, CSV and IDX data,
//! each taken from a real file and mutated (truncated, bytes flipped,
//! inserted or deleted, the header targeted), must load or fail with an
//! error: never panic, never leave a network half-loaded, and never
//! allocate more than the file could justify. A seeded generator makes every
//! run the same; `CHAINRULE_FUZZ_ITERATIONS` runs longer (CI keeps it
//! short), `CHAINRULE_FUZZ_SEED` picks another sequence.

use chainrule::data::{self, Split};
use chainrule::optim::Adam;
use chainrule::{Network, Trainer, weights};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Records the largest single allocation of this thread.
struct Largest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

chainrule::network! {
    struct Net { input: [6], layers: [dense(8), batch_norm, relu, dense(3)], loss: mse }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        chainrule::kernels::next_u64(&mut self.0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits, often in the first 64 bytes (the headers).
fn mutate(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for _ in 0..1 + rng.below(4) {
        let span = if rng.below(2) == 0 { bytes.len().min(64) } else { bytes.len() };
        let at = rng.below(span);
        match rng.below(5) {
            0 => bytes.truncate(at),
            1 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << rng.below(8);
            }
            2 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] = [0, 0xff, 0x7f, 0x80][rng.below(4)];
            }
            3 => bytes.insert(at.min(bytes.len()), rng.next() as u8),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

fn iterations() -> usize {
    std::env::var("CHAINRULE_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

fn rng() -> Rng {
    Rng(std::env::var("CHAINRULE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(7))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `load` on mutations of `original`: no panic, and no allocation
/// beyond `limit(len)` for a file of `len` bytes.
fn fuzz(name: &str, original: &[u8], limit: impl Fn(usize) -> usize, mut load: impl FnMut(&[u8])) {
    let mut rng = rng();
    for _ in 0..iterations() {
        let bytes = mutate(original, &mut rng);
        LARGEST.with(|l| l.set(0));
        let outcome = catch_unwind(AssertUnwindSafe(|| load(&bytes)));
        let largest = LARGEST.with(Cell::get);
        assert!(outcome.is_ok(), "{name}: panicked on a mutated file of {} bytes", bytes.len());
        assert!(
            largest <= limit(bytes.len()),
            "{name}: allocated {largest} bytes for a file of {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn weight_files() {
    let original = std::fs::read("tests/fixtures/weights/dense.safetensors").unwrap();
    let mut net = Net::new(1);
    // Compared as bits: a loaded value may be NaN.
    let bits = |net: &Net| net.params().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let mut before = bits(&net);
    // A flipped bit inside a value loads (the format has no checksum, nor
    // does PyTorch's); what must never happen is a failed load changing
    // the network.
    fuzz(
        "weights",
        &original,
        |len| 4 * len + 4096,
        |bytes| match weights::load_bytes(&mut net, bytes) {
            Ok(()) => before = bits(&net),
            Err(_) => assert_eq!(bits(&net), before, "a failed load changed the network"),
        },
    );
}

#[test]
fn checkpoints() {
    let dir = scratch("checkpoint");
    let (path, damaged) = (dir.join("good.ckpt"), dir.join("damaged.ckpt"));
    let mut net = Net::new(2);
    let mut trainer = Trainer::new(Adam::new(1e-3), 4, 3);
    let inputs = vec![[0.5f32; 6]; 8];
    let targets = vec![[0.1f32; 3]; 8];
    trainer.step(&mut net, &inputs, &targets).unwrap();
    trainer.save_checkpoint(&net, &path).unwrap();
    let original = std::fs::read(&path).unwrap();
    let before = net.params().to_vec();
    // Checkpoints carry a checksum: every damaged one is refused.
    fuzz(
        "checkpoint",
        &original,
        |len| 8 * len + 65536,
        |bytes| {
            std::fs::write(&damaged, bytes).unwrap();
            if bytes != original {
                assert!(trainer.load_checkpoint(&mut net, &damaged).is_err(), "a damaged checkpoint loaded");
                assert_eq!(net.params(), &before[..], "a failed load changed the network");
            }
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The first 200 rows of the digits CSV, as text and gzipped (the gzip
/// stream fails its checksum when damaged; the text reaches the parser).
#[test]
fn csv_tables() {
    let dir = scratch("csv");
    let damaged = dir.join("damaged.csv");
    let full = data::read_maybe_gzip(Path::new("data/digits/digits.csv.gz")).unwrap();
    let text: Vec<u8> =
        String::from_utf8(full).unwrap().lines().take(200).collect::<Vec<_>>().join("\n").into();
    fuzz(
        "csv",
        &text,
        |len| 64 * len + 65536,
        |bytes| {
            std::fs::write(&damaged, bytes).unwrap();
            if let Ok(table) = data::read_csv(&damaged, 0) {
                let _ = table.classification::<f32, 64>();
            }
        },
    );
    let gz = std::fs::read("data/digits/digits.csv.gz").unwrap();
    fuzz(
        "csv.gz",
        &gz[..gz.len().min(4096)],
        |_| 1 << 31,
        |bytes| {
            std::fs::write(&damaged, bytes).unwrap();
            let _ = data::read_csv(&damaged, 0);
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small IDX image file and a label file: hostile dimensions must be
/// caught before anything is allocated from them.
#[test]
fn idx_files() {
    let dir = scratch("idx");
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28];
    images.extend((0..4 * 784).map(|i| (i % 251) as u8));
    let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 4];
    labels.extend([3, 1, 4, 1]);
    std::fs::write(dir.join("train-labels-idx1-ubyte"), &labels).unwrap();
    let damaged = dir.join("train-images-idx3-ubyte");
    fuzz(
        "idx",
        &images,
        |len| 4 * len + 65536,
        |bytes| {
            let _ = data::parse_idx(bytes, Path::new("fuzzed"));
            std::fs::write(&damaged, bytes).unwrap();
            let _ = data::mnist::<f32>(&dir, Split::Train);
        },
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
