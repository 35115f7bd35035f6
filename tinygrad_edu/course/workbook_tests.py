"""The workbook's exercises as the student edition's tests: `python -m pytest` there checks each one.

``edu course build --student`` writes ``tests/test_workbook.py`` (``edition.TEST_FILE``), which takes the
fixture and the test below, so the README's test command means in a student edition what a student
expects: an exercise's test passes when its checks pass (the checks ``edu check`` runs, in one
child process for the whole workbook), fails with ``edu check``'s feedback when one does not, and
is skipped until the exercise is attempted. A fresh edition therefore passes, every exercise skipped.
"""
from __future__ import annotations

import pytest

from . import runner
from .manifest import load

EXERCISES = load()


@pytest.fixture(scope="module")
def workbook_report(request) -> dict:
    """{exercise id: its ExerciseReport}: one run of every check, on the workbook beside tests/."""
    report = runner.run_checks(runner.find_workbook(request.config.rootpath))
    return {er.exercise.id: er for er in report.exercises}


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_exercise(workbook_report, exercise):
    done = workbook_report[exercise.id]
    if done.status == "not_attempted":
        pytest.skip(f"exercise {exercise.id} ({exercise.title}) is not attempted yet")
    if done.status != "passed":
        pytest.fail("\n".join(runner.describe_failure(done)), pytrace=False)
