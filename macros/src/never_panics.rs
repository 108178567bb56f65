//! The macro never panics: valid declarations with tokens deleted,
//! duplicated, swapped or replaced (numbers by extreme ones, names by other
//! keywords) must expand to code or to errors. A seeded generator makes
//! every run the same; `CHAINRULE_FUZZ_ITERATIONS` runs longer (the default
//! keeps CI quick), `CHAINRULE_FUZZ_SEED` picks another sequence. A failure
//! prints the mutated declaration, which then belongs in `regressions`.

use crate::pipeline::expand;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

/// Declarations covering every key and layer family.
const SEEDS: &[&str] = &[
    "pub struct A { input: [4], layers: [dense(8), tanh, dropout(0.2), dense(3)], loss: softmax_cross_entropy, regularizer: l1(1e-3) + l2(1e-4), init: he_normal }",
    "struct B { input: [3], layers: [dense(5), batch_norm(momentum = 0.2), relu, residual[dense(5), gelu(tanh)], dense(2)], loss: huber(0.5), scalar: f64 }",
    "struct C { input: [1, 8, 8], layers: [conv2d(4, kernel = (3, 2), stride = 2, padding = same, dilation = 1), max_pool2d(2, 1), avg_pool2d(kernel = 2), global_avg_pool, dense(3)], loss: mse }",
    "struct D { input: [2, 12], layers: [conv1d(3, kernel = 4, padding = 1, exact = true), relu, max_pool1d(2), flatten, dense(2)], loss: binary_cross_entropy_with_logits }",
    "struct E { input: [6, 3], layers: [lstm(4, sequence = true), gru(3, sequence = true), rnn(2), dense(2)], loss: mse }",
    "struct F { input: [4], layers: [dense(3), activation(|x| x * sigmoid(x) + max(x, 0.5).powi(2)), softmax], loss: |y, t| (y - t).abs() + ln(1.0 + exp(y)) }",
    "struct G { input: [5], layers: [dense(4), leaky_relu(0.1), elu(1.5), dense(3), log_softmax], loss: nll, weights: \"no/such/file.safetensors\" }",
    "struct H { input: [2], layers: [dense(3, init = glorot_uniform), swish, dense(2)], loss: softmax_cross_entropy(probabilities) }",
    "struct I { input: { x: [2, 8], c: [2] }, graph: { let h = conv1d(x, 4, kernel = 3, padding = same); let (a, b) = split(h, 2); let g = tanh(a) * sigmoid(b) + dense(c, 2); layers(flatten(concat(g, slice(h, 0..2), axis = 0)), [dense(3), relu, dense(2)]) }, loss: mse }",
    "struct J { input: { x: [1, 4, 4], f: [3] }, graph: { let m = conv2d(x, 2, kernel = 3, padding = same); let h = dense(concat(flatten(m), f), 6); let price = dense(h, 1); let class = dense(relu(h), 3); (price, class) }, loss: { price: 0.5 * mse, class: softmax_cross_entropy } }",
    "struct K { input: [u32; 6], layers: [embedding(9, 4), lstm(3), dense(2)], loss: softmax_cross_entropy }",
    "struct L { input: [u32; 6], layers: [embedding(9, 8), positional_embedding, residual[layer_norm, attention(2, causal = true)], dense(9)], loss: softmax_cross_entropy }",
];

/// Replacements: extreme numbers and other keywords.
const SUBSTITUTES: &[&str] = &[
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "99999999999999999999999",
    "1e308",
    "1e400",
    "-1e400",
    "-0.0",
    "NaN",
    "0.5",
    "4294967296",
    "1e-320",
    "dense",
    "conv2d",
    "lstm",
    "flatten",
    "relu",
    "residual",
    "mse",
    "input",
    "layers",
    "loss",
    "same",
    "true",
    "sequence",
    "kernel",
    "stride",
    "graph",
    "embedding",
    "attention",
    "causal",
    "positional_embedding",
    "u32",
    "{",
    "}",
    "split",
    "concat",
    "slice",
    "let",
    ";",
    "+",
    "*",
    "..",
    "padding",
    "x",
    "y",
    "|",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    ":",
    "(",
    ")",
    "[",
    "]",
];

