//! `residual[layers...]`: a skip connection, `y = x + layers(x)`.
//!
//! Shape rule: the inner layers must give back the shape they receive, so
//! the sum is defined. Parameters are the inner layers', named
//! `<path>.body.<j>.…` as in a PyTorch module whose `body` is an
//! `nn.Sequential`. The input is read twice (by the block and by the sum),
//! so reverse mode adds the two gradients: the skip's identity and the
//! block's. Nothing here handles gradients.

use super::{Layer, LowerCtx, chain};
use crate::errors::Errors;
use crate::ir::expr::{add, var};
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::parse::Call;

pub const KEYWORD: &str = "residual";

pub fn resolve(call: &Call, input: Option<&[usize]>, path: &str, errors: &mut Errors) -> Option<Vec<Layer>> {
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
    let (layers, output) = chain(calls, input, &format!("{path}.body"), errors);
    if let (Some(inp), Some(out)) = (input, &output)
        && inp != out.as_slice()
    {
        let last = &calls[calls.len() - 1];
        errors.push(
            last.site(),
            format!(
                "`residual` adds its input ({}) to its output, but its last layer `{}` produces {}",
                show_shape(inp),
                last.display(),
                show_shape(out)
            ),
        );
    }
    (layers.len() == calls.len()).then_some(layers)
}

pub fn lower(layers: &[Layer], g: &mut Graph, x: NodeId, ctx: LowerCtx) -> NodeId {
    let mut y = x;
    for layer in layers {
        y = layer.kind.lower(g, y, &layer.path, layer.span, ctx);
    }
    let shape = g.shape(x).clone();
    crate::ops::map::map(g, add(var(0), var(1)), vec![x, y], shape)
}
