"""Checks of ex06_momentum.py: the four forms of momentum, against the formula worked by hand and the engine.

The pattern is exercise 5.1's (test_ex05_sgd.py). The runs change the learning rate mid-run: at
a constant learning rate the first three forms are one algorithm, and only a change tells a
velocity with η inside from one with η outside.
"""
import numpy as np
from hypothesis import given, strategies as st

from tinygrad_edu import optim
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import compare
from tinygrad_edu.course.reference.optimizers import (CONSTANT_LR_PROBE, Mistakes, PlainSGD, Run, edge_run,
                                                      expect_by_hand, expect_same_run, random_runs, same_steps,
                                                      shapes_run, term, updates)

BY_HAND = Run((np.array([1.0]),), ((np.array([0.5]),), (np.array([-0.25]),), (np.array([1.0]),)), (1.0, 1.0, 0.5))
# Hyperparameters from a few values each: a failing run shrinks quickly, to values a student reads at a glance.
LRS = st.sampled_from((0.1, 0.5, 0.01, 1.0, 0.003))
MEMORY = st.sampled_from((0.9, 0.0, 0.5, 0.99, 0.3))        # μ or β


# ----- 6.1 Momentum ------------------------------------------------------------------------------

MOMENTUM = {"lr": 0.1, "momentum": 0.9}
MOMENTUM_MISTAKES = Mistakes(optim.Momentum, MOMENTUM, asked="momentum", when_wrong=(
    ("lr-outside", lambda s: same_steps(s, MOMENTUM, optim.SGD)),
    ("no-memory", lambda s: same_steps(s, MOMENTUM, PlainSGD, {"lr": MOMENTUM["lr"]})),
), forms={"sgd": "lr-outside", "ema-momentum": "lr-outside"})


def _momentum_by_hand(hyper, run):
    w, m, mu, steps = float(run.start[0][0]), 0.0, hyper["momentum"], []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        new_m = mu * m + lr * g
        steps.append((w - new_m, f"m ← μ·m + η·g = {term(mu)}·{term(m)} + {term(lr)}·{term(g)} = {term(new_m)}; "
                                 f"w ← w − m = {term(w)} − {term(new_m)}"))
        w, m = w - new_m, new_m
    return steps


@exercise("6.1")
def test_momentum_first_steps_by_hand(workbook):
    """Momentum's first three steps equal m ← μ·m + η·g; w ← w − m worked by hand (η halves after step 2)"""
    expect_by_hand(workbook.student(), MOMENTUM, BY_HAND, _momentum_by_hand(MOMENTUM, BY_HAND), MOMENTUM_MISTAKES)


@exercise("6.1")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, momentum=MEMORY)
def test_momentum_matches_the_engine_on_random_runs(workbook, run, lr, momentum):
    """Momentum takes the engine's steps on random gradients, shapes and learning-rate schedules"""
    expect_same_run(workbook.student(), {"lr": lr, "momentum": momentum}, run, MOMENTUM_MISTAKES)


@exercise("6.1")
def test_momentum_keeps_a_velocity_per_parameter(workbook):
    """Momentum keeps one velocity per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), MOMENTUM, shapes_run(), MOMENTUM_MISTAKES)


@exercise("6.1")
def test_momentum_at_the_edge_points(workbook):
    """Momentum is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), MOMENTUM, edge_run(), MOMENTUM_MISTAKES)


# ----- 6.2 TorchMomentum -------------------------------------------------------------------------

TORCH = {"lr": 0.1, "momentum": 0.9}
DAMPENED = {**TORCH, "dampening": 0.5}
NESTEROV = {**TORCH, "nesterov": True}
DECAYED = {**TORCH, "weight_decay": 0.3}
NO_MOMENTUM = {"lr": 0.1, "momentum": 0.0, "dampening": 0.5}


def _differs(hyper):
    return lambda s: not same_steps(s, hyper, optim.SGD)


def _first_step_differs(s) -> bool:
    got, expected = updates(s, DAMPENED, CONSTANT_LR_PROBE), updates(optim.SGD, DAMPENED, CONSTANT_LR_PROBE)
    return not compare(got[0], expected[0]).equal


