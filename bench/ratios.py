"""Reads benchmark lines (chainrule's, then the peers') and prints, per
workload, each implementation with its ratio to chainrule: how many times
better chainrule is (time metrics are inverted, so > 1 always means
chainrule wins)."""

import sys

LOWER_IS_BETTER = {"ns_per_call", "ns_per_param", "ns_per_step"}


def read(path):
    rows = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 6:
            rows.append((parts[0], parts[1], parts[2], float(parts[3])))
    return rows


rows = read(sys.argv[1]) + (read(sys.argv[2]) if len(sys.argv) > 2 else [])
ours = {(w, m): v for w, i, m, v in rows if i == "chainrule"}
print(f"\n{'workload':<9} {'implementation':<24} {'metric':<14} {'median':>12} {'chainrule is':>14}")
for w, i, m, v in rows:
    base = ours.get((w, m))
    if base is None or i == "chainrule":
        ratio = ""
    else:
        times = v / base if m in LOWER_IS_BETTER else base / v
        ratio = f"{times:.2f}x better" if times >= 1 else f"{1 / times:.2f}x worse"
    print(f"{w:<9} {i:<24} {m:<14} {v:>12.4f} {ratio:>14}")
