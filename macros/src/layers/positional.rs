//! `positional_embedding`: a learned vector added to each step of a
//! `[t, d]` sequence, the step's position embedded, as a transformer adds
//! `nn.Embedding(t, d)(arange(t))` to its token embeddings.
//!
//! Shape rule: `[t, d]` unchanged. Parameter: `<path>.weight` `[t, d]`,
//! row `i` the vector of position `i`, drawn from `N(0, 1)` as PyTorch's
//! `Embedding`; laid out as that `Embedding`'s weight, so it exchanges with
//! it. Lowers to one map reading the table once per sample.

use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::expr::{add, var};
use crate::ir::{Graph, Init, NodeId, Read, Role};
use crate::ops;
use crate::parse::Call;

pub struct Positional;

impl Family for Positional {
    fn keywords(&self) -> &'static [&'static str] {
        &["positional_embedding"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("PositionEmbedding", "positional_embedding"), ("PositionalEmbedding", "positional_embedding")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        if call.paren.is_some() {
            args::positional(call, 0, "positional_embedding", errors)?;
        }
        match input {
            Some(&[t, d]) => {
                super::check_size(&[t, d], call, errors)?;
                Resolved::new(PositionalEmbedding, Some(vec![t, d]))
            }
            Some(dims) => {
                errors.push(
                    call.site(),
                    format!(
                        "`positional_embedding` reads a sequence `[time, features]` but its input is {}",
                        crate::model::show_shape(dims)
                    ),
                );
                None
            }
            None => Resolved::new(PositionalEmbedding, None),
        }
    }
}

pub struct PositionalEmbedding;

impl Layer for PositionalEmbedding {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, _: LowerCtx) -> NodeId {
        let shape = g.shape(x).clone();
        let weight = g.param(
            format!("{}.weight", origin.path),
            &shape.dims,
            Role::Weight,
            Init::StandardNormal,
            origin.span,
        );
        ops::map::map_with(g, add(var(0), var(1)), vec![(x, Read::Same), (weight, Read::PerFeature)], shape)
    }
}
