"""Realistic wrong answers to the exercises of ex02_ops.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake.
"""
import numpy as np

from tinygrad_edu.course.mutants import mutant


# ----- 2.1 unbroadcast -----------------------------------------------------------------------

@mutant("2.1", kind="unbroadcast", why="sums the prepended axes only, not the stretched size-1 axes")
def unbroadcast(grad, shape):
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))


@mutant("2.1", kind="shape", why="sums the stretched axes without keepdims: (3,) where (1, 3) was asked")
def unbroadcast(grad, shape):  # noqa: F811  (each mutant is a separate wrong answer)
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched)


@mutant("2.1", kind="scale", why="the mean over the broadcast axes instead of the sum")
def unbroadcast(grad, shape):  # noqa: F811
    grad = grad.mean(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.mean(axis=stretched, keepdims=True)


# ----- 2.2 add ---------------------------------------------------------------------------------

@mutant("2.2", kind="unbroadcast", why="g for both inputs, without unbroadcast")
def add_backward(g, a, b):
    return g, g


@mutant("2.2", kind="sign", why="−g for b, as if it were a − b")
def add_backward(g, a, b):  # noqa: F811
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


@mutant("2.2", kind="chain", why="the local derivatives (ones) without the incoming gradient g")
def add_backward(g, a, b):  # noqa: F811
    return np.ones_like(a), np.ones_like(b)


# ----- 2.3 mul ---------------------------------------------------------------------------------

@mutant("2.3", kind="unbroadcast", why="g · b and g · a without unbroadcast")
def mul_backward(g, a, b):
    return g * b, g * a


@mutant("2.3", kind="swap", why="each input multiplied by itself: g · a for a, g · b for b")
def mul_backward(g, a, b):  # noqa: F811
    return unbroadcast(g * a, a.shape), unbroadcast(g * b, b.shape)


@mutant("2.3", kind="chain", why="the local derivatives b and a, without g")
def mul_backward(g, a, b):  # noqa: F811
    return b, a


# ----- 2.4 div ---------------------------------------------------------------------------------

@mutant("2.4", kind="sign", why="+a/b² for b: the minus sign of d(1/b)/db lost")
def div_backward(g, a, b):
    return unbroadcast(g / b, a.shape), unbroadcast(g * a / (b * b), b.shape)


@mutant("2.4", kind="unbroadcast", why="g / b and −g·a/b² without unbroadcast")
def div_backward(g, a, b):  # noqa: F811
    return g / b, -g * a / (b * b)


@mutant("2.4", kind="wrong", why="−a/b for b: the derivative of 1/b taken as −1/b")
def div_backward(g, a, b):  # noqa: F811
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / b, b.shape)


# ----- 2.5 pow ---------------------------------------------------------------------------------

@mutant("2.5", kind="unbroadcast", why="the formulas without unbroadcast (b is often one number: x ** 2)")
def pow_backward(g, a, b, out):
    return (np.where(b == 0, 0.0, g * b * a ** (b - 1)),
            np.where((a == 0) & (b >= 0), 0.0, g * out * np.log(a)))


@mutant("2.5", kind="edge", why="the plain formulas, without the rule at a = 0: 0·∞ = nan there")
def pow_backward(g, a, b, out):  # noqa: F811
    return unbroadcast(g * b * a ** (b - 1), a.shape), unbroadcast(g * out * np.log(a), b.shape)


@mutant("2.5", kind="wrong", why="a^b for ∂out/∂b, as if it were e^b: the factor ln a forgotten")
def pow_backward(g, a, b, out):  # noqa: F811
    ga = np.where(b == 0, 0.0, g * b * a ** (b - 1))
    return unbroadcast(ga, a.shape), unbroadcast(np.where((a == 0) & (b >= 0), 0.0, g * out), b.shape)


# ----- 2.6 exp ---------------------------------------------------------------------------------

@mutant("2.6", kind="chain", why="the local derivative eᵃ alone, without g")
def exp_backward(g, a, out):
    return out


@mutant("2.6", kind="wrong", why="the power rule applied to eᵃ: a·e^(a−1)")
def exp_backward(g, a, out):  # noqa: F811
    return g * a * np.exp(a - 1)


@mutant("2.6", kind="wrong", why="g times the input a where the output was meant")
def exp_backward(g, a, out):  # noqa: F811
    return g * a


# ----- 2.7 log ---------------------------------------------------------------------------------

@mutant("2.7", kind="chain", why="the local derivative 1/a alone, without g")
def log_backward(g, a, out):
    return 1 / a


@mutant("2.7", kind="wrong", why="g / out, copying exp's pattern: out is ln a, not a")
def log_backward(g, a, out):  # noqa: F811
    return g / out


@mutant("2.7", kind="sign", why="−g/a, the sign of d(1/a)/da carried over")
def log_backward(g, a, out):  # noqa: F811
    return -g / a


# ----- 2.8 tanh --------------------------------------------------------------------------------

@mutant("2.8", kind="sign", why="tanh² − 1 instead of 1 − tanh²")
def tanh_backward(g, a, out):
    return g * (out * out - 1)


@mutant("2.8", kind="scale", why="the derivative of tanh(2a)/2 mixed up: a factor 2")
def tanh_backward(g, a, out):  # noqa: F811
    return 2 * g * (1 - out * out)


@mutant("2.8", kind="chain", why="the local derivative alone, without the incoming gradient g")
def tanh_backward(g, a, out):  # noqa: F811
    return 1 - out * out


@mutant("2.8", kind="wrong", why="1 + tanh², the derivative of tan remembered instead")
def tanh_backward(g, a, out):  # noqa: F811
    return g * (1 + out * out)


# ----- 2.9 relu --------------------------------------------------------------------------------

@mutant("2.9", kind="edge", why="a >= 0: the derivative 1 at the kink a = 0, where the engine takes 0")
def relu_backward(g, a, out):
    return g * (a >= 0)


@mutant("2.9", kind="chain", why="the 0/1 mask alone, without g")
def relu_backward(g, a, out):  # noqa: F811
    return (a > 0).astype(float)


@mutant("2.9", kind="wrong", why="g times the output: relu(a) is not its own derivative")
def relu_backward(g, a, out):  # noqa: F811
    return g * out
