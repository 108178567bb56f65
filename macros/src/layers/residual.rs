//! `residual[layers...]`: a skip connection, `y = x + layers(x)`.
//!
//! Shape rule: the inner layers must give back the shape they receive, so
//! the sum is defined. Parameters are the inner layers', named
//! `<path>.body.<j>.…` as in a PyTorch module whose `body` is an
//! `nn.Sequential`. The input is read twice (by the block and by the sum),
//! so reverse mode adds the two gradients: the skip's identity and the
//! block's. Nothing here handles gradients.

use super::{At, Family, Layer, LowerCtx, Origin, OverTime, Placed, Resolved, chain};
use crate::errors::Errors;
use crate::ir::expr::{add, var};
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::parse::Call;

pub const KEYWORD: &str = "residual";

pub struct Residual;

impl Family for Residual {
    fn keywords(&self) -> &'static [&'static str] {
        &[KEYWORD]
    }

    fn resolve(
        &self,
        call: &Call,
        input: Option<&[usize]>,
        at: &At,
        errors: &mut Errors,
    ) -> Option<Resolved> {
        let body = read(call, input, at.path, errors)?;
        Resolved::new(ResidualLayer { body }, input.map(<[usize]>::to_vec))
    }
}

/// `y = x + body(x)`.
pub struct ResidualLayer {
    body: Vec<Placed>,
}

fn read(call: &Call, input: Option<&[usize]>, path: &str, errors: &mut Errors) -> Option<Vec<Placed>> {
    if call.paren.is_some() {
        errors.push(call.site(), "`residual` takes its layers in brackets, as in `residual[dense(8), relu]`");
        return None;
    }
    let Some((calls, span)) = &call.block else {
        errors.push(
            call.name.span(),
            "`residual` needs its layers in brackets, as in `residual[dense(8), relu]`",
        );
        return None;
    };
    if calls.is_empty() {
        errors.push(span.join(), "`residual[]` has no layers; it would only double its input");
        return None;
    }
    let (layers, output) = chain(calls, input, false, &format!("{path}.body"), errors);
    if let (Some(inp), Some(out)) = (input, &output)
        && inp != out.as_slice()
    {
        // Blame the last layer that changes the size: nothing after it
        // changes it back.
        let mut before = inp.to_vec();
        let mut culprit = None;
        for layer in &layers {
            if layer.output != before {
                culprit = Some(layer);
            }
            before = layer.output.clone();
        }
        let (site, shown) = match culprit {
            Some(layer) => (layer.site, layer.shown.clone()),
            None => (call.site(), call.display()),
        };
        errors.push(
            site,
            format!(
                "`residual` adds its input ({}) to its output, but `{shown}` makes that output {}",
                show_shape(inp),
                show_shape(out)
            ),
        );
    }
    (layers.len() == calls.len()).then_some(layers)
}

impl Layer for ResidualLayer {
    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, ctx: LowerCtx) -> NodeId {
        let y = self.body.iter().fold(x, |y, layer| layer.lower(g, y, ctx));
        let shape = g.shape(x).clone();
        crate::ops::map::map(g, add(var(0), var(1)), vec![x, y], shape)
    }

    fn lower_planned(&self, g: &mut Graph, x: NodeId, _: &Origin, ctx: LowerCtx) -> NodeId {
        let y = self.body.iter().fold(x, |y, layer| layer.lower_planned(g, y, ctx));
        let shape = g.shape(x).clone();
        crate::ops::map::map(g, add(var(0), var(1)), vec![x, y], shape)
    }

    /// A block of layers that each act on a step alone does too.
    fn over_time(&self) -> OverTime<'_> {
        if self.body.iter().all(|l| matches!(l.layer.over_time(), OverTime::EachStep)) {
            OverTime::EachStep
        } else {
            OverTime::Whole
        }
    }
}
