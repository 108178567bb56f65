//! Pooling: `max_pool2d(k)`, `max_pool2d(k, stride)` (also `kernel = ..`,
//! `stride = ..`, `exact = true`), `avg_pool2d`, their 1-D forms
//! `max_pool1d` and `avg_pool1d`, and `global_avg_pool`, `global_max_pool`.
//!
//! Shape rule: each channel of `[channels, height, width]` (or
//! `[channels, length]`) is pooled on its own, without padding; the stride
//! is the kernel unless given, as in PyTorch. `global_avg_pool` averages
//! every plane to one value, `global_max_pool` takes its maximum:
//! `[channels, ..]` becomes `[channels]`. No parameters. Lowers to a
//! `MaxPool` or `AvgPool` (global pooling is a pool whose window is the
//! whole plane).

use super::conv::{WindowSites, axis_output};
use super::window::{self, Accepts, Axis, WindowArgs};
use super::{At, Family, Layer, LowerCtx, Origin, Resolved};
use crate::errors::Errors;
use crate::ir::{Graph, NodeId};
use crate::model::show_shape;
use crate::ops;
use crate::parse::Call;
use chainrule_spec::Pool2d;

const GLOBAL_AVG: &str = "global_avg_pool";
const GLOBAL_MAX: &str = "global_max_pool";

pub struct Pools;

impl Family for Pools {
    fn keywords(&self) -> &'static [&'static str] {
        &["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", GLOBAL_AVG, GLOBAL_MAX]
    }

    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("MaxPool2d", "max_pool2d"),
            ("MaxPooling2D", "max_pool2d"),
            ("AvgPool2d", "avg_pool2d"),
            ("AveragePooling2D", "avg_pool2d"),
            ("MaxPool1d", "max_pool1d"),
            ("MaxPooling1D", "max_pool1d"),
            ("AvgPool1d", "avg_pool1d"),
            ("AveragePooling1D", "avg_pool1d"),
            ("AdaptiveAvgPool2d", GLOBAL_AVG),
            ("GlobalAveragePooling2D", GLOBAL_AVG),
            ("GlobalAveragePooling1D", GLOBAL_AVG),
            ("AdaptiveMaxPool2d", GLOBAL_MAX),
            ("GlobalMaxPooling2D", GLOBAL_MAX),
            ("GlobalMaxPooling1D", GLOBAL_MAX),
        ]
    }

    fn resolve(&self, call: &Call, input: Option<&[usize]>, _: &At, errors: &mut Errors) -> Option<Resolved> {
        let pool = read(call, input, errors)?;
        let output = pool.output.clone();
        Resolved::new(pool, Some(output))
    }
}

pub struct Pool {
    pub geom: Pool2d,
    pub max: bool,
    pub output: Vec<usize>,
}

/// The pooling layer `call` describes (its output shape inside), or `None`
/// after an error.
fn read(call: &Call, input: Option<&[usize]>, errors: &mut Errors) -> Option<Pool> {
    let name = call.name.to_string();
    if name == GLOBAL_AVG || name == GLOBAL_MAX {
        return global(call, input, name == GLOBAL_MAX, errors);
    }
    let (max, one_d) = (name.starts_with("max"), name.ends_with("1d"));
    let accepts = Accepts {
        positional: &["kernel", "stride"],
        named: &["kernel", "stride", "exact"],
        two_d: !one_d,
        usage: if one_d { "max_pool1d(2)" } else { "max_pool2d(2)" },
    };
    let args = window::read(call, &accepts, errors)?;
    windowed(call, &args, input, max, one_d, errors)
}

fn windowed(
    call: &Call,
    args: &WindowArgs,
    input: Option<&[usize]>,
    max: bool,
    one_d: bool,
    errors: &mut Errors,
) -> Option<Pool> {
    let (kernel, kernel_site) = args.kernel?;
    let stride = args.stride.map_or(kernel, |s| s.0);
    let input = input?;
    let (channels, height, width) = planes(call, input, Some(one_d), errors)?;
    let axis = |name, input, kernel, stride| Axis { name, input, kernel, stride, dilation: 1, pad: (0, 0) };
    let stride_site = args.stride.map_or(kernel_site, |s| s.1);
    let rows = axis("height", height, kernel.0, stride.0);
    let cols = axis(if one_d { "length" } else { "width" }, width, kernel.1, stride.1);
    let sites = WindowSites { kernel: kernel_site, stride: stride_site, layer: call, input };
    let out_h = axis_output(&rows, args.exact, &sites, errors)?;
    let out_w = axis_output(&cols, args.exact, &sites, errors)?;
    let (kernel_h, kernel_w, stride_h, stride_w) = (kernel.0, kernel.1, stride.0, stride.1);
    let geom = Pool2d { channels, height, width, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w };
    let output = if one_d { vec![channels, out_w] } else { vec![channels, out_h, out_w] };
    Some(Pool { geom, max, output })
}

fn global(call: &Call, input: Option<&[usize]>, max: bool, errors: &mut Errors) -> Option<Pool> {
    if let Some(arg) = call.args.first() {
        let what = if max { "takes each whole channel's maximum" } else { "averages each whole channel" };
        errors.push(arg.site(), format!("`{}` takes no arguments: it {what}", call.name));
        return None;
    }
    let (channels, height, width) = planes(call, input?, None, errors)?;
    let geom = Pool2d {
        channels,
        height,
        width,
        kernel_h: height,
        kernel_w: width,
        stride_h: 1,
        stride_w: 1,
        out_h: 1,
        out_w: 1,
    };
    Some(Pool { geom, max, output: vec![channels] })
}

/// `(channels, height, width)` of a 2-D or 1-D input (height 1), checked
/// against the rank the keyword expects (`one_d`, or either if `None`).
fn planes(
    call: &Call,
    input: &[usize],
    one_d: Option<bool>,
    errors: &mut Errors,
) -> Option<(usize, usize, usize)> {
    match (one_d, input) {
        (Some(false) | None, &[c, h, w]) => Some((c, h, w)),
        (Some(true) | None, &[c, l]) => Some((c, 1, l)),
        _ => {
            let expected = match one_d {
                Some(false) => "a [channels, height, width]",
                Some(true) => "a [channels, length]",
                None => "a [channels, height, width] or [channels, length]",
            };
            errors.push(
                call.site(),
                format!("`{}` expects {expected} input but receives {}", call.name, show_shape(input)),
            );
            None
        }
    }
}

impl Layer for Pool {
    fn lower(&self, g: &mut Graph, x: NodeId, _: &Origin, _: LowerCtx) -> NodeId {
        ops::pool::pool(g, x, self.geom, self.max, &self.output)
    }

    /// Pooling on codes, which keeps its input's quantization.
    fn int8(&self, _: &[usize]) -> Option<crate::int8::Form> {
        Some(if self.max {
            crate::int8::Form::MaxPool2d(self.geom)
        } else {
            crate::int8::Form::AvgPool2d(self.geom)
        })
    }
}
