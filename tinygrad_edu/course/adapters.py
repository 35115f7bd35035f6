"""Plug a student's backward into the engine: an op whose forward is NumPy's and whose backward is theirs.

    tanh = unary_op("tanh", np.tanh, student_tanh_backward)
    y = tanh(Tensor(a, requires_grad=True))      # an ordinary engine op: y.backward(), gradcheck, diagnose

The op is made with ``Tensor.from_op``, as every engine op is, so ``diagnose`` can difference it
and name what is wrong with it, and the milestone can train a network whose every backward is
the student's.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def unary_op(name: str, forward, backward):
    """An op a ↦ forward(a) whose backward is ``backward(g, a, out) -> ∂L/∂a`` (NumPy arrays)."""
    def op(a: Tensor) -> Tensor:
        out = forward(a._data)
        return Tensor.from_op(out, (a,), name, lambda g: (np.asarray(backward(g, a._data, out)),))
    op.__name__ = op.__qualname__ = name
    return op


def explain(build) -> str:
    """The engine's diagnosis of the graph `build()` makes (which op, which input, what kind of error), or ''."""
    from ..diagnose import diagnose      # the diagnostics import graphviz: only when a check has failed
    try:
        report = diagnose(build)
    except Exception as exc:  # noqa: BLE001  (a student's op may break the diagnosis itself)
        return f"(no diagnosis: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return "" if report.ok else str(report)
