//! Geometry the compiler fixes after checking it and the kernels read:
//! every size is a compile-time constant in generated code.

/// The geometry of a 2-D convolution (cross-correlation, as PyTorch's
/// `Conv2d`; a 1-D convolution has height 1). Padding is given by its top
/// and left amounts; the bottom and right ones follow from the output
/// size, which allows the asymmetric padding of `padding = same` with an
/// even kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    /// Input channels.
    pub channels: usize,
    /// Input height (1 for a 1-D convolution).
    pub height: usize,
    /// Input width (the length, for a 1-D convolution).
    pub width: usize,
    /// Output channels: the number of kernels.
    pub out_channels: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Step between windows, down.
    pub stride_h: usize,
    /// Step between windows, across.
    pub stride_w: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
    /// Step between kernel taps, down.
    pub dilation_h: usize,
    /// Step between kernel taps, across.
    pub dilation_w: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

impl Conv2d {
    /// Elements of one input sample.
    #[inline]
    pub fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Elements of one output sample.
    #[inline]
    pub fn output_len(&self) -> usize {
        self.out_channels * self.out_h * self.out_w
    }

    /// Weights of one output channel: a row of the kernel matrix.
    #[inline]
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }

    /// Output positions of one channel.
    #[inline]
    pub fn positions(&self) -> usize {
        self.out_h * self.out_w
    }

    /// A 1x1 kernel at stride 1 without padding: each output position
    /// reads only the input position under it.
    #[inline]
    pub fn is_pointwise(&self) -> bool {
        self.kernel_h == 1
            && self.kernel_w == 1
            && self.stride_h == 1
            && self.stride_w == 1
            && self.pad_top == 0
            && self.pad_left == 0
            && self.out_h == self.height
            && self.out_w == self.width
    }

    /// The output columns whose tap at input column offset `offset`
    /// (`kernel column * dilation - pad_left`) lands inside the input, as
    /// a half-open range.
    #[inline]
    pub fn valid_columns(&self, offset: isize) -> (usize, usize) {
        valid_range(offset, self.stride_w, self.width, self.out_w)
    }

    /// The output rows whose tap at input row offset `offset` lands inside
    /// the input, as a half-open range.
    #[inline]
    pub fn valid_rows(&self, offset: isize) -> (usize, usize) {
        valid_range(offset, self.stride_h, self.height, self.out_h)
    }
}

/// The outputs `o` in `0..outs` with `0 <= o * stride + offset < len`, as
/// a half-open range (empty when there are none).
#[inline]
fn valid_range(offset: isize, stride: usize, len: usize, outs: usize) -> (usize, usize) {
    let s = stride as isize;
    let lo = if offset >= 0 { 0 } else { (-offset + s - 1) / s };
    let hi = if (len as isize) <= offset { 0 } else { ((len as isize - offset) + s - 1) / s };
    let (lo, hi) = (lo.max(0) as usize, (hi.max(0) as usize).min(outs));
    (lo.min(hi), hi)
}

/// The geometry of a pooling window over each channel, without padding
/// (1-D pooling has height 1; global pooling one window over the plane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    /// Channels, each pooled on its own.
    pub channels: usize,
    /// Input height (1 for 1-D pooling).
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Step between windows, down.
    pub stride_h: usize,
    /// Step between windows, across.
    pub stride_w: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

impl Pool2d {
    /// Elements of one input sample.
    #[inline]
    pub fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Elements of one output sample.
    #[inline]
    pub fn output_len(&self) -> usize {
        self.channels * self.out_h * self.out_w
    }

    /// Offset in the plane of the first element of output `(oy, ox)`'s window.
    #[inline]
    pub fn origin(&self, oy: usize, ox: usize) -> usize {
        oy * self.stride_h * self.width + ox * self.stride_w
    }

    /// The common 2x2 window at stride 2.
    #[inline]
    pub fn is_2x2(&self) -> bool {
        (self.kernel_h, self.kernel_w, self.stride_h, self.stride_w) == (2, 2, 2, 2)
    }
}

/// A rectangular piece of each sample's `[src_rows, src_cols]` value:
/// output `(r, c)` reads source `(r + row_offset, c + col_offset)`; rows
/// outside the source read zero. A recurrent layer's hidden states, the
/// previous step's states (shifted down one row) and the halves of a
/// two-part gradient are blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Rows of the source, per sample.
    pub src_rows: usize,
    /// Columns of the source, per sample.
    pub src_cols: usize,
    /// Source row of output row 0; negative shifts the block down.
    pub row_offset: isize,
    /// Source column of output column 0.
    pub col_offset: usize,
    /// Rows of the block.
    pub rows: usize,
    /// Columns of the block.
    pub cols: usize,
}

impl Block {
    /// The source row of output row `r`, if it exists.
    #[inline]
    pub fn source_row(&self, r: usize) -> Option<usize> {
        let row = r as isize + self.row_offset;
        (0..self.src_rows as isize).contains(&row).then_some(row as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_clip_to_the_input() {
        assert_eq!(valid_range(-1, 1, 5, 5), (1, 5));
        assert_eq!(valid_range(1, 1, 5, 5), (0, 4));
        assert_eq!(valid_range(-2, 2, 5, 3), (1, 3));
        assert_eq!(valid_range(7, 1, 5, 5), (0, 0));
        assert_eq!(valid_range(-9, 1, 5, 5), (5, 5));
    }

    #[test]
    fn a_block_shifted_down_reads_zeros_first() {
        let b = Block { src_rows: 3, src_cols: 2, row_offset: -1, col_offset: 0, rows: 3, cols: 2 };
        assert_eq!((b.source_row(0), b.source_row(1), b.source_row(2)), (None, Some(0), Some(1)));
    }
}

/// Sizes of a multi-head self-attention over one sample: `t` steps of `d`
/// values, split into `heads` heads of `d / heads` columns each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heads {
    /// Steps of a sample.
    pub t: usize,
    /// Values a step (all heads).
    pub d: usize,
    /// Heads, each `d / heads` wide.
    pub heads: usize,
    /// Step `i` attends to steps `0..=i` only.
    pub causal: bool,
}

impl Heads {
    /// Columns of one head.
    #[inline]
    pub fn head_len(&self) -> usize {
        self.d / self.heads
    }

    /// How many steps step `i` attends to: `0..visible(i)`.
    #[inline]
    pub fn visible(&self, i: usize) -> usize {
        if self.causal { i + 1 } else { self.t }
    }
}
