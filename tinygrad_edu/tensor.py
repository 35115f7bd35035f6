"""The Tensor: a NumPy array that remembers how it was made, and `backward()`.

Every operation (see ``ops.py``) returns a new Tensor that records
  - ``op``: the operation's name ("mul", "matmul", ...),
  - ``inputs``: the tensors it was computed from, in argument order,
  - ``_backward``: a closure that maps ∂L/∂out to (∂L/∂input for each input).

The closure captures the *inputs* (and any arrays it needs), never the output, so a
tensor and its closure form no reference cycle: when the last reference to the loss
goes away, the whole graph is freed at once, without waiting for the cycle collector.

``backward()`` walks the recorded graph once, from the output back to the leaves, in
reverse topological order (the chain rule applied node by node). The walk uses an
explicit stack, not recursion, so a chain of 100,000 operations is fine.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

# Global switches. Plain module attributes: reading one costs almost nothing per op.
_grad_enabled = True      # False inside `no_grad()`: record no graph
_detect_anomaly = False   # True inside `detect_anomaly()`: check every op's output
_scope: Optional[str] = None  # innermost `name_scope(...)` label, for drawing


class ShapeError(ValueError):
    """Operands whose shapes do not fit the operation."""


@contextlib.contextmanager
def _switch(name: str, value) -> Iterator[None]:
    """Set the module global `name` to `value` inside a with-block, and restore it after."""
    previous, globals()[name] = globals()[name], value
    try:
        yield
    finally:
        globals()[name] = previous


def no_grad():
    """Record no graph inside the block (evaluation, parameter updates)."""
    return _switch("_grad_enabled", False)


def is_grad_enabled() -> bool:
    return _grad_enabled


def detect_anomaly():
    """Raise FloatingPointError naming the op as soon as an op produces NaN or inf.

    Off by default because checking every output costs a pass over its data.
    """
    return _switch("_detect_anomaly", True)


def name_scope(label: str):
    """Tag every op made inside the block with ``label`` (e.g. a layer), so drawings can group them."""
    return _switch("_scope", label)


_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _float_dtype(dtype) -> np.dtype:
    if dtype is None:
        return _FLOAT_DTYPES[0]
    d = np.dtype(dtype)
    if d not in _FLOAT_DTYPES:
        raise TypeError(f"Tensor dtype must be float64 or float32, got {d}; pass dtype=np.float32 or leave it out")
    return d


def _numeric_array(data, dtype: np.dtype, copy: bool) -> np.ndarray:
    """Convert `data` to a float ndarray, or raise a TypeError that names what it was."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise TypeError(f"Tensor data must be numeric, got {type(data).__name__} that NumPy cannot turn into an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor data must be numeric (bool, int or float), got {type(data).__name__} of dtype {arr.dtype}")
    return np.array(arr, dtype=dtype, copy=True) if copy else arr.astype(dtype, copy=False)


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


