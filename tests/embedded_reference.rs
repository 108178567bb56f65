//! The `embedded/` crate compiles a CNN and an LSTM without `std` or
//! `alloc`; its tests compare their outputs with `embedded/src/reference.rs`,
//! the outputs of the same networks built with `std` for the inputs of
//! PyTorch's fixtures. This test builds those networks with `std` and holds
//! the file to what they compute today (within 1e-6: another CPU rounds
//! differently); `CHAINRULE_BLESS=1` rewrites it.

use chainrule::Network;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

chainrule::network! {
    struct Conv {
        input: [1, 8, 8],
        layers: [conv2d(4, kernel = 3, padding = 1), batch_norm, relu, max_pool2d(2), flatten, dense(3)],
        loss: mse,
        weights: "tests/fixtures/weights/conv.safetensors",
    }
}
chainrule::network! {
    struct Lstm {
        input: [5, 3],
        layers: [lstm(4), dense(2)],
        loss: mse,
        weights: "tests/fixtures/weights/lstm.safetensors",
    }
}

mod reference {
    include!("../embedded/src/reference.rs");
}

fn inputs<const N: usize>(case: &str) -> Vec<[f32; N]> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/weights/expected.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"][case]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let row: Vec<f32> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            row.try_into().unwrap()
        })
        .collect()
}

/// A `const` of `rows` as Rust source, kept as written by rustfmt.
fn constant<const N: usize>(out: &mut String, name: &str, rows: &[[f32; N]]) {
    writeln!(out, "#[rustfmt::skip]\npub const {name}: [[f32; {N}]; {}] = [", rows.len()).unwrap();
    for row in rows {
        let values: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        writeln!(out, "    [{}],", values.join(", ")).unwrap();
    }
    out.push_str("];\n");
}

fn close<const N: usize>(name: &str, file: &[[f32; N]], now: &[[f32; N]]) {
    assert_eq!(file.len(), now.len(), "{name}: run with CHAINRULE_BLESS=1");
    for (a, b) in file.iter().flatten().zip(now.iter().flatten()) {
        assert!(
            (a - b).abs() <= 1e-6,
            "{name}: the file has {a}, the std build computes {b}; run with CHAINRULE_BLESS=1"
        );
    }
}

#[test]
fn the_embedded_reference_is_what_the_std_build_computes() {
    let (conv_in, lstm_in) = (inputs::<64>("conv"), inputs::<15>("lstm"));
    let conv_out: Vec<[f32; 3]> = conv_in.iter().map(|x| Conv::trained().predict(x)).collect();
    let lstm_out: Vec<[f32; 2]> = lstm_in.iter().map(|x| Lstm::trained().predict(x)).collect();
    if std::env::var_os("CHAINRULE_BLESS").is_some() {
        let mut text = String::from(
            "// Inputs of PyTorch's fixtures (`tests/fixtures/weights/expected.json`) and\n\
             // what the `std` build of each network computes for them. Written by\n\
             // `tests/embedded_reference.rs` (`CHAINRULE_BLESS=1`), which checks it.\n\n",
        );
        constant(&mut text, "CONV_INPUTS", &conv_in);
        constant(&mut text, "CONV_OUTPUTS", &conv_out);
        constant(&mut text, "LSTM_INPUTS", &lstm_in);
        constant(&mut text, "LSTM_OUTPUTS", &lstm_out);
        std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("embedded/src/reference.rs"), text)
            .unwrap();
        return;
    }
    assert_eq!(reference::CONV_INPUTS.as_slice(), conv_in.as_slice(), "run with CHAINRULE_BLESS=1");
    assert_eq!(reference::LSTM_INPUTS.as_slice(), lstm_in.as_slice(), "run with CHAINRULE_BLESS=1");
    close("CONV_OUTPUTS", &reference::CONV_OUTPUTS, &conv_out);
    close("LSTM_OUTPUTS", &reference::LSTM_OUTPUTS, &lstm_out);
}
