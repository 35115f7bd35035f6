"""Chapter 1's references: the central difference, as ``tinygrad_edu.gradcheck`` takes it, and its error order.

The engine has no function that returns a finite difference (gradcheck computes one inside its
loop and returns only the largest disagreement), so the formula is written here once, the same
one gradcheck's docstring states.
"""
from __future__ import annotations

import numpy as np


def central_difference(f, x, h=1e-5):
    """(f(x + h) − f(x − h)) / 2h, element-wise for an array x (f acts element-wise, like np.sin)."""
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


def error_order(f, df, x, h):
    """p = log2(err(h) / err(h/2)), err(h) = |central_difference(f, x, h) − df(x)|: about 2."""
    def err(step):
        return np.abs(central_difference(f, x, step) - df(x))
    return float(np.log2(err(h) / err(h / 2)))
