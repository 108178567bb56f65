//! `Conv(x, W)`: 2-D cross-correlation of `x` (`[channels, height, width]`
//! per sample) with `W` (`[out_channels, channels, kh, kw]`), with the
//! stride, zero padding and dilation of its geometry; 1-D convolutions are
//! 2-D ones of height 1. The bias is a separate broadcast addition.
//!
//! Local derivatives: the convolution is linear in each operand, so `dx`
//! (`ConvBackData(g, W)`) and `dW` (`ConvBackWeight(g, x)`, summed over the
//! batch) are its adjoints: the transposed convolution of `g` by `W`, and
//! the correlation of `g` with `x`. Both run on the GEMM through im2col.

use super::Op;
use crate::emit::body::{Ctx, rt};
use crate::ir::{Graph, NodeId, Shape};
use chainrule_spec::Conv2d;
use proc_macro2::TokenStream;
use quote::quote;

/// The geometry's constructor expression: every field by name, so a
/// field added to the shared type fails to build here.
fn tokens(geom: &Conv2d) -> TokenStream {
    let rt = rt();
    let Conv2d {
        channels,
        height,
        width,
        out_channels,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        pad_top,
        pad_left,
        dilation_h,
        dilation_w,
        out_h,
        out_w,
    } = *geom;
    quote!(#rt::kernels::Conv2d {
        channels: #channels, height: #height, width: #width, out_channels: #out_channels,
        kernel_h: #kernel_h, kernel_w: #kernel_w, stride_h: #stride_h, stride_w: #stride_w,
        pad_top: #pad_top, pad_left: #pad_left, dilation_h: #dilation_h, dilation_w: #dilation_w,
        out_h: #out_h, out_w: #out_w,
    })
}

/// Adds `Conv(x, w)`; `out_dims` is the per-sample output shape as the
/// layer declares it (`[c, h, w]`, or `[c, l]` for 1-D).
pub fn conv(g: &mut Graph, x: NodeId, w: NodeId, geom: Conv2d, out_dims: &[usize]) -> NodeId {
    g.push(Op::Conv(geom), vec![x, w], Shape::batched(out_dims))
}

pub fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
    let Op::Conv(geom) = g.node(id).op else { unreachable!("conv::vjp on a convolution") };
    let (x, w) = (g.node(id).inputs[0], g.node(id).inputs[1]);
    let dx = wants[0].then(|| {
        let shape = g.shape(x).clone();
        g.push(Op::ConvBackData(geom), vec![upstream, w], shape)
    });
    let dw = wants[1].then(|| {
        let shape = g.shape(w).clone();
        g.push(Op::ConvBackWeight(geom), vec![upstream, x], shape)
    });
    vec![dx, dw]
}

pub fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (a, b) = (ctx.read(node.inputs[0]), ctx.read(node.inputs[1]));
    let (rows, out) = (ctx.rows(), ctx.write(id));
    match node.op {
        Op::Conv(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::conv2d(&#geom, #rows, #a, #b, #out);)
        }
        Op::ConvBackData(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::conv2d_back_data(&#geom, #rows, #a, #b, #out);)
        }
        Op::ConvBackWeight(geom) => {
            let geom = tokens(&geom);
            quote!(#rt::kernels::conv2d_back_weight(&#geom, #rows, #a, #b, #out);)
        }
        _ => unreachable!("conv::emit on a convolution"),
    }
}
