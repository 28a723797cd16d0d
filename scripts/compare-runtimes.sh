#!/usr/bin/env bash
# Compares edge-ctl's kernels with other runtimes on the same shapes, one thread each, in one run
# (issue 7, DESIGN.md section 9):
#   - policy forward, 4→64→64→1 tanh, batch 1: numpy, torch eager (no_grad), onnxruntime (a model built
#     with the `onnx` package: MatMul/Add/Tanh), against `edge-ctl bench`'s policy_forward;
#   - one PPO minibatch update, batch 64, the shapes of edge-ctl's pendulum PPO (PPO.swift): policy
#     3→64→64→1 tanh Gaussian with a state-independent log-std, value 3→64→64→1 tanh; advantage
#     standardization, clipped surrogate (ε 0.2) + approx-KL and clip fraction, backward, global
#     gradient-norm clip 1.0, Adam (lr 1e-3, ε 1e-5), log-std floor −1.2; then the value loss
#     ½ mean (V − R)², backward, clip, Adam — in torch, against edge-ctl's ppo_minibatch.
# Each figure is the median over repetitions of the mean time per call; edge-ctl's is its mean
# (1e9 / steps_per_second) over the bench's steps, with its p50 beside it. Ratio = other / edge-ctl.
#
# It creates .venv-compare (gitignored) and pip-installs numpy, onnx, onnxruntime and torch there.
# Torch: a CPU-only build (no CUDA libraries, about 200 MB) when pip's configured wheel directories
# (`find-links`) offer one; otherwise PyPI's default Linux wheel, which pulls several GB of nvidia-*
# packages (CUDA is never used here).
#
# Usage: scripts/compare-runtimes.sh [--steps N] [--repeats N]
# Environment: EDGE_CTL (an edge-ctl binary to use instead of building one), EDGE_SCRATCH (the scratch
# path of the release build, default .build), PYTHON (default python3), VENV (default .venv-compare).
set -euo pipefail
cd "$(dirname "$0")/.."

steps=200000
repeats=7
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) steps=${2:?--steps needs a value}; shift 2 ;;
        --repeats) repeats=${2:?--repeats needs a value}; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare-runtimes: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

venv=${VENV:-.venv-compare}
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" numpy onnx onnxruntime
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    if "${pip[@]}" --no-index --no-deps torch 2>/dev/null; then
        version=$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('torch'))")
        echo "compare-runtimes: torch $version from a local wheel directory; its pure-Python dependencies from PyPI" >&2
        "${pip[@]}" "torch==$version"
    else
        echo "compare-runtimes: torch from PyPI (the default wheel brings the CUDA libraries: several GB)" >&2
        "${pip[@]}" torch
    fi
fi

if [ -z "${EDGE_CTL:-}" ]; then
    scratch=${EDGE_SCRATCH:-.build}
    swift build -c release --scratch-path "$scratch" --product edge-ctl >&2
    EDGE_CTL="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/edge-ctl"
fi

export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
bench_json=$(mktemp)
trap 'rm -f "$bench_json"' EXIT
"$EDGE_CTL" bench --json --steps "$steps" --kernel policy_forward --kernel ppo_minibatch > "$bench_json"

"$venv/bin/python" - "$bench_json" "$repeats" <<'PY'
import json, math, os, platform, sys, time
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
import torch

bench = json.load(open(sys.argv[1]))
repeats = int(sys.argv[2])
torch.set_num_threads(1)
torch.set_num_interop_threads(1)
rng = np.random.default_rng(1)

def timed(fn, calls):
    """Median over `repeats` runs of the mean seconds per call (after one warm-up run)."""
    fn_calls = range(calls)
    for _ in fn_calls: fn()
    means = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in fn_calls: fn()
        means.append((time.perf_counter_ns() - start) / calls)
    means.sort()
    return means[len(means) // 2]

def uniform(fan_in, shape):
    bound = 1 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)

# ---- policy forward, 4→64→64→1 tanh, batch 1 ----
W1, b1 = uniform(4, (4, 64)), uniform(4, (64,))
W2, b2 = uniform(64, (64, 64)), uniform(64, (64,))
W3, b3 = uniform(64, (64, 1)), uniform(64, (1,))
x = rng.uniform(-1, 1, (1, 4)).astype(np.float32)

def numpy_forward():
    h = np.tanh(x @ W1 + b1)
    h = np.tanh(h @ W2 + b2)
    return h @ W3 + b3

net = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                          torch.nn.Linear(64, 1))
with torch.no_grad():
    for layer, (W, b) in zip([net[0], net[2], net[4]], [(W1, b1), (W2, b2), (W3, b3)]):
        layer.weight.copy_(torch.from_numpy(W.T.copy())); layer.bias.copy_(torch.from_numpy(b))
