//! Baked weights: little-endian bytes to values in `const` evaluation,
//! so a network's compiled-in weights are a `static` array with no parsing
//! at run time. Needs neither `std` nor `alloc`.

/// Little-endian bytes to `f32` values, at compile time: how baked weights
/// become a `static` array with no parsing at run time.
#[doc(hidden)]
pub const fn decode_f32<const N: usize>(bytes: &[u8]) -> [f32; N] {
    assert!(bytes.len() == 4 * N, "baked weights: wrong byte count");
    let mut out = [0.0f32; N];
    let mut i = 0;
    while i < N {
        let b = [bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]];
        out[i] = f32::from_le_bytes(b);
        i += 1;
    }
    out
}

/// Little-endian bytes to `f64` values, at compile time.
#[doc(hidden)]
pub const fn decode_f64<const N: usize>(bytes: &[u8]) -> [f64; N] {
    assert!(bytes.len() == 8 * N, "baked weights: wrong byte count");
    let mut out = [0.0f64; N];
    let mut i = 0;
    while i < N {
        let mut b = [0u8; 8];
        let mut j = 0;
        while j < 8 {
            b[j] = bytes[8 * i + j];
            j += 1;
        }
        out[i] = f64::from_le_bytes(b);
        i += 1;
    }
    out
}
