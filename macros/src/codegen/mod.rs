//! What an op's emitter sees of the function being generated: where each
//! value lives, whether the code is batched, the scalar type, and how to
//! write expressions. A leaf module: it knows nothing of ops, layers or the
//! network around the function, so the IR and the ops read without the
//! code generator, and the code generator (`emit`) builds on both.

mod expr;

pub use expr::{emit_expr, emit_stores};

use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The hidden path through which generated code reaches the runtime.
pub fn rt() -> TokenStream {
    quote!(::chainrule::__private)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One sample, fixed-size arrays, no workspace.
    Single,
    /// A run-time number of samples `batch`, values in workspace slots.
    Batched,
}

/// Where a value lives in the generated function.
#[derive(Clone, Debug)]
pub enum Place {
    /// A slice (batched code) or a local array (batch-1 code).
    Buffer(Ident),
    /// A scalar local.
    Scalar(Ident),
}

/// The function being generated, as its op emitters see it. Values are
/// named by their node index in the graph.
pub struct Ctx<'a> {
    pub mode: Mode,
    pub scalar: &'a Ident,
    places: Vec<Option<Place>>,
    /// `(map, sum)`: a reduction computed by the loop of the map it sums.
    fused_sums: Vec<(usize, usize)>,
}

impl<'a> Ctx<'a> {
    /// `places[i]` is where node `i` lives, for every node the function computes.
    pub fn new(mode: Mode, scalar: &'a Ident, places: Vec<Option<Place>>) -> Self {
        Self { mode, scalar, places, fused_sums: Vec::new() }
    }

    /// Has each `(map, sum)` pair's sum computed by its map's loop, as that
    /// loop writes each element, instead of by a pass of its own.
    pub fn with_fused_sums(self, fused_sums: Vec<(usize, usize)>) -> Self {
        Self { fused_sums, ..self }
    }

    /// The reduction the map's loop also computes, if any.
    pub fn sum_in_map(&self, map: usize) -> Option<usize> {
        self.fused_sums.iter().find(|&&(m, _)| m == map).map(|&(_, s)| s)
    }

    /// Whether the reduction is computed by the loop of the map it sums.
    pub fn sum_done_by_map(&self, sum: usize) -> bool {
        self.fused_sums.iter().any(|&(_, s)| s == sum)
    }

    fn ident(&self, node: usize) -> &Ident {
        match self.places[node].as_ref().expect("every live node has a place") {
            Place::Buffer(v) | Place::Scalar(v) => v,
        }
    }

    /// An expression reading the value: a slice for tensors, the value for scalars.
    pub fn read(&self, node: usize) -> TokenStream {
        match self.places[node].as_ref().expect("every live node has a place") {
            Place::Buffer(v) => quote!(&#v[..]),
            Place::Scalar(v) => quote!(#v),
        }
    }

    /// The value's first `len` elements, as a slice.
    pub fn slice(&self, node: usize, len: &TokenStream) -> TokenStream {
        let v = self.ident(node);
        quote!(&#v[..#len])
    }

    /// A mutable slice over the value's storage.
    pub fn write(&self, node: usize) -> TokenStream {
        let v = self.ident(node);
        quote!(&mut #v[..])
    }

    /// The local array itself, in batch-1 code.
    pub fn array(&self, node: usize) -> TokenStream {
        let v = self.ident(node);
        quote!(&#v)
    }

    /// The local array, mutably, in batch-1 code.
    pub fn array_mut(&self, node: usize) -> TokenStream {
        let v = self.ident(node);
        quote!(&mut #v)
    }

    /// The local a scalar-producing op binds its result to.
    pub fn name(&self, node: usize) -> Ident {
        self.ident(node).clone()
    }

    /// Number of samples: `batch`, or the literal 1 in batch-1 code.
    pub fn rows(&self) -> TokenStream {
        match self.mode {
            Mode::Batched => quote!(batch),
            Mode::Single => quote!(1usize),
        }
    }
}
