"""Checks of ex02_reductions.py: sum, mean, max, matmul and cross-entropy backward against the engine's.

As in test_ex02_ops.py, a failure shows the numbers of the (shrunk) failing input, and the kind
of mistake, which picks the hint, is named on fixed probe inputs. A reduction's probes are one
3-D array without ties, reduced over every form of axis (None, an int, a negative int, a tuple;
with and without keepdims), so a mistake only one form shows (g not given its reduced axes back,
a negative axis) is named; max adds probes with tied maxima. matmul's probes are matrices, then
batches of the same shape, then batches that broadcast; cross-entropy's, ordinary logits, then
huge ones.

A shape error NumPy raises inside the student's code (ValueError, IndexError, TypeError) is a
failed check that shows the input and the error; a stub's NotImplementedError is never caught
here, so a stub stays "not attempted". The student's code runs with NumPy's floating-point
warnings off, so an overflow is the same nan under `edu check` and in the test suite.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor
from tinygrad_edu.course.adapters import explain
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import CheckFailed, compare, expect_close, kind_of
from tinygrad_edu.course.reference import reductions as engine
from tinygrad_edu.course.strategies import arrays, floats, shapes
from tinygrad_edu.course.workbook import where_in_workbook

SHAPE_ERRORS = (ValueError, IndexError, TypeError)   # what NumPy raises on mismatched shapes and axes


# ----- calling the student's code ------------------------------------------------------------

def _attempt(fn, *args):
    """(fn(*args), None), or (None, the shape error it raised). Anything else (a stub) propagates."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args), None
    except SHAPE_ERRORS as exc:
        return None, exc


def _raised(what: str, exc: BaseException, folder: Path, *, kind: str, expected, inputs: dict):
    """The failed check for a student's function that raised `exc` on `inputs`."""
    line = where_in_workbook(exc, folder)
    first = str(exc).splitlines()[0] if str(exc) else ""
    raise CheckFailed(f"{what} raised {type(exc).__name__}{': ' + first if first else ''}{line}",
                      kind=kind, expected=expected, inputs=inputs)


def _expect_close(got, expected, *, diagnosis_of, **kwargs):
    """feedback.expect_close, with the engine's diagnosis (made only for the failure that is shown)."""
    expect_close(got, expected, diagnosis_of=diagnosis_of, **kwargs)


def _pattern(shape, seed: int = 0) -> np.ndarray:
    """A probe array of `shape`: distinct values (steps of ¼), in an order fixed by `seed`."""
    size = int(np.prod(shape, dtype=int))
    order = np.random.default_rng(seed).permutation(size)
    return ((order - (size - 1) / 2) / 4).reshape(shape)


def _cotangent(shape) -> np.ndarray:
    """A probe g: no zeros, not all equal, both signs (so sign, scale and g ignored are told apart)."""
    size = int(np.prod(shape, dtype=int))
    return ((0.5 + 0.25 * np.arange(size)) * (-1.0) ** np.arange(size)).reshape(shape)


def _changes_with_g(call, g) -> bool:
    """Whether the answer depends on g at all (the chain rule: it must scale with it)."""
    once, error_once = _attempt(call, g)
    twice, error_twice = _attempt(call, 2 * g)
    return error_once is not None or error_twice is not None or not compare(twice, once).equal


# ----- the reductions: sum, mean, max --------------------------------------------------------

def _all_axes(axis, ndim: int) -> tuple:
    return tuple(range(ndim)) if axis is None else axis


@dataclass(frozen=True)
class Reduction:
    """One reduction: its forward (the engine's), and how its backward is called."""
    name: str                    # the engine's op: "sum", "mean" or "max"
    takes_out: bool = False      # max_backward(g, a, out, axis, keepdims) also gets the forward's result

    def out(self, a, axis, keepdims) -> np.ndarray:
        """The forward, by the engine (the mean of nothing is nan there, without NumPy's warning)."""
        return getattr(Tensor(a), self.name)(axis=axis, keepdims=keepdims).data

    def call(self, backward, g, a, axis, keepdims):
        """backward's answer at (g, a), on copies (a student's in-place change must not change our inputs)."""
        if self.takes_out:
            return backward(g.copy(), a.copy(), self.out(a, axis, keepdims), axis, keepdims)
        return backward(g.copy(), a.copy(), axis, keepdims)


