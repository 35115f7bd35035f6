"""Checks of ex02_ops.py: each backward against the engine's, on random inputs and at its edge points.

A failure shows the numbers of the (shrunk) failing input; the kind of mistake, which picks the
hint, is named on a fixed probe input where the kinds can be told apart (feedback.kind_of).
The student's code runs with NumPy's floating-point warnings off, as the engine's ops do: inf
and nan at an op's edge points are results, compared like any other number.
"""
from dataclasses import dataclass

import numpy as np
from hypothesis import given

from tinygrad_edu import Tensor
from tinygrad_edu.course.adapters import binary_op, explain, unary_op
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import CheckFailed, compare, expect_close, kind_of
from tinygrad_edu.course.strategies import (array_and_cotangent, binary_inputs, floats, grad_and_shape,
                                            nonzero_floats)

PROBE_A = np.array([[-1.5, -0.5, 0.25], [0.75, 1.25, 2.0]])
PROBE_G = np.array([[0.5, -1.0, 2.0], [1.5, -0.25, 1.0]])


def _quiet():
    return np.errstate(all="ignore")


def _values(shape, low, high) -> np.ndarray:
    """Distinct values from low to high, in an array of `shape`."""
    size = int(np.prod(shape))
    return np.linspace(low, high, size).reshape(shape) if size > 1 else np.full(shape, high)


# ----- 2.1 unbroadcast ------------------------------------------------------------------------

# (grad's shape, the input's shape): a dimension prepended, a size-1 dimension stretched, both
UNBROADCAST_PROBES = [((2, 3), (3,)), ((2, 3), (1, 3)), ((4, 2, 3), (2, 1))]


def _unbroadcast_kind(student, reference) -> str:
    for grad_shape, shape in UNBROADCAST_PROBES:
        grad = _values(grad_shape, -1.0, 2.0)
        got, expected = student(grad.copy(), shape), reference(grad, shape)
        if not compare(got, expected).equal:
            return kind_of(got, expected)
    return "edge"


def _unbroadcast(workbook, grad, shape):
    student, reference = workbook.student(), workbook.reference()
    got, expected = student(grad.copy(), shape), reference(grad, shape)
    if not compare(got, expected).equal:
        expect_close(got, expected, what=f"unbroadcast(grad, {shape})", inputs={"grad": grad},  # shape: in `what`
                     kind=_unbroadcast_kind(student, reference))


@exercise("2.1")
@CHECK_SETTINGS
@given(case=grad_and_shape())
def test_unbroadcast_on_random_shapes(workbook, case):
    """unbroadcast(grad, shape) equals the engine's for random broadcast shapes"""
    _unbroadcast(workbook, *case)


@exercise("2.1")
def test_unbroadcast_sums_prepended_and_stretched_axes(workbook):
    """unbroadcast sums over prepended and stretched axes: (4, 2, 3) to (2, 1), (2, 3) to (1, 1)"""
    for grad_shape, shape in (((4, 2, 3), (2, 1)), ((2, 3), (1, 1)), ((3, 1, 4), (3, 1, 1))):
        _unbroadcast(workbook, _values(grad_shape, -2.0, 3.0), shape)


@exercise("2.1")
def test_unbroadcast_at_its_edge_shapes(workbook):
    """unbroadcast is right for a scalar input (shape ()), an unchanged shape and an empty batch"""
    for grad_shape, shape in (((2, 3), ()), ((2, 3), (2, 3)), ((0, 3), (3,)), ((0, 3), (1, 3))):
        _unbroadcast(workbook, _values(grad_shape, -2.0, 3.0), shape)


# ----- 2.2 - 2.5 the binary ops ------------------------------------------------------------------

@dataclass(frozen=True)
class Binary:
    """A binary op's exercise: its name and forward, the probes that name the kind, whether backward gets out."""
    name: str
    forward: object
    probes: tuple           # (a, b) pairs: same shapes first (sign, scale, swapped gradients show), then broadcast
    with_out: bool = False

    def backward(self, fn, g, a, b):
        """fn(g, a, b[, out]) on copies of the inputs, checked to be a pair of gradients."""
        with _quiet():
            args = (g.copy(), a.copy(), b.copy()) + ((self.forward(a, b),) if self.with_out else ())
            result = fn(*args)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            length = f" of length {len(result)}" if hasattr(result, "__len__") else ""
            raise CheckFailed(f"{self.name}_backward must return two gradients, (∂L/∂a, ∂L/∂b); it returned "
                              f"{type(result).__name__}{length}", kind="shape", inputs={"a": a, "b": b, "g": g})
        return tuple(result)


