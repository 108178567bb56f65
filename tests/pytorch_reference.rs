//! Generated networks against PyTorch: the same parameters and inputs give
//! the same outputs, loss and gradients. For dropout, the fixture script
//! draws chainrule's mask stream in Python, so both sides drop the same units. The reference values come from
//! `tests/fixtures/make_fixtures.py` (see its header to regenerate them).
//!
//! Tolerance: both sides compute in f64, but in different orders and with
//! different formulas for some functions (PyTorch's softplus switches to `x`
//! above 20, its GELU uses its own erf), so values agree to about 1e-12;
//! the test allows 1e-9 relative to the larger of the value and 1.

use chainrule::{Network, Workspace};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    param_names: Vec<String>,
    params: Vec<f64>,
    state_names: Vec<String>,
    state: Vec<f64>,
    inputs: Vec<Vec<f64>>,
    targets: Value,
    outputs: Vec<Vec<f64>>,
    loss: f64,
    grad: Vec<f64>,
    /// A weight per sample, for the networks declared with `sample_weights: true`.
    #[serde(default)]
    sample_weights: Option<Vec<f64>>,
}

fn fixtures() -> Vec<Case> {
    let text = include_str!("fixtures/toolbox.json");
    serde_json::from_str::<Fixtures>(text).unwrap().cases
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Targets of a case as the network's target type.
trait FromJson: Sized {
    fn from_json(v: &Value) -> Self;
}

impl<const N: usize> FromJson for [f64; N] {
    fn from_json(v: &Value) -> Self {
        let values: Vec<f64> = serde_json::from_value(v.clone()).unwrap();
        values.try_into().unwrap()
    }
}

impl<const N: usize> FromJson for [usize; N] {
    fn from_json(v: &Value) -> Self {
        let classes: Vec<usize> = serde_json::from_value(v.clone()).unwrap();
        classes.try_into().unwrap()
    }
}

impl FromJson for usize {
    fn from_json(v: &Value) -> Self {
        v.as_u64().unwrap() as usize
    }
}

/// One input value: a number, or a token id (stored as a number).
trait InputValue: Copy {
    fn from_f64(v: f64) -> Self;
}

impl InputValue for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl InputValue for u32 {
    fn from_f64(v: f64) -> Self {
        assert!(v >= 0.0 && v.fract() == 0.0, "a token id: {v}");
        v as u32
    }
}

fn check<N, E: InputValue, const I: usize>(case: &Case)
where
    N: Network<Scalar = f64, Input = [E; I]>,
    N::Target: FromJson,
    N::Output: AsRef<[f64]>,
    N: FromParams,
{
    let names: Vec<String> = N::LAYOUT.iter().map(|p| p.name.to_string()).collect();
    let torch_names: Vec<String> = case.param_names.iter().map(|n| format!("layers.{n}")).collect();
    assert_eq!(names, torch_names, "{}: parameter names", case.name);
    let mut net = N::build(&case.params);
    let inputs: Vec<[E; I]> =
        case.inputs.iter().map(|x| std::array::from_fn(|k| E::from_f64(x[k]))).collect();
    assert!(case.inputs.iter().all(|x| x.len() == I), "{}: input width", case.name);
    let targets: Vec<N::Target> = case.targets.as_array().unwrap().iter().map(N::Target::from_json).collect();
    let mut ws = Workspace::new();
    // One training-mode evaluation, as the fixture script does...
    let mut grad = vec![0.0; N::PARAM_LEN];
    let loss = match &case.sample_weights {
        Some(weights) => net.weighted_loss_and_grad(&inputs, &targets, weights, &mut grad, &mut ws).unwrap(),
        None => net.loss_and_grad(&inputs, &targets, &mut grad, &mut ws).unwrap(),
    };
    assert!(close(loss, case.loss), "{}: loss {loss} vs PyTorch {}", case.name, case.loss);
    for (i, (a, b)) in grad.iter().zip(&case.grad).enumerate() {
        assert!(close(*a, *b), "{}: gradient {i} is {a}, PyTorch says {b}", case.name);
    }
    // ...which moved the running statistics...
    let state_names: Vec<String> = N::STATE_LAYOUT.iter().map(|p| p.name.to_string()).collect();
    let torch_state: Vec<String> = case.state_names.iter().map(|n| format!("layers.{n}")).collect();
    assert_eq!(state_names, torch_state, "{}: state names", case.name);
    for (a, b) in net.state().iter().zip(&case.state) {
        assert!(close(*a, *b), "{}: running statistic {a} vs PyTorch {b}", case.name);
    }
    // ...and then inference, in both paths.
    let mut outputs = vec![N::zero_output(); inputs.len()];
    net.predict_batch(&inputs, &mut outputs, &mut ws).unwrap();
    for (ours, theirs) in outputs.iter().zip(&case.outputs) {
        for (a, b) in ours.as_ref().iter().zip(theirs) {
            assert!(close(*a, *b), "{}: output {a} vs PyTorch {b}", case.name);
        }
    }
    for (x, theirs) in inputs.iter().zip(&case.outputs) {
        for (a, b) in net.predict(x).as_ref().iter().zip(theirs) {
            assert!(close(*a, *b), "{}: batch-1 output {a} vs PyTorch {b}", case.name);
        }
    }
}

/// `from_params` is generated per network; this gives tests one name for it.
trait FromParams {
    fn build(params: &[f64]) -> Self;
}

macro_rules! reference {
    ($name:ident { $($body:tt)* }) => {
        reference!($name [3] { $($body)* });
    };
    ($name:ident [u32; $len:literal] { $($body:tt)* }) => {
        chainrule::network! {
            struct $name { input: [u32; $len], $($body)*, scalar: f64 }
        }
        impl FromParams for $name {
            fn build(params: &[f64]) -> Self {
                Self::from_params(params).unwrap()
            }
        }
    };
    ($name:ident [$($dim:literal),+] { $($body:tt)* }) => {
        chainrule::network! {
            struct $name { input: [$($dim),+], $($body)*, scalar: f64 }
        }
        impl FromParams for $name {
            fn build(params: &[f64]) -> Self {
                Self::from_params(params).unwrap()
            }
        }
    };
}

reference!(Sigmoid { layers: [dense(5), sigmoid, dense(2)], loss: mse });
reference!(Tanh { layers: [dense(5), tanh, dense(2)], loss: mse });
reference!(Relu { layers: [dense(5), relu, dense(2)], loss: mse });
reference!(LeakyRelu { layers: [dense(5), leaky_relu(0.1), dense(2)], loss: mse });
reference!(Elu { layers: [dense(5), elu(1.5), dense(2)], loss: mse });
reference!(Softplus { layers: [dense(5), softplus, dense(2)], loss: mse });
reference!(Gelu { layers: [dense(5), gelu, dense(2)], loss: mse });
reference!(GeluTanh { layers: [dense(5), gelu(tanh), dense(2)], loss: mse });
reference!(Swish { layers: [dense(5), swish, dense(2)], loss: mse });
reference!(Identity { layers: [dense(5), identity, dense(2)], loss: mse });
reference!(SoftmaxLayer { layers: [dense(4), softmax], loss: mse });
reference!(Mse { layers: [dense(4), tanh, dense(2), identity], loss: mse });
reference!(Mae { layers: [dense(4), tanh, dense(2), identity], loss: mae });
reference!(Huber { layers: [dense(4), tanh, dense(2), identity], loss: huber(0.3) });
reference!(Bce { layers: [dense(4), tanh, dense(2), sigmoid], loss: binary_cross_entropy });
reference!(BceLogits {
    layers: [dense(4), tanh, dense(2), identity],
    loss: binary_cross_entropy_with_logits
});
reference!(Hinge { layers: [dense(4), tanh, dense(2)], loss: hinge });
reference!(SoftmaxCe { layers: [dense(6), relu, dense(4)], loss: softmax_cross_entropy });
reference!(L1L2 { layers: [dense(4), tanh, dense(2)], loss: mse, regularizer: l1(0.05) + l2(0.1) });
reference!(CustomActivation {
    layers: [dense(5), activation(|x| x * sigmoid(x) + 0.1 * x.powi(3) - min(x, 0.2)), dense(2)],
    loss: mse
});
reference!(CustomLoss {
    layers: [dense(4), tanh, dense(2)],
    loss: |y, t| (y - t).abs() + 0.5 * (y - t).powi(2) + sigmoid(y) * t
});
reference!(LogCoshLoss { layers: [dense(4), tanh, dense(2)], loss: |y, t| ln(cosh(y - t)) });
reference!(NaiveSoftplus { layers: [dense(5), activation(|x| ln(1.0 + exp(x))), dense(2)], loss: mse });
reference!(BatchNorm { layers: [dense(5), batch_norm, relu, dense(2)], loss: mse });
reference!(BatchNormMomentum {
    layers: [dense(4), tanh, batch_norm(momentum = 0.3, eps = 1e-3), dense(2)],
    loss: mse
});
reference!(Residual {
    layers: [
        dense(4),
        tanh,
        residual[dense(6), relu, dense(4)],
        residual[dense(4), tanh, residual[dense(4), sigmoid]],
        dense(2),
    ],
    loss: mse
});
reference!(Dropout { layers: [dense(6), tanh, dropout(0.4), dense(2)], loss: mse });
reference!(LogSoftmaxLayer { layers: [dense(4), log_softmax], loss: mse });
reference!(Nll { layers: [dense(6), tanh, dense(4), log_softmax], loss: nll });
reference!(WeightedSoftmaxCe {
    layers: [dense(6), relu, dense(4)],
    loss: softmax_cross_entropy(weights = [0.5, 2.0, 1.0, 3.0])
});
reference!(WeightedNll {
    layers: [dense(6), tanh, dense(4), log_softmax],
    loss: nll(weights = [0.5, 2.0, 1.0, 3.0])
});
reference!(SampleWeightedMse { layers: [dense(4), tanh, dense(2)], loss: mse, sample_weights: true });
reference!(SampleWeightedBceLogits {
    layers: [dense(4), tanh, dense(2)],
    loss: binary_cross_entropy_with_logits,
    sample_weights: true
});
reference!(SampleWeightedSoftmaxCe {
    layers: [dense(6), relu, dense(4)],
    loss: softmax_cross_entropy,
    sample_weights: true
});
reference!(SampleAndClassWeighted {
    layers: [dense(6), relu, dense(4)],
    loss: softmax_cross_entropy(weights = [0.5, 2.0, 1.0, 3.0]),
    sample_weights: true
});
reference!(MulticlassHinge { layers: [dense(6), tanh, dense(4)], loss: multiclass_hinge });
reference!(SoftmaxCeProbabilities {
    layers: [dense(6), relu, dense(4)],
    loss: softmax_cross_entropy(probabilities)
});
reference!(L2Biases { layers: [dense(4), tanh, dense(2)], loss: mse, regularizer: l2(0.1, biases = true) });

reference!(Conv2dPadding [2, 6, 6] {
    layers: [conv2d(3, kernel = 3, padding = 1), tanh, max_pool2d(2), flatten, dense(2)],
    loss: mse
});
reference!(Conv2dStrideDilation [2, 9, 8] {
    layers: [
        conv2d(4, kernel = (3, 2), stride = (2, 1), padding = (1, 2), dilation = (2, 1)),
        sigmoid,
        avg_pool2d(2, 1),
        global_avg_pool,
        dense(2),
    ],
    loss: mse
});
reference!(Conv2dSameEvenKernel [1, 5, 6] {
    layers: [conv2d(3, kernel = (4, 2), padding = same), relu, max_pool2d((2, 3), (1, 2)), flatten, dense(4)],
    loss: softmax_cross_entropy
});
reference!(Conv1d [2, 12] {
    layers: [
        conv1d(3, kernel = 4, padding = same),
        relu,
        conv1d(4, kernel = 3, stride = 2, dilation = 2),
        max_pool1d(2),
        avg_pool1d(2, 1),
        flatten,
        dense(2),
    ],
    loss: mse
});
reference!(CausalConv1d [2, 16] {
    layers: [
        conv1d(4, kernel = 3, dilation = 2, padding = causal, bias = false),
        tanh,
        conv1d(3, kernel = 2, dilation = 4, padding = causal),
        flatten,
        dense(2),
    ],
    loss: mse
});
reference!(BatchNorm2d [3, 4, 5] {
    layers: [
        conv2d(4, kernel = 1),
        batch_norm,
        tanh,
        conv2d(2, kernel = 3, padding = same),
        batch_norm(momentum = 0.2),
        flatten,
        dense(2),
    ],
    loss: mse
});
reference!(BatchNorm1dChannels [3, 7] {
    layers: [conv1d(4, kernel = 3), batch_norm, relu, global_avg_pool, dense(2)],
    loss: mse
});

reference!(RnnLast [5, 3] { layers: [rnn(4), dense(2)], loss: mse });
reference!(LstmLast [6, 3] { layers: [lstm(4), dense(2)], loss: mse });
reference!(GruLast [6, 2] { layers: [gru(3), dense(2)], loss: mse });
reference!(StackedRecurrent [5, 3] {
    layers: [lstm(4, sequence = true), gru(3, sequence = true), rnn(3), dense(2)],
    loss: mse
});
reference!(LstmSequence [4, 2] { layers: [lstm(3, sequence = true), flatten], loss: mse });
reference!(GlobalMaxPool [2, 5, 6] {
    layers: [conv2d(3, kernel = 3, padding = 1), tanh, global_max_pool, dense(2)],
    loss: mse
});
reference!(GlobalMaxPool1d [2, 9] { layers: [conv1d(4, kernel = 3), relu, global_max_pool, dense(2)], loss: mse });
reference!(DensePerStep [4, 3] {
    layers: [dense(5), tanh, lstm(4, sequence = true), dense(3), flatten, dense(2)],
    loss: mse
});

reference!(LayerNorm { layers: [dense(5), layer_norm, tanh, dense(2)], loss: mse });
reference!(LayerNormSequence [4, 3] {
    layers: [lstm(4, sequence = true), layer_norm(eps = 1e-3), flatten, dense(2)],
    loss: mse
});

reference!(Embedding [u32; 5] { layers: [embedding(7, 3), tanh, flatten, dense(2)], loss: mse });
reference!(EmbeddingLstm [u32; 5] { layers: [embedding(7, 4), lstm(3), dense(4)], loss: softmax_cross_entropy });

reference!(Attention [4, 6] {
    layers: [dense(8), positional_embedding, attention(2), flatten, dense(2)],
    loss: mse
});
reference!(CausalAttention [5, 4] {
    layers: [attention(2, causal = true), layer_norm, flatten, dense(4)],
    loss: softmax_cross_entropy
});

reference!(Transformer [u32; 6] {
    layers: [
        embedding(9, 8),
        positional_embedding,
        residual[layer_norm, attention(2, causal = true)],
        residual[layer_norm, dense(16), gelu, dense(8)],
        layer_norm,
        dense(9),
    ],
    loss: softmax_cross_entropy
});

#[test]
fn every_case_matches_pytorch() {
    let cases = fixtures();
    assert_eq!(cases.len(), 60);
    for case in &cases {
        match case.name.as_str() {
            "sigmoid" => check::<Sigmoid, _, _>(case),
            "tanh" => check::<Tanh, _, _>(case),
            "relu" => check::<Relu, _, _>(case),
            "leaky_relu" => check::<LeakyRelu, _, _>(case),
            "elu" => check::<Elu, _, _>(case),
            "softplus" => check::<Softplus, _, _>(case),
            "gelu" => check::<Gelu, _, _>(case),
            "gelu_tanh" => check::<GeluTanh, _, _>(case),
            "swish" => check::<Swish, _, _>(case),
            "identity" => check::<Identity, _, _>(case),
            "softmax_layer" => check::<SoftmaxLayer, _, _>(case),
            "mse" => check::<Mse, _, _>(case),
            "mae" => check::<Mae, _, _>(case),
            "huber" => check::<Huber, _, _>(case),
            "binary_cross_entropy" => check::<Bce, _, _>(case),
            "binary_cross_entropy_with_logits" => check::<BceLogits, _, _>(case),
            "hinge" => check::<Hinge, _, _>(case),
            "softmax_cross_entropy" => check::<SoftmaxCe, _, _>(case),
            "l1_l2" => check::<L1L2, _, _>(case),
            "l2_biases" => check::<L2Biases, _, _>(case),
            "custom_activation" => check::<CustomActivation, _, _>(case),
            "custom_loss" => check::<CustomLoss, _, _>(case),
            "log_cosh_loss" => check::<LogCoshLoss, _, _>(case),
            "weighted_softmax_cross_entropy" => check::<WeightedSoftmaxCe, _, _>(case),
            "weighted_nll" => check::<WeightedNll, _, _>(case),
            "sample_weighted_mse" => check::<SampleWeightedMse, _, _>(case),
            "sample_weighted_bce_with_logits" => check::<SampleWeightedBceLogits, _, _>(case),
            "sample_weighted_softmax_cross_entropy" => check::<SampleWeightedSoftmaxCe, _, _>(case),
            "sample_and_class_weighted" => check::<SampleAndClassWeighted, _, _>(case),
            "naive_softplus" => check::<NaiveSoftplus, _, _>(case),
            "log_softmax_layer" => check::<LogSoftmaxLayer, _, _>(case),
            "residual" => check::<Residual, _, _>(case),
            "dropout" => check::<Dropout, _, _>(case),
            "batch_norm" => check::<BatchNorm, _, _>(case),
            "batch_norm_momentum" => check::<BatchNormMomentum, _, _>(case),
            "nll" => check::<Nll, _, _>(case),
            "multiclass_hinge" => check::<MulticlassHinge, _, _>(case),
            "softmax_cross_entropy_probabilities" => check::<SoftmaxCeProbabilities, _, _>(case),
            "conv2d_padding" => check::<Conv2dPadding, _, _>(case),
            "conv2d_stride_dilation" => check::<Conv2dStrideDilation, _, _>(case),
            "conv2d_same_even_kernel" => check::<Conv2dSameEvenKernel, _, _>(case),
            "conv1d" => check::<Conv1d, _, _>(case),
            "batch_norm2d" => check::<BatchNorm2d, _, _>(case),
            "batch_norm1d_channels" => check::<BatchNorm1dChannels, _, _>(case),
            "rnn_last" => check::<RnnLast, _, _>(case),
            "lstm_last" => check::<LstmLast, _, _>(case),
            "gru_last" => check::<GruLast, _, _>(case),
            "stacked_recurrent" => check::<StackedRecurrent, _, _>(case),
            "lstm_sequence" => check::<LstmSequence, _, _>(case),
            "dense_per_step" => check::<DensePerStep, _, _>(case),
            "global_max_pool" => check::<GlobalMaxPool, _, _>(case),
            "global_max_pool1d" => check::<GlobalMaxPool1d, _, _>(case),
            "layer_norm" => check::<LayerNorm, _, _>(case),
            "layer_norm_sequence" => check::<LayerNormSequence, _, _>(case),
            "embedding" => check::<Embedding, _, _>(case),
            "embedding_lstm" => check::<EmbeddingLstm, _, _>(case),
            "attention" => check::<Attention, _, _>(case),
            "causal_attention" => check::<CausalAttention, _, _>(case),
            "transformer" => check::<Transformer, _, _>(case),
            "causal_conv1d" => check::<CausalConv1d, _, _>(case),
            other => panic!("no network for fixture case `{other}`"),
        }
    }
}
