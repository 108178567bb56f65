//! The module boundaries ARCHITECTURE.md promises, checked on the sources:
//! the IR reads without the code generator, the emission context is a leaf,
//! ops and layers do not reach into emission, and nothing after the
//! checker reports to the user.

use std::path::Path;

/// The text of the module `dir`: `dir.rs` and every file under `dir/`.
fn mentions(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut stack = vec![root.join(dir)];
    stack.retain(|p| p.is_dir());
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path).expect("a source folder").map(|e| e.expect("an entry").path()),
            );
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            let file = path.strip_prefix(&root).expect("under src").display().to_string();
            found.push((file, text));
        }
    }
    if let Ok(text) = std::fs::read_to_string(root.join(format!("{dir}.rs"))) {
        found.push((format!("{dir}.rs"), text));
    }
    assert!(!found.is_empty(), "no module `{dir}`");
    found
}

fn uses_none(dir: &str, forbidden: &[&str]) {
    for (file, text) in mentions(dir) {
        for module in forbidden {
            assert!(!text.contains(&format!("crate::{module}")), "{file} uses `crate::{module}`");
        }
    }
}

#[test]
fn the_ir_reads_without_the_code_generator() {
    uses_none("ir", &["ops", "codegen", "emit", "layers", "simplify", "autodiff"]);
}

#[test]
fn the_emission_context_is_a_leaf() {
    uses_none("codegen", &["ops", "emit", "layers", "simplify", "autodiff", "lower", "model"]);
}

#[test]
fn ops_and_layers_do_not_reach_into_emission() {
    uses_none("ops", &["emit", "layers", "lower", "simplify"]);
    uses_none("layers", &["emit", "codegen", "simplify", "autodiff"]);
}

/// Errors are `syn::Error`s built by the stages that report them: nothing
/// after the weights file builds one.
#[test]
fn nothing_after_the_checks_reports_to_the_user() {
    for dir in ["lower", "autodiff", "simplify", "emit", "ops", "codegen", "describe"] {
        for (file, text) in mentions(dir) {
            assert!(!text.contains("syn::Error") && !text.contains("Errors"), "{file} reports errors");
        }
    }
}
