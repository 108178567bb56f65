//! int8 inference: the arithmetic every int8 path shares, and the steps a
//! quantized network runs, written once so that the runtime's calibration
//! and executor and the code the compiler emits agree to the bit.
//!
//! Activations are 8-bit codes `q` in `0..=255` with a scale and a zero
//! point per tensor, `x = scale (q - zero_point)` (asymmetric, as
//! TensorFlow Lite's `uint8`; unsigned because the integer dot-product
//! instructions multiply unsigned by signed bytes). Weights are signed
//! codes in `-127..=127` with a scale per output channel and zero point 0
//! (symmetric). A layer sums `q_x w` in `i32`, adds its bias in `i32`
//! (scale `s_x s_w`) less `zero_point_x sum w`, and brings the sum to the
//! output's codes with a fixed-point [`Multiplier`]: no floating point
//! between the input's quantization and the output's dequantization.

/// How real values map to activation codes: `x = scale (q - zero_point)`,
/// `q` in `0..=255`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantization {
    /// The real step between neighbouring codes, above 0.
    pub scale: f32,
    /// The code of 0.0, in `0..=255`.
    pub zero_point: i32,
}

impl Quantization {
    /// The codes that cover `[lo, hi]`, widened to include 0 so that 0 has
    /// an exact code (zero padding, ReLU's floor): the scale spreads the
    /// range over the 255 steps, the zero point rounds to a code. A range
    /// of one value (or none finite) takes a scale of 1.
    pub fn covering(lo: f32, hi: f32) -> Self {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let scale = (hi - lo) / 255.0;
        if !(scale.is_finite() && scale > 0.0) {
            return Self { scale: 1.0, zero_point: 0 };
        }
        let zero_point = round(-lo / scale) as i32;
        Self { scale, zero_point: zero_point.clamp(0, 255) }
    }

    /// The code of `x`, rounded to nearest (ties to even) and clamped; NaN
    /// takes the code of 0. Branch-free, so a loop of it vectorizes.
    #[inline(always)]
    pub fn quantize(self, x: f32) -> u8 {
        let v = x / self.scale + self.zero_point as f32;
        let v = if v.is_nan() { self.zero_point as f32 } else { v };
        // Within [0, 255], the rounded value is the low byte of the sum's
        // bits (see `round`): no conversion to integer needed.
        // `max` and `min` (not `clamp`, whose NaN check stops the loop
        // from vectorizing); `v` is not NaN here.
        #[allow(clippy::manual_clamp)]
        let v = v.max(0.0).min(255.0);
        (v + ROUNDING).to_bits() as u8
    }

    /// The real value of code `q`.
    #[inline]
    pub fn dequantize(self, q: u8) -> f32 {
        self.scale * (i32::from(q) - self.zero_point) as f32
    }
}

/// `x` rounded to the nearest whole number, ties to even, for `|x|` below
/// `2^22` (larger values come back unchanged or off by the rounding):
/// adding `1.5 * 2^23` leaves no fraction bits, subtracting it back gives
/// the rounded value. Without `std`, and vectorizable.
#[inline(always)]
fn round(x: f32) -> f32 {
    (x + ROUNDING) - ROUNDING
}

/// `1.5 * 2^23`: a sum with it keeps no fraction bits.
const ROUNDING: f32 = 12_582_912.0;

/// A positive real multiplier in fixed point, `mantissa / 2^shift`, with
/// the mantissa in `[2^30, 2^31)` for 31 significant bits. Applied to an
/// `i32` sum in 64-bit integer arithmetic, rounding half up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Multiplier {
    /// The significant bits.
    pub mantissa: i32,
    /// The power of two divided by, in `1..=62`.
    pub shift: u32,
}

impl Multiplier {
    /// The closest multiplier to `real` (finite, above 0). One too small
    /// for 62 bits of shift is 0; one of `2^31` or more is clamped below it.
    pub fn new(real: f64) -> Self {
        if !(real.is_finite() && real > 0.0) {
            return Self { mantissa: 0, shift: 1 };
        }
        // real = m 2^e, m in [0.5, 1).
        let (mut m, mut e) = (real, 0i32);
        while m >= 1.0 {
            m /= 2.0;
            e += 1;
        }
        while m < 0.5 {
            m *= 2.0;
            e -= 1;
        }
        let mut mantissa = (m * (1u64 << 31) as f64 + 0.5) as i64;
        if mantissa == 1 << 31 {
            mantissa /= 2;
            e += 1;
        }
        let shift = 31 - e;
        if shift > 62 {
            return Self { mantissa: 0, shift: 1 };
        }
        if shift < 1 {
            return Self { mantissa: i32::MAX, shift: 1 };
        }
        Self { mantissa: mantissa as i32, shift: shift as u32 }
    }

    /// `round(sum * mantissa / 2^shift)`, ties toward +inf.
    #[inline(always)]
    pub fn apply(self, sum: i32) -> i32 {
        let product = i64::from(sum) * i64::from(self.mantissa) + (1i64 << (self.shift - 1));
        (product >> self.shift) as i32
    }

