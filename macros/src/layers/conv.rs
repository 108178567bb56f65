//! `conv2d(out_channels, kernel = k | (kh, kw), stride = .., padding = p |
//! (ph, pw) | same | valid, dilation = .., exact = true, init = scheme)`
//! and `conv1d(out_channels, kernel = k, ..)`: convolution layers with a
//! bias (none with `bias = false`), as PyTorch's `Conv2d` and `Conv1d`. `conv1d(.., padding =
//! causal)` pads `dilation * (kernel - 1)` zeros before the sequence only
//! (PyTorch's `Conv1d` on `F.pad(x, (dilation * (kernel - 1), 0))`).
//!
//! Shape rule: `[channels, height, width]` (2-D) or `[channels, length]`
//! (1-D) becomes `[out_channels, out_height, out_width]` by the window
//! arithmetic of `window.rs`. Parameters: `<path>.weight` of
//! `[out_channels, channels, kh, kw]` (`[out_channels, channels, k]` for
//! 1-D) and `<path>.bias` of `[out_channels]`. Lowers to a `Conv` and a
//! per-channel broadcast addition of the bias.

use super::window::{self, Accepts, Axis, AxisError, Padding, WindowArgs};
use super::{At, Carried, Family, Layer, LowerCtx, Origin, OverTime, Resolved, check_size};
use crate::errors::{Errors, Site};
use crate::init::Scheme;
use crate::ir::expr::{add, var};
use crate::ir::{Graph, Init, NodeId, Read, Role};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;
use chainrule_spec::Conv2d;

pub struct Convolutions;

impl Family for Convolutions {
    fn keywords(&self) -> &'static [&'static str] {
        &["conv2d", "conv1d"]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[("Conv2d", "conv2d"), ("Conv2D", "conv2d"), ("Conv1d", "conv1d"), ("Conv1D", "conv1d")]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let one_d = call.name == "conv1d";
        let accepts = Accepts {
            positional: &["out_channels"],
            named: NAMED,
            two_d: !one_d,
            usage: if one_d { "conv1d(16, kernel = 3)" } else { "conv2d(16, kernel = 3, padding = 1)" },
        };
        let args = window::read(call, &accepts, errors)?;
        let (conv, output) = build(call, &args, input, one_d, errors)?;
        let g = &conv.geom;
        check_size(&[g.out_channels, g.channels, g.kernel_h, g.kernel_w], call, errors)?;
        Resolved::new(conv, Some(output))
    }
}

pub struct Conv {
    pub geom: Conv2d,
    /// A 1-D convolution (height 1, shapes without the height axis).
    pub one_d: bool,
    pub init: Option<Scheme>,
    /// Whether it adds a bias per output channel.
    pub bias: bool,
}

const NAMED: &[&str] = &["out_channels", "kernel", "stride", "padding", "dilation", "exact", "bias", "init"];

fn build(
    call: &Call,
    args: &WindowArgs,
    input: Option<&[usize]>,
    one_d: bool,
    errors: &mut Errors,
) -> Option<(Conv, Vec<usize>)> {
    let Some((out_channels, _)) = args.count else {
        errors.push(call.site(), format!("`{}` needs the number of output channels first", call.name));
        return None;
    };
    let ((kernel, kernel_site), stride) = (args.kernel?, args.stride.map_or((1, 1), |s| s.0));
    let input = input?;
    let (channels, height, width) = match (one_d, input) {
        (false, &[c, h, w]) => (c, h, w),
        (true, &[c, l]) => (c, 1, l),
        _ => {
            let expected = if one_d { "[channels, length]" } else { "[channels, height, width]" };
            errors.push(
                call.site(),
                format!(
                    "`{}` expects a {expected} input but receives {}{}",
                    call.name,
                    show_shape(input),
                    one_channel(input, one_d)
                ),
            );
            return None;
        }
    };
    let pad = match args.padding.0 {
        Padding::Fixed(ph, pw) => ((ph, ph), (pw, pw)),
        Padding::Causal if stride != (1, 1) => {
            let site = args.padding.1.unwrap_or_else(|| call.site());
            errors.push(site, "`causal` padding keeps the length, so it needs stride 1".to_string());
            return None;
        }
        Padding::Causal => ((0, 0), (args.dilation.1 * (kernel.1 - 1), 0)),
        Padding::Same if stride != (1, 1) => {
            let site = args.padding.1.unwrap_or_else(|| call.site());
            let axes =
                [(height, kernel.0, stride.0, args.dilation.0), (width, kernel.1, stride.1, args.dilation.1)];
            errors.push(site, same_with_stride(&axes, one_d));
            return None;
        }
        Padding::Same => {
            let axis =
                |input, kernel, dilation| Axis { name: "", input, kernel, stride: 1, dilation, pad: (0, 0) };
            (
                axis(height, kernel.0, args.dilation.0).same_padding(),
                axis(width, kernel.1, args.dilation.1).same_padding(),
            )
        }
    };
    let rows = Axis {
        name: "height",
        input: height,
        kernel: kernel.0,
        stride: stride.0,
        dilation: args.dilation.0,
        pad: pad.0,
    };
    let cols = Axis {
        name: if one_d { "length" } else { "width" },
        input: width,
        kernel: kernel.1,
        stride: stride.1,
        dilation: args.dilation.1,
        pad: pad.1,
    };
    let stride_site = args.stride.map_or(kernel_site, |s| s.1);
    let sites = WindowSites { kernel: kernel_site, stride: stride_site, layer: call, input };
    let out_h = axis_output(&rows, args.exact, &sites, errors)?;
    let out_w = axis_output(&cols, args.exact, &sites, errors)?;
    let geom = Conv2d {
        channels,
        height,
        width,
        out_channels,
        kernel_h: kernel.0,
        kernel_w: kernel.1,
        stride_h: stride.0,
        stride_w: stride.1,
        pad_top: pad.0.0,
        pad_left: pad.1.0,
        dilation_h: args.dilation.0,
        dilation_w: args.dilation.1,
        out_h,
        out_w,
    };
    let output = if one_d { vec![out_channels, out_w] } else { vec![out_channels, out_h, out_w] };
    Some((Conv { geom, one_d, init: args.init, bias: args.bias }, output))
}

