"""Realistic wrong answers to the exercises of ex01_derivatives.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake.
"""
import numpy as np

from tinygrad_edu.course.mutants import mutant


@mutant("1.1", kind="forward", why="the forward difference (f(x + h) − f(x)) / h: first order only")
def central_difference(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x)) / h


@mutant("1.1", kind="scale", why="divided by h instead of 2h: twice the derivative")
def central_difference(f, x, h=1e-5):  # noqa: F811  (each mutant is a separate wrong answer)
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / h


@mutant("1.1", kind="scale", why="`/ 2 * h` without brackets: divides by 2, then multiplies by h")
def central_difference(f, x, h=1e-5):  # noqa: F811
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / 2 * h


@mutant("1.1", kind="fixed_h", why="a step of 1e-5 written in, whatever h is passed")
def central_difference(f, x, h=1e-5):  # noqa: F811
    x = np.asarray(x, dtype=np.float64)
    return (f(x + 1e-5) - f(x - 1e-5)) / 2e-5


@mutant("1.2", kind="sign", why="the ratio upside down, err(h/2) / err(h): −p")
def error_order(f, df, x, h):
    def err(step):
        return np.abs(central_difference(f, x, step) - df(x))
    return float(np.log2(err(h / 2) / err(h)))


@mutant("1.2", kind="scale", why="np.log instead of np.log2: p·ln 2")
def error_order(f, df, x, h):  # noqa: F811
    def err(step):
        return np.abs(central_difference(f, x, step) - df(x))
    return float(np.log(err(h) / err(h / 2)))


@mutant("1.2", kind="wrong", why="the ratio of the errors, without the logarithm: 2ᵖ ≈ 4")
def error_order(f, df, x, h):  # noqa: F811
    def err(step):
        return np.abs(central_difference(f, x, step) - df(x))
    return float(err(h) / err(h / 2))
