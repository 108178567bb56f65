//! A weights file checked against a network's tensor tables, the same way
//! whether the compiler bakes it in (`weights: "file"`) or the runtime loads
//! it (`chainrule::weights::load`).
//!
//! The file is safetensors, laid out as PyTorch's `state_dict` of the
//! matching module: each tensor of the tables under its name, with its
//! shape, in the network's scalar type. PyTorch's `num_batches_tracked`
//! (next to each batch norm's statistics) is allowed and ignored. Every
//! mismatch is reported, not just the first, and when the file's layer
//! indices are off by one from the network's, the message says so: the
//! usual cause is a layer added to or removed from the declaration.

use crate::ParamSpec;
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;
use std::collections::BTreeMap;
use std::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

/// PyTorch's batch-count buffer of a batch norm, which has no counterpart
/// in chainrule: written as 0, ignored when read.
pub const BATCH_COUNT: &str = "num_batches_tracked";

/// A tensor a network expects.
pub trait Expected {
    /// Its `state_dict` name.
    fn name(&self) -> &str;
    /// Its dimensions.
    fn shape(&self) -> &[usize];
    /// Its first element in the flat buffer.
    fn offset(&self) -> usize;
}

impl Expected for ParamSpec {
    fn name(&self) -> &str {
        self.name
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn offset(&self) -> usize {
        self.offset
    }
}

/// The element type a network computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl Precision {
    fn dtype(self) -> Dtype {
        match self {
            Precision::F32 => Dtype::F32,
            Precision::F64 => Dtype::F64,
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F64 => 8,
        }
    }
}

/// One way a file's tensor differs from what the network expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The network has the tensor; the file does not.
    Missing(String),
    /// The file has the tensor; the network does not.
    Unexpected(String),
    /// Both have it, with different shapes.
    Shape {
        /// The tensor.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// Its shape in the network.
        expected: Vec<usize>,
    },
    /// Both have it, in different element types.
    Dtype {
        /// The tensor.
        name: String,
        /// Its type in the file, as safetensors names it (`F64`).
        found: String,
        /// The network's.
        expected: Precision,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Missing(name) => write!(f, "tensor `{name}` is missing"),
            Mismatch::Unexpected(name) => write!(f, "tensor `{name}` is not part of this network"),
            Mismatch::Shape { name, found, expected } => {
                write!(f, "tensor `{name}` has shape {found:?}, this network needs {expected:?}")
            }
            Mismatch::Dtype { name, found, expected } => write!(
                f,
                "tensor `{name}` holds {found}, this network computes in {expected:?} (convert the model \
                 first, as with PyTorch's `.float()` or `.double()`)"
            ),
        }
    }
}

/// The file's layer indices against the network's: the file's `layers.<from>`
/// onward fit the network's `layers.<from + by>` onward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    /// The file's first shifted index.
    pub from: usize,
    /// +1: the network has a layer the file lacks; -1: the other way round.
    pub by: isize,
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = self.from as isize + self.by;
        write!(
            f,
            "likely cause: the file's tensors from `layers.{}` on fit this network's from `layers.{to}` on, so ",
            self.from
        )?;
        if self.by > 0 {
            write!(f, "a layer was added to the declaration before this network's `layers.{to}`")?;
        } else {
            write!(f, "a layer was removed from the declaration before the file's `layers.{}`", self.from)?;
        }
        f.write_str(" (indices count every layer, activations too)")
    }
}

