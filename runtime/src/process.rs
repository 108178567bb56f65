//! Streaming audio through a model, block by block.

/// A model that turns a mono signal into another, one block at a time,
/// with state carried from block to block: the compiled `.nam` models,
/// and `network!` declarations that stream one value in and one out per
/// step (a recurrent layer's `step`).
///
/// Blocks may have any length, changing from call to call; the output is
/// what processing the whole signal since the last reset at once would
/// give. Neither method allocates, locks or panics, so both may run on an
/// audio thread.
pub trait Process {
    /// Processes `input` into `output`, sample for sample. When the
    /// lengths differ, the first `min` samples are processed.
    fn process(&mut self, input: &[f32], output: &mut [f32]);

    /// Forgets the signal so far: the next block starts a new one.
    fn reset(&mut self);
}
