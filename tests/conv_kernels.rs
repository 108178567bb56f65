//! The batched convolution kernels in `f32` on every instruction-set level
//! this CPU runs (direct kernels for few channels where the level has
//! them, im2col and the GEMM elsewhere) agree with the `f64` ones (im2col
//! and the GEMM, tested against the definition in the runtime) for the
//! output and both gradients, and write nothing past their outputs.

use chainrule::kernels::{Conv2d, conv2d, conv2d_back_data, conv2d_back_weight};
use chainrule_suite::{on_every_level, values};

fn geometry(channels: usize, out_channels: usize, size: (usize, usize), kernel: usize, pad: usize) -> Conv2d {
    let (height, width) = size;
    Conv2d {
        channels,
        height,
        width,
        out_channels,
        kernel_h: kernel,
        kernel_w: kernel,
        stride_h: 1,
        stride_w: 1,
        pad_top: pad,
        pad_left: pad,
        dilation_h: 1,
        dilation_w: 1,
        out_h: height + 2 * pad + 1 - kernel,
        out_w: width + 2 * pad + 1 - kernel,
    }
}

fn geometries() -> Vec<Conv2d> {
    let same = geometry(2, 3, (5, 6), 3, 1);
    vec![
        // W3's layers, and rows longer than one and two vectors.
        geometry(1, 8, (28, 28), 3, 1),
        geometry(8, 16, (14, 14), 3, 1),
        geometry(3, 5, (7, 37), 3, 1),
        same,
        geometry(2, 3, (5, 6), 3, 0),
        // Even kernels: more padding after than before.
        Conv2d { kernel_h: 2, kernel_w: 4, pad_top: 0, pad_left: 2, out_h: 5, out_w: 6, ..same },
        // One row: a 1-D convolution.
        geometry(4, 6, (1, 19), 1, 0),
        Conv2d {
            kernel_h: 1,
            kernel_w: 5,
            pad_top: 0,
            pad_left: 2,
            height: 1,
            out_h: 1,
            out_w: 19,
            width: 19,
            ..same
        },
        // Strided and dilated: the GEMM paths.
        Conv2d { stride_h: 2, stride_w: 2, out_h: 3, out_w: 3, ..same },
        Conv2d { dilation_h: 2, dilation_w: 2, pad_top: 2, pad_left: 1, out_h: 5, out_w: 4, ..same },
        // More input channels than the direct kernels take.
        geometry(20, 4, (6, 6), 3, 1),
    ]
}

fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[test]
fn f32_on_every_level_agrees_with_f64() {
    for c in geometries() {
        let batch = 3;
        let x = values(1, batch * c.input_len(), 1.0);
        let w = values(2, c.out_channels * c.patch_len(), 1.0);
        let g = values(3, batch * c.output_len(), 1.0);
        let (mut y, mut dx, mut dw) = (vec![0.0; g.len()], vec![0.0; x.len()], vec![0.0; w.len()]);
        conv2d(&c, batch, &x, &w, &mut y);
        conv2d_back_data(&c, batch, &g, &w, &mut dx);
        conv2d_back_weight(&c, batch, &g, &x, &mut dw);
        let (x32, w32, g32) = (narrow(&x), narrow(&w), narrow(&g));
        on_every_level(|level| {
            let mut y32 = vec![f32::NAN; y.len() + 5];
            let mut dx32 = vec![f32::NAN; dx.len() + 5];
            let mut dw32 = vec![f32::NAN; dw.len()];
            conv2d(&c, batch, &x32, &w32, &mut y32[..y.len()]);
            conv2d_back_data(&c, batch, &g32, &w32, &mut dx32[..dx.len()]);
            conv2d_back_weight(&c, batch, &g32, &x32, &mut dw32);
            for (what, got, want) in
                [("output", &y32, &y), ("input gradient", &dx32, &dx), ("weight gradient", &dw32, &dw)]
            {
                for (a, b) in got.iter().zip(want.iter()) {
                    let tolerance = 1e-4 * b.abs().max(1.0);
                    assert!((f64::from(*a) - b).abs() < tolerance, "{what}, {c:?}, {level:?}: {a} vs {b}");
                }
            }
            assert!(y32[y.len()..].iter().chain(&dx32[dx.len()..]).all(|v| v.is_nan()), "{c:?}: wrote past");
        });
    }
}