    /// The real value it stands for.
    pub fn value(self) -> f64 {
        f64::from(self.mantissa) / (1u64 << self.shift) as f64
    }
}

/// The output code of a layer's `i32` sum: scaled by `multiplier`, moved
/// to the output's zero point, clamped to `floor..=255` (`floor` the zero
/// point for a fused ReLU, else 0).
#[inline(always)]
pub fn requantize(sum: i32, multiplier: Multiplier, zero_point: i32, floor: i32) -> u8 {
    (multiplier.apply(sum).saturating_add(zero_point)).clamp(floor, 255) as u8
}

/// The bias of output channel `o` in the sum's units, with the input's
/// zero point taken out: `round(bias / (s_x s_w)) - zero_point_x sum_k w_k`.
pub fn folded_bias(bias: i32, zero_point: i32, weights: &[i8]) -> i32 {
    let sum: i32 = weights.iter().map(|&w| i32::from(w)).sum();
    bias.wrapping_sub(zero_point.wrapping_mul(sum))
}

/// Inputs of a dense weight are packed in groups of this many: the bytes
/// one integer dot-product instruction sums per lane.
pub const GROUP: usize = 4;

/// Outputs are packed in blocks of this many: the `i32` lanes of a
/// 512-bit register.
pub const BLOCK: usize = 16;

/// The packed length of a dense weight of `outputs x inputs`: inputs
/// padded to whole groups, outputs to whole blocks.
pub const fn packed_len(outputs: usize, inputs: usize) -> usize {
    inputs.next_multiple_of(GROUP) * outputs.next_multiple_of(BLOCK)
}

/// Lays out a dense weight (`[outputs, inputs]`, row-major) for the int8
/// kernels: for each group of [`GROUP`] inputs, a row holding each
/// output's [`GROUP`] weights side by side, output after output (padded to
/// whole blocks); zeros where the padding is. A register load of a row
/// takes the weights of consecutive outputs for one group of inputs, which
/// `vpdpbusd` multiplies by the group's inputs broadcast. `packed` is
/// [`packed_len`] long.
pub fn pack_dense(weights: &[i8], outputs: usize, inputs: usize, packed: &mut [i8]) {
    let padded = outputs.next_multiple_of(BLOCK);
    packed.fill(0);
    for (o, row) in weights.chunks_exact(inputs).take(outputs).enumerate() {
        for (k, &w) in row.iter().enumerate() {
            packed[((k / GROUP) * padded + o) * GROUP + k % GROUP] = w;
        }
    }
}

/// The patch length of a convolution padded to whole groups: a row of its
/// packed kernel, and the groups of its patches (see [`pack_conv`]).
pub fn conv_row(g: &crate::Conv2d) -> usize {
    g.patch_len().next_multiple_of(GROUP)
}

/// Output positions of a convolution padded to whole blocks.
pub fn conv_positions(g: &crate::Conv2d) -> usize {
    (g.out_h * g.out_w).next_multiple_of(BLOCK)
}

/// Bytes of scratch a convolution's kernel takes: its patches' codes as
/// rows, then interleaved for the dot products.
pub fn conv_scratch(g: &crate::Conv2d) -> usize {
    2 * conv_row(g) * conv_positions(g)
}

/// Lays out a convolution's kernel (`[out_channels, patch]`, row-major)
/// for the int8 kernels: each output channel's row padded with zeros to
/// whole groups of inputs. `packed` is `out_channels * conv_row` long.
pub fn pack_conv(weights: &[i8], g: &crate::Conv2d, packed: &mut [i8]) {
    let (patch, row) = (g.patch_len(), conv_row(g));
    packed.fill(0);
    for (o, w) in weights.chunks_exact(patch).take(g.out_channels).enumerate() {
        packed[o * row..][..patch].copy_from_slice(w);
    }
}

/// One step of a quantized network, in order. Its tensors in a quantized
/// file are named after its `name`, the layer's parameter prefix
/// (`layers.0`), as `quant_file` lists them.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `y = W x + b` over a flat input, `W` `[outputs, inputs]`.
    Dense {
        /// The layer's prefix.
        name: &'static str,
        /// Inputs per sample.
        inputs: usize,
        /// Outputs per sample.
        outputs: usize,
        /// Whether the layer has a bias.
        bias: bool,
        /// A ReLU follows, fused into the requantization.
        relu: bool,
    },
    /// A 2-D convolution, its kernel `[out_channels, channels, kernel_h,
    /// kernel_w]`; padding reads the input's zero point (real 0).
    Conv2d {
        /// The layer's prefix.
        name: &'static str,
        /// Its geometry (height 1 in one dimension).
        geometry: crate::Conv2d,
        /// A `conv1d`: its kernel has no height axis.
        one_d: bool,
        /// Whether the layer has a bias.
        bias: bool,
        /// A ReLU follows, fused into the requantization.
        relu: bool,
    },
    /// Max pooling: codes compare as the values do, so it runs on codes and
    /// keeps the input's quantization.
    MaxPool2d(crate::Pool2d),
    /// Average pooling on codes, rounded to nearest (ties up); it keeps its
    /// input's quantization (an average of codes is the code of the
    /// average).
    AvgPool2d(crate::Pool2d),
    /// An elementwise function, as a table from input code to output code.
    Table {
        /// The layer's prefix.
        name: &'static str,
        /// The function on real values, to calibrate and build the table.
        function: fn(f64) -> f64,
    },
}

