//! int8 inference: kernels over 8-bit codes that need neither `std` nor
//! `alloc` (what `quantize: int8` declarations compile to), and with `std`
//! the calibration that quantizes a trained network
//! ([`calibrate`](crate::int8::calibrate)) and an executor that runs a
//! quantized weight file ([`Quantized`](crate::int8::Quantized)).
//!
//! The arithmetic and the file's tensors are those of
//! [`chainrule_spec::quant`]: activations are codes `0..=255` with a scale
//! and zero point per tensor, weights codes `-127..=127` with a scale per
//! output channel, sums in `i32`, and requantization in fixed point.

#[cfg(feature = "std")]
mod calibrate;
mod conv;
mod dense;
mod level;
#[cfg(feature = "std")]
mod quantized;
mod steps;

#[cfg(feature = "std")]
pub use calibrate::{Range, calibrate};
pub use chainrule_spec::quant::{
    Multiplier, Quantization, Step, pack_conv, pack_dense, packed_len, requantize,
};
#[cfg(feature = "std")]
pub use chainrule_spec::quant_file::{Model, Tensors};
pub use conv::{conv2d, patches_len};
pub use dense::{dense, dense_batch};
pub use level::{Level, active, detected, set_limit};
#[cfg(feature = "std")]
pub use quantized::Quantized;
pub use steps::{avg_pool2d, dequantize, max_pool2d, quantize, table};

/// Bytes as the signed codes they hold: how compiled-in weights are
/// written (a byte string) and read (`i8`). For generated code.
#[doc(hidden)]
pub const fn bytes_as_i8<const N: usize>(bytes: [u8; N]) -> [i8; N] {
    let mut codes = [0i8; N];
    let mut i = 0;
    while i < N {
        codes[i] = bytes[i] as i8;
        i += 1;
    }
    codes
}
