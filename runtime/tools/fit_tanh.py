"""Fits the rational tanh of `runtime/src/math.rs` (`tanh_f32`).

tanh(x) ~ x P(x^2) / Q(x^2) on [0, 9], P of degree 6 and Q of degree 4 in
x^2, both with constant term 1 (so tanh(x) = x near 0). A linear
least-squares fit of x P - tanh(x) Q = tanh(x) - x gives the start; the
maximum error is then driven down by minimizing ever higher L^p norms of the
error (p up to 32 approaches the minimax fit). The script prints the
coefficients and the maximum absolute error of the f32 evaluation, Horner
form as in the kernel, on 4 million points.

Needs numpy and scipy (the peer environment of bench/peers.py has both):
    python runtime/tools/fit_tanh.py
"""

import numpy as np
from scipy.optimize import least_squares

LIMIT = 9.0  # tanh rounds to 1 in f32 from here on
DEG_P, DEG_Q = 6, 4

# Chebyshev-spaced points; the variable is scaled to s = x^2 / LIMIT^2 in [0, 1]
# so that the unknowns are of similar size.
x = LIMIT * (1 - np.cos(np.linspace(0, np.pi, 6001))) / 2
target = np.tanh(x)
s = (x / LIMIT) ** 2


def split(c):
    return np.concatenate([[1.0], c[:DEG_P]]), np.concatenate([[1.0], c[DEG_P:]])


def approx(c):
    p, q = split(c)
    return x * np.polyval(p[::-1], s) / np.polyval(q[::-1], s)


design = np.hstack(
    [
        np.stack([x * s**i for i in range(1, DEG_P + 1)], 1),
        np.stack([-target * s**i for i in range(1, DEG_Q + 1)], 1),
    ]
)
c, *_ = np.linalg.lstsq(design, target - x, rcond=None)
for power in [2, 4, 8, 16, 32]:
    c = least_squares(
        lambda c: 1e3 * np.abs(approx(c) - target) ** (power / 2),
        c,
        method="lm",
        max_nfev=20000,
        xtol=1e-15,
        ftol=1e-15,
    ).x
p, q = split(c)
assert np.polyval(q[::-1], s).min() > 0, "the denominator has a root in range"
print(f"max error of the fit (f64): {np.abs(approx(c) - target).max():.3e}")

# Back to the variable u = x^2.
p = p / LIMIT ** (2 * np.arange(DEG_P + 1))
q = q / LIMIT ** (2 * np.arange(DEG_Q + 1))
print("P[1..] =", ", ".join(f"{v:.8e}" for v in p[1:]))
print("Q[1..] =", ", ".join(f"{v:.8e}" for v in q[1:]))

xf = np.linspace(0, LIMIT, 4_000_001, dtype=np.float32)
uf = xf * xf
pf = np.float32(p[-1])
for coefficient in p[-2::-1]:
    pf = pf * uf + np.float32(coefficient)
qf = np.float32(q[-1])
for coefficient in q[-2::-1]:
    qf = qf * uf + np.float32(coefficient)
# The kernel clamps the quotient to [-1, 1] (rounding can carry it past 1).
yf = np.minimum(xf * pf / qf, np.float32(1))
print(f"max error of the f32 evaluation: {np.abs(yf - np.tanh(xf.astype(np.float64))).max():.3e}")
