//! A network's graph as text and as Graphviz DOT, built at compile time.
//!
//! Both show the training graph right after differentiation, before the
//! simplifier fuses anything, so every backward line reads as the chain
//! rule is taught: the gradient of a value is the upstream gradient times
//! the local derivative (`dL/dv4 = dL/dv5 * (1 - v5^2)` for a tanh), and a
//! value used twice gets the sum of its gradients.

mod cell;

use crate::ir::expr::{Binary, Expr, Unary};
use crate::ir::{Graph, Map, NodeId, Op};
use crate::ops;
use std::fmt::Write;

/// One readable name per node: the input `x`, targets `t`, parameters by
/// their names, gradients `dL/d<name>`, values a graph names by their
/// names, other values `v<id>`. A gradient
/// that serves several values (an addition passes its gradient on
/// unchanged) is named after the first, nearest the loss; the others are
/// returned as `(gradient node, value)` aliases.
fn names(g: &Graph) -> (Vec<String>, Vec<(NodeId, NodeId)>) {
    let mut names: Vec<String> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(id, n)| match n.op {
            Op::Input => "x".to_string(),
            Op::Target(k) if g.targets.len() > 1 => format!("t{k}"),
            Op::Target(_) => "t".to_string(),
            Op::SampleWeight => "w".to_string(),
            Op::Param(k) => g.params[k].name.clone(),
            Op::State(k) => g.states[k].name.clone(),
            _ => format!("v{id}"),
        })
        .collect();
    for (id, name) in &g.value_names {
        names[*id] = name.clone();
    }
    // A graph may name a value `x` itself; its input is then `input`, as declared.
    if g.value_names.iter().any(|(_, name)| name == "x") {
        for (id, n) in g.nodes.iter().enumerate() {
            if matches!(n.op, Op::Input) {
                names[id] = "input".into();
            }
        }
    }
    let mut named = vec![false; g.nodes.len()];
    let mut aliases = Vec::new();
    for &(grad, of) in &g.gradient_of {
        if std::mem::replace(&mut named[grad], true) {
            aliases.push((grad, of));
        } else {
            names[grad] = format!("dL/d{}", names[of]);
        }
    }
    (names, aliases)
}

fn shape_text(g: &Graph, id: NodeId) -> String {
    let s = g.shape(id);
    let dims: Vec<String> = s.dims.iter().map(ToString::to_string).collect();
    match (s.batched, dims.is_empty()) {
        (true, true) => "[batch]".into(),
        (true, false) => format!("[batch, {}]", dims.join(", ")),
        (false, true) => "scalar".into(),
        (false, false) => format!("[{}]", dims.join(", ")),
    }
}

/// An expression with its operands' names, fully parenthesized where needed.
fn expr_text(e: &Expr, operands: &[String]) -> String {
    match e {
        Expr::Const(n) => format!("{}", n.0),
        Expr::Var(i) => operands[*i].clone(),
        Expr::Batch => "batch".into(),
        Expr::Unary(Unary::Neg, a) => format!("-{}", atom(a, operands)),
        Expr::Unary(Unary::Powi(n), a) => format!("{}^{n}", atom(a, operands)),
        Expr::Unary(Unary::Powf(e), a) => format!("{}^{}", atom(a, operands), e.0),
        Expr::Unary(op, a) => {
            let f = format!("{op:?}").to_lowercase();
            format!("{f}({})", expr_text(a, operands))
        }
        Expr::Binary(op, a, b) => {
            let (a, b) = (atom(a, operands), atom(b, operands));
            match op {
                Binary::Add => format!("{a} + {b}"),
                Binary::Sub => format!("{a} - {b}"),
                Binary::Mul => format!("{a} * {b}"),
                Binary::Div => format!("{a} / {b}"),
                Binary::Max => format!("max({a}, {b})"),
                Binary::Min => format!("min({a}, {b})"),
            }
        }
    }
}

fn atom(e: &Expr, operands: &[String]) -> String {
    match e {
        Expr::Binary(Binary::Add | Binary::Sub | Binary::Mul | Binary::Div, ..) => {
            format!("({})", expr_text(e, operands))
        }
        _ => expr_text(e, operands),
    }
}

fn right_side(g: &Graph, id: NodeId, names: &[String]) -> String {
    let node = g.node(id);
    let operands: Vec<String> = node.inputs.iter().map(|&i| names[i].clone()).collect();
    match &node.op {
        Op::Map(Map { expr, .. }) => expr_text(expr, &operands),
        Op::Input | Op::Target(_) | Op::SampleWeight => "given".into(),
        Op::Param(_) => "parameter".into(),
        Op::State(_) => "running statistic".into(),
        op => format!("{}({})", ops::name(op), operands.join(", ")),
    }
}

