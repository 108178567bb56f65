//! Checking `graph: { .. }`: names, shapes across branches and merges,
//! every input used, every value defined once and before its use.
//!
//! A value whose shape an earlier mistake left unknown is `None` here and
//! is passed on silently: each mistake is reported once, where it is.
//!
//! Functions of the graph form besides the layer keywords (each layer is
//! applied as `keyword(value, args..)`):
//!
//! | call | value |
//! |------|-------|
//! | `add(a, b, ..)`, `a + b` | the sum; `b` may be `[c]` onto `[c, ..]` (per channel) or `[1]` (per sample) |
//! | `multiply(a, b, ..)`, `a * b` | the product, broadcast as `add` |
//! | `concat(a, b, .., axis = 0)` | side by side along `axis` of each sample (channels, or features of a flat value) |
//! | `split(v, n, axis = 0)` | `n` equal parts along `axis`, bound as `let (a, b) = ..` |
//! | `slice(v, start..end, axis = 0)` | positions `start..end` along `axis` |
//! | `layers(v, [..])` | a chain of layers applied to `v` |

use super::{Broadcast, Dataflow, DeclaredInput, NamedInput, Step, Value, ValueId};
use crate::errors::{Errors, Site};
use crate::layers;
use crate::model::show_shape;
use crate::parse::flow::{Apply, Flow, FlowArg, FlowValue, GraphBlock};
use syn::Ident;

/// The functions of the graph form that are not layers.
pub const FUNCTIONS: &[&str] = &["add", "multiply", "concat", "split", "slice", "layers"];

/// The graph `graph` computes from `inputs` (each with its shape, `None`
/// when the declaration's is wrong), or `None` after a mistake.
pub fn resolve(inputs: &[DeclaredInput], graph: &GraphBlock, errors: &mut Errors) -> Option<Dataflow> {
    let mut r = Resolver {
        values: Vec::new(),
        names: Vec::new(),
        later: Vec::new(),
        errors,
        broken: false,
        unresolved: false,
        token_inputs: inputs.iter().enumerate().filter(|(_, i)| i.tokens).map(|(k, _)| k).collect(),
    };
    let mut named = Vec::new();
    let mut offset = 0;
    for (k, DeclaredInput { name, dims, tokens }) in inputs.iter().enumerate() {
        let value = dims.as_ref().map(|dims| {
            named.push(NamedInput { dims: dims.clone(), offset, tokens: *tokens });
            offset += dims.iter().product::<usize>();
            r.push(Step::Input(k), dims.clone())
        });
        r.bind(name, value, true);
    }
    r.later = graph.statements.iter().flat_map(|s| s.names.iter().cloned()).collect();
    for statement in &graph.statements {
        r.later.retain(|n| !statement.names.contains(n));
        let prefix = statement.names.first().map_or_else(|| "output".to_string(), ToString::to_string);
        let values = match &statement.value {
            Some(flow) => r.statement(flow, &statement.names, &prefix),
            None => {
                r.broken = true;
                vec![None; statement.names.len()]
            }
        };
        for (name, value) in statement.names.iter().zip(values) {
            r.bind(name, value, false);
        }
    }
    let (outputs, output_names) = match &graph.tail {
        Some(Flow::Tuple(parts)) => r.named_outputs(parts),
        Some(tail @ Flow::Name(name)) => (vec![r.whole(tail, "output")], vec![name.to_string()]),
        Some(tail) => (vec![r.whole(tail, "output")], vec!["output".to_string()]),
        None => {
            let end = graph.brace.close();
            r.errors.push(
                end,
                "the graph has no output: end it with the value it computes, \
                 as in `{ let h = dense(input, 64); dense(relu(h), 10) }`",
            );
            return None;
        }
    };
    // After a name that does not resolve, the value it meant may look unused.
    let unresolved = r.unresolved;
    for binding in r.names.iter().filter(|_| !unresolved) {
        if !binding.used && !binding.name.to_string().starts_with('_') {
            let message = if binding.input {
                format!("input `{}` is never used; remove it or use it in the graph", binding.name)
            } else {
                format!(
                    "`{}` is computed but never used; use it, remove it, or name it `_{}`",
                    binding.name, binding.name
                )
            };
            r.errors.push(binding.name.span(), message);
            r.broken = true;
        }
    }
    let outputs: Option<Vec<ValueId>> = outputs.into_iter().collect();
    match outputs {
        Some(outputs) if !r.broken => {
            Some(Dataflow { inputs: named, values: r.values, outputs, output_names })
        }
        _ => None,
    }
}

