"""Realistic wrong answers to the exercises of ex02_ops.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake.
"""
import numpy as np

from tinygrad_edu.course.mutants import mutant


@mutant("2.8", kind="sign", why="tanh² − 1 instead of 1 − tanh²")
def tanh_backward(g, a, out):
    return g * (out * out - 1)


@mutant("2.8", kind="scale", why="the derivative of tanh(2a)/2 mixed up: a factor 2")
def tanh_backward(g, a, out):  # noqa: F811  (each mutant is a separate wrong answer)
    return 2 * g * (1 - out * out)


@mutant("2.8", kind="chain", why="the local derivative alone, without the incoming gradient g")
def tanh_backward(g, a, out):  # noqa: F811
    return 1 - out * out


@mutant("2.8", kind="wrong", why="1 + tanh², the derivative of tan remembered instead")
def tanh_backward(g, a, out):  # noqa: F811
    return g * (1 + out * out)
