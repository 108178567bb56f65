//! Max pooling over 2x2 windows at stride 2 in `f32` gives the same bits
//! on every instruction-set level as on the portable code (vector kernels
//! on AVX2 and AVX-512): the same maxima, and the gradient sent to the same
//! tap (the first maximum in row-major order, or the first NaN), through
//! ties, NaNs, signed zeros, odd sizes and rows longer than a vector.

use chainrule::isa::Isa;
use chainrule::kernels::{Pool2d, max_pool2d, max_pool2d_back};
use chainrule_suite::{on_every_level, values};

fn pool(channels: usize, height: usize, width: usize) -> Pool2d {
    Pool2d {
        channels,
        height,
        width,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 2,
        stride_w: 2,
        out_h: height / 2,
        out_w: width / 2,
    }
}

/// Values with many ties (a few distinct ones), NaNs and both zeros.
fn awkward(seed: u64, n: usize) -> Vec<f32> {
    values(seed, n, 1.0)
        .iter()
        .map(|&v| match ((v + 1.0) * 8.0) as u32 {
            0 => f32::NAN,
            1 => -0.0,
            2 => 0.0,
            k => (k % 5) as f32 - 2.0,
        })
        .collect()
}

#[test]
fn every_level_pools_as_the_portable_code() {
    for p in [pool(3, 28, 28), pool(2, 14, 14), pool(1, 7, 9), pool(2, 5, 70), pool(1, 2, 2), pool(2, 3, 35)]
    {
        let batch = 2;
        let x = awkward(1, batch * p.input_len());
        let g: Vec<f32> = values(2, batch * p.output_len(), 1.0).iter().map(|&v| v as f32).collect();
        let run = || {
            let mut y = vec![f32::NAN; batch * p.output_len() + 3];
            max_pool2d(&p, batch, &x, &mut y[..batch * p.output_len()]);
            let mut dx = vec![f32::NAN; batch * p.input_len() + 3];
            max_pool2d_back(
                &p,
                batch,
                &g,
                &x,
                &y[..batch * p.output_len()],
                &mut dx[..batch * p.input_len()],
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            (bits(&y), bits(&dx))
        };
        let mut portable = None;
        on_every_level(|level| {
            let got = run();
            if level == Isa::Portable {
                portable = Some(got);
            } else {
                assert!(Some(&got) == portable.as_ref(), "{p:?}: {level:?} differs from the portable code");
            }
        });
        let (y, dx) = portable.expect("the portable level runs everywhere");
        // Each window's gradient reaches one tap of it: the sum is kept.
        let (sum_g, sum_dx): (f64, f64) = (
            g.iter().map(|&v| f64::from(v)).sum(),
            dx[..batch * p.input_len()].iter().map(|&v| f64::from(f32::from_bits(v))).sum(),
        );
        assert!((sum_g - sum_dx).abs() < 1e-3, "{p:?}: gradient sum {sum_g} vs {sum_dx}");
        assert!(
            y[batch * p.output_len()..].iter().all(|&v| f32::from_bits(v).is_nan()),
            "{p:?}: wrote past y"
        );
    }
}
