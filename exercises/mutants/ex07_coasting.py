"""Realistic wrong answers to the exercises of ex07_coasting.py (instructor's edition only).

The mutants of 7.1 keep the workbook's given part (hyperparameters, constructor, step) and get
`update` wrong; those of 7.2 are wrong closed forms. The test suite proves the checks fail each
with the hint meant for its kind of mistake.
"""
import math
from pathlib import Path

import numpy as np

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.workbook import Workbook

given = Workbook(Path(__file__).resolve().parents[1]).module("ex07_coasting.py")


# ----- 7.1 MomentumWithoutLR ---------------------------------------------------------------------

@mutant("7.1", kind="still-driven", why="the gradient still enters after the removal: plain momentum")
class MomentumWithoutLR(given.MomentumWithoutLR):
    def update(self, w, g, state):
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        m += self.lr * g
        w -= m


@mutant("7.1", kind="off-by-one", why="step_count < warmup_steps: the learning rate removed one step early")
class MomentumWithoutLR(given.MomentumWithoutLR):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        if self.step_count < self.warmup_steps:
            m += self.lr * g
        w -= m


@mutant("7.1", kind="stops", why="nothing moves once the learning rate is gone, as if the velocity went with it")
class MomentumWithoutLR(given.MomentumWithoutLR):  # noqa: F811
    def update(self, w, g, state):
        if self.step_count > self.warmup_steps:
            return
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        m += self.lr * g
        w -= m


# ----- 7.2 coast_distance ------------------------------------------------------------------------

@mutant("7.2", kind="off-by-one", why="the sum 1 + μ + … + μⁿ: the last driven step counted again")
def coast_distance(last_update, momentum, n):
    last_update = np.asarray(last_update, dtype=float)
    if math.isinf(n):
        if momentum >= 1:
            return np.where(last_update == 0, 0.0, np.copysign(math.inf, last_update))
        return last_update / (1 - momentum)
    if momentum == 1:
        return last_update * (n + 1)
    return last_update * ((1 - momentum ** (n + 1)) / (1 - momentum))


@mutant("7.2", kind="step-not-distance", why="μⁿ·Δw: the n-th step after the removal, not the distance covered")
def coast_distance(last_update, momentum, n):  # noqa: F811
    last_update = np.asarray(last_update, dtype=float)
    if math.isinf(n):
        return last_update * (0.0 if momentum < 1 else 1.0 if momentum == 1 else math.inf)
    return last_update * momentum ** n


@mutant("7.2", kind="error", why="the closed form used at μ = 1 too: 0/0")
def coast_distance(last_update, momentum, n):  # noqa: F811
    last_update = np.asarray(last_update, dtype=float)
    if math.isinf(n):
        return last_update * (momentum / (1 - momentum))
    return last_update * (momentum * (1 - momentum ** n) / (1 - momentum))


@mutant("7.2", kind="limit", why="μ/(1 − μ) as the limit for every μ: negative for μ > 1, where the weights run away")
def coast_distance(last_update, momentum, n):  # noqa: F811
    last_update = np.asarray(last_update, dtype=float)
    if math.isinf(n):
        return last_update * (momentum / (1 - momentum)) if momentum != 1 else last_update * math.inf
    if momentum == 1:
        return last_update * n
    return last_update * (momentum * (1 - momentum ** n) / (1 - momentum))
