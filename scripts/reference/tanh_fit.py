#!/usr/bin/env python3
"""Fits the rational tanh of EdgeCore's `fastTanh` (Sources/EdgeCore/FastMath.swift); numpy only.

    tanh(x) ~= x * P(u) / Q(u), u = min(x^2, C^2), the result clamped to [-1, 1],
    P(u) = 1 + p1 u + ... + p4 u^4,  Q(u) = 1 + q1 u + ... + q4 u^4.

P(0) = Q(0) = 1 exactly, so tiny and subnormal x come out unchanged (tanh x rounds to x there).
The clamp to [-1, 1] also catches Float roundings that land one ulp above 1 near saturation.
C = 9 is about where tanh rounds to 1 in Float (9.01); beyond it x P(C^2) / Q(C^2) >= 1 and the
clamp gives exactly 1 (checked below), so saturation is exact.

Fit: minimax of the relative error of P/Q against tanh(x)/x on a dense grid of x in (0, C], by
Loeb's linearization (weighted least squares of P - f Q with weights 1 / (f Q_previous)) with Lawson's
reweighting toward the largest errors; variable scaled to u / C^2 for conditioning. The best
iterate's coefficients are rounded to Float32, then evaluated the way Swift does (Float32, Horner
with fused multiply-add, then x * P, then one division) against float64 tanh.

    python3 scripts/reference/tanh_fit.py          # prints the Swift coefficients and the errors
"""
import numpy as np

C = 9.0
DEG_P, DEG_Q = 4, 4


def fit(m, n, c, iterations=80):
    x = np.concatenate([np.linspace(1e-4, 0.05, 200), np.linspace(0.0, c, 40001)[1:]])
    u = x * x
    f = np.tanh(x) / x
    s = u / (c * c)
    weights = np.ones_like(u)
    q_previous = np.ones_like(u)
    best = None
    for _ in range(iterations):
        # Unknowns p1..pm, q1..qn with p0 = q0 = 1: P - f Q = f - 1 - sum p_k s^k + f sum q_k s^k.
        a = np.zeros((len(u), m + n))
        for k in range(1, m + 1):
            a[:, k - 1] = s ** k
        for k in range(1, n + 1):
            a[:, m + k - 1] = -f * s ** k
        b = f - 1.0
        row_weight = np.sqrt(weights) / (f * q_previous)
        coef, *_ = np.linalg.lstsq(a * row_weight[:, None], b * row_weight, rcond=None)
        p = np.concatenate([[1.0], coef[:m]])
        q = np.concatenate([[1.0], coef[m:]])
        pv = np.polyval(p[::-1], s)
        qv = np.polyval(q[::-1], s)
        err = np.abs(pv / qv - f) / f
        if best is None or err.max() < best[0]:
            best = (err.max(), p.copy(), q.copy())
        q_previous = qv
        weights = weights * err
        weights /= weights.sum()
    e, p, q = best
    scale = np.array([c ** (2 * k) for k in range(max(m, n) + 1)])
    return e, p / scale[: m + 1], q / scale[: n + 1]


def fma32(a, b, c):
    """Float32 fused multiply-add: the float32 product is exact in float64; one rounding to float32
    after a float64 sum (a double rounding that can differ from a true FMA in rare ties only)."""
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def fast_tanh32(x, p, q, c, fused=True):
    x = x.astype(np.float32)
    u = np.minimum((x * x).astype(np.float32), np.float32(c * c))

    def horner(coefs):
        acc = np.full_like(u, coefs[-1])
        for k in range(len(coefs) - 2, -1, -1):
            ck = np.full_like(u, coefs[k])
            acc = fma32(acc, u, ck) if fused else ((acc * u).astype(np.float32) + ck).astype(np.float32)
        return acc

    y = ((x * horner(p)).astype(np.float32) / horner(q)).astype(np.float32)
    return np.clip(y, np.float32(-1), np.float32(1))


def main():
    e, p, q = fit(DEG_P, DEG_Q, C)
    p32, q32 = p.astype(np.float32), q.astype(np.float32)
    print(f"fit: max relative error of P/Q (float64, before rounding the coefficients) {e:.3g}")
    print("P:", ", ".join(f"{v:.9g}" for v in p32))
    print("Q:", ", ".join(f"{v:.9g}" for v in q32))
    rng = np.random.default_rng(12)
    xs = np.concatenate([np.linspace(-20, 20, 400001), rng.uniform(-10, 10, 2_000_000),
                         np.float32(10.0) ** np.linspace(-38, 0, 38001)]).astype(np.float32)
    ref = np.tanh(xs.astype(np.float64))
    for fused in (True, False):
        y = fast_tanh32(xs, p32, q32, C, fused).astype(np.float64)
        absolute = np.abs(y - ref)
        relative = absolute / np.where(ref == 0, 1.0, np.abs(ref))
        name = "fused multiply-add" if fused else "multiply + add"
        print(f"Float32 with {name}: max absolute error {absolute.max():.3g}, "
              f"max relative error {relative.max():.3g}")
    unclamped_max = max(fast_tanh32(xs, p32, q32, C).max(), 0)
    grid = (np.arange(0, 1_000_001) * 1e-5).astype(np.float32)
    steps = np.diff(fast_tanh32(grid, p32, q32, C).astype(np.float64))
    print(f"largest step down on [0, 10] (rounding, the fit is monotonic): {-steps.min():.3g}; max {unclamped_max}")
    sat = fast_tanh32(np.array([30.0, C], dtype=np.float32), p32, q32, C)
    print("saturates to exactly 1:", bool((sat == 1.0).all()))


if __name__ == "__main__":
    main()
