"""The Tensor: a NumPy array that remembers how it was made, and `backward()`.

Every operation (see ``ops.py``) returns a new Tensor that records
  - ``op``: the operation's name ("mul", "matmul", ...),
  - ``inputs``: the tensors it was computed from, in argument order,
  - ``_backward``: a closure that maps ∂L/∂out to (∂L/∂input for each input).

The closure captures the *inputs* (and any arrays it needs), never the output, so a
tensor and its closure form no reference cycle: when the last reference to the loss
goes away, the whole graph is freed at once, without waiting for the cycle collector.

``backward()`` walks the recorded graph once, from the output back to the leaves, in
reverse topological order (the chain rule applied node by node). Every tensor carries a
creation stamp, and an op's output is always made after its inputs, so sorting by stamp
gives that order; finding the tensors uses an explicit stack, not recursion, so a chain
of 100,000 operations is fine.

**In-place changes.** A closure reads its inputs' ``.data`` when backward runs, not when the op
ran, so changing an input's values in between would silently give the gradient at the new
values. As in PyTorch, every tensor has a version counter, ``t._version``, bumped by each
in-place change, which also stamps the tensor with the time of the change (``_changed_at``,
on the clock of the creation stamps). An input changed after the op that used it was made has
a later stamp than the op's output: backward() looks for one before it runs any closure and
raises, naming the tensor and the op. (While nothing changed since the graph's oldest op was
made, that look costs one comparison.) These paths bump the counter, through ``mark_changed``:
  - assigning ``t.data`` (``t.data = a``, and ``t.data -= lr * t.grad``, which assigns too),
  - ``optimizer.step()`` (every parameter it updates) and ``Module.load_state_dict``.
A write into the array itself (``t.data[...] = v``, ``t.data.fill(0)``) goes around the tensor
and bumps nothing; inside ``detect_anomaly()`` backward also checks a checksum of every input's
values and catches those too (it costs a pass over the data, so it is off by default). Every
input is checked, also one whose values the backward does not read (add's), and ``detach()``
makes a tensor with a counter of its own: a change made through it is not seen.
"""
from __future__ import annotations

import contextlib
import itertools
import operator
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

# Global switches. Plain module attributes: reading one costs almost nothing per op.
_grad_enabled = True      # False inside `no_grad()`: record no graph
_detect_anomaly = False   # True inside `detect_anomaly()`: check every op's output
_scope: Optional[str] = None  # innermost `name_scope(...)` label, for drawing
_clock = itertools.count(1)   # creation stamps: a tensor made later gets a larger number
_last_change = 0              # the stamp of the latest in-place change (mark_changed) of any tensor


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

    Also catch in backward an op input whose values were written in place after the op used
    it (``t.data[...] = v``), which the version counter cannot see: each op keeps a checksum
    of its inputs. Off by default because both checks cost a pass over the data.
    """
    return _switch("_detect_anomaly", True)


def name_scope(label: str):
    """Tag every op made inside the block with ``label`` (e.g. a layer), so drawings can group them."""
    return _switch("_scope", label)


_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_new = object.__new__                       # a Tensor without running __init__ (ops fill it in)
_by_stamp = operator.attrgetter("_stamp")


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


def _check_finite(data: np.ndarray, inputs: tuple, op: str) -> None:
    """detect_anomaly's check of one op's output."""
    if not np.isfinite(data).all():
        bad = "nan" if np.isnan(data).any() else "inf"
        shapes = ", ".join(str(t.shape) for t in inputs)
        raise FloatingPointError(f"detect_anomaly: op '{op}' produced {bad} from inputs of shapes {shapes}; "
                                 f"check its inputs (e.g. log of 0, overflow in exp) or lower the learning rate")


def _checksum(data: np.ndarray) -> int:
    """A fingerprint of the values, for detect_anomaly's check of writes into an array."""
    return hash(data.tobytes())


def mark_changed(*tensors: "Tensor") -> None:
    """Record that the values of `tensors` were changed in place: bump each one's version and stamp
    the change, so that backward() refuses a graph made before it (see the module docstring)."""
    global _last_change
    _last_change = stamp = next(_clock)
    for t in tensors:
        t._version += 1
        t._changed_at = stamp


