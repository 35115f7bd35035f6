"""References of ex02_reductions.py: each backward computed by the engine's own op (a vector-Jacobian product)."""
from __future__ import annotations

from ... import nn
from ...tensor import Tensor
from .ops import vjp


def sum_backward(g, a, axis, keepdims):
    return vjp(lambda t: t.sum(axis=axis, keepdims=keepdims), g, a)[0]


def mean_backward(g, a, axis, keepdims):
    return vjp(lambda t: t.mean(axis=axis, keepdims=keepdims), g, a)[0]


def max_backward(g, a, out, axis, keepdims):
    return vjp(lambda t: t.max(axis=axis, keepdims=keepdims), g, a)[0]


def matmul_backward(g, a, b):
    return vjp(Tensor.__matmul__, g, a, b)


def cross_entropy_backward(g, logits, targets):
    return vjp(lambda t: nn.cross_entropy(t, targets), g, logits)[0]
