#!/usr/bin/env bash
# Regenerates the README's table of training results, so its figures are
# always what the code prints today: runs the training examples over five
# seeds (`digits`, `mnist`, `fashion_mnist`, `fashion_cnn`,
# `iris_two_heads`, `dbn_mnist`, `fine_tuning`) and the same recipe as
# `fashion_mnist` in PyTorch (bench/mlp_recipe.py), then writes each
# figure's mean, spread and range, each run's wall time, the machine and
# the date between the README's `readme_figures` markers.
#
#   bench/readme_figures.sh              # data in ../shared/data
#   DATA=/path/to/data SEEDS="1 2 3" bench/readme_figures.sh
#   PYTORCH=0 bench/readme_figures.sh    # without the PyTorch runs
#   RESNET=1 bench/readme_figures.sh     # with fashion_resnet (11 minutes a seed)
#
# Takes about 17 minutes on a 2-core machine (an hour more with RESNET=1).
# Run it alone: other work on the cores changes the wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
SEEDS=${SEEDS:-"1 2 3 4 5"}
PYTHON=${PYTHON:-$HOME/.cache/chainrule-peers/bin/python}
PYTORCH=${PYTORCH:-1}
RESNET=${RESNET:-0}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

EXAMPLES="digits mnist fashion_mnist fashion_cnn iris_two_heads dbn_mnist fine_tuning"
[ "$RESNET" = 1 ] && EXAMPLES="$EXAMPLES fashion_resnet"
# shellcheck disable=SC2086
cargo build --release -q $(printf -- '--example %s ' $EXAMPLES)

# One run: its output in `<run>-<seed>.out`, its wall time in seconds in
# `<run>-<seed>.sec`. The examples write their curves and weights into
# the working directory: they run in the temporary one.
run() {
    local name=$1 seed=$2
    shift 2
    local start end
    start=$(date +%s.%N)
    (cd "$OUT" && "$@") >"$OUT/$name-$seed.out"
    end=$(date +%s.%N)
    echo "$end - $start" | bc >"$OUT/$name-$seed.sec"
    echo "$name, seed $seed: done" >&2
}

BIN=$PWD/target/release/examples
DATA=$(cd "$DATA" && pwd)
for seed in $SEEDS; do
    run digits "$seed" "$BIN/digits" "$PWD/data/digits/digits.csv.gz" "$seed"
    run mnist "$seed" "$BIN/mnist" "$DATA/mnist" "$seed"
    run fashion_mnist "$seed" "$BIN/fashion_mnist" "$DATA/fashion-mnist" "$seed"
    if [ "$PYTORCH" = 1 ]; then
        run pytorch_mlp "$seed" "$PYTHON" "$PWD/bench/mlp_recipe.py" "$DATA/fashion-mnist" "$seed"
    fi
    run fashion_cnn "$seed" "$BIN/fashion_cnn" "$DATA/fashion-mnist" "$seed"
    run iris_two_heads "$seed" "$BIN/iris_two_heads" "$DATA/iris/iris.csv" "$seed"
    run dbn_mnist "$seed" "$BIN/dbn_mnist" "$DATA/mnist" "$seed"
    run fine_tuning "$seed" "$BIN/fine_tuning" "$DATA/mnist" "$DATA/fashion-mnist" "$seed"
    if [ "$RESNET" = 1 ]; then
        run fashion_resnet "$seed" "$BIN/fashion_resnet" "$DATA/fashion-mnist" "$seed"
    fi
done

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
TORCH=$([ "$PYTORCH" = 1 ] && "$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])' || echo "")
python3 - "$OUT" "$CPU" "$(nproc)" "$(date +%Y-%m-%d)" "$TORCH" "$SEEDS" <<'PY'
import pathlib
import re
import statistics
import sys

out, cpu, cores, day, torch, seeds = sys.argv[1:7]
out, seeds = pathlib.Path(out), [int(s) for s in seeds.split()]

# (run, what it is, figure, the line that prints it, decimals)
FIGURES = [
    ("digits", "`digits` (MLP, 8x8 digits)", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("mnist", "`mnist` (MLP)", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("fashion_mnist", "`fashion_mnist` (MLP)", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("pytorch_mlp", f"PyTorch {torch}, `fashion_mnist`'s recipe", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("fashion_cnn", "`fashion_cnn` (CNN)", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("fashion_resnet", "`fashion_resnet` (ResNet)", "test accuracy", r"^test accuracy: ([0-9.]+)$", 4),
    ("iris_two_heads", "`iris_two_heads`", "species: test accuracy", r"^species: test accuracy ([0-9.]+)$", 4),
    ("iris_two_heads", "", "petal width: test RMSE (cm)", r"^petal width: test RMSE ([0-9.]+) cm$", 3),
    ("dbn_mnist", "`dbn_mnist`", "test accuracy, pre-trained", r"^test accuracy, pre-trained: ([0-9.]+)$", 4),
    ("dbn_mnist", "", "the same, random initialization",
     r"^test accuracy, random initialization: ([0-9.]+)$", 4),
    ("fine_tuning", "`fine_tuning`", "MNIST test accuracy (pre-training)", r"^MNIST test accuracy: ([0-9.]+)$", 4),
    ("fine_tuning", "", "Fashion-MNIST: MNIST convolutions frozen, head trained",
     r"^  MNIST convolutions, frozen, new head trained: ([0-9.]+)$", 4),
    ("fine_tuning", "", "random convolutions frozen, head trained",
     r"^  random convolutions, frozen, head trained: +([0-9.]+)$", 4),
    ("fine_tuning", "", "everything trained from scratch", r"^  everything trained from scratch: +([0-9.]+)$", 4),
]


def figure(run, seed, pattern):
    text = (out / f"{run}-{seed}.out").read_text()
    found = re.findall(pattern, text, re.M)
    if not found:
        sys.exit(f"{run}, seed {seed}: no line matching {pattern}")
    return float(found[-1])


lines = [
    f"| run | figure | mean ± sd over seeds {', '.join(map(str, seeds))} | lowest to highest | wall time per run |",
    "|-----|--------|------:|------:|------:|",
]
for run, label, name, pattern, decimals in FIGURES:
    if not (out / f"{run}-{seeds[0]}.out").exists():
        continue
    values = [figure(run, seed, pattern) for seed in seeds]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    wall = ""
    if label:
        seconds = statistics.mean(float((out / f"{run}-{s}.sec").read_text()) for s in seeds)
        wall = f"{seconds:.1f} s"
    f = f".{decimals}f"
    lines.append(
        f"| {label} | {name} | {statistics.mean(values):{f}} ± {sd:{f}} "
        f"| {min(values):{f}} to {max(values):{f}} | {wall} |"
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
