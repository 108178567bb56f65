"""Reads benchmark lines (chainrule's, the peers', RTNeural's) and prints,
per workload, each implementation with its ratio to chainrule: how many
times better chainrule is (time metrics are inverted, so > 1 always means
chainrule wins).

RTNeural's lines name its workloads in its own terms; W1, the LSTM step
with its dense head and the GRU step with its dense head are chainrule's
W1, W4i and W4i_gru. Each RTNeural binary is compared with the chainrule
line of its instruction set (`_avx2` binaries with `chainrule_avx2`, where
that line exists), and a summary gives the ratio to RTNeural's best binary
per workload and instruction set: the figure the targets are stated in.

Lines ending in `_threads` ran on every core; PyTorch's and JAX's compare
with `chainrule_threads`, and each workload's all-core rate is also given
as a multiple of chainrule's own one-thread rate (its scaling)."""

import sys

LOWER_IS_BETTER = {"ns_per_call", "ns_per_param", "ns_per_step", "ns_per_sample"}
# RTNeural workload: (chainrule workload, chainrule metric).
RTNEURAL = {
    "W1": ("W1", "ns_per_call"),
    "W4i_lstm_dense1": ("W4i", "ns_per_step"),
    "W4i_gru_dense1": ("W4i_gru", "ns_per_step"),
}


def read(paths):
    rows, comments = [], []
    for path in paths:
        for line in open(path):
            parts = line.split()
            if line.startswith("#"):
                comments.append(line.strip())
            elif len(parts) >= 6 and parts[1].startswith("rtneural_") and parts[0] in RTNEURAL:
                workload, metric = RTNEURAL[parts[0]]
                rows.append((workload, parts[1], metric, float(parts[3])))
            elif len(parts) == 6:
                rows.append((parts[0], parts[1], parts[2], float(parts[3])))
    return rows, comments


def ratio(ours, theirs, metric):
    times = theirs / ours if metric in LOWER_IS_BETTER else ours / theirs
    return f"{times:.2f}x better" if times >= 1 else f"{1 / times:.2f}x worse"


rows, comments = read(sys.argv[1:])
for c in dict.fromkeys(comments):
    if c.startswith("# chainrule") or c.startswith("# rtneural-peer") or c.startswith("# nam-peer"):
        print(c)
# `chainrule_in_f32` (W2i) is chainrule's own f32 form, compared with its int8 one.
ours = {
    (w, i, m): v for w, i, m, v in rows if i.startswith("chainrule") and "handwritten" not in i and i != "chainrule_in_f32"
}


def baseline(w, i, m):
    """The chainrule line an implementation compares with."""
    if i.endswith("_threads"):
        return ours.get((w, "chainrule_threads", m))
    if i.startswith("rtneural_") and i.endswith("_avx2"):
        return ours.get((w, "chainrule_avx2", m), ours.get((w, "chainrule", m)))
    return ours.get((w, "chainrule", m))


print(f"\n{'workload':<14} {'implementation':<31} {'metric':<14} {'median':>12} {'chainrule is':>14}")
for w, i, m, v in rows:
    base = None if (w, i, m) in ours else baseline(w, i, m)
    print(f"{w:<14} {i:<31} {m:<14} {v:>12.4f} {ratio(base, v, m) if base else '':>14}")

# chainrule on every core against itself on one.
scaling = [
    f"{w:<9} {v / ours[(w, 'chainrule', m)]:.2f}x its one-thread rate"
    for (w, i, m), v in ours.items()
    if i == "chainrule_threads" and (w, "chainrule", m) in ours
]
if scaling:
    print("\nchainrule on every core:")
    print("\n".join(scaling))

# Against RTNeural's best binary of each instruction set.
best = {}
for w, i, m, v in rows:
    if i.startswith("rtneural_"):
        isa = "avx2" if i.endswith("_avx2") else "widest"
        if (w, isa) not in best or v < best[(w, isa)][1]:
            best[(w, isa)] = (i, v, m)
summary = []
for (w, isa), (i, v, m) in sorted(best.items()):
    # Without AVX-512 chainrule's widest path is AVX2 and RTNeural builds
    # only its AVX2 binaries.
    name = "chainrule_avx2" if isa == "avx2" and (w, "chainrule_avx2", m) in ours else "chainrule"
    base = ours.get((w, name, m))
    if base is None:
        continue
    summary.append(f"{w:<9} {name:<15} {base:>10.1f} ns   RTNeural best ({i}) {v:>8.1f} ns   "
                   f"time ratio {base / v:.2f}")
if summary:
    print("\nAgainst RTNeural's best binary per instruction set (time ratio = chainrule / RTNeural):")
    print("\n".join(summary))

# Amp models: chainrule's time per sample as a fraction of NAM Core's -Ofast
# build (the targets are stated as this ratio), with the real-time factor
# (audio seconds per wall second at 48 kHz) of each.
amp = []
def by_block(item):
    (w, i, m), v = item
    model, _, block = w.rpartition("_b")
    return (model, int(block) if block.isdigit() else 0)
for (w, i, m), v in sorted(ours.items(), key=by_block):
    if not w.startswith("NAM_") or i != "chainrule":
        continue
    peer = {impl: value for ww, impl, mm, value in rows if ww == w and mm == m and impl.startswith("nam_core")}
    if "nam_core_ofast" in peer:
        rtf = lambda ns: 1e9 / (ns * 48000)
        amp.append(f"{w:<15} chainrule {v:>8.1f} ns ({rtf(v):>6.1f}x real time)   "
                   f"NAM Core -Ofast {peer['nam_core_ofast']:>8.1f} ns ({rtf(peer['nam_core_ofast']):>6.1f}x)   "
                   f"time ratio {v / peer['nam_core_ofast']:.2f}")
if amp:
    print("\nAmp models against NAM Core built -Ofast (time ratio = chainrule / NAM Core):")
    print("\n".join(amp))