struct Binding {
    name: Ident,
    value: Option<ValueId>,
    used: bool,
    input: bool,
}

struct Resolver<'e> {
    values: Vec<Value>,
    names: Vec<Binding>,
    /// Names defined by later statements: a use of one is a use before
    /// its definition.
    later: Vec<Ident>,
    errors: &'e mut Errors,
    /// A mistake was reported.
    broken: bool,
    /// A name did not resolve.
    unresolved: bool,
    /// The inputs that are token ids.
    token_inputs: Vec<usize>,
}

/// What the layers of one statement are named: its first name alone when
/// it applies one layer, otherwise `name.k` for its `k`-th.
struct Naming<'a> {
    prefix: &'a str,
    single: bool,
    next: usize,
}

impl Naming<'_> {
    fn path(&mut self) -> String {
        self.next += 1;
        if self.single { self.prefix.to_string() } else { format!("{}.{}", self.prefix, self.next - 1) }
    }
}

impl Resolver<'_> {
    fn push(&mut self, step: Step, dims: Vec<usize>) -> ValueId {
        self.values.push(Value { step, dims, name: None });
        self.values.len() - 1
    }

    fn dims(&self, id: ValueId) -> &[usize] {
        &self.values[id].dims
    }

    fn fail(&mut self, site: impl Into<Site>, message: impl std::fmt::Display) -> Option<ValueId> {
        self.errors.push(site, message);
        self.broken = true;
        None
    }

    fn bind(&mut self, name: &Ident, value: Option<ValueId>, input: bool) {
        if self.names.iter().any(|b| b.name == *name) {
            let what = if input { "input" } else { "value" };
            self.errors.push(
                name.span(),
                format!(
                    "`{name}` is defined twice; give this {what} another name (parameters are named after it)"
                ),
            );
            self.broken = true;
            return;
        }
        if let Some(id) = value {
            self.values[id].name.get_or_insert_with(|| name.to_string());
        }
        self.names.push(Binding { name: name.clone(), value, used: false, input });
    }

    /// A statement's values: one per name, or a `split`'s parts.
    fn statement(&mut self, flow: &Flow, names: &[Ident], prefix: &str) -> Vec<Option<ValueId>> {
        let mut naming = Naming { prefix, single: layer_count(flow) == 1, next: 0 };
        if let Flow::Apply(apply) = flow
            && apply.name == "split"
        {
            return self.split(apply, names.len(), &mut naming);
        }
        if names.len() != 1 {
            self.fail(
                flow.site(),
                format!("`{}` is one value; only `split(..)` gives several to bind", flow.display()),
            );
            return vec![None; names.len()];
        }
        vec![self.value(flow, &mut naming)]
    }

    /// `(a, b)` at the end of the graph: several outputs, each a name, so
    /// that `loss: { a: .., b: .. }` can give each its loss.
    fn named_outputs(&mut self, parts: &[Flow]) -> (Vec<Option<ValueId>>, Vec<String>) {
        let (mut values, mut names) = (Vec::new(), Vec::<String>::new());
        for part in parts {
            let value = match part {
                Flow::Name(name) if names.contains(&name.to_string()) => {
                    self.fail(part.site(), format!("`{name}` is listed twice among the outputs"))
                }
                Flow::Name(_) => self.operand(part, &mut Naming { prefix: "output", single: false, next: 0 }),
                _ => {
                    let message = format!(
                        "each output is a name, which its loss refers to: bind it first, as in \
                         `let out{k} = {};` and list `out{k}`",
                        part.display(),
                        k = names.len()
                    );
                    self.value(part, &mut Naming { prefix: "output", single: false, next: 0 });
                    self.fail(part.site(), message)
                }
            };
            values.push(value);
            names.push(match part {
                Flow::Name(name) => name.to_string(),
                _ => format!("out{}", names.len()),
            });
        }
        (values, names)
    }

    /// An output or a statement's single value.
    fn whole(&mut self, flow: &Flow, prefix: &str) -> Option<ValueId> {
        let mut naming = Naming { prefix, single: layer_count(flow) == 1, next: 0 };
        self.operand(flow, &mut naming)
    }

    /// A value read as numbers: by anything but `embedding`, which alone
    /// reads token ids.
    fn operand(&mut self, flow: &Flow, naming: &mut Naming) -> Option<ValueId> {
        let id = self.value(flow, naming)?;
        if self.tokens(id) {
            return self.fail(
                flow.site(),
                format!(
                    "`{}` is token ids, which only `embedding` reads: embed them first, as in \
                     `embedding({}, vocab, 64)`",
                    flow.display(),
                    flow.display()
                ),
            );
        }
        Some(id)
    }

    /// Whether value `id` is an input of token ids.
    fn tokens(&self, id: ValueId) -> bool {
        matches!(self.values[id].step, Step::Input(k) if self.token_inputs.contains(&k))
    }

    fn value(&mut self, flow: &Flow, naming: &mut Naming) -> Option<ValueId> {
        match flow {
            Flow::Name(name) => self.lookup(name),
            Flow::Binary { op, lhs, rhs } => {
                let (a, b) = (self.operand(lhs, naming), self.operand(rhs, naming));
                let what = if *op == '*' { "multiply" } else { "add" };
                // From the first operand to the last, the operator between.
                let site = Site { start: lhs.site().start, end: rhs.site().end };
                self.merge(*op == '*', &[(a, lhs.site()), (b, rhs.site())], site, what)
            }
            Flow::Apply(apply) => self.apply(apply, naming),
            Flow::Tuple(_) => {
                self.fail(flow.site(), "a tuple is not a value; a graph has one value per name and one output")
            }
            Flow::List(..) => {
                self.fail(flow.site(), "a list of layers is applied with `layers(value, [..])`")
            }
            Flow::Literal(_) => self.fail(
                flow.site(),
                format!("`{}` is not a value: a value is an input, a name bound with `let`, or a layer applied to one", flow.display()),
            ),
        }
    }

    fn lookup(&mut self, name: &Ident) -> Option<ValueId> {
        if let Some(binding) = self.names.iter_mut().find(|b| b.name == *name) {
            binding.used = true;
            return binding.value;
        }
        self.unresolved = true;
        if self.later.contains(name) {
            return self.fail(
                name.span(),
                format!(
                    "`{name}` is used before its definition below; a value is defined before it is \
                     used, so the graph has no cycles"
                ),
            );
        }
        let known: Vec<String> = self.names.iter().map(|b| b.name.to_string()).collect();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let message = crate::suggest::unknown("value", &name.to_string(), &known);
        self.fail(name.span(), message)
    }

    fn apply(&mut self, apply: &Apply, naming: &mut Naming) -> Option<ValueId> {
        let name = apply.name.to_string();
        match name.as_str() {
            "add" | "multiply" => {
                let operands = self.operands(apply, naming, 2);
                let merged = self.named_args(apply, &[]).and(operands)?;
                let site = apply.call_site();
                let mut acc = merged[0];
                for &next in &merged[1..] {
                    let id = self.merge(name == "multiply", &[acc, next], site, &name)?;
                    acc = (Some(id), site);
                }
                acc.0
            }
            "concat" => {
                let operands = self.operands(apply, naming, 2);
                let axis = self.named_args(apply, &["axis"])?;
                self.concat(apply, &operands?, axis)
            }
            "slice" => self.slice(apply, naming),
            "split" => self.fail(
                apply.call_site(),
                "`split` gives several values: bind them, as in `let (a, b) = split(h, 2);`",
            ),
            "layers" => self.chain(apply, naming),
            _ if layers::is_keyword(&name) => self.layer(apply, naming),
            _ => {
                let alias = layers::alias(&name);
                let mut known: Vec<&str> = layers::keywords();
                known.extend(FUNCTIONS);
                let message = match alias {
                    Some(keyword) => format!("unknown function `{name}`, did you mean `{keyword}`?"),
                    None => crate::suggest::unknown("layer or function", &name, &known),
                };
                self.fail(apply.name.span(), message)
            }
        }
    }

    /// The value arguments of `apply` (its positional arguments, at least
    /// `min`), each with its site; `None` inside for an unknown one.
    #[allow(clippy::type_complexity)]
    fn operands(
        &mut self,
        apply: &Apply,
        naming: &mut Naming,
        min: usize,
    ) -> Option<Vec<(Option<ValueId>, Site)>> {
        let flows: Vec<&Flow> = positional(apply).collect();
        let mut out = Vec::new();
        for flow in &flows {
            out.push((self.operand(flow, naming), flow.site()));
        }
        if flows.len() < min {
            let usage = usage(&apply.name.to_string());
            self.fail(apply.call_site(), format!("`{}` takes {usage}", apply.name));
            return None;
        }
        Some(out)
    }

    /// The named arguments of `apply`, which may be among `allowed`: the
    /// `axis` (default 0), checked later against the value's rank.
    fn named_args(&mut self, apply: &Apply, allowed: &[&str]) -> Option<usize> {
        let mut axis = 0;
        for arg in apply.args.iter().filter(|a| a.name.is_some()) {
            let Some(name) = &arg.name else { continue };
            let FlowValue::Expr(expr) = &arg.value else { continue };
            if !allowed.contains(&name.to_string().as_str()) {
                let usage = usage(&apply.name.to_string());
                let message = format!("`{}` has no parameter `{name}`; it takes {usage}", apply.name);
                self.fail(arg_site(arg), message);
                return None;
            }
            match crate::args::whole(expr) {
                Ok(n) => axis = n as usize,
                Err(message) => {
                    self.fail(Site::of(expr), message);
                    return None;
                }
            }
        }
        Some(axis)
    }

    /// `a + b`, `a * b`: equal shapes, or `b` (either operand) broadcast.
    fn merge(
        &mut self,
        multiply: bool,
        operands: &[(Option<ValueId>, Site); 2],
        at: impl Into<Site>,
        what: &str,
    ) -> Option<ValueId> {
        let [(Some(x), _), (Some(y), _)] = *operands else { return None };
        let (dx, dy) = (self.dims(x).to_vec(), self.dims(y).to_vec());
        let broadcast = |of: &[usize], onto: &[usize]| {
            if of == onto {
                Some(Broadcast::Same)
            } else if of == [1] {
                Some(Broadcast::PerSample)
            } else if onto.len() >= 2 && of == [onto[0]] {
                Some(Broadcast::PerChannel)
            } else {
                None
            }
        };
        let (a, b, read) = match (broadcast(&dy, &dx), broadcast(&dx, &dy)) {
            (Some(read), _) => (x, y, read),
            (None, Some(read)) => (y, x, read),
            (None, None) => {
                return self.fail(
                    at,
                    format!(
                        "`{what}` of values shaped {} and {}: their shapes must be the same, or one \
                         `[c]` for the channels of the other `[c, ..]`, or `[1]`",
                        show_shape(&dx),
                        show_shape(&dy)
                    ),
                );
            }
        };
        let dims = self.dims(a).to_vec();
        Some(self.push(Step::Merge { multiply, a, b, broadcast: read }, dims))
    }

    fn concat(&mut self, apply: &Apply, parts: &[(Option<ValueId>, Site)], axis: usize) -> Option<ValueId> {
        let ids: Vec<ValueId> = parts.iter().map(|p| p.0).collect::<Option<_>>()?;
        let first = self.dims(ids[0]).to_vec();
        if axis >= first.len() {
            let message = format!("`concat` along axis {axis} of values shaped {}", show_shape(&first));
            return self.fail(apply.call_site(), format!("{message}: they have {} axes", first.len()));
        }
        let mut dims = first.clone();
        for (&id, (_, site)) in ids.iter().zip(parts).skip(1) {
            let other = self.dims(id).to_vec();
            let fits = other.len() == first.len()
                && other.iter().zip(&first).enumerate().all(|(k, (a, b))| k == axis || a == b);
            if !fits {
                return self.fail(
                    *site,
                    format!(
                        "`concat` along axis {axis} of values shaped {} and {}: all axes but {axis} must agree",
                        show_shape(&first),
                        show_shape(&other)
                    ),
                );
            }
            dims[axis] += other[axis];
        }
        if let Err(message) = crate::args::elements(&dims, "the concatenation") {
            return self.fail(apply.call_site(), message);
        }
        Some(self.push(Step::Concat { parts: ids, axis }, dims))
    }

    /// `split(v, n, axis = k)`, bound to `names`.
    fn split(&mut self, apply: &Apply, names: usize, naming: &mut Naming) -> Vec<Option<ValueId>> {
        let none = vec![None; names];
        let flows: Vec<&Flow> = positional(apply).collect();
        let [value, parts] = flows.as_slice() else {
            self.fail(apply.call_site(), format!("`split` takes {}", usage("split")));
            return none;
        };
        let Some(axis) = self.named_args(apply, &["axis"]) else { return none };
        let of = self.operand(value, naming);
        let Some(parts) = self.count(parts) else { return none };
        if parts != names {
            let message =
                format!("`split` into {parts} parts is bound to {names} name(s); bind one name per part");
            self.fail(apply.call_site(), message);
            return none;
        }
        let Some(of) = of else { return none };
        let dims = self.dims(of).to_vec();
        if axis >= dims.len() || !dims[axis].is_multiple_of(parts) {
            let message = match dims.get(axis) {
                Some(n) => format!(
                    "`split` of {n} positions along axis {axis} (shape {}) into {parts} equal parts",
                    show_shape(&dims)
                ),
                None => format!("`split` along axis {axis} of a value shaped {}", show_shape(&dims)),
            };
            self.fail(apply.call_site(), format!("{message} is not possible"));
            return none;
        }
        let len = dims[axis] / parts;
        (0..parts)
            .map(|k| {
                let mut out = dims.clone();
                out[axis] = len;
                Some(self.push(Step::Slice { of, axis, start: k * len, len }, out))
            })
            .collect()
    }

    /// A whole number of at least 1 written as a literal.
    fn count(&mut self, flow: &Flow) -> Option<usize> {
        let expr = flow.to_expr().filter(|_| matches!(flow, Flow::Literal(_)));
        match expr.as_ref().map(crate::args::whole) {
            Some(Ok(n)) if n >= 1 => Some(n as usize),
            Some(Err(message)) => {
                self.fail(flow.site(), message);
                None
            }
            _ => {
                self.fail(flow.site(), "expected a whole number of at least 1");
                None
            }
        }
    }

    fn slice(&mut self, apply: &Apply, naming: &mut Naming) -> Option<ValueId> {
        let flows: Vec<&Flow> = positional(apply).collect();
        let [value, range] = flows.as_slice() else {
            return self.fail(apply.call_site(), format!("`slice` takes {}", usage("slice")));
        };
        let axis = self.named_args(apply, &["axis"]);
        let of = self.operand(value, naming);
        let Flow::Literal(syn::Expr::Range(syn::ExprRange {
            start: Some(start),
            end: Some(end),
            limits,
            ..
        })) = range
        else {
            return self.fail(range.site(), "`slice` takes a range of positions, as in `slice(h, 0..8)`");
        };
        let bound = |e: &syn::Expr| crate::args::whole(e).map(|n| n as usize);
        let (start, mut end) = match (bound(start), bound(end)) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(message), _) | (_, Err(message)) => return self.fail(range.site(), message),
        };
        if matches!(limits, syn::RangeLimits::Closed(_)) {
            end += 1;
        }
        let (of, axis) = (of?, axis?);
        let dims = self.dims(of).to_vec();
        match dims.get(axis) {
            Some(&n) if start < end && end <= n => {
                let mut out = dims.clone();
                out[axis] = end - start;
                Some(self.push(Step::Slice { of, axis, start, len: end - start }, out))
            }
            Some(&n) => self.fail(
                range.site(),
                format!(
                    "`slice` of positions {start}..{end} along axis {axis} of a value shaped {}: \
                     a range within 0..{n} that is not empty",
                    show_shape(&dims)
                ),
            ),
            None => self.fail(
                apply.call_site(),
                format!("`slice` along axis {axis} of a value shaped {}", show_shape(&dims)),
            ),
        }
    }

    /// `layers(v, [..])`.
    fn chain(&mut self, apply: &Apply, naming: &mut Naming) -> Option<ValueId> {
        let (value, list) = match apply.args.as_slice() {
            [
                FlowArg { name: None, value: FlowValue::Flow(v) },
                FlowArg { name: None, value: FlowValue::Flow(Flow::List(items, _)) },
            ] => (v, items),
            _ => return self.fail(apply.call_site(), format!("`layers` takes {}", usage("layers"))),
        };
        let mut at = self.value(value, naming);
        for item in list {
            let crate::parse::Item::Call(call) = item else {
                self.broken = true;
                return None;
            };
            let input = at.map(|id| self.dims(id).to_vec());
            let tokens = at.is_some_and(|id| self.tokens(id));
            let placed = layers::place(call, input.as_deref(), tokens, naming.path(), self.errors);
            at = match (placed, at) {
                (Some(layer), Some(of)) => {
                    let dims = layer.output.clone();
                    Some(self.push(Step::Layer { layer, of }, dims))
                }
                _ => {
                    self.broken = true;
                    None
                }
            };
        }
        at
    }

    /// `keyword(value, args..)`.
    fn layer(&mut self, apply: &Apply, naming: &mut Naming) -> Option<ValueId> {
        let Some(FlowArg { name: None, value: FlowValue::Flow(input) }) = apply.args.first() else {
            return self.fail(
                apply.call_site(),
                format!(
                    "`{}` needs the value it applies to first, as in `{}(h, ..)`",
                    apply.name, apply.name
                ),
            );
        };
        let of = self.value(input, naming);
        let call = match apply.layer_call() {
            Ok(call) => call,
            Err(flow) => {
                return self.fail(
                    flow.site(),
                    format!(
                        "`{}` takes one value, its first argument; `{}` is not a size",
                        apply.name,
                        flow.display()
                    ),
                );
            }
        };
        let dims = of.map(|id| self.dims(id).to_vec());
        let tokens = of.is_some_and(|id| self.tokens(id));
        let path = naming.path();
        let Some(layer) = layers::place(&call, dims.as_deref(), tokens, path, self.errors) else {
            self.broken = true;
            return None;
        };
        let output = layer.output.clone();
        Some(self.push(Step::Layer { layer, of: of? }, output))
    }
}

