//! Weight files exchanged with PyTorch (`tests/fixtures/make_weight_fixtures.py`
//! makes the fixtures and checks the other direction): a PyTorch
//! `state_dict` saved as safetensors loads into the matching chainrule
//! network, which then computes PyTorch's outputs. f32 on both sides, and
//! chainrule's fast tanh and exp, so outputs agree to about 1e-6.

use chainrule::{Network, Workspace, weights};
use serde_json::Value;
use std::path::Path;

chainrule::network! {
    struct Dense { input: [6], layers: [dense(8), batch_norm, relu, dense(3)], loss: mse }
}
chainrule::network! {
    struct Conv {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3, padding = 1), batch_norm, relu, max_pool2d(2), flatten, dense(3)],
        loss: mse,
    }
}
chainrule::network! {
    struct Lstm { input: [5, 3], layers: [lstm(4), dense(2)], loss: mse }
}
chainrule::network! {
    struct Gru { input: [4, 2], layers: [gru(3, sequence = true), flatten], loss: mse }
}

chainrule::network! {
    /// The dense case with PyTorch's weights compiled in.
    struct BakedDense {
        input: [6],
        layers: [dense(8), batch_norm, relu, dense(3)],
        loss: mse,
        weights: "tests/fixtures/weights/dense.safetensors",
    }
}

chainrule::network! {
    /// The LSTM case with PyTorch's weights compiled in.
    struct BakedLstm {
        input: [5, 3],
        layers: [lstm(4), dense(2)],
        loss: mse,
        weights: "tests/fixtures/weights/lstm.safetensors",
    }
}

fn fixtures() -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/weights/expected.json");
    serde_json::from_str(&std::fs::read_to_string(dir).unwrap()).unwrap()
}

fn rows<const N: usize>(v: &Value) -> Vec<[f32; N]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let values: Vec<f32> =
                row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            values.try_into().unwrap()
        })
        .collect()
}

/// Loads `<name>.safetensors` into `net`, checks both inference paths
/// against PyTorch's outputs.
fn check<N, const I: usize, const O: usize>(name: &str, mut net: N)
where
    N: Network<Scalar = f32, Input = [f32; I], Output = [f32; O]>,
{
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/weights/{name}.safetensors"));
    weights::load(&mut net, &file).unwrap();
    matches_pytorch(name, &net);
}

fn matches_pytorch<N, const I: usize, const O: usize>(name: &str, net: &N)
where
    N: Network<Scalar = f32, Input = [f32; I], Output = [f32; O]>,
{
    let case = &fixtures()["cases"][name];
    let inputs: Vec<[f32; I]> = rows(&case["inputs"]);
    let expected: Vec<[f32; O]> = rows(&case["outputs"]);
    let mut outputs = vec![[0.0; O]; inputs.len()];
    net.predict_batch(&inputs, &mut outputs, &mut Workspace::new()).unwrap();
    for ((x, ours), theirs) in inputs.iter().zip(&outputs).zip(&expected) {
        for ((a, b), c) in ours.iter().zip(theirs).zip(net.predict(x)) {
            assert!((a - b).abs() < 1e-5 && (c - b).abs() < 1e-5, "{name}: {a} and {c} vs PyTorch {b}");
        }
    }
}

#[test]
fn pytorch_weights_load_and_match() {
    check("dense", Dense::new(0));
    check("conv", Conv::new(0));
    check("lstm", Lstm::new(0));
    check("gru", Gru::new(0));
}

/// PyTorch's weights compiled in: `trained()` reads them in place (every
/// instance points at the same static data) and computes PyTorch's
/// outputs; training such a network first copies the weights.
#[test]
fn compiled_in_pytorch_weights_match() {
    let (a, mut b) = (BakedDense::trained(), BakedDense::trained());
    assert_eq!(a.params().as_ptr(), b.params().as_ptr(), "read in place, not copied");
    matches_pytorch("dense", &a);
    b.params_mut()[0] += 1.0;
    assert_ne!(a.params().as_ptr(), b.params().as_ptr(), "written to a copy");
    assert_ne!(a.params()[0], b.params()[0]);
}

/// The inference copy of compiled-in weights is laid out at compile time
/// by the same function the runtime lays it out with: the baked network
/// and one built from its parameters compute the same bits.
#[test]
fn weights_laid_out_at_compile_time_match_the_runtime_layout() {
    let baked = BakedLstm::trained();
    matches_pytorch("lstm", &baked);
    let built = BakedLstm::from_params(baked.params()).unwrap();
    let case = &fixtures()["cases"]["lstm"];
    for x in rows::<15>(&case["inputs"]) {
        assert_eq!(baked.predict(&x), built.predict(&x));
    }
}

/// The other direction, run by the fixture script: writes each network's
/// weights (with running statistics set) and outputs for PyTorch to check.
#[test]
#[ignore = "run by tests/fixtures/make_weight_fixtures.py"]
fn write_for_pytorch() {
    let Some(dir) = std::env::var_os("CHAINRULE_EXPORT_DIR") else { return };
    let dir = Path::new(&dir);
    fn export<N: Network<Scalar = f32>>(dir: &Path, name: &str, mut net: N, inputs: Vec<N::Input>)
    where
        N::Input: AsRef<[f32]>,
    {
        net.state_mut().iter_mut().enumerate().for_each(|(i, v)| *v = 0.5 + (i % 7) as f32 * 0.1);
        weights::save(&net, dir.join(format!("{name}.safetensors"))).unwrap();
        let outputs: Vec<Vec<f32>> = inputs.iter().map(|x| net.predict(x).as_ref().to_vec()).collect();
        let inputs: Vec<Vec<f32>> = inputs.iter().map(|x| x.as_ref().to_vec()).collect();
        let json = serde_json::json!({ "inputs": inputs, "outputs": outputs });
        std::fs::write(dir.join(format!("{name}.json")), json.to_string()).unwrap();
    }
    fn batch<const N: usize>() -> Vec<[f32; N]> {
        (0..4).map(|s| core::array::from_fn(|i| ((i * 7 + s * 13) % 17) as f32 / 8.0 - 1.0)).collect()
    }
    export(dir, "dense", Dense::new(1), batch());
    export(dir, "conv", Conv::new(2), batch());
    export(dir, "lstm", Lstm::new(3), batch());
    export(dir, "gru", Gru::new(4), batch());
}