/// Why `padding = same` needs stride 1, and which padding gives the output
/// sizes a user may have meant: PyTorch's usual `(kernel - 1) / 2`, and
/// TensorFlow's `same`, `ceil(input / stride)`. `axes` holds (input,
/// kernel, stride, dilation) of the height and the width.
fn same_with_stride(axes: &[(usize, usize, usize, usize); 2], one_d: bool) -> String {
    let axes = if one_d { &axes[1..] } else { &axes[..] };
    let size = |input: usize, extent: usize, stride: usize, pad: usize| {
        (input + 2 * pad).checked_sub(extent).map(|room| room / stride + 1)
    };
    let mut half = Vec::new();
    let mut half_out = Vec::new();
    let mut tf_out = Vec::new();
    let mut tf_pad = Vec::new();
    for &(input, kernel, stride, dilation) in axes {
        let extent = dilation * (kernel - 1) + 1;
        half.push((extent - 1) / 2);
        half_out.push(size(input, extent, stride, (extent - 1) / 2).unwrap_or(0));
        let target = input.div_ceil(stride);
        tf_out.push(target);
        tf_pad.push((0..=extent).find(|&p| size(input, extent, stride, p) == Some(target)));
    }
    let number = |values: &[usize]| match values {
        [a, b] if a != b => format!("({a}, {b})"),
        [a, ..] => a.to_string(),
        [] => String::new(),
    };
    let shape = |values: &[usize]| values.iter().map(ToString::to_string).collect::<Vec<_>>().join("x");
    let strides = number(&axes.iter().map(|a| a.2).collect::<Vec<_>>());
    let same_axes = axes.windows(2).all(|w| (w[0].0, w[0].2) == (w[1].0, w[1].2));
    let ceil: Vec<String> = axes
        .iter()
        .zip(&tf_out)
        .take(if same_axes { 1 } else { axes.len() })
        .map(|(&(input, _, stride, _), out)| format!("ceil({input} / {stride}) = {out}"))
        .collect();
    let ceil = ceil.join(" and ") + if same_axes && axes.len() > 1 { " on each axis" } else { "" };
    let tensorflow = match tf_pad.iter().copied().collect::<Option<Vec<usize>>>() {
        Some(pads) if pads == half => format!(", which is TensorFlow's `same` size too ({ceil})"),
        Some(pads) => format!("; TensorFlow's `same` size ({ceil}) comes from `padding = {}`", number(&pads)),
        None => format!(
            "; TensorFlow's `same` size ({ceil}) needs one zero more after than before, which one padding number \
             cannot give"
        ),
    };
    format!(
        "`padding = same` keeps the size only at stride 1; with stride {strides}, give the padding as a number: \
         `padding = {}` (PyTorch's usual `(kernel - 1) / 2`) gives an output of {}{tensorflow}",
        number(&half),
        shape(&half_out),
    )
}

/// How the same values read as one channel, when they can: a 2-D value
/// as one image, a square number of values as a square image, a flat
/// value as one signal.
fn one_channel(input: &[usize], one_d: bool) -> String {
    let image = |h: usize, w: usize| {
        format!("; a single-channel image is written `[1, {h}, {w}]`, as in `input: [1, {h}, {w}]`")
    };
    match (one_d, input) {
        (false, &[h, w]) => image(h, w),
        (false, &[n]) if n.isqrt() * n.isqrt() == n => image(n.isqrt(), n.isqrt()),
        (true, &[n]) => format!("; a single-channel signal is written `[1, {n}]`, as in `input: [1, {n}]`"),
        _ => String::new(),
    }
}

/// Where a window's problems are reported and how the layer is named.
pub struct WindowSites<'a> {
    pub kernel: Site,
    pub stride: Site,
    /// The layer as written and the input it receives, for the message:
    /// "`conv2d(4, kernel = 5)` on its 1x3x3 input".
    pub layer: &'a Call,
    pub input: &'a [usize],
}

