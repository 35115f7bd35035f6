"""Chapter 2: each op's backward, next to the forward the engine already has.

Every function here gets ``g = ∂L/∂out`` (an array shaped like the op's output) and the op's
inputs (NumPy arrays; some also get ``out``, the forward's result), and returns ∂L/∂input for
each input, shaped like that input: the chain rule, g times the op's local derivative.

A binary op broadcasts its inputs (a of shape (2, 3) plus b of shape (3,) adds b to each row),
so an input used several times gets the sum of its gradients back: ``unbroadcast``, exercise
2.1, does it, and the backwards of add, mul, div and pow call it.

At an op's edge points the formulas give IEEE values (1/0 = inf, 0/0 = nan): return them as they
come, as the engine and PyTorch do; the checks run your code with NumPy's warnings off.

Check your work with ``edu check 2.8`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np


def unbroadcast(grad, shape):
    """Exercise 2.1: unbroadcast.

    Broadcasting used an input of `shape` several times: NumPy prepended dimensions to it and
    stretched its size-1 dimensions to the output's shape. An input used n times receives the
    sum of its n gradients, so sum `grad` (shaped like the output) back to `shape`:
      1. over the leading axes that grad has and shape has not (the first grad.ndim − len(shape));
      2. then over every axis i where shape[i] == 1 and grad.shape[i] != 1, keeping it (keepdims=True).
    Return an array of exactly `shape`. Example: grad of shape (4, 2, 3) and shape (2, 1): sum over
    axis 0, giving (2, 3), then over axis 1 with keepdims, giving (2, 1). When grad already has
    `shape`, it is returned as it is.

    Hint: grad.sum(axis=tuple_of_axes) sums over several axes at once; a tuple may be empty.
    """
    # BEGIN SOLUTION
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)
    # END SOLUTION


def add_backward(g, a, b):
    """Exercise 2.2: add's backward.

    out = a + b (broadcast).  ∂out/∂a = 1 and ∂out/∂b = 1, so return the pair
        (∂L/∂a, ∂L/∂b) = (unbroadcast(g, a.shape), unbroadcast(g, b.shape)).

    Shapes: g has out's shape; the two gradients have a's shape and b's shape.
    Hint: the local derivatives are 1; all the work is in giving each gradient its input's shape.
    """
    # BEGIN SOLUTION
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)
    # END SOLUTION


def mul_backward(g, a, b):
    """Exercise 2.3: mul's backward.

    out = a · b (broadcast).  ∂out/∂a = b and ∂out/∂b = a, so return the pair
        (∂L/∂a, ∂L/∂b) = (unbroadcast(g · b, a.shape), unbroadcast(g · a, b.shape)).

    Shapes: g has out's shape; the two gradients have a's shape and b's shape.
    Hint: each input's gradient is g times the *other* input; multiply first (g · b has out's
    shape), then unbroadcast.
    """
    # BEGIN SOLUTION
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)
    # END SOLUTION


def div_backward(g, a, b):
    """Exercise 2.4: div's backward.

    out = a / b (broadcast).  ∂out/∂a = 1/b and ∂out/∂b = −a/b², so return the pair
        (∂L/∂a, ∂L/∂b) = (unbroadcast(g / b, a.shape), unbroadcast(−g · a / b², b.shape)).

    Shapes: g has out's shape; the two gradients have a's shape and b's shape. Where b = 0 the
    formulas give ±inf (and nan for 0/0), as the engine's.
    Hint: b⁻¹ differentiates to −b⁻², and the minus sign belongs to ∂L/∂b only.
    """
    # BEGIN SOLUTION
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)
    # END SOLUTION


def pow_backward(g, a, b, out):
    """Exercise 2.5: pow's backward.

    out = a ** b (broadcast).  ∂out/∂a = b · a^(b−1) and ∂out/∂b = a^b · ln a = out · ln a, so
        ∂L/∂a = unbroadcast(g · b · a^(b−1), a.shape),   ∂L/∂b = unbroadcast(g · out · ln a, b.shape).

    Given, at a = 0 (the engine's rule, as PyTorch's), where the formulas give 0·∞ = nan:
      ∂out/∂a = 0 where b = 0 (a⁰ = 1 is flat), and ∂out/∂b = 0 where b ≥ 0 (0^b is 0 for b > 0).
    Elsewhere the formulas stand, inf included (∂out/∂a = inf at a = 0 for 0 < b < 1); for
    a < 0, ln a is nan, and so is ∂L/∂b. Return the pair (∂L/∂a, ∂L/∂b), shaped like a and like b.

    Hint: np.where(b == 0, 0.0, formula) applies a rule element by element; the conditions
    broadcast like the formula does, so apply them before unbroadcast.
    """
    # BEGIN SOLUTION
    ga = np.where(b == 0, 0.0, g * b * a ** (b - 1))
    gb = np.where((a == 0) & (b >= 0), 0.0, g * out * np.log(a))
    return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)
    # END SOLUTION


def exp_backward(g, a, out):
    """Exercise 2.6: exp's backward.

    out = eᵃ.  ∂eᵃ/∂a = eᵃ, the output itself: return ∂L/∂a = g · out, shaped like a.

    Where eᵃ overflows to inf (at a = 1000, say), so does the gradient.
    Hint: reuse `out`; there is no need to call np.exp again.
    """
    # BEGIN SOLUTION
    return g * out
    # END SOLUTION


def log_backward(g, a, out):
    """Exercise 2.7: log's backward.

    out = ln a.  ∂ln a/∂a = 1/a: return ∂L/∂a = g / a, shaped like a.

    At a = 0 this is ±inf, as the engine's (ln 0 = −inf).
    Hint: divide by the input a; `out` is ln a, which is not what the derivative needs.
    """
    # BEGIN SOLUTION
    return g / a
    # END SOLUTION


def tanh_backward(g, a, out):
    """Exercise 2.8: tanh's backward.

    out = tanh(a).  Return ∂L/∂a = g · ∂tanh(a)/∂a = g · (1 − tanh²(a)).

    Hint: tanh(a) is already computed: it is `out`. Reusing it is cheaper than calling np.tanh
    again, and it is what the engine does.
    """
    # BEGIN SOLUTION
    return g * (1 - out * out)
    # END SOLUTION


def relu_backward(g, a, out):
    """Exercise 2.9: relu's backward.

    out = max(a, 0).  ∂out/∂a = 1 where a > 0, else 0: return ∂L/∂a = g · [a > 0], shaped like a.

    At a = 0 relu has a kink; the engine (as PyTorch) takes the derivative there to be 0.
    Hint: a comparison gives an array of booleans, and g * (a > 0) multiplies by 1 or 0.
    """
    # BEGIN SOLUTION
    return g * (a > 0)
    # END SOLUTION
