"""Chapter 1: derivatives by finite differences, the yardstick every gradient here is checked against.

The engine's ``gradcheck`` compares each backward with a central difference; here you write that
difference yourself and measure how fast its error shrinks as the step h shrinks.

Check your work with ``edu check 1.1`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np


def central_difference(f, x, h=1e-5):
    """Exercise 1.1: the central difference.

    f'(x) ≈ (f(x + h) − f(x − h)) / 2h          (error ⅙·f'''(x)·h² + …: second order)

    f acts element-wise, like np.sin or lambda t: t ** 3: for an array x, return the array of the
    central differences at each of its elements (same shape as x); for a number x, a number.
    No loop is needed: f works on the whole array at once.

    Hint: step both ways, by the h you are given, and divide by the distance between the two
    points, 2h. Mind the precedence: `/ 2 * h` divides by 2 and then *multiplies* by h.
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)
    # END SOLUTION


def error_order(f, df, x, h):
    """Exercise 1.2: the central difference's error order.

    err(h) = |central_difference(f, x, h) − df(x)|   (df is the exact derivative of f)
    p      = log2(err(h) / err(h/2))

    An error C·hᵖ shrinks 2ᵖ times when h is halved, so p is the order: about 2 for the central
    difference (for f(x) = x³ the error is h² exactly, and p = 2). x and h are numbers; return p
    as a float.

    Hint: call your central_difference twice, at h and at h/2. The order is an exponent: take
    the base-2 logarithm (np.log2) of the ratio of the two errors, the larger error on top.
    """
    # BEGIN SOLUTION
    def err(step):
        return np.abs(central_difference(f, x, step) - df(x))
    return float(np.log2(err(h) / err(h / 2)))
    # END SOLUTION