SUM, MEAN, MAX = Reduction("sum"), Reduction("mean"), Reduction("max", takes_out=True)


# The ops below plug a student's backward into the engine, for its diagnosis. Each is a module-level
# function that takes the backward as an argument: diagnose evaluates an op again by calling the
# function that made it with the recorded arguments, and it finds that function by its code, which
# closures made by one factory share (it would call another closure, e.g. sum's for a mean).

def reduction_op(a: Tensor, axis, keepdims, reduction: Reduction, backward) -> Tensor:
    """An engine op: the reduction's forward by the engine, its backward `backward`."""
    return Tensor.from_op(reduction.out(a._data, axis, keepdims), (a,), reduction.name,
                          lambda g: (np.asarray(reduction.call(backward, g, a._data, axis, keepdims)),))


def matmul_op(a: Tensor, b: Tensor, backward) -> Tensor:
    """An engine op: a @ b by NumPy, its backward `backward(g, a, b) -> (ga, gb)`."""
    return Tensor.from_op(np.matmul(a._data, b._data), (a, b), "matmul",
                          lambda g: tuple(np.asarray(v) for v in backward(g, a._data.copy(), b._data.copy())))


def cross_entropy_op(logits: Tensor, targets, backward) -> Tensor:
    """An engine op: the mean cross-entropy (computed stably by NumPy), its backward `backward`."""
    z = logits._data
    shifted = z - z.max(axis=1, keepdims=True)
    losses = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(z)), targets]
    return Tensor.from_op(np.asarray(losses.sum() / len(z) if len(z) else np.nan), (logits,), "cross_entropy",
                          lambda g: (np.asarray(_ce_call(backward, g, z, targets)),))


PROBE = _pattern((2, 3, 4))                  # 24 distinct values: no ties
# (axis, keepdims): every form of axis, each with and without keepdims
AXIS_FORMS = [(None, False), (None, True), (1, False), (1, True), ((0, 2), False), ((0, 2), True),
              (-1, False), (-1, True), ((-3, -1), False), ((-3, -1), True)]
# max's ties: along axis 1, groups of 2 and 3 tied maxima beside unique ones; then a constant array
TIES = np.array([[[1.0, 2.0, 0.0, -1.0], [1.0, 0.0, 3.0, -1.0], [0.0, 2.0, 3.0, -1.0]],
                 [[5.0, 5.0, 5.0, 5.0], [5.0, 4.0, 5.0, 6.0], [0.0, 0.0, 0.0, 0.0]]])
TIE_FORMS = [(TIES, 1, True), (TIES, 1, False), (TIES, (0, 1), False), (np.full((2, 3), 2.0), None, False)]


def _negative(axis) -> bool:
    return any(ax < 0 for ax in ((axis,) if isinstance(axis, int) else axis or ()))


def _mean_count(got, expected, a, g) -> bool:
    """Whether got = expected · n / a.size: divided by every element of a, not by the n averaged ones."""
    n = a.size / g.size
    return compare(got, expected * n / a.size).equal


def _tie_kind(student, reference, a, axis, keepdims) -> str | None:
    """On a probe with tied maxima: 'ties' (each tied maximum got all of g), 'argmax' (one got it), or None."""
    axes = _all_axes(axis, a.ndim)
    g = _cotangent(MAX.out(a, axis, keepdims).shape)
    got, error = _attempt(MAX.call, student, g, a, axis, keepdims)
    expected = MAX.call(reference, g, a, axis, keepdims)
    if error is not None:
        return "error"
    if compare(got, expected).equal:
        return None
    got = np.asarray(got, dtype=float)
    if got.shape != a.shape:
        return kind_of(got, expected)
    winners = a == np.max(a, axis=axes, keepdims=True)
    if compare(got, winners * engine.sum_backward(g, a, axis, keepdims)).equal:
        return "ties"
    one_winner = np.all(np.count_nonzero(got, axis=axes, keepdims=True) == 1) and np.all((got == 0) | winners)
    if one_winner and compare(got.sum(axis=axes, keepdims=keepdims), g).equal:
        return "argmax"
    return kind_of(got, expected)


