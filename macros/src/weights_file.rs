//! `weights: "file.safetensors"`: the file read at compile time and
//! checked against the network's parameter table, before anything is
//! emitted. The path is relative to the crate root (`CARGO_MANIFEST_DIR`).
//! The check is `chainrule_spec::tensor_file`, the one
//! `chainrule::weights::load` runs: every tensor that does not fit is named
//! in one error at the path, with the likely cause when the layer indices
//! are shifted.

use crate::ir::Graph;
use crate::model::Model;
use chainrule_spec::tensor_file::{self, FileError, Precision};
use std::path::Path;

/// A weights file's values in the network's flat order, as little-endian
/// bytes of its scalar type.
pub struct Baked {
    pub params: Vec<u8>,
    pub state: Vec<u8>,
    /// The file, absolute, for the `include_bytes!` that makes cargo
    /// rebuild when it changes.
    pub path: String,
}

/// The file the declaration names, checked against `graph`'s tables, or
/// `None` without `weights:`.
pub fn read(model: &Model, graph: &Graph) -> syn::Result<Option<Baked>> {
    let Some(lit) = &model.weights else { return Ok(None) };
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = Path::new(&root).join(lit.value());
    let fail =
        |message: String| syn::Error::new(lit.span(), format!("weights file `{}`: {message}", lit.value()));
    // The message leaves the crate root out: it is the same for everyone.
    let bytes = std::fs::read(&path)
        .map_err(|e| fail(format!("cannot read it (paths start at the crate root): {e}")))?;
    let precision = if *model.scalar() == "f64" { Precision::F64 } else { Precision::F32 };
    let (params, state) =
        tensor_file::read(&bytes, &graph.params, &graph.states, precision).map_err(|e| match e {
            // One line per tensor, all of them, and the likely cause.
            FileError::Mismatched(all, shift) => {
                let mut lines: Vec<String> = all.iter().map(|m| format!("\n  {m}")).collect();
                lines.extend(shift.map(|s| format!("\n  {s}")));
                fail(format!("does not fit this network:{}", lines.concat()))
            }
            damaged => fail(damaged.to_string()),
        })?;
    Ok(Some(Baked { params, state, path: path.to_string_lossy().into_owned() }))
}
