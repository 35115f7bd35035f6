"""Checks of ex05_sgd.py: plain gradient descent, against the formula worked by hand and the engine.

Every optimizer check follows one pattern (reference/optimizers.py): the first steps of a
one-weight run against the formula worked by hand, random runs against the engine step by step
(hypothesis: gradients, shapes, several parameters, a learning-rate schedule), parameters of
different shapes, and gradients at the edge points. The kind of mistake, which picks the hint,
is named on fixed probe runs (``Mistakes``), not on the failing input.
"""
import numpy as np
from hypothesis import given, strategies as st

from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare
from tinygrad_edu.course.reference.optimizers import (PROBE, Mistakes, PlainSGD, Run, edge_run, expect_by_hand,
                                                      expect_same_run, random_runs, shapes_run, term, updates)

HYPER = {"lr": 0.1}
BY_HAND = Run((np.array([1.0]),), ((np.array([0.5]),), (np.array([-0.25]),), (np.array([1.0]),)), (1.0, 1.0, 0.5))


def _ignores_the_learning_rate(student) -> bool:
    """Its updates are −g whatever η is."""
    return compare(updates(student, HYPER, PROBE), -np.array([step[0] for step in PROBE.grads])).equal


MISTAKES = Mistakes(PlainSGD, HYPER, asked="sgd", when_wrong=(("no-lr", _ignores_the_learning_rate),),
                    unregistered=("no-lr",))


def _by_hand(hyper, run):
    """(w, how) after each step of a one-weight run: w ← w − η·g."""
    w, steps = float(run.start[0][0]), []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        new = w - lr * g
        steps.append((new, f"w ← w − η·g = {term(w)} − {term(lr)}·{term(g)} = {term(new)}"))
        w = new
    return steps


@exercise("5.1")
def test_sgd_first_steps_by_hand(workbook):
    """SGD's first three steps equal w ← w − η·g worked by hand (η halves after step 2)"""
    expect_by_hand(workbook.student(), HYPER, BY_HAND, _by_hand(HYPER, BY_HAND), MISTAKES)


@exercise("5.1")
@CHECK_SETTINGS
@given(run=random_runs(), lr=st.sampled_from((0.1, 0.5, 0.01, 1.0, 0.003)))
def test_sgd_matches_the_engine_on_random_runs(workbook, run, lr):
    """SGD takes the engine's steps on random gradients, shapes and learning-rate schedules"""
    expect_same_run(workbook.student(), {"lr": lr}, run, MISTAKES)


@exercise("5.1")
def test_sgd_moves_each_parameter_by_its_own_gradient(workbook):
    """SGD moves each parameter (shapes (2, 3), (4,), (0,)) by its own gradient, and not one without a gradient"""
    expect_same_run(workbook.student(), HYPER, shapes_run(), MISTAKES)


@exercise("5.1")
def test_sgd_at_the_edge_points(workbook):
    """SGD is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), HYPER, edge_run(), MISTAKES)
