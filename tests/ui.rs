//! Compile-fail cases: each `tests/ui/<category>/<mistake>.rs` must fail to
//! compile with exactly the messages in its `.stderr`. The snapshots are
//! generated with `TRYBUILD=overwrite cargo test --test ui` and reviewed;
//! they are pinned to the stable rustc this repository uses (see
//! `rust-version` in Cargo.toml), whose rendering they record.

#[test]
fn invalid_networks_are_rejected_at_the_offending_token() {
    trybuild::TestCases::new().compile_fail("tests/ui/*/*.rs");
}
