//! Weight files: PyTorch `state_dict` names and shapes, a lossless round
//! trip, and errors that name the tensor and leave the network unchanged.

use chainrule::Network;
use chainrule::weights::{load_bytes, save};
use safetensors::tensor::{Dtype, TensorView};

chainrule::network! {
    struct Net { input: [3], layers: [dense(4), batch_norm, relu, dense(2)], loss: mse }
}
chainrule::network! {
    struct Wide { input: [3], layers: [dense(5), batch_norm, relu, dense(2)], loss: mse }
}
chainrule::network! {
    struct Double { input: [3], layers: [dense(4), batch_norm, relu, dense(2)], loss: mse, scalar: f64 }
}

fn bytes_of<N: Network>(net: &N, tag: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("chainrule-weights-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    save(net, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

#[test]
fn round_trip_keeps_everything_with_pytorch_names() {
    let mut net = Net::new(3);
    net.state_mut().iter_mut().enumerate().for_each(|(i, v)| *v = i as f32 * 0.25);
    let bytes = bytes_of(&net, "round-trip");
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.num_batches_tracked",
            "layers.1.running_mean",
            "layers.1.running_var",
            "layers.1.weight",
            "layers.3.bias",
            "layers.3.weight",
        ]
    );
    assert_eq!(file.tensor("layers.0.weight").unwrap().shape(), [4, 3]);
    assert_eq!(file.tensor("layers.1.num_batches_tracked").unwrap().dtype(), Dtype::I64);
    let mut loaded = Net::new(4);
    load_bytes(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded.params(), net.params());
    assert_eq!(loaded.state(), net.state());
}

#[test]
fn mismatches_name_the_tensor_and_change_nothing() {
    let bytes = bytes_of(&Wide::new(1), "wide");
    let mut net = Net::new(2);
    let before = net.params().to_vec();
    let err = load_bytes(&mut net, &bytes).unwrap_err();
    assert!(err.contains("`layers.0.weight` has shape [5, 3], this network needs [4, 3]"), "{err}");
    assert_eq!(net.params(), &before[..]);

    let err = load_bytes(&mut net, &bytes_of(&Double::new(1), "double")).unwrap_err();
    assert!(err.contains("`layers.0.weight` holds F64"), "{err}");

    let err = load_bytes(&mut net, &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(err.starts_with("damaged file"), "{err}");
    assert_eq!(net.params(), &before[..]);
}

#[test]
fn missing_and_unexpected_tensors_are_named() {
    let one = |name: &str, shape: Vec<usize>| {
        let data = vec![0u8; 4 * shape.iter().product::<usize>()];
        safetensors::serialize([(name, TensorView::new(Dtype::F32, shape, &data).unwrap())], None).unwrap()
    };
    let mut net = Net::new(1);
    let err = load_bytes(&mut net, &one("layers.0.weight", vec![4, 3])).unwrap_err();
    assert!(err.contains("tensor `layers.0.bias` is missing"), "{err}");
    let err = load_bytes(&mut net, &one("encoder.weight", vec![4, 3])).unwrap_err();
    assert!(err.contains("`encoder.weight` is not part of this network"), "{err}");
}

/// A partial load reads what fits, keeps the rest, and names each tensor.
#[test]
fn partial_loads_report_loaded_skipped_and_missing_tensors() {
    let source = Wide::new(5);
    let dir = std::env::temp_dir().join(format!("chainrule-partial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wide.safetensors");
    save(&source, &path).unwrap();
    let mut net = Net::new(6);
    let before = net.params().to_vec();
    let report = chainrule::weights::load_partial(&mut net, &path).unwrap();
    // The batch norm's and the first layer's tensors are 5 wide in the file, 4 here.
    assert_eq!(report.loaded, ["layers.3.bias"]);
    let skipped: Vec<&str> = report.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert!(skipped.contains(&"layers.0.weight") && skipped.contains(&"layers.3.weight"), "{report}");
    assert!(
        report.skipped.iter().any(|(n, why)| n == "layers.0.weight" && why.contains("[5, 3]")),
        "{report}"
    );
    assert!(
        report.missing.contains(&"layers.0.weight".to_string())
            && report.missing.contains(&"layers.1.running_mean".to_string())
    );
    let bias = Net::LAYOUT.iter().find(|p| p.name == "layers.3.bias").unwrap();
    let source_bias = Wide::LAYOUT.iter().find(|p| p.name == "layers.3.bias").unwrap();
    assert_eq!(bias.slice(net.params()), source_bias.slice(source.params()));
    for p in Net::LAYOUT.iter().filter(|p| p.name != "layers.3.bias") {
        assert_eq!(p.slice(net.params()), p.slice(&before), "{} keeps its values", p.name);
    }
    assert!(report.to_string().starts_with("loaded 1 tensors: layers.3.bias"));

    // A damaged file is an error and changes nothing.
    std::fs::write(&path, b"not a safetensors file").unwrap();
    let kept = net.params().to_vec();
    assert!(chainrule::weights::load_partial(&mut net, &path).is_err());
    assert_eq!(net.params(), &kept[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}
