"""Time one training step (forward, loss, backward, SGD update) and compare, in the same run, with:

  hand   a hand-written NumPy forward + backward of the same network: the floor for a NumPy engine
  torch  PyTorch on the CPU, when it is installed

Run:  python bench/bench_step.py                 (all tasks, float64 and float32)
      python bench/bench_step.py --quick         (fewer repeats)
      python bench/bench_step.py --contention    (also with one core kept busy, see below)
      python bench/bench_step.py --products      (single products on 1 and 2 BLAS threads)

Ratios are time / hand-NumPy time (lower is better). Goals (issue #2): faster than PyTorch on
every task; within 2x of hand NumPy on M and 1.15x on S, D and L.

--contention starts a busy process of its own (a pure-Python spin loop pinned to one core where
the system allows it) and times each step with it running and paused, round by round in the same
run, so each task's contended time is a ratio to its own quiet time; PyTorch runs on one thread
(torch.set_num_threads(1)) under the same load. Goals (issue #16): under one busy core every task
within 1.3x of its quiet time and faster than PyTorch on one thread. --products times the single
products the thread policy's threshold (tinygrad_edu/threads.py) was chosen from.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu import Tensor, threads  # noqa: E402

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


# ----- one busy core ---------------------------------------------------------------------

SPIN = """
import os
parent = os.getppid()
try:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})   # pin to one core (Linux)
except (AttributeError, OSError):
    pass
while os.getppid() == parent:   # ends by itself if the benchmark dies without stopping it
    for _ in range(1_000_000):
        pass
