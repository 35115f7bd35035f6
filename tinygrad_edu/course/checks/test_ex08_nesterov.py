"""Checks of ex08_nesterov.py: Nesterov's momentum, against the formula worked by hand and the engine.

The pattern is exercise 5.1's (test_ex05_sgd.py).
"""
import numpy as np
from hypothesis import given, strategies as st

from tinygrad_edu import optim
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.reference.optimizers import (Mistakes, Run, edge_run, expect_by_hand, expect_same_run,
                                                      random_runs, same_steps, shapes_run, term)

NESTEROV = {"lr": 0.1, "momentum": 0.9}
MISTAKES = Mistakes(optim.Nesterov, NESTEROV, asked="nesterov", when_wrong=(
    ("no-look-ahead", lambda s: same_steps(s, NESTEROV, optim.Momentum)),
    ("lr-outside", lambda s: same_steps(s, NESTEROV, optim.SGD, {**NESTEROV, "nesterov": True})),
    ("missing-gradient", lambda s: same_steps(s, NESTEROV, optim.Momentum, {"lr": 0.1 * 0.9, "momentum": 0.9})),
), forms={"momentum": "no-look-ahead", "sgd": "lr-outside"})
BY_HAND = Run((np.array([1.0]),), ((np.array([0.5]),), (np.array([-0.25]),), (np.array([1.0]),)), (1.0, 1.0, 0.5))


def _by_hand(hyper, run):
    w, v, mu, steps = float(run.start[0][0]), 0.0, hyper["momentum"], []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        new_v = mu * v - lr * g
        new_w = w + mu * new_v - lr * g
        steps.append((new_w, f"v ← μ·v − η·g = {term(mu)}·{term(v)} − {term(lr)}·{term(g)} = {term(new_v)}; "
                             f"w ← w + μ·v − η·g = {term(w)} + {term(mu)}·{term(new_v)} − {term(lr)}·{term(g)}"))
        w, v = new_w, new_v
    return steps


@exercise("8.1")
def test_nesterov_first_steps_by_hand(workbook):
    """Nesterov's first three steps equal v ← μ·v − η·g; w ← w + μ·v − η·g worked by hand (η halves after step 2)"""
    expect_by_hand(workbook.student(), NESTEROV, BY_HAND, _by_hand(NESTEROV, BY_HAND), MISTAKES)


@exercise("8.1")
@CHECK_SETTINGS
@given(run=random_runs(), lr=st.sampled_from((0.1, 0.5, 0.01, 1.0, 0.003)),
       momentum=st.sampled_from((0.9, 0.0, 0.5, 0.99, 0.3)))
def test_nesterov_matches_the_engine_on_random_runs(workbook, run, lr, momentum):
    """Nesterov takes the engine's steps on random gradients, shapes and learning-rate schedules"""
    expect_same_run(workbook.student(), {"lr": lr, "momentum": momentum}, run, MISTAKES)


@exercise("8.1")
def test_nesterov_keeps_a_velocity_per_parameter(workbook):
    """Nesterov keeps one velocity per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), NESTEROV, shapes_run(), MISTAKES)


@exercise("8.1")
def test_nesterov_at_the_edge_points(workbook):
    """Nesterov is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), NESTEROV, edge_run(), MISTAKES)
