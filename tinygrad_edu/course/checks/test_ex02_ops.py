"""Checks of ex02_ops.py: each backward against the engine's, on random inputs and at its edge points.

A failure shows the numbers of the (shrunk) failing input; the kind of mistake, which picks the
hint, is named on a fixed probe input where the kinds can be told apart (feedback.kind_of).
"""
import numpy as np
from hypothesis import given

from tinygrad_edu import Tensor
from tinygrad_edu.course.adapters import explain, unary_op
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare, expect_close, kind_of
from tinygrad_edu.course.strategies import array_and_cotangent

PROBE_A = np.array([[-1.5, -0.5, 0.25], [0.75, 1.25, 2.0]])
PROBE_G = np.array([[0.5, -1.0, 2.0], [1.5, -0.25, 1.0]])


def _unary_kind(student, reference, forward) -> str:
    """The kind of mistake at the probe; 'chain' if the answer does not scale with g."""
    out = forward(PROBE_A)
    got = student(PROBE_G.copy(), PROBE_A.copy(), out.copy())
    doubled = student(2 * PROBE_G, PROBE_A.copy(), out.copy())
    if compare(got, reference(PROBE_G, PROBE_A, out)).equal:
        return "wrong"          # right at the probe: wrong only at the edge points
    if compare(doubled, got).equal:
        return "chain"
    return kind_of(got, reference(PROBE_G, PROBE_A, out))


def _unary(workbook, name, forward, a, g, what="∂L/∂a"):
    """The student's unary backward at (a, g) against the reference; on failure its kind and the engine's diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    out = forward(a)
    got = student(g.copy(), a.copy(), out.copy())
    expected = reference(g, a, out)
    if compare(got, expected).equal:
        return
    op = unary_op(name, forward, student)
    expect_close(got, expected, what=what, inputs={"a": a, "g": g}, kind=_unary_kind(student, reference, forward),
                 diagnosis_of=lambda: explain(lambda: (op(Tensor(a, requires_grad=True)) * Tensor(g)).sum()))


@exercise("2.8")
@CHECK_SETTINGS
@given(ag=array_and_cotangent())
def test_tanh_backward_on_random_inputs(workbook, ag):
    """tanh_backward(g, a, out) equals the engine's on random inputs"""
    _unary(workbook, "tanh", np.tanh, *ag)


@exercise("2.8")
def test_tanh_backward_at_its_edge_points(workbook):
    """tanh_backward is right at 0 and where tanh saturates (a = ±20, ±1e300)"""
    a = np.array([0.0, 20.0, -20.0, 1e300, -1e300])
    _unary(workbook, "tanh", np.tanh, a, np.array([1.0, 1.0, -2.0, 1.0, 1.0]))


@exercise("2.8")
def test_tanh_backward_keeps_the_shape(workbook):
    """tanh_backward returns an array shaped like a, for a matrix and for an empty array"""
    for a in (np.linspace(-1, 1, 6).reshape(2, 3), np.zeros((0, 3))):
        _unary(workbook, "tanh", np.tanh, a, np.ones_like(a))
