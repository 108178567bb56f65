//! Scratch memory for batched forward and backward passes.
//!
//! Generated code keeps every activation the backward pass needs in one flat
//! buffer, carved into slots whose sizes are known at compile time per sample.
//! The buffer grows to the largest batch seen and is then reused, so a
//! steady-state training step or batched inference allocates nothing.

use crate::Scalar;

/// Reusable scratch buffer; create one per thread and pass it to every
/// batched call. It starts empty and grows only when a batch needs more.
///
/// # Example
/// ```
/// let mut ws = chainrule::Workspace::<f32>::new();
/// assert_eq!(ws.capacity(), 0);
/// ws.reserve(128);
/// assert!(ws.capacity() >= 128);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Workspace<S> {
    buf: Vec<S>,
    /// Class indices gathered from the targets of a network with several
    /// outputs (each output's targets are read as one contiguous slice).
    classes: Vec<usize>,
}

impl<S: Scalar> Workspace<S> {
    /// An empty workspace.
    pub fn new() -> Self {
        Self { buf: Vec::new(), classes: Vec::new() }
    }

    /// Grows the buffer to hold `len` elements now, so that no later call
    /// with a batch of that size allocates (useful before a real-time loop).
    pub fn reserve(&mut self, len: usize) {
        if self.buf.len() < len {
            // Writing zeros touches every page now rather than in the hot loop.
            self.buf.resize(len, S::ZERO);
        }
    }

    /// Number of elements available without growing.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The first `len` elements, growing the buffer if needed. Contents are
    /// unspecified: generated code writes every slot before reading it.
    #[doc(hidden)]
    pub fn take(&mut self, len: usize) -> &mut [S] {
        self.reserve(len);
        &mut self.buf[..len]
    }

    /// The first `len` elements and `classes` class-index slots, growing
    /// either if needed; contents unspecified, as with [`Workspace::take`].
    #[doc(hidden)]
    pub fn take_with_classes(&mut self, len: usize, classes: usize) -> (&mut [S], &mut [usize]) {
        self.reserve(len);
        if self.classes.len() < classes {
            self.classes.resize(classes, 0);
        }
        (&mut self.buf[..len], &mut self.classes[..classes])
    }
}
