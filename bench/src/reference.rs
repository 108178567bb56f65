//! The "as good as hand-written" reference for W1: the same network,
//! 16 -> 32 tanh -> 32 tanh -> 4, written by hand on nalgebra's fixed-size
//! matrices, reading the same flat parameter layout. `tanh` is passed in, so
//! the comparison can use the same elementwise function as chainrule.
//! Inlined, so that inside a frame of `isa::with_isa` it is compiled for
//! that instruction set, as chainrule's generated code is.

use nalgebra::{SMatrixView, SVector};

#[inline(always)]
pub fn w1(params: &[f32], x: &[f32; 16], tanh: impl Fn(f32) -> f32) -> [f32; 4] {
    // Row-major [out, in] weights are column-major [in, out] matrices.
    let w0 = SMatrixView::<f32, 16, 32>::from_slice(&params[0..512]);
    let b0 = SVector::<f32, 32>::from_column_slice(&params[512..544]);
    let w1 = SMatrixView::<f32, 32, 32>::from_slice(&params[544..1568]);
    let b1 = SVector::<f32, 32>::from_column_slice(&params[1568..1600]);
    let w2 = SMatrixView::<f32, 32, 4>::from_slice(&params[1600..1728]);
    let b2 = SVector::<f32, 4>::from_column_slice(&params[1728..1732]);
    let x = SVector::<f32, 16>::from_column_slice(x);
    let h0 = (w0.tr_mul(&x) + b0).map(&tanh);
    let h1 = (w1.tr_mul(&h0) + b1).map(&tanh);
    let y = w2.tr_mul(&h1) + b2;
    [y[0], y[1], y[2], y[3]]
}
