//! A network's layers as a table, with its parameter count and the memory
//! training takes: what Keras prints with `model.summary()`. The compiler
//! writes the rows ([`Network::LAYERS`]); this module adds the totals and
//! prints them.

use crate::Network;
use core::fmt;

/// One value of a network: a layer's output, an input, or a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerRow {
    /// The name of its parameters' prefix (`layers.0`), or the name a graph
    /// gives the value.
    pub name: &'static str,
    /// What computes it, as declared (`dense(64)`, `a + b`, `input`).
    pub layer: &'static str,
    /// Its shape per sample.
    pub output: &'static [usize],
    /// Trainable parameters of this layer (a residual block counts those of
    /// the layers inside it).
    pub params: usize,
}

/// The table [`Network::summary`] returns; print it with `{}`.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The network's type name.
    pub network: &'static str,
    /// The rows, inputs first, in the order the network computes them.
    pub rows: &'static [LayerRow],
    /// Trainable parameters.
    pub params: usize,
    /// Running statistics saved with the weights (not trained).
    pub state: usize,
    /// Bytes of one value (4 for `f32`, 8 for `f64`).
    pub scalar_bytes: usize,
    /// The batch size the training figures are for.
    pub batch_size: usize,
    /// Values the training workspace holds at that batch size (every
    /// activation the backward pass reads, and its scratch).
    pub workspace: usize,
}

impl Summary {
    /// The summary of network `N` when trained in batches of `batch_size`.
    pub fn of<N: Network>(batch_size: usize) -> Self {
        let (per_sample, fixed) = N::TRAINING_WORKSPACE;
        let full = core::any::type_name::<N>();
        Self {
            network: full.rsplit("::").next().unwrap_or(full),
            rows: N::LAYERS,
            params: N::PARAM_LEN,
            state: N::STATE_LEN,
            scalar_bytes: core::mem::size_of::<N::Scalar>(),
            batch_size,
            workspace: batch_size * per_sample + fixed,
        }
    }

    /// Bytes of the parameters, the gradient, the workspace and the state
    /// that training needs (without the optimizer's own buffers: none for
    /// SGD, one per parameter for momentum, two for Adam).
    pub fn training_bytes(&self) -> usize {
        (2 * self.params + self.workspace + self.state) * self.scalar_bytes
    }
}

/// `12,345`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `18.8 KiB`.
fn bytes(n: usize) -> String {
    let units = ["B", "KiB", "MiB", "GiB"];
    let (mut value, mut unit) = (n as f64, 0);
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", units[unit]) }
}

fn shape(dims: &[usize]) -> String {
    let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
    format!("[{}]", dims.join(", "))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self.rows.iter().map(|r| r.name.len()).chain([5]).max().unwrap_or(5);
        let layer_width = self.rows.iter().map(|r| r.layer.len()).chain([5]).max().unwrap_or(5);
        let shape_width = self.rows.iter().map(|r| shape(r.output).len()).chain([6]).max().unwrap_or(6);
        writeln!(f, "{}", self.network)?;
        writeln!(
            f,
            "{:<name_width$}  {:<layer_width$}  {:<shape_width$}  {:>10}",
            "value", "layer", "output", "parameters"
        )?;
        for r in self.rows {
            writeln!(
                f,
                "{:<name_width$}  {:<layer_width$}  {:<shape_width$}  {:>10}",
                r.name,
                r.layer,
                shape(r.output),
                grouped(r.params)
            )?;
        }
        let s = self.scalar_bytes;
        writeln!(f, "parameters: {} ({})", grouped(self.params), bytes(self.params * s))?;
        if self.state > 0 {
            writeln!(f, "running statistics: {} ({})", grouped(self.state), bytes(self.state * s))?;
        }
        write!(
            f,
            "training in batches of {}: activations and scratch {} values ({}), gradient {}, {} in all with the \
             parameters\n  (the optimizer adds nothing for SGD, 1x the parameters for momentum, 2x for Adam)",
            self.batch_size,
            grouped(self.workspace),
            bytes(self.workspace * s),
            bytes(self.params * s),
            bytes(self.training_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(grouped(100), "100");
        assert_eq!(bytes(1000), "1000 B");
        assert_eq!(bytes(19240), "18.8 KiB");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(shape(&[1, 28, 28]), "[1, 28, 28]");
    }
}
