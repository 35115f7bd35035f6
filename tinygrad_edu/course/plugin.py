"""The pytest plugin under `edu check`: the workbook fixture, one marker per exercise, results.json.

    python -m pytest -p tinygrad_edu.course.plugin -c .../checks/pytest.ini .../checks \
        --workbook exercises --results results.json -m "ex2_8 or ex2_9"

With ``--hidden-seed N`` (``edu grade``) the run is the hidden one: only the checks that draw their
inputs are collected, each seeded with ``checking.hidden_check_seed(N, exercise, check)``
(hypothesis's ``seed`` wins over the ``derandomize`` of CHECK_SETTINGS) and drawing
``checking.HIDDEN_EXAMPLES`` inputs, so they run on inputs of that student's own; a failure is not
shrunk (its input is never shown).

For every check it records one ``checking.Result`` (passed, failed with its numbers and hint,
not attempted, does not import, timed out) and writes them all to --results when the session
ends. ``edu check`` (runner.py) starts it in a subprocess and reads that file.
"""
from __future__ import annotations

import json
from pathlib import Path

import hypothesis
import pytest
from hypothesis import Phase

from ..io import atomic_write_text
from .checking import HIDDEN_EXAMPLES, classify, check_name, draws_inputs, hidden_check_seed, time_limit
from .manifest import load
from .workbook import Workbook, stub_message

_RESULTS = pytest.StashKey[list]()
_WORKBOOK = pytest.StashKey[Workbook]()


def pytest_addoption(parser):
    group = parser.getgroup("edu", "tinygrad_edu exercises")
    group.addoption("--workbook", default="exercises", help="the workbook folder to check")
    group.addoption("--results", default=None, help="write every check's result to this JSON file")
    group.addoption("--check-timeout", type=float, default=20.0, help="seconds one check may run")
    group.addoption("--hidden-seed", type=int, default=None,
                    help="run the hidden checks: the checks that draw inputs, seeded per check from this number")


def pytest_configure(config):
    exercises = load()
    for ex in exercises:
        config.addinivalue_line("markers", f"{ex.marker}: exercise {ex.id}, {ex.title}")
    config.stash[_RESULTS] = []
    config.stash[_WORKBOOK] = Workbook(config.getoption("--workbook"), exercises)


def _exercise_of(item):
    workbook = item.config.stash[_WORKBOOK]
    ids = [getattr(item.obj, "__exercise__", None)]
    return workbook.exercises.get(ids[0]) if ids[0] else None


def pytest_collection_modifyitems(config, items):
    """With --hidden-seed: keep the checks that draw inputs, and seed each one for this student."""
    student_seed = config.getoption("--hidden-seed")
    if student_seed is None:
        return
    kept, dropped = [], []
    for item in items:
        exercise = _exercise_of(item)
        if exercise is not None and draws_inputs(item.obj):
            hypothesis.seed(hidden_check_seed(student_seed, exercise.id, item.obj))(item.obj)
            # where @settings keeps a test's settings (hypothesis has no public way to change them once applied);
            # no shrinking: a hidden failure's input is never shown, so a smaller one would be wasted work
            current = item.obj._hypothesis_internal_use_settings
            item.obj._hypothesis_internal_use_settings = hypothesis.settings(
                current, max_examples=HIDDEN_EXAMPLES, phases=[p for p in current.phases if p is not Phase.shrink])
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def workbook(request):
    """The workbook, with this check's exercise the student's and every other exercise its reference."""
    wb = request.config.stash[_WORKBOOK]
    exercise = _exercise_of(request.node)
    if wb.is_stub(exercise.id):
        raise NotImplementedError(stub_message(exercise))    # "not attempted", without running the check
    with wb.checking(exercise.id):
        yield wb


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with time_limit(item.config.getoption("--check-timeout")):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    exercise = _exercise_of(item)
    if exercise is None or not (call.when == "call" or (call.when == "setup" and report.failed)):
        return
    exc = call.excinfo.value if call.excinfo is not None else None
    result = classify(exercise, check_name(item.obj), exc, item.config.stash[_WORKBOOK].folder,
                      item.config.getoption("--check-timeout"))
    item.config.stash[_RESULTS].append(result.to_dict())


def pytest_sessionfinish(session):
    path = session.config.getoption("--results")
    if path:
        collected = {}
        for item in session.items:
            exercise = _exercise_of(item)
            if exercise is not None:
                collected[exercise.id] = collected.get(exercise.id, 0) + 1
        payload = {"version": 1, "workbook": str(session.config.stash[_WORKBOOK].folder),
                   "collected": collected, "results": session.config.stash[_RESULTS],
                   "hidden": session.config.getoption("--hidden-seed") is not None}
        atomic_write_text(Path(path), json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
