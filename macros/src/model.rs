//! The checked network: every keyword resolved, every shape known. Later
//! stages read this, never syn's syntax tree, except for the spans it keeps.

use crate::dataflow::Dataflow;
use crate::init::Scheme;
use crate::ir::TargetKind;
use crate::losses::Term;
use crate::regularizer::Regularizer;
use syn::{Attribute, Ident, Visibility};

pub struct Model {
    pub outline: Outline,
    /// The shape of one input sample: the input's, or with several
    /// inputs their values side by side (`[total]`).
    pub input: Vec<usize>,
    /// The layers over named values, a chain for `layers: [..]`.
    pub flow: Dataflow,
    /// One loss per output, in the order of `flow.outputs`.
    pub losses: Vec<Term>,
    pub regularizer: Option<Regularizer>,
    /// Weight initialization of layers that do not choose their own.
    pub init: Scheme,
    /// A weights file to compile in (`weights: "..."`), as written.
    pub weights: Option<syn::LitStr>,
    /// `embedded: true`, where it was written: an inference-only struct
    /// over the compiled-in weights, for `no_std` builds.
    pub embedded: Option<proc_macro2::Span>,
    /// `sample_weights: true`: the training functions also come in a
    /// version whose loss weights each sample (`weighted_loss_and_grad`).
    pub sample_weights: bool,
}

impl Model {
    /// The shape of one output sample: the output's, or with several
    /// outputs their values side by side (`[total]`).
    pub fn output(&self) -> Vec<usize> {
        match self.flow.outputs.as_slice() {
            [one] => self.flow.values[*one].dims.clone(),
            several => {
                vec![several.iter().map(|&o| self.flow.values[o].dims.iter().product::<usize>()).sum()]
            }
        }
    }

    pub fn name(&self) -> &Ident {
        &self.outline.name
    }

    pub fn scalar(&self) -> &Ident {
        &self.outline.scalar
    }
}

/// The declared type as code outside the macro sees it: its name and
/// visibility, its sizes and targets. Known, as far as the declaration
/// tells, even when it has mistakes, so that the type can be emitted with
/// its whole API and code using it gets no follow-up errors.
pub struct Outline {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    /// `f32` or `f64`, spanned where the user wrote it (or at the name).
    pub scalar: Ident,
    pub input: Option<Vec<usize>>,
    /// The input is token ids (`[u32; n]`).
    pub tokens: bool,
    /// Several named inputs, each with its length: the type has
    /// `inputs(..)`, which puts one sample's parts side by side.
    pub named_inputs: Vec<(Ident, usize)>,
    pub output: Option<Vec<usize>>,
    /// Several named outputs, each with its length: the type has
    /// `outputs(..)`, which splits an output sample into them.
    pub named_outputs: Vec<(String, usize)>,
    /// What each output's loss compares it with; with several outputs a
    /// target is a tuple of them.
    pub targets: Option<Vec<TargetKind>>,
    /// `weights:` names a file: the type has `trained()`.
    pub trained: bool,
    /// `embedded: true` or `quantize: int8`: the type is the
    /// inference-only unit struct.
    pub embedded: bool,
    /// `quantize: int8`: it also states the bytes of its weights.
    pub quantized: bool,
}

/// `784`, `3x28x28`: a shape as messages show it.
pub fn show_shape(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(ToString::to_string).collect();
    parts.join("x")
}
