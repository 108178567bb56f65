//! Where a network's parameters and running statistics live: in its own
//! heap buffer, or in static data compiled into the binary (`weights:` in
//! the declaration), which inference reads in place. Writing to baked
//! values (training a compiled-in network) first copies them to the heap.

use crate::Scalar;
use crate::aligned::Aligned;
use std::ops::{Deref, DerefMut};

/// A fixed-size buffer of `N` values, owned or baked into the binary,
/// from the start of a cache line either way.
#[doc(hidden)]
pub enum Buffer<S: 'static, const N: usize> {
    /// Values compiled into the binary, read in place.
    Baked(&'static Aligned<[S; N]>),
    /// Values on the heap (a box, never the stack: layers can be large).
    Owned(Box<Aligned<[S; N]>>),
}

impl<S: Scalar, const N: usize> Buffer<S, N> {
    /// The values, owned: copies baked ones to the heap on first use.
    pub fn to_mut(&mut self) -> &mut [S; N] {
        if let Buffer::Baked(values) = *self {
            let mut owned = crate::__private::zeroed_params::<S, N>();
            owned.copy_from_slice(&values[..]);
            *self = Buffer::Owned(owned);
        }
        match self {
            Buffer::Owned(values) => values,
            Buffer::Baked(_) => unreachable!("converted above"),
        }
    }
}

impl<S: Clone + 'static, const N: usize> Clone for Buffer<S, N> {
    fn clone(&self) -> Self {
        match self {
            Buffer::Baked(values) => Buffer::Baked(values),
            Buffer::Owned(values) => Buffer::Owned(values.clone()),
        }
    }
}

impl<S: std::fmt::Debug + 'static, const N: usize> std::fmt::Debug for Buffer<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.deref()[..].fmt(f)
    }
}

impl<S: PartialEq + 'static, const N: usize> PartialEq for Buffer<S, N> {
    fn eq(&self, other: &Self) -> bool {
        self.deref()[..] == other.deref()[..]
    }
}

impl<S: 'static, const N: usize> Deref for Buffer<S, N> {
    type Target = [S; N];

    #[inline]
    fn deref(&self) -> &[S; N] {
        match self {
            Buffer::Baked(values) => values,
            Buffer::Owned(values) => values,
        }
    }
}

impl<S: Scalar, const N: usize> DerefMut for Buffer<S, N> {
    fn deref_mut(&mut self) -> &mut [S; N] {
        self.to_mut()
    }
}
