//! Gradients of convolutional networks against central finite differences
//! in f64: every convolution option (padding, `same` with an even kernel,
//! stride, dilation, rectangular kernels, 1x1), both poolings in 1-D and
//! 2-D, global average pooling, flatten and batch norm over channels.

use chainrule::Network;
use chainrule_suite::{check_gradients, samples};

chainrule::network! {
    /// The LeNet pattern: convolution, activation, pooling, flatten, dense.
    struct ConvPoolDense {
        input: [2, 6, 6],
        layers: [conv2d(3, kernel = 3, padding = 1), tanh, max_pool2d(2), flatten, dense(3)],
        loss: softmax_cross_entropy,
        scalar: f64,
    }
}
chainrule::network! {
    /// Stride, dilation, rectangular kernel and padding; overlapping
    /// average windows; global pooling; a regularizer on the kernels.
    struct StridedDilated {
        input: [2, 9, 8],
        layers: [
            conv2d(4, kernel = (3, 2), stride = (2, 1), padding = (1, 2), dilation = (2, 1)),
            sigmoid,
            avg_pool2d(2, 1),
            global_avg_pool,
            dense(2),
        ],
        loss: mse,
        regularizer: l1(0.01) + l2(0.1),
        scalar: f64,
    }
}
chainrule::network! {
    /// 1-D: `same` padding with an even kernel (one more zero after), a
    /// strided second convolution and 1-D pooling.
    struct Signal {
        input: [2, 12],
        layers: [
            conv1d(3, kernel = 4, padding = same),
            relu,
            conv1d(4, kernel = 3, stride = 2, dilation = 2),
            max_pool1d(2),
            avg_pool1d(kernel = 2, stride = 1),
            flatten,
            dense(2),
        ],
        loss: mse,
        scalar: f64,
    }
}
chainrule::network! {
    /// Batch norm per channel, a 1x1 convolution (the pointwise path
    /// without a column matrix) and a strided 1x1 one (which needs it).
    struct Normalized {
        input: [3, 4, 5],
        layers: [
            conv2d(4, kernel = 1),
            batch_norm,
            tanh,
            conv2d(2, kernel = 1, stride = 2),
            batch_norm(momentum = 0.2),
            flatten,
            dense(2),
        ],
        loss: mse,
        scalar: f64,
    }
}

chainrule::network! {
    /// Each channel's maximum: the gradient goes to the winning position.
    struct GlobalMax {
        input: [2, 5, 6],
        layers: [conv2d(3, kernel = 3, padding = 1), tanh, global_max_pool, dense(2)],
        loss: mse,
        scalar: f64,
    }
}

#[test]
fn convolution_pooling_and_dense() {
    let targets: Vec<usize> = (0..4).map(|i| i % 3).collect();
    check_gradients(&mut ConvPoolDense::new(1), &samples::<72>(1, 4, 1.0), &targets);
}

#[test]
fn stride_dilation_padding_and_global_pooling() {
    check_gradients(&mut StridedDilated::new(2), &samples::<144>(2, 3, 1.0), &samples::<2>(3, 3, 1.0));
}

#[test]
fn global_max_pooling() {
    check_gradients(&mut GlobalMax::new(8), &samples::<60>(8, 3, 1.0), &samples::<2>(9, 3, 1.0));
}

#[test]
fn one_dimensional_convolutions_and_pooling() {
    check_gradients(&mut Signal::new(3), &samples::<24>(4, 3, 1.0), &samples::<2>(5, 3, 1.0));
}

#[test]
fn batch_norm_over_channels_and_pointwise_convolution() {
    check_gradients(&mut Normalized::new(4), &samples::<60>(6, 4, 1.0), &samples::<2>(7, 4, 1.0));
}

#[test]
fn shapes_and_parameter_layout_follow_pytorch() {
    let names: Vec<(&str, &[usize])> = ConvPoolDense::LAYOUT.iter().map(|p| (p.name, p.shape)).collect();
    assert_eq!(
        names,
        [
            ("layers.0.weight", &[3, 2, 3, 3][..]),
            ("layers.0.bias", &[3][..]),
            ("layers.4.weight", &[3, 27][..]),
            ("layers.4.bias", &[3][..]),
        ]
    );
    let names: Vec<(&str, &[usize])> = Signal::LAYOUT.iter().map(|p| (p.name, p.shape)).collect();
    assert_eq!(names[0], ("layers.0.weight", &[3, 2, 4][..]));
    assert_eq!(names[2], ("layers.2.weight", &[4, 3, 3][..]));
    // 12 -> same -> 12 -> (12 - 5) / 2 + 1 = 4 -> pool 2 -> 2 -> pool 2 stride 1 -> 1: 4 x 1 features.
    assert_eq!(names[4], ("layers.6.weight", &[2, 4][..]));
}