/// The output size along one axis; a window too large is reported at the
/// kernel, one that does not fit exactly at the stride, both naming the
/// layer and its input shape.
pub fn axis_output(axis: &Axis, exact: bool, at: &WindowSites, errors: &mut Errors) -> Option<usize> {
    let context = format!("`{}` on its {} input", at.layer.display(), show_shape(at.input));
    match axis.output(exact) {
        Ok(n) => Some(n),
        Err(AxisError::TooLarge(message)) => {
            errors.push(at.kernel, format!("{context}: {message}"));
            None
        }
        Err(AxisError::Inexact(message)) => {
            errors.push(at.stride, format!("{context}: {message}"));
            None
        }
    }
}

impl Conv {
    /// Registers the weight and, if any, the bias, in this order.
    fn params(&self, g: &mut Graph, origin: &Origin, default: Scheme) -> (NodeId, Option<NodeId>) {
        let (prefix, span) = (&origin.path, origin.span);
        let Conv2d { channels, out_channels, kernel_h: kh, kernel_w: kw, .. } = self.geom;
        let init = self.init.unwrap_or(default).init(channels * kh * kw, out_channels * kh * kw);
        let dims =
            if self.one_d { vec![out_channels, channels, kw] } else { vec![out_channels, channels, kh, kw] };
        let w = g.param(format!("{prefix}.weight"), &dims, Role::Weight, init, span);
        let b = self
            .bias
            .then(|| g.param(format!("{prefix}.bias"), &[out_channels], Role::Bias, Init::Zeros, span));
        (w, b)
    }

    /// A 1-D convolution whose every output reads only its own and
    /// earlier columns, at the input's length: causal padding, or a
    /// kernel of one without padding.
    fn is_causal(&self) -> bool {
        let c = &self.geom;
        self.one_d && c.stride_w == 1 && c.pad_left == c.dilation_w * (c.kernel_w - 1) && c.out_w == c.width
    }

    fn step(&self, stream: usize) -> crate::ir::ConvStep {
        let c = &self.geom;
        crate::ir::ConvStep {
            channels: c.channels,
            out_channels: c.out_channels,
            kernel: c.kernel_w,
            dilation: c.dilation_w,
            stream,
        }
    }
}

impl Layer for Conv {
    /// On codes, padding with the input's zero point.
    fn int8(&self, _: &[usize]) -> Option<crate::int8::Form> {
        Some(crate::int8::Form::Conv2d { geometry: self.geom, one_d: self.one_d, bias: self.bias })
    }

    fn lower(&self, g: &mut Graph, x: NodeId, origin: &Origin, ctx: LowerCtx) -> NodeId {
        let Conv2d { out_channels, out_h: oh, out_w: ow, .. } = self.geom;
        let (w, b) = self.params(g, origin, ctx.init);
        let out = if self.one_d { vec![out_channels, ow] } else { vec![out_channels, oh, ow] };
        let z = ops::conv::conv(g, x, w, self.geom, &out);
        let Some(b) = b else { return z };
        let shape = g.shape(z).clone();
        ops::map::map_with(g, add(var(0), var(1)), vec![(z, Read::Same), (b, Read::PerChannel)], shape)
    }

    /// A causal 1-D convolution streams column by column, its past in the
    /// stream buffer.
    fn over_columns(&self) -> OverTime<'_> {
        if self.is_causal() { OverTime::Carried(self) } else { OverTime::Whole }
    }
}

impl Carried for Conv {
    fn lower_step(&self, g: &mut Graph, x: NodeId, origin: &Origin, offset: usize) -> NodeId {
        // The parameters' initializers do not matter: streaming reads them.
        let (w, b) = self.params(g, origin, Scheme::GlorotUniform);
        let z = ops::conv_step::conv_step(g, x, w, self.step(offset));
        let Some(b) = b else { return z };
        let shape = g.shape(z).clone();
        ops::map::map_with(g, add(var(0), var(1)), vec![(z, Read::Same), (b, Read::PerFeature)], shape)
    }

    fn stream_len(&self) -> usize {
        self.step(0).stream_len()
    }

    fn keeps_time(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::same_with_stride;

    #[test]
    fn same_with_stride_names_the_padding_for_each_convention() {
        let both = same_with_stride(&[(28, 3, 2, 1), (28, 3, 2, 1)], false);
        assert!(
            both.contains("`padding = 1` (PyTorch's usual `(kernel - 1) / 2`) gives an output of 14x14"),
            "{both}"
        );
        assert!(
            both.contains("which is TensorFlow's `same` size too (ceil(28 / 2) = 14 on each axis)"),
            "{both}"
        );
        let apart = same_with_stride(&[(1, 1, 1, 1), (9, 2, 2, 1)], true);
        assert!(
            apart.contains("`padding = 0` (PyTorch's usual `(kernel - 1) / 2`) gives an output of 4"),
            "{apart}"
        );
        assert!(
            apart.contains("TensorFlow's `same` size (ceil(9 / 2) = 5) comes from `padding = 1`"),
            "{apart}"
        );
    }
}
