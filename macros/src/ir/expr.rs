//! Scalar expressions: the body of every elementwise operation.
//!
//! An activation, the elementwise part of a loss, and every local derivative
//! of an elementwise operation are expressions over the operands of one
//! `Map` node (`Var(i)`), constants, and the batch size. Expressions are
//! trees built only through the constructors below, which fold constants
//! and drop identities (`x * 1`, `x + 0`), so a derivative comes out
//! simplified as it is built. Differentiation follows the usual rules; the
//! rule for `max` routes the gradient to the larger operand, which is how
//! ReLU's derivative arises from `max(x, 0)`.

use std::collections::BTreeSet;
use std::rc::Rc;

/// An `f64` compared and hashed by its bits, so expressions can be keys.
#[derive(Clone, Copy, Debug)]
pub struct Num(pub f64);

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for Num {}
impl std::hash::Hash for Num {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

/// Functions of one argument. The language is complete for user-defined
/// expressions; built-in layers use part of it.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    Neg,
    Exp,
    Ln,
    Tanh,
    Sigmoid,
    Sqrt,
    Abs,
    /// `1` where the argument is positive, else `0`.
    Step,
    /// `ln(1 + e^x)`, evaluated stably.
    Softplus,
    Erf,
    Cosh,
    Sinh,
    Powi(i32),
    /// A real power with a constant exponent.
    Powf(Num),
}

/// Functions of two arguments.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

/// A scalar expression; build it with the constructor functions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    Const(Num),
    /// Operand `i` of the enclosing elementwise node.
    Var(usize),
    /// Number of samples in the batch (1 outside batched code).
    Batch,
    Unary(Unary, Rc<Expr>),
    Binary(Binary, Rc<Expr>, Rc<Expr>),
}

pub fn c(value: f64) -> Expr {
    Expr::Const(Num(value))
}

pub fn var(index: usize) -> Expr {
    Expr::Var(index)
}

impl Expr {
    pub fn as_const(&self) -> Option<f64> {
        match self {
            Expr::Const(n) => Some(n.0),
            _ => None,
        }
    }

    fn is(&self, value: f64) -> bool {
        self.as_const() == Some(value)
    }
}

pub fn unary(op: Unary, a: Expr) -> Expr {
    if let Some(x) = a.as_const() {
        return c(eval_unary(op, x));
    }
    if let Some(stable) = stable_form(op, &a) {
        return stable;
    }
    match (op, &a) {
        (Unary::Neg, Expr::Unary(Unary::Neg, inner)) => (**inner).clone(),
        (Unary::Powi(0), _) => c(1.0),
        (Unary::Powi(1), _) => a,
        _ => Expr::Unary(op, Rc::new(a)),
    }
}

pub fn binary(op: Binary, a: Expr, b: Expr) -> Expr {
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        return c(eval_binary(op, x, y));
    }
    if let Some(simpler) = simpler_binary(op, &a, &b) {
        return simpler;
    }
    match op {
        Binary::Add if a.is(0.0) => b,
        Binary::Add | Binary::Sub if b.is(0.0) => a,
        Binary::Sub if a.is(0.0) => neg(b),
        Binary::Sub if a == b => c(0.0),
        // `0 * x` is taken as 0 even for infinite x: derivatives multiply by
        // structural zeros everywhere, and keeping `0 * inf = NaN` would only
        // make dead terms poison live ones.
        Binary::Mul if a.is(0.0) || b.is(0.0) => c(0.0),
        Binary::Mul if a.is(1.0) => b,
        Binary::Mul if b.is(1.0) => a,
        Binary::Mul if a.is(-1.0) => neg(b),
        Binary::Mul if b.is(-1.0) => neg(a),
        // Constants gather on the left: `c1 * (c2 * x)` is `(c1 c2) * x`.
        Binary::Mul if b.as_const().is_some() => mul(b, a),
        Binary::Mul => match (a.as_const(), &b) {
            (Some(x), Expr::Binary(Binary::Mul, l, r)) if l.as_const().is_some() => {
                mul(c(x * l.as_const().unwrap_or(1.0)), (**r).clone())
            }
            _ => Expr::Binary(op, Rc::new(a), Rc::new(b)),
        },
        Binary::Div if b.is(1.0) => a,
        Binary::Div if a.is(0.0) => c(0.0),
        _ => Expr::Binary(op, Rc::new(a), Rc::new(b)),
    }
}

