//! `MaxPool(x)` and `AvgPool(x)`: pooling windows over each channel of
//! `[channels, height, width]` values, without padding; 1-D pooling has
//! height 1 and global average pooling one window over the whole plane.
//!
//! Local derivatives: max routes the upstream gradient to the window's
//! maximum (`MaxPoolBack(g, x, y)`, which finds it again from the saved
//! input and output: the first maximum in row-major order); average
//! spreads it evenly over the window (`AvgPoolBack(g)`).

use super::{Derivative, Rules, always};
use crate::codegen::{Ctx, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use chainrule_spec::Pool2d;
use proc_macro2::TokenStream;
use quote::quote;

pub const MAX_POOL: Rules = Rules {
    name: "max_pool",
    forward: "window maxima `y`",
    derivative: Derivative::Vjp {
        formula: "`max_pool_back(g, x, y)`: `g` to each window's (first) maximum",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const MAX_POOL_BACK: Rules = Rules {
    name: "max_pool_back",
    forward: "`g` routed to each window's maximum",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const AVG_POOL: Rules = Rules {
    name: "avg_pool",
    forward: "window means",
    derivative: Derivative::Vjp {
        formula: "`avg_pool_back(g)`: `g / window` to every element of the window",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const AVG_POOL_BACK: Rules = Rules {
    name: "avg_pool_back",
    forward: "`g / window` spread over each window",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};

/// Adds a max pool (`max = true`) or average pool of `x`; `out_dims` is
/// the per-sample output shape the layer declares.
pub fn pool(g: &mut Graph, x: NodeId, geom: Pool2d, max: bool, out_dims: &[usize]) -> NodeId {
    let op = if max { Op::MaxPool(geom) } else { Op::AvgPool(geom) };
    g.push(op, vec![x], Shape::batched(out_dims))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, _: &[bool]) -> Vec<Option<NodeId>> {
    let x = g.node(id).inputs[0];
    let shape = g.shape(x).clone();
    let dx = match g.node(id).op {
        Op::MaxPool(geom) => g.push(Op::MaxPoolBack(geom), vec![upstream, x, id], shape),
        Op::AvgPool(geom) => g.push(Op::AvgPoolBack(geom), vec![upstream], shape),
        _ => unreachable!("pool::vjp on a pooling"),
    };
    vec![Some(dx)]
}

/// The geometry's constructor expression, every field by name.
pub fn tokens(geom: &Pool2d) -> TokenStream {
    let rt = rt();
    let Pool2d { channels, height, width, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w } = *geom;
    quote!(#rt::kernels::Pool2d {
        channels: #channels, height: #height, width: #width, kernel_h: #kernel_h, kernel_w: #kernel_w,
        stride_h: #stride_h, stride_w: #stride_w, out_h: #out_h, out_w: #out_w,
    })
}

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let a = ctx.read(node.inputs[0]);
    let (rows, out) = (ctx.rows(), ctx.write(id));
    match &node.op {
        Op::MaxPool(geom) => {
            let geom = tokens(geom);
            quote!(#rt::kernels::max_pool2d(&#geom, #rows, #a, #out);)
        }
        Op::AvgPool(geom) => {
            let geom = tokens(geom);
            quote!(#rt::kernels::avg_pool2d(&#geom, #rows, #a, #out);)
        }
        Op::MaxPoolBack(geom) => {
            let (geom, x, y) = (tokens(geom), ctx.read(node.inputs[1]), ctx.read(node.inputs[2]));
            quote!(#rt::kernels::max_pool2d_back(&#geom, #rows, #a, #x, #y, #out);)
        }
        Op::AvgPoolBack(geom) => {
            let geom = tokens(geom);
            quote!(#rt::kernels::avg_pool2d_back(&#geom, #rows, #a, #out);)
        }
        _ => unreachable!("pool::emit on a pooling"),
    }
}

/// For every window of every plane: its output index and its elements'
/// input indices, in row-major order.
#[cfg(test)]
fn windows(p: &Pool2d, batch: usize) -> Vec<(usize, Vec<usize>)> {
    let mut all = Vec::new();
    for plane in 0..batch * p.channels {
        for (oy, ox) in (0..p.out_h).flat_map(|oy| (0..p.out_w).map(move |ox| (oy, ox))) {
            let origin = plane * p.height * p.width + p.origin(oy, ox);
            let taps =
                (0..p.kernel_h).flat_map(|ki| (0..p.kernel_w).map(move |kj| origin + ki * p.width + kj));
            all.push(((plane * p.out_h + oy) * p.out_w + ox, taps.collect()));
        }
    }
    all
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let a = v.of(node.inputs[0]);
    let mut out = vec![0.0; v.samples(&node.shape) * node.shape.len()];
    match &node.op {
        Op::MaxPool(p) => windows(p, v.batch).into_iter().for_each(|(o, taps)| {
            out[o] = taps.iter().map(|&t| a[t]).fold(f64::NEG_INFINITY, f64::max);
        }),
        Op::AvgPool(p) => windows(p, v.batch).into_iter().for_each(|(o, taps)| {
            out[o] = taps.iter().map(|&t| a[t]).sum::<f64>() / taps.len() as f64;
        }),
        Op::MaxPoolBack(p) => {
            let x = v.of(node.inputs[1]);
            for (o, taps) in windows(p, v.batch) {
                let best = taps.iter().copied().fold(taps[0], |b, t| if x[t] > x[b] { t } else { b });
                out[best] += a[o];
            }
        }
        Op::AvgPoolBack(p) => {
            for (o, taps) in windows(p, v.batch) {
                taps.iter().for_each(|&t| out[t] += a[o] / taps.len() as f64);
            }
        }
        _ => unreachable!(),
    }
    out
}