@functools.lru_cache(maxsize=16)     # the probes do not depend on the failing input: once per answer
def _reduction_kind(reduction: Reduction, student, reference) -> str:
    """The kind of mistake on the probes: keepdims, axis, chain, count, ties, argmax, or compare's kinds."""
    wrong = []
    for axis, keepdims in AXIS_FORMS:
        g = _cotangent(reduction.out(PROBE, axis, keepdims).shape)
        got, error = _attempt(reduction.call, student, g, PROBE, axis, keepdims)
        expected = reduction.call(reference, g, PROBE, axis, keepdims)
        if error is not None or not compare(got, expected).equal:
            wrong.append((axis, keepdims, g, got, error, expected))
    if not wrong:
        for a, axis, keepdims in TIE_FORMS if reduction is MAX else ():
            kind = _tie_kind(student, reference, a, axis, keepdims)
            if kind:
                return kind
        return "wrong"          # right at the probes: wrong only at the edge points
    if all(not keepdims for _, keepdims, *_ in wrong):
        return "keepdims"
    if all(_negative(axis) for axis, *_ in wrong):
        return "axis"
    axis, keepdims, g, got, error, expected = wrong[0]
    if error is not None:
        return "error"
    if not _changes_with_g(lambda g_: reduction.call(student, g_, PROBE, axis, keepdims), g):
        return "chain"
    kind = kind_of(got, expected)
    if reduction is MEAN and kind == "scale" and _mean_count(got, expected, PROBE, g):
        return "count"
    return kind


def _reduction(workbook, reduction: Reduction, a, axis, keepdims, g):
    """The student's reduction backward at (g, a) against the engine's; on failure the kind and the diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    inputs = {"a": a, "axis": axis, "keepdims": keepdims, "g": g}
    if reduction.takes_out:
        inputs["out"] = reduction.out(a, axis, keepdims)
    expected = reduction.call(reference, g, a, axis, keepdims)
    got, error = _attempt(reduction.call, student, g, a, axis, keepdims)
    if error is None and compare(got, expected).equal:
        return
    kind = _reduction_kind(reduction, student, reference)
    what = f"{reduction.name}_backward"
    if error is not None:
        _raised(what, error, workbook.folder, kind=kind, expected=expected, inputs=inputs)
    _expect_close(got, expected, what=f"∂L/∂a of {reduction.name}", inputs=inputs, kind=kind,
                  diagnosis_of=lambda: explain(lambda: (reduction_op(Tensor(a, requires_grad=True), axis, keepdims,
                                                                     reduction, student) * Tensor(g)).sum()))


@st.composite
def reduction_inputs(draw, max_dims: int = 3):
    """(a, axis, keepdims, g): a random array, one form of axis, and a g shaped like the output."""
    shape = draw(shapes(min_dims=0, max_dims=max_dims))
    ndim = len(shape)
    forms = [st.none()]
    if ndim:
        some_axis = st.integers(-ndim, ndim - 1)
        forms += [some_axis, st.lists(some_axis, unique_by=lambda ax: ax % ndim, min_size=1, max_size=ndim).map(tuple)]
    axis = draw(st.one_of(forms))
    keepdims = draw(st.booleans())
    a = draw(arrays(shape))
    g = draw(arrays(np.sum(np.empty(shape), axis=axis, keepdims=keepdims).shape, -3.0, 3.0))
    return a, axis, keepdims, g


def _every_axis_form(workbook, reduction: Reduction):
    for axis, keepdims in AXIS_FORMS:
        _reduction(workbook, reduction, PROBE, axis, keepdims,
                   _cotangent(reduction.out(PROBE, axis, keepdims).shape))


# the edge points of sum and mean: empty arrays, a 0-d array, huge gradients
EMPTY_FORMS = [(np.zeros((0, 3)), 0, False), (np.zeros((0, 3)), 1, True), (np.zeros((0, 3)), None, False),
               (np.zeros((3, 0)), 0, True), (np.zeros((2, 0, 3)), (0, 2), False)]
HUGE = np.array([[1e300, -1e300, 1e300]])


def _sum_or_mean_edges(workbook, reduction: Reduction):
    for a, axis, keepdims in EMPTY_FORMS:
        _reduction(workbook, reduction, a, axis, keepdims, np.ones(reduction.out(a, axis, keepdims).shape))
    _reduction(workbook, reduction, np.array(2.5), None, False, np.array(-1e300))
    _reduction(workbook, reduction, np.ones((2, 3)), 0, False, HUGE[0])
    _reduction(workbook, reduction, np.ones((2, 3)), 1, True, np.array([[1e300], [-1e300]]))


@exercise("2.10")
@CHECK_SETTINGS
@given(inputs=reduction_inputs())
def test_sum_backward_on_random_inputs(workbook, inputs):
    """sum_backward(g, a, axis, keepdims) equals the engine's on random inputs"""
    _reduction(workbook, SUM, *inputs)


