#!/usr/bin/env python3
"""Float64 reference for EdgeCore's MLP, Adam and RandomSource (numpy only).

Writes Tests/EdgeCoreTests/CoreReferenceFixture.swift, which EdgeCoreTests compares the Float kernels
against, so `swift test` needs no Python. Regenerate after changing this script:

    python3 scripts/reference/core_reference.py

Weights and inputs come from a closed formula made of integer arithmetic and one correctly rounded
division (`unit` below), so Swift rebuilds bit-identical Float32 values on every platform without
reading files and without depending on a libm's sin/cos. The fixture also stores a checksum of each
tensor's Float bits so the Swift side can prove its rebuild matches.

Networks: 4 -> 64 -> 64 -> 1 with tanh, SiLU and ReLU hidden activations, linear output, three samples.
Loss L = sum over samples of 0.5 * y^2, so dL/dy = y and parameter gradients add up over the samples
(EdgeCore's backward adds into the gradients). Then one Adam step (lr 1e-3, betas 0.9/0.999,
eps 1e-8, no weight decay) from those gradients.
"""
import os

import numpy as np

IN, HIDDEN, OUT, SAMPLES = 4, 64, 1, 3
MODULUS = 1009  # prime; squares mod it are spread over [0, 1009) and symmetric around 1009 / 2
ADAM = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)

# Parameters whose gradients and post-Adam values the fixture records: (layer, input, output) for
# weights and (layer, output) for biases, covering the first, last and some middle entries of every layer.
WEIGHTS = [(1, 0, 0), (1, 1, 7), (1, 2, 33), (1, 3, 63),
           (2, 0, 0), (2, 5, 17), (2, 31, 32), (2, 47, 8), (2, 63, 63),
           (3, 0, 0), (3, 17, 0), (3, 63, 0)]
BIASES = [(1, 0), (1, 21), (1, 63), (2, 0), (2, 40), (2, 63), (3, 0)]


def unit(n):
    """Deterministic value in [-1, 1): the square of n modulo 1009, scaled. Mirrored in Swift as
    `2 * Double((n * n) % 1009) / 1009 - 1` (same operations in the same order, all exact or
    correctly rounded in IEEE double)."""
    return 2.0 * float((n * n) % MODULUS) / float(MODULUS) - 1.0


def layer_shapes():
    return [(IN, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, OUT)]


def build_parameters():
    """Weights w_k[i][o] = unit(97 i + 61 o + 13 k + 7) / sqrt(In_k) (1/sqrt(In) is 0.5 or 0.125,
    so the product is exact) and biases b_k[o] = 0.1 * unit(37 o + 11 k + 5), rounded to float32."""
    params = []
    for k, (n_in, n_out) in enumerate(layer_shapes(), start=1):
        scale = 1.0 / np.sqrt(float(n_in))
        w = np.array([[unit(97 * i + 61 * o + 13 * k + 7) * scale for o in range(n_out)]
                      for i in range(n_in)], dtype=np.float64).astype(np.float32)
        b = np.array([0.1 * unit(37 * o + 11 * k + 5) for o in range(n_out)],
                     dtype=np.float64).astype(np.float32)
        params.append((w.astype(np.float64), b.astype(np.float64)))
    return params


def build_inputs():
    """x[s][d] = unit(53 s + 29 d + 3), rounded to float32."""
    x = np.array([[unit(53 * s + 29 * d + 3) for d in range(IN)] for s in range(SAMPLES)],
                 dtype=np.float64).astype(np.float32)
    return x.astype(np.float64)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "silu": (lambda z: z * sigmoid(z), lambda z: sigmoid(z) * (1.0 + z * (1.0 - sigmoid(z)))),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.float64)),
}


def forward_backward(params, x, activation):
    """Returns outputs y[s], parameter gradients of L = sum_s 0.5 y_s^2, input gradients dL/dx[s][d],
    and the smallest |pre-activation| (a ReLU kink closer than Float rounding would make the
    reference and the kernel disagree)."""
    f, df = ACTIVATIONS[activation]
    (w1, b1), (w2, b2), (w3, b3) = params
    z1 = x @ w1 + b1
    h1 = f(z1)
    z2 = h1 @ w2 + b2
    h2 = f(z2)
    y = h2 @ w3 + b3                     # [samples][1]
    dy = y                               # dL/dy for L = sum 0.5 y^2
    gw3 = h2.T @ dy
    gb3 = dy.sum(axis=0)
    dz2 = (dy @ w3.T) * df(z2)
    gw2 = h1.T @ dz2
    gb2 = dz2.sum(axis=0)
    dz1 = (dz2 @ w2.T) * df(z1)
    gw1 = x.T @ dz1
    gb1 = dz1.sum(axis=0)
    dx = dz1 @ w1.T
    margin = float(min(np.abs(z1).min(), np.abs(z2).min()))
    return y[:, 0], [(gw1, gb1), (gw2, gb2), (gw3, gb3)], dx, margin


def adam_step(p, g):
    """One Adam step from zero moments: m = (1 - b1) g, v = (1 - b2) g^2, bias-corrected."""
    m = (1 - ADAM["beta1"]) * g
    v = (1 - ADAM["beta2"]) * g * g
    m_hat = m / (1 - ADAM["beta1"])
    v_hat = v / (1 - ADAM["beta2"])
    return p - ADAM["lr"] * m_hat / (np.sqrt(v_hat) + ADAM["eps"])


MASK64 = (1 << 64) - 1