def _changed_in_place(node: "Tensor", i: int, how: str) -> RuntimeError:
    """backward's error for input i of `node`'s op, changed in place after the op used it."""
    t = node.inputs[i]
    label = f"tensor {t.name!r} of shape {t.shape}" if t.name else f"a tensor of shape {t.shape}"
    return RuntimeError(f"backward: {label} ({how}) was changed in place after op '{node.op}' used it as input {i}, "
                        f"so its gradient would come from the new values; call backward() before changing it, "
                        f"or redo the forward after the change (to keep the old values, use a copy: t.data.copy())")


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

    __slots__ = ("_data", "grad", "requires_grad", "name", "op", "inputs", "scope", "_backward", "_stamp",
                 "_version", "_changed_at", "_input_checksums", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of NumPy looping over it

    def __init__(self, data, requires_grad: bool = False, name: Optional[str] = None, dtype=None):
        self._data = _numeric_array(data, _float_dtype(dtype), copy=True)
        self._version = self._changed_at = 0     # in-place changes: how many, and when the last one was
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.op = ""
        self.inputs: tuple = ()
        self.scope = _scope
        self._backward: Optional[Callable] = None
        self._stamp = next(_clock)

    # ----- construction helpers -------------------------------------------------
    @staticmethod
    def _result(data: np.ndarray, inputs: tuple, op: str, backward: Callable) -> "Tensor":
        """Wrap an op's output; record the graph only if grad mode is on and an input needs it."""
        if _detect_anomaly:
            _check_finite(data, inputs, op)
        out = _new(Tensor)
        out._data, out.grad, out.name, out.scope, out._stamp = data, None, None, _scope, next(_clock)
        out._version = out._changed_at = 0
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    out.requires_grad, out.op, out.inputs, out._backward = True, op, inputs, backward
                    if _detect_anomaly:
                        out._input_checksums = tuple(_checksum(t._data) for t in inputs)
                    return out
        out.requires_grad, out.op, out.inputs, out._backward = False, "", (), None
        return out

    @staticmethod
    def from_op(data, inputs: Sequence["Tensor"], op: str, backward: Callable) -> "Tensor":
        """A new op's output: `data` (a float ndarray) computed from `inputs` by the op named `op`.

        ``backward(g)`` receives ∂L/∂out (shaped like `data`) and returns one gradient per
        input, in the order of `inputs`, each shaped like its input (None where the input
        does not require grad). Capture the inputs in the closure, never the output, so the
        graph is freed by reference counting. Every built-in op in ops.py is made this way.
        """
        return Tensor._result(np.asarray(data), tuple(inputs), op, backward)

    @staticmethod
    def _wrap(x, dtype: np.dtype) -> "Tensor":
        """A constant operand (number or array) as a Tensor of `dtype`, without copying when possible."""
        if isinstance(x, Tensor):
            return x
        t = _new(Tensor)
        if type(x) is np.ndarray and x.dtype is dtype:
            t._data = x
        elif type(x) in (float, int):
            t._data = np.array(x, dtype=dtype)
        else:
            t._data = _numeric_array(x, dtype, copy=False)
        t.grad, t.requires_grad, t.name, t.op, t.inputs, t.scope, t._backward = None, False, None, "", (), _scope, None
        t._stamp, t._version, t._changed_at = next(_clock), 0, 0
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

    # ----- the values ----------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values (an ndarray). Assigning to it, ``t.data = a`` or ``t.data -= lr * t.grad``, is an
        in-place change (mark_changed): backward() then refuses a graph that used the old values."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        if type(value) is not np.ndarray or value.dtype not in _FLOAT_DTYPES:
            value = _numeric_array(value, self._data.dtype, copy=False)
        self._data = value
        mark_changed(self)

    # ----- array-like properties -------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    dtype = property(lambda self: self._data.dtype)
    is_leaf = property(lambda self: self.op == "", doc="True for tensors made by the user, not by an op.")

    def __len__(self) -> int:
        return len(self._data)

    def item(self) -> float:
        if self._data.size != 1:
            raise ValueError(f"item: only a tensor with one element converts to a number, this one has shape {self.shape}")
        return float(self._data.reshape(()))

    def numpy(self) -> np.ndarray:
        return self._data

    def detach(self) -> "Tensor":
        """The same data (shared, not copied), cut from the graph."""
        return Tensor._wrap(self._data, self._data.dtype)

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        parts = []
        if self._data.size <= 8:
            parts.append(np.array2string(self._data, precision=4, separator=", "))
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
    def topological_order(self, leaves: bool = True) -> list:
        """Every tensor this one depends on (that requires grad), inputs before outputs.

        An op's output is always created after its inputs, so the tensors sorted by creation
        stamp are in topological order. Finding them is a walk with a stack (no recursion).
        With leaves=False, only the results of ops: the nodes whose backward must run.
        """
        found, stack = {self}, [self]  # tensors hash by identity
        while stack:
            for inp in stack.pop().inputs:
                if inp.requires_grad and inp not in found:
                    if inp.inputs:
                        found.add(inp)
                        stack.append(inp)
                    elif leaves:
                        found.add(inp)
        return sorted(found, key=_by_stamp)

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
            if self._data.size != 1:
                raise RuntimeError(f"backward: output of shape {self.shape} is not a scalar; reduce it first "
                                   f"(e.g. .sum() or .mean()) or pass gradient= an array of shape {self.shape}")
            seed = np.array(1.0, dtype=self._data.dtype).reshape(self._data.shape)  # ∂self/∂self
        else:
            seed = _numeric_array(gradient, self._data.dtype, copy=True)
            if seed.shape != self.shape:
                raise ShapeError(f"backward: gradient of shape {seed.shape} does not match the output's shape "
                                 f"{self.shape}; pass an array of shape {self.shape}")
        stored = set()  # ids of the arrays put in some .grad during this call
        if self._backward is None:  # backward() of a leaf: ∂self/∂self only
            _add_to_leaf(self, seed, stored)
            return

        nodes = self.topological_order(leaves=False)
        check = _detect_anomaly
        if _last_change > nodes[0]._stamp or check:   # something changed since the oldest op was made
            _check_inputs_unchanged(nodes, check)    # before any .grad changes: a refused backward changes nothing

        # Walk the ops newest first: all users of a tensor were made after it, so when we reach
        # it, its gradient is complete. A leaf's share is added to its .grad as soon as it arrives.
        pending = {self: seed}  # ∂self/∂t for the ops not reached yet, summed over their users so far
        for node in reversed(nodes):
            g = pending.pop(node, None)
            if g is None:  # every path from here to self was cut (a closure returned None)
                continue
            if type(g) is not np.ndarray or g.dtype is not node._data.dtype:
                g = np.asarray(g, dtype=node._data.dtype)
            node.grad = g if node.grad is None else node.grad + g  # kept for drawing
            stored.add(id(g))
            for inp, g_inp in zip(node.inputs, node._backward(g)):
                if g_inp is None or not inp.requires_grad:
                    continue
                if check and not np.isfinite(g_inp).all():
                    raise FloatingPointError(f"detect_anomaly: the backward of op '{node.op}' produced "
                                             f"a non-finite gradient")
                if inp._backward is None:
                    _add_to_leaf(inp, g_inp, stored)
                else:
                    prev = pending.get(inp)
                    pending[inp] = g_inp if prev is None else prev + g_inp


def _check_inputs_unchanged(nodes: list, checksums: bool) -> None:
    """Raise if an input of one of these ops was changed in place after the op used it.

    The stamps catch every change made through the library (mark_changed); with `checksums`
    (inside detect_anomaly), a write into an array is caught too, for ops made inside detect_anomaly.
    """
    for node in nodes:
        for i, t in enumerate(node.inputs):
            if t._changed_at > node._stamp:
                raise _changed_in_place(node, i, f"now at version {t._version}")
        saved = getattr(node, "_input_checksums", None) if checksums else None
        if saved is not None:
            for i, (t, checksum) in enumerate(zip(node.inputs, saved)):
                if _checksum(t._data) != checksum:
                    raise _changed_in_place(node, i, "its values were written into, e.g. t.data[...] = v")


def _add_to_leaf(leaf: Tensor, g, stored: set) -> None:
    """Add one share of the gradient to a leaf's .grad.

    A leaf's .grad accumulates in place (across backward() calls, and users update it in
    place), so it must own its memory. Closures may hand one array (or a view of it) to
    several tensors, so g is kept as it is only when it is a fresh array of the leaf's dtype
    that no other .grad holds; otherwise the leaf gets a copy.
    """
    if leaf.grad is not None:
        leaf.grad += g
    elif type(g) is np.ndarray and g.dtype is leaf._data.dtype and g.base is None and id(g) not in stored:
        leaf.grad = g
        stored.add(id(g))
    else:
        leaf.grad = np.array(g, dtype=leaf._data.dtype)


def _shape(shape: Sequence) -> tuple:
    """Accept both Tensor.zeros(2, 3) and Tensor.zeros((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


from . import ops  # noqa: E402,F401  (attaches the operations to Tensor)