impl Step {
    /// What it keeps in a quantized weight file.
    pub fn kept(&self) -> Kept<'static> {
        match *self {
            Step::Dense { name, inputs, outputs, .. } => {
                Kept::Weighted(name, WeightShape::new(&[outputs, inputs]))
            }
            Step::Conv2d { name, geometry, one_d, .. } => {
                Kept::Weighted(name, WeightShape::conv(&geometry, one_d))
            }
            Step::Table { name, .. } => Kept::Table(name),
            Step::MaxPool2d(_) | Step::AvgPool2d(_) => Kept::Nothing,
        }
    }
}

/// What a step keeps in a quantized weight file, under its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept<'a> {
    /// Nothing (pooling).
    Nothing,
    /// A table and its output's quantization.
    Table(&'a str),
    /// A weight of this shape, its scales and biases (one per output
    /// channel, the first axis), and its output's quantization.
    Weighted(&'a str, WeightShape),
}

/// The shape of a dense weight (`[outputs, inputs]`) or of a
/// convolution's kernel (`[out_channels, channels, kernel_h, kernel_w]`,
/// without `kernel_h` in one dimension), as the layer's parameter has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightShape {
    dims: [usize; 4],
    rank: usize,
}

impl WeightShape {
    /// The shape of these dimensions (at most 4).
    pub fn new(dims: &[usize]) -> Self {
        let mut all = [0; 4];
        all[..dims.len()].copy_from_slice(dims);
        Self { dims: all, rank: dims.len() }
    }

    /// A convolution's kernel, without the height axis for `conv1d`.
    pub fn conv(g: &crate::Conv2d, one_d: bool) -> Self {
        let (oc, c, kh, kw) = (g.out_channels, g.channels, g.kernel_h, g.kernel_w);
        if one_d { Self::new(&[oc, c, kw]) } else { Self::new(&[oc, c, kh, kw]) }
    }

    /// Its dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }
}

/// The fixed-point multiplier of an output channel: the input's scale
/// times the channel's weight scale over the output's scale, in `f64`.
pub fn multiplier(input_scale: f32, weight_scale: f32, output_scale: f32) -> Multiplier {
    Multiplier::new(f64::from(input_scale) * f64::from(weight_scale) / f64::from(output_scale))
}

/// The name of the input's scale and zero point in a quantized weight file.
pub const INPUT: &str = "input";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_keep_31_bits_and_round_half_up() {
        for real in [0.3, 0.5, 0.999, 1.0, 1.5, 3.0e-5, 0.123_456_789] {
            let m = Multiplier::new(real);
            assert!((1 << 30..=i32::MAX).contains(&m.mantissa), "{real}: {m:?}");
            assert!((m.value() - real).abs() <= real * 2f64.powi(-30), "{real}: {}", m.value());
        }
        let half = Multiplier::new(0.5);
        assert_eq!([half.apply(3), half.apply(-3), half.apply(5), half.apply(-5)], [2, -1, 3, -2]);
        assert_eq!(Multiplier::new(0.0).apply(1_000_000), 0);
        assert_eq!(Multiplier::new(1e-30).apply(i32::MAX), 0);
    }

    #[test]
    fn codes_cover_the_range_and_zero_is_exact() {
        let q = Quantization::covering(-1.0, 3.0);
        assert_eq!(q.dequantize(q.quantize(0.0)), 0.0);
        assert_eq!((q.quantize(-1.0), q.quantize(3.0)), (0, 255));
        assert_eq!((q.quantize(-10.0), q.quantize(10.0), q.quantize(f32::NAN)), (0, 255, q.zero_point as u8));
        let positive = Quantization::covering(0.5, 2.0);
        assert_eq!(positive.zero_point, 0);
        assert_eq!(Quantization::covering(0.0, 0.0), Quantization { scale: 1.0, zero_point: 0 });
        for x in [-0.77f32, 0.1, 1.234, 2.5] {
            assert!((q.dequantize(q.quantize(x)) - x).abs() <= q.scale / 2.0 + 1e-6, "{x}");
        }
    }

    #[test]
    fn requantization_clamps_to_the_floor() {
        let m = Multiplier::new(0.25);
        assert_eq!(requantize(400, m, 10, 0), 110);
        assert_eq!(requantize(-400, m, 10, 0), 0);
        assert_eq!(requantize(-400, m, 10, 10), 10);
        assert_eq!(requantize(4000, m, 10, 0), 255);
        assert_eq!(folded_bias(100, 3, &[1, -2, 4]), 100 - 3 * 3);
    }
}