@exercise("2.10")
def test_sum_backward_for_every_form_of_axis(workbook):
    """sum_backward handles axis None, an int, a negative int and a tuple, with and without keepdims"""
    _every_axis_form(workbook, SUM)


@exercise("2.10")
def test_sum_backward_at_its_edge_points(workbook):
    """sum_backward is right for empty arrays, a 0-d array and huge gradients (±1e300)"""
    _sum_or_mean_edges(workbook, SUM)


@exercise("2.11")
@CHECK_SETTINGS
@given(inputs=reduction_inputs())
def test_mean_backward_on_random_inputs(workbook, inputs):
    """mean_backward(g, a, axis, keepdims) equals the engine's on random inputs"""
    _reduction(workbook, MEAN, *inputs)


@exercise("2.11")
def test_mean_backward_for_every_form_of_axis(workbook):
    """mean_backward handles axis None, an int, a negative int and a tuple, with and without keepdims"""
    _every_axis_form(workbook, MEAN)


@exercise("2.11")
def test_mean_backward_at_its_edge_points(workbook):
    """mean_backward is right for empty arrays (the mean of nothing has an empty gradient), a 0-d array, huge g"""
    _sum_or_mean_edges(workbook, MEAN)


@exercise("2.12")
@CHECK_SETTINGS
@given(inputs=reduction_inputs())
def test_max_backward_on_random_inputs(workbook, inputs):
    """max_backward(g, a, out, axis, keepdims) equals the engine's on random inputs"""
    _reduction(workbook, MAX, *inputs)


@exercise("2.12")
def test_max_backward_for_every_form_of_axis(workbook):
    """max_backward handles axis None, an int, a negative int and a tuple, with and without keepdims"""
    _every_axis_form(workbook, MAX)


@exercise("2.12")
def test_max_backward_shares_g_between_tied_maxima(workbook):
    """max_backward gives each of k tied maxima g/k (pairs, triples, a constant array)"""
    for a, axis, keepdims in TIE_FORMS:
        _reduction(workbook, MAX, a, axis, keepdims, _cotangent(MAX.out(a, axis, keepdims).shape))


@exercise("2.12")
def test_max_backward_at_its_edge_points(workbook):
    """max_backward is right at ±1e300 and −inf, for a 0-d array and for an empty batch of rows"""
    extreme = np.array([[1e300, -1e300, 1e300], [-np.inf, -np.inf, -1e300], [-np.inf, -np.inf, -np.inf]])
    _reduction(workbook, MAX, extreme, 1, False, np.array([1.0, -2.0, 3.0]))
    _reduction(workbook, MAX, extreme, None, True, np.array([[2.0]]))
    _reduction(workbook, MAX, np.array(-3.0), None, False, np.array(1.5))
    _reduction(workbook, MAX, np.zeros((0, 3)), 1, False, np.zeros(0))


# ----- matmul ------------------------------------------------------------------------------

# (a's shape, b's shape): matrices; batches of one shape; batches that broadcast (a lacks one, b has a 1)
MATMUL_PROBES = [((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)), ((3, 2, 3), (2, 1, 3, 4))]


