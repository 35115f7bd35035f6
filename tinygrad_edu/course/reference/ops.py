"""The op exercises' references: each backward computed by the engine's own op (a vector-Jacobian product)."""
from __future__ import annotations

import operator

import numpy as np

from ... import ops
from ...tensor import Tensor


def vjp(op, g, *inputs):
    """∂⟨g, op(inputs)⟩/∂input for each input, by the engine: build op(inputs), backward(g)."""
    leaves = [Tensor(np.array(x, copy=True), requires_grad=True) for x in inputs]
    out = op(*leaves)
    out.backward(np.asarray(g, dtype=out.dtype))
    return tuple(t.grad if t.grad is not None else np.zeros_like(t.data) for t in leaves)


def unbroadcast(grad, shape):
    """The engine's own helper: every binary op's backward sums its gradients back with it."""
    return ops.unbroadcast(np.asarray(grad), tuple(shape))


def add_backward(g, a, b):
    return vjp(operator.add, g, a, b)


def mul_backward(g, a, b):
    return vjp(operator.mul, g, a, b)


def div_backward(g, a, b):
    return vjp(operator.truediv, g, a, b)


def pow_backward(g, a, b, out):
    return vjp(operator.pow, g, a, b)


def exp_backward(g, a, out):
    return vjp(Tensor.exp, g, a)[0]


def log_backward(g, a, out):
    return vjp(Tensor.log, g, a)[0]


def tanh_backward(g, a, out):
    return vjp(Tensor.tanh, g, a)[0]


def relu_backward(g, a, out):
    return vjp(Tensor.relu, g, a)[0]
