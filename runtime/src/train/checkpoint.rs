//! Checkpoints: the whole training state in one safetensors file.
//!
//! Tensors: `params`, `state` (running statistics), `optimizer.<i>` (the
//! optimizer's buffers), `best.params`, `best.state`. Metadata: a checksum
//! of everything else (a damaged file is refused, never half-read), the format,
//! a fingerprint of the network (scalar type, every tensor's name and
//! shape), the epoch, the seeds and random state, the early-stopping
//! counters and the history so far. Floats in metadata are stored as the
//! hexadecimal bits, so a resumed run continues bitwise identically.
//!
//! Writing goes to a temporary file in the same directory, which is synced
//! and then renamed over the target: a crash leaves either the old
//! checkpoint or the new one, never a torn one.

use super::{Best, Trainer};
use crate::optim::Optimizer;
use crate::{Error, Network, Result, Scalar};
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

const FORMAT: &str = "chainrule-checkpoint-2";

/// FNV-1a over every metadata entry but the checksum itself (sorted by key)
/// and every tensor (sorted by name, name and bytes): a flipped bit
/// anywhere a reader would use is caught. Not cryptographic; it detects
/// damage, not tampering.
fn checksum<'a>(
    meta: &HashMap<String, String>,
    tensors: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        hash = (hash ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
    };
    let mut entries: Vec<(&String, &String)> = meta.iter().filter(|(k, _)| *k != "checksum").collect();
    entries.sort();
    for (k, v) in entries {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    let mut tensors: Vec<(&str, &[u8])> = tensors.collect();
    tensors.sort();
    for (name, bytes) in tensors {
        feed(name.as_bytes());
        feed(bytes);
    }
    format!("{hash:016x}")
}

/// Scalar type plus every parameter and state tensor: two networks with the
/// same fingerprint can exchange weights.
pub(crate) fn fingerprint<N: Network>() -> String {
    let tensors = N::LAYOUT.iter().chain(N::STATE_LAYOUT).map(|p| format!("{}{:?}", p.name, p.shape));
    format!("{} {}", N::Scalar::DTYPE, tensors.collect::<Vec<_>>().join(" "))
}

fn bits(v: f64) -> String {
    format!("{:016x}", v.to_bits())
}

fn unbits(s: &str) -> Option<f64> {
    u64::from_str_radix(s, 16).ok().map(f64::from_bits)
}

