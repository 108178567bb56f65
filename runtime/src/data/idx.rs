//! The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//!
//! An IDX file is a 4-byte magic (`0, 0, type, dimensions`), one big-endian
//! `u32` per dimension, then the values. Only unsigned bytes (type `0x08`)
//! are read here. The header is checked against the payload before anything
//! is allocated from it: a damaged or hostile header cannot request more
//! memory than the file holds.

use super::{Dataset, read_maybe_gzip};
use crate::{Error, Result, Scalar};
use std::path::Path;

/// The dimensions and bytes of an IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// Size of each dimension, outermost first.
    pub dims: Vec<usize>,
    /// All values, row-major.
    pub data: Vec<u8>,
}

/// Parses IDX bytes; `path` is only for messages.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<Idx> {
    let bad = |message: String| Error::Malformed { path: path.to_owned(), line: 0, message };
    let [0, 0, kind, ndim] = *bytes.get(..4).ok_or_else(|| bad("shorter than an IDX header".into()))? else {
        return Err(bad("not an IDX file (the magic number does not start with two zero bytes)".into()));
    };
    if kind != 0x08 {
        return Err(bad(format!("IDX value type 0x{kind:02x} is not unsigned bytes (0x08)")));
    }
    let header = 4 + 4 * usize::from(ndim);
    let dims_bytes =
        bytes.get(4..header).ok_or_else(|| bad(format!("header of {ndim} dimensions is cut short")))?;
    let dims: Vec<usize> =
        dims_bytes.chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).collect();
    let payload = &bytes[header..];
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match expected {
        Some(n) if n == payload.len() => Ok(Idx { dims, data: payload.to_vec() }),
        Some(n) => Err(bad(format!(
            "dimensions {dims:?} need {n} bytes of data but the file holds {}",
            payload.len()
        ))),
        None => Err(bad(format!("dimensions {dims:?} overflow"))),
    }
}

/// Reads an IDX file (plain or gzip).
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx> {
    let path = path.as_ref();
    parse_idx(&read_maybe_gzip(path)?, path)
}

/// Reads an image file and its label file into a dataset of `N`-pixel
/// images scaled to [0, 1] and class indices.
pub fn read_idx_dataset<S: Scalar, const N: usize>(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<Dataset<[S; N], usize>> {
    let (images, labels) = (read_idx(images)?, read_idx(labels)?);
    if images.dims.len() < 2 || images.dims[1..].iter().product::<usize>() != N {
        return Err(Error::Dataset(format!(
            "images of dimensions {:?} do not have {N} values each",
            images.dims
        )));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(Error::Dataset(format!(
            "{} images but labels of dimensions {:?}",
            images.dims[0], labels.dims
        )));
    }
    let scale = S::of_f64(1.0 / 255.0);
    let inputs =
        images.data.chunks_exact(N).map(|px| core::array::from_fn(|i| S::of_f64(f64::from(px[i])) * scale));
    Dataset::new(inputs.collect(), labels.data.iter().map(|&l| usize::from(l)).collect())
}

/// Which part of an MNIST-style directory to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` (60,000).
    Train,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (10,000).
    Test,
}

/// Reads MNIST or Fashion-MNIST from `dir`, which holds the four files
/// under their usual names, each plain or with `.gz` appended. Pixels are
/// scaled to [0, 1].
pub fn mnist<S: Scalar>(dir: impl AsRef<Path>, split: Split) -> Result<Dataset<[S; 784], usize>> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let find = |stem: String| {
        let plain = dir.as_ref().join(&stem);
        let gz = dir.as_ref().join(format!("{stem}.gz"));
        if plain.exists() { plain } else { gz }
    };
    read_idx_dataset(find(format!("{prefix}-images-idx3-ubyte")), find(format!("{prefix}-labels-idx1-ubyte")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
        b.extend(data);
        b
    }

    #[test]
    fn reads_a_well_formed_file() {
        let parsed = parse_idx(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), Path::new("x")).unwrap();
        assert_eq!(parsed, Idx { dims: vec![2, 3], data: vec![1, 2, 3, 4, 5, 6] });
    }

    #[test]
    fn damaged_headers_are_errors_without_large_allocations() {
        let p = Path::new("f");
        let cases: [(Vec<u8>, &str); 6] = [
            (vec![0, 0], "shorter than an IDX header"),
            (vec![1, 2, 8, 1, 0, 0, 0, 1, 7], "not an IDX file"),
            (vec![0, 0, 0x0d, 1, 0, 0, 0, 1, 7], "is not unsigned bytes"),
            (vec![0, 0, 8, 3, 0, 0, 0, 1], "cut short"),
            (idx(&[60000, 28, 28], &[0; 10]), "need 47040000 bytes of data but the file holds 10"),
            (idx(&[u32::MAX, u32::MAX, u32::MAX], &[]), "overflow"),
        ];
        for (bytes, expected) in cases {
            let err = parse_idx(&bytes, p).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }
}
