//! Values that start on a cache line. The batch-1 kernels load 64 bytes at
//! a time (16 `f32` on AVX-512); a load that straddles two lines costs two,
//! and a product that reads every weight once per call is bound by its
//! loads. Heap buffers and compiled-in weights of a network are wrapped in
//! [`Aligned`], and the inference copy lays each tensor out from a line.

use core::ops::{Deref, DerefMut};

/// `T` on a 64-byte boundary.
///
/// # Example
/// ```
/// use chainrule::__private::Aligned;
/// static VALUES: Aligned<[f32; 3]> = Aligned([1.0, 2.0, 3.0]);
/// assert_eq!(VALUES.as_ptr() as usize % 64, 0);
/// assert_eq!(VALUES[1], 2.0);
/// ```
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aligned<T>(pub T);

impl<T> Deref for Aligned<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Aligned<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}