/// SplitMix64, enough for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One to three token-level edits of `source`.
fn mutate(source: &str, rng: &mut Rng) -> String {
    let mut tokens: Vec<String> = proc_macro2::TokenStream::from_str(source)
        .unwrap()
        .to_string()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for _ in 0..1 + rng.below(3) {
        let i = rng.below(tokens.len());
        match rng.below(4) {
            0 => {
                tokens.remove(i);
            }
            1 => tokens.insert(i, tokens[i].clone()),
            2 if i + 1 < tokens.len() => tokens.swap(i, i + 1),
            _ => tokens[i] = SUBSTITUTES[rng.below(SUBSTITUTES.len())].to_string(),
        }
        if tokens.is_empty() {
            break;
        }
    }
    tokens.join(" ")
}

/// Expands `source` (if it lexes: what does not never reaches a macro)
/// and reports a panic with the declaration that caused it.
fn expands_without_panic(source: &str) -> Result<(), String> {
    let Ok(tokens) = proc_macro2::TokenStream::from_str(source) else { return Ok(()) };
    catch_unwind(AssertUnwindSafe(|| expand(tokens)))
        .map(drop)
        .map_err(|_| format!("the macro panicked on:\n{source}"))
}

#[test]
fn mutated_declarations_expand_or_fail_cleanly() {
    let iterations: usize =
        std::env::var("CHAINRULE_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let seed: u64 = std::env::var("CHAINRULE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut rng = Rng(seed);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for seed_source in SEEDS {
        assert!(expands_without_panic(seed_source).is_ok());
        for _ in 0..iterations / SEEDS.len() {
            if let Err(e) = expands_without_panic(&mutate(seed_source, &mut rng)) {
                failures.push(e);
            }
        }
    }
    std::panic::set_hook(hook);
    assert!(failures.is_empty(), "{} panics, the first: {}", failures.len(), failures[0]);
}

/// Sizes whose products overflow, and other extremes a mutation is unlikely
/// to hit: each must be an error, not a panic.
#[test]
fn extreme_sizes() {
    for source in [
        "struct A { input: [18446744073709551615], layers: [dense(18446744073709551615)], loss: mse }",
        "struct A { input: [4294967296, 4294967296], layers: [flatten, dense(2)], loss: mse }",
        "struct A { input: [4], layers: [dense(4294967296), dense(4294967296)], loss: mse }",
        "struct A { input: [1, 65536, 65536], layers: [conv2d(65536, kernel = 3), flatten, dense(2)], loss: mse }",
        "struct A { input: [100000, 100000], layers: [lstm(100000), dense(1)], loss: mse }",
        "struct A { input: [3, 8, 8], layers: [conv2d(2, kernel = 18446744073709551615), flatten, dense(2)], loss: mse }",
        "struct A { input: [3, 8, 8], layers: [conv2d(2, kernel = 3, dilation = 9223372036854775807), flatten, dense(2)], loss: mse }",
        "struct A { input: [3, 8, 8], layers: [conv2d(2, kernel = 3, padding = 18446744073709551615), flatten, dense(2)], loss: mse }",
        "struct A { input: [3, 8, 8], layers: [max_pool2d(2, 18446744073709551615), flatten, dense(2)], loss: mse }",
    ] {
        expands_without_panic(source).unwrap();
    }
}

/// Declarations the mutation test once found the macro panicking on.
#[test]
fn regressions() {
    for source in REGRESSIONS {
        expand(proc_macro2::TokenStream::from_str(source).unwrap());
    }
}

const REGRESSIONS: &[&str] = &[
    // A constant that overflows f32 in a user expression.
    "struct F { input : [4] , layers : [dense (3) , activation (| x | 1e308 * sigmoid (x) + max (x , 0.5) . powi (2)) , softmax] , loss : | y , t | (y - t) . abs () + ln (1.0 + exp (y)) }",
];