xt = torch.from_numpy(x)
def torch_forward():
    with torch.no_grad():
        return net(xt)

def init(name, array): return numpy_helper.from_array(array, name)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["z1"]),
     helper.make_node("Tanh", ["z1"], ["h1"]),
     helper.make_node("MatMul", ["h1", "W2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["z2"]),
     helper.make_node("Tanh", ["z2"], ["h2"]),
     helper.make_node("MatMul", ["h2", "W3"], ["m3"]), helper.make_node("Add", ["m3", "b3"], ["y"])],
    "policy", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
    [init("W1", W1), init("b1", b1), init("W2", W2), init("b2", b2), init("W3", W3), init("b3", b3)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
feed = {"x": x}
def onnx_forward():
    return session.run(None, feed)

reference = numpy_forward()
for name, fn in [("torch", torch_forward), ("onnxruntime", onnx_forward)]:
    out = np.asarray(fn()[0] if name == "onnxruntime" else fn().numpy())
    assert np.allclose(out, reference, atol=1e-5), f"{name} disagrees with numpy: {out} vs {reference}"

# ---- PPO minibatch, batch 64, pendulum shapes ----
def mlp(inputs):
    return torch.nn.Sequential(torch.nn.Linear(inputs, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                               torch.nn.Tanh(), torch.nn.Linear(64, 1))
policy_mean, value = mlp(3), mlp(3)
log_std = torch.nn.Parameter(torch.full((1,), -0.6931472))
policy_parameters = list(policy_mean.parameters()) + [log_std]
policy_optimizer = torch.optim.Adam(policy_parameters, lr=1e-3, eps=1e-5)
value_optimizer = torch.optim.Adam(value.parameters(), lr=1e-3, eps=1e-5)
n = 64
theta = torch.from_numpy(rng.uniform(-math.pi, math.pi, n).astype(np.float32))
obs = torch.stack([torch.cos(theta), torch.sin(theta), torch.from_numpy(rng.uniform(-1, 1, n).astype(np.float32))], 1)
with torch.no_grad():
    actions = policy_mean(obs) + 0.5 * torch.randn(n, 1)
    old_log_prob = (-0.5 * ((actions - policy_mean(obs)) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(1)
advantages_raw = torch.randn(n)
returns = torch.randn(n)
half_log_2pi = 0.5 * math.log(2 * math.pi)

def ppo_minibatch():
    advantages = (advantages_raw - advantages_raw.mean()) / (advantages_raw.std() + 1e-8)
    mu = policy_mean(obs)
    log_prob = (-0.5 * ((actions - mu) / log_std.exp()) ** 2 - log_std - half_log_2pi).sum(1)
    log_ratio = log_prob - old_log_prob
    ratio = log_ratio.exp()
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_fraction = ((ratio - 1).abs() > 0.2).float().mean()
    policy_loss = -torch.min(ratio * advantages, torch.clamp(ratio, 0.8, 1.2) * advantages).mean()
    policy_optimizer.zero_grad()
    policy_loss.backward()
    torch.nn.utils.clip_grad_norm_(policy_parameters, 1.0)
    policy_optimizer.step()
    with torch.no_grad():
        log_std.clamp_(min=-1.2)
    v = value(obs).squeeze(1)
    value_loss = 0.5 * ((v - returns) ** 2).mean()
    value_optimizer.zero_grad()
    value_loss.backward()
    torch.nn.utils.clip_grad_norm_(value.parameters(), 1.0)
    value_optimizer.step()

forward_calls = 20000
results = [
    ("policy_forward", "numpy", timed(numpy_forward, forward_calls)),
    ("policy_forward", "torch", timed(torch_forward, forward_calls // 4)),
    ("policy_forward", "onnxruntime", timed(onnx_forward, forward_calls // 4)),
    ("ppo_minibatch", "torch", timed(ppo_minibatch, 500)),
]

print(f"machine: {bench['machine']}; simd: {bench['simd_path']}")
print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
      f"({torch.get_num_threads()} thread), onnxruntime {ort.__version__} (1 intra-op, 1 inter-op thread)")
print("figures: median over %d repetitions of the mean ns per call; edge-ctl: mean over its bench steps (p50 in brackets)" % repeats)
print()
print(f"{'kernel':<16}{'runtime':<14}{'ns per call':>14}{'edge-ctl ns':>22}{'ratio (x slower than edge-ctl)':>34}")
for kernel, runtime, ns in results:
    mine = bench[kernel]
    mean = 1e9 / mine["steps_per_second"]
    print(f"{kernel:<16}{runtime:<14}{ns:>14,.0f}{mean:>12,.0f} (p50 {mine['p50_ns']:,.0f}){ns / mean:>26.1f}x")
PY