def _two_gradients(got) -> bool:
    return isinstance(got, (tuple, list)) and len(got) == 2


@functools.lru_cache(maxsize=16)
def _matmul_kind(student, reference) -> str:
    """The kind of mistake on the probes: compare's kind on matrices, 'batched' if only batches are wrong,
    'unbroadcast' if only broadcast batches are."""
    for i, (a_shape, b_shape) in enumerate(MATMUL_PROBES):
        a, b = _pattern(a_shape, 1), _pattern(b_shape, 2)
        g = _cotangent(np.matmul(a, b).shape)
        got, error = _attempt(student, g.copy(), a.copy(), b.copy())
        expected = reference(g, a, b)
        if error is None and _two_gradients(got) and all(compare(x, y).equal for x, y in zip(got, expected)):
            continue
        if i == 1:
            return "batched"
        if i == 2:
            return "unbroadcast" if error is not None or not _two_gradients(got) else \
                next(k for k in (kind_of(x, y) for x, y in zip(got, expected)) if k)
        if error is not None:
            return "error"
        if not _two_gradients(got):
            return "shape"
        if not _changes_with_g(lambda g_: student(g_, a.copy(), b.copy())[0], g):
            return "chain"
        return next(k for k in (kind_of(x, y) for x, y in zip(got, expected)) if k)
    return "wrong"


def _matmul(workbook, a, b, g):
    """The student's matmul backward at (g, a, b) against the engine's; on failure the kind and the diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    inputs = {"a": a, "b": b, "g": g}
    expected = reference(g, a, b)
    got, error = _attempt(student, g.copy(), a.copy(), b.copy())
    if error is None and _two_gradients(got) and all(compare(x, y).equal for x, y in zip(got, expected)):
        return
    kind = _matmul_kind(student, reference)
    if error is not None:
        _raised("matmul_backward", error, workbook.folder, kind=kind, expected=expected, inputs=inputs)
    if not _two_gradients(got):
        raise CheckFailed(f"matmul_backward must return two gradients (∂L/∂a, ∂L/∂b); it returned "
                          f"{type(got).__name__}", kind=kind, inputs=inputs)

    def build():
        return (matmul_op(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True), student) * Tensor(g)).sum()
    for name, x, y in (("a", got[0], expected[0]), ("b", got[1], expected[1])):
        _expect_close(x, y, what=f"∂L/∂{name} of a @ b", inputs=inputs, kind=kind,
                      diagnosis_of=lambda: explain(build))


@st.composite
def matmul_inputs(draw, batched: bool):
    """(a, b, g): matrices (n×k)·(k×m), or batches of them whose batch dimensions broadcast."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    a_batch, b_batch = (), ()
    if batched:
        (a_batch, b_batch), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                                        min_side=1, max_side=3))
    a = draw(arrays(a_batch + (n, k)))
    b = draw(arrays(b_batch + (k, m)))
    g = draw(arrays(np.matmul(a, b).shape, -3.0, 3.0))
    return a, b, g


@exercise("2.13")
@CHECK_SETTINGS
@given(inputs=matmul_inputs(batched=False))
def test_matmul_backward_on_random_matrices(workbook, inputs):
    """matmul_backward(g, a, b) equals the engine's for random matrices"""
    _matmul(workbook, *inputs)


@exercise("2.13")
@CHECK_SETTINGS
@given(inputs=matmul_inputs(batched=True))
def test_matmul_backward_on_random_batches(workbook, inputs):
    """matmul_backward equals the engine's for batches of matrices whose batch dimensions broadcast"""
    _matmul(workbook, *inputs)


@exercise("2.13")
def test_matmul_backward_at_its_edge_points(workbook):
    """matmul_backward is right with an inner, outer or batch dimension 0, for 1×1 matrices and huge values"""
    for a_shape, b_shape in [((2, 0), (0, 3)), ((0, 3), (3, 2)), ((0, 2, 3), (3, 4)), ((1, 1), (1, 1))]:
        a, b = np.ones(a_shape), np.full(b_shape, -2.0)
        _matmul(workbook, a, b, _cotangent(np.matmul(a, b).shape))
    _matmul(workbook, np.array([[1e150, -1e150]]), np.array([[1e150], [2.0]]), np.array([[1e-150]]))


