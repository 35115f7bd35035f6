"""Realistic wrong answers to the exercises of ex09_adaptive.py (instructor's edition only).

Each mutant keeps the workbook's given part and gets `update` wrong the way a student plausibly
does; the test suite proves the checks fail it with the hint meant for its kind of mistake.
"""
from pathlib import Path

import numpy as np

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.workbook import Workbook

given = Workbook(Path(__file__).resolve().parents[1]).module("ex09_adaptive.py")


# ----- 9.1 RMSprop -------------------------------------------------------------------------------

@mutant("9.1", kind="ema-swapped", why="α and 1 − α swapped: s ← (1 − α)·s + α·g²")
class RMSprop(given.RMSprop):
    def update(self, w, g, state):
        s = self.buffer(state, "square_avg", w)
        s *= 1 - self.alpha
        s += self.alpha * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)


@mutant("9.1", kind="no-sqrt", why="divided by the mean square s itself, not its root √s")
class RMSprop(given.RMSprop):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        s = self.buffer(state, "square_avg", w)
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        w -= self.lr * g / (s + self.eps)


@mutant("9.1", kind="eps", why="ε inside the root: √(s + ε) instead of √s + ε")
class RMSprop(given.RMSprop):  # noqa: F811
    def update(self, w, g, state):
        s = self.buffer(state, "square_avg", w)
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        w -= self.lr * g / np.sqrt(s + self.eps)


# ----- 9.2 Adam ----------------------------------------------------------------------------------

def _moments(opt, w, g, state, beta1, beta2):
    """m and v updated in place, as a right answer does."""
    m = opt.buffer(state, "exp_avg", w)
    v = opt.buffer(state, "exp_avg_sq", w)
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    return m, v


@mutant("9.2", kind="no-bias-correction", why="w ← w − η·m/(√v + ε): m and v used as they are, biased towards 0")
class Adam(given.Adam):
    def update(self, w, g, state):
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        state["step"] = state.get("step", 0) + 1
        m, v = _moments(self, w, g, state, beta1, beta2)
        w -= self.lr * m / (np.sqrt(v) + self.eps)


@mutant("9.2", kind="ema-swapped", why="β1 and 1 − β1 swapped in the average of gradients: m ← (1 − β1)·m + β1·g")
class Adam(given.Adam):  # noqa: F811
    def update(self, w, g, state):
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        t = state["step"] = state.get("step", 0) + 1
        m = self.buffer(state, "exp_avg", w)
        v = self.buffer(state, "exp_avg_sq", w)
        m *= 1 - beta1
        m += beta1 * g
        v *= beta2
        v += (1 - beta2) * g * g
        w -= self.lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + self.eps)


@mutant("9.2", kind="per-parameter", why="t = self.step_count: the optimizer's count of steps, not this parameter's")
class Adam(given.Adam):  # noqa: F811
    def update(self, w, g, state):
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        t = state["step"] = self.step_count
        m, v = _moments(self, w, g, state, beta1, beta2)
        w -= self.lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + self.eps)


# ----- 9.3 AdamW ---------------------------------------------------------------------------------

def _adam_step(opt, w, g, state):
    """Adam's step on g, as a right answer writes it."""
    beta1, beta2 = opt.betas
    t = state["step"] = state.get("step", 0) + 1
    m, v = _moments(opt, w, g, state, beta1, beta2)
    w -= opt.lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + opt.eps)


@mutant("9.3", kind="l2", why="λ·w added to the gradient (Adam's L2 decay), not decoupled")
class AdamW(given.AdamW):
    def update(self, w, g, state):
        _adam_step(self, w, g + self.weight_decay * w, state)


@mutant("9.3", kind="decay-without-lr", why="w ← w·(1 − λ): the decay not scaled by the learning rate")
class AdamW(given.AdamW):  # noqa: F811
    def update(self, w, g, state):
        w *= 1 - self.weight_decay
        _adam_step(self, w, g, state)


@mutant("9.3", kind="no-bias-correction", why="the decay right, Adam's step without its bias correction")
class AdamW(given.AdamW):  # noqa: F811
    def update(self, w, g, state):
        beta1, beta2 = self.betas
        w *= 1 - self.lr * self.weight_decay
        state["step"] = state.get("step", 0) + 1
        m, v = _moments(self, w, g, state, beta1, beta2)
        w -= self.lr * m / (np.sqrt(v) + self.eps)