/// The argument of `f(x)`, if `e` is one.
fn argument(e: &Expr, f: Unary) -> Option<&Expr> {
    match e {
        Expr::Unary(op, x) if *op == f => Some(x),
        _ => None,
    }
}

/// `1 + e^x` (either order): the `x`.
fn one_plus_exp(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Binary(Binary::Add, a, b) if a.is(1.0) => argument(b, Unary::Exp),
        Expr::Binary(Binary::Add, a, b) if b.is(1.0) => argument(a, Unary::Exp),
        _ => None,
    }
}

/// A function of an expression that has a named, numerically stable form:
/// `ln(1 + e^x)` is `softplus(x)` (finite where `e^x` overflows), `ln(e^x)`
/// is `x`. Rewriting as expressions are built makes a closure written the
/// naive way compute, differentiate and print as the built-in.
fn stable_form(op: Unary, a: &Expr) -> Option<Expr> {
    match op {
        Unary::Ln => match one_plus_exp(a) {
            Some(x) => Some(unary(Unary::Softplus, x.clone())),
            None => argument(a, Unary::Exp).cloned(),
        },
        _ => None,
    }
}

/// Identities that make derivatives read as they are taught: `(1 / a) *
/// b` is `b / a`; `sinh(u) / cosh(u)` is `tanh(u)` (so log-cosh's
/// derivative prints as `tanh(y - t)`); `e^u / (1 + e^u)` is `sigmoid(u)`
/// (which, unlike the quotient, stays finite where `e^u` overflows); `a +
/// -b` is `a - b` and `-a / b` is `-(a / b)`.
fn simpler_binary(op: Binary, a: &Expr, b: &Expr) -> Option<Expr> {
    let reciprocal = |e: &Expr| match e {
        Expr::Binary(Binary::Div, one, d) if one.is(1.0) => Some((**d).clone()),
        _ => None,
    };
    match op {
        Binary::Mul => match (reciprocal(a), reciprocal(b)) {
            (Some(d), _) => Some(div(b.clone(), d)),
            (None, Some(d)) => Some(div(a.clone(), d)),
            _ => None,
        },
        Binary::Div => {
            // `-a / b` is `-(a / b)`, so a quotient under a sign is still recognized.
            if let Some(x) = argument(a, Unary::Neg) {
                return Some(neg(div(x.clone(), b.clone())));
            }
            let (top_sinh, bottom_cosh) = (argument(a, Unary::Sinh), argument(b, Unary::Cosh));
            if let (Some(u), Some(v)) = (top_sinh, bottom_cosh)
                && u == v
            {
                return Some(unary(Unary::Tanh, u.clone()));
            }
            match (argument(a, Unary::Exp), one_plus_exp(b)) {
                (Some(u), Some(v)) if u == v => Some(unary(Unary::Sigmoid, u.clone())),
                _ => None,
            }
        }
        Binary::Add => argument(b, Unary::Neg).map(|x| sub(a.clone(), x.clone())),
        Binary::Sub => argument(b, Unary::Neg).map(|x| add(a.clone(), x.clone())),
        _ => None,
    }
}

pub fn neg(a: Expr) -> Expr {
    unary(Unary::Neg, a)
}
pub fn add(a: Expr, b: Expr) -> Expr {
    binary(Binary::Add, a, b)
}
pub fn sub(a: Expr, b: Expr) -> Expr {
    binary(Binary::Sub, a, b)
}
pub fn mul(a: Expr, b: Expr) -> Expr {
    binary(Binary::Mul, a, b)
}
pub fn div(a: Expr, b: Expr) -> Expr {
    binary(Binary::Div, a, b)
}
pub fn step(a: Expr) -> Expr {
    unary(Unary::Step, a)
}
/// `max(a, 0)`.
pub fn relu(a: Expr) -> Expr {
    binary(Binary::Max, a, c(0.0))
}
pub fn powi(a: Expr, n: i32) -> Expr {
    unary(Unary::Powi(n), a)
}
pub fn powf(a: Expr, exponent: f64) -> Expr {
    unary(Unary::Powf(Num(exponent)), a)
}

