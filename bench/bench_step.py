"""Time one training step (forward, loss, backward, SGD update) and compare, in the same run, with:

  hand   a hand-written NumPy forward + backward of the same network: the floor for a NumPy engine
  torch  PyTorch on the CPU, when it is installed

Run:  python bench/bench_step.py            (all tasks, float64 and float32)
      python bench/bench_step.py --quick    (fewer repeats)

Ratios are time / hand-NumPy time (lower is better). Goals (issue #2): faster than PyTorch on
every task; within 2x of hand NumPy on M and 1.15x on S, D and L.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu import Tensor  # noqa: E402

TASKS = {  # name: (layer sizes, batch, loss)
    "M": ([2, 16, 16, 1], 100, "hinge"),
    "S": ([2, 64, 64, 2], 1000, "cross_entropy"),
    "D": ([64, 128, 10], 64, "cross_entropy"),
    "L": ([784, 512, 512, 10], 256, "cross_entropy"),
}
LR = 0.01


def make_problem(sizes, batch, loss, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    if loss == "hinge":
        y = rng.choice([-1.0, 1.0], size=batch).astype(dtype)
    else:
        y = rng.integers(0, sizes[-1], size=batch)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(dtype))
        weights.append(np.zeros(fan_out, dtype=dtype))
    return X, y, weights


# ----- hand-written NumPy: the floor --------------------------------------------------

def hand_step(X, y, weights, loss):
    """Forward, loss, backward and SGD, written out by hand with NumPy."""
    acts, h = [X], X
    n_layers = len(weights) // 2
    for i in range(n_layers):
        z = h @ weights[2 * i] + weights[2 * i + 1]
        h = np.maximum(z, 0) if i < n_layers - 1 else z
        acts.append(h)
    n = len(X)
    if loss == "hinge":
        margin = 1 - y * h[:, 0]
        value = np.maximum(margin, 0).mean()
        grad = (-(y * (margin > 0)) / n)[:, None].astype(X.dtype)
    else:
        shifted = h - h.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        p = e / e.sum(axis=1, keepdims=True)
        value = -np.log(p[np.arange(n), y]).mean()
        p[np.arange(n), y] -= 1
        grad = p / n
    for i in reversed(range(n_layers)):
        W, b = weights[2 * i], weights[2 * i + 1]
        dW, db = acts[i].T @ grad, grad.sum(axis=0)
        if i:
            grad = (grad @ W.T) * (acts[i] > 0)
        W -= LR * dW
        b -= LR * db
    return value


# ----- tinygrad_edu --------------------------------------------------------------------

def ours_setup(sizes, X, y, weights, loss):
    from tinygrad_edu import nn, optim
    model = nn.MLP(sizes, activation="relu", seed=0, dtype=X.dtype)
    for p, w in zip(model.parameters(), weights):
        p.data[...] = w
    opt = optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.hinge if loss == "hinge" else nn.cross_entropy
    Xt = Tensor(X, dtype=X.dtype)

    def step():
        opt.zero_grad()
        value = loss_fn(model(Xt), y)
        value.backward()
        opt.step()
        return value
    return step


# ----- PyTorch --------------------------------------------------------------------------

def torch_setup(X, y, weights, loss):
    import torch
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    opt = torch.optim.SGD(params, lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n_layers = len(params) // 2

    def step():
        opt.zero_grad(set_to_none=True)
        h = Xt
        for i in range(n_layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                h = torch.relu(h)
        if loss == "hinge":
            value = torch.relu(1 - yt * h[:, 0]).mean()
        else:
            value = torch.nn.functional.cross_entropy(h, yt)
        value.backward()
        opt.step()
        return value
    return step


def time_interleaved(steps: dict, target_seconds: float, rounds: int = 7) -> dict:
    """Seconds per step for each implementation: the best round of several.

    The implementations take turns round by round, so a burst of load from elsewhere on the
    machine hits all of them alike, and the best round is the least disturbed one.
    """
    counts = {}
    for name, step in steps.items():
        step()
        n, elapsed = 1, 0.0
        while elapsed < target_seconds / (rounds * len(steps)):  # calibrate one round
            n *= 2
            start = time.perf_counter()
            for _ in range(n):
                step()
            elapsed = time.perf_counter() - start
        counts[name] = n
    best = {name: float("inf") for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(counts[name]):
                step()
            best[name] = min(best[name], (time.perf_counter() - start) / counts[name])
    return best


def check_agreement(task, dtype):
    """The three implementations must compute the same step, or the timing means nothing."""
    sizes, batch, loss = TASKS[task]
    X, y, w_hand = make_problem(sizes, batch, loss, dtype)
    _, _, w_ours = make_problem(sizes, batch, loss, dtype)
    v_hand = hand_step(X, y, w_hand, loss)
    step = ours_setup(sizes, X, y, w_ours, loss)
    v_ours = step().item()
    tol = 1e-10 if dtype == np.float64 else 1e-4
    assert abs(v_hand - v_ours) <= tol * max(1.0, abs(v_hand)), (task, v_hand, v_ours)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    parser.add_argument("--tasks", default="M,S,D,L")
    args = parser.parse_args(argv)
    budget = 1.0 if args.quick else 6.0
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch = None
        torch_version = "not installed"
    print(f"numpy {np.__version__}, torch {torch_version}, python {platform.python_version()}, {platform.machine()}")
    print()
    print("| task | dtype | hand NumPy | tinygrad_edu | torch | ours / hand | torch / hand | ours / torch |")
    print("|---|---|---|---|---|---|---|---|")
    for task in args.tasks.split(","):
        sizes, batch, loss = TASKS[task]
        for dtype in (np.float64, np.float32):
            check_agreement(task, dtype)
            steps = {}
            X, y, w_hand = make_problem(sizes, batch, loss, dtype)
            steps["hand"] = lambda X=X, y=y, w=w_hand: hand_step(X, y, w, loss)
            steps["ours"] = ours_setup(sizes, *make_problem(sizes, batch, loss, dtype), loss)
            if torch is not None:
                steps["torch"] = torch_setup(*make_problem(sizes, batch, loss, dtype), loss)
            times = time_interleaved(steps, budget)
            t_hand, t_ours, t_torch = times["hand"], times["ours"], times.get("torch")
            cells = [f"{t_hand * 1e6:,.0f} µs", f"{t_ours * 1e6:,.0f} µs",
                     f"{t_torch * 1e6:,.0f} µs" if t_torch else "–", f"{t_ours / t_hand:.2f}",
                     f"{t_torch / t_hand:.2f}" if t_torch else "–", f"{t_ours / t_torch:.2f}" if t_torch else "–"]
            print(f"| {task} {'-'.join(map(str, sizes))} ×{batch} | {np.dtype(dtype).name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