/// Why a file cannot be read into a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Not a readable safetensors file.
    Damaged(String),
    /// Readable, but its tensors do not fit: every mismatch, in name order,
    /// and the index shift that would explain them, if one does.
    Mismatched(Vec<Mismatch>, Option<Shift>),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Damaged(why) => write!(f, "damaged file: {why}"),
            FileError::Mismatched(all, shift) => {
                let lines: Vec<String> = all.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("; "))?;
                match shift {
                    Some(shift) => write!(f, "; {shift}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The values of the file's tensors as little-endian bytes in the flat
/// order of `params` and of `states` (each table's tensors at their
/// offsets), or every reason the file does not fit.
pub fn read<T: Expected>(
    bytes: &[u8],
    params: &[T],
    states: &[T],
    precision: Precision,
) -> Result<(Vec<u8>, Vec<u8>), FileError> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| FileError::Damaged(e.to_string()))?;
    let expected: BTreeMap<&str, &[usize]> =
        params.iter().chain(states).map(|t| (t.name(), t.shape())).collect();
    let mut mismatches = Vec::new();
    let mut names = file.names();
    names.sort();
    for name in &names {
        if !expected.contains_key(name) && !name.ends_with(BATCH_COUNT) {
            mismatches.push(Mismatch::Unexpected(name.to_string()));
        }
    }
    let mut flat = |table: &[T]| {
        let len = table.iter().map(|t| t.offset() + t.shape().iter().product::<usize>()).max().unwrap_or(0);
        let mut out = std::vec![0u8; len * precision.size()];
        for t in table {
            let Ok(view) = file.tensor(t.name()) else {
                mismatches.push(Mismatch::Missing(t.name().to_string()));
                continue;
            };
            if view.shape() != t.shape() {
                mismatches.push(Mismatch::Shape {
                    name: t.name().to_string(),
                    found: view.shape().to_vec(),
                    expected: t.shape().to_vec(),
                });
            } else if view.dtype() != precision.dtype() {
                mismatches.push(Mismatch::Dtype {
                    name: t.name().to_string(),
                    found: std::format!("{:?}", view.dtype()),
                    expected: precision,
                });
            } else {
                // safetensors checked that the data holds shape x dtype bytes.
                out[t.offset() * precision.size()..][..view.data().len()].copy_from_slice(view.data());
            }
        }
        out
    };
    let (params, states) = (flat(params), flat(states));
    if mismatches.is_empty() {
        return Ok((params, states));
    }
    mismatches.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    let shapes: Vec<(String, Vec<usize>)> = names
        .iter()
        .filter_map(|n| file.tensor(n).ok().map(|v| (n.to_string(), v.shape().to_vec())))
        .collect();
    let found: BTreeMap<&str, &[usize]> = shapes.iter().map(|(n, s)| (n.as_str(), s.as_slice())).collect();
    let shift = shift(&mismatches, &found, &expected);
    Err(FileError::Mismatched(mismatches, shift))
}

fn name_of(m: &Mismatch) -> &str {
    match m {
        Mismatch::Missing(n) | Mismatch::Unexpected(n) => n,
        Mismatch::Shape { name, .. } | Mismatch::Dtype { name, .. } => name,
    }
}

/// `layers.<i>.<rest>` split into `i` and `rest`.
fn layer_index(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("layers.")?;
    let (index, rest) = rest.split_once('.')?;
    Some((index.parse().ok()?, rest))
}