"""


class BusyCore:
    """A spin loop in a process of its own, kept on one core; ``busy(True/False)`` runs or pauses it.

    Pausing is SIGSTOP/SIGCONT where the system has them (so quiet and busy rounds can alternate
    cheaply), else the process is started and killed. Use it as a context manager: the process is
    always killed on the way out, also on Ctrl-C or an error.
    """

    def __init__(self):
        self.process = None
        self.pausable = hasattr(signal, "SIGSTOP")

    def busy(self, on: bool):
        if on:
            if self.process is None:
                self.process = subprocess.Popen([sys.executable, "-c", SPIN])
                time.sleep(0.2)   # let it start spinning
            elif self.pausable:
                os.kill(self.process.pid, signal.SIGCONT)
        elif self.process is not None:
            if self.pausable:
                os.kill(self.process.pid, signal.SIGSTOP)
            else:
                self.stop()

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self):
        if hasattr(signal, "SIGTERM"):   # a plain kill of the benchmark also stops the spin loop
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        return self

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def torch_threads(torch, n):
    """PyTorch on n threads inside the block (None: leave it alone)."""
    if torch is None or n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_interleaved(steps: dict, target_seconds: float, rounds: int = 7, core: BusyCore | None = None,
                     torch=None) -> dict:
    """Seconds per step for each implementation: the best round of several.

    The implementations take turns round by round, so a burst of load from elsewhere on the
    machine hits all of them alike, and the best round is the least disturbed one. A name ending
    in "busy" runs with ``core`` busy, one starting with "torch1" with PyTorch on one thread.
    """
    def conditions(name):
        if core is not None:
            core.busy(name.endswith("busy"))
        return torch_threads(torch, 1 if name.startswith("torch1") else None)

    counts = {}
    for name, step in steps.items():
        with conditions(name):
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
            with conditions(name):
                step()   # one step to settle after the switch
                start = time.perf_counter()
                for _ in range(counts[name]):
                    step()
                best[name] = min(best[name], (time.perf_counter() - start) / counts[name])
    if core is not None:
        core.busy(False)
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


def quiet_table(tasks, budget, torch):
    print("| task | dtype | hand NumPy | tinygrad_edu | torch | ours / hand | torch / hand | ours / torch |")
    print("|---|---|---|---|---|---|---|---|")
    for task in tasks:
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


def contention_table(tasks, budget, torch):
    """Each task quiet and with one busy core, in alternating rounds; PyTorch on one thread when busy."""
    print("| task | dtype | ours quiet | ours busy | busy / quiet | hand busy / quiet | torch 1 thread busy "
          "| ours / torch |")
    print("|---|---|---|---|---|---|---|---|")
    worst_slowdown, worst_vs_torch = 0.0, 0.0
    with BusyCore() as core:
        for task in tasks:
            sizes, batch, loss = TASKS[task]
            for dtype in (np.float64, np.float32):
                check_agreement(task, dtype)
                steps = {}
                for when in ("quiet", "busy"):
                    X, y, w_hand = make_problem(sizes, batch, loss, dtype)
                    steps[f"hand {when}"] = lambda X=X, y=y, w=w_hand: hand_step(X, y, w, loss)
                    steps[f"ours {when}"] = ours_setup(sizes, *make_problem(sizes, batch, loss, dtype), loss)
                if torch is not None:
                    steps["torch1 busy"] = torch_setup(*make_problem(sizes, batch, loss, dtype), loss)
                t = time_interleaved(steps, 2 * budget, core=core, torch=torch)
                slowdown = t["ours busy"] / t["ours quiet"]
                t_torch = t.get("torch1 busy")
                worst_slowdown = max(worst_slowdown, slowdown)
                if t_torch:
                    worst_vs_torch = max(worst_vs_torch, t["ours busy"] / t_torch)
                cells = [f"{t['ours quiet'] * 1e6:,.0f} µs", f"{t['ours busy'] * 1e6:,.0f} µs", f"{slowdown:.2f}",
                         f"{t['hand busy'] / t['hand quiet']:.2f}", f"{t_torch * 1e6:,.0f} µs" if t_torch else "–",
                         f"{t['ours busy'] / t_torch:.2f}" if t_torch else "–"]
                print(f"| {task} {'-'.join(map(str, sizes))} ×{batch} | {np.dtype(dtype).name} | "
                      f"{' | '.join(cells)} |", flush=True)
    print()
    print(f"Under one busy core: slowest task {worst_slowdown:.2f}x its quiet time (goal ≤ 1.3)"
          + (f"; at most {worst_vs_torch:.2f}x PyTorch's one-thread time (goal < 1)" if torch else ""))


PRODUCTS = [(100, 16, 16), (64, 64, 128), (64, 128, 10), (1000, 2, 64), (1000, 64, 64), (64, 1000, 64),
            (128, 128, 128), (192, 192, 192), (256, 256, 256), (256, 512, 10), (320, 320, 320), (384, 384, 384),
            (256, 512, 512), (256, 784, 512), (784, 256, 512)]


def products_table(budget):
    """Single (m, k) @ (k, n) float64 products on one and on the machine's BLAS threads, quiet and busy."""
    many = threads.machine_threads()
    rng = np.random.default_rng(0)
    print(f"| m·k·n | shape | 1 thread quiet | {many} threads quiet | ratio | 1 thread busy | {many} threads busy "
          "| ratio |")
    print("|---|---|---|---|---|---|---|---|")
    with BusyCore() as core:
        for m, k, n in PRODUCTS:
            a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
            steps = {}
            for count in (1, many):
                def product(count=count):
                    threads.set_num_threads(count)
                    return threads.matmul(a, b)
                steps[f"{count} quiet"] = steps[f"{count} busy"] = product
            t = time_interleaved(steps, budget / 4, core=core)
            threads.set_num_threads(None)
            print(f"| {m * k * n:,} | {m}×{k}×{n} | {t['1 quiet'] * 1e6:,.1f} µs | {t[f'{many} quiet'] * 1e6:,.1f} µs "
                  f"| {t[f'{many} quiet'] / t['1 quiet']:.2f} | {t['1 busy'] * 1e6:,.1f} µs "
                  f"| {t[f'{many} busy'] * 1e6:,.1f} µs | {t[f'{many} busy'] / t['1 busy']:.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing rounds")
    parser.add_argument("--tasks", default="M,S,D,L")
    parser.add_argument("--contention", action="store_true", help="also time every task with one core kept busy")
    parser.add_argument("--products", action="store_true", help="only time single products on 1 and all threads")
    args = parser.parse_args(argv)
    budget = 1.0 if args.quick else 6.0
    try:
        import torch
        torch_version = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        torch = None
        torch_version = "not installed"
    override = threads.env_override()
    print(f"numpy {np.__version__}, torch {torch_version}, python {platform.python_version()}, {platform.machine()}, "
          f"BLAS threads: {override or f'policy (1 below {threads.ONE_THREAD_BELOW:,} multiply-adds, else {threads.machine_threads()})'}")
    print()
    if args.products:
        products_table(budget)
        return
    tasks = args.tasks.split(",")
    quiet_table(tasks, budget, torch)
    if args.contention:
        print()
        contention_table(tasks, budget, torch)


if __name__ == "__main__":
    main()
