"""The benchmark workloads in PyTorch (eager, one thread) and JAX (jit, one
thread, synchronous dispatch), printing the same lines as `cargo run
--release -p chainrule-bench`:

    <workload> <implementation> <metric> <median> <low> <high>

With `--threads N` (N > 1) it runs the training workloads W2, W3 and W4
with N threads in both libraries instead, as `pytorch_threads` and
`jax_threads`: the peers of chainrule's `_threads` lines. The thread count
is fixed when the libraries load, hence a second process.

Install the peers as ../shared/peers/README.md describes (or `pip install
torch jax`), then run with that Python; `bench/compare.sh` does both.
"""

import os
import sys
import time

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
SUFFIX = "_threads" if THREADS > 1 else ""
if THREADS > 1:
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}"
else:
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ["OMP_NUM_THREADS"] = str(THREADS)

import numpy as np  # noqa: E402


def measure(units, f, warmup=0.3, round_seconds=0.06, rounds=21):
    """Seconds per unit: warm up, then rounds of repeated calls (as timing.rs)."""
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < warmup:
        f()
        calls += 1
    per_call = warmup / max(calls, 1)
    reps = max(1, int(round_seconds / per_call))
    costs = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        costs.append((time.perf_counter() - t) / (reps * units))
    costs.sort()
    return costs[len(costs) // 2], costs[0], costs[-1]


def wanted(workload):
    """Whether this run measures `workload`: every one on one thread, the
    training workloads of the `_threads` lines on several."""
    return THREADS == 1 or workload in ("W2", "W3", "W4")


def report(workload, implementation, metric, sample, scale):
    values = [scale(v) for v in sample]
    low, high = sorted(values[1:])
    print(f"{workload} {implementation}{SUFFIX} {metric} {values[0]:.4f} {low:.4f} {high:.4f}", flush=True)


def ns(v):
    return v * 1e9


def per_second(v):
    return 1.0 / v


def torch_workloads():
    import torch
    from torch import nn

    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    w1 = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
    x1 = torch.randn(1, 16)
    if wanted("W1"):
        with torch.no_grad():
            report("W1", "pytorch", "ns_per_call", measure(1, lambda: w1(x1)), ns)
    for batch, name in [(32, "W2"), (1, "W2b")]:
        if not wanted(name):
            continue
        w2 = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.SGD(w2.parameters(), lr=0.01)
        loss = nn.CrossEntropyLoss()
        x, t = torch.randn(batch, 784), torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            loss(w2(x), t).backward()
            opt.step()

        report(name, "pytorch", "samples_per_s", measure(batch, step), per_second)
    w3 = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    opt3 = torch.optim.SGD(w3.parameters(), lr=0.01)
    ce = nn.CrossEntropyLoss()
    x3, t3 = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))

    def step3():
        opt3.zero_grad()
        ce(w3(x3), t3).backward()
        opt3.step()

    report("W3", "pytorch", "samples_per_s", measure(32, step3), per_second)
    for batch, name in [(16, "W4"), (1, "W4b")]:
        if not wanted(name):
            continue
        lstm, head = nn.LSTM(8, 32, batch_first=True), nn.Linear(32, 1)
        opt4 = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
        mse = nn.MSELoss()
        x4, t4 = torch.randn(batch, 32, 8), torch.randn(batch, 1)

        def step4():
            opt4.zero_grad()
            mse(head(lstm(x4)[0][:, -1]), t4).backward()
            opt4.step()

        report(name, "pytorch", "sequences_per_s", measure(batch, step4), per_second)
    if not wanted("W4i"):
        return
    lstm = nn.LSTM(8, 32, batch_first=True)
    stream = {"state": None}
    xi = torch.randn(1, 1, 8)

    def step4i():
        out, stream["state"] = lstm(xi, stream["state"])
        return out

    with torch.no_grad():
        report("W4i", "pytorch", "ns_per_step", measure(1, step4i), ns)
    n = 1 << 20
    p = torch.randn(n, requires_grad=True)
    p.grad = torch.randn(n)
    adam = torch.optim.Adam([p], lr=1e-3, fused=True)
    report("W5", "pytorch", "ns_per_param", measure(n, adam.step), ns)


