//! A recurrent cell's equations for `describe()`: the gates and carries of
//! one unit at one step, written with named gate values (an LSTM's input
//! gate as `i = sigmoid(a_i + u_i)`) rather than as the nested expression
//! the cell stores, and the local derivatives backpropagation through time
//! multiplies by, each derived from those equations.

use super::expr_text;
use crate::ir::Cell;
use crate::ir::expr::{Expr, Unary, var};

const CARRIES: [&str; 2] = ["h", "c"];

fn carry(k: usize) -> &'static str {
    CARRIES.get(k).copied().unwrap_or("carry")
}

/// The gate labels PyTorch's documentation uses, by gate count.
fn gate_labels(gates: usize) -> Vec<String> {
    match gates {
        1 => vec![String::new()],
        3 => ["r", "z", "n"].map(String::from).to_vec(),
        4 => ["i", "f", "g", "o"].map(String::from).to_vec(),
        n => (0..n).map(|k| format!("g{k}")).collect(),
    }
}

/// The cell with each activation of gate inputs named: the names of all
/// variables, each named gate value's index and definition, and the carries
/// written with them.
struct Named {
    names: Vec<String>,
    gates: Vec<(usize, Expr)>,
    carries: Vec<Expr>,
}

/// Every `sigmoid(..)` or `tanh(..)` of gate inputs alone, innermost first.
fn gate_values(e: &Expr, gate_vars: usize, out: &mut Vec<Expr>) {
    match e {
        Expr::Unary(op, a) => {
            gate_values(a, gate_vars, out);
            let vars = a.vars();
            let of_gates = !vars.is_empty() && vars.iter().all(|&v| v < gate_vars);
            if matches!(op, Unary::Sigmoid | Unary::Tanh) && of_gates && !out.contains(e) {
                out.push(e.clone());
            }
        }
        Expr::Binary(_, a, b) => {
            gate_values(a, gate_vars, out);
            gate_values(b, gate_vars, out);
        }
        _ => {}
    }
}

fn named(cell: &Cell) -> Named {
    let labels = gate_labels(cell.gates);
    let side =
        |s: &str, k: usize| if labels[k].is_empty() { s.to_string() } else { format!("{s}_{}", labels[k]) };
    let mut names: Vec<String> =
        (0..cell.gates).map(|k| side("a", k)).chain((0..cell.gates).map(|k| side("u", k))).collect();
    names.extend((0..cell.carries).map(|k| format!("{}_{{s-1}}", carry(k))));
    let mut found = Vec::new();
    for e in &cell.update {
        gate_values(e, 2 * cell.gates, &mut found);
    }
    let mut carries = cell.update.clone();
    let mut gates: Vec<(usize, Expr)> = Vec::new();
    for value in found {
        // Read through the gate values named before it (a GRU's `n` reads `r`).
        let definition = gates.iter().fold(value, |d, (i, earlier)| d.replace(earlier, &var(*i)));
        // Named after the gate of the input it reads (`a_i` names `i`).
        let first = definition.vars().into_iter().find(|&v| v < 2 * cell.gates).unwrap_or(0) % cell.gates;
        let index = names.len();
        names.push(if labels[first].is_empty() { "z".into() } else { labels[first].clone() });
        for c in &mut carries {
            *c = c.replace(&definition, &var(index));
        }
        gates.push((index, definition));
    }
    // A gate value that is a whole carry (a plain RNN's `h_s = tanh(a + u)`) needs no name.
    gates.retain(|(index, definition)| match carries.iter_mut().find(|c| **c == var(*index)) {
        Some(c) => {
            *c = definition.clone();
            false
        }
        None => true,
    });
    // In the order of the gates (PyTorch's).
    gates.sort_by_key(|(_, d)| d.vars().into_iter().find(|&v| v < 2 * cell.gates).map(|v| v % cell.gates));
    // A carry computed from another of this step (the LSTM's `h` from `c`)
    // reads it by name.
    for k in 0..carries.len() {
        for j in (0..carries.len()).filter(|&j| j != k) {
            let replaced = carries[k].replace(&carries[j], &var(names.len()));
            if replaced != carries[k] {
                names.push(format!("{}_s", carry(j)));
                carries[k] = replaced;
            }
        }
    }
    Named { names, gates, carries }
}

/// The lines under a `recur` node: the cell's equations.
pub fn forward_lines(cell: &Cell) -> Vec<String> {
    let n = named(cell);
    let star = if cell.gates > 1 { "_*" } else { "" };
    let mut lines = vec![format!(
        "each step s, each unit: a{star} = x_s W_ih^T + b_ih, u{star} = h_{{s-1}} W_hh^T + b_hh (a column per gate)"
    )];
    for (index, definition) in &n.gates {
        lines.push(format!("{} = {}", n.names[*index], expr_text(definition, &n.names)));
    }
    for (k, update) in n.carries.iter().enumerate().rev() {
        lines.push(format!("{}_s = {}", carry(k), expr_text(update, &n.names)));
    }
    lines
}

/// The lines under a `recur_back` node: each local derivative the
/// gradient is multiplied by on its way back through one step.
pub fn backward_lines(cell: &Cell) -> Vec<String> {
    let mut n = named(cell);
    let mut lines = vec![
        "from the last step to the first, each carry's gradient (from above plus what step s+1 sent back) times:"
            .to_string(),
    ];
    // `u` enters a gate as `a` does, with the same derivative, except where
    // it is scaled (a GRU's `r * u_n`): only those are listed.
    let same_as_a =
        |e: &Expr, v: usize| (cell.gates..2 * cell.gates).contains(&v) && e.diff(v) == e.diff(v - cell.gates);
    let carries = n.carries.clone();
    for (k, update) in carries.iter().enumerate().rev() {
        let itself = var(n.names.len());
        n.names.push(format!("{}_s", carry(k)));
        for v in update.vars().into_iter().filter(|&v| !same_as_a(update, v)) {
            let d = update.diff(v).replace(update, &itself);
            lines.push(format!("d{}_s/d{} = {}", carry(k), n.names[v], expr_text(&d, &n.names)));
        }
    }
    for (index, definition) in &n.gates {
        for v in definition.vars().into_iter().filter(|&v| !same_as_a(definition, v)) {
            let d = definition.diff(v).replace(definition, &var(*index));
            lines.push(format!("d{}/d{} = {}", n.names[*index], n.names[v], expr_text(&d, &n.names)));
        }
    }
    lines.push(
        "(where a and u enter as a sum their gradients are equal); the weights and biases sum over steps"
            .into(),
    );
    lines
}
