"""Writing checks, and turning what happened in one into a result the student can read.

A check is a test function in ``tinygrad_edu/course/checks/``, tagged with its exercise:

    @exercise("2.8")
    @CHECK_SETTINGS
    @given(a=small_arrays())
    def test_matches_central_differences(workbook, a):
        '''tanh_backward(g, a, out) matches the reference on random inputs'''
        tanh_backward = workbook.student()
        ...
        expect_close(got, expected, what="∂L/∂a", inputs={"a": a, "g": g})

Its docstring's first line is the check's name in the feedback. The checks live in the package,
not in the workbook: a student who edits or deletes a check file changes nothing.

``classify`` turns the outcome of one check into a ``Result``; pytest (``edu check``) and the
test suite's direct runs (``run_exercise``) both use it, so they cannot disagree.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import pkgutil
import signal
import threading
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from . import checks as _checks_package
from .feedback import CheckFailed
from .results import CHECKS_FOLDER, Result
from .manifest import Exercise
from .workbook import Workbook, WorkbookImportError, not_attempted, stub_message, stub_of, where_in_workbook


# Few examples (a check must be quick), always the same ones (same feedback on every run), no
# .hypothesis folder in the student's workbook, and the smallest failing input reported. Without the
# "explain" phase: it re-runs a failing check under a tracer to list the lines it ran, which the
# feedback never shows, at a cost of seconds per failing exercise.
CHECK_SETTINGS = settings(max_examples=30, derandomize=True, database=None, deadline=None,
                          report_multiple_bugs=False, print_blob=False,
                          suppress_health_check=list(HealthCheck),
                          phases=[phase for phase in Phase if phase is not Phase.explain])


def _draw_no_local_constants() -> None:
    """Make hypothesis ignore the literal constants of the modules it finds loaded.

    Hypothesis (6.1xx) now and then draws a number written in a "local" module (one outside
    site-packages): the student's workbook, and tinygrad_edu itself in an editable install. Then a
    student who writes ``eps = 1e-3`` anywhere, or a teacher who installs the package another way,
    gets other inputs from the same checks. Its pool of local constants is a private function;
    where a hypothesis has none, there is nothing to turn off (tests/test_course_checking.py
    notices if the inputs start to depend on them again).
    """
    from hypothesis.internal.conjecture import providers
    if callable(getattr(providers, "_get_local_constants", None)) and hasattr(providers, "Constants"):
        none = providers.Constants()
        providers._get_local_constants = lambda: none
        with contextlib.suppress(AttributeError):
            providers.CONSTANTS_CACHE.cache.clear()      # the constants it may already have picked


_draw_no_local_constants()


class CheckTimeout(BaseException):
    """A check ran longer than its time limit (an endless loop, or a very slow answer).

    A BaseException, so that hypothesis does not take it for a failing example and run the
    endless loop again to shrink it."""


def exercise(exercise_id: str):
    """Tag a check with its exercise: the pytest marker ex2_8, and the id for direct runs."""
    marker = getattr(pytest.mark, "ex" + exercise_id.replace(".", "_"))

    def tag(fn):
        fn.__exercise__ = exercise_id
        return marker(fn)
    return tag


def check_name(fn) -> str:
    doc = (getattr(fn, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else fn.__name__.removeprefix("test_").replace("_", " ")


def classify(exercise: Exercise, check: str, exc: BaseException | None, folder: Path | None = None,
             timeout: float | None = None) -> Result:
    """The Result of one check of `exercise` that raised `exc` (None: it passed)."""
    result = Result(exercise.id, check, "passed")
    if exc is None:
        return result
    result.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-4000:]
    if isinstance(exc, CheckFailed):
        result.status = "failed"
        for key, value in exc.details().items():
            setattr(result, key, value)
        result.hint = exercise.hint_for(exc.kind)
    elif not_attempted(exc, exercise.id):
        result.status, result.message = "not_attempted", "not attempted yet (the stub raises NotImplementedError)"
        result.traceback = ""
    elif stub_of(exc) is not None:
        result.status = "error"
        result.message = (f"this check reached exercise {stub_of(exc)}'s stub: the checks should have used its "
                          f"reference; please tell your teacher")
    elif isinstance(exc, WorkbookImportError):
        result.status, result.message = "import_error", f"does not import: {exc}"
        result.hint = "Fix this line first: Python must be able to import the file before anything in it is checked."
    elif isinstance(exc, CheckTimeout):
        result.status, result.kind = "timeout", "timeout"
        result.message = f"still running after {timeout:g} s: an endless loop, or far too much work?"
        result.hint = exercise.hint_for("timeout")
    else:
        result.status, result.kind = "failed", "error"
        first = str(exc).splitlines()[0] if str(exc) else ""
        result.message = f"your code raised {type(exc).__name__}{': ' + first if first else ''}" \
                         f"{where_in_workbook(exc, folder)}"
        result.hint = exercise.hint_for("error")
    return result


# ----- hidden checks: the same checks on inputs drawn for one student -----------------------------

HIDDEN_EXAMPLES = 5       # inputs each hidden check draws: enough to catch an answer fitted to the visible ones


def draws_inputs(fn) -> bool:
    """Whether a check draws its inputs with hypothesis (@given): only those can be re-run on other inputs."""
    return bool(getattr(fn, "is_hypothesis_test", False))


def hidden_check_seed(student_seed: int, exercise_id: str, check) -> int:
    """The hypothesis seed of one check of one exercise for one student.

    `student_seed` is HMAC-SHA256(course secret, student id) (``edu grade`` makes it; the checks never
    see the secret); each (exercise, check) gets its own seed from it by SHA-256, so one student's
    inputs differ from check to check and from another student's.
    """
    name = check if isinstance(check, str) else check.__name__
    digest = hashlib.sha256(f"{student_seed}/{exercise_id}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


# ----- running checks without pytest (the test suite's mutant and stub proofs) -------------------

def check_functions(exercise_id: str) -> list:
    """The check functions of one exercise, in file order."""
    found = []
    for info in sorted(pkgutil.iter_modules([str(CHECKS_FOLDER)]), key=lambda m: m.name):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{_checks_package.__name__}.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("test_") and getattr(fn, "__exercise__", None) == exercise_id:
                found.append(fn)
    return found


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise CheckTimeout in the running check after `seconds` (POSIX main thread; elsewhere no limit)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def stop(signum, frame):
        raise CheckTimeout(f"still running after {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)   # and again every 0.1 s, should code swallow one
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_exercise(workbook: Workbook, exercise_id: str, timeout: float | None = 20.0) -> list[Result]:
    """Run one exercise's checks on `workbook` in this process and classify each outcome."""
    exercise = workbook.exercises[exercise_id]
    results = []
    for fn in check_functions(exercise_id):
        try:
            if workbook.is_stub(exercise_id):
                raise NotImplementedError(stub_message(exercise))
            with time_limit(timeout), workbook.checking(exercise_id):
                fn(workbook=workbook)
            exc = None
        except (Exception, SystemExit, CheckTimeout) as caught:    # what a student's code raises is the result
            exc = caught
        results.append(classify(exercise, check_name(fn), exc, workbook.folder, timeout))
    return results
