#!/usr/bin/env bash
# Compile cost: the macro's expansion time for a 10-layer network, and an
# incremental release rebuild of the `xor` example after editing one layer.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -q --release -p chainrule-macros expansion_time -- --ignored --nocapture 2>/dev/null | grep "expansion"
cargo build -q --release --example xor
file=examples/xor.rs
cp "$file" "$file.bak"
trap 'mv "$file.bak" "$file"' EXIT
sed -i 's/layers: \[dense(2), sigmoid/layers: [dense(3), sigmoid/' "$file"
start=$(date +%s.%N)
cargo build -q --release --example xor
end=$(date +%s.%N)
echo "incremental release rebuild of examples/xor.rs after one layer edit: $(echo "$end - $start" | bc) s"
