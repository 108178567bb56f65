#!/usr/bin/env bash
# Runs chainrule's benchmark and the PyTorch/JAX peers on the same core, one
# after the other, and prints every figure with its ratio to chainrule.
#
#   bench/compare.sh [python]     (default: ~/.cache/chainrule-peers/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-$HOME/.cache/chainrule-peers/bin/python}
out=$(mktemp -d)
cargo build --release -q -p chainrule-bench
taskset -c 0 ./target/release/bench | tee "$out/chainrule.txt"
if [ -x "$python" ] || command -v "$python" >/dev/null; then
  taskset -c 0 "$python" bench/peers.py | tee "$out/peers.txt"
else
  echo "no Python with torch and jax at $python: peers skipped (see README, Benchmarks)" >&2
  : > "$out/peers.txt"
fi
python3 bench/ratios.py "$out/chainrule.txt" "$out/peers.txt"