def _probes(a_low, a_high, b_low, b_high) -> tuple:
    """(a, b) of the same shape (2, 3); then a column (2, 1) and a row (3,), both stretched to (2, 3)."""
    return ((_scatter(_values((2, 3), a_low, a_high)), _values((2, 3), b_low, b_high)[::-1].copy()),
            (_values((2, 1), a_low, a_high), _scatter(_values((3,), b_low, b_high))))


def _scatter(x: np.ndarray) -> np.ndarray:
    """The values of x in another order (so that a, b and g are not all increasing together)."""
    flat = x.ravel()
    return flat[np.argsort(np.sin(np.arange(flat.size) * 7.0))].reshape(x.shape)


ADD = Binary("add", np.add, _probes(-1.5, 2.0, -1.25, 3.0))
MUL = Binary("mul", np.multiply, _probes(-1.5, 2.0, -1.25, 3.0))
DIV = Binary("div", np.divide, _probes(-1.5, 2.0, 0.5, 3.0))
POW = Binary("pow", np.power, _probes(0.25, 2.0, -1.25, 3.0), with_out=True)


def _all_equal(got, expected) -> bool:
    return all(compare(x, y).equal for x, y in zip(got, expected))


def _binary_kind(student, reference, op: Binary) -> str:
    """The kind of mistake at the first probe where the student's pair differs from the reference's."""
    for a, b in op.probes:
        g = _values(np.broadcast_shapes(a.shape, b.shape), -1.0, 2.0)[..., ::-1].copy()
        got, expected = op.backward(student, g, a, b), op.backward(reference, g, a, b)
        if _all_equal(got, expected):
            continue
        if a.shape == b.shape and _all_equal(got, expected[::-1]):
            return "swap"       # each input got the other one's gradient
        if _all_equal(op.backward(student, 2 * g, a, b), got):
            return "chain"      # the answer does not scale with g
        return next(kind for kind in (kind_of(x, y) for x, y in zip(got, expected)) if kind)
    return "edge"               # right at the probes: wrong only at the edge points


def _binary(workbook, op: Binary, a, b, g, expected=None):
    """The student's (∂L/∂a, ∂L/∂b) at (a, b, g) against `expected` (default: the reference's); on failure
    the kind of mistake and the engine's diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    got = op.backward(student, g, a, b)
    expected = op.backward(reference, g, a, b) if expected is None else expected
    for what, x, y in zip(("∂L/∂a", "∂L/∂b"), got, expected):
        if compare(x, y).equal:
            continue
        adapted = binary_op(op.name, op.forward, student, with_out=op.with_out)

        def build():
            return (adapted(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)) * Tensor(g)).sum()
        expect_close(x, y, what=what, inputs={"a": a, "b": b, "g": g}, kind=_binary_kind(student, reference, op),
                     diagnosis_of=lambda: explain(build))


# (a's shape, b's shape): a number and a matrix, a column and a row, a row prepended, an empty batch
SHAPE_CASES = (((), (2, 3)), ((2, 1), (1, 3)), ((2, 3), (3,)), ((4, 2, 3), (2, 1)), ((0, 3), (3,)), ((2, 3), (2, 3)))


def _shape_cases(workbook, op: Binary, a_range, b_range):
    for a_shape, b_shape in SHAPE_CASES:
        a, b = _values(a_shape, *a_range), _scatter(_values(b_shape, *b_range))
        _binary(workbook, op, a, b, _values(np.broadcast_shapes(a_shape, b_shape), -1.5, 2.0))


@exercise("2.2")
@CHECK_SETTINGS
@given(abg=binary_inputs())
def test_add_backward_on_random_inputs(workbook, abg):
    """add_backward(g, a, b) equals the engine's for random inputs of broadcastable shapes"""
    _binary(workbook, ADD, *abg)


@exercise("2.2")
def test_add_backward_gives_each_input_its_shape(workbook):
    """add_backward gives a and b gradients of their own shapes: number + matrix, column + row, an empty batch"""
    _shape_cases(workbook, ADD, (-2.0, 2.0), (-1.0, 3.0))


@exercise("2.3")
@CHECK_SETTINGS
@given(abg=binary_inputs())
def test_mul_backward_on_random_inputs(workbook, abg):
    """mul_backward(g, a, b) equals the engine's for random inputs of broadcastable shapes"""
    _binary(workbook, MUL, *abg)


@exercise("2.3")
def test_mul_backward_gives_each_input_its_shape(workbook):
    """mul_backward gives a and b gradients of their own shapes: number · matrix, column · row, an empty batch"""
    _shape_cases(workbook, MUL, (-2.0, 2.0), (-1.0, 3.0))