def xoshiro_outputs(seed, count):
    """xoshiro256** seeded by four splitmix64 outputs, as RandomSource documents."""
    x = seed

    def splitmix():
        nonlocal x
        x = (x + 0x9E3779B97F4A7C15) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def rotl(v, k):
        return ((v << k) | (v >> (64 - k))) & MASK64

    s = [splitmix() for _ in range(4)]
    out = []
    for _ in range(count):
        out.append((rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64)
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def bit_sum(values):
    """Sum of the float32 bit patterns as integers: an exact checksum both languages compute alike."""
    return int(values.astype(np.float32).view(np.uint32).astype(np.uint64).sum())


def swift_double(v):
    return repr(float(v))


def swift_array(values):
    return "[" + ", ".join(swift_double(v) for v in values) + "]"


def case_source(name, activation, params, x):
    y, grads, dx, margin = forward_backward(params, x, activation)
    lines = [f"    /// {activation} network; smallest |pre-activation| over all samples: {margin:.3g}.",
             f"    static let {name} = ReferenceCase(",
             f"        outputs: {swift_array(y)},",
             f"        inputGrads: [{', '.join(swift_array(row) for row in dx)}],"]
    weight_rows, bias_rows = [], []
    for (k, i, o) in WEIGHTS:
        w, _ = params[k - 1]
        g = grads[k - 1][0][i, o]
        after = adam_step(w[i, o], g)
        weight_rows.append(f"            .init(layer: {k}, input: {i}, output: {o}, "
                           f"grad: {swift_double(g)}, afterAdam: {swift_double(after)}),")
    for (k, o) in BIASES:
        _, b = params[k - 1]
        g = grads[k - 1][1][o]
        after = adam_step(b[o], g)
        bias_rows.append(f"            .init(layer: {k}, input: nil, output: {o}, "
                         f"grad: {swift_double(g)}, afterAdam: {swift_double(after)}),")
    lines.append("        weights: [")
    lines += weight_rows
    lines.append("        ],")
    lines.append("        biases: [")
    lines += bias_rows
    lines.append("        ])")
    return lines, margin


def main():
    params = build_parameters()
    x = build_inputs()
    sums = []
    for w, b in params:
        sums += [bit_sum(w), bit_sum(b)]

    out = [
        "// GENERATED by scripts/reference/core_reference.py (numpy, float64). Do not edit by hand.",
        "// Regenerate from the package root: python3 scripts/reference/core_reference.py",
        "//",
        "// 4 -> 64 -> 64 -> 1 networks with weights w_k[i][o] = unit(97 i + 61 o + 13 k + 7) / sqrt(In_k),",
        "// biases b_k[o] = 0.1 unit(37 o + 11 k + 5), inputs x[s][d] = unit(53 s + 29 d + 3), each rounded to",
        "// Float, where unit(n) = 2 * Double((n * n) % 1009) / 1009 - 1. Loss: sum over the samples of",
        "// 0.5 y^2. Adam: one step, lr 1e-3, betas 0.9 / 0.999, eps 1e-8, no weight decay.",
        "",
        "/// Float64 results of scripts/reference/core_reference.py.",
        "enum CoreReferenceFixture {",
        "    /// One recorded parameter: weight (input, output) of a layer, or a bias when `input` is nil.",
        "    struct Parameter: Sendable {",
        "        let layer: Int",
        "        let input: Int?",
        "        let output: Int",
        "        /// dL/dθ summed over the samples.",
        "        let grad: Double",
        "        /// θ after one Adam step from that gradient.",
        "        let afterAdam: Double",
        "    }",
        "",
        "    /// One network's outputs and gradients.",
        "    struct ReferenceCase: Sendable {",
        "        /// y for each sample.",
        "        let outputs: [Double]",
        "        /// dL/dx[sample][input] (the gradient of that sample's own 0.5 y^2).",
        "        let inputGrads: [[Double]]",
        "        let weights: [Parameter]",
        "        let biases: [Parameter]",
        "    }",
        "",
        f"    static let inputCount = {IN}",
        f"    static let hiddenCount = {HIDDEN}",
        f"    static let sampleCount = {SAMPLES}",
        "    /// Sums of the Float bit patterns of w1, b1, w2, b2, w3, b3: the Swift rebuild must match exactly.",
        f"    static let parameterBitSums: [UInt64] = [{', '.join(str(v) for v in sums)}]",
        "    /// Sum of the Float bit patterns of the inputs.",
        f"    static let inputBitSum: UInt64 = {bit_sum(x)}",
        "",
    ]
    margins = {}
    for name, activation in [("tanhCase", "tanh"), ("siluCase", "silu"), ("reluCase", "relu")]:
        lines, margins[activation] = case_source(name, activation, params, x)
        out += lines + [""]
    # Float rounding in the kernel moves pre-activations by about 1e-6 at most here; the ReLU case is
    # only meaningful when no pre-activation is that close to the kink.
    assert margins["relu"] > 1e-3, f"ReLU pre-activation {margins['relu']} too close to the kink"

    out.append("    /// RandomSource(seed:).next() for seeds 0, 42 and UInt64.max: the first four outputs each.")
    out.append("    static let xoshiroOutputs: [(seed: UInt64, outputs: [UInt64])] = [")
    for seed in [0, 42, MASK64]:
        values = ", ".join(f"0x{v:016X}" for v in xoshiro_outputs(seed, 4))
        out.append(f"        (seed: 0x{seed:X}, outputs: [{values}]),")
    out.append("    ]")
    out.append("}")

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "Tests", "EdgeCoreTests", "CoreReferenceFixture.swift")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {path}; smallest |pre-activation|: "
          + ", ".join(f"{k} {v:.3g}" for k, v in margins.items()))


if __name__ == "__main__":
    main()