/// The positional arguments of a call.
fn positional(apply: &Apply) -> impl Iterator<Item = &Flow> {
    apply.args.iter().filter(|a| a.name.is_none()).filter_map(|a| match &a.value {
        FlowValue::Flow(f) => Some(f),
        FlowValue::Expr(_) => None,
    })
}

fn arg_site(arg: &FlowArg) -> Site {
    let end = match &arg.value {
        FlowValue::Expr(e) => Site::of(e).end,
        FlowValue::Flow(f) => f.site().end,
    };
    Site { start: arg.name.as_ref().map_or(end, Ident::span), end }
}

/// What a function takes, for messages.
fn usage(name: &str) -> &'static str {
    match name {
        "add" => "two or more values of one shape, as in `add(a, b)` or `a + b`",
        "multiply" => "two or more values of one shape, as in `multiply(a, b)` or `a * b`",
        "concat" => "two or more values and an optional axis, as in `concat(a, b, axis = 0)`",
        "split" => "a value, a number of parts and an optional axis, as in `let (a, b) = split(h, 2);`",
        "slice" => "a value, a range and an optional axis, as in `slice(h, 0..8, axis = 0)`",
        _ => "a value and a list of layers, as in `layers(h, [dense(64), relu])`",
    }
}

/// Layer applications in a flow, counting each item of a `layers(..)` list.
fn layer_count(flow: &Flow) -> usize {
    match flow {
        Flow::Apply(apply) => {
            let inner: usize = positional(apply).map(layer_count).sum();
            let own = match apply.args.get(1).map(|a| &a.value) {
                _ if layers::is_keyword(&apply.name.to_string()) => 1,
                Some(FlowValue::Flow(Flow::List(items, _))) if apply.name == "layers" => items.len(),
                _ => 0,
            };
            inner + own
        }
        Flow::Binary { lhs, rhs, .. } => layer_count(lhs) + layer_count(rhs),
        Flow::Tuple(parts) => parts.iter().map(layer_count).sum(),
        _ => 0,
    }
}
