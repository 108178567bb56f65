#!/usr/bin/env bash
# Runs chainrule's benchmark, the PyTorch/JAX peers and RTNeural on the same
# core, one after the other, and prints every figure with its ratio to
# chainrule. The training workloads then run again on every core, in
# chainrule (its `_threads` lines come from the same binary, which pins its
# one-thread measurements to the first core itself) and in both peers.
# W2i is W2's MLP at batch 1 in int8 (`chainrule`) against its f32 form
# (`chainrule_in_f32`).
# chainrule's batch-1 workloads run twice on a CPU with AVX-512: on its
# widest path and with the AVX2 path forced (as `chainrule_avx2`),
# each compared with RTNeural built for the same instruction set.
#
#   bench/compare.sh [python]     (default: ~/.cache/chainrule-peers/bin/python)
#
# The NAM amp models (NAM_* workloads) run against NAM Core, built for
# this CPU by ../shared/peers/nam/build.sh on first use, in its three
# configurations: strict (exact tanh, the reference outputs' build),
# -Ofast (as upstream builds it) and NAM's fast tanh.
#
# Environment: RTNEURAL=0 skips RTNeural; RTN_CALLS sets its calls per
# repetition (default 2000000; RTNeural builds into ~/.cache/rtneural-peer
# on first use, see ../shared/peers/rtneural/README.md). NAM=0 skips NAM
# Core.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-$HOME/.cache/chainrule-peers/bin/python}
rtneural=../shared/peers/rtneural/run.sh
nam=../shared/peers/nam/run.sh
out=$(mktemp -d)
cargo build --release -q -p chainrule-bench
./target/release/bench | tee "$out/chainrule.txt"
if grep -q '^# chainrule path: avx512' "$out/chainrule.txt"; then
  for w in W1 W3i W4i; do
    CHAINRULE_ISA=avx2 taskset -c 0 ./target/release/bench "$w" | grep ' chainrule ' |
      sed 's/^\([^ ]*\) chainrule /\1 chainrule_avx2 /'
  done | tee "$out/chainrule_avx2.txt"
fi
# int8 (W2i) on AVX2 too, where the CPU has a wider int8 path.
if grep -q '^# chainrule int8 path: avx.*vnni' "$out/chainrule.txt"; then
  CHAINRULE_INT8=avx2 taskset -c 0 ./target/release/bench W2i | grep '^W2i chainrule ' |
    sed 's/^W2i chainrule /W2i chainrule_int8_avx2 /' | tee "$out/chainrule_int8_avx2.txt"
fi
if [ -x "$python" ] || command -v "$python" >/dev/null; then
  taskset -c 0 "$python" bench/peers.py | tee "$out/peers.txt"
  cores=$(nproc)
  if [ "$cores" -gt 1 ]; then
    "$python" bench/peers.py --threads "$cores" | tee "$out/peers_threads.txt"
  fi
else
  echo "no Python with torch and jax at $python: peers skipped (see README, Benchmarks)" >&2
fi
if [ "${RTNEURAL:-1}" != 0 ] && [ -x "$rtneural" ]; then
  CORE=0 "$rtneural" "${RTN_CALLS:-2000000}" 2>/dev/null | tee "$out/rtneural.txt"
elif [ "${RTNEURAL:-1}" != 0 ]; then
  echo "no RTNeural peer at $rtneural: skipped" >&2
fi
if [ "${NAM:-1}" != 0 ] && [ -x "$nam" ]; then
  # `nam <model>[+config] <block> <metric> ...` as `NAM_<model>_b<block> nam_core[_config] ...`.
  NAM_CPU=0 "$nam" "$PWD/data/nam/ac10.nam" "$PWD/data/nam/lstm.nam" | tee "$out/nam_raw.txt" |
    awk '$1 == "nam" && $4 == "ns_per_sample" {
      split($2, m, "+"); impl = "nam_core" (m[2] == "" ? "" : "_" m[2])
      print "NAM_" m[1] "_b" $3, impl, $4, $5, $6, $7
    }' | tee "$out/nam.txt"
  grep -m1 '^# cpu' "$out/nam_raw.txt" | sed 's/^# cpu/# nam-peer cpu/' >> "$out/nam.txt"
elif [ "${NAM:-1}" != 0 ]; then
  echo "no NAM Core peer at $nam: skipped" >&2
fi
cat "$out"/*.txt > "$out/all.txt"
python3 bench/ratios.py "$out/all.txt"
