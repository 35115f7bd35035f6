"""Mutants: realistic wrong answers that prove each exercise's checks (instructor's edition only).

    @mutant("2.8", kind="sign", why="1 + tanh² instead of 1 − tanh²")
    def tanh_backward(g, a, out):
        return g * (1 + out * out)

The test suite puts each mutant in the workbook in place of the solution and requires that the
exercise fails, with the hint the manifest gives for `kind`. A mutant is the object the student
writes (a function or a class), under the exercise's name. ``collect(folder)`` reads them all.
While a mutant is checked, the other exercises' names in its own file are bound to their
references too (as in the workbook), so a mutant of 1.2 calls the reference central_difference.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mutant:
    exercise: str       # "2.8"
    kind: str           # the kind of mistake: its hint must be the one shown
    why: str            # the mistake, in a few words
    obj: object         # the wrong function or class
    source: str         # "ex02_ops.py:12"


_registry: list[Mutant] = []


def mutant(exercise: str, *, kind: str, why: str):
    """Register the decorated function or class as a wrong answer to `exercise`."""
    def register(obj):
        code = getattr(obj, "__code__", None) or getattr(getattr(obj, "update", None), "__code__", None)
        where = f"{Path(code.co_filename).name}:{code.co_firstlineno}" if code else getattr(obj, "__name__", "?")
        _registry.append(Mutant(exercise, kind, why, obj, where))
        return obj
    return register


def collect(folder) -> list[Mutant]:
    """Every mutant in the .py files of `folder` (the workbook's mutants/), in file and line order."""
    found = []
    for path in sorted(Path(folder).glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_mutants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        start = len(_registry)
        spec.loader.exec_module(module)
        found.extend(_registry[start:])
        del _registry[start:]
    return found