fn eval_unary(op: Unary, x: f64) -> f64 {
    match op {
        Unary::Neg => -x,
        Unary::Exp => x.exp(),
        Unary::Ln => x.ln(),
        Unary::Tanh => x.tanh(),
        Unary::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Unary::Sqrt => x.sqrt(),
        Unary::Abs => x.abs(),
        Unary::Step => f64::from(u8::from(x > 0.0)),
        Unary::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        Unary::Erf => libm::erf(x),
        Unary::Cosh => x.cosh(),
        Unary::Sinh => x.sinh(),
        Unary::Powi(n) => x.powi(n),
        Unary::Powf(e) => x.powf(e.0),
    }
}

fn eval_binary(op: Binary, x: f64, y: f64) -> f64 {
    match op {
        Binary::Add => x + y,
        Binary::Sub => x - y,
        Binary::Mul => x * y,
        Binary::Div => x / y,
        Binary::Max => {
            if x >= y {
                x
            } else {
                y
            }
        }
        Binary::Min => {
            if x <= y {
                x
            } else {
                y
            }
        }
    }
}

impl Expr {
    /// Value at `vars` with the given batch size (reference semantics for tests).
    #[cfg(test)]
    pub fn eval(&self, vars: &[f64], batch: f64) -> f64 {
        match self {
            Expr::Const(n) => n.0,
            Expr::Var(i) => vars[*i],
            Expr::Batch => batch,
            Expr::Unary(op, a) => eval_unary(*op, a.eval(vars, batch)),
            Expr::Binary(op, a, b) => eval_binary(*op, a.eval(vars, batch), b.eval(vars, batch)),
        }
    }

    /// Derivative with respect to `Var(wrt)`.
    pub fn diff(&self, wrt: usize) -> Expr {
        match self {
            Expr::Const(_) | Expr::Batch => c(0.0),
            Expr::Var(i) => c(f64::from(u8::from(*i == wrt))),
            Expr::Unary(op, a) => {
                let da = a.diff(wrt);
                if da.is(0.0) {
                    return da;
                }
                let a = (**a).clone();
                let local = match op {
                    Unary::Neg => c(-1.0),
                    Unary::Exp => self.clone(),
                    Unary::Ln => div(c(1.0), a),
                    Unary::Tanh => sub(c(1.0), powi(self.clone(), 2)),
                    Unary::Sigmoid => mul(self.clone(), sub(c(1.0), self.clone())),
                    Unary::Sqrt => div(c(0.5), self.clone()),
                    // sign(a); zero at 0 as PyTorch's subgradient.
                    Unary::Abs => sub(step(a.clone()), step(neg(a))),
                    Unary::Step => c(0.0),
                    Unary::Softplus => unary(Unary::Sigmoid, a),
                    Unary::Erf => {
                        mul(c(std::f64::consts::FRAC_2_SQRT_PI), unary(Unary::Exp, neg(powi(a, 2))))
                    }
                    Unary::Cosh => unary(Unary::Sinh, a),
                    Unary::Sinh => unary(Unary::Cosh, a),
                    Unary::Powi(n) => mul(c(f64::from(*n)), powi(a, n - 1)),
                    Unary::Powf(e) => mul(c(e.0), powf(a, e.0 - 1.0)),
                };
                mul(local, da)
            }
            Expr::Binary(op, a, b) => {
                let (da, db) = (a.diff(wrt), b.diff(wrt));
                let (a, b) = ((**a).clone(), (**b).clone());
                match op {
                    Binary::Add => add(da, db),
                    Binary::Sub => sub(da, db),
                    // The product rule: each operand's gradient is scaled
                    // by the other operand.
                    Binary::Mul => add(mul(da, b), mul(a, db)),
                    Binary::Div => sub(div(da, b.clone()), div(mul(self.clone(), db), b)),
                    // The gradient goes to the operand that won.
                    Binary::Max => route(step(sub(a, b)), da, db),
                    Binary::Min => route(step(sub(b, a)), da, db),
                }
            }
        }
    }

