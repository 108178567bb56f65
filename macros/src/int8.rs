//! int8: the steps a chain runs in 8-bit codes (`chainrule_spec::quant`),
//! each layer saying its own form (`Layer::int8`). Every network states
//! them as `Network::INT8`, from which the runtime calibrates a quantized
//! weight file, or the first layer int8 cannot run; `quantize: int8`
//! compiles such a file in (`emit/quantized.rs`).

use crate::codegen::{Ctx, Mode, emit_expr, rt};
use crate::errors::Site;
use crate::ir::expr::{Expr, relu, var};
use crate::model::Model;
use chainrule_spec::quant::{Kept, WeightShape};
use chainrule_spec::{Conv2d, Pool2d};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// What a layer is in int8.
pub enum Form {
    /// A dense layer over a flat input (with its bias).
    Dense { inputs: usize, outputs: usize },
    /// A convolution (1-D with height 1), with a bias or not.
    Conv2d { geometry: Conv2d, one_d: bool, bias: bool },
    /// An elementwise function of `Var(0)`: a table of codes.
    Elementwise(Expr),
    /// Max pooling, on codes.
    MaxPool2d(Pool2d),
    /// Average pooling, on codes.
    AvgPool2d(Pool2d),
    /// Nothing at inference (`flatten`, `dropout`).
    Nothing,
}

/// One int8 step, as `chainrule_spec::quant::Step` has it.
pub enum Step {
    Dense { name: String, inputs: usize, outputs: usize, relu: bool },
    Conv2d { name: String, geometry: Conv2d, one_d: bool, bias: bool, relu: bool },
    Table { name: String, function: Expr },
    MaxPool2d(Pool2d),
    AvgPool2d(Pool2d),
}

impl Step {
    /// What it keeps in a quantized file, as the runtime's steps do.
    pub fn kept(&self) -> Kept<'_> {
        match self {
            Step::Dense { name, inputs, outputs, .. } => {
                Kept::Weighted(name, WeightShape::new(&[*outputs, *inputs]))
            }
            Step::Conv2d { name, geometry, one_d, .. } => {
                Kept::Weighted(name, WeightShape::conv(geometry, *one_d))
            }
            Step::Table { name, .. } => Kept::Table(name),
            Step::MaxPool2d(_) | Step::AvgPool2d(_) => Kept::Nothing,
        }
    }
}

/// Why a network has no int8 form: the message, and the layer to point
/// at when one is to blame.
pub struct NoInt8 {
    pub message: String,
    pub site: Option<Site>,
}

/// The int8 steps of `model`, or why it has none.
pub fn steps(model: &Model) -> Result<Vec<Step>, NoInt8> {
    let layers = model.flow.as_chain().ok_or_else(|| NoInt8 {
        message: "int8 runs a chain of layers (`layers: [..]`), not a graph".into(),
        site: None,
    })?;
    let mut input = model.input.clone();
    let mut steps: Vec<Step> = Vec::new();
    for placed in layers {
        let form = placed.layer.int8(&input).ok_or_else(|| NoInt8 {
            message: format!(
                "`{}` ({}) has no int8 form; int8 runs dense layers on flat inputs, convolutions, \
                 elementwise activations, pooling, flatten and dropout",
                placed.shown, placed.origin.path
            ),
            site: Some(placed.site),
        })?;
        let name = placed.origin.path.clone();
        match form {
            // A ReLU after a dense layer or a convolution clamps its requantization.
            Form::Elementwise(e) if e == relu(var(0)) => match steps.last_mut() {
                Some(Step::Dense { relu, .. } | Step::Conv2d { relu, .. }) if !*relu => *relu = true,
                _ => steps.push(Step::Table { name, function: e }),
            },
            Form::Conv2d { geometry, one_d, bias } => {
                steps.push(Step::Conv2d { name, geometry, one_d, bias, relu: false })
            }
            Form::Elementwise(function) => steps.push(Step::Table { name, function }),
            Form::Dense { inputs, outputs } => steps.push(Step::Dense { name, inputs, outputs, relu: false }),
            Form::MaxPool2d(pool) => steps.push(Step::MaxPool2d(pool)),
            Form::AvgPool2d(pool) => steps.push(Step::AvgPool2d(pool)),
            Form::Nothing => {}
        }
        input = placed.output.clone();
    }
    if steps.is_empty() {
        return Err(NoInt8 {
            message: "the network has no layer that computes anything in int8".into(),
            site: None,
        });
    }
    Ok(steps)
}

/// `Network::INT8`: the steps, or the reason there are none.
pub fn steps_const(model: &Model) -> TokenStream {
    let rt = rt();
    match steps(model) {
        Ok(steps) => {
            let steps = steps.iter().map(step_tokens);
            quote!(const INT8: ::core::result::Result<&'static [#rt::int8::Step], &'static str> = Ok(&[#(#steps),*]);)
        }
        Err(NoInt8 { message, .. }) => {
            quote!(const INT8: ::core::result::Result<&'static [#rt::int8::Step], &'static str> = Err(#message);)
        }
    }
}

/// A step as a constant of `chainrule_spec::quant::Step`.
pub fn step_tokens(step: &Step) -> TokenStream {
    let rt = rt();
    match step {
        Step::Dense { name, inputs, outputs, relu } => {
            quote!(#rt::int8::Step::Dense { name: #name, inputs: #inputs, outputs: #outputs, bias: true, relu: #relu })
        }
        Step::Conv2d { name, geometry, one_d, bias, relu } => {
            let geometry = conv_tokens(geometry);
            quote!(#rt::int8::Step::Conv2d { name: #name, geometry: #geometry, one_d: #one_d, bias: #bias, relu: #relu })
        }
        Step::Table { name, function } => {
            let function = real_function(function);
            quote!(#rt::int8::Step::Table { name: #name, function: #function })
        }
        Step::MaxPool2d(p) => {
            let geometry = pool_tokens(p);
            quote!(#rt::int8::Step::MaxPool2d(#geometry))
        }
        Step::AvgPool2d(p) => {
            let geometry = pool_tokens(p);
            quote!(#rt::int8::Step::AvgPool2d(#geometry))
        }
    }
}

/// A convolution's geometry as a constant.
pub fn conv_tokens(c: &Conv2d) -> TokenStream {
    crate::ops::conv::tokens(c)
}

/// A pooling geometry as a constant.
pub fn pool_tokens(p: &Pool2d) -> TokenStream {
    crate::ops::pool::tokens(p)
}

/// `e` of `Var(0)` as a `fn(f64) -> f64`, on the portable level: the
/// function calibration observes and tabulates.
fn real_function(e: &Expr) -> TokenStream {
    let rt = rt();
    let scalar = Ident::new("f64", Span::call_site());
    let ctx = Ctx::new(Mode::Single, &scalar, Vec::new());
    let body = emit_expr(e, &[quote!(x)], &ctx);
    quote!({
        #[allow(unused_variables, clippy::all)]
        fn f(x: f64) -> f64 {
            let __isa = #rt::isa::Isa::Portable;
            #body
        }
        f
    })
}