@exercise("2.3")
def test_mul_backward_at_its_edge_points(workbook):
    """mul_backward is right at 0 and for huge values (1e200 · 1e200 overflows to inf)"""
    a = np.array([0.0, 0.0, 1e200, -1e200, 3.0])
    b = np.array([0.0, 2.0, 1e200, 1e200, -0.0])
    _binary(workbook, MUL, a, b, np.array([1.0, -1.0, 2.0, 1e200, 1.0]))


@exercise("2.4")
@CHECK_SETTINGS
@given(abg=binary_inputs(b_elements=nonzero_floats(0.5, 5.0)))
def test_div_backward_on_random_inputs(workbook, abg):
    """div_backward(g, a, b) equals the engine's for random inputs of broadcastable shapes (|b| ≥ 0.5)"""
    _binary(workbook, DIV, *abg)


@exercise("2.4")
def test_div_backward_gives_each_input_its_shape(workbook):
    """div_backward gives a and b gradients of their own shapes: number / matrix, column / row, an empty batch"""
    _shape_cases(workbook, DIV, (-2.0, 2.0), (0.5, 3.0))


@exercise("2.4")
def test_div_backward_at_its_edge_points(workbook):
    """div_backward is right where b = 0 (±inf, and nan for 0/0), at a = 0, and for huge and tiny b"""
    a = np.array([1.0, -2.0, 0.0, 0.0, 1.0, 3.0])
    b = np.array([0.0, 0.0, 0.0, 2.0, 1e200, 1e-200])
    g = np.array([1.0, 1.0, 1.0, -3.0, 2.0, 0.5])
    # g / b and −g·a/b² by hand: b² underflows to 0 at b = 1e-200, and −g·a/b² to 0 at b = 1e200
    by_hand = (np.array([np.inf, np.inf, np.inf, -1.5, 2e-200, 5e199]),
               np.array([-np.inf, np.inf, np.nan, 0.0, 0.0, -np.inf]))
    _binary(workbook, DIV, a, b, g, expected=by_hand)


@exercise("2.5")
@CHECK_SETTINGS
@given(abg=binary_inputs(a_elements=floats(0.1, 3.0), b_elements=floats(-3.0, 3.0)))
def test_pow_backward_on_random_inputs(workbook, abg):
    """pow_backward(g, a, b, out) equals the engine's for random a > 0 and b, of broadcastable shapes"""
    _binary(workbook, POW, *abg)


@exercise("2.5")
def test_pow_backward_gives_each_input_its_shape(workbook):
    """pow_backward gives a and b gradients of their own shapes: number ** matrix, column ** row, an empty batch"""
    _shape_cases(workbook, POW, (0.5, 2.0), (-2.0, 3.0))


@exercise("2.5")
def test_pow_backward_at_its_edge_points(workbook):
    """pow_backward follows the docstring's rule at a = 0 (b = 0, ½, 1, 2, −1), and is right at a = 1 and a < 0"""
    a = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -2.0, 2.0])
    b = np.array([0.0, 0.5, 1.0, 2.0, -1.0, 2.5, 2.0, 0.0])
    g = np.array([1.0, 2.0, -1.5, 1.0, 1.0, 1.0, 0.5, -2.0])
    # by hand: at a = 0 the rule gives ∂L/∂a = 0 for b = 0 and ∂L/∂b = 0 for b ≥ 0; elsewhere the formulas:
    # 2·½·0^(−½) = inf, −1.5·1·0⁰ = −1.5, 1·(−1)·0⁻² = −inf; ln 1 = 0, ln(−2) = nan, −2·2⁰·ln 2
    by_hand = (np.array([0.0, np.inf, -1.5, 0.0, -np.inf, 2.5, -2.0, 0.0]),
               np.array([0.0, 0.0, 0.0, 0.0, -np.inf, 0.0, np.nan, -2 * np.log(2)]))
    _binary(workbook, POW, a, b, g, expected=by_hand)


# ----- 2.6 - 2.9 the unary ops -----------------------------------------------------------------

def _unary_kind(student, reference, forward, probe_a) -> str:
    """The kind of mistake at the probe; 'chain' if the answer does not scale with g."""
    with _quiet():
        out = forward(probe_a)
        got = student(PROBE_G.copy(), probe_a.copy(), out.copy())
        doubled = student(2 * PROBE_G, probe_a.copy(), out.copy())
    if compare(got, reference(PROBE_G, probe_a, out)).equal:
        return "edge"           # right at the probe: wrong only at the edge points
    if compare(doubled, got).equal:
        return "chain"
    return kind_of(got, reference(PROBE_G, probe_a, out))


