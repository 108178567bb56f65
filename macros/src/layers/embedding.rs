//! `embedding(vocab, dim)`: token ids to learned vectors, as PyTorch's
//! `nn.Embedding(vocab, dim)`.
//!
//! Shape rule: `[n]` token ids per sample (the input, declared `[u32; n]`)
//! to `[n, dim]`, a sequence the layers after it read step by step.
//! Parameter: `<path>.weight`, `[vocab, dim]`, drawn from `N(0, 1)` as
//! PyTorch draws it. It reads token ids alone, and only it reads them.
//!
//! Out-of-range ids: training and batched inference (`loss`,
//! `loss_and_grad`, `train_step`, `predict_batch`) check every id first
//! and return `Error::TokenOutOfRange`, changing nothing; batch-1
//! `predict`, which has no error to return, reads a row of zeros for such
//! an id (as for padding) and never memory outside the table.

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Resolved};
use crate::args;
use crate::errors::Errors;
use crate::ir::{Graph, Init, NodeId, Role};
use crate::ops;
use crate::parse::Call;

pub const KEYWORD: &str = "embedding";

pub struct Embeddings;

impl Family for Embeddings {
    fn keywords(&self) -> &'static [&'static str] {
        &[KEYWORD]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Embedding", KEYWORD)]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let usage = "embedding(vocab, dim)";
        let [vocab, dim] = args::positional(call, 2, usage, errors)? else { return None };
        let size = |arg: &crate::parse::Arg, what: &str, errors: &mut Errors| match args::whole(&arg.value) {
            Ok(0) => {
                errors.push(arg.site(), format!("`embedding` needs at least 1 {what}, found 0"));
                None
            }
            Ok(n) => Some(n as usize),
            Err(message) => {
                errors.push(arg.site(), message);
                None
            }
        };
        let (vocab, dim) =
            (size(vocab, "token in its vocabulary", errors), size(dim, "value per token", errors));
        let (vocab, dim) = (vocab?, dim?);
        super::check_size(&[vocab, dim], call, errors)?;
        // Token ids have one axis; another shape was reported at the input.
        let output = match input {
            Some(&[n]) => Some(vec![n, dim]),
            _ => None,
        };
        Resolved::new(Embedding { vocab, dim }, output)
    }
}

pub struct Embedding {
    vocab: usize,
    dim: usize,
}

impl Layer for Embedding {
    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, _: LowerCtx) -> NodeId {
        let weight = g.param(
            format!("{}.weight", origin.path),
            &[self.vocab, self.dim],
            Role::Weight,
            Init::StandardNormal,
            origin.span,
        );
        ops::embedding::embedding(g, x, weight)
    }

    fn over_time(&self) -> OverTime<'_> {
        OverTime::EachStep
    }
}
