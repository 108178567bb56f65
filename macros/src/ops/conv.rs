//! `Conv(x, W)`: 2-D cross-correlation of `x` (`[channels, height, width]`
//! per sample) with `W` (`[out_channels, channels, kh, kw]`), with the
//! stride, zero padding and dilation of its geometry; 1-D convolutions are
//! 2-D ones of height 1. The bias is a separate broadcast addition.
//!
//! Local derivatives: the convolution is linear in each operand, so `dx`
//! (`ConvBackData(g, W)`) and `dW` (`ConvBackWeight(g, x)`, summed over the
//! batch) are its adjoints: the transposed convolution of `g` by `W`, and
//! the correlation of `g` with `x`. The backward pass saves `x`. All three
//! run on the GEMM through im2col; batch-1 code runs the forward one
//! directly (`conv2d_1`).

use super::{Derivative, Rules, always, never};
use crate::codegen::{Ctx, Mode, rt};
use crate::ir::{Graph, NodeId, Op, Shape};
use chainrule_spec::Conv2d;
use proc_macro2::TokenStream;
use quote::quote;

pub const CONV: Rules = Rules {
    name: "conv",
    forward: "cross-correlation with stride, padding and dilation",
    derivative: Derivative::Vjp {
        formula: "`dx = conv_back_data(g, W)` (the transposed convolution), `dW = conv_back_weight(g, x)`",
        build: vjp,
    },
    emit,
    without_std: always,
    #[cfg(test)]
    eval,
};
pub const CONV_BACK_DATA: Rules = Rules {
    name: "conv_back_data",
    forward: "the transposed convolution of `g` by `W`: the gradient of `conv` with respect to `x`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: never,
    #[cfg(test)]
    eval,
};
pub const CONV_BACK_WEIGHT: Rules = Rules {
    name: "conv_back_weight",
    forward: "the correlation of `g` with `x`: the gradient of `conv` with respect to `W`",
    derivative: Derivative::BackwardOnly,
    emit,
    without_std: never,
    #[cfg(test)]
    eval,
};

/// Adds `Conv(x, w)`; `out_dims` is the per-sample output shape as the
/// layer declares it (`[c, h, w]`, or `[c, l]` for 1-D).
pub fn conv(g: &mut Graph, x: NodeId, w: NodeId, geom: Conv2d, out_dims: &[usize]) -> NodeId {
    g.push(Op::Conv(geom), vec![x, w], Shape::batched(out_dims))
}

fn vjp(g: &mut Graph, id: NodeId, upstream: NodeId, wants: &[bool]) -> Vec<Option<NodeId>> {
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

/// The geometry's constructor expression: every field by name, so a
/// field added to the shared type fails to build here.
pub fn tokens(geom: &Conv2d) -> TokenStream {
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

fn emit(ctx: &Ctx, g: &Graph, id: NodeId) -> TokenStream {
    let node = g.node(id);
    let rt = rt();
    let (a, b) = (ctx.read(node.inputs[0]), ctx.read(node.inputs[1]));
    let (rows, out) = (ctx.rows(), ctx.write(id));
    let (kernel, geom) = match &node.op {
        Op::Conv(geom) => (quote!(conv2d), geom),
        Op::ConvBackData(geom) => (quote!(conv2d_back_data), geom),
        Op::ConvBackWeight(geom) => (quote!(conv2d_back_weight), geom),
        _ => unreachable!("conv::emit on a convolution"),
    };
    let geom = tokens(geom);
    // One sample: the direct kernel, which needs no packing (nor `std`).
    if ctx.mode == Mode::Single && matches!(node.op, Op::Conv(_)) {
        return quote!(#rt::kernels::conv2d_1(__isa, &#geom, #a, #b, #out););
    }
    quote!(#rt::kernels::#kernel(&#geom, #rows, #a, #b, #out);)
}

/// Calls `f(x index, w index, y index)` for every tap of every window
/// that lands inside the input, over `batch` samples.
#[cfg(test)]
fn taps(c: &Conv2d, batch: usize, mut f: impl FnMut(usize, usize, usize)) {
    for r in 0..batch {
        for (o, oy, ox) in grid(c.out_channels, c.out_h, c.out_w) {
            for (ch, ki, kj) in grid(c.channels, c.kernel_h, c.kernel_w) {
                let iy = (oy * c.stride_h + ki * c.dilation_h) as isize - c.pad_top as isize;
                let ix = (ox * c.stride_w + kj * c.dilation_w) as isize - c.pad_left as isize;
                if iy < 0 || ix < 0 || iy as usize >= c.height || ix as usize >= c.width {
                    continue;
                }
                let xi = ((r * c.channels + ch) * c.height + iy as usize) * c.width + ix as usize;
                let wi = ((o * c.channels + ch) * c.kernel_h + ki) * c.kernel_w + kj;
                let yi = ((r * c.out_channels + o) * c.out_h + oy) * c.out_w + ox;
                f(xi, wi, yi);
            }
        }
    }
}

#[cfg(test)]
fn grid(a: usize, b: usize, c: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..a).flat_map(move |i| (0..b).flat_map(move |j| (0..c).map(move |k| (i, j, k))))
}

#[cfg(test)]
fn eval(v: &super::eval::Values, g: &Graph, id: NodeId) -> Vec<f64> {
    let node = g.node(id);
    let (a, b) = (v.of(node.inputs[0]), v.of(node.inputs[1]));
    let mut out = vec![0.0; v.samples(&node.shape) * node.shape.len()];
    match node.op {
        Op::Conv(c) => taps(&c, v.batch, |xi, wi, yi| out[yi] += a[xi] * b[wi]),
        Op::ConvBackData(c) => taps(&c, v.batch, |xi, wi, yi| out[xi] += a[yi] * b[wi]),
        Op::ConvBackWeight(c) => taps(&c, v.batch, |xi, wi, yi| out[wi] += a[yi] * b[xi]),
        _ => unreachable!(),
    }
    out
}
