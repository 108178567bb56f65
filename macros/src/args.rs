//! Reading keyword arguments (`dense(64)`, `l2(1e-4)`) into numbers, with
//! an error at the offending argument when they do not fit.

use crate::errors::Errors;
use crate::parse::{Arg, Call};
use syn::{Expr, Lit, UnOp};

/// The positional arguments of `call` if there are exactly `count` of them
/// and no named ones; otherwise an error showing `usage`.
pub fn positional<'a>(call: &'a Call, count: usize, usage: &str, errors: &mut Errors) -> Option<&'a [Arg]> {
    if let Some(named) = call.args.iter().find(|a| a.name.is_some()) {
        let name = named.name.as_ref().map(ToString::to_string).unwrap_or_default();
        errors.push(named.site(), format!("`{}` has no parameter `{name}`; write `{usage}`", call.name));
        return None;
    }
    if call.args.len() == count {
        return Some(&call.args);
    }
    let span = match call.args.get(count) {
        Some(extra) => extra.site(),
        None => call.site(),
    };
    let message = match count {
        0 => format!("`{}` takes no arguments", call.name),
        _ => format!(
            "`{}` takes {count} argument{}, as in `{usage}`",
            call.name,
            if count == 1 { "" } else { "s" }
        ),
    };
    errors.push(span, message);
    None
}

/// The largest size a declaration may give (a unit count, a kernel, a
/// padding): larger ones describe no network that fits in memory, and
/// capping them keeps every product of sizes within `usize`.
pub const MAX_SIZE: u64 = 1 << 24;

/// The most values a tensor may hold (per sample for activations).
pub const MAX_ELEMENTS: usize = 1 << 31;

/// The number of elements of a tensor of `dims`, or an error saying it
/// exceeds [`MAX_ELEMENTS`]; `what` names the tensor.
pub fn elements(dims: &[usize], what: &str) -> Result<usize, String> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| format!("{what} would hold more than {MAX_ELEMENTS} values"))
}

/// A whole number written as an integer literal, at most [`MAX_SIZE`].
/// Sizes must be literals: the macro checks shapes when it expands, before
/// any `const` has a value, so a name says what is wrong with it.
pub fn whole(expr: &Expr) -> Result<u64, String> {
    match expr {
        // A value passed through `macro_rules!`, or parenthesized.
        Expr::Group(g) => whole(&g.expr),
        Expr::Paren(p) => whole(&p.expr),
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(i) => match i.base10_parse::<u64>() {
                Ok(n) if n > MAX_SIZE => Err(format!("{n} is too large: sizes go up to {MAX_SIZE}")),
                parsed => parsed.map_err(|e| e.to_string()),
            },
            _ => Err(format!("expected a whole number, found `{}`", show(expr))),
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => {
            Err(format!("sizes are positive whole numbers, found `{}`", show(expr)))
        }
        Expr::Path(p) if p.path.get_ident().is_some() => Err(format!(
            "sizes must be number literals, as in `64`: the macro checks every shape when it expands, before \
             a constant such as `{}` has a value",
            show(expr)
        )),
        _ => Err(format!("expected a whole number, found `{}`", show(expr))),
    }
}

/// A real number written as a (possibly negated) integer or float literal.
pub fn real(expr: &Expr) -> Result<f64, String> {
    let fail = || format!("expected a number, found `{}`", show(expr));
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Float(f) => f.base10_parse::<f64>().map_err(|e| e.to_string()),
            Lit::Int(i) => i.base10_parse::<f64>().map_err(|e| e.to_string()),
            _ => Err(fail()),
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => real(&u.expr).map(|v| -v),
        Expr::Paren(p) => real(&p.expr),
        Expr::Group(g) => real(&g.expr),
        _ => Err(fail()),
    }
}

fn show(expr: &Expr) -> String {
    quote::ToTokens::to_token_stream(expr).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_rejects_others() {
        let e = |s: &str| syn::parse_str::<Expr>(s).unwrap();
        assert_eq!(whole(&e("128")), Ok(128));
        assert!(whole(&e("1.5")).unwrap_err().contains("whole number"));
        assert_eq!(real(&e("-1e-4")), Ok(-1e-4));
        assert_eq!(real(&e("2")), Ok(2.0));
        assert!(real(&e("x")).is_err());
    }
}
