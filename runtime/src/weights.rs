//! Weight files: a network's parameters and running statistics as a
//! safetensors file laid out as PyTorch's `state_dict` of the matching
//! module, so weights move both ways.
//!
//! Each tensor of `LAYOUT` and `STATE_LAYOUT` is stored under its name
//! with its shape (`layers.0.weight` `[64, 784]`, `layers.1.running_mean`,
//! `layers.0.weight_ih_l0`), in the network's scalar type. A PyTorch module
//! whose layers sit in an `nn.Sequential` attribute named `layers` has
//! exactly these keys, plus `num_batches_tracked` next to each batch norm's
//! statistics: written here as 0 (it only matters to PyTorch's
//! cumulative-average mode, which chainrule does not have) and ignored when
//! reading.
//!
//! Reading checks every tensor before changing anything: each missing or
//! unexpected tensor, wrong shape or wrong dtype is named in the error
//! (with the likely cause when the layer indices are shifted), and the
//! network is left as it was. The check is `chainrule_spec::tensor_file`,
//! the same the compiler runs on `weights: "file"`.

use crate::{Error, Network, ParamSpec, Result, Scalar};
use chainrule_spec::tensor_file::{self, BATCH_COUNT, Precision};
use safetensors::tensor::{Dtype, TensorView};
use std::path::Path;

/// Writes the parameters and running statistics of `net` to `path` as a
/// safetensors file with PyTorch's `state_dict` names and shapes
/// (atomically: a crash leaves the old file or the new one).
///
/// # Example
/// ```
/// use chainrule::Network;
/// chainrule::network! {
///     struct Net { input: [3], layers: [dense(4), batch_norm, relu, dense(2)], loss: mse }
/// }
/// let dir = std::env::temp_dir().join(format!("chainrule-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("net.safetensors");
/// let trained = Net::new(1);
/// chainrule::weights::save(&trained, &path).unwrap();
/// let mut loaded = Net::new(2);
/// chainrule::weights::load(&mut loaded, &path).unwrap();
/// assert_eq!(loaded.params(), trained.params());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn save<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let fail = |message: String| Error::Weights { path: path.into(), message };
    let dtype = dtype::<N::Scalar>();
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut add = |spec: &ParamSpec, values: &[N::Scalar]| {
        let mut bytes = Vec::new();
        N::Scalar::extend_le(&values[spec.offset..][..spec.len()], &mut bytes);
        tensors.push((spec.name.to_string(), dtype, spec.shape.to_vec(), bytes));
    };
    for spec in N::LAYOUT {
        add(spec, net.params());
    }
    for spec in N::STATE_LAYOUT {
        add(spec, net.state());
    }
    // One batch count per batch norm, as PyTorch's modules carry it.
    for spec in N::STATE_LAYOUT.iter().filter(|s| s.name.ends_with(".running_mean")) {
        let prefix = spec.name.trim_end_matches("running_mean");
        tensors.push((format!("{prefix}{BATCH_COUNT}"), Dtype::I64, vec![], 0i64.to_le_bytes().to_vec()));
    }
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| fail(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| fail(e.to_string()))?;
    crate::train::write_atomically(path, &bytes).map_err(|e| fail(e.to_string()))
}

/// Reads parameters and running statistics from a safetensors file into
/// `net`: one written by [`save`], or a PyTorch `state_dict` of the
/// matching module saved with `safetensors.torch.save_file`. All or
/// nothing: on any error `net` is unchanged.
pub fn load<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
    load_bytes(net, &bytes).map_err(|message| Error::Weights { path: path.into(), message })
}

/// [`load`] from the bytes of a safetensors file; the error is the
/// message, naming every tensor that does not fit.
pub fn load_bytes<N: Network>(net: &mut N, bytes: &[u8]) -> std::result::Result<(), String> {
    let precision = if N::Scalar::DTYPE == "F32" { Precision::F32 } else { Precision::F64 };
    let (params, state) =
        tensor_file::read(bytes, N::LAYOUT, N::STATE_LAYOUT, precision).map_err(|e| e.to_string())?;
    // The tables fix both lengths, so these hold exactly PARAM_LEN and STATE_LEN values.
    let cut = || "the tensors do not fill the network's buffers".to_string();
    let params = N::Scalar::from_le(&params).filter(|p| p.len() == N::PARAM_LEN).ok_or_else(cut)?;
    let state = N::Scalar::from_le(&state).filter(|s| s.len() == N::STATE_LEN).ok_or_else(cut)?;
    net.params_mut().copy_from_slice(&params);
    net.state_mut().copy_from_slice(&state);
    net.relayout();
    Ok(())
}

