//! What convolution and pooling layers share: reading window arguments
//! (`kernel = 3` or `(3, 5)`, `stride`, `padding = 1 | (1, 2) | same |
//! valid | causal`, `dilation`, `exact = true`, `bias = false`, `init = scheme`) and the output-size
//! arithmetic, with errors at the argument that does not fit.
//!
//! Per axis, a window of `kernel` taps spaced `dilation` apart spans
//! `extent = dilation * (kernel - 1) + 1` elements of the padded input of
//! `input + pad_before + pad_after` elements; stepping by `stride`, there
//! are `(padded - extent) / stride + 1` windows, PyTorch's floor rule. The
//! rows or columns that rule leaves out are an error under `exact = true`.

use crate::args;
use crate::errors::{Errors, Site};
use crate::init::Scheme;
use crate::parse::{Arg, Call};
use syn::{Expr, Lit};

/// Zero padding as declared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Padding {
    /// The same amount before and after, per axis (height, width).
    Fixed(usize, usize),
    /// Whatever keeps the size at stride 1: `extent - 1` in all, the odd
    /// one after, as PyTorch's `padding='same'` does.
    Same,
    /// All of `dilation * (kernel - 1)` before the length, none after (1-D,
    /// stride 1): each output reads only its own and earlier samples, at
    /// the same length as the input. A WaveNet's convolution.
    Causal,
}

/// The arguments of a window layer, each with where it was written.
pub struct WindowArgs {
    /// Positional arguments that are not window sizes (`out_channels`).
    pub count: Option<(usize, Site)>,
    pub kernel: Option<((usize, usize), Site)>,
    pub stride: Option<((usize, usize), Site)>,
    pub padding: (Padding, Option<Site>),
    pub dilation: (usize, usize),
    pub exact: bool,
    /// Whether the layer adds a bias (`bias = false` leaves it out).
    pub bias: bool,
    pub init: Option<Scheme>,
}

/// Which arguments a keyword takes.
pub struct Accepts {
    /// Names given to positional arguments, in order (`out_channels`, or
    /// `kernel` then `stride` for pooling).
    pub positional: &'static [&'static str],
    /// Every name it takes, positional ones included.
    pub named: &'static [&'static str],
    /// 2-D layers take `(height, width)` pairs; 1-D ones single numbers.
    pub two_d: bool,
    /// How the keyword is written at its simplest, for messages.
    pub usage: &'static str,
}

/// Reads the arguments of `call`; `None` after an error (reported).
pub fn read(call: &Call, accepts: &Accepts, errors: &mut Errors) -> Option<WindowArgs> {
    let mut out = WindowArgs {
        count: None,
        kernel: None,
        stride: None,
        padding: (Padding::Fixed(0, 0), None),
        dilation: (1, 1),
        exact: false,
        bias: true,
        init: None,
    };
    let mut ok = true;
    let mut position = 0;
    for arg in &call.args {
        let name = match &arg.name {
            Some(name) => name.to_string(),
            None => {
                let Some(name) = accepts.positional.get(position) else {
                    errors.push(arg.site(), format!("too many arguments: write `{}`", accepts.usage));
                    ok = false;
                    continue;
                };
                position += 1;
                name.to_string()
            }
        };
        if name == "activation" {
            errors.push(arg.site(), super::activation_argument(call, arg));
            ok = false;
            continue;
        }
        if !accepts.named.contains(&name.as_str()) {
            let message = match crate::suggest::did_you_mean(&name, accepts.named.iter().copied()).as_str() {
                "" => format!(
                    "`{}` has no parameter `{name}`; it takes {}",
                    call.name,
                    crate::suggest::list(accepts.named)
                ),
                hint => format!("`{}` has no parameter `{name}`{hint}", call.name),
            };
            errors.push(arg.site(), message);
            ok = false;
            continue;
        }
        if let Err(message) = apply(&mut out, &name, arg, accepts.two_d, errors) {
            errors.push(arg.site(), message);
            ok = false;
        }
    }
    if ok && out.kernel.is_none() && accepts.named.contains(&"kernel") {
        errors.push(call.site(), format!("`{}` needs a kernel size, as in `{}`", call.name, accepts.usage));
        ok = false;
    }
    ok.then_some(out)
}

