"""`edu check` underneath: run the checks with pytest in a subprocess and say where the student stands.

    report = run_checks("exercises", ["2.8"])     # pytest -m ex2_8, in a child process
    print(render(report))                         # the table, the first failed check in numbers, what next
    report.ok                                     # every asked exercise passes

The checks run in a child process, so a student's endless loop, crash or ``sys.exit`` ends that
process, not the command; each check has a time limit, and the child as a whole one more. The
child writes every check's result to a JSON file (plugin.py); this module reads it, sums each
exercise up and writes the feedback. Before that it compares what pytest collected with the
manifest: a missing check is an error, never a silent pass.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .results import CHECKS_FOLDER, Result
from .manifest import Exercise, load

CHECK_TIMEOUT = 20.0     # seconds one check may run
SYMBOLS = {"passed": "✓", "failed": "✗", "not_attempted": "·"}
ASCII_SYMBOLS = {"passed": "ok", "failed": "XX", "not_attempted": "--"}
_DETAILS_SHOWN = 3       # failed exercises described in full; the rest are listed


class CheckSetupError(Exception):
    """The checks cannot run as asked (no workbook, an unknown exercise, a mismatch with the manifest)."""


@dataclass
class ExerciseReport:
    exercise: Exercise
    status: str                       # passed, failed, not_attempted, import_error, timeout, crashed
    results: list = field(default_factory=list)

    @property
    def first_failure(self) -> Result | None:
        return next((r for r in self.results if r.status not in ("passed", "not_attempted")), None)

    @property
    def symbol_status(self) -> str:
        return self.status if self.status in ("passed", "not_attempted") else "failed"


@dataclass
class Report:
    workbook: Path
    exercises: list                   # ExerciseReport, in manifest order
    milestone: str = ""

    @property
    def ok(self) -> bool:
        return all(e.status == "passed" for e in self.exercises)

    @property
    def next(self) -> ExerciseReport | None:
        """The first exercise, in order, that does not pass yet."""
        return next((e for e in self.exercises if e.status != "passed"), None)


def find_workbook(start: Path | None = None, exercises: list[Exercise] | None = None) -> Path:
    """The workbook folder: the current folder if it holds workbook files, else its exercises/ folder."""
    start = Path.cwd() if start is None else Path(start)
    files = {e.file for e in (exercises or load())}
    for folder in (start, start / "exercises"):
        if folder.is_dir() and any((folder / f).is_file() for f in files):
            return folder.resolve()
    raise CheckSetupError(f"no workbook in {start}: run edu check inside the exercises folder, "
                          f"or pass --workbook DIR")


def select(asked: list[str], exercises: list[Exercise]) -> list[Exercise]:
    """The exercises asked for, by id ("2.8") or by chapter ("2"), in manifest order; all when none is asked."""
    if not asked:
        return list(exercises)
    chosen = set()
    for word in asked:
        matches = [e for e in exercises if e.id == word or (word.isdigit() and e.id.split(".")[0] == word)]
        if not matches:
            raise CheckSetupError(f"no exercise {word!r}; give an id such as {exercises[0].id} or a chapter "
                                  f"number such as {exercises[0].chapter} (run edu check to see them all)")
        chosen.update(e.id for e in matches)
    return [e for e in exercises if e.id in chosen]


def missing_requirements() -> list[str]:
    return [name for name in ("pytest", "hypothesis") if importlib.util.find_spec(name) is None]


def _summarise(exercise: Exercise, results: list[Result]) -> str:
    statuses = {r.status for r in results}
    for status in ("import_error", "crashed"):
        if status in statuses:
            return status
    if statuses == {"passed"}:
        return "passed"
    if statuses <= {"passed", "not_attempted"}:
        return "not_attempted"
    return "timeout" if "timeout" in statuses and statuses <= {"passed", "timeout", "not_attempted"} else "failed"


def run_checks(workbook, asked: list[str] | None = None, check_timeout: float = CHECK_TIMEOUT,
               python: str = sys.executable, exercises: list[Exercise] | None = None) -> Report:
    """Run the checks of the asked exercises on `workbook` in a child pytest; the Report of what happened.

    `exercises` is the manifest (the installed one by default); the child always uses the installed one,
    so a different list here is how the tests make the two disagree.
    """
    exercises = load() if exercises is None else exercises
    chosen = select(list(asked or []), exercises)
    workbook = Path(workbook).resolve()
    with tempfile.TemporaryDirectory(prefix="edu-check-") as scratch:
        results_file = Path(scratch) / "results.json"
        command = [python, "-m", "pytest", "-p", "tinygrad_edu.course.plugin", "-c", str(CHECKS_FOLDER / "pytest.ini"),
                   "--rootdir", str(CHECKS_FOLDER), str(CHECKS_FOLDER), "-q", "--no-header", "-p", "no:warnings",
                   "--workbook", str(workbook), "--results", str(results_file),
                   "--check-timeout", str(check_timeout), "-m", " or ".join(e.marker for e in chosen)]
        limit = 60 + check_timeout * sum(e.checks for e in chosen)
        env = child_environment()
        try:
            proc = subprocess.run(command, cwd=workbook, capture_output=True, text=True, timeout=limit, env=env)
            crash = f"the checks stopped (exit status {proc.returncode})" + _last_line(proc.stderr or proc.stdout)
        except subprocess.TimeoutExpired:
            crash = f"the checks were still running after {limit:g} s and were stopped"
        payload = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else None
    if payload is None:
        crashed = Result("", "", "crashed", message=crash + "; run one exercise at a time (edu check ID) to find it")
        return Report(workbook, [ExerciseReport(e, "crashed", [crashed]) for e in chosen])
    for e in chosen:
        collected = payload["collected"].get(e.id, 0)
        if collected != e.checks:
            raise CheckSetupError(f"exercise {e.id}: pytest collected {collected} checks but the manifest declares "
                                  f"{e.checks}; the installed checks are incomplete: reinstall tinygrad_edu")
    by_exercise: dict[str, list[Result]] = {e.id: [] for e in chosen}
    for item in payload["results"]:
        by_exercise[item["exercise"]].append(Result(**item))
    return Report(workbook, [ExerciseReport(e, _summarise(e, by_exercise[e.id]), by_exercise[e.id]) for e in chosen])


def child_environment() -> dict:
    """The child's environment: this very copy of tinygrad_edu first on its path (the checks are the
    grader's, whatever the workbook folder holds), no __pycache__ written into the student's folder, and
    no pytest plugin but ours (one a student installed, pytest-randomly say, would reorder or reseed the
    checks; the grader's child runs without them too)."""
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join([package_root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return f": {lines[-1][:200]}" if lines else ""


# ----- the feedback -----------------------------------------------------------------------

def _symbols(encoding: str | None) -> dict:
    try:
        "".join(SYMBOLS.values()).encode(encoding or "ascii")
        return SYMBOLS
    except (UnicodeEncodeError, LookupError):
        return ASCII_SYMBOLS


_STATUS_WORDS = {"passed": "", "failed": "", "not_attempted": "not attempted", "import_error": "does not import",
                 "timeout": "timed out", "crashed": "crashed"}


def describe_failure(er: ExerciseReport, verbose: bool = False) -> list[str]:
    """The lines that describe one failed exercise: its first failed check, in numbers, and the hint."""
    failure = er.first_failure
    failed = sum(r.status not in ("passed", "not_attempted") for r in er.results)
    lines = [f"{er.exercise.id} {er.exercise.title}  ({er.exercise.file}, {er.exercise.name})"]
    if failure is None:
        return lines
    if failure.check:
        lines.append(f"  check:     {failure.check}   ({failed} of {len(er.results)} checks failed)")
    lines.append(f"  problem:   {failure.message}")
    inputs = [f"{name} = {value}" for name, value in failure.inputs.items()]
    if inputs and sum(len(i) + 2 for i in inputs) <= 70 and not any("\n" in i for i in inputs):
        lines.append(f"  input:     {', '.join(inputs)}")
    else:
        for name, value in failure.inputs.items():
            lines.append(f"  input:     {name} = {_indent(value, 16 + len(name))}")
    if failure.expected is not None:
        lines.append(f"  expected:  {_indent(failure.expected, 13)}")
    if failure.got is not None:
        lines.append(f"  got:       {_indent(failure.got, 13)}")
    if failure.hint:
        lines.append(f"  hint:      {failure.hint}")
    if failure.diagnosis:
        lines.append(f"  diagnosis: {failure.diagnosis}")
    if verbose and failure.traceback:
        lines.append("  traceback:")
        lines.extend("    " + line for line in failure.traceback.rstrip().splitlines())
    return lines


def _indent(text: str, width: int) -> str:
    return ("\n" + " " * width).join(str(text).splitlines())


def render(report: Report, verbose: bool = False, encoding: str | None = "utf-8") -> str:
    """The progress table, each failure in numbers with its hint, and the next exercise to do."""
    symbols = _symbols(encoding)
    passed = sum(e.status == "passed" for e in report.exercises)
    lines = [f"{report.workbook}: {passed} of {len(report.exercises)} exercises pass", ""]
    width = max(len(e.exercise.id) for e in report.exercises)
    for er in report.exercises:
        word = _STATUS_WORDS.get(er.status, er.status)
        lines.append(f"  {symbols[er.symbol_status]} {er.exercise.id.ljust(width)}  {er.exercise.title}"
                     + (f"   ({word})" if word and er.status != "not_attempted" else ""))
    failed = [e for e in report.exercises if e.symbol_status == "failed"]
    for er in failed[:_DETAILS_SHOWN]:
        lines.append("")
        described = describe_failure(er, verbose)
        lines.extend([f"{symbols['failed']} {described[0]}", *described[1:]])
    if len(failed) > _DETAILS_SHOWN:
        more = ", ".join(e.exercise.id for e in failed[_DETAILS_SHOWN:])
        lines += ["", f"{len(failed) - _DETAILS_SHOWN} more fail ({more}): edu check ID shows each one."]
    lines.append("")
    nxt = report.next
    if nxt is None:
        lines.append("Every exercise asked for passes." + ("" if len(report.exercises) == 1 else
                                                         " Next: edu check --milestone trains a network with your parts."))
    else:
        doing = "fix" if nxt.symbol_status == "failed" else "write"
        lines.append(f"Next: {doing} {nxt.exercise.id} {nxt.exercise.title} in {nxt.exercise.file} "
                     f"({nxt.exercise.name}); edu check {nxt.exercise.id} checks just that one.")
    if report.milestone:
        lines += ["", report.milestone]
    return "\n".join(lines)


def workbook_files(workbook: Path, exercises: list[Exercise] | None = None) -> list[Path]:
    """The workbook's files that --watch looks at."""
    names = sorted({e.file for e in (exercises or load())})
    return [Path(workbook) / name for name in names]


def snapshot(paths: list[Path]) -> tuple:
    """What --watch compares: each file's modification time and size (None if it is missing)."""
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)
