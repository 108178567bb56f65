//! The IDX loader on the real MNIST and Fashion-MNIST test sets (in
//! `../shared/data` beside the repository). Outside CI, a machine without
//! those files skips these checks with a message; in CI they must be there.

use chainrule::data::{Split, mnist};
use std::path::PathBuf;

fn shared(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "{} is missing in CI", dir.display());
    eprintln!("skipped: {} not found", dir.display());
    None
}

#[test]
fn mnist_test_set_has_its_published_statistics() {
    let Some(dir) = shared("mnist") else { return };
    let test = mnist::<f32>(&dir, Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
    let mut counts = [0usize; 10];
    test.targets().iter().for_each(|&t| counts[t] += 1);
    assert_eq!(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    let mean = test.inputs().iter().flatten().map(|&p| f64::from(p)).sum::<f64>() / (10_000.0 * 784.0);
    assert!((mean * 255.0 - 33.79).abs() < 0.01, "pixel mean {}", mean * 255.0);
    assert!(test.inputs().iter().flatten().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn fashion_mnist_test_set_is_balanced() {
    let Some(dir) = shared("fashion-mnist") else { return };
    let test = mnist::<f32>(&dir, Split::Test).unwrap();
    let mut counts = [0usize; 10];
    test.targets().iter().for_each(|&t| counts[t] += 1);
    assert_eq!(counts, [1000; 10]);
}

#[test]
fn a_truncated_gzip_file_is_an_error() {
    let Some(dir) = shared("mnist") else { return };
    let bytes = std::fs::read(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let tmp = std::env::temp_dir().join(format!("chainrule-idx-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("t10k-labels-idx1-ubyte.gz"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::copy(dir.join("t10k-images-idx3-ubyte.gz"), tmp.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let err = mnist::<f32>(&tmp, Split::Test).unwrap_err().to_string();
    assert!(err.contains("t10k-labels-idx1-ubyte.gz"), "{err}");
    std::fs::remove_dir_all(&tmp).unwrap();
}