fn apply(
    out: &mut WindowArgs,
    name: &str,
    arg: &Arg,
    two_d: bool,
    errors: &mut Errors,
) -> Result<(), String> {
    let site = arg.site();
    match name {
        "out_channels" => match args::whole(&arg.value)? {
            0 => return Err("a convolution needs at least 1 output channel, found 0".into()),
            n => out.count = Some((n as usize, site)),
        },
        "kernel" => out.kernel = Some((size(&arg.value, two_d, "kernel size")?, site)),
        "stride" => out.stride = Some((size(&arg.value, two_d, "stride")?, site)),
        "dilation" => out.dilation = size(&arg.value, two_d, "dilation")?,
        "padding" => out.padding = (padding(&arg.value, two_d)?, Some(site)),
        "exact" => out.exact = boolean(&arg.value, "exact")?,
        "bias" => out.bias = boolean(&arg.value, "bias")?,
        "init" => match &arg.value {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                out.init = crate::init::resolve(p.path.get_ident().expect("checked"), errors)
            }
            _ => return Err("`init` takes a scheme name, as in `init = he_normal`".into()),
        },
        _ => unreachable!("names are checked against the accepted list"),
    }
    Ok(())
}

fn at_least_one(expr: &Expr, what: &str) -> Result<usize, String> {
    match args::whole(expr)? {
        0 => Err(format!("the {what} must be at least 1, found 0")),
        n => Ok(n as usize),
    }
}

/// `n` (both axes; only the width of a 1-D layer, whose height is 1) or,
/// for 2-D layers, `(height, width)`.
fn size(expr: &Expr, two_d: bool, what: &str) -> Result<(usize, usize), String> {
    match expr {
        Expr::Tuple(t) if two_d && t.elems.len() == 2 => {
            Ok((at_least_one(&t.elems[0], what)?, at_least_one(&t.elems[1], what)?))
        }
        Expr::Tuple(_) if two_d => Err(format!("a {what} pair is `(height, width)`")),
        Expr::Tuple(_) => Err(format!("a 1-D layer takes one {what}, not a pair")),
        _ => at_least_one(expr, what).map(|n| if two_d { (n, n) } else { (1, n) }),
    }
}

fn padding(expr: &Expr, two_d: bool) -> Result<Padding, String> {
    let whole = |e: &Expr| args::whole(e).map(|n| n as usize);
    match expr {
        Expr::Path(p) if p.path.is_ident("same") => Ok(Padding::Same),
        Expr::Path(p) if p.path.is_ident("valid") => Ok(Padding::Fixed(0, 0)),
        Expr::Path(p) if p.path.is_ident("causal") && !two_d => Ok(Padding::Causal),
        Expr::Path(p) if p.path.is_ident("causal") => {
            Err("`causal` padding is for 1-D layers (`conv1d`): it pads the past of a sequence".into())
        }
        Expr::Tuple(t) if two_d && t.elems.len() == 2 => {
            Ok(Padding::Fixed(whole(&t.elems[0])?, whole(&t.elems[1])?))
        }
        Expr::Tuple(_) => {
            Err("padding is a number, `(height, width)` on 2-D layers, `same`, `valid` or (1-D) `causal`"
                .into())
        }
        _ => whole(expr).map(|n| if two_d { Padding::Fixed(n, n) } else { Padding::Fixed(0, n) }).map_err(
            |_| {
                "padding is a number, `(height, width)` on 2-D layers, `same`, `valid` or (1-D) `causal`"
                    .into()
            },
        ),
    }
}