/// What a backward line does, in the words of the lectures: the pattern of
/// the gate it came from, or what an adjoint computes.
fn pattern(g: &Graph, id: NodeId, names: &[String]) -> Option<String> {
    let node = g.node(id);
    if let Op::Map(Map { expr, .. }) = &node.op {
        // The gradient of a value read several times: the sum of what its uses sent.
        let of = g.gradient_of.iter().find(|&&(grad, _)| grad == id).map(|&(_, of)| of);
        if let Some(of) = of.filter(|_| node.inputs.len() > 1 && is_sum(expr)) {
            return Some(format!(
                "{} is used {} times: a copy sums their gradients",
                names[of],
                node.inputs.len()
            ));
        }
        let from = g.derived_from.iter().find(|&&(n, _)| n == id).map(|&(_, f)| g.node(f))?;
        return match &from.op {
            Op::Map(Map { expr: Expr::Binary(Binary::Mul, a, b), .. })
                if matches!((&**a, &**b), (Expr::Var(_), Expr::Var(_))) =>
            {
                Some("a product: the upstream gradient times the other factor".into())
            }
            Op::Map(Map { expr: Expr::Binary(Binary::Max | Binary::Min, ..), .. }) => {
                Some("max and min route the gradient to the input that won".into())
            }
            _ => None,
        };
    }
    match ops::rules(&node.op).derivative {
        ops::Derivative::BackwardOnly => Some(ops::rules(&node.op).forward.replace('`', "")),
        _ => None,
    }
}

fn is_sum(e: &Expr) -> bool {
    match e {
        Expr::Var(_) => true,
        Expr::Binary(Binary::Add, a, b) => is_sum(a) && is_sum(b),
        _ => false,
    }
}

/// The forward pass, the loss and the backward equations, one per line.
pub fn text(name: &str, g: &Graph, forward_len: usize, loss: NodeId) -> String {
    let (names, aliases) = names(g);
    let mut out = String::new();
    let _ = writeln!(out, "network {name}: {} parameters", g.param_len());
    let _ = writeln!(out, "forward and loss:");
    for id in 0..forward_len {
        if matches!(g.node(id).op, Op::Param(_) | Op::State(_) | Op::Target(_) | Op::SampleWeight) {
            continue;
        }
        let mark = if id == loss { "  (loss L)" } else { "" };
        let _ =
            writeln!(out, "  {} = {}   {}{mark}", names[id], right_side(g, id, &names), shape_text(g, id));
        if let Op::Recur(cell) = &g.node(id).op {
            cell::forward_lines(cell).iter().for_each(|l| _ = writeln!(out, "      {l}"));
        }
    }
    let _ =
        writeln!(out, "backward (each gradient = upstream gradient x local derivative, summed over uses):");
    for id in forward_len..g.nodes.len() {
        let note = pattern(g, id, &names).map_or(String::new(), |p| format!("   ({p})"));
        let _ =
            writeln!(out, "  {} = {}   {}{note}", names[id], right_side(g, id, &names), shape_text(g, id));
        if let Op::RecurBack(cell) = &g.node(id).op {
            cell::backward_lines(cell).iter().for_each(|l| _ = writeln!(out, "      {l}"));
        }
        for &(_, of) in aliases.iter().filter(|&&(grad, _)| grad == id) {
            let _ = writeln!(out, "  dL/d{} = {}   (passed on unchanged)", names[of], names[id]);
        }
    }
    out
}

/// Graphviz DOT: forward values in one cluster, backward in another.
pub fn dot(name: &str, g: &Graph, forward_len: usize) -> String {
    let (names, _) = names(g);
    let mut out = format!("digraph {name} {{\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (cluster, range, color) in
        [("forward", 0..forward_len, "lightblue"), ("backward", forward_len..g.nodes.len(), "mistyrose")]
    {
        let _ = writeln!(out, "  subgraph cluster_{cluster} {{\n    label=\"{cluster}\";");
        for id in range {
            let what = match g.node(id).op {
                Op::Map(_) => right_side(g, id, &names),
                ref op => ops::name(op).to_string(),
            };
            let label = format!("{}\\n{}\\n{}", names[id], what, shape_text(g, id));
            let _ = writeln!(
                out,
                "    n{id} [label=\"{}\", style=filled, fillcolor={color}];",
                label.replace('"', "'")
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for (id, node) in g.nodes.iter().enumerate() {
        for &input in &node.inputs {
            let _ = writeln!(out, "  n{input} -> n{id};");
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::differentiate;
    use crate::ir::Shape;
    use crate::ir::expr::{unary, var};
    use crate::ops;

    #[test]
    fn backward_lines_read_as_the_chain_rule() {
        let mut g = Graph::default();
        let x = g.push(Op::Input, vec![], Shape::batched(&[3]));
        let w = g.param(
            "w".into(),
            &[2, 3],
            crate::ir::Role::Weight,
            crate::ir::Init::Zeros,
            proc_macro2::Span::call_site(),
        );
        let z = ops::linear::linear(&mut g, x, w);
        let h = ops::map::map(&mut g, unary(Unary::Tanh, var(0)), vec![z], Shape::batched(&[2]));
        let loss = ops::reduce::sum_all(&mut g, h);
        let forward = g.nodes.len();
        differentiate(&mut g, loss);
        let text = text("Net", &g, forward, loss);
        assert!(text.contains("v3 = tanh(v2)"), "{text}");
        assert!(text.contains("dL/dv2 = dL/dv3 * (1 - v3^2)"), "{text}");
        assert!(text.contains("dL/dw = linear_back_weight(dL/dv2, x)"), "{text}");
        let dot = dot("Net", &g, forward);
        assert!(
            dot.starts_with("digraph Net {") && dot.contains("n2 -> n3;") && dot.trim_end().ends_with('}')
        );
    }
}
