//! What the `network!` compiler and the chainrule runtime must agree on,
//! written once: the geometry the compiler fixes and the kernels read
//! (convolution, pooling, blocks), the parameter table (roles and
//! initialization schemes), the layout of the inference copy of the
//! weights (`plan`), and the check of a weights file against the table,
//! which the compiler runs on `weights: "file"` and the runtime on
//! `weights::load`.
//!
//! The compiler emits these types by name, field by field; it destructures
//! each one without `..`, so a field added here fails to build there
//! rather than drifting. Without the `files` feature the crate is
//! `#![no_std]` without `alloc`, as embedded builds of the runtime are.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "files")]
extern crate std;

mod geometry;
pub mod nam;
#[cfg(feature = "files")]
pub mod nam_file;
mod params;
pub mod plan;
pub mod quant;
#[cfg(feature = "files")]
pub mod quant_file;
#[cfg(feature = "files")]
pub mod tensor_file;

pub use geometry::{Block, Conv2d, Heads, Pool2d};
pub use params::{Init, ParamSpec, Role};