/// A `true` or `false` literal for the flag `name`.
pub fn boolean(expr: &Expr, name: &str) -> Result<bool, String> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Bool(b) => Ok(b.value),
            _ => Err(format!("`{name}` is `true` or `false`")),
        },
        _ => Err(format!("`{name}` is `true` or `false`")),
    }
}

/// One axis of a window over an input.
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    /// `height` or `width` (`length` for 1-D), for messages.
    pub name: &'static str,
    pub input: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Zero padding before and after.
    pub pad: (usize, usize),
}

impl Axis {
    fn extent(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    fn padded(&self) -> usize {
        self.input + self.pad.0 + self.pad.1
    }

    /// The padding `same` gives this axis (stride 1): before, after.
    pub fn same_padding(&self) -> (usize, usize) {
        let total = self.extent() - 1;
        (total / 2, total - total / 2)
    }

    /// The number of windows, or why there are none or they do not fit.
    pub fn output(&self, exact: bool) -> Result<usize, AxisError> {
        let (extent, padded) = (self.extent(), self.padded());
        if extent > padded {
            return Err(AxisError::TooLarge(self.describe()));
        }
        let left = (padded - extent) % self.stride;
        if exact && left != 0 {
            let unit = match (self.name, left) {
                ("height", 1) => "row",
                ("height", _) => "rows",
                ("width", 1) => "column",
                ("width", _) => "columns",
                (_, 1) => "element",
                _ => "elements",
            };
            let over = if self.pad == (0, 0) { "" } else { "padded " };
            return Err(AxisError::Inexact(format!(
                "stride {} does not fit exactly: windows of {extent} over the {over}{} of {padded} leave the \
                 last {left} {unit} out; change the stride or the padding, or drop `exact = true`",
                self.stride, self.name,
            )));
        }
        Ok((padded - extent) / self.stride + 1)
    }

    fn describe(&self) -> String {
        let span = if self.dilation > 1 {
            format!(
                "a kernel of {} with dilation {} (spanning {})",
                self.kernel,
                self.dilation,
                self.extent()
            )
        } else {
            format!("a kernel of {}", self.kernel)
        };
        let padded = if self.pad == (0, 0) {
            format!("the input {} of {}", self.name, self.input)
        } else {
            format!(
                "the input {} of {} padded to {} ({} + {} + {})",
                self.name,
                self.input,
                self.padded(),
                self.pad.0,
                self.input,
                self.pad.1
            )
        };
        format!("{span} does not fit {padded}: the output would be empty")
    }
}

/// Why an axis has no valid output size.
#[derive(Debug)]
pub enum AxisError {
    /// The window is larger than the padded input.
    TooLarge(String),
    /// `exact = true` and the windows leave part of the input out.
    Inexact(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(input: usize, kernel: usize, stride: usize, dilation: usize, pad: usize) -> Axis {
        Axis { name: "width", input, kernel, stride, dilation, pad: (pad, pad) }
    }

    #[test]
    fn output_sizes_follow_the_floor_rule() {
        assert_eq!(axis(28, 3, 1, 1, 1).output(false).unwrap(), 28);
        assert_eq!(axis(28, 2, 2, 1, 0).output(true).unwrap(), 14);
        assert_eq!(axis(7, 2, 2, 1, 0).output(false).unwrap(), 3);
        assert!(matches!(axis(7, 2, 2, 1, 0).output(true), Err(AxisError::Inexact(_))));
        assert_eq!(axis(10, 3, 1, 2, 0).output(false).unwrap(), 6);
        assert!(matches!(axis(3, 5, 1, 1, 0).output(false), Err(AxisError::TooLarge(_))));
        assert_eq!(axis(3, 5, 1, 1, 1).output(false).unwrap(), 1);
        let same = axis(9, 4, 1, 1, 0).same_padding();
        assert_eq!(same, (1, 2));
    }
}
