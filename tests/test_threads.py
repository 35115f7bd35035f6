"""The BLAS thread policy (tinygrad_edu/threads.py): its decisions, that products really run on the
count it decides, that the user and the environment win, and that it changes no number."""
import hashlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Tensor, nn, threads

threadpoolctl = pytest.importorskip("threadpoolctl")
ROOT = Path(__file__).resolve().parents[1]
SMALL = ((100, 16), (16, 16))             # task M's hidden layer: 25,600 multiply-adds
LARGE = ((256, 784), (784, 512))          # task L's first layer: 102,760,448


@pytest.fixture(autouse=True)
def policy_restored():
    threads.set_num_threads(None)
    yield
    threads.set_num_threads(None)


def blas_threads() -> int:
    """The count NumPy's BLAS would use now, read from the library itself."""
    threads.threads_for((1, 1), (1, 1))        # finds the BLAS, if not found yet
    counts = {lib.get_num_threads() for lib in threads._blas}
    assert len(counts) == 1, counts
    return counts.pop()


def run_python(code: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in threads.ENV_VARS}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_this_process_has_no_environment_override():
    assert threads.env_override() is None, "run the suite without OPENBLAS/OMP/MKL_NUM_THREADS set"
    assert threads.threads_for(*SMALL) == 1 and threads._blas, "NumPy's BLAS was not found"


def test_small_products_get_one_thread_large_ones_the_machines():
    assert math.prod(SMALL[0]) * SMALL[1][1] < threads.ONE_THREAD_BELOW <= math.prod(LARGE[0]) * LARGE[1][1]
    assert threads.threads_for(*SMALL) == 1
    assert threads.threads_for(*LARGE) == threads.machine_threads()
    n = threads.ONE_THREAD_BELOW
    assert threads.threads_for((1, 1), (1, n - 1)) == 1 and threads.threads_for((1, 1), (1, n)) == threads.machine_threads()
    assert threads.ONE_THREAD_BELOW == 256 ** 3       # the module docstring's "2**24 (a 256×256×256 product)"
    assert threads.threads_for((256, 256), (256, 256)) == threads.machine_threads()
    assert threads.threads_for((255, 256), (256, 256)) == 1


def test_the_machines_count_is_what_the_blas_started_with():
    code = ("import threadpoolctl, numpy as np\n"
            "start = [i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']\n"
            "from tinygrad_edu import threads\n"
            "threads.threads_for((1, 1), (1, 1))\n"
            "print(start[0], threads.machine_threads())")
    start, machine = run_python(code).split()
    assert start == machine and int(machine) >= 1


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
                                              ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 6)),
                                              ((0, 4), (4, 5)), ((3, 0), (0, 5))])
def test_product_size_counts_every_multiply_add(a_shape, b_shape):
    out = np.matmul(np.zeros(a_shape), np.zeros(b_shape))
    assert threads.product_size(a_shape, b_shape) == out.size * a_shape[-1]


def bench_tasks():
    spec = importlib.util.spec_from_file_location("bench_step", ROOT / "bench" / "bench_step.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TASKS


def test_the_docstrings_account_of_the_benchmarks_products(monkeypatch):
    """M, S, D: every product on one thread, no change of count; L: five large, three small, two changes a step."""
    decisions, changes = [], []
    big = threads.machine_threads()
    policy_matmul = threads.matmul
    monkeypatch.setattr(threads, "matmul", lambda a, b: decisions.append(threads.threads_for(a.shape, b.shape))
                        or policy_matmul(a, b))
    for lib in threads._blas:
        monkeypatch.setattr(lib, "set_num_threads", lambda n, real=lib.set_num_threads: changes.append(n) or real(n))
    for task, (sizes, batch, _) in bench_tasks().items():
        rng = np.random.default_rng(0)
        model = nn.MLP(sizes, seed=0)
        X, y = Tensor(rng.standard_normal((batch, sizes[0]))), rng.integers(0, sizes[-1], size=batch)
        nn.cross_entropy(model(X), y).backward()        # the first step may change the count once
        decisions.clear(), changes.clear()
        nn.cross_entropy(model(X), y).backward()
        if task == "L":
            assert sorted(decisions) == [1] * 3 + [big] * 5 and len(changes) == (2 if big > 1 else 0), decisions
        else:
            assert decisions == [1] * (3 * len(sizes) - 4) and changes == [], (task, decisions)
    assert "task L's five large products" in " ".join(threads.__doc__.split())


def test_set_num_threads_wins_and_none_restores_the_rule():
    tinygrad_edu.set_num_threads(3)
    assert threads.get_num_threads() == 3
    assert threads.threads_for(*SMALL) == 3 and threads.threads_for(*LARGE) == 3
    tinygrad_edu.set_num_threads(np.int64(1))
    assert threads.threads_for(*LARGE) == 1
    tinygrad_edu.set_num_threads(None)
    assert threads.get_num_threads() is None
    assert threads.threads_for(*SMALL) == 1 and threads.threads_for(*LARGE) == threads.machine_threads()


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_set_num_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match=r"set_num_threads: n must be a whole number ≥ 1, or None .*got"):
        tinygrad_edu.set_num_threads(bad)
    assert threads.get_num_threads() is None


def test_products_really_run_on_the_count_decided():
    seen = []

    class Spy(np.ndarray):
        def __matmul__(self, other):          # runs inside threads.matmul, at the product
            seen.append(blas_threads())
            return np.asarray(self) @ other

    for shapes, expected in [(SMALL, 1), (LARGE, threads.machine_threads()), (SMALL, 1)]:
        a, b = np.ones(shapes[0]).view(Spy), np.ones(shapes[1])
        threads.matmul(a, b)
        assert seen[-1] == expected, (shapes, seen)
    tinygrad_edu.set_num_threads(3)
    threads.matmul(np.ones(SMALL[0]).view(Spy), np.ones(SMALL[1]))
    assert seen[-1] == 3


