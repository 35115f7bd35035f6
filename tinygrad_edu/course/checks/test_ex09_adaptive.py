"""Checks of ex09_adaptive.py: RMSprop, Adam and AdamW, against the formulas worked by hand and the engine.

The pattern is exercise 5.1's (test_ex05_sgd.py). The edge points matter more here: ε shows only
where the gradients are tiny, and a squared gradient of 1e100 is 1e200.
"""
import math

import numpy as np
from hypothesis import given, strategies as st

from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare
from tinygrad_edu.course.reference import optimizers as reference
from tinygrad_edu.course.reference.optimizers import (CONSTANT_LR_PROBE, PROBE, Mistakes, Run, edge_run,
                                                      expect_by_hand, expect_same_run, first_update_ratio, random_runs,
                                                      same_steps, shapes_run, term, updates)

BY_HAND = Run((np.array([1.0]),), ((np.array([0.5]),), (np.array([-0.25]),), (np.array([1.0]),)), (1.0, 1.0, 0.5))
LRS = st.sampled_from((0.01, 0.1, 0.001, 0.5))
DECAYS = st.sampled_from((0.9, 0.0, 0.5, 0.999, 0.99))      # α, β1, β2
EPS = st.sampled_from((1e-8, 1e-3, 1e-12))


# ----- 9.1 RMSprop -------------------------------------------------------------------------------

RMS = {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}


def _scale_sensitive(s) -> bool:
    """Its steps shrink as the gradients grow (a step divided by s, not √s): ×4 gradients, ¼ the steps."""
    return compare(updates(s, RMS, PROBE.scaled(4.0)), updates(s, RMS, PROBE) / 4).equal


def _wrong_for_tiny_gradients(s) -> bool:
    tiny = PROBE.scaled(1e-9)
    return not compare(updates(s, RMS, tiny), updates(reference.RMSprop, RMS, tiny)).equal


RMS_MISTAKES = Mistakes(reference.RMSprop, RMS, asked="rmsprop", when_wrong=(
    ("ema-swapped", lambda s: same_steps(s, RMS, reference.RMSprop, {**RMS, "alpha": 1 - 0.9})),
    ("no-sqrt", _scale_sensitive),
), elsewhere=(
    ("eps", _wrong_for_tiny_gradients, RMS),
), unregistered=("no-sqrt", "eps"))


def _rms_by_hand(hyper, run):
    w, sq, alpha, eps, steps = float(run.start[0][0]), 0.0, hyper["alpha"], hyper["eps"], []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        new_sq = alpha * sq + (1 - alpha) * g * g
        new_w = w - lr * g / (math.sqrt(new_sq) + eps)
        steps.append((new_w, f"s ← α·s + (1 − α)·g² = {term(alpha)}·{term(sq)} + {term(1 - alpha)}·{term(g)}² = "
                             f"{term(new_sq)}; w ← w − η·g/(√s + ε) = {term(w)} − {term(lr)}·{term(g)}/"
                             f"({term(math.sqrt(new_sq))} + {eps:g})"))
        w, sq = new_w, new_sq
    return steps


@exercise("9.1")
def test_rmsprop_first_steps_by_hand(workbook):
    """RMSprop's first three steps equal s ← α·s + (1 − α)·g²; w ← w − η·g/(√s + ε) worked by hand"""
    expect_by_hand(workbook.student(), RMS, BY_HAND, _rms_by_hand(RMS, BY_HAND), RMS_MISTAKES)


@exercise("9.1")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, alpha=DECAYS, eps=EPS)
def test_rmsprop_matches_the_engine_on_random_runs(workbook, run, lr, alpha, eps):
    """RMSprop takes the engine's steps on random gradients, shapes and learning-rate schedules"""
    expect_same_run(workbook.student(), {"lr": lr, "alpha": alpha, "eps": eps}, run, RMS_MISTAKES)


@exercise("9.1")
def test_rmsprop_keeps_an_average_per_parameter(workbook):
    """RMSprop keeps one average of g² per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), RMS, shapes_run(), RMS_MISTAKES)


@exercise("9.1")
def test_rmsprop_at_the_edge_points(workbook):
    """RMSprop is right for zero, tiny (1e-300, where ε shows) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), RMS, edge_run(), RMS_MISTAKES)


# ----- 9.2 Adam ----------------------------------------------------------------------------------

ADAM = {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-8}    # no weight decay: identify fits Adam without it


def _swapped(s) -> bool:
    """β and 1 − β swapped in one average (its bias correction left as it was): on step 1, m̂ = β1/(1 − β1)·g
    instead of g, or v̂ = β2/(1 − β2)·g² instead of g², so the first step is that many times too long."""
    beta1, beta2 = ADAM["betas"]
    return any(first_update_ratio(s, ADAM, reference.Adam, ratio)
               for ratio in (beta1 / (1 - beta1), math.sqrt((1 - beta2) / beta2)))


ADAM_MISTAKES = Mistakes(reference.Adam, ADAM, asked="adam", when_wrong=(
    ("no-bias-correction", lambda s: first_update_ratio(s, ADAM, reference.Adam, (1 - 0.8) / math.sqrt(1 - 0.95))),
    ("ema-swapped", _swapped),
), unregistered=("no-bias-correction", "ema-swapped"))
ADAM_BY_HAND = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1}


