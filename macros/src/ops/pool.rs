//! `MaxPool(x)` and `AvgPool(x)`: pooling windows over each channel of
//! `[channels, height, width]` values, without padding; 1-D pooling has
//! height 1 and global average pooling one window over the whole plane.
//!
//! Local derivatives: max routes the upstream gradient to the window's
//! maximum (`MaxPoolBack(g, x, y)`, which finds it again from the saved
//! input and output);
//! average spreads it evenly over the window (`AvgPoolBack(g)`).

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use chainrule_spec::Pool2d;
use proc_macro2::TokenStream;
use quote::quote;

/// The geometry's constructor expression, every field by name.
fn tokens(geom: &Pool2d) -> TokenStream {
    let rt = rt();
    let Pool2d { channels, height, width, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w } = *geom;
    quote!(#rt::kernels::Pool2d {
        channels: #channels, height: #height, width: #width, kernel_h: #kernel_h, kernel_w: #kernel_w,
        stride_h: #stride_h, stride_w: #stride_w, out_h: #out_h, out_w: #out_w,
    })
}

/// Adds a max pool (`max = true`) or average pool of `x`; `out_dims` is
/// the per-sample output shape the layer declares.
pub fn pool(g: &mut Graph, x: NodeId, geom: Pool2d, max: bool, out_dims: &[usize]) -> NodeId {
    let op = if max { Op::MaxPool(geom) } else { Op::AvgPool(geom) };
    g.push(op, vec![x], Shape::batched(out_dims))
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId) -> Vec<Option<NodeId>> {
    let x = g.node(id).inputs[0];
    let shape = g.shape(x).clone();
    let dx = match g.node(id).op {
        Op::MaxPool(geom) => g.push(Op::MaxPoolBack(geom), vec![upstream, x, id], shape),
        Op::AvgPool(geom) => g.push(Op::AvgPoolBack(geom), vec![upstream], shape),
        _ => unreachable!("pool::vjp on a pooling"),
    };
    vec![Some(dx)]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let a = ctx.read(node.inputs[0]);
    let (rows, out) = (ctx.rows(), ctx.write(id));
    match node.op {
        Op::MaxPool(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::max_pool2d(&#geom, #rows, #a, #out);)
        }
        Op::AvgPool(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::avg_pool2d(&#geom, #rows, #a, #out);)
        }
        Op::MaxPoolBack(geom) => {
            let (geom, x, y) = (tokens(&geom), ctx.read(node.inputs[1]), ctx.read(node.inputs[2]));
            quote!(#rt::kernels::max_pool2d_back(&#geom, #rows, #a, #x, #y, #out);)
        }
        Op::AvgPoolBack(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::avg_pool2d_back(&#geom, #rows, #a, #out);)
        }
        _ => unreachable!("pool::emit on a pooling"),
    }
}
