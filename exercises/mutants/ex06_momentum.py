"""Realistic wrong answers to the exercises of ex06_momentum.py (instructor's edition only).

Each mutant keeps the exercise's given part (hyperparameters, constructor) and gets `update` wrong
the way a student plausibly does; the test suite proves the checks fail it with the hint meant
for its kind of mistake.
"""
from pathlib import Path

import numpy as np

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.workbook import Workbook

# The workbook's own classes: a mutant keeps their given part and writes its own update.
given = Workbook(Path(__file__).resolve().parents[1]).module("ex06_momentum.py")


# ----- 6.1 Momentum ------------------------------------------------------------------------------

@mutant("6.1", kind="lr-outside", why="PyTorch's form b ← μ·b + g; w ← w − η·b, where the lr inside was asked")
class Momentum(given.Momentum):
    def update(self, w, g, state):
        b = self.buffer(state, "momentum_buffer", w)
        b *= self.momentum
        b += g
        w -= self.lr * b


@mutant("6.1", kind="lr-outside", why="exercise 6.3's average v ← μ·v + (1 − μ)·g, then w ← w − η·v: η outside again")
class Momentum(given.Momentum):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        v = self.buffer(state, "momentum_buffer", w)
        v *= self.momentum
        v += (1 - self.momentum) * g
        w -= self.lr * v


@mutant("6.1", kind="no-memory", why="m = μ·m + η·g rebinds a new array: the velocity in state stays 0")
class Momentum(given.Momentum):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        m = self.buffer(state, "momentum_buffer", w)
        m = self.momentum * m + self.lr * g
        w -= m


@mutant("6.1", kind="per-parameter", why="one velocity on self, shared by every parameter")
class Momentum(given.Momentum):  # noqa: F811
    def update(self, w, g, state):
        if not hasattr(self, "velocity"):
            self.velocity = np.zeros_like(w)
        self.velocity = self.momentum * self.velocity + self.lr * g
        w -= self.velocity


@mutant("6.1", kind="sign", why="w += m: momentum uphill")
class Momentum(given.Momentum):  # noqa: F811
    def update(self, w, g, state):
        m = self.buffer(state, "momentum_buffer", w)
        m *= self.momentum
        m += self.lr * g
        w += m


# ----- 6.2 TorchMomentum -------------------------------------------------------------------------

@mutant("6.2", kind="lr-inside", why="exercise 6.1's form m ← μ·m + η·g, where PyTorch's lr outside was asked")
class TorchMomentum(given.TorchMomentum):
    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum == 0:
            w -= self.lr * g
            return
        m = state.get("momentum_buffer")
        if m is None:
            m = state["momentum_buffer"] = self.lr * g
        else:
            m *= self.momentum
            m += (1 - self.dampening) * self.lr * g
        w -= self.lr * g + self.momentum * m if self.nesterov else m


@mutant("6.2", kind="first-step", why="the first step dampened too: b ← (1 − τ)·g instead of b ← g")
class TorchMomentum(given.TorchMomentum):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum != 0:
            b = self.buffer(state, "momentum_buffer", w)
            b *= self.momentum
            b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g


@mutant("6.2", kind="nesterov", why="Nesterov's step along μ·b alone, without the gradient g")
class TorchMomentum(given.TorchMomentum):  # noqa: F811
    def update(self, w, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * w
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = self.momentum * b if self.nesterov else b
        w -= self.lr * g


@mutant("6.2", kind="weight-decay", why="the decay λ·w added after the momentum buffer, not to the gradient")
class TorchMomentum(given.TorchMomentum):  # noqa: F811
    def update(self, w, g, state):
        if self.momentum != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * (g + self.weight_decay * w)


# ----- 6.3 EMAMomentum ---------------------------------------------------------------------------

@mutant("6.3", kind="ema-swapped", why="β and 1 − β swapped: v ← (1 − β)·v + β·g")
class EMAMomentum(given.EMAMomentum):
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= 1 - self.beta
        v += self.beta * g
        w -= self.lr * v


@mutant("6.3", kind="not-averaged", why="v ← β·v + g: a sum of gradients, not their average")
class EMAMomentum(given.EMAMomentum):  # noqa: F811
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= self.beta
        v += g
        w -= self.lr * v


@mutant("6.3", kind="sign", why="w += α·v: the average of gradients followed uphill")
class EMAMomentum(given.EMAMomentum):  # noqa: F811
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= self.beta
        v += (1 - self.beta) * g
        w += self.lr * v


# ----- 6.4 HeavyBall -----------------------------------------------------------------------------

@mutant("6.4", kind="explicit-euler", why="the ball moved with the old velocity (explicit Euler), then v updated")
class HeavyBall(given.HeavyBall):
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        w += self.dt * v
        v += (self.dt / self.mass) * (-g - self.friction * v)


@mutant("6.4", kind="friction", why="friction pushes along the velocity: + friction·v instead of − friction·v")
class HeavyBall(given.HeavyBall):  # noqa: F811
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v += (self.dt / self.mass) * (-g + self.friction * v)
        w += self.dt * v


@mutant("6.4", kind="mass", why="the force taken as the acceleration: not divided by the mass")
class HeavyBall(given.HeavyBall):  # noqa: F811
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v += self.dt * (-g - self.friction * v)
        w += self.dt * v


@mutant("6.4", kind="sign", why="the force +∇L: the ball rolls uphill")
class HeavyBall(given.HeavyBall):  # noqa: F811
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v += (self.dt / self.mass) * (g - self.friction * v)
        w += self.dt * v
