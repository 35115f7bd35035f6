"""`edu grade` underneath: every submission checked by the grader's own checks, in a fresh folder, in a
child process with a time and a memory limit; then grades.csv, results/STUDENT.json, feedback/STUDENT.md.

    course = load_course()
    submissions = find_submissions(["subs/alice", "subs/bob"])
    grades = grade_all(submissions, course, read_secret(), jobs=2)     # StudentGrade, in student order
    write_grades("graded", grades, course)

What a submission can and cannot change:

- Only the workbook's files (the manifest's ``ex*.py``, from SUBMISSION/exercises/ or SUBMISSION
  itself) are copied into a fresh folder. The checks, the references and the engine are the
  grader's own copy (``runner.child_environment`` puts it first on the child's path); a student
  who edits or deletes the tests, adds a conftest.py or a tinygrad_edu/ folder changes nothing.
- The checks run in a child process (``CHILD_PROGRAM``) that runs pytest twice, once on the
  visible checks (the ones ``edu check`` runs, on the same inputs) and once on the hidden ones
  (the checks that draw inputs, seeded with ``--hidden-seed``). An exercise's first failed check
  is shrunk to its smallest failing input, as ``edu check`` shows it; its later failures, shown
  by name only, keep the first input that failed (shrinking them was most of a wrong answer's
  time), and so do hidden failures, whose inputs are never shown. Each check has a time limit inside the child (SIGALRM,
  see ``checking.time_limit``) and, should the student's code defeat it, the parent stops the child
  from outside ``KILL_GRACE`` seconds later. On Linux the child's address space is limited with
  ``resource.setrlimit(RLIMIT_AS)``; an allocation past it raises MemoryError in the student's
  code ("memory"). macOS does not enforce RLIMIT_AS: there the grader runs without a memory limit
  and says so (``memory_limit_enforced``).
- A crash or a hang ends that child, not the batch. The child writes a line to a progress file
  when each check starts, so the parent knows which check was running: that exercise gets
  "crashed" or "timeout" (every exercise of the file, when it happened while importing the file),
  and the others run again in a new child. If no check was running, the remaining exercises run
  one child each. One child per submission is the common case: it is what makes the grading fast
  (each child starts Python, NumPy, pytest and hypothesis anew before its first check).
- Hidden checks run for an exercise once its visible checks pass (they are there to catch an answer
  fitted to the visible inputs). The child receives ``--hidden-seed N`` with N = HMAC-SHA256(course
  secret, student id) (``student_seed``), never the secret: its environment is built from a short list of
  variables and EDU_COURSE_SECRET is not one of them. Each check's seed is derived from N
  (``checking.hidden_check_seed``). The expected values are the references' at grading time.

Same submissions, same course, same secret: the same files, byte for byte, whatever the order or
the number of jobs (the temporary folder's name is replaced by "exercises" in every message, and
no traceback is kept: where an endless loop was interrupted is a matter of timing).
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..io import FileKindError, atomic_write_text, regular_file
from .results import CHECKS_FOLDER
from .coursefile import Course, GradedExercise, format_points
from .manifest import load
from .runner import child_environment

CHECK_TIMEOUT = 20.0       # seconds one check may run (the same default as edu check)
MEMORY_MB = 1024           # the child's address space (tests/test_grade.py grades its whole batch in 512)
KILL_GRACE = 2.0           # seconds past the time limit before the parent stops a check from outside
STARTUP_LIMIT = 120.0      # seconds the child may spend outside any check (start-up, collection, results)
EXIT_LIMIT = 10.0          # seconds the child may take to exit once it is done (a student's thread may linger)
SECRET_ENV = "EDU_COURSE_SECRET"
MIN_SECRET = 16            # characters: a short secret could be guessed from a student's own seed
PARTS = ("visible", "hidden")
STATUS_WORDS = {"passed": "passed", "failed": "failed", "not_attempted": "not attempted", "not_run": "not run",
                "import_error": "does not import", "timeout": "timed out", "crashed": "crashed",
                "memory": "out of memory", "error": "error in the checks"}
KIND_WORDS = {"sign": "a sign error", "scale": "a wrong constant factor", "transpose": "a transposed result",
              "unbroadcast": "the sum over broadcast axes is missing", "shape": "the wrong shape",
              "nan": "nan or inf where a number was expected", "zero": "all zeros", "chain":
              "the incoming gradient g is ignored", "wrong": "a wrong value", "error": "your code raised an error",
              "timeout": "too slow, or an endless loop", "memory": "far too much memory"}
# A check's environment: these variables only (EDU_COURSE_SECRET and whatever else the teacher's shell holds stay out).
_CHILD_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP",
                    "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH")
_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class GradingError(ValueError):
    """Grading cannot start as asked (a missing folder, a bad roster, no secret): one line with the fix."""


class GradingStopped(Exception):
    """The batch was stopped (grade_all's caller was interrupted); the child it was running is gone."""


# ----- who is graded, with which secret ----------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    folder: Path        # the submission as given (a student's copy of the student edition)
    workbook: Path      # its exercises/ folder, or the folder itself
    student: str        # the folder's name, or the roster's id for it


def _manifest_files() -> set:
    return {e.file for e in load()}


def read_roster(path) -> dict:
    """{folder name: student id} from a CSV file of lines `folder,student_id` (a header line is optional)."""
    path = Path(path)
    try:
        text = regular_file(path).read_text(encoding="utf-8-sig")
    except (OSError, FileKindError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise GradingError(f"cannot read the roster {path}: {reason}; give a CSV file of lines folder,student_id") \
            from None
    roster, ids = {}, {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        fields = [f.strip() for f in row]
        if not fields or fields == [""]:
            continue
        if number == 1 and [f.lower() for f in fields] == ["folder", "student_id"]:
            continue
        where = f"{path.name} line {number}"
        if len(fields) != 2 or not all(fields):
            raise GradingError(f"{where}: {','.join(row)!r} is not 'folder,student_id'; write one submission "
                               f"folder's name and its student's id per line")
        folder, student = fields
        _check_student_id(student, where)
        if folder in roster:
            raise GradingError(f"{where}: folder {folder!r} is listed twice; give each folder one id")
        if student.lower() in ids:
            raise GradingError(f"{where}: student id {student!r} is also the id of {ids[student.lower()]!r}; "
                               f"give each student one folder")
        roster[folder], ids[student.lower()] = student, folder
    if not roster:
        raise GradingError(f"the roster {path} lists no one; write lines folder,student_id")
    return roster


def _check_student_id(student: str, where: str) -> None:
    if not _STUDENT_ID.fullmatch(student):
        raise GradingError(f"{where}: {student!r} cannot be a student id (it names the files results/ID.json and "
                           f"feedback/ID.md): use letters, digits and . _ @ + -, starting with a letter or digit"
                           f" (a roster, --roster FILE, maps folders to ids)")


def find_submissions(paths, roster: dict | None = None) -> list[Submission]:
    """The submissions, each with its workbook folder and student id; GradingError on the first bad one."""
    if not paths:
        raise GradingError("no submission given; give the folders of the students' editions, e.g. "
                           "edu grade submissions/* --out graded")
    files = _manifest_files()
    found, students, folders = [], {}, set()
    for given in paths:
        folder = Path(given)
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise GradingError(f"submission {given} {what}; give the folder of a student's edition")
        resolved = folder.resolve()
        if resolved in folders:
            raise GradingError(f"submission {given} is given twice; give each folder once")
        folders.add(resolved)
        if (resolved / "exercises").is_dir():
            workbook = resolved / "exercises"
        elif any((resolved / f).is_file() for f in files):
            workbook = resolved
        else:
            raise GradingError(f"submission {given} holds no workbook (no exercises/ folder, no {sorted(files)[0]}); "
                               f"give the folder of a student's edition")
        if roster is not None:
            if resolved.name not in roster:
                raise GradingError(f"submission {given}: the roster has no line for folder {resolved.name!r}; "
                                   f"add '{resolved.name},STUDENT_ID' to it")
            student = roster[resolved.name]
        else:
            student = resolved.name
            _check_student_id(student, f"submission {given}")
        if student.lower() in students:
            raise GradingError(f"submissions {students[student.lower()]} and {given} are both student {student!r}; "
                               f"rename a folder or give a roster (--roster FILE)")
        students[student.lower()] = given
        found.append(Submission(folder, workbook, student))
    return found


def read_secret(secret_file=None, environ=os.environ) -> bytes:
    """The course secret, from `secret_file` or else the EDU_COURSE_SECRET variable; GradingError if none."""
    if secret_file is not None:
        try:
            secret = regular_file(secret_file).read_bytes().strip()
        except (OSError, FileKindError) as exc:
            raise GradingError(f"cannot read the secret file {secret_file}: {exc}; give a file holding the course's "
                               f"secret") from None
        origin = f"the secret file {secret_file}"
    else:
        secret = environ.get(SECRET_ENV, "").strip().encode("utf-8")
        origin = SECRET_ENV
        if not secret:
            raise GradingError(f"no course secret: the hidden checks' inputs are made from it; give --secret-file "
                               f"FILE or set {SECRET_ENV} (make one with: python -c \"import secrets; "
                               f"print(secrets.token_hex(16))\")")
    if len(secret) < MIN_SECRET:
        raise GradingError(f"{origin} holds {len(secret)} characters; use at least {MIN_SECRET} random ones "
                           f"(python -c \"import secrets; print(secrets.token_hex(16))\")")
    return secret


def student_seed(secret: bytes, student: str) -> int:
    """HMAC-SHA256(secret, student id), as a 128-bit number: the one number a student's hidden checks come from."""
    return int.from_bytes(hmac.new(secret, student.encode("utf-8"), hashlib.sha256).digest()[:16], "big")


def _checks_of(exercise_id: str) -> list:
    """The installed check functions of an exercise. They need pytest and hypothesis (the course extra),
    so they are imported here, when a course is graded: `edu` itself starts without them."""
    from .checking import check_functions
    return check_functions(exercise_id)


def hidden_checks(graded: GradedExercise) -> list:
    """The check functions of an exercise that its hidden part re-runs (those that draw their inputs)."""
    from .checking import draws_inputs
    return [fn for fn in _checks_of(graded.id) if draws_inputs(fn)]


def check_course(course: Course) -> None:
    """The installed checks can grade this course: every exercise's checks are all there, and an exercise
    with hidden points has checks that draw inputs (GradingError otherwise)."""
    for graded in course.exercises:
        found = _checks_of(graded.id)
        if len(found) != graded.exercise.checks:
            raise GradingError(f"exercise {graded.id}: {len(found)} checks are installed but the manifest declares "
                               f"{graded.exercise.checks}; reinstall tinygrad_edu")
        if graded.hidden_points > 0 and not hidden_checks(graded):
            raise GradingError(f"exercise {graded.id} has hidden_points = {format_points(graded.hidden_points)} but "
                               f"none of its checks draws inputs (a @given check); set hidden_points = 0 for it in "
                               f"{course.path.name if course.path else 'course.toml'}")


def memory_limit_enforced() -> bool:
    """Whether RLIMIT_AS limits a child's memory here (Linux: yes; macOS accepts it but does not enforce it)."""
    return sys.platform.startswith("linux")


# ----- the child: pytest, twice, with a progress file ---------------------------------------------

# The child's program, run as `python -c CHILD_PROGRAM SPEC.json`: it loads what `edu check`'s child
# loads (pytest, hypothesis, the plugin, the workbook) and nothing of the grader. The visible checks
# draw the inputs `edu check` draws (checking.CHECK_SETTINGS; no constant of any loaded module counts).
CHILD_PROGRAM = r'''
import json, sys
spec = json.load(open(sys.argv[1], encoding="utf-8"))
if spec["memory_bytes"]:
    try:
        import resource                   # POSIX; macOS accepts RLIMIT_AS but does not enforce it
        resource.setrlimit(resource.RLIMIT_AS, (spec["memory_bytes"], spec["memory_bytes"]))
    except (ImportError, ValueError, OSError):
        pass
import pytest
from hypothesis import Phase, settings
progress = open(spec["progress"], "a", encoding="utf-8", buffering=1)   # line-buffered: the parent reads it live


class Progress:
    """One line when each check starts its setup, its call and its teardown: what the parent watches.

    Also: once a check of an exercise has failed, the exercise's other checks that draw inputs do not
    shrink a failure. The feedback shows the first failure in numbers (shrunk, as edu check shows it)
    and the others by name; shrinking them was most of the time a wrong answer took."""

    def __init__(self, phase):
        self.phase = phase
        self.exercise_of, self.failed = {}, set()

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.add(self.exercise_of.get(report.nodeid))

    def write(self, event, item=None):
        fn = getattr(item, "obj", None)
        doc = (getattr(fn, "__doc__", None) or "").strip()
        check = doc.splitlines()[0].strip() if doc else getattr(fn, "__name__", "")
        progress.write(f"{event}\t{self.phase}\t{getattr(fn, '__exercise__', '')}\t{check}\n")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self.exercise_of[item.nodeid] = getattr(item.obj, "__exercise__", None)
        self.write("setup", item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        self.write("call", item)
        fn = item.obj
        if self.exercise_of[item.nodeid] in self.failed and getattr(fn, "is_hypothesis_test", False):
            current = fn._hypothesis_internal_use_settings      # where @settings keeps them (no public setter)
            fn._hypothesis_internal_use_settings = settings(current, phases=[p for p in current.phases
                                                                            if p is not Phase.shrink])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item):
        self.write("teardown", item)


passed = None                             # the exercises whose visible checks all passed in this child
for phase, args, ids in spec["runs"]:
    if phase == "hidden" and passed is not None:
        ids = [i for i in ids if i in passed]  # hidden checks only after the visible ones pass
    if not ids:
        continue
    plugin = Progress(phase)
    plugin.write("session")
    pytest.main(args + ["-m", " or ".join("ex" + i.replace(".", "_") for i in ids)], plugins=[plugin])
    if phase == "visible":
        statuses = {}
        for result in json.load(open(spec["results"]["visible"], encoding="utf-8"))["results"]:
            statuses.setdefault(result["exercise"], set()).add(result["status"])
        passed = {i for i, found in statuses.items() if found == {"passed"}}
progress.write("exit\t\t\t\n")
'''


def _pytest_args(phase: str, workbook: Path, results: str, check_timeout: float, seed: int | None) -> list:
    """The child's pytest command line for one phase (the child adds -m with the exercises): the grader's checks."""
    args = ["-p", "tinygrad_edu.course.plugin", "-c", str(CHECKS_FOLDER / "pytest.ini"), "--rootdir",
            str(CHECKS_FOLDER), str(CHECKS_FOLDER), "-q", "--no-header", "-p", "no:warnings", "--workbook",
            str(workbook), "--results", results, "--check-timeout", repr(check_timeout)]
    return args + (["--hidden-seed", str(seed)] if phase == "hidden" else [])


# ----- the parent: one child, watched ---------------------------------------------------------------

@dataclass
class _ChildRun:
    payloads: dict                  # phase -> the plugin's results.json, or None if it was not written
    returncode: int | None
    stopped_after: float | None     # the limit it was stopped at, or None if it ended by itself
    last: tuple | None              # the last progress line: (event, phase, exercise id, check name)
    started: bool                   # a pytest session started (the grader's side of the child works)
    stderr: str


def _child_env(secret: bytes | None, scratch: Path) -> dict:
    env = {k: v for k, v in child_environment().items() if k in _CHILD_VARIABLES}
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8",
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",       # only our plugin: the same checks wherever they run
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",   # the jobs share the cores
               MPLBACKEND="Agg", TMPDIR=str(scratch),
               PYTHONSAFEPATH="1")                           # the working folder is not on the child's path
    if secret:
        text = secret.decode("utf-8", "replace")
        env = {k: v for k, v in env.items() if text not in v}
    return env


def _read_events(path: Path, offset: int) -> tuple:
    """(the progress lines written since `offset`, as (event, phase, exercise id, check) tuples; the new offset)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    fields = (line.split("\t") for line in data[:end].decode("utf-8", "replace").splitlines())
    return [tuple(f) for f in fields if len(f) == 4], offset + end


def _run_child(spec: dict, scratch: Path, workdir: Path, check_timeout: float, secret: bytes | None,
               stop: threading.Event | None = None) -> _ChildRun:
    spec_path = scratch / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    progress = Path(spec["progress"])
    progress.write_text("", encoding="utf-8")
    for path in spec["results"].values():
        Path(path).unlink(missing_ok=True)
    with open(scratch / "stdout.txt", "wb") as out, open(scratch / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD_PROGRAM, str(spec_path)], cwd=workdir,
                                env=_child_env(secret, scratch), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        last, started, offset = None, False, 0
        since, limit, stopped = time.monotonic(), STARTUP_LIMIT, None
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            events, offset = _read_events(progress, offset)
            for last in events:
                since, started = time.monotonic(), started or last[0] == "session"
                limit = {"setup": check_timeout + KILL_GRACE, "call": check_timeout + KILL_GRACE,
                         "exit": EXIT_LIMIT}.get(last[0], STARTUP_LIMIT)
            if stop is not None and stop.is_set():
                _kill(proc)
                proc.wait()
                raise GradingStopped("grading was stopped")
            if time.monotonic() - since > limit:
                stopped = limit
                _kill(proc)
                break
        proc.wait()
    for last in _read_events(progress, offset)[0]:
        started = started or last[0] == "session"
    payloads = {}
    for phase, path in spec["results"].items():
        try:
            payloads[phase] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            payloads[phase] = None
    stderr = (scratch / "stderr.txt").read_bytes()[-4000:].decode("utf-8", "replace")
    return _ChildRun(payloads, proc.returncode, stopped, last, started, stderr)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)        # the child and anything it started
    except (AttributeError, ProcessLookupError, PermissionError):
        proc.kill()


def _exit_text(returncode: int) -> str:
    if returncode >= 0:
        return f" with exit status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    note = " (the system stops a process that way when memory runs out)" if name == "SIGKILL" else ""
    return f", killed by {name}{note}"


# ----- one submission ---------------------------------------------------------------------------

@dataclass
class Part:
    """The visible or the hidden checks of one exercise, for one student."""
    status: str
    points: float
    max_points: float
    declared: int                                   # how many checks it has (a crash leaves one record for all)
    checks: list = field(default_factory=list)      # dicts: check, status, message, numbers (no traceback)

    @property
    def passed(self) -> int:
        return sum(c["status"] == "passed" for c in self.checks)


@dataclass
class ExerciseGrade:
    graded: GradedExercise
    visible: Part
    hidden: Part | None          # None when the exercise has no hidden points

    @property
    def points(self) -> float:
        return self.visible.points + (self.hidden.points if self.hidden else 0.0)

    @property
    def status(self) -> str:
        if self.hidden is None or self.visible.status != "passed":
            return self.visible.status
        return "passed" if self.hidden.status == "passed" else "hidden_failed"


@dataclass
class StudentGrade:
    submission: Submission
    course: Course
    exercises: list
    seed: int | None
    children: int = 0            # child processes it took (1 unless something crashed or hung)

    @property
    def student(self) -> str:
        return self.submission.student

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)


_CHECK_FIELDS = ("check", "status", "message", "kind", "hint", "expected", "got", "max_diff", "inputs", "diagnosis")
_STATUS_ORDER = ("import_error", "crashed", "memory", "failed", "timeout", "error")


def _scrub(value, folders: tuple):
    """The temporary folder's path as 'exercises', memory addresses as 0x…: the same text on every run."""
    if isinstance(value, str):
        for folder in folders:
            value = value.replace(folder, "exercises")
        return _ADDRESS.sub(" at 0x…", value)
    if isinstance(value, dict):
        return {k: _scrub(v, folders) for k, v in value.items()}
    return value


def _check_record(result: dict, folders: tuple, memory_mb: int | None) -> dict:
    record = {k: _scrub(result.get(k), folders) for k in _CHECK_FIELDS}
    diff = record["max_diff"]
    if isinstance(diff, float):      # three significant digits, as the message says: no BLAS round-off in the file
        record["max_diff"] = float(f"{diff:.3g}") if math.isfinite(diff) else str(diff)
    if record["status"] == "failed" and record["kind"] == "error" and \
            record["message"].startswith("your code raised MemoryError"):
        where = record["message"][len("your code raised MemoryError"):]
        where = where[where.index(" ("):] if " (" in where else ""
        limit = f"the {memory_mb} MB the grader allows" if memory_mb else "the memory there is"
        record.update(status="memory", kind="memory",
                      message=f"your code ran out of memory: it asked for more than {limit}{where}",
                      hint="Look for an array far larger than the inputs: a shape mixed up, or an outer product "
                           "where an elementwise one was meant.")
    return record


def _part_status(records: list) -> str:
    statuses = {r["status"] for r in records}
    if statuses == {"passed"}:
        return "passed"
    for status in _STATUS_ORDER:
        if status in statuses:
            return status
    return "not_attempted"


def _blamed_record(status: str, message: str, hint: str = "") -> dict:
    return {**{k: None for k in _CHECK_FIELDS}, "check": "", "status": status, "message": message, "kind": status,
            "hint": hint, "inputs": {}, "diagnosis": ""}


def _blame(run: _ChildRun, batch: dict, course: Course) -> dict:
    """{(phase, exercise id): record} for what the child was running when it crashed or was stopped."""
    if run.last is None or run.last[0] not in ("setup", "call", "teardown"):
        return {}
    event, phase, exercise_id, check = run.last
    if phase not in batch or exercise_id not in batch[phase]:
        return {}
    graded = course.graded(exercise_id)
    if event == "setup":           # the fixture imports the file: every exercise of it would do the same
        ids = [i for i in batch[phase] if course.graded(i).exercise.file == graded.exercise.file]
        what, during = f"importing {graded.exercise.file}", f"while importing {graded.exercise.file}"
    else:
        ids = [exercise_id]
        what, during = f"check “{check}”", f"during check “{check}”"
    if run.stopped_after is not None:
        status, message = "timeout", (f"{what} was still running after {run.stopped_after:g} s and was stopped from "
                                      f"outside: an endless loop that even the time limit could not interrupt?")
        hint = "Look for a loop that never ends (a while loop whose condition never changes, a loop that catches " \
               "every exception), or far too much work."
    else:
        status, message = "crashed", (f"Python itself stopped{_exit_text(run.returncode)} {during}: "
                                      f"os._exit, a crash inside C code, or memory exhausted?")
        hint = (f"Run python {graded.exercise.file} yourself: importing it must not end Python (look at the code "
                f"outside the functions)." if event == "setup" else
                "Run your code on a small input yourself (edu check shows the inputs): it must return, not end Python.")
    return {(phase, i): _blamed_record(status, message, hint) for i in ids}


def _workbook_copy(submission: Submission, course: Course, dest: Path) -> None:
    """Only the workbook's files (regular files, not links), nothing else of the submission."""
    dest.mkdir()
    for name in sorted({g.exercise.file for g in course.exercises}):
        source = submission.workbook / name
        if source.is_file() and not source.is_symlink():
            shutil.copyfile(source, dest / name)


def grade_submission(submission: Submission, course: Course, secret: bytes | None, *,
                     check_timeout: float = CHECK_TIMEOUT, memory_mb: int | None = MEMORY_MB,
                     stop: threading.Event | None = None) -> StudentGrade:
    """Grade one submission in fresh child processes (one, unless something crashes or hangs)."""
    seed = student_seed(secret, submission.student) if secret and course.has_hidden_checks else None
    with tempfile.TemporaryDirectory(prefix="edu-grade-") as scratch:
        records, children = _check_submission(submission, course, Path(scratch), seed, secret, check_timeout,
                                              memory_mb, stop)
    return StudentGrade(submission, course, [_exercise_grade(g, records) for g in course.exercises], seed, children)


def _check_submission(submission, course, scratch: Path, seed, secret, check_timeout, memory_mb, stop) -> tuple:
    """({(phase, exercise id): check records}, the number of children it took).

    Every pending exercise runs in one child; what a crash or a hang left without results is blamed
    on the check that was running (``_blame``) and the rest runs again; when nothing can be blamed,
    the rest runs one exercise per child."""
    workdir = scratch / "exercises"
    _workbook_copy(submission, course, workdir)
    folders = tuple(sorted({str(workdir.resolve()), str(workdir)}, key=len, reverse=True))
    result_files = {p: str(scratch / f"results-{p}.json") for p in PARTS}
    pending = {"visible": [g.id for g in course.exercises],
               "hidden": [g.id for g in course.exercises if g.hidden_points > 0 and seed is not None]}
    records, children, one_at_a_time = {}, 0, False
    while pending["visible"] or pending["hidden"]:
        first = (pending["visible"] or pending["hidden"])[0]
        batch = {p: [i for i in pending[p] if i == first or not one_at_a_time] for p in PARTS}
        spec = {"memory_bytes": memory_mb << 20 if memory_mb else None, "progress": str(scratch / "progress.txt"),
                "results": {p: result_files[p] for p in PARTS if batch[p]},
                "runs": [(p, _pytest_args(p, workdir, result_files[p], check_timeout, seed), batch[p])
                         for p in PARTS if batch[p]]}
        run = _run_child(spec, scratch, workdir, check_timeout, secret, stop)
        children += 1
        if not run.started:
            last_line = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
            raise GradingError(f"the checks could not start (the child process stopped{_exit_text(run.returncode)}"
                               f"{': ' + last_line if last_line else ''}); is --memory {memory_mb} too small, or "
                               f"tinygrad_edu[course] not installed?")
        if batch["visible"] and run.payloads.get("visible") is not None:
            _take(records, pending, "visible", batch["visible"], run.payloads["visible"], course, folders, memory_mb)
        for i in list(pending["hidden"]):      # hidden checks only after the visible ones pass (the child's rule)
            if ("visible", i) in records and _part_status(records[("visible", i)]) != "passed":
                pending["hidden"].remove(i)
        batch["hidden"] = [i for i in batch["hidden"] if i in pending["hidden"]]
        if batch["hidden"] and run.payloads.get("hidden") is not None:
            _take(records, pending, "hidden", batch["hidden"], run.payloads["hidden"], course, folders, memory_mb)
        if not any(i in pending[p] for p in PARTS for i in batch[p]):
            continue
        blamed = _blame(run, batch, course)
        if not blamed and not one_at_a_time:
            one_at_a_time = True
            continue
        if not blamed:                   # alone in its child, and it still ended it: it is this exercise's doing
            blamed = {(p, i): _unexplained(run) for p in PARTS for i in batch[p] if i in pending[p]}
        for (phase, i), record in sorted(blamed.items()):
            records[(phase, i)] = [record]
            pending[phase].remove(i)
            if phase == "visible" and i in pending["hidden"]:
                pending["hidden"].remove(i)
    return records, children


def _take(records: dict, pending: dict, phase: str, ids: list, payload: dict, course, folders, memory_mb) -> None:
    """Record what the child's `phase` session found for each of `ids`."""
    _collected_as_declared(payload, ids, phase, course)
    for i in ids:
        records[(phase, i)] = [_check_record(r, folders, memory_mb) for r in payload["results"] if r["exercise"] == i]
        pending[phase].remove(i)


def _unexplained(run: _ChildRun) -> dict:
    """The record of an exercise whose child ended while none of its checks was running."""
    if run.stopped_after is not None:
        return _blamed_record("timeout", f"the checks were still running after {run.stopped_after:g} s and were "
                                         f"stopped, outside any one check")
    return _blamed_record("crashed", f"Python itself stopped{_exit_text(run.returncode)}, outside any one check")


def _exercise_grade(graded: GradedExercise, records: dict) -> ExerciseGrade:
    """An exercise's points: its visible points if every visible check passed, its hidden points likewise."""
    def part(checks, points, declared):
        status = _part_status(checks)
        return Part(status, points if status == "passed" else 0.0, points, declared, checks)
    visible = part(records[("visible", graded.id)], graded.points, graded.exercise.checks)
    hidden = None
    if graded.hidden_points > 0:
        declared = len(hidden_checks(graded))
        if ("hidden", graded.id) in records:
            hidden = part(records[("hidden", graded.id)], graded.hidden_points, declared)
        else:                            # the visible checks did not pass (or there was no secret)
            hidden = Part("not_run", 0.0, graded.hidden_points, declared, [])
    return ExerciseGrade(graded, visible, hidden)


def _collected_as_declared(payload: dict, ids: list, phase: str, course: Course) -> None:
    for i in ids:
        graded = course.graded(i)
        expected = graded.exercise.checks if phase == "visible" else len(hidden_checks(graded))
        collected = payload["collected"].get(i, 0)
        if collected != expected:
            raise GradingError(f"exercise {i}: pytest collected {collected} {phase} checks but {expected} are "
                               f"declared; the installed checks are incomplete: reinstall tinygrad_edu")


# ----- the batch ------------------------------------------------------------------------------------

def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def existing_grades(out: Path) -> list:
    """What a previous `edu grade` wrote in `out` (grades.csv, results/*.json, feedback/*.md)."""
    found = [out / "grades.csv"] if (out / "grades.csv").exists() else []
    for sub, suffix in (("results", ".json"), ("feedback", ".md")):
        if (out / sub).is_dir():
            found += sorted(p for p in (out / sub).iterdir() if p.suffix == suffix)
    return found


def grade_all(submissions: list[Submission], course: Course, secret: bytes | None, *, jobs: int | None = None,
              check_timeout: float = CHECK_TIMEOUT, memory_mb: int | None = MEMORY_MB, on_graded=None) -> list:
    """Every submission's StudentGrade, in student order; `on_graded(grade)` is called as each one finishes.

    Anything that ends the batch early (Ctrl-C, a GradingError) stops every running child before it
    propagates: no child outlives the batch."""
    check_course(course)
    stop = threading.Event()

    def one(submission):
        result = grade_submission(submission, course, secret, check_timeout=check_timeout, memory_mb=memory_mb,
                                  stop=stop)
        if on_graded is not None:
            on_graded(result)
        return result
    pool = ThreadPoolExecutor(max_workers=jobs or default_jobs())
    try:
        grades = [future.result() for future in [pool.submit(one, s) for s in submissions]]
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(grades, key=lambda g: g.student)


def write_grades(out: Path, grades: list, course: Course, replaced: list | None = None) -> list:
    """grades.csv, results/STUDENT.json and feedback/STUDENT.md, each written atomically (grades.csv last).

    `replaced` is what a previous run wrote (existing_grades): the files of students no longer graded
    are removed, so the folder never mixes two batches."""
    out = Path(out)
    for sub in ("results", "feedback"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    written = []
    keep = {g.student for g in grades}
    for path in replaced or []:
        if path.parent.name in ("results", "feedback") and path.stem not in keep:
            path.unlink(missing_ok=True)
    for g in grades:
        written.append(atomic_write_text(out / "results" / f"{g.student}.json", results_json(g)))
        written.append(atomic_write_text(out / "feedback" / f"{g.student}.md", feedback_markdown(g)))
    written.append(atomic_write_text(out / "grades.csv", grades_csv(grades, course)))
    return written


def _number(value: float):
    return int(value) if float(value).is_integer() else round(value, 6)


def grades_csv(grades: list, course: Course) -> str:
    """One row per student: the points of each exercise, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student"] + [g.id for g in course.exercises] + ["total"])
    for grade in grades:
        writer.writerow([grade.student] + [format_points(e.points) for e in grade.exercises]
                        + [format_points(grade.points)])
    return buffer.getvalue()


def results_json(grade: StudentGrade) -> str:
    """Every check of every exercise: its status, message and numbers (the teacher's record)."""
    course = grade.course
    payload = {
        "version": 1, "student": grade.student, "submission": grade.submission.folder.resolve().name,
        "course": course.name, "points": _number(grade.points), "max_points": _number(course.max_points),
        "hidden_seed": None if grade.seed is None else str(grade.seed),
        "exercises": [{
            "id": e.graded.id, "title": e.graded.exercise.title, "status": e.status,
            "points": _number(e.points), "max_points": _number(e.graded.max_points),
            **{name: {"status": part.status, "points": _number(part.points), "max_points": _number(part.max_points),
                      "checks": part.checks}
               for name, part in (("visible", e.visible), ("hidden", e.hidden)) if part is not None},
        } for e in grade.exercises]}
    return json.dumps(payload, indent=1, ensure_ascii=False) + "\n"


# ----- feedback --------------------------------------------------------------------------------------

def _prose(label: str, text) -> list:
    return [f"**{label}:** {' '.join(str(text).split())}  "]


def _numbers(label: str, text) -> list:
    """A value as code: on the line when it is short, else in a block of its own."""
    text = str(text)
    if "\n" not in text and len(text) <= 60:
        return [f"**{label}:** `{text}`  "]
    return ["", f"**{label}:**", "", "```text", *text.splitlines(), "```", ""]


def _visible_failure(e: ExerciseGrade) -> list:
    """The first failed check in numbers (its input, expected, got), its hint and diagnosis; the others by name."""
    failed = [c for c in e.visible.checks if c["status"] not in ("passed", "not_attempted")]
    first = failed[0]
    lines = []
    if first["check"]:
        lines += _prose("Check", f"{first['check']} ({len(failed)} of {e.visible.declared} checks failed)")
    lines += _prose("Problem", first["message"])
    inputs = first.get("inputs") or {}
    joined = ", ".join(f"{name} = {value}" for name, value in inputs.items())
    if inputs and "\n" not in joined and len(joined) <= 60:
        lines += _numbers("Input", joined)
    else:
        for name, value in inputs.items():
            lines += _numbers(f"Input {name}", value)
    for label, key in (("Expected", "expected"), ("Got", "got")):
        if first.get(key) is not None:
            lines += _numbers(label, first[key])
    for label, key in (("Hint", "hint"), ("Diagnosis", "diagnosis")):
        if first.get(key):
            lines += _prose(label, first[key])
    others = [c["check"] for c in failed[1:] if c["check"]]
    if others:
        lines += _prose("Also failed", "; ".join(others))
    return [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]


def _hidden_failures(e: ExerciseGrade) -> list:
    """Each failed hidden check: its name, the kind of mistake, the message and the hint; never its inputs,
    expected values or diagnosis (those are made from the hidden inputs)."""
    lines = ["The visible checks pass; the hidden checks, the same checks on inputs drawn for you, do not:", ""]
    for c in e.hidden.checks:
        if c["status"] in ("passed", "not_attempted"):
            continue
        kind = KIND_WORDS.get(c["kind"] or "", c["kind"] or "")
        hint = f" Hint: {c['hint']}" if c["hint"] else ""
        lines.append(f"- **{c['check'] or 'the hidden checks'}**: {STATUS_WORDS.get(c['status'], c['status'])}"
                     + (f" ({kind})" if kind else "") + f". {c['message']}{hint}")
    return lines


def feedback_markdown(grade: StudentGrade) -> str:
    """What the student reads: each exercise's status and points, each failure in numbers with its hint."""
    course = grade.course
    lines = [f"# {course.name}: feedback for {grade.student}", "",
             f"**{format_points(grade.points)} of {format_points(course.max_points)} points.**", ""]
    if course.has_hidden_checks:
        lines += ["Each exercise's checks are the ones `edu check` runs. Once they pass, hidden checks run the same "
                  "checks again on inputs drawn for you alone: passing them shows your code is right in general, "
                  "not only on the inputs you saw.", ""]
    header = "| exercise | status | checks |" + (" hidden checks |" if course.has_hidden_checks else "") + " points |"
    lines += [header, "|" + "---|" * header.count(" |")]
    for e in grade.exercises:
        row = (f"| {e.graded.id} {e.graded.exercise.title} | {_status_word(e)} | "
               f"{e.visible.passed} of {e.visible.declared} |")
        if course.has_hidden_checks:
            row += " – |" if e.hidden is None or e.hidden.status == "not_run" else \
                f" {e.hidden.passed} of {e.hidden.declared} |"
        lines.append(row + f" {format_points(e.points)} of {format_points(e.graded.max_points)} |")
    for e in grade.exercises:
        if e.status in ("passed", "not_attempted"):
            continue
        lines += ["", f"## {e.graded.id} {e.graded.exercise.title}: {_status_word(e)} "
                      f"({e.graded.exercise.file}, {e.graded.exercise.name})", ""]
        if e.visible.status not in ("passed", "not_attempted"):
            lines += _visible_failure(e)
        elif e.hidden is not None:
            lines += _hidden_failures(e)
    not_attempted = [e for e in grade.exercises if e.status == "not_attempted"]
    if not_attempted:
        lines += ["", "## Not attempted", ""]
        lines += [f"- {e.graded.id} {e.graded.exercise.title} ({e.graded.exercise.file}, {e.graded.exercise.name})"
                  for e in not_attempted]
    todo = next((e for e in grade.exercises if e.status != "passed"), None)
    lines += ["", "## Next", ""]
    if todo is None:
        lines.append("Every exercise passes.")
    else:
        lines.append(f"Start with {todo.graded.id} {todo.graded.exercise.title}: `edu check {todo.graded.id}` "
                     f"checks it on your machine.")
    return "\n".join(lines) + "\n"


def _status_word(e: ExerciseGrade) -> str:
    if e.status == "hidden_failed":
        return "passed; hidden checks failed"
    return STATUS_WORDS.get(e.status, e.status)