TORCH_MISTAKES = Mistakes(optim.SGD, TORCH, asked="sgd", when_wrong=(
    ("lr-inside", lambda s: same_steps(s, TORCH, optim.Momentum)),
), forms={"momentum": "lr-inside"}, elsewhere=(
    ("first-step", lambda s: _differs(DAMPENED)(s) and _first_step_differs(s), DAMPENED),
    ("dampening", _differs(DAMPENED), DAMPENED),
    ("nesterov", _differs(NESTEROV), NESTEROV),
    ("weight-decay", _differs(DECAYED), TORCH),
    ("no-momentum", _differs(NO_MOMENTUM), NO_MOMENTUM),
))
TORCH_BY_HAND = {"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.2}


def _torch_by_hand(hyper, run):
    w, b, steps = float(run.start[0][0]), None, []
    mu, tau, decay = hyper["momentum"], hyper["dampening"], hyper["weight_decay"]
    for t, (grad,) in enumerate(run.grads, start=1):
        lr, grad = hyper["lr"] * run.factor(t), float(grad[0])
        g = grad + decay * w
        how = f"g ← ∇L + λ·w = {term(grad)} + {term(decay)}·{term(w)} = {term(g)}; "
        if b is None:
            b = g
            how += f"b ← g = {term(b)} (first step); "
        else:
            new_b = mu * b + (1 - tau) * g
            how += f"b ← μ·b + (1 − τ)·g = {term(mu)}·{term(b)} + {term(1 - tau)}·{term(g)} = {term(new_b)}; "
            b = new_b
        w_new = w - lr * b
        steps.append((w_new, how + f"w ← w − η·b = {term(w)} − {term(lr)}·{term(b)}"))
        w = w_new
    return steps


@exercise("6.2")
def test_torch_momentum_first_steps_by_hand(workbook):
    """TorchMomentum's first three steps (μ = 0.9, τ = 0.5, λ = 0.2) equal torch.optim.SGD's lines worked by hand"""
    expect_by_hand(workbook.student(), TORCH_BY_HAND, BY_HAND, _torch_by_hand(TORCH_BY_HAND, BY_HAND), TORCH_MISTAKES)


@exercise("6.2")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, momentum=MEMORY, dampening=st.sampled_from((0.0, 0.5, 1.0, 0.1)),
       weight_decay=st.sampled_from((0.0, 0.1, 1.0)), nesterov=st.booleans())
def test_torch_momentum_matches_the_engine_on_random_runs(workbook, run, lr, momentum, dampening, weight_decay,
                                                          nesterov):
    """TorchMomentum takes the engine's steps on random runs, with and without dampening, weight decay and Nesterov"""
    nesterov = nesterov and momentum > 0           # Nesterov needs momentum > 0 and no dampening
    hyper = {"lr": lr, "momentum": momentum, "dampening": 0.0 if nesterov else dampening,
             "weight_decay": weight_decay, "nesterov": nesterov}
    expect_same_run(workbook.student(), hyper, run, TORCH_MISTAKES)


@exercise("6.2")
def test_torch_momentum_keeps_a_buffer_per_parameter(workbook):
    """TorchMomentum keeps one buffer per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), TORCH_BY_HAND, shapes_run(), TORCH_MISTAKES)


@exercise("6.2")
def test_torch_momentum_at_the_edge_points(workbook):
    """TorchMomentum (Nesterov, weight decay) is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), {**NESTEROV, "weight_decay": 0.1}, edge_run(), TORCH_MISTAKES)


# ----- 6.3 EMAMomentum ---------------------------------------------------------------------------

EMA = {"lr": 0.5, "beta": 0.8}
EMA_MISTAKES = Mistakes(optim.EMAMomentum, EMA, asked="ema-momentum", when_wrong=(
    ("ema-swapped", lambda s: same_steps(s, EMA, optim.EMAMomentum, {"lr": 0.5, "beta": 1 - 0.8})),
    ("not-averaged", lambda s: same_steps(s, EMA, optim.EMAMomentum, {"lr": 0.5 / (1 - 0.8), "beta": 0.8})),
))
EMA_BY_HAND = {"lr": 0.5, "beta": 0.9}


def _ema_by_hand(hyper, run):
    w, v, beta, steps = float(run.start[0][0]), 0.0, hyper["beta"], []
    for t, (g,) in enumerate(run.grads, start=1):
        lr, g = hyper["lr"] * run.factor(t), float(g[0])
        new_v = beta * v + (1 - beta) * g
        steps.append((w - lr * new_v, f"v ← β·v + (1 − β)·g = {term(beta)}·{term(v)} + {term(1 - beta)}·{term(g)} = "
                                      f"{term(new_v)}; w ← w − α·v = {term(w)} − {term(lr)}·{term(new_v)}"))
        w, v = w - lr * new_v, new_v
    return steps


@exercise("6.3")
def test_ema_momentum_first_steps_by_hand(workbook):
    """EMAMomentum's first three steps equal v ← β·v + (1 − β)·g; w ← w − α·v worked by hand (α halves after step 2)"""
    expect_by_hand(workbook.student(), EMA_BY_HAND, BY_HAND, _ema_by_hand(EMA_BY_HAND, BY_HAND), EMA_MISTAKES)


