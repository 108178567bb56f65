//! A training process killed at any moment, even in the middle of writing
//! a checkpoint, leaves the last complete checkpoint readable (they are
//! written to a temporary file, synced, then renamed over the old one), and
//! a run resumed from it ends bitwise where an uninterrupted run ends.
//!
//! The killed process is this test binary itself, run as `writer` (an
//! ignored test that only works with `CHAINRULE_KILL_TARGET` set): it
//! trains and checkpoints every epoch until the parent kills it.

use chainrule::optim::Adam;
use chainrule::train::{FitConfig, Progress};
use chainrule::{Dataset, Network, Trainer, data};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

chainrule::network! {
    /// Wide enough that a checkpoint (weights, running statistics, Adam's
    /// two buffers, the best weights) takes a while to write.
    struct Wide { input: [64], layers: [dense(256), tanh, batch_norm, dense(10)], loss: softmax_cross_entropy }
}

fn digits() -> Dataset<[f32; 64], usize> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv.gz");
    let mut all = data::read_csv(path, 0).unwrap().classification::<f32, 64>().unwrap();
    all.map_inputs(|x| x.iter_mut().for_each(|v| *v /= 16.0));
    all.split(0.5, 3).unwrap().0
}

fn config(epochs: usize) -> FitConfig {
    FitConfig::epochs(epochs).progress(Progress::Silent)
}

fn fresh() -> (Wide, Trainer<Wide, Adam<f32>>) {
    (Wide::new(21), Trainer::new(Adam::new(1e-3), 16, 22))
}

#[test]
#[ignore = "the process the other test kills"]
fn writer() {
    let Some(path) = std::env::var_os("CHAINRULE_KILL_TARGET") else { return };
    let (mut net, mut trainer) = fresh();
    trainer.fit(&mut net, &digits(), None, &config(100_000).checkpoint(Path::new(&path))).unwrap();
}

#[test]
fn a_killed_writer_leaves_a_checkpoint_that_resumes_bitwise() {
    let dir = std::env::temp_dir().join(format!("chainrule-killed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt");
    let mut loaded_epochs = Vec::new();
    for round in 0..6u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "writer", "--test-threads=1", "--quiet"])
            .env("CHAINRULE_KILL_TARGET", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Staggered so the kills land at different points of the writes.
        std::thread::sleep(Duration::from_millis(300 + 137 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        if path.exists() {
            let (mut net, mut trainer) = fresh();
            trainer.load_checkpoint(&mut net, &path).expect("the last checkpoint is complete");
            loaded_epochs.push(trainer.epoch());
        }
    }
    let last = *loaded_epochs.last().expect("the writer got at least one checkpoint out");
    assert!(last > 0);
    // Resumed from the last checkpoint two epochs further, against two
    // more epochs of an uninterrupted run.
    let train = digits();
    let (mut resumed, mut trainer) = fresh();
    trainer.load_checkpoint(&mut resumed, &path).unwrap();
    trainer.fit(&mut resumed, &train, None, &config(last + 2)).unwrap();
    let (mut straight, mut reference) = fresh();
    reference.fit(&mut straight, &train, None, &config(last + 2)).unwrap();
    assert_eq!(straight.params(), resumed.params());
    assert_eq!(straight.state(), resumed.state());
    std::fs::remove_dir_all(&dir).unwrap();
}
