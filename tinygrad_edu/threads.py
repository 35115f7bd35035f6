"""How many BLAS threads a matrix product gets: one for small products, the machine's for large.

NumPy hands every ``a @ b`` to its BLAS (OpenBLAS in the NumPy wheels), which splits a product
over all the cores it found at start-up. For the small products of a teaching network that is a
loss even on an idle machine (the second thread's start and hand-over cost more than its share of
the arithmetic), and on a busy one it is a disaster: the first thread finishes its half and then
waits for the second, which waits for a core another program holds. So ``matmul(a, b)`` below runs
a product of fewer than ``ONE_THREAD_BELOW`` multiply-adds (m·k·n for an (m, k) @ (k, n) product)
on one BLAS thread, and a larger one on the count the BLAS started with.

How the threshold was chosen: ``python bench/bench_step.py --products`` times single products of
many shapes on one and on all BLAS threads, on the quiet machine and with one core kept busy by a
spin loop, the two counts taking turns round by round. On the project's 2-core machine a second
thread gave no steady gain below 2**24 multiply-adds (a 256×256×256 product) when quiet, and under
contention it made products of that range many times slower, while well above it (384×384×384,
task L's 256×784×512) two threads were clearly faster when quiet, the case the default serves.
So every product of a training step of tasks M, S and D of the benchmark runs on one thread, and
task L's five large products keep the threads they had before (its three products with the
10-wide last layer are small).

Who decides, first match wins:
  1. an environment variable ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``
     (set before Python started): the policy does nothing at all, the BLAS keeps what it read;
  2. ``set_num_threads(n)``: every product runs on n threads (``set_num_threads(None)`` undoes it);
  3. the size rule above.

Cost: changing the thread count is a call into the library, so it is made only when the decision
differs from the last one (never in a training step of tasks M, S and D, twice in one of task L);
deciding costs a function call and a multiplication. The BLAS is found once, at the first
product, with threadpoolctl's ``ThreadpoolController`` (entering ``threadpool_limits`` for each
product would walk the loaded libraries every time). Only the BLAS that NumPy itself loaded is
touched, not one that another library (PyTorch, say) brought along.

This module belongs to the engine: it imports nothing from the package, and threadpoolctl only
when the first product needs it.
"""
from __future__ import annotations

import math
import os

import numpy as np

ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ONE_THREAD_BELOW = 2 ** 24   # multiply-adds m·k·n; see the module docstring for how it was measured

_user_threads: int | None = None   # set_num_threads(n)
_blas: list | None = None          # threadpoolctl controllers of NumPy's BLAS; [] = nothing to control
_machine_threads = 1               # the count the BLAS started with
_current: int | None = None        # the count we last set (None: not set yet)


def env_override() -> str | None:
    """The first of ENV_VARS that is set (non-empty), as "NAME=value", or None."""
    for name in ENV_VARS:
        if os.environ.get(name, "").strip():
            return f"{name}={os.environ[name]}"
    return None


def set_num_threads(n: int | None) -> None:
    """Run every matrix product on n BLAS threads (n ≥ 1), or, with None, let the size rule decide.

    An environment variable (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS) still wins:
    with one set, the BLAS keeps the count it read and this setting is not applied.
    """
    global _user_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_num_threads: n must be a whole number ≥ 1, or None for the size rule; got {n!r}")
    if n is not None and env_override() is None:
        try:
            import threadpoolctl  # noqa: F401
        except ImportError:
            raise ImportError("set_num_threads needs threadpoolctl: pip install threadpoolctl") from None
    _user_threads = None if n is None else int(n)


def get_num_threads() -> int | None:
    """The count set with set_num_threads, or None when the size rule decides."""
    return _user_threads


def machine_threads() -> int:
    """The thread count NumPy's BLAS started with: what large products get (1 when there is no BLAS to control)."""
    if _blas is None:
        _find_blas()
    return _machine_threads


def product_size(a_shape: tuple, b_shape: tuple) -> int:
    """Multiply-adds of a @ b as numpy.matmul computes it: batch · m · k · n (1-D operands count as 1 row/column)."""
    k = a_shape[-1] if a_shape else 1
    m = a_shape[-2] if len(a_shape) > 1 else 1
    n = b_shape[-1] if len(b_shape) > 1 else 1
    try:
        batch = math.prod(np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2])))
    except ValueError:  # the product itself will say what is wrong
        batch = 0
    return batch * m * k * n


def threads_for(a_shape: tuple, b_shape: tuple) -> int | None:
    """How many BLAS threads a @ b gets; None means "leave the BLAS alone" (an environment variable is set)."""
    if _blas is None:
        _find_blas()
    if not _blas:
        return None
    if _user_threads is not None:
        return _user_threads
    return 1 if product_size(a_shape, b_shape) < ONE_THREAD_BELOW else _machine_threads


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b on the number of BLAS threads ``threads_for`` picks (the engine's every product goes here)."""
    global _current
    if _blas is None:
        _find_blas()
    if _blas:
        if _user_threads is not None:
            wanted = _user_threads
        else:   # a.size · n is batch · m · k · n whenever b is a matrix: the common case, without a call
            size = a.size * b.shape[1] if b.ndim == 2 else product_size(a.shape, b.shape)
            wanted = 1 if size < ONE_THREAD_BELOW else _machine_threads
        if wanted != _current:
            for lib in _blas:
                lib.set_num_threads(wanted)
            _current = wanted
    return a @ b


def _find_blas() -> None:
    """Find NumPy's BLAS once; with an environment variable set (or no threadpoolctl) find nothing."""
    global _blas, _machine_threads
    if env_override() is not None:
        _blas = []
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # a declared dependency; without it products run as NumPy runs them
        _blas = []
        return
    blas = ThreadpoolController().select(user_api="blas").lib_controllers
    numpy_dirs = tuple(os.path.dirname(os.path.dirname(np.__file__)) + os.sep + d for d in ("numpy", "numpy.libs"))
    own = [lib for lib in blas if lib.filepath.startswith(numpy_dirs)]
    _blas = own or blas   # a NumPy built against a system BLAS keeps it outside its own folders
    _machine_threads = max([lib.num_threads for lib in _blas] + [1])
