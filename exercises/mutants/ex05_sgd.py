"""Realistic wrong answers to exercise 5.1 (instructor's edition only).

Each mutant keeps the exercise's given part (the workbook's class: hyperparameters, constructor)
and gets `update` wrong the way a student plausibly does; the test suite proves that the checks
fail it and show the hint meant for its kind of mistake.
"""
from pathlib import Path

from tinygrad_edu.course.mutants import mutant
from tinygrad_edu.course.workbook import Workbook

given = Workbook(Path(__file__).resolve().parents[1]).module("ex05_sgd.py")


@mutant("5.1", kind="sign", why="w += η·g: a step uphill")
class SGD(given.SGD):
    def update(self, w, g, state):
        w += self.lr * g


@mutant("5.1", kind="not-in-place", why="w = w − η·g makes a new array; the parameter never moves")
class SGD(given.SGD):  # noqa: F811  (each mutant is a separate wrong answer)
    def update(self, w, g, state):
        w = w - self.lr * g  # noqa: F841


@mutant("5.1", kind="no-lr", why="w −= g: the learning rate left out")
class SGD(given.SGD):  # noqa: F811
    def update(self, w, g, state):
        w -= g