    /// Replaces every occurrence of the subtree `target` with `with`.
    pub fn replace(&self, target: &Expr, with: &Expr) -> Expr {
        if self == target {
            return with.clone();
        }
        match self {
            Expr::Unary(op, a) => unary(*op, a.replace(target, with)),
            Expr::Binary(op, a, b) => binary(*op, a.replace(target, with), b.replace(target, with)),
            _ => self.clone(),
        }
    }

    /// Rebuilds the expression with each `Var(i)` replaced by `f(i)`.
    pub fn substitute(&self, f: &impl Fn(usize) -> Expr) -> Expr {
        match self {
            Expr::Var(i) => f(*i),
            Expr::Unary(op, a) => unary(*op, a.substitute(f)),
            Expr::Binary(op, a, b) => binary(*op, a.substitute(f), b.substitute(f)),
            _ => self.clone(),
        }
    }

    /// Indices of the operands the expression reads.
    pub fn vars(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars(&self, out: &mut BTreeSet<usize>) {
        match self {
            Expr::Var(i) => {
                out.insert(*i);
            }
            Expr::Unary(_, a) => a.collect_vars(out),
            Expr::Binary(_, a, b) => {
                a.collect_vars(out);
                b.collect_vars(out);
            }
            Expr::Const(_) | Expr::Batch => {}
        }
    }
}

/// `win * da + (1 - win) * db`, where `win` is 1 when the first operand won.
fn route(win: Expr, da: Expr, db: Expr) -> Expr {
    add(mul(win.clone(), da), mul(sub(c(1.0), win), db))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigmoid(a: Expr) -> Expr {
        unary(Unary::Sigmoid, a)
    }

    /// Central difference in f64 against the symbolic derivative.
    fn check(e: &Expr, at: &[f64]) {
        for wrt in 0..at.len() {
            let d = e.diff(wrt);
            let h = 1e-6;
            let mut hi = at.to_vec();
            let mut lo = at.to_vec();
            hi[wrt] += h;
            lo[wrt] -= h;
            let numeric = (e.eval(&hi, 3.0) - e.eval(&lo, 3.0)) / (2.0 * h);
            let symbolic = d.eval(at, 3.0);
            assert!(
                (numeric - symbolic).abs() <= 1e-6 + 1e-4 * numeric.abs(),
                "d/dx{wrt} of {e:?} at {at:?}: numeric {numeric}, symbolic {symbolic}"
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let (x, y) = (var(0), var(1));
        let cases = [
            unary(Unary::Tanh, x.clone()),
            sigmoid(x.clone()),
            unary(Unary::Exp, mul(x.clone(), y.clone())),
            unary(Unary::Ln, add(mul(x.clone(), x.clone()), c(1.0))),
            div(x.clone(), add(y.clone(), c(3.0))),
            unary(Unary::Sqrt, add(powi(x.clone(), 2), c(1.0))),
            binary(Binary::Max, x.clone(), y.clone()),
            binary(Binary::Min, x.clone(), y.clone()),
            unary(Unary::Abs, sub(x.clone(), y.clone())),
            div(powi(sub(x.clone(), y.clone()), 3), Expr::Batch),
            mul(x.clone(), sigmoid(x.clone())),
            unary(Unary::Softplus, mul(x.clone(), y.clone())),
            powf(add(powi(x.clone(), 2), c(1.0)), 1.5),
            mul(x.clone(), unary(Unary::Erf, div(x.clone(), c(2f64.sqrt())))),
            unary(Unary::Ln, unary(Unary::Cosh, sub(x.clone(), y.clone()))),
            mul(unary(Unary::Sinh, x.clone()), unary(Unary::Cosh, y.clone())),
        ];
        for e in &cases {
            for at in [[0.3, -0.7], [-1.5, 0.2], [2.0, 1.0]] {
                check(e, &at);
            }
        }
    }

    #[test]
    fn derivatives_at_extremes_stay_finite() {
        let t = unary(Unary::Tanh, var(0)).diff(0);
        assert_eq!(t.eval(&[30.0], 1.0), 0.0);
        let s = sigmoid(var(0)).diff(0);
        assert_eq!(s.eval(&[-1000.0], 1.0), 0.0);
        let r = binary(Binary::Max, var(0), c(0.0)).diff(0);
        assert_eq!(r.eval(&[0.0], 1.0), 0.0, "relu'(0) is 0 as in PyTorch");
        assert_eq!(r.eval(&[1e-30], 1.0), 1.0);
    }

    #[test]
    fn relu_derivative_is_a_single_step() {
        let d = binary(Binary::Max, var(0), c(0.0)).diff(0);
        assert_eq!(d, step(var(0)));
    }

    #[test]
    fn constructors_fold_constants_and_identities() {
        assert_eq!(add(c(1.0), c(2.0)), c(3.0));
        assert_eq!(mul(var(0), c(1.0)), var(0));
        assert_eq!(mul(c(0.0), unary(Unary::Exp, var(0))), c(0.0));
        assert_eq!(sub(c(0.0), var(1)), neg(var(1)));
        assert_eq!(neg(neg(var(2))), var(2));
        assert_eq!(var(0).diff(1), c(0.0));
        assert_eq!(mul(c(0.5), mul(c(2.0), var(0))), var(0));
        assert_eq!(mul(var(0), c(3.0)), mul(c(3.0), var(0)));
    }

    /// The named forms are recognized as expressions are built, and each
    /// rewrite keeps the value (checked where the naive form is finite).
    #[test]
    fn known_forms_are_named_and_keep_their_value() {
        let (x, y) = (var(0), var(1));
        let u = sub(x.clone(), y.clone());
        let exp = |e: &Expr| unary(Unary::Exp, e.clone());
        let log_cosh = unary(Unary::Ln, unary(Unary::Cosh, u.clone()));
        assert_eq!(log_cosh.diff(0), unary(Unary::Tanh, u.clone()), "log-cosh's derivative is tanh");
        assert_eq!(log_cosh.diff(1), neg(unary(Unary::Tanh, u.clone())));
        let naive_softplus = unary(Unary::Ln, add(c(1.0), exp(&x)));
        assert_eq!(naive_softplus, unary(Unary::Softplus, x.clone()));
        assert_eq!(unary(Unary::Ln, add(exp(&x), c(1.0))), unary(Unary::Softplus, x.clone()));
        assert_eq!(naive_softplus.diff(0), sigmoid(x.clone()));
        assert_eq!(div(exp(&u), add(c(1.0), exp(&u))), sigmoid(u.clone()));
        assert_eq!(unary(Unary::Ln, exp(&u)), u);
        assert_eq!(add(x.clone(), neg(y.clone())), sub(x.clone(), y.clone()));
        assert_eq!(sub(x.clone(), neg(y.clone())), add(x.clone(), y.clone()));
        assert_eq!(mul(div(c(1.0), y.clone()), x.clone()), div(x.clone(), y.clone()));
        // The same values as the forms they replace, computed naively.
        for at in [[0.3, -0.7], [-1.5, 0.2], [2.0, 1.0]] {
            let (a, b) = (at[0], at[1]);
            assert!((naive_softplus.eval(&at, 1.0) - (1.0 + a.exp()).ln()).abs() < 1e-12);
            let logistic = (a - b).exp() / (1.0 + (a - b).exp());
            assert!((div(exp(&u), add(c(1.0), exp(&u))).eval(&at, 1.0) - logistic).abs() < 1e-12);
            assert!((log_cosh.diff(0).eval(&at, 1.0) - (a - b).sinh() / (a - b).cosh()).abs() < 1e-12);
        }
        // Where the naive form overflows, the named one does not.
        assert_eq!(naive_softplus.eval(&[1000.0, 0.0], 1.0), 1000.0);
        assert_eq!(div(exp(&x), add(c(1.0), exp(&x))).eval(&[1000.0, 0.0], 1.0), 1.0);
    }

    #[test]
    fn tanh_derivative_is_written_with_the_forward_value() {
        let f = unary(Unary::Tanh, var(0));
        let d = f.diff(0).replace(&f, &var(1));
        assert_eq!(d, sub(c(1.0), powi(var(1), 2)));
        assert_eq!(d.vars(), BTreeSet::from([1]));
    }
}