def _adam_steps(hyper, run, decoupled):
    """(w, how) after each step of Adam (L2 decay) or AdamW (decoupled decay), worked by hand."""
    (beta1, beta2), eps, decay = hyper["betas"], hyper["eps"], hyper["weight_decay"]
    w, m, v, steps = float(run.start[0][0]), 0.0, 0.0, []
    for t, (grad,) in enumerate(run.grads, start=1):
        lr, grad = hyper["lr"] * run.factor(t), float(grad[0])
        if decoupled:
            shrunk = w * (1 - lr * decay)
            how, g = f"w ← w·(1 − η·λ) = {term(w)}·(1 − {term(lr)}·{term(decay)}) = {term(shrunk)}; ", grad
            w = shrunk
        else:
            g = grad + decay * w
            how = f"g ← ∇L + λ·w = {term(grad)} + {term(decay)}·{term(w)} = {term(g)}; "
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        new_w = w - lr * m_hat / (math.sqrt(v_hat) + eps)
        how += (f"m ← {term(m)}, v ← {term(v)}; m̂ = m/(1 − β1^{t}) = {term(m_hat)}, v̂ = v/(1 − β2^{t}) = "
                f"{term(v_hat)}; w ← w − η·m̂/(√v̂ + ε) = {term(w)} − {term(lr)}·{term(m_hat)}/"
                f"({term(math.sqrt(v_hat))} + {eps:g})")
        steps.append((new_w, how))
        w = new_w
    return steps


@exercise("9.2")
def test_adam_first_steps_by_hand(workbook):
    """Adam's first three steps (λ = 0.1) equal the formula worked by hand, bias correction included"""
    expect_by_hand(workbook.student(), ADAM_BY_HAND, BY_HAND, _adam_steps(ADAM_BY_HAND, BY_HAND, decoupled=False),
                   ADAM_MISTAKES)


@exercise("9.2")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, beta1=DECAYS, beta2=DECAYS, eps=EPS, weight_decay=st.sampled_from((0.0, 0.1, 1.0)))
def test_adam_matches_the_engine_on_random_runs(workbook, run, lr, beta1, beta2, eps, weight_decay):
    """Adam takes the engine's steps on random gradients, shapes, learning-rate schedules and weight decays"""
    hyper = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}
    expect_same_run(workbook.student(), hyper, run, ADAM_MISTAKES)


@exercise("9.2")
def test_adam_keeps_its_state_per_parameter(workbook):
    """Adam keeps m, v and its step count t per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), ADAM_BY_HAND, shapes_run(), ADAM_MISTAKES)


@exercise("9.2")
def test_adam_at_the_edge_points(workbook):
    """Adam is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), ADAM_BY_HAND, edge_run(), ADAM_MISTAKES)


# ----- 9.3 AdamW ---------------------------------------------------------------------------------

ADAMW = {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-8, "weight_decay": 0.5}
ADAMW_MISTAKES = Mistakes(reference.AdamW, ADAMW, asked="adamw", when_wrong=(
    ("l2", lambda s: same_steps(s, ADAMW, reference.Adam)),
    ("decay-without-lr", lambda s: same_steps(s, ADAMW, reference.AdamW, {**ADAMW, "weight_decay": 0.5 / 0.01},
                                              run=CONSTANT_LR_PROBE)),
    ("no-bias-correction", lambda s: first_update_ratio(s, {**ADAMW, "weight_decay": 0.0}, reference.AdamW,
                                                        (1 - 0.8) / math.sqrt(1 - 0.95))),
), forms={"adam": "l2"}, unregistered=("decay-without-lr", "no-bias-correction"))
ADAMW_BY_HAND = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.5}


@exercise("9.3")
def test_adamw_first_steps_by_hand(workbook):
    """AdamW's first three steps (λ = 0.5) equal the decay w ← w·(1 − η·λ) then Adam's step, worked by hand"""
    expect_by_hand(workbook.student(), ADAMW_BY_HAND, BY_HAND, _adam_steps(ADAMW_BY_HAND, BY_HAND, decoupled=True),
                   ADAMW_MISTAKES)


@exercise("9.3")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, beta1=DECAYS, beta2=DECAYS, eps=EPS, weight_decay=st.sampled_from((0.01, 0.0, 1.0)))
def test_adamw_matches_the_engine_on_random_runs(workbook, run, lr, beta1, beta2, eps, weight_decay):
    """AdamW takes the engine's steps on random gradients, shapes, learning-rate schedules and weight decays"""
    hyper = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}
    expect_same_run(workbook.student(), hyper, run, ADAMW_MISTAKES)


@exercise("9.3")
def test_adamw_keeps_its_state_per_parameter(workbook):
    """AdamW keeps m, v and its step count t per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), ADAMW_BY_HAND, shapes_run(), ADAMW_MISTAKES)


@exercise("9.3")
def test_adamw_at_the_edge_points(workbook):
    """AdamW is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), ADAMW_BY_HAND, edge_run(), ADAMW_MISTAKES)
