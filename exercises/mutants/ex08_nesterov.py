"""Realistic wrong answers to exercise 8.1 (instructor's edition only).

Each mutant keeps the workbook's given part and gets `update` wrong the way a student plausibly
does; the test suite proves the checks fail it with the hint meant for its kind of mistake.
"""
from pathlib import Path

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.workbook import Workbook

given = Workbook(Path(__file__).resolve().parents[1]).module("ex08_nesterov.py")


@mutant("8.1", kind="no-look-ahead", why="w ← w + v: classical momentum, the look-ahead left out")
class Nesterov(given.Nesterov):
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= self.momentum
        v -= self.lr * g
        w += v


@mutant("8.1", kind="missing-gradient", why="w ← w + μ·v: the −η·g of the look-ahead step left out (v has it already)")
class Nesterov(given.Nesterov):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        v = self.buffer(state, "velocity", w)
        v *= self.momentum
        v -= self.lr * g
        w += self.momentum * v


@mutant("8.1", kind="lr-outside", why="PyTorch's nesterov=True: b ← μ·b + g; w ← w − η·(g + μ·b), the lr outside")
class Nesterov(given.Nesterov):  # noqa: F811
    def update(self, w, g, state):
        b = self.buffer(state, "velocity", w)
        b *= self.momentum
        b += g
        w -= self.lr * (g + self.momentum * b)
