"""Realistic wrong answers to the exercises of ex02_reductions.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake.
"""
import numpy as np

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.reference.reductions import sum_backward as reference_sum_backward

# ----- 2.10 sum -----------------------------------------------------------------------------


@mutant("2.10", kind="keepdims", why="g broadcast as it is: without keepdims its summed axes are missing")
def sum_backward(g, a, axis, keepdims):
    return np.broadcast_to(g, a.shape).copy()


@mutant("2.10", kind="axis", why="the kept shape built by `i in axes`, which no negative axis ever matches")
def sum_backward(g, a, axis, keepdims):  # noqa: F811  (each mutant is a separate wrong answer)
    axes = range(a.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    kept = [1 if i in axes else n for i, n in enumerate(a.shape)]
    return np.broadcast_to(g.reshape(kept), a.shape).copy()


@mutant("2.10", kind="chain", why="∂sum/∂aᵢ = 1, returned without multiplying by g")
def sum_backward(g, a, axis, keepdims):  # noqa: F811
    return np.ones_like(a)


# ----- 2.11 mean ----------------------------------------------------------------------------
# (in the workbook, sum_backward is the engine's while 2.11 is checked: these call the same)


@mutant("2.11", kind="scale", why="the sum's backward, without dividing by n")
def mean_backward(g, a, axis, keepdims):
    return reference_sum_backward(g, a, axis, keepdims)


@mutant("2.11", kind="count", why="divided by a.size, every element, instead of the n averaged into each output")
def mean_backward(g, a, axis, keepdims):  # noqa: F811
    return reference_sum_backward(g, a, axis, keepdims) / max(a.size, 1)


@mutant("2.11", kind="keepdims", why="g/n broadcast as it is: without keepdims its averaged axes are missing")
def mean_backward(g, a, axis, keepdims):  # noqa: F811
    return np.broadcast_to(g / (a.size // max(g.size, 1)), a.shape).copy()


# ----- 2.12 max -----------------------------------------------------------------------------


def _kept(x, a, axis, keepdims):
    """x with the reduced axes back, length 1 (the part these mutants get right)."""
    axes = tuple(range(a.ndim)) if axis is None else axis
    return x if keepdims else np.expand_dims(x, axes)


@mutant("2.12", kind="ties", why="every tied maximum gets all of g, instead of g/k")
def max_backward(g, a, out, axis, keepdims):
    return (a == _kept(out, a, axis, keepdims)) * _kept(g, a, axis, keepdims)


@mutant("2.12", kind="argmax", why="all of g to the first maximum only, as np.argmax picks it")
def max_backward(g, a, out, axis, keepdims):  # noqa: F811
    axes = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(ax % a.ndim for ax in axes)
    last = tuple(range(a.ndim - len(axes), a.ndim))
    moved = np.moveaxis(a, axes, last)                          # the reduced axes at the end ...
    flat = moved.reshape(moved.shape[:a.ndim - len(axes)] + (-1,))  # ... as one
    first = np.zeros_like(flat)
    np.put_along_axis(first, flat.argmax(axis=-1)[..., None], 1.0, axis=-1)
    return np.moveaxis(first.reshape(moved.shape), last, axes) * _kept(g, a, axis, keepdims)


@mutant("2.12", kind="keepdims", why="out given its reduced axes back, but not g: without keepdims g is misaligned")
def max_backward(g, a, out, axis, keepdims):  # noqa: F811
    axes = tuple(range(a.ndim)) if axis is None else axis
    winners = a == _kept(out, a, axis, keepdims)
    return winners * g / winners.sum(axis=axes, keepdims=True)


# ----- 2.13 matmul --------------------------------------------------------------------------


def _summed_to(grad, shape):
    """grad summed over the broadcast batch dimensions (the part these mutants get right)."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape[:-2]) if n == 1), keepdims=True)


@mutant("2.13", kind="transpose", why="b · gᵀ and gᵀ · a: the transposes of g · bᵀ and aᵀ · g")
def matmul_backward(g, a, b):
    ga = b @ np.swapaxes(g, -1, -2)
    gb = np.swapaxes(g, -1, -2) @ a
    return _summed_to(ga, a.shape[:-2] + ga.shape[-2:]), _summed_to(gb, b.shape[:-2] + gb.shape[-2:])


@mutant("2.13", kind="unbroadcast", why="the batch dimensions that broadcast are not summed back")
def matmul_backward(g, a, b):  # noqa: F811
    return g @ np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2) @ g


@mutant("2.13", kind="batched", why="the matrix formula with .T, which reverses every axis of a batch")
def matmul_backward(g, a, b):  # noqa: F811
    return _summed_to(g @ b.T, a.shape), _summed_to(a.T @ g, b.shape)


# ----- 2.14 cross-entropy -------------------------------------------------------------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _onehot(targets, shape):
    onehot = np.zeros(shape)
    onehot[np.arange(shape[0]), targets] = 1
    return onehot


@mutant("2.14", kind="scale", why="the sum over the batch's gradient: the 1/N of the mean forgotten")
def cross_entropy_backward(g, logits, targets):
    return (_softmax(logits) - _onehot(targets, logits.shape)) * g


@mutant("2.14", kind="sign", why="onehot − softmax instead of softmax − onehot")
def cross_entropy_backward(g, logits, targets):  # noqa: F811
    return (_onehot(targets, logits.shape) - _softmax(logits)) * g / max(len(logits), 1)


@mutant("2.14", kind="nan", why="softmax as e^z / Σe^z, without subtracting the row's maximum: e^1000 overflows")
def cross_entropy_backward(g, logits, targets):  # noqa: F811
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True) - _onehot(targets, logits.shape)) * g / max(len(logits), 1)


@mutant("2.14", kind="chain", why="(softmax − onehot) / N, the gradient of the loss alone, without g")
def cross_entropy_backward(g, logits, targets):  # noqa: F811
    return (_softmax(logits) - _onehot(targets, logits.shape)) / max(len(logits), 1)
