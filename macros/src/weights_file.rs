//! `weights: "file.safetensors"`: the file read at compile time and
//! checked against the network's parameter table, before anything is
//! emitted. The path is relative to the crate root (`CARGO_MANIFEST_DIR`).
//! The check is `chainrule_spec::tensor_file`, the one
//! `chainrule::weights::load` runs: every tensor that does not fit is named
//! in one error at the path, with the likely cause when the layer indices
//! are shifted.

use crate::ir::{Graph, PlanTensor};
use crate::model::Model;
use chainrule_spec::tensor_file::{self, FileError, Precision};
use std::path::Path;

/// A weights file's values in the network's flat order, as little-endian
/// bytes of its scalar type.
pub struct Baked {
    pub params: Vec<u8>,
    pub state: Vec<u8>,
    /// The inference copy derived from them, as the runtime derives it.
    pub plan: Vec<u8>,
    /// The file, absolute, for the `include_bytes!` that makes cargo
    /// rebuild when it changes.
    pub path: String,
}

/// The file the declaration names, checked against `graph`'s tables, with
/// the inference copy `plans` describes derived from it; `None` without
/// `weights:`.
pub fn read(model: &Model, graph: &Graph, plans: &[PlanTensor]) -> syn::Result<Option<Baked>> {
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
    let plan = match precision {
        Precision::F32 => derive_plan::<f32, 4>(&params, plans, f32::from_le_bytes, f32::to_le_bytes),
        Precision::F64 => derive_plan::<f64, 8>(&params, plans, f64::from_le_bytes, f64::to_le_bytes),
    };
    Ok(Some(Baked { params, state, plan, path: path.to_string_lossy().into_owned() }))
}

/// A quantized weights file (`quantize: int8`), read and checked against
/// the network's int8 steps.
pub struct QuantizedFile {
    pub steps: Vec<crate::int8::Step>,
    pub numbers: chainrule_spec::quant_file::Model,
    /// The file, absolute, as in [`Baked`].
    pub path: String,
}

/// The quantized file of a `quantize: int8` declaration: its int8 steps
/// (an error at the layer int8 cannot run) and the file's numbers, every
/// tensor that does not fit them named.
pub fn read_quantized(model: &Model) -> syn::Result<QuantizedFile> {
    let steps = crate::int8::steps(model).map_err(|why| match why.site {
        Some(site) => site.error(why.message),
        None => syn::Error::new(model.outline.name.span(), why.message),
    })?;
    if *model.scalar() != "f32" {
        let message = "an int8 network reads and returns `f32` values: remove `scalar: f64`";
        return Err(syn::Error::new(model.scalar().span(), message));
    }
    let Some(lit) = &model.weights else {
        return Err(syn::Error::new(model.outline.name.span(), "`quantize: int8` needs `weights:`"));
    };
    let fail =
        |message: String| syn::Error::new(lit.span(), format!("weights file `{}`: {message}", lit.value()));
    let kept: Vec<_> = steps.iter().map(crate::int8::Step::kept).collect();
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let path = Path::new(&root).join(lit.value());
    let bytes = std::fs::read(&path)
        .map_err(|e| fail(format!("cannot read it (paths start at the crate root): {e}")))?;
    let numbers = chainrule_spec::quant_file::read(&bytes, &kept).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("\n  {p}")).collect();
        fail(format!("does not fit this network as int8:{}", lines.concat()))
    })?;
    Ok(QuantizedFile { steps, numbers, path: path.to_string_lossy().into_owned() })
}

/// The inference copy of little-endian parameters, computed in their own
/// type so that it equals, bit for bit, what the runtime derives.
fn derive_plan<T, const N: usize>(
    params: &[u8],
    plans: &[PlanTensor],
    from: fn([u8; N]) -> T,
    to: fn(T) -> [u8; N],
) -> Vec<u8>
where
    T: Copy + Default + std::ops::Add<Output = T>,
{
    let (chunks, _) = params.as_chunks::<N>();
    let values: Vec<T> = chunks.iter().map(|c| from(*c)).collect();
    let len = plans.last().map_or(0, |p| p.offset + p.derivation.len());
    let mut plan = vec![T::default(); len];
    for p in plans {
        chainrule_spec::plan::derive(&p.derivation, &values, &mut plan[p.offset..]);
    }
    plan.into_iter().flat_map(to).collect()
}
