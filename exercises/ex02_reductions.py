"""Chapter 2: the backward of the reductions (sum, mean, max), of matmul, and of cross-entropy.

Each function gets ``g = ∂L/∂out`` (an array shaped like the op's output) and the op's inputs
(NumPy arrays), and returns ∂L/∂input shaped like that input.

A reduction over `axis` (None: every axis; an int, negative ones counting from the end; or a
tuple of ints) makes an output without those axes, or with them at length 1 when keepdims is
True. Its backward sends each output's gradient back to every input element that went into it,
so g must first get the reduced axes back (length 1) and then be broadcast to a's shape.

Check your work with ``edu check 2.10`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np


def sum_backward(g, a, axis, keepdims):
    """Exercise 2.10: sum's backward.

    out = a.sum(axis, keepdims).  Every element of a adds 1× into its output, so
    ∂L/∂aᵢ = g[the output aᵢ was summed into]: g copied back along the summed axes.

    Shapes: a is any shape; g is shaped like out; return an array shaped like a.

    Hint: with keepdims=False the summed axes are missing from g: put them back with length 1
    (``np.expand_dims(g, axes)``; axis=None means every axis, ``tuple(range(a.ndim))``), then
    ``np.broadcast_to(g, a.shape)`` stretches them.
    """
    # BEGIN SOLUTION
    axes = tuple(range(a.ndim)) if axis is None else axis
    if not keepdims:
        g = np.expand_dims(g, axes)         # the summed axes back, with length 1 (negative ones too)
    return np.broadcast_to(g, a.shape)
    # END SOLUTION


def mean_backward(g, a, axis, keepdims):
    """Exercise 2.11: mean's backward.

    out = a.mean(axis, keepdims) = a.sum(axis, keepdims) / n, with n the number of elements
    averaged into each output.  So ∂L/∂a = (sum's backward of g) / n.

    Shapes: as sum_backward: g is shaped like out; return an array shaped like a.

    Hint: n is a.size / out.size, and out has as many elements as g. You may call
    ``sum_backward(g, a, axis, keepdims)``; while this exercise is checked it is the engine's.
    (An empty a has an empty gradient: any n gives it.)
    """
    # BEGIN SOLUTION
    n = a.size // max(g.size, 1)           # elements averaged into each output
    return sum_backward(g, a, axis, keepdims) / n
    # END SOLUTION


def max_backward(g, a, out, axis, keepdims):
    """Exercise 2.12: max's backward.

    out = a.max(axis, keepdims).  Only the elements equal to their output's maximum moved it:
    ∂L/∂aᵢ = g / k where aᵢ is one of the k elements tied at that maximum, else 0.
    (The k tied maxima share g equally: the engine's rule, in tinygrad_edu/ops.py's max.)

    Shapes: out and g have the output's shape; return an array shaped like a.

    Hint: with keepdims=False give out and g their reduced axes back (length 1) first; then
    ``winners = a == out`` marks the maxima, and ``winners.sum(axes, keepdims=True)`` counts k.
    """
    # BEGIN SOLUTION
    axes = tuple(range(a.ndim)) if axis is None else axis
    if not keepdims:
        g, out = np.expand_dims(g, axes), np.expand_dims(out, axes)
    winners = a == out                                  # every maximum, ties included
    return winners * g / winners.sum(axis=axes, keepdims=True)
    # END SOLUTION


def matmul_backward(g, a, b):
    """Exercise 2.13: matmul's backward.

    out = a @ b.  For matrices (n×k)·(k×m):  ∂L/∂a = g · bᵀ  (n×k),  ∂L/∂b = aᵀ · g  (k×m).
    Batched operands (3-D and more) multiply matrix by matrix over the leading (batch)
    dimensions, which broadcast as in ``a + b``: a batch dimension that one operand lacks, or has
    with length 1, was stretched, and its gradient is the sum over that dimension.

    Shapes: a is (..., n, k), b is (..., k, m), both at least 2-D; g is (..., n, m), the broadcast
    batch shape in front. Return (∂L/∂a, ∂L/∂b), shaped like a and like b.

    Hint: transpose only the last two axes, ``np.swapaxes(x, -1, -2)`` (``x.T`` reverses every
    axis of an N-D array). Then sum each gradient over the batch dimensions its operand lacks,
    and (keepdims=True) over those it has with length 1: what the engine's ``unbroadcast`` does,
    written here for the batch dimensions.
    """
    # BEGIN SOLUTION
    ga = g @ np.swapaxes(b, -1, -2)         # g · bᵀ, batch by batch
    gb = np.swapaxes(a, -1, -2) @ g         # aᵀ · g

    def summed_to(grad, shape):
        """grad summed over the batch dimensions that broadcasting stretched to reach it from `shape`."""
        grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))          # dimensions added in front
        stretched = tuple(i for i, n in enumerate(shape[:-2]) if n == 1)    # length-1 dimensions
        return grad.sum(axis=stretched, keepdims=True)
    return summed_to(ga, a.shape), summed_to(gb, b.shape)
    # END SOLUTION


def cross_entropy_backward(g, logits, targets):
    """Exercise 2.14: softmax–cross-entropy's backward.

    L = (1/N) Σᵢ −log softmax(logits)[i, targets[i]],  softmax(z)ⱼ = e^(zⱼ) / Σₖ e^(zₖ) per row.
    Its gradient:  ∂L/∂logits = (softmax(logits) − onehot(targets)) · g / N.

    Shapes: logits (N, C) floats, targets (N,) ints in [0, C), g a scalar (a 0-d array);
    return an (N, C) array.

    Hint: e^1000 overflows to inf; softmax(z) = softmax(z − max(z)), so subtract each row's
    maximum before exp and nothing overflows. The one-hot rows: ``onehot[np.arange(N), targets] = 1``.
    """
    # BEGIN SOLUTION
    n = logits.shape[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))     # each row's largest is e⁰ = 1: no overflow
    softmax = e / e.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(softmax)
    onehot[np.arange(n), targets] = 1
    return (softmax - onehot) * g / max(n, 1)                  # an empty batch has an empty gradient
    # END SOLUTION
