//! The one error type of the runtime. Every fallible operation (a batch that
//! does not fit the network, a damaged data file, a diverging loss) returns
//! it; nothing in the runtime panics on bad input.

use std::path::PathBuf;

/// What went wrong, in terms of the caller's data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A batch with no samples: a mean over it would be 0/0.
    #[error("the batch is empty")]
    EmptyBatch,

    /// Inputs and targets (or outputs) of one batch differ in length.
    #[error("the batch has {inputs} inputs but {other} {what}")]
    BatchMismatch {
        /// Number of input samples.
        inputs: usize,
        /// Number of targets or output slots.
        other: usize,
        /// `"targets"` or `"outputs"`.
        what: &'static str,
    },

    /// A class-index target that the network's output cannot represent.
    #[error("target {class} of sample {sample} is not a class of this network (it has {classes} outputs)")]
    ClassOutOfRange {
        /// Position of the sample in its batch.
        sample: usize,
        /// The offending class index.
        class: usize,
        /// Width of the network's output.
        classes: usize,
    },

    /// A token id outside the vocabulary of the network's embedding.
    #[error(
        "token {token} at position {position} of sample {sample} is not in the vocabulary (it has {vocab} tokens)"
    )]
    TokenOutOfRange {
        /// Position of the sample in its batch.
        sample: usize,
        /// Position of the token in its sample.
        position: usize,
        /// The offending id.
        token: u32,
        /// Size of the vocabulary.
        vocab: usize,
    },

    /// A sample weight below 0 or not a number.
    #[error("the weight of sample {sample} is {weight}; a sample weight is a finite number of at least 0")]
    SampleWeight {
        /// Position of the sample in its batch (or dataset).
        sample: usize,
        /// The offending weight.
        weight: f64,
    },

    /// A batch whose sample weights are all 0: its weighted mean is 0/0.
    #[error("the sample weights of the batch are all 0: no sample counts")]
    ZeroSampleWeights,

    /// Sample weights given to a network declared without them.
    #[error("{network} cannot weight samples: declare it with `sample_weights: true`")]
    NotWeighted {
        /// The network's type.
        network: &'static str,
    },

    /// A flat buffer (parameters or gradients) of the wrong length.
    #[error("the {what} buffer has {found} elements but the network has {expected} parameters")]
    ParamLength {
        /// `"parameter"` or `"gradient"`.
        what: &'static str,
        /// Length the network needs.
        expected: usize,
        /// Length that was passed.
        found: usize,
    },

    /// Training produced a NaN or infinite loss.
    #[error(
        "the loss became {loss} in epoch {epoch} at batch {batch}; training stopped with the weights before that batch"
    )]
    NonFiniteLoss {
        /// The offending loss value.
        loss: f64,
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch within the epoch.
        batch: usize,
    },

    /// Training produced a NaN or infinite gradient (seen when clipping).
    #[error(
        "the gradient norm became {norm} in epoch {epoch} at batch {batch}; training stopped and the best weights so far were restored"
    )]
    NonFiniteGradient {
        /// The offending norm.
        norm: f64,
        /// 1-based epoch.
        epoch: usize,
        /// 0-based batch within the epoch.
        batch: usize,
    },

    /// A checkpoint that cannot be written, read or applied.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },

    /// A weight file that cannot be written, read or applied to this network.
    #[error("weights {path}: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words, naming the tensor.
        message: String,
    },

    /// An output file (history, picture) that cannot be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A data file whose content is malformed.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when the problem is not tied to a line).
        line: usize,
        /// What is wrong, in words.
        message: String,
    },

    /// A network or quantization int8 cannot run, or a calibration that
    /// cannot be done.
    #[error("int8: {0}")]
    Int8(String),

    /// A dataset that does not fit the network or the request.
    #[error("invalid dataset: {0}")]
    Dataset(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
