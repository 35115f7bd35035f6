"""Checks of ex01_derivatives.py: the central difference and its error order, against the reference and closed forms.

A failure shows the numbers of the (shrunk) failing input; the kind of mistake, which picks the
hint, is named on a fixed probe input where the kinds can be told apart (feedback.kind_of).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare, expect_close, kind_of
from tinygrad_edu.course.strategies import arrays, floats


def cube(t):
    return t ** 3


def cube_derivative(t):
    return 3 * t ** 2


# name -> (f, f'): the name is what the feedback shows (a function's repr holds a memory address)
FUNCTIONS = {"sin": (np.sin, np.cos), "exp": (np.exp, np.exp), "x**3": (cube, cube_derivative)}

PROBE_X, PROBE_H = np.array([-1.0, 0.0, 0.5, 2.0]), 1e-2
# (f, x, h) where the central difference's order is measured; its values of p differ a little from 2
ORDER_PROBES = [("x**3", 1.0, 0.1), ("sin", 1.0, 0.5), ("exp", 0.5, 0.2), ("sin", -0.5, 1.0)]


def _difference_kind(student, reference) -> str:
    """The kind of mistake on sin at PROBE_X with h = PROBE_H."""
    got = student(np.sin, PROBE_X.copy(), PROBE_H)
    expected = reference(np.sin, PROBE_X, PROBE_H)
    if compare(got, expected).equal:
        return "edge"           # right at the probe: wrong only on other inputs
    if compare(got, (np.sin(PROBE_X + PROBE_H) - np.sin(PROBE_X)) / PROBE_H).equal:
        return "forward"
    if compare(student(np.sin, PROBE_X.copy(), PROBE_H / 10), got).equal:
        return "fixed_h"        # the answer does not change with h
    return kind_of(got, expected)


def _central(workbook, name, x, h, expected=None):
    """The student's central difference of FUNCTIONS[name] at x against `expected` (default: the reference)."""
    student, reference = workbook.student(), workbook.reference()
    f = FUNCTIONS[name][0]
    got = student(f, x.copy() if isinstance(x, np.ndarray) else x, h)
    expected = reference(f, x, h) if expected is None else expected
    if not compare(got, expected).equal:
        expect_close(got, expected, what=f"the central difference of {name}", inputs={"f": name, "x": x, "h": h},
                     kind=_difference_kind(student, reference))


@exercise("1.1")
@CHECK_SETTINGS
@given(name=st.sampled_from(sorted(FUNCTIONS)), x=arrays(low=-3.0, high=3.0), h=floats(1e-4, 0.1))
def test_central_difference_on_random_inputs(workbook, name, x, h):
    """central_difference(f, x, h) equals (f(x + h) − f(x − h)) / 2h on random arrays x and steps h"""
    _central(workbook, name, x, h)


@exercise("1.1")
def test_central_difference_has_the_second_order_error(workbook):
    """for f(x) = x³ it gives 3x² + h²: the derivative, plus an error of order h²"""
    x = np.array([-2.0, 0.0, 1.0, 3.0])
    for h in (0.1, 1e-3):
        _central(workbook, "x**3", x, h, expected=3 * x ** 2 + h ** 2)


@exercise("1.1")
def test_central_difference_keeps_the_shape(workbook):
    """central_difference works on a number, a matrix and an empty array, and keeps the shape"""
    for x in (0.5, np.linspace(-1, 1, 6).reshape(2, 3), np.zeros((0, 2))):
        _central(workbook, "sin", x, 1e-3)


def _order_kind(student, reference) -> str:
    """The kind of mistake on ORDER_PROBES."""
    got = np.array([student(*FUNCTIONS[name], x, h) for name, x, h in ORDER_PROBES], dtype=float)
    expected = np.array([reference(*FUNCTIONS[name], x, h) for name, x, h in ORDER_PROBES])
    return "edge" if compare(got, expected).equal else kind_of(got, expected)


def _order(workbook, name, x, h, expected=None):
    """The student's error order for FUNCTIONS[name] at (x, h) against `expected` (default: the reference)."""
    student, reference = workbook.student(), workbook.reference()
    got = student(*FUNCTIONS[name], x, h)
    expected = reference(*FUNCTIONS[name], x, h) if expected is None else expected
    if not compare(got, expected).equal:
        expect_close(got, expected, what=f"the order p for {name}", inputs={"f": name, "x": x, "h": h},
                     kind=_order_kind(student, reference))


@exercise("1.2")
@CHECK_SETTINGS
@given(name=st.sampled_from(sorted(FUNCTIONS)), x=floats(-1.5, 1.5), h=floats(1e-3, 0.5))
def test_error_order_on_random_inputs(workbook, name, x, h):
    """error_order(f, df, x, h) equals log2(err(h) / err(h/2)) for random x and h"""
    _order(workbook, name, x, h)


@exercise("1.2")
def test_error_order_matches_the_closed_forms(workbook):
    """the order is 2 for f(x) = x³ (its error is h² exactly), and log2((1 − sin h/h)/(1 − sin(h/2)/(h/2))) for sin"""
    for x in (0.0, 1.0, -3.0):
        for h in (0.1, 0.01):
            _order(workbook, "x**3", x, h, expected=2.0)
    # sin at x: the central difference is cos(x)·sin(h)/h, so err(h) = |cos x|·(1 − sin(h)/h)
    for h in (0.5, 0.05):
        _order(workbook, "sin", 1.0, h, expected=np.log2((1 - np.sin(h) / h) / (1 - np.sin(h / 2) / (h / 2))))