class Tensor:
    """An n-dimensional array of floats that can compute gradients.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> loss = (x * x).sum()      # L = Σ x²
    >>> loss.backward()
    >>> x.grad                    # ∂L/∂x = 2x
    array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "op", "inputs", "scope", "_backward", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of NumPy looping over it

    def __init__(self, data, requires_grad: bool = False, name: Optional[str] = None, dtype=None):
        self.data = _numeric_array(data, _float_dtype(dtype), copy=True)
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.op = ""
        self.inputs: tuple = ()
        self.scope = _scope
        self._backward: Optional[Callable] = None

    # ----- construction helpers -------------------------------------------------
    @staticmethod
    def _result(data: np.ndarray, inputs: tuple, op: str, backward: Callable) -> "Tensor":
        """Wrap an op's output; record the graph only if grad mode is on and an input needs it."""
        if _detect_anomaly and not np.isfinite(data).all():
            bad = "nan" if np.isnan(data).any() else "inf"
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise FloatingPointError(f"detect_anomaly: op '{op}' produced {bad} from inputs of shapes {shapes}; "
                                     f"check its inputs (e.g. log of 0, overflow in exp) or lower the learning rate")
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.name = None
        out.scope = _scope
        record = False
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    record = True
                    break
        if record:
            out.requires_grad, out.op, out.inputs, out._backward = True, op, inputs, backward
        else:
            out.requires_grad, out.op, out.inputs, out._backward = False, "", (), None
        return out

    @staticmethod
    def _wrap(x, dtype: np.dtype) -> "Tensor":
        """A constant operand (number or array) as a Tensor of `dtype`, without copying when possible."""
        if isinstance(x, Tensor):
            return x
        t = Tensor.__new__(Tensor)
        if type(x) is np.ndarray and x.dtype is dtype:
            t.data = x
        elif type(x) in (float, int):
            t.data = np.array(x, dtype=dtype)
        else:
            t.data = _numeric_array(x, dtype, copy=False)
        t.grad, t.requires_grad, t.name, t.op, t.inputs, t.scope, t._backward = None, False, None, "", (), _scope, None
        return t

    @classmethod
    def zeros(cls, *shape, requires_grad=False, dtype=None, name=None) -> "Tensor":
        return cls(np.zeros(_shape(shape)), requires_grad, name, dtype)

    @classmethod
    def ones(cls, *shape, requires_grad=False, dtype=None, name=None) -> "Tensor":
        return cls(np.ones(_shape(shape)), requires_grad, name, dtype)

    @classmethod
    def randn(cls, *shape, seed=None, requires_grad=False, dtype=None, name=None) -> "Tensor":
        """Standard normal samples from `seed` (an int, None, or a numpy.random.Generator)."""
        return cls(_rng(seed).standard_normal(_shape(shape)), requires_grad, name, dtype)

    @classmethod
    def uniform(cls, *shape, low=0.0, high=1.0, seed=None, requires_grad=False, dtype=None, name=None) -> "Tensor":
        """Uniform samples in [low, high) from `seed` (an int, None, or a numpy.random.Generator)."""
        return cls(_rng(seed).uniform(low, high, _shape(shape)), requires_grad, name, dtype)

    # ----- array-like properties -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self.op == "", doc="True for tensors made by the user, not by an op.")

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element converts to a number, this one has shape {self.shape}")
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> "Tensor":
        """The same data (shared, not copied), cut from the graph."""
        return Tensor._wrap(self.data, self.data.dtype)

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        parts = []
        if self.data.size <= 8:
            parts.append(np.array2string(self.data, precision=4, separator=", "))
        else:
            parts.append(f"shape={self.shape}")
        if self.dtype != np.float64:
            parts.append(f"dtype={self.dtype}")
        if self.name:
            parts.append(f"name={self.name!r}")
        if self.requires_grad:
            parts.append("requires_grad=True")
        if self.op:
            parts.append(f"op={self.op!r}")
        return f"Tensor({', '.join(parts)})"

    # ----- reverse mode ----------------------------------------------------------
    def topological_order(self) -> list:
        """Every tensor this one depends on (that requires grad), inputs before outputs.

        Iterative depth-first search: a node is appended after all of its inputs.
        """
        order, visited = [], set()
        stack = [(self, False)]
        push, pop, visit = stack.append, stack.pop, visited.add
        while stack:
            node, inputs_done = pop()
            if inputs_done:
                order.append(node)
                continue
            if node in visited:  # tensors hash by identity
                continue
            visit(node)
            push((node, True))
            for inp in node.inputs:
                if inp.requires_grad and inp not in visited:
                    if inp.inputs:
                        push((inp, False))
                    else:  # a leaf has no inputs to wait for
                        visit(inp)
                        order.append(inp)
        return order

    def backward(self, gradient=None) -> None:
        """Compute ∂self/∂t for every tensor t in the graph and add it to ``t.grad``.

        For a scalar, the seed gradient ∂self/∂self is 1. For a non-scalar you must pass
        `gradient` (same shape): backward then computes the vector-Jacobian product.
        Gradients accumulate across calls, as in PyTorch: call ``zero_grad()`` between steps.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad; create its leaves with "
                               "Tensor(..., requires_grad=True) and compute it outside no_grad()")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: output of shape {self.shape} is not a scalar; reduce it first "
                                   f"(e.g. .sum() or .mean()) or pass gradient= an array of shape {self.shape}")
            seed = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            seed = _numeric_array(gradient, self.data.dtype, copy=True)
            if seed.shape != self.shape:
                raise ShapeError(f"backward: gradient of shape {seed.shape} does not match the output's shape "
                                 f"{self.shape}; pass an array of shape {self.shape}")

        pending = {self: seed}       # ∂self/∂t, summed over the uses of t seen so far
        stored, leaf_stored = set(), set()  # ids of the arrays put in some .grad / in a leaf's .grad
        check = _detect_anomaly
        for node in reversed(self.topological_order()):
            g = pending.pop(node, None)
            if g is None:
                continue
            if type(g) is not np.ndarray or g.dtype is not node.data.dtype:
                g = np.asarray(g, dtype=node.data.dtype)
            # Closures may pass one array (or a view of it) to several inputs. A leaf's .grad
            # is updated in place (below, and by users), so it must own its memory.
            backward = node._backward
            if node.grad is not None:
                node.grad = node.grad + g if backward else _add_into(node.grad, g)
            elif id(g) in leaf_stored or (backward is None and (id(g) in stored or not g.flags.owndata)):
                node.grad = g.copy()
            else:
                node.grad = g
            stored.add(id(node.grad))
            if backward is None:
                leaf_stored.add(id(node.grad))
                continue
            for inp, g_inp in zip(node.inputs, backward(g)):
                if g_inp is None or not inp.requires_grad:
                    continue
                if check and not np.isfinite(g_inp).all():
                    raise FloatingPointError(f"detect_anomaly: the backward of op '{node.op}' produced a non-finite gradient")
                prev = pending.get(inp)
                pending[inp] = g_inp if prev is None else prev + g_inp


def _add_into(grad: np.ndarray, g: np.ndarray) -> np.ndarray:
    grad += g  # a leaf accumulates in place, across backward() calls
    return grad


def _shape(shape: Sequence) -> tuple:
    """Accept both Tensor.zeros(2, 3) and Tensor.zeros((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


from . import ops  # noqa: E402,F401  (attaches the operations to Tensor)
