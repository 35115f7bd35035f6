"""Plug a student's backward into the engine: an op whose forward is NumPy's and whose backward is theirs.

    tanh = unary_op("tanh", np.tanh, student_tanh_backward)
    y = tanh(Tensor(a, requires_grad=True))      # an ordinary engine op: y.backward(), gradcheck, diagnose
    mul = binary_op("mul", np.multiply, student_mul_backward)
    z = mul(x, w)                                # broadcasting as in the engine; a number is a constant

The op is made with ``Tensor.from_op``, as every engine op is, so ``diagnose`` can difference it
and name what is wrong with it, and the milestone can train a network whose every backward is
the student's. Forward and backward run with NumPy's floating-point warnings off, as the
engine's ops do: inf and nan at an op's edge points (1/0, log 0) are its results.

Each op is an instance of one class, not a closure: ``diagnose`` finds the function that made a
node by its code, and closures made by one factory share their code, so the diagnosis of a second
op would call the first one's forward again.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class _StudentOp:
    """One op: forward with NumPy, backward the student's (see unary_op and binary_op)."""

    def __init__(self, name: str, forward, backward, with_out: bool):
        self.name, self.forward, self.backward, self.with_out = name, forward, backward, with_out
        self.__name__ = self.__qualname__ = name

    def __call__(self, *inputs) -> Tensor:
        inputs = _as_tensors(inputs)
        data = [t._data for t in inputs]
        with np.errstate(all="ignore"):
            out = np.asarray(self.forward(*data))

        def backward(g):
            with np.errstate(all="ignore"):
                grads = self.backward(g, *data, out) if self.with_out else self.backward(g, *data)
            grads = (grads,) if len(inputs) == 1 else tuple(grads)
            return tuple(None if x is None else np.asarray(x) for x in grads)
        return Tensor.from_op(out, inputs, self.name, backward)

    def __repr__(self) -> str:
        return f"<op {self.name} with the student's backward {getattr(self.backward, '__name__', '?')}>"


def _as_tensors(inputs) -> tuple:
    """The inputs as Tensors; a number or array becomes a constant of the dtype of the first Tensor."""
    dtype = next((x.dtype for x in inputs if isinstance(x, Tensor)), np.float64)
    return tuple(x if isinstance(x, Tensor) else Tensor(x, dtype=dtype) for x in inputs)


def unary_op(name: str, forward, backward):
    """An op a ↦ forward(a) whose backward is ``backward(g, a, out) -> ∂L/∂a`` (NumPy arrays)."""
    return _StudentOp(name, forward, backward, with_out=True)


def binary_op(name: str, forward, backward, with_out: bool = False):
    """An op (a, b) ↦ forward(a, b) whose backward is ``backward(g, a, b) -> (∂L/∂a, ∂L/∂b)``.

    With `with_out`, the backward also gets the forward's result: ``backward(g, a, b, out)`` (pow's).
    The backward must give each gradient the shape of its input (unbroadcast); the op does not fix it.
    """
    return _StudentOp(name, forward, backward, with_out)


def explain(build) -> str:
    """The engine's diagnosis of the graph `build()` makes (which op, which input, what kind of error), or ''."""
    from ..diagnose import diagnose      # the diagnostics import graphviz: only when a check has failed
    try:
        with np.errstate(all="ignore"):  # at an edge point the loss sums inf and −inf: nan, not a warning
            report = diagnose(build)
    except Exception as exc:  # noqa: BLE001  (a student's op may break the diagnosis itself)
        return f"(no diagnosis: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return "" if report.ok else str(report)