# ----- cross-entropy -------------------------------------------------------------------------

CE_LOGITS = _pattern((3, 4), 3)
CE_TARGETS = np.array([0, 2, 3])
CE_HUGE = np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 1e3], [1e3, 1e3, 1e3], [-1e3, -1e3, -1e3], [1e300, -1e300, 0.0]])
CE_HUGE_TARGETS = np.array([0, 1, 2, 1, 2])


def _ce_call(backward, g, logits, targets):
    return backward(np.array(g, dtype=float), logits.copy(), targets.copy())


@functools.lru_cache(maxsize=16)
def _ce_kind(student, reference) -> str:
    """The kind of mistake on ordinary logits (chain, sign, scale...), else on huge ones (nan)."""
    g = np.array(0.5)
    got, error = _attempt(_ce_call, student, g, CE_LOGITS, CE_TARGETS)
    expected = _ce_call(reference, g, CE_LOGITS, CE_TARGETS)
    if error is not None:
        return "error"
    if not compare(got, expected).equal:
        if not _changes_with_g(lambda g_: _ce_call(student, g_, CE_LOGITS, CE_TARGETS), g):
            return "chain"
        return kind_of(got, expected)
    got, error = _attempt(_ce_call, student, g, CE_HUGE, CE_HUGE_TARGETS)
    if error is not None:
        return "error"
    return kind_of(got, _ce_call(reference, g, CE_HUGE, CE_HUGE_TARGETS)) or "wrong"


def _cross_entropy(workbook, logits, targets, g):
    """The student's cross-entropy backward against the engine's; on failure the kind and the diagnosis."""
    student, reference = workbook.student(), workbook.reference()
    inputs = {"logits": logits, "targets": targets, "g": g}
    expected = _ce_call(reference, g, logits, targets)
    got, error = _attempt(_ce_call, student, g, logits, targets)
    if error is None and compare(got, expected).equal:
        return
    kind = _ce_kind(student, reference)
    if error is not None:
        _raised("cross_entropy_backward", error, workbook.folder, kind=kind, expected=expected, inputs=inputs)
    _expect_close(got, expected, what="∂L/∂logits", inputs=inputs, kind=kind,
                  diagnosis_of=lambda: explain(lambda: cross_entropy_op(Tensor(logits, requires_grad=True), targets,
                                                                        student) * Tensor(g)))


@st.composite
def cross_entropy_inputs(draw):
    """(logits, targets, g): a batch of N rows of C logits, a class per row, a scalar g."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    logits = draw(arrays((n, c), -10.0, 10.0))
    targets = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.intp)
    return logits, targets, np.array(draw(floats(-3.0, 3.0)))


@exercise("2.14")
@CHECK_SETTINGS
@given(inputs=cross_entropy_inputs())
def test_cross_entropy_backward_on_random_inputs(workbook, inputs):
    """cross_entropy_backward(g, logits, targets) equals the engine's on random batches"""
    _cross_entropy(workbook, *inputs)


@exercise("2.14")
def test_cross_entropy_backward_is_stable_at_huge_logits(workbook):
    """cross_entropy_backward stays finite and right at huge logits (±1e3, ±1e300)"""
    _cross_entropy(workbook, CE_HUGE, CE_HUGE_TARGETS, np.array(1.0))


@exercise("2.14")
def test_cross_entropy_backward_at_its_edge_points(workbook):
    """cross_entropy_backward is right for one class, tied logits, one row and an empty batch"""
    _cross_entropy(workbook, np.array([[3.0], [-1.0]]), np.array([0, 0]), np.array(1.0))
    _cross_entropy(workbook, np.zeros((2, 3)), np.array([1, 1]), np.array(2.0))
    _cross_entropy(workbook, np.array([[0.5, -0.5, 2.0]]), np.array([2]), np.array(-1.0))
    _cross_entropy(workbook, np.zeros((0, 3)), np.zeros(0, dtype=np.intp), np.array(1.0))