impl<N: Network, O: Optimizer<N::Scalar>> Trainer<N, O> {
    /// Writes the whole training state of `net` and this trainer to `path`,
    /// atomically.
    pub fn save_checkpoint(&self, net: &N, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| Error::Checkpoint { path: path.into(), message };
        let (steps, buffers) = self.optimizer.state();
        let best = self.best.as_ref();
        let mut tensors: Vec<(String, Vec<u8>, usize)> = Vec::new();
        let mut add = |name: String, values: &[N::Scalar]| {
            let mut bytes = Vec::new();
            N::Scalar::extend_le(values, &mut bytes);
            tensors.push((name, bytes, values.len()));
        };
        add("params".into(), net.params());
        add("state".into(), net.state());
        for (i, b) in buffers.iter().enumerate() {
            add(format!("optimizer.{i}"), b);
        }
        if let Some(b) = best {
            add("best.params".into(), &b.params);
            add("best.state".into(), &b.state);
        }
        let dtype = if N::Scalar::DTYPE == "F32" { Dtype::F32 } else { Dtype::F64 };
        let views = tensors
            .iter()
            .map(|(name, bytes, len)| {
                TensorView::new(dtype, vec![*len], bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| fail(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta: HashMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("network", fingerprint::<N>()),
            ("epoch", self.epoch.to_string()),
            ("seed", self.seed.to_string()),
            ("batch_size", self.batch_size.to_string()),
            ("rng_state", net.rng_state().to_string()),
            ("optimizer_steps", steps.to_string()),
            ("optimizer_buffers", buffers.len().to_string()),
            ("base_lr", self.base_lr.map(bits).unwrap_or_default()),
            ("bad_epochs", self.bad_epochs.to_string()),
            ("best_epoch", best.map(|b| b.epoch.to_string()).unwrap_or_default()),
            ("best_value", best.map(|b| bits(b.value)).unwrap_or_default()),
            ("history_best_epoch", self.history.best_epoch.map(|e| e.to_string()).unwrap_or_default()),
            ("history", self.history.to_csv()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut meta = meta;
        let sum = checksum(&meta, tensors.iter().map(|(name, bytes, _)| (name.as_str(), bytes.as_slice())));
        meta.insert("checksum".into(), sum);
        let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| fail(e.to_string()))?;
        write_atomically(path, &bytes).map_err(|e| fail(e.to_string()))
    }

    /// Restores `net` and this trainer from a checkpoint written by
    /// [`Trainer::save_checkpoint`] for the same kind of network. Nothing is
    /// changed unless the whole file is valid.
    pub fn load_checkpoint(&mut self, net: &mut N, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| Error::Checkpoint { path: path.into(), message };
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| fail(format!("damaged file: {e}")))?;
        let file =
            safetensors::SafeTensors::deserialize(&bytes).map_err(|e| fail(format!("damaged file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get =
            |key: &str| meta.get(key).map(String::as_str).ok_or_else(|| fail(format!("missing `{key}`")));
        let number =
            |key: &str| get(key)?.parse::<u64>().map_err(|_| fail(format!("`{key}` is not a number")));
        if get("format")? != FORMAT {
            return Err(fail(format!("not a chainrule checkpoint (format `{}`)", get("format")?)));
        }
        let stored: Vec<(&str, &[u8])> =
            file.names().into_iter().filter_map(|n| file.tensor(n).ok().map(|t| (n, t.data()))).collect();
        if checksum(&meta, stored.into_iter()) != get("checksum")? {
            return Err(fail("damaged file: its checksum does not match its contents".into()));
        }
        let expected = fingerprint::<N>();
        if get("network")? != expected {
            return Err(fail(format!(
                "written for a different network:\n  file:    {}\n  this one: {expected}",
                get("network")?
            )));
        }
        let tensor = |name: &str, len: usize| -> Result<Vec<N::Scalar>> {
            let view = file.tensor(name).map_err(|_| fail(format!("missing tensor `{name}`")))?;
            let values = N::Scalar::from_le(view.data())
                .ok_or_else(|| fail(format!("tensor `{name}` is cut short")))?;
            if values.len() != len && len != usize::MAX {
                return Err(fail(format!("tensor `{name}` has {} values, expected {len}", values.len())));
            }
            Ok(values)
        };
        let params = tensor("params", N::PARAM_LEN)?;
        let state = tensor("state", N::STATE_LEN)?;
        let buffers: Vec<Vec<N::Scalar>> = (0..number("optimizer_buffers")?)
            .map(|i| tensor(&format!("optimizer.{i}"), usize::MAX))
            .collect::<Result<_>>()?;
        let best = match get("best_epoch")? {
            "" => None,
            epoch => Some(Best {
                epoch: epoch.parse().map_err(|_| fail("`best_epoch` is not a number".into()))?,
                value: unbits(get("best_value")?).ok_or_else(|| fail("bad `best_value`".into()))?,
                params: tensor("best.params", N::PARAM_LEN)?,
                state: tensor("best.state", N::STATE_LEN)?,
            }),
        };
        let records =
            super::History::records_from_csv(get("history")?).ok_or_else(|| fail("bad `history`".into()))?;
        let base_lr = match get("base_lr")? {
            "" => None,
            b => Some(unbits(b).ok_or_else(|| fail("bad `base_lr`".into()))?),
        };
        let history_best = match get("history_best_epoch")? {
            "" => None,
            e => Some(e.parse().map_err(|_| fail("bad `history_best_epoch`".into()))?),
        };
        if number("batch_size")? != self.batch_size as u64 {
            return Err(fail(format!(
                "written by a trainer with batch size {}, this one uses {}; a resumed run must use the same",
                number("batch_size")?,
                self.batch_size
            )));
        }
        let (epoch, seed, rng, steps, bad) = (
            number("epoch")?,
            number("seed")?,
            number("rng_state")?,
            number("optimizer_steps")?,
            number("bad_epochs")?,
        );
        // Everything parsed: apply.
        let views: Vec<&[N::Scalar]> = buffers.iter().map(Vec::as_slice).collect();
        self.optimizer.set_state(steps, &views).map_err(|e| fail(e.to_string()))?;
        net.params_mut().copy_from_slice(&params);
        net.state_mut().copy_from_slice(&state);
        net.relayout();
        net.set_rng_state(rng);
        self.epoch = epoch as usize;
        self.seed = seed;
        self.base_lr = base_lr;
        self.bad_epochs = bad as usize;
        self.best = best;
        self.history.epochs = records;
        self.history.best_epoch = history_best;
        self.history.stopped_early = false;
        self.history.stopped_by_callback = false;
        Ok(())
    }
}

/// Temporary file, sync, rename: readers see the old file or the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