@exercise("6.3")
@CHECK_SETTINGS
@given(run=random_runs(), lr=LRS, beta=MEMORY)
def test_ema_momentum_matches_the_engine_on_random_runs(workbook, run, lr, beta):
    """EMAMomentum takes the engine's steps on random gradients, shapes and learning-rate schedules"""
    expect_same_run(workbook.student(), {"lr": lr, "beta": beta}, run, EMA_MISTAKES)


@exercise("6.3")
def test_ema_momentum_keeps_an_average_per_parameter(workbook):
    """EMAMomentum keeps one average per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), EMA, shapes_run(), EMA_MISTAKES)


@exercise("6.3")
def test_ema_momentum_at_the_edge_points(workbook):
    """EMAMomentum is right for zero, tiny (1e-300) and huge (1e100) gradients"""
    expect_same_run(workbook.student(), EMA, edge_run(), EMA_MISTAKES)


# ----- 6.4 HeavyBall -----------------------------------------------------------------------------

BALL = {"mass": 2.0, "friction": 1.5, "dt": 0.3}


def _moves_with_the_old_velocity(s) -> bool:
    """Explicit Euler: the ball moves by dt times the velocity of the step before (so not at all on step 1)."""
    got, expected = updates(s, BALL, CONSTANT_LR_PROBE), updates(optim.HeavyBall, BALL, CONSTANT_LR_PROBE)
    return not np.any(got[0]) and compare(got[1:], expected[:-1]).equal


BALL_MISTAKES = Mistakes(optim.HeavyBall, BALL, asked="heavy-ball", when_wrong=(
    ("explicit-euler", _moves_with_the_old_velocity),
    ("mass", lambda s: same_steps(s, BALL, optim.HeavyBall, {**BALL, "mass": 1.0})),
    ("friction", lambda s: same_steps(s, {**BALL, "friction": 0.0}, optim.HeavyBall)),
), unregistered=("explicit-euler", "friction"))


def _ball_by_hand(hyper, run):
    x, v, steps = float(run.start[0][0]), 0.0, []
    mass, friction = hyper["mass"], hyper["friction"]
    for t, (g,) in enumerate(run.grads, start=1):
        dt, g = hyper["dt"] * run.factor(t), float(g[0])
        new_v = v + (dt / mass) * (-g - friction * v)
        steps.append((x + dt * new_v, f"v ← v + (dt/mass)·(−g − friction·v) = {term(v)} + ({term(dt)}/{term(mass)})·"
                                      f"(−{term(g)} − {term(friction)}·{term(v)}) = {term(new_v)}; "
                                      f"w ← w + dt·v = {term(x)} + {term(dt)}·{term(new_v)}"))
        x, v = x + dt * new_v, new_v
    return steps


@exercise("6.4")
def test_heavy_ball_first_steps_by_hand(workbook):
    """HeavyBall's first three steps equal symplectic Euler worked by hand (dt halves after step 2)"""
    expect_by_hand(workbook.student(), BALL, BY_HAND, _ball_by_hand(BALL, BY_HAND), BALL_MISTAKES)


@exercise("6.4")
@CHECK_SETTINGS
@given(run=random_runs(), mass=st.sampled_from((1.0, 2.0, 0.5, 10.0)), friction=st.sampled_from((1.0, 0.0, 0.3, 4.0)),
       dt=st.sampled_from((0.1, 0.5, 0.01, 1.0)))
def test_heavy_ball_matches_the_engine_on_random_runs(workbook, run, mass, friction, dt):
    """HeavyBall takes the engine's steps on random gradients, shapes, constants and time-step schedules"""
    hyper = {"mass": mass, "friction": min(friction, mass / dt), "dt": dt}   # dt·friction/mass <= 1
    expect_same_run(workbook.student(), hyper, run, BALL_MISTAKES)


@exercise("6.4")
def test_heavy_ball_keeps_a_velocity_per_parameter(workbook):
    """HeavyBall keeps one velocity per parameter (shapes (2, 3), (4,), (0,); one skipped at step 2)"""
    expect_same_run(workbook.student(), BALL, shapes_run(), BALL_MISTAKES)


@exercise("6.4")
def test_heavy_ball_at_the_edge_points(workbook):
    """HeavyBall is right for zero, tiny (1e-300) and huge (1e100) gradients, and without friction"""
    for hyper in (BALL, {**BALL, "friction": 0.0}):
        expect_same_run(workbook.student(), hyper, edge_run(), BALL_MISTAKES)
