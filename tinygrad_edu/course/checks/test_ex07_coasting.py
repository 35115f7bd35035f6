"""Checks of ex07_coasting.py: momentum whose learning rate is removed, and the distance it coasts.

7.1 follows exercise 5.1's pattern (test_ex05_sgd.py); its runs pass gradients after the
removal too (which must not move the weights) and none at all (which must not stop them).
7.2's prediction is compared with what the engine's MomentumWithoutLR actually does.
"""
import math
import warnings

import numpy as np
from hypothesis import given, strategies as st

from tinygrad_edu import Tensor, optim
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare, expect_close, kind_of
from tinygrad_edu.course.reference.optimizers import (PROBE, Mistakes, Run, coast_distance, edge_run, expect_by_hand,
                                                      expect_same_run, random_runs, same_steps, shapes_run, term,
                                                      updates)
from tinygrad_edu.course.strategies import arrays, shapes



# ----- 7.1 MomentumWithoutLR ---------------------------------------------------------------------

COAST = {"lr": 0.1, "momentum": 0.8, "warmup_steps": 3}


def _stops_after_the_removal(s) -> bool:
    """Right while driven, then never moves again."""
    got, expected = updates(s, COAST, PROBE), updates(optim.MomentumWithoutLR, COAST, PROBE)
    k = COAST["warmup_steps"]
    return compare(got[:k], expected[:k]).equal and not np.any(got[k:])


COAST_MISTAKES = Mistakes(optim.MomentumWithoutLR, COAST, asked="momentum-no-lr", when_wrong=(
    ("still-driven", lambda s: same_steps(s, COAST, optim.Momentum, {"lr": 0.1, "momentum": 0.8})),
    ("off-by-one", lambda s: any(same_steps(s, COAST, optim.MomentumWithoutLR, {**COAST, "warmup_steps": k})
                                 for k in (2, 4))),
    ("stops", _stops_after_the_removal),
), forms={"momentum": "still-driven", "sgd": "still-driven"}, unregistered=("stops",))
COAST_BY_HAND = {"lr": 0.1, "momentum": 0.5, "warmup_steps": 2}
COAST_RUN = Run((np.array([1.0]),), tuple((np.array([g]),) for g in (0.5, -0.25, 1.0, 2.0)), (1.0, 0.5, 0.5, 0.5))


def _coast_by_hand(hyper, run):
    w, m, mu, k, steps = float(run.start[0][0]), 0.0, hyper["momentum"], hyper["warmup_steps"], []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        if t <= k:
            new_m = mu * m + lr * g
            how = f"m ← μ·m + η·g = {term(mu)}·{term(m)} + {term(lr)}·{term(g)} = {term(new_m)}"
        else:
            new_m = mu * m
            how = f"no learning rate after step {k}, so the gradient {term(g)} is ignored: m ← μ·m = " \
                  f"{term(mu)}·{term(m)} = {term(new_m)}"
        steps.append((w - new_m, how + f"; w ← w − m = {term(w)} − {term(new_m)}"))
        w, m = w - new_m, new_m
    return steps


@exercise("7.1")
def test_coasting_first_steps_by_hand(workbook):
    """MomentumWithoutLR's four steps (k = 2) equal the formula worked by hand, the gradient ignored after step 2"""
    expect_by_hand(workbook.student(), COAST_BY_HAND, COAST_RUN, _coast_by_hand(COAST_BY_HAND, COAST_RUN),
                   COAST_MISTAKES)


@exercise("7.1")
@CHECK_SETTINGS
@given(run=random_runs(), lr=st.sampled_from((0.1, 0.5, 0.01, 1.0)),
       momentum=st.sampled_from((0.9, 0.0, 0.5, 1.0, 0.99, 1.05)), warmup_steps=st.sampled_from((1, 0, 2, 3, 5)))
def test_coasting_matches_the_engine_on_random_runs(workbook, run, lr, momentum, warmup_steps):
    """MomentumWithoutLR takes the engine's steps on random runs, with k from 0 to 5 and μ from 0 to 1.05"""
    hyper = {"lr": lr, "momentum": momentum, "warmup_steps": warmup_steps}
    expect_same_run(workbook.student(), hyper, run, COAST_MISTAKES)


@exercise("7.1")
def test_coasting_without_gradients(workbook):
    """MomentumWithoutLR coasts every parameter that moved, also one whose gradient is None (k = 1)"""
    expect_same_run(workbook.student(), {**COAST, "warmup_steps": 1}, shapes_run(), COAST_MISTAKES)


@exercise("7.1")
def test_coasting_at_the_edge_points(workbook):
    """MomentumWithoutLR is right for zero, tiny (1e-300) and huge (1e100) gradients, and for k = 0"""
    for k in (2, 0):
        expect_same_run(workbook.student(), {**COAST, "warmup_steps": k}, edge_run(), COAST_MISTAKES)


# ----- 7.2 coast_distance ------------------------------------------------------------------------