/// What [`load_partial`] did with each tensor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors read from the file into the network.
    pub loaded: Vec<String>,
    /// Tensors of the file left unused, each with the reason: not part of
    /// this network, or a different shape or element type than its own.
    pub skipped: Vec<(String, String)>,
    /// Tensors of the network the file does not provide (or whose file
    /// tensor was skipped): they keep their values.
    pub missing: Vec<String>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "loaded {} tensors: {}", self.loaded.len(), self.loaded.join(", "))?;
        let skipped: Vec<String> = self.skipped.iter().map(|(n, why)| format!("{n} ({why})")).collect();
        writeln!(f, "skipped {} from the file: {}", self.skipped.len(), skipped.join(", "))?;
        write!(f, "kept {} of the network's own: {}", self.missing.len(), self.missing.join(", "))
    }
}

/// Reads every tensor of the file that fits `net` (same name, shape and
/// element type) and keeps the network's own values for the rest, as
/// PyTorch's `load_state_dict(strict=False)` does for missing and
/// unexpected keys, and also for tensors of another shape (a new head with
/// a different number of classes): the report names each. Transfer
/// learning reads a trained body this way. A damaged file is an error and
/// changes nothing.
///
/// # Example
/// ```
/// use chainrule::{Network, weights};
/// chainrule::network! { struct Ten { input: [4], layers: [dense(8), relu, dense(10)], loss: softmax_cross_entropy } }
/// chainrule::network! { struct Three { input: [4], layers: [dense(8), relu, dense(3)], loss: softmax_cross_entropy } }
/// let path = std::env::temp_dir().join(format!("chainrule-partial-{}.safetensors", std::process::id()));
/// weights::save(&Ten::new(1), &path).unwrap();
/// let mut three = Three::new(2);
/// let report = weights::load_partial(&mut three, &path).unwrap();
/// assert_eq!(report.loaded, ["layers.0.weight", "layers.0.bias"]);
/// assert_eq!(report.missing, ["layers.2.weight", "layers.2.bias"]); // the new head keeps its own
/// assert_eq!(&three.params()[..40], &Ten::new(1).params()[..40]);
/// ```
pub fn load_partial<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<LoadReport> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
    let fail = |message: String| Error::Weights { path: path.into(), message };
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| fail(format!("damaged file: {e}")))?;
    let mut report = LoadReport::default();
    let mut params = net.params().to_vec();
    let mut state = net.state().to_vec();
    let mut used = std::collections::BTreeSet::new();
    for (table, values) in [(N::LAYOUT, &mut params), (N::STATE_LAYOUT, &mut state)] {
        for t in table {
            let Ok(view) = file.tensor(t.name) else {
                report.missing.push(t.name.to_string());
                continue;
            };
            used.insert(t.name);
            let why = if view.shape() != t.shape {
                Some(format!("shape {:?}, this network's is {:?}", view.shape(), t.shape))
            } else if view.dtype() != dtype::<N::Scalar>() {
                Some(format!("{:?} values, this network computes in {}", view.dtype(), N::Scalar::DTYPE))
            } else {
                None
            };
            match (why, N::Scalar::from_le(view.data())) {
                (None, Some(read)) => {
                    values[t.offset..][..t.len()].copy_from_slice(&read);
                    report.loaded.push(t.name.to_string());
                }
                (why, _) => {
                    report
                        .skipped
                        .push((t.name.to_string(), why.unwrap_or_else(|| "unreadable values".into())));
                    report.missing.push(t.name.to_string());
                }
            }
        }
    }
    let mut names = file.names();
    names.sort();
    for name in names.into_iter().filter(|n| !used.contains(n) && !n.ends_with(BATCH_COUNT)) {
        report.skipped.push((name.to_string(), "not part of this network".into()));
    }
    net.params_mut().copy_from_slice(&params);
    net.state_mut().copy_from_slice(&state);
    net.relayout();
    Ok(report)
}

fn dtype<S: Scalar>() -> Dtype {
    if S::DTYPE == "F32" { Dtype::F32 } else { Dtype::F64 }
}
