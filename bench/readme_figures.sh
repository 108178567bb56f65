#!/usr/bin/env bash
# Regenerates the README's table of training results, so its figures are
# always what the code prints today: runs the `mnist`, `fashion_mnist` and
# `fashion_cnn` examples over five seeds, and the same recipe as
# `fashion_mnist` in PyTorch (bench/mlp_recipe.py), then writes the mean,
# the spread, the wall time, the machine and the date between the
# README's `readme_figures` markers.
#
#   bench/readme_figures.sh              # data in ../shared/data
#   DATA=/path/to/data SEEDS="1 2 3" bench/readme_figures.sh
#   PYTORCH=0 bench/readme_figures.sh    # without the PyTorch runs
#
# Takes about 10 minutes on a 2-core machine. Run it alone: other work on
# the cores changes the wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
SEEDS=${SEEDS:-"1 2 3 4 5"}
PYTHON=${PYTHON:-$HOME/.cache/chainrule-peers/bin/python}
PYTORCH=${PYTORCH:-1}
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

cargo build --release -q --example mnist --example fashion_mnist --example fashion_cnn

# One run: the command's "test accuracy: x" and its wall time, as a line
# `<row> <seed> <accuracy> <seconds>` of the results.
run() {
    local row=$1 seed=$2
    shift 2
    local start end out
    start=$(date +%s.%N)
    out=$("$@")
    end=$(date +%s.%N)
    local accuracy
    accuracy=$(printf '%s\n' "$out" | sed -n 's/^test accuracy: \([0-9.]*\)$/\1/p' | tail -1)
    [ -n "$accuracy" ] || { echo "no test accuracy from: $*" >&2; exit 1; }
    echo "$row $seed $accuracy $(echo "$end - $start" | bc)" >>"$RESULTS"
    echo "$row, seed $seed: $accuracy" >&2
}

for seed in $SEEDS; do
    run mnist "$seed" target/release/examples/mnist "$DATA/mnist" "$seed"
    run fashion_mnist "$seed" target/release/examples/fashion_mnist "$DATA/fashion-mnist" "$seed"
    run fashion_cnn "$seed" target/release/examples/fashion_cnn "$DATA/fashion-mnist" "$seed"
    if [ "$PYTORCH" = 1 ]; then
        run pytorch_mlp "$seed" "$PYTHON" bench/mlp_recipe.py "$DATA/fashion-mnist" "$seed"
    fi
done

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
CORES=$(nproc)
TORCH=$([ "$PYTORCH" = 1 ] && "$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])' || echo "")
python3 - "$RESULTS" "$CPU" "$CORES" "$(date +%Y-%m-%d)" "$TORCH" "$SEEDS" <<'PY'
import re
import statistics
import sys

results, cpu, cores, day, torch, seeds = sys.argv[1:7]
rows = {}
for line in open(results):
    row, seed, accuracy, seconds = line.split()
    rows.setdefault(row, []).append((int(seed), float(accuracy), float(seconds)))
names = {
    "mnist": "`mnist` (MLP)",
    "fashion_mnist": "`fashion_mnist` (MLP)",
    "fashion_cnn": "`fashion_cnn` (CNN)",
    "pytorch_mlp": f"PyTorch {torch}, `fashion_mnist`'s recipe",
}
seed_list = ", ".join(seeds.split())
lines = [
    f"| run | test accuracy, mean ± sd over seeds {seed_list} | lowest to highest | wall time per run |",
    "|-----|------:|------:|------:|",
]
for key in ["mnist", "fashion_mnist", "fashion_cnn", "pytorch_mlp"]:
    if key not in rows:
        continue
    acc = [a for _, a, _ in rows[key]]
    secs = [s for _, _, s in rows[key]]
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    lines.append(
        f"| {names[key]} | {statistics.mean(acc):.4f} ± {sd:.4f} | {min(acc):.4f} to {max(acc):.4f} "
        f"| {statistics.mean(secs):.1f} s |"
    )
lines += [
    "",
    f"Measured {day} on {cores} cores ({cpu}) by `bench/readme_figures.sh`, which wrote this table;",
    "wall time includes reading the data; chainrule and PyTorch use every core.",
]
table = "\n".join(lines)
text = open("README.md").read()
begin, end = "<!-- readme_figures: begin -->", "<!-- readme_figures: end -->"
pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
if not pattern.search(text):
    sys.exit("README.md has no readme_figures markers")
open("README.md", "w").write(pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text))
print(table)
PY