def jax_workloads():
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_cpu_enable_async_dispatch", False)
    key = jax.random.PRNGKey(0)

    def init(key, sizes):
        params = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            key, sub = jax.random.split(key)
            params.append((jax.random.normal(sub, (fan_in, fan_out)) * fan_in**-0.5, jnp.zeros(fan_out)))
        return params

    p1 = init(key, [16, 32, 32, 4])

    @jax.jit
    def w1(params, x):
        for w, b in params[:-1]:
            x = jnp.tanh(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    x1 = jnp.ones((1, 16))
    if wanted("W1"):
        report("W1", "jax", "ns_per_call", measure(1, lambda: w1(p1, x1).block_until_ready()), ns)

    def loss(params, x, t):
        (w0, b0), (w1_, b1) = params
        logits = jax.nn.relu(x @ w0 + b0) @ w1_ + b1
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), t[:, None], axis=1))

    @jax.jit
    def sgd_step(params, x, t):
        grads = jax.grad(loss)(params, x, t)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

    for batch, name in [(32, "W2"), (1, "W2b")]:
        if not wanted(name):
            continue
        state = {"p": init(key, [784, 128, 10])}
        x, t = jnp.ones((batch, 784)), jnp.zeros(batch, dtype=jnp.int32)

        def step():
            state["p"] = sgd_step(state["p"], x, t)
            jax.block_until_ready(state["p"])

        report(name, "jax", "samples_per_s", measure(batch, step), per_second)

    def w3_loss(params, x, t):
        (k0, c0), (k1, c1), (w, b) = params
        dims = ("NCHW", "OIHW", "NCHW")
        pool = lambda y: jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        y = jax.lax.conv_general_dilated(x, k0, (1, 1), ((1, 1), (1, 1)), dimension_numbers=dims)
        y = pool(jax.nn.relu(y + c0[None, :, None, None]))
        y = jax.lax.conv_general_dilated(y, k1, (1, 1), ((1, 1), (1, 1)), dimension_numbers=dims)
        y = pool(jax.nn.relu(y + c1[None, :, None, None]))
        logits = y.reshape(y.shape[0], -1) @ w + b
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), t[:, None], axis=1))

    @jax.jit
    def w3_step(params, x, t):
        grads = jax.grad(w3_loss)(params, x, t)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

    keys = jax.random.split(key, 3)
    s3 = {
        "p": [
            (jax.random.normal(keys[0], (8, 1, 3, 3)) / 3.0, jnp.zeros(8)),
            (jax.random.normal(keys[1], (16, 8, 3, 3)) / 72**0.5, jnp.zeros(16)),
            (jax.random.normal(keys[2], (784, 10)) / 28.0, jnp.zeros(10)),
        ]
    }
    x3, t3 = jnp.ones((32, 1, 28, 28)), jnp.zeros(32, dtype=jnp.int32)

    def step3():
        s3["p"] = w3_step(s3["p"], x3, t3)
        jax.block_until_ready(s3["p"])

    report("W3", "jax", "samples_per_s", measure(32, step3), per_second)

    def lstm_cell(params, carry, x):
        w_ih, w_hh, b = params
        h, c = carry
        gates = x @ w_ih + h @ w_hh + b
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    def w4_loss(params, x, t):
        cell, (w, b) = params
        zeros = jnp.zeros((x.shape[0], 32))
        (h, _), _ = jax.lax.scan(lambda carry, xt: lstm_cell(cell, carry, xt), (zeros, zeros), x.swapaxes(0, 1))
        return jnp.mean((h @ w + b - t) ** 2)

    @jax.jit
    def w4_step(params, m, v, k, x, t):
        grads = jax.grad(w4_loss)(params, x, t)
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - 1e-3 / (1 - 0.9**k) * m / (jnp.sqrt(v / (1 - 0.999**k)) + 1e-8), params, m, v
        )
        return params, m, v

    keys = jax.random.split(key, 4)
    cell = (
        jax.random.uniform(keys[0], (8, 128), minval=-0.18, maxval=0.18),
        jax.random.uniform(keys[1], (32, 128), minval=-0.18, maxval=0.18),
        jnp.zeros(128),
    )
    for batch, name in [(16, "W4"), (1, "W4b")]:
        if not wanted(name):
            continue
        params = (cell, (jax.random.normal(keys[2], (32, 1)) * 0.2, jnp.zeros(1)))
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        s4 = {"p": params, "m": zeros, "v": zeros, "k": 1.0}
        x4, t4 = jnp.ones((batch, 32, 8)), jnp.zeros((batch, 1))

        def step4():
            s4["p"], s4["m"], s4["v"] = w4_step(s4["p"], s4["m"], s4["v"], s4["k"], x4, t4)
            s4["k"] += 1.0
            jax.block_until_ready(s4["p"])

        report(name, "jax", "sequences_per_s", measure(batch, step4), per_second)
    if not wanted("W4i"):
        return

    @jax.jit
    def w4i(carry, x):
        return lstm_cell(cell, carry, x)

    s4i = {"carry": (jnp.zeros((1, 32)), jnp.zeros((1, 32)))}
    xi = jnp.ones((1, 8))

    def step4i():
        s4i["carry"], out = w4i(s4i["carry"], xi)
        out.block_until_ready()

    report("W4i", "jax", "ns_per_step", measure(1, step4i), ns)

    n = 1 << 20

    @jax.jit
    def adam(p, g, m, v, t):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 1e-3 / (1 - 0.9**t) * m / (jnp.sqrt(v) / jnp.sqrt(1 - 0.999**t) + 1e-8)
        return p, m, v

    s = {"p": jnp.ones(n), "m": jnp.zeros(n), "v": jnp.zeros(n), "t": 1.0}
    g = jnp.full(n, 0.5)

    def adam_step():
        s["p"], s["m"], s["v"] = adam(s["p"], g, s["m"], s["v"], s["t"])
        s["t"] += 1.0
        jax.block_until_ready(s["p"])

    report("W5", "jax", "ns_per_param", measure(n, adam_step), ns)


if __name__ == "__main__":
    try:
        os.sched_setaffinity(0, set(range(THREADS)))
    except (AttributeError, OSError):
        pass
    np.random.seed(0)
    torch_workloads()
    jax_workloads()