@pytest.mark.parametrize("make", ["matmul", "linear"])
def test_the_engines_products_go_through_the_policy(make, monkeypatch):
    """Every product of matmul's and linear's forward and backward is made by threads.matmul, on its count."""
    rng = np.random.default_rng(0)
    counts = []
    policy_matmul = threads.matmul

    def spy(a, b):
        out = policy_matmul(a, b)
        counts.append(blas_threads())
        return out
    monkeypatch.setattr(threads, "matmul", spy)

    def step(x_shape, w_shape):
        counts.clear()
        x = Tensor(rng.standard_normal(x_shape), requires_grad=True)
        W = Tensor(rng.standard_normal(w_shape), requires_grad=True)
        y = x @ W if make == "matmul" else nn.linear(x, W, Tensor(np.zeros(w_shape[1]), requires_grad=True))
        y.sum().backward()
        assert np.array_equal(y.data, x.data @ W.data + 0.0) and np.array_equal(W.grad, x.data.T @ np.ones(y.shape))
        return counts[:]                      # forward y = x·W, backward g·Wᵀ and xᵀ·g

    big = threads.machine_threads()
    assert step(*SMALL) == [1, 1, 1]
    assert step(*LARGE) == [big, big, big]   # g·Wᵀ and xᵀ·g are 102,760,448 multiply-adds too
    assert step(*SMALL) == [1, 1, 1]
    tinygrad_edu.set_num_threads(2)
    assert step(*SMALL) == [2, 2, 2]


def test_batched_products_go_through_the_policy():
    x = Tensor(np.ones((3, 4, 5)), requires_grad=True)
    tinygrad_edu.set_num_threads(3)
    y = x @ Tensor(np.ones((5, 2)), requires_grad=True)
    tinygrad_edu.set_num_threads(2)
    y.sum().backward()                       # the backward's products decide again
    assert blas_threads() == 2
    tinygrad_edu.set_num_threads(None)
    (x @ Tensor(np.ones((5, 2)))).sum().backward()
    assert blas_threads() == 1


ENV_SCRIPT = (
    "import json, threadpoolctl, numpy as np\n"
    "from tinygrad_edu import Tensor, set_num_threads, threads\n"
    "def count():\n"
    "    return [i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'][0]\n"
    "seen = [count()]\n"
    f"for shapes in [{SMALL}, {LARGE}, {SMALL}]:\n"
    "    Tensor(np.ones(shapes[0])) @ Tensor(np.ones(shapes[1]))\n"
    "    seen.append(count())\n"
    "set_num_threads(3)\n"
    f"Tensor(np.ones({SMALL[0]})) @ Tensor(np.ones({SMALL[1]}))\n"
    "seen.append(count())\n"
    "print(json.dumps([threads.env_override(), threads.threads_for((1, 1), (1, 1)), seen]))")


@pytest.mark.parametrize("variable", threads.ENV_VARS)
def test_an_environment_variable_wins(variable):
    """With a variable set the policy never changes the count the BLAS started with, not even for set_num_threads.

    Set to 1, OPENBLAS_NUM_THREADS and OMP_NUM_THREADS start OpenBLAS on one thread (the policy would raise
    it for the large product); MKL_NUM_THREADS leaves OpenBLAS on the machine's count (the policy would
    lower it for the small products)."""
    override, decision, seen = json.loads(run_python(ENV_SCRIPT, **{variable: "1"}))
    assert override == f"{variable}=1" and decision is None
    assert seen == [1 if variable != "MKL_NUM_THREADS" else threads.machine_threads()] * 5, seen


def test_without_a_variable_the_same_script_changes_the_count():
    override, decision, seen = json.loads(run_python(ENV_SCRIPT))
    assert override is None and decision == 3 and seen[1:] == [1, threads.machine_threads(), 1, 3]


TRAIN = """
import hashlib, numpy as np
from tinygrad_edu import Tensor, nn, optim, set_num_threads
def train(sizes, batch, threads=None):
    set_num_threads(threads)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], size=batch)
    model = nn.MLP(sizes, seed=0)
    opt = optim.Momentum(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        nn.cross_entropy(model(Tensor(X)), y).backward()
        opt.step()
    return hashlib.sha256(b"".join(p.data.tobytes() for p in model.parameters())).hexdigest()
"""


def test_the_policy_changes_no_number():
    """Same thread count, same bits: the policy (one thread for a small net) against OPENBLAS_NUM_THREADS=1, and
    set_num_threads(2) on a large layer against OPENBLAS_NUM_THREADS=2, each policy-free in its own process."""
    namespace = {}
    exec(TRAIN, namespace)
    small, large = ([2, 64, 64, 2], 1000), ([784, 512, 10], 256)
    ours = [namespace["train"](*small), namespace["train"](*large, threads=2)]
    reference = [run_python(TRAIN + f"print(train(*{small}))", OPENBLAS_NUM_THREADS="1"),
                 run_python(TRAIN + f"print(train(*{large}))", OPENBLAS_NUM_THREADS="2")]
    assert ours == reference
    assert hashlib.sha256(b"").hexdigest() not in ours


def test_the_engine_layer_imports_nothing_above_it():
    import ast
    tree = ast.parse((ROOT / "tinygrad_edu" / "threads.py").read_text(encoding="utf-8"))
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names} | {node.module.split(".")[0] for node in tree.body
                                             if isinstance(node, ast.ImportFrom) and node.module}
    assert not relative and "threadpoolctl" not in top_level    # threadpoolctl only when first needed