/// The shift of layer indices that explains most of the file's mismatched
/// tensors (unexpected, or present with the wrong shape): each one, with
/// its index moved by the shift, is a tensor of the network of the same
/// shape. `None` unless one shift explains at least half of them.
fn shift(
    mismatches: &[Mismatch],
    found: &BTreeMap<&str, &[usize]>,
    expected: &BTreeMap<&str, &[usize]>,
) -> Option<Shift> {
    let in_file: Vec<&str> = mismatches
        .iter()
        .filter(|m| matches!(m, Mismatch::Unexpected(_) | Mismatch::Shape { .. }))
        .map(name_of)
        .collect();
    if in_file.is_empty() {
        return None;
    }
    [1isize, -1]
        .into_iter()
        .filter_map(|by| {
            let explained: Vec<usize> = in_file
                .iter()
                .filter_map(|name| {
                    let (index, rest) = layer_index(name)?;
                    let moved = std::format!("layers.{}.{rest}", index.checked_add_signed(by)?);
                    (expected.get(moved.as_str()) == found.get(name)).then_some(index)
                })
                .collect();
            let from = *explained.iter().min()?;
            (2 * explained.len() >= in_file.len()).then_some((explained.len(), Shift { from, by }))
        })
        .max_by_key(|&(count, _)| count)
        .map(|(_, shift)| shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;
    use std::vec;

    fn spec(name: &'static str, offset: usize, shape: &'static [usize]) -> ParamSpec {
        ParamSpec { name, offset, shape, role: crate::Role::Weight, init: crate::Init::Zeros }
    }

    /// A file whose tensors count up byte by byte.
    fn file(tensors: &[(&str, Dtype, Vec<usize>)]) -> Vec<u8> {
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, dtype, shape)| {
                let size = if matches!(dtype, Dtype::F64 | Dtype::I64) { 8 } else { 4 };
                (0..shape.iter().product::<usize>() * size).map(|i| i as u8).collect()
            })
            .collect();
        let views = tensors.iter().zip(&data).map(|((name, dtype, shape), bytes)| {
            (*name, TensorView::new(*dtype, shape.clone(), bytes).unwrap())
        });
        safetensors::serialize(views, None).unwrap()
    }

    fn mismatches(bytes: &[u8], table: &[ParamSpec]) -> (Vec<String>, Option<Shift>) {
        match read(bytes, table, &[], Precision::F32) {
            Err(FileError::Mismatched(all, shift)) => (all.iter().map(ToString::to_string).collect(), shift),
            other => panic!("expected mismatches, got {other:?}"),
        }
    }

    #[test]
    fn values_land_at_their_offsets() {
        let table = [spec("a.weight", 0, &[2, 1]), spec("a.bias", 2, &[2])];
        let bytes = file(&[("a.bias", Dtype::F32, vec![2]), ("a.weight", Dtype::F32, vec![2, 1])]);
        let (flat, state) = read(&bytes, &table, &[], Precision::F32).unwrap();
        let counting: Vec<u8> = (0..8).collect();
        assert_eq!((&flat[..8], &flat[8..]), (&counting[..], &counting[..]), "weight, then bias");
        assert!(state.is_empty());
    }

    #[test]
    fn every_mismatch_is_named_at_once() {
        let table = [spec("a.weight", 0, &[2, 1]), spec("b.weight", 2, &[3]), spec("c.weight", 5, &[1])];
        let bytes = file(&[
            ("a.weight", Dtype::F32, vec![1, 2]),
            ("b.weight", Dtype::F64, vec![3]),
            ("d.weight", Dtype::F32, vec![1]),
            ("e.num_batches_tracked", Dtype::I64, vec![]),
        ]);
        let (all, shift) = mismatches(&bytes, &table);
        assert_eq!(
            all,
            [
                "tensor `a.weight` has shape [1, 2], this network needs [2, 1]",
                "tensor `b.weight` holds F64, this network computes in F32 (convert the model first, as with \
                 PyTorch's `.float()` or `.double()`)",
                "tensor `c.weight` is missing",
                "tensor `d.weight` is not part of this network",
            ]
        );
        assert_eq!(shift, None);
        assert!(matches!(read(b"not a file", &table, &[], Precision::F32), Err(FileError::Damaged(_))));
    }

    /// The network has a layer at index 1 that the file lacks: the file's
    /// `layers.1` and `layers.3` are the network's `layers.2` and `layers.4`.
    #[test]
    fn an_added_layer_is_named_as_the_likely_cause() {
        let table = [
            spec("layers.0.weight", 0, &[4, 2]),
            spec("layers.1.weight", 8, &[4, 4]),
            spec("layers.2.weight", 24, &[3, 4]),
            spec("layers.4.weight", 36, &[1, 3]),
        ];
        let bytes = file(&[
            ("layers.0.weight", Dtype::F32, vec![4, 2]),
            ("layers.1.weight", Dtype::F32, vec![3, 4]),
            ("layers.3.weight", Dtype::F32, vec![1, 3]),
        ]);
        let (all, shift) = mismatches(&bytes, &table);
        assert_eq!(all.len(), 4, "{all:?}");
        assert_eq!(shift, Some(Shift { from: 1, by: 1 }));
        let text = shift.unwrap().to_string();
        assert!(
            text.contains("a layer was added to the declaration before this network's `layers.2`"),
            "{text}"
        );
    }

    #[test]
    fn a_removed_layer_is_named_as_the_likely_cause() {
        let table = [spec("layers.0.weight", 0, &[4, 2]), spec("layers.2.weight", 8, &[1, 4])];
        let bytes = file(&[
            ("layers.0.weight", Dtype::F32, vec![4, 2]),
            ("layers.2.weight", Dtype::F32, vec![4, 4]),
            ("layers.3.weight", Dtype::F32, vec![1, 4]),
        ]);
        let (_, shift) = mismatches(&bytes, &table);
        assert_eq!(shift, Some(Shift { from: 3, by: -1 }));
        assert!(
            shift.unwrap().to_string().contains("removed from the declaration before the file's `layers.3`")
        );
    }
}