def _unary(workbook, name, forward, a, g, probe_a=PROBE_A, what="∂L/∂a", expected=None):
    """The student's unary backward at (a, g) against `expected` (default: the reference's); on failure the
    kind of mistake and the engine's diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    with _quiet():
        out = forward(a)
        got = student(g.copy(), a.copy(), out.copy())
    expected = reference(g, a, out) if expected is None else expected
    if compare(got, expected).equal:
        return
    op = unary_op(name, forward, student)
    expect_close(got, expected, what=what, inputs={"a": a, "g": g},
                 kind=_unary_kind(student, reference, forward, probe_a),
                 diagnosis_of=lambda: explain(lambda: (op(Tensor(a, requires_grad=True)) * Tensor(g)).sum()))


def _keeps_the_shape(workbook, name, forward, low, high, probe_a=PROBE_A):
    for a in (np.linspace(low, high, 6).reshape(2, 3), np.zeros((0, 3))):
        _unary(workbook, name, forward, a, np.linspace(-1.0, 2.0, a.size).reshape(a.shape), probe_a)


@exercise("2.6")
@CHECK_SETTINGS
@given(ag=array_and_cotangent())
def test_exp_backward_on_random_inputs(workbook, ag):
    """exp_backward(g, a, out) equals the engine's on random inputs"""
    _unary(workbook, "exp", np.exp, *ag)


@exercise("2.6")
def test_exp_backward_at_its_edge_points(workbook):
    """exp_backward is right at 0, where eᵃ underflows (a = −1000) and where it overflows to inf (a = 1000)"""
    by_hand = np.array([1.0, 0.0, np.inf, -0.5 * np.exp(700.0)])     # g · eᵃ
    _unary(workbook, "exp", np.exp, np.array([0.0, -1000.0, 1000.0, 700.0]), np.array([1.0, 2.0, 1.0, -0.5]),
           expected=by_hand)


@exercise("2.6")
def test_exp_backward_keeps_the_shape(workbook):
    """exp_backward returns an array shaped like a, for a matrix and for an empty array"""
    _keeps_the_shape(workbook, "exp", np.exp, -1.0, 2.0)


LOG_PROBE_A = np.abs(PROBE_A)


@exercise("2.7")
@CHECK_SETTINGS
@given(ag=array_and_cotangent(low=0.1, high=5.0))
def test_log_backward_on_random_inputs(workbook, ag):
    """log_backward(g, a, out) equals the engine's on random inputs a > 0"""
    _unary(workbook, "log", np.log, *ag, probe_a=LOG_PROBE_A)


@exercise("2.7")
def test_log_backward_at_its_edge_points(workbook):
    """log_backward is right at a = 0 (inf), for tiny and huge a (1e-300, 1e300), and for a < 0"""
    a = np.array([0.0, 1e-300, 1e300, 1.0, -2.0])
    by_hand = np.array([np.inf, 1e290, 3e-300, -1.0, -0.5])           # g / a
    _unary(workbook, "log", np.log, a, np.array([1.0, 1e-10, 3.0, -1.0, 1.0]), probe_a=LOG_PROBE_A,
           expected=by_hand)


@exercise("2.7")
def test_log_backward_keeps_the_shape(workbook):
    """log_backward returns an array shaped like a, for a matrix and for an empty array"""
    _keeps_the_shape(workbook, "log", np.log, 0.5, 3.0, probe_a=LOG_PROBE_A)


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


def relu_forward(x):
    return np.maximum(x, 0)


@exercise("2.9")
@CHECK_SETTINGS
@given(ag=array_and_cotangent())
def test_relu_backward_on_random_inputs(workbook, ag):
    """relu_backward(g, a, out) equals the engine's on random inputs"""
    _unary(workbook, "relu", relu_forward, *ag)


@exercise("2.9")
def test_relu_backward_at_its_edge_points(workbook):
    """relu_backward is 0 at the kink a = 0 (and −0), as the engine's, and right for tiny and huge a"""
    a = np.array([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300])
    by_hand = np.array([0.0, 0.0, -1.0, 0.0, 3.0, 0.0])               # g where a > 0, else 0
    _unary(workbook, "relu", relu_forward, a, np.array([1.0, 2.0, -1.0, 1.0, 3.0, 1.0]), expected=by_hand)


@exercise("2.9")
def test_relu_backward_keeps_the_shape(workbook):
    """relu_backward returns an array shaped like a, for a matrix and for an empty array"""
    _keeps_the_shape(workbook, "relu", relu_forward, -1.0, 2.0)