def _engine_coast(start, grads, lr, momentum, n):
    """Run the engine's MomentumWithoutLR: len(grads) driven steps, then n without gradients.

    Returns (Δw, the last driven step; w_{k+n} − w_k, the distance it coasted).
    """
    w = Tensor(np.array(start, dtype=float), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # momentum >= 1 drifts or runs away: asked for here
        opt = optim.MomentumWithoutLR([w], lr=lr, momentum=momentum, warmup_steps=len(grads))
    before = w.data.copy()
    for g in grads:
        before = w.data.copy()
        w.grad = np.array(g, dtype=float)
        opt.step()
    last, removal = w.data - before, w.data.copy()
    w.grad = None
    for _ in range(n):
        opt.step()
    return last, w.data - removal


def _predict(student, last, momentum, n):
    """The student's prediction, with NumPy's warnings off (an intermediate ∞ or 0/0 np.where drops is no mistake)."""
    with np.errstate(all="ignore"):
        return student(last.copy(), momentum, n)


_PROBES = ((0.5, 3), (0.9, 10), (0.99, 1), (1.0, 5), (1.2, 4), (0.0, 2))
_LAST = np.array([1.0, -2.0, 0.5])


def _coast_kind(student) -> str:
    """The kind of mistake, from the student's answers at fixed (μ, n) against the closed forms students confuse."""
    finite = [(mu, n, np.asarray(_predict(student, _LAST, mu, n), dtype=float)) for mu, n in _PROBES]
    if all(compare(got, coast_distance(_LAST, mu, n)).equal for mu, n, got in finite):
        return "limit"                      # right for every finite n: wrong only as n → ∞

    def like(formula):
        return all(compare(got, _LAST * formula(mu, n)).equal for mu, n, got in finite)
    if like(lambda mu, n: mu ** n):
        return "step-not-distance"
    if like(lambda mu, n: n + 1 if mu == 1 else (1 - mu ** (n + 1)) / (1 - mu)) or \
            like(lambda mu, n: n - 1 if mu == 1 else mu * (1 - mu ** (n - 1)) / (1 - mu)):
        return "off-by-one"
    mu, n, got = finite[0]
    return kind_of(got, coast_distance(_LAST, mu, n))


def _expect_coast(student, last, momentum, n, expected, what):
    got = _predict(student, last, momentum, n)
    if not compare(got, expected, rtol=1e-7, atol=1e-12).equal:
        expect_close(got, expected, what=what, rtol=1e-7, atol=1e-12, kind=_coast_kind(student),
                     inputs={"last_update": last, "momentum": momentum, "n": n})


@exercise("7.2")
@CHECK_SETTINGS
@given(shape=shapes(min_dims=1, max_dims=2, max_side=3), data=st.data(),
       momentum=st.sampled_from((0.9, 0.5, 0.0, 1.0, 0.99, 1.1)), k=st.integers(1, 3), n=st.integers(0, 40))
def test_coast_distance_matches_the_engine(workbook, shape, data, momentum, k, n):
    """coast_distance(Δw, μ, n) is how far the engine's MomentumWithoutLR coasts in n steps"""
    start = data.draw(arrays(shape), label="start")
    grads = [data.draw(arrays(shape), label=f"gradient {t}") for t in range(1, k + 1)]
    last, moved = _engine_coast(start, grads, 0.1, momentum, n)
    _expect_coast(workbook.student(), last, momentum, n, moved,
                  f"the distance coasted in {n} steps (the engine's run, lr = 0.1, k = {k})")


@exercise("7.2")
def test_coast_distance_as_n_goes_to_infinity(workbook):
    """coast_distance(Δw, μ, math.inf) is where a long run stops for μ < 1, and ±∞ (0 where Δw = 0) for μ ≥ 1"""
    step = np.array([0.5, -2.0, 0.0])
    for momentum in (0.0, 0.5, 0.9, 0.99):
        last, moved = _engine_coast([1.0, 1.0, 1.0], [-step / 0.1], 0.1, momentum, 3000)   # 0.99³⁰⁰⁰ < 1e-13
        _expect_coast(workbook.student(), last, momentum, math.inf, moved,
                      f"the distance coasted as n → ∞ at μ = {momentum:g} (the engine's run of 3000 steps)")
    for momentum in (1.0, 1.5):
        _expect_coast(workbook.student(), step, momentum, math.inf, coast_distance(step, momentum, math.inf),
                      f"the distance coasted as n → ∞ at μ = {momentum:g} (the weights never stop)")


@exercise("7.2")
def test_coast_distance_at_the_edge_points(workbook):
    """coast_distance is right for n = 0, μ = 0 and μ = 1, keeps a matrix's shape, and takes an empty Δw"""
    matrix = np.array([[1.0, -0.5, 0.0], [2.0, 0.25, -4.0]])
    for last, momentum, n in ((matrix, 0.9, 0), (matrix, 0.0, 5), (matrix, 1.0, 7), (np.zeros((0, 3)), 0.9, 4),
                              (np.zeros(0), 1.5, math.inf)):
        _expect_coast(workbook.student(), last, momentum, n, coast_distance(last, momentum, n),
                      f"coast_distance(Δw of shape {last.shape}, μ = {momentum:g}, n = {n})")
