"""`edu grade`, for real: a student edition filled many ways, graded in one batch by the command as a process.

The submissions (each breaks the first exercise of the manifest, FIRST, in one way; the other
exercises of the test course are the instructor's solutions unless said otherwise):

    ref           every exercise solved
    mix           each exercise holds one of its mutants (a different kind of mistake each)
    stub          the student edition as it was handed out
    loop          an endless loop (the time limit inside the child stops it)
    hang          an endless loop that switches the time limit off (the grader stops the child)
    crash_import  os._exit at the top of FIRST's file (Python ends while the file is imported)
    syntax        a syntax error in FIRST's file
    tests         the mix's mutant, with the checks, a conftest.py, a pytest.ini and a tinygrad_edu/ edited
    stderr        solved, and printing to stderr while imported and while checked
    sysexit       sys.exit(3) in FIRST
    late_crash    solved, but ends Python once the hidden checks call it (the visible checks are done by then)
    memory        FIRST allocates 1 GiB under --memory 512
    cheat         right on the inputs the visible checks use (recorded with edu check), wrong elsewhere
    spy_a, spy_b  solved, recording every input FIRST is called with, and the child's environment

The test course grades FIRST, the next exercise of its file and the first exercise of another file
(when the manifest has them), so that what FIRST does is seen not to change the others.
"""
import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu.course import grading, mutants
from tinygrad_edu.course.checking import HIDDEN_EXAMPLES, check_functions, check_name, draws_inputs
from tinygrad_edu.course.coursefile import load_course
from tinygrad_edu.course.manifest import load

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load()
FIRST = EXERCISES[0]
SAME_FILE = next((e for e in EXERCISES[1:] if e.file == FIRST.file), None)
OTHER_FILE = next((e for e in EXERCISES if e.file != FIRST.file), None)
TEST_IDS = [e.id for e in EXERCISES if e in (FIRST, SAME_FILE, OTHER_FILE)]
MUTANTS = mutants.collect(ROOT / "exercises" / "mutants")
SECRET = "test-course-secret-0123456789"
TIMEOUT = 2.0                    # seconds one check may run in the batch of endless loops (they cost this much)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_grade", ROOT / "bench" / "bench_grade.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def _first_mutant(exercise_id, skip=0):
    found = [m for m in MUTANTS if m.exercise == exercise_id]
    return found[skip % len(found)]


def _wrapper(kind: str, log: Path | None = None, seen=(), exercise=FIRST) -> str:
    """Code appended to an exercise's file: its function becomes a wrapper of the solution that writes each call's
    check and inputs to `log`, and that also writes the child's environment (kind "spy"), answers right only on
    inputs in `seen` (kind "cheat"), is wrong on inputs of 6 numbers or more (kind "wrong": a failure hypothesis
    has to shrink), or ends Python once it has been called more often than the visible checks call it (kind
    "late_crash")."""
    key = ("_hashlib.sha256(repr([(x.shape, x.dtype.str, x.tobytes().hex()) if isinstance(x, _np.ndarray) "
           "else getattr(x, '__qualname__', None) or repr(x) for x in args]).encode()).hexdigest()")
    lines = ["", "", "import hashlib as _hashlib, json as _json, os as _os, sys as _sys", "import numpy as _np",
             f"_solution = {exercise.name}", "", "",
             f"def {exercise.name}(*args, **kwargs):",
             f"    key = {key}"]
    if log is not None:
        lines += ["    frame = _sys._getframe(1)", "    while frame is not None and not frame.f_code.co_name.startswith('test_'):",
                  "        frame = frame.f_back", f"    with open({str(log)!r}, 'a') as f:",
                  "        f.write((frame.f_code.co_name if frame is not None else '?') + ' ' + key + '\\n')"]
    if kind == "spy":
        lines += ["    try:",
                  f"        with open({str(log) + '.env'!r}, 'x') as f:",
                  "            spec = open(_sys.argv[-1]).read() if _sys.argv[-1].endswith('.json') else ''",
                  "            _json.dump({'env': dict(_os.environ), 'cmdline': open('/proc/self/cmdline', 'rb').read()"
                  ".decode('utf-8', 'replace') if _os.path.exists('/proc/self/cmdline') else ' '.join(_sys.argv),"
                  " 'spec': spec}, f)",
                  "    except FileExistsError:", "        pass",
                  "    return _solution(*args, **kwargs)"]
    elif kind == "late_crash":
        lines += ["    calls = _sys.__dict__.setdefault('calls_of_the_late_crash', [])   # kept across re-imports",
                  "    calls.append(key)", f"    if len(calls) > {len(seen)}:", "        _os._exit(7)",
                  "    return _solution(*args, **kwargs)"]
    else:
        right_when = "key in seen" if kind == "cheat" else \
            "max((_np.size(x) for x in args if isinstance(x, _np.ndarray)), default=0) < 6"   # "wrong": on big inputs
        lines += [f"    seen = {sorted(seen)!r}", "    right = _solution(*args, **kwargs)",
                  f"    if {right_when}:", "        return right",
                  "    if isinstance(right, tuple):",
                  "        return tuple(_np.asarray(x, dtype=float) + 1.0 for x in right)",
                  "    return _np.asarray(right, dtype=float) + 1.0"]
    return "\n".join(lines) + "\n"


def _calls(log: Path) -> list:
    """(check function, inputs' key) of every call a wrapper wrote to `log`."""
    return [tuple(line.split(" ")) for line in log.read_text().splitlines()] if log.exists() else []


def _fill(edition: Path, folder: Path, choices: dict, edit=None) -> Path:
    """A submission: the edition's exercises/ folder, its workbook files filled as `choices` says."""
    shutil.copytree(edition / "exercises", folder / "exercises")
    files = BENCH.submission_files({i: choices.get(i, "reference") for i in TEST_IDS})
    if edit is not None:
        edit(files)
    for name, text in files.items():
        (folder / "exercises" / name).write_text(text, encoding="utf-8")
    return folder


def _student_edition(dest: Path) -> Path:
    """The student edition: `edu course build --student` once it exists, else the workbook with every solution
    replaced by its stub (what that build does to exercises/), and a copy of the checks."""
    try:
        from tinygrad_edu.course.edition import build_student
    except ImportError:
        build_student = None
    if build_student is not None:
        build_student(ROOT, dest)
        return dest
    (dest / "exercises").mkdir(parents=True)
    for name, text in BENCH.submission_files({}).items():
        (dest / "exercises" / name).write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "exercises" / "course.toml", dest / "exercises" / "course.toml")
    shutil.copytree(ROOT / "tinygrad_edu" / "course" / "checks", dest / "tinygrad_edu" / "course" / "checks")
    return dest


def _environment(env_extra=None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != grading.SECRET_ENV}
    env.update(PYTHONIOENCODING="utf-8", **(env_extra or {}))
    return env


def _edu(*args, env_extra=None, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=_environment(env_extra))


def _edu_started(*args, env_extra=None):
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_environment(env_extra))


def _course_file(path: Path) -> Path:
    path.write_text("\n".join([
        'name = "Test course"', "", "[grading]", f"exercises = {json.dumps(TEST_IDS)}", "points = 2",
        "hidden_points = 1", "", "[[exercise]]", f'id = "{FIRST.id}"', "points = 3", ""]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Every submission, graded once by `edu grade` as a process (with a roster); the logs of the spies."""
    tmp = tmp_path_factory.mktemp("grade")
    edition = _student_edition(tmp / "edition")
    course = _course_file(tmp / "course.toml")
    subs = tmp / "subs"

    # The inputs the visible checks use, as `edu check` draws them: recorded by a spy in a workbook of its own.
    seen_log = tmp / "seen.log"
    spy_check = _fill(edition, subs / "spy_check", {}, edit=lambda f: f.__setitem__(
        FIRST.file, f[FIRST.file] + _wrapper("spy", seen_log)))
    check = _edu("check", FIRST.id, "--workbook", str(spy_check / "exercises"))
    assert check.returncode == 0, check.stdout + check.stderr
    seen = [key for _, key in _calls(seen_log)]
    shutil.rmtree(spy_check)

    logs = {name: tmp / f"{name}.log" for name in ("spy_a", "spy_b", "cheat")}
    mix = {e: _first_mutant(e, skip=n) for n, e in enumerate(TEST_IDS)}

    def prepend(code):
        return lambda files: files.__setitem__(FIRST.file, code + files[FIRST.file])

    def append(code):
        return lambda files: files.__setitem__(FIRST.file, files[FIRST.file] + code)
    made = {
        "ref": _fill(edition, subs / "sub-ref", {}),
        "mix": _fill(edition, subs / "sub-mix", mix),
        "stub": _fill(edition, subs / "sub-stub", {i: "stub" for i in TEST_IDS}),
        "loop": _fill(edition, subs / "sub-loop", {FIRST.id: "import time\nwhile True:\n    time.sleep(0.01)"}),
        "hang": _fill(edition, subs / "sub-hang", {FIRST.id: "import signal, time\nsignal.signal(signal.SIGALRM, "
                                                             "signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)"}),
        "crash_import": _fill(edition, subs / "sub-crash_import", {}, edit=prepend("import os\nos._exit(9)\n")),
        "syntax": _fill(edition, subs / "sub-syntax", {}, edit=append("\ndef broken(:\n    pass\n")),
        "tests": _fill(edition, subs / "sub-tests", {FIRST.id: mix[FIRST.id]}),
        "stderr": _fill(edition, subs / "sub-stderr", {FIRST.id: "import sys\nprint('debugging', file=sys.stderr)\n"
                                                                 "{solution}"},
                        edit=prepend("import sys\nprint('imported', file=sys.stderr)\n")),
        "sysexit": _fill(edition, subs / "sub-sysexit", {FIRST.id: "import sys\nsys.exit(3)"}),
        "memory": _fill(edition, subs / "sub-memory", {FIRST.id: "_hog = bytearray(1 << 30)\n{solution}"}),
        "cheat": _fill(edition, subs / "sub-cheat", {}, edit=append(_wrapper("cheat", logs["cheat"], seen))),
        "late_crash": _fill(edition, subs / "sub-late_crash", {}, edit=append(_wrapper("late_crash", None, seen))),
        "spy_a": _fill(edition, subs / "sub-spy_a", {}, edit=append(_wrapper("spy", logs["spy_a"]))),
        "spy_b": _fill(edition, subs / "sub-spy_b", {}, edit=append(_wrapper("spy", logs["spy_b"]))),
    }
    # The student of "tests" edits every check to pass, and adds files that would change how pytest runs.
    checks = made["tests"] / "tinygrad_edu" / "course" / "checks"
    shutil.copytree(edition / "tinygrad_edu" / "course" / "checks", checks)
    for path in checks.glob("test_*.py"):
        path.write_text("def test_everything_passes():\n    assert True\n", encoding="utf-8")
    (made["tests"] / "exercises" / "conftest.py").write_text(
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n", encoding="utf-8")
    (made["tests"] / "exercises" / "pytest.ini").write_text("[pytest]\naddopts = -p no:plugin\n", encoding="utf-8")
    (made["tests"] / "exercises" / "tinygrad_edu").mkdir()
    (made["tests"] / "exercises" / "tinygrad_edu" / "__init__.py").write_text("raise ImportError('not the engine')\n")
    (made["tests"] / "tests").mkdir()
    (made["tests"] / "tests" / "test_nothing.py").write_text("def test_nothing():\n    pass\n")

    roster = tmp / "roster.csv"
    roster.write_text("folder,student_id\n" + "".join(f"{p.name},{name}\n" for name, p in made.items()),
                      encoding="utf-8")
    # The endless loops in a batch of their own, with a short time limit (a limit that short could stop a
    # slow but right answer on a busy machine: the other batch has the default one).
    loops = [made.pop(name) for name in ("loop", "hang")]
    common = ["--roster", str(roster), "--course", str(course), "--memory", "512", "--jobs", "2"]
    env = {grading.SECRET_ENV: SECRET}
    out, loops_out = tmp / "graded", tmp / "graded-loops"
    running = _edu_started("grade", *map(str, loops), "--out", str(loops_out), "--timeout", str(TIMEOUT), *common,
                           env_extra=env)       # mostly asleep in the loops: it runs beside the main batch
    proc = _edu("grade", *map(str, made.values()), "--out", str(out), *common, env_extra=env)
    stdout, stderr = running.communicate(timeout=300)
    loops_proc = subprocess.CompletedProcess(running.args, running.returncode, stdout, stderr)
    return {"proc": proc, "loops_proc": loops_proc, "out": out, "loops_out": loops_out, "made": made,
            "logs": logs, "seen": seen, "mix": mix, "course": course, "roster": roster, "tmp": tmp}


def _out(batch, student):
    return batch["loops_out"] if student in ("loop", "hang") else batch["out"]


def _results(batch, student):
    return json.loads((_out(batch, student) / "results" / f"{student}.json").read_text(encoding="utf-8"))


def _exercise(batch, student, exercise_id):
    return next(e for e in _results(batch, student)["exercises"] if e["id"] == exercise_id)


def _feedback(batch, student):
    return (_out(batch, student) / "feedback" / f"{student}.md").read_text(encoding="utf-8")


def _max(exercise_id):
    return 3 + 1 if exercise_id == FIRST.id else 2 + 1


def _others_full(batch, student, spared=()):
    """Every test exercise but FIRST (and those in `spared`, which share its fate) passes with full points."""
    for e in TEST_IDS:
        if e == FIRST.id or e in spared:
            continue
        record = _exercise(batch, student, e)
        assert (record["status"], record["points"]) == ("passed", _max(e)), (student, e, record)


def test_grading_completes_with_exit_0_and_no_traceback(batch):
    for proc, count in ((batch["proc"], len(batch["made"])), (batch["loops_proc"], 2)):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert f"graded {count} submissions" in proc.stdout


def test_grades_csv_has_a_column_per_exercise_and_the_points_each_earned(batch):
    rows = list(csv.reader((batch["out"] / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["student"] + TEST_IDS + ["total"]
    assert [r[0] for r in rows[1:]] == sorted(batch["made"])
    for row in rows[1:]:
        results = _results(batch, row[0])
        per_exercise = {e["id"]: e["points"] for e in results["exercises"]}
        assert row[1:-1] == [f"{per_exercise[i]:g}" for i in TEST_IDS]
        assert float(row[-1]) == sum(per_exercise.values()) == results["points"]
    full = sum(_max(i) for i in TEST_IDS)
    assert rows[1:][sorted(batch["made"]).index("ref")][-1] == str(full)


def test_the_solved_submission_gets_every_point_visible_and_hidden(batch):
    results = _results(batch, "ref")
    assert results["points"] == results["max_points"] == sum(_max(i) for i in TEST_IDS)
    for e in results["exercises"]:
        assert e["visible"]["status"] == e["hidden"]["status"] == "passed"
        assert len(e["visible"]["checks"]) == {x.id: x.checks for x in EXERCISES}[e["id"]]
        assert len(e["hidden"]["checks"]) == len([f for f in check_functions(e["id"]) if draws_inputs(f)])
    text = _feedback(batch, "ref")
    assert "Every exercise passes." in text and "## Not attempted" not in text


def test_each_mutant_fails_with_the_hint_meant_for_its_mistake_and_earns_nothing(batch):
    text = _feedback(batch, "mix")
    for exercise_id, m in batch["mix"].items():
        ex = {e.id: e for e in EXERCISES}[exercise_id]
        record = _exercise(batch, "mix", exercise_id)
        assert record["points"] == 0 and record["visible"]["status"] == "failed", record
        assert record["hidden"]["status"] == "not_run"
        first = next(c for c in record["visible"]["checks"] if c["status"] == "failed")
        assert first["kind"] == m.kind and first["hint"] == ex.hint_for(m.kind)
        assert ex.hint_for(m.kind) in text and first["message"] in text
        if first["expected"] is not None and "\n" not in first["expected"]:
            assert f"**Expected:** `{first['expected']}`" in text


def test_the_untouched_edition_is_not_attempted_everywhere(batch):
    results = _results(batch, "stub")
    assert results["points"] == 0
    for e in results["exercises"]:
        assert e["status"] == "not_attempted"
        assert {c["status"] for c in e["visible"]["checks"]} == {"not_attempted"}
        assert (e["hidden"]["status"], e["hidden"]["checks"]) == ("not_run", [])     # only after the visible pass
    text = _feedback(batch, "stub")
    assert "## Not attempted" in text and f"Start with {FIRST.id} {FIRST.title}" in text
    assert "Traceback" not in text and "NotImplementedError" not in text


def test_an_endless_loop_times_out_in_that_exercise_only(batch):
    record = _exercise(batch, "loop", FIRST.id)
    assert record["status"] == "timeout" and record["points"] == 0
    assert {c["status"] for c in record["visible"]["checks"]} == {"timeout"}
    assert f"still running after {TIMEOUT:g} s" in record["visible"]["checks"][0]["message"]
    _others_full(batch, "loop")


def test_a_loop_that_defeats_the_time_limit_is_stopped_from_outside(batch):
    record = _exercise(batch, "hang", FIRST.id)
    assert record["status"] == "timeout" and record["points"] == 0
    message = record["visible"]["checks"][0]["message"]
    limit = TIMEOUT + grading.KILL_GRACE
    assert re.match(rf"check “.+” was still running after {limit:g} s and was stopped from outside",
                    message), message
    assert (record["hidden"]["status"], record["hidden"]["points"]) == ("not_run", 0)
    _others_full(batch, "hang")


def test_a_crash_while_importing_is_that_files_exercises_only(batch):
    spared = [e.id for e in EXERCISES if e.file == FIRST.file and e.id in TEST_IDS]
    for exercise_id in spared:
        record = _exercise(batch, "crash_import", exercise_id)
        assert record["status"] == "crashed" and record["points"] == 0, record
        assert record["visible"]["checks"][0]["message"] == (
            f"Python itself stopped with exit status 9 while importing {FIRST.file}: os._exit, a crash inside C "
            f"code, or memory exhausted?")
        assert record["visible"]["checks"][0]["hint"].startswith(f"Run python {FIRST.file} yourself")
    assert f"| {FIRST.id} {FIRST.title} | crashed | 0 of {FIRST.checks} | – | 0 of 4 |" in _feedback(batch, "crash_import")
    _others_full(batch, "crash_import", spared)


def test_a_file_that_does_not_import_names_its_line(batch):
    spared = [e.id for e in EXERCISES if e.file == FIRST.file and e.id in TEST_IDS]
    lines = (batch["made"]["syntax"] / "exercises" / FIRST.file).read_text().splitlines()
    line = lines.index("def broken(:") + 1
    for exercise_id in spared:
        record = _exercise(batch, "syntax", exercise_id)
        assert record["status"] == "import_error" and record["points"] == 0
        assert record["visible"]["checks"][0]["message"].startswith(
            f"does not import: {FIRST.file} line {line}: SyntaxError: ")
    assert f"{FIRST.file} line {line}: SyntaxError" in _feedback(batch, "syntax")
    _others_full(batch, "syntax", spared)


def test_a_crash_in_the_hidden_checks_keeps_the_visible_points_and_the_other_exercises(batch):
    record = _exercise(batch, "late_crash", FIRST.id)
    assert record["visible"]["status"] == "passed" and record["hidden"]["status"] == "crashed"
    assert record["points"] == 3
    assert re.fullmatch(r"Python itself stopped with exit status 7 during check “.+”: os\._exit, a crash inside C "
                        r"code, or memory exhausted\?", record["hidden"]["checks"][0]["message"])
    _others_full(batch, "late_crash")


def test_editing_the_tests_changes_nothing(batch):
    assert _exercise(batch, "tests", FIRST.id) == _exercise(batch, "mix", FIRST.id)
    _others_full(batch, "tests")


def test_printing_to_stderr_costs_nothing(batch):
    results = _results(batch, "stderr")
    assert results["points"] == results["max_points"]


def test_sys_exit_fails_that_exercise_and_names_the_line(batch):
    record = _exercise(batch, "sysexit", FIRST.id)
    assert record["status"] == "failed" and record["points"] == 0
    assert re.fullmatch(rf"your code raised SystemExit: 3 \({re.escape(FIRST.file)} line \d+\)",
                        record["visible"]["checks"][0]["message"])
    _others_full(batch, "sysexit")


@pytest.mark.skipif(not grading.memory_limit_enforced(), reason="RLIMIT_AS is enforced on Linux only")
def test_too_much_memory_is_a_clear_status_for_that_exercise(batch):
    record = _exercise(batch, "memory", FIRST.id)
    assert record["status"] == "memory" and record["points"] == 0
    assert re.fullmatch(rf"your code ran out of memory: it asked for more than the 512 MB the grader allows "
                        rf"\({re.escape(FIRST.file)} line \d+\)", record["visible"]["checks"][0]["message"])
    _others_full(batch, "memory")


def test_right_only_on_the_visible_inputs_fails_the_hidden_checks_and_they_stay_hidden(batch):
    record = _exercise(batch, "cheat", FIRST.id)
    assert record["visible"]["status"] == "passed" and record["hidden"]["status"] == "failed"
    assert record["points"] == 3 and record["status"] == "hidden_failed"
    text = _feedback(batch, "cheat")
    section = text[text.index(f"## {FIRST.id} "):]
    assert "passed; hidden checks failed" in section
    for check in record["hidden"]["checks"]:
        if check["status"] == "failed":
            assert check["check"] in section and check["hint"] in section
            for value in [check["expected"], check["got"], *check["inputs"].values()]:
                assert value not in section, value
    assert "Input" not in section and "Expected" not in section and "Diagnosis" not in section
    hidden_calls = _calls(batch["logs"]["cheat"])[len(batch["seen"]):]
    draws = len([f for f in check_functions(FIRST.id) if draws_inputs(f)])
    assert 0 < len(hidden_calls) <= draws * (HIDDEN_EXAMPLES + 10)     # a hidden failure is not shrunk


def test_two_students_hidden_inputs_differ_and_their_visible_inputs_are_edu_checks(batch):
    seen = batch["seen"]
    drawn = {name: [key for _, key in _calls(batch["logs"][name])] for name in ("spy_a", "spy_b")}
    for calls in drawn.values():
        assert calls[:len(seen)] == seen       # the visible checks: the inputs edu check uses
    hidden = {name: calls[len(seen):] for name, calls in drawn.items()}
    assert hidden["spy_a"] and hidden["spy_b"]
    draws = len([f for f in check_functions(FIRST.id) if draws_inputs(f)])
    assert all(len(h) <= HIDDEN_EXAMPLES * draws for h in hidden.values())     # HIDDEN_EXAMPLES inputs a check
    assert set(hidden["spy_a"]) - set(seen) and set(hidden["spy_b"]) - set(seen)
    assert set(hidden["spy_a"]) != set(hidden["spy_b"])
    assert len(set(hidden["spy_a"]) & set(hidden["spy_b"])) < len(set(hidden["spy_a"])) / 2


def test_the_child_gets_the_derived_seed_never_the_secret(batch):
    dump = json.loads(Path(str(batch["logs"]["spy_a"]) + ".env").read_text())
    seed = grading.student_seed(SECRET.encode(), "spy_a")
    assert str(seed) in dump["spec"] and str(seed) not in json.dumps(dump["env"])
    assert SECRET not in json.dumps(dump) and grading.SECRET_ENV not in dump["env"]


def test_results_keep_every_check_in_numbers_and_nothing_of_the_temporary_folder(batch):
    for path in (batch["out"] / "results").glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert "edu-grade-" not in text and "Traceback" not in text and str(batch["tmp"]) not in text
        results = json.loads(text)
        for e in results["exercises"]:
            for part in ("visible", "hidden"):
                for c in e[part]["checks"]:
                    assert set(c) == {"check", "status", "message", "kind", "hint", "expected", "got", "max_diff",
                                      "inputs", "diagnosis"}
    first = next(c for c in _exercise(batch, "mix", FIRST.id)["visible"]["checks"] if c["status"] == "failed")
    assert isinstance(first["max_diff"], float) and float(f"{first['max_diff']:.3g}") == first["max_diff"]


def test_a_rerun_gives_the_same_files_byte_for_byte_and_force_replaces_the_batch(batch):
    out = batch["out"]
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = ["spy_a", "crash_import"]          # in the other order, one at a time: the same bytes
    args = [str(batch["made"][name]) for name in reversed(again)]
    common = ["--roster", str(batch["roster"]), "--course", str(batch["course"]), "--memory", "512"]
    proc = _edu("grade", *args, "--out", str(out), "--force", "--jobs", "1", *common,
                env_extra={grading.SECRET_ENV: SECRET})
    assert proc.returncode == 0, proc.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for name in again:
        for relative in (Path("results") / f"{name}.json", Path("feedback") / f"{name}.md"):
            assert after[relative] == before[relative], relative
    assert sorted(p.stem for p in (out / "results").iterdir()) == sorted(again)
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows == [line for line in before[Path("grades.csv")].decode().splitlines()
                    if line.split(",")[0] in again + ["student"]]
    drawn = _calls(batch["logs"]["spy_a"])
    assert drawn[:len(drawn) // 2] == drawn[len(drawn) // 2:]     # the same inputs, drawn again


def test_the_full_course_grades_the_solved_workbook_with_every_point(tmp_path):
    """The shipped course.toml, every exercise of the manifest, visible and hidden: the reference earns it all."""
    course = load_course()
    edition = _student_edition(tmp_path / "edition")
    shutil.copytree(edition / "exercises", tmp_path / "alice" / "exercises")
    for name, text in BENCH.submission_files({e.id: "reference" for e in EXERCISES}).items():
        (tmp_path / "alice" / "exercises" / name).write_text(text, encoding="utf-8")
    proc = _edu("grade", str(tmp_path / "alice"), "--out", str(tmp_path / "out"), cwd=tmp_path,
                env_extra={grading.SECRET_ENV: SECRET})
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results" / "alice.json").read_text())
    assert [e["id"] for e in results["exercises"]] == [g.id for g in course.exercises]
    assert results["points"] == results["max_points"] == course.max_points
    assert "alice: " + f"{course.max_points:g} of {course.max_points:g} points" in proc.stderr


# ----- bad usage: one line, exit 2, never a traceback ------------------------------------------------

@pytest.fixture
def workbooks(tmp_path):
    for name in ("alice", "bob"):
        (tmp_path / name / "exercises").mkdir(parents=True)
        shutil.copy(ROOT / "exercises" / FIRST.file, tmp_path / name / "exercises" / FIRST.file)
    return tmp_path


def _usage(args, env=None, cwd=None):
    env = {grading.SECRET_ENV: SECRET} if env is None else env
    result = CliRunner().invoke(cli, ["grade", *args], env=env, catch_exceptions=True)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    return error_lines[0]


def test_bad_usage_exits_2_with_one_line(workbooks, tmp_path):
    out = ["--out", str(tmp_path / "out")]
    assert "no submission given" in _usage(out)
    assert "submission /nonexistent does not exist" in _usage(["/nonexistent", *out])
    (tmp_path / "empty").mkdir()
    assert "holds no workbook" in _usage([str(tmp_path / "empty"), *out])
    assert "is given twice" in _usage([str(workbooks / "alice"), str(workbooks / "alice"), *out])
    assert "no course secret" in _usage([str(workbooks / "alice"), *out], env={grading.SECRET_ENV: ""})
    assert "holds 5 characters; use at least 16" in _usage([str(workbooks / "alice"), *out],
                                                           env={grading.SECRET_ENV: "short"})
    secret = tmp_path / "secret.txt"
    secret.write_text("tiny\n")
    assert "holds 4 characters" in _usage([str(workbooks / "alice"), "--secret-file", str(secret), *out])
    assert "cannot read the secret file" in _usage([str(workbooks / "alice"), "--secret-file", str(tmp_path), *out])
    assert "is inside submission" in _usage([str(workbooks / "alice"), "--out", str(workbooks / "alice" / "g")])
    bad_course = tmp_path / "course.toml"
    bad_course.write_text('name = "x"\n[grading]\nexercises = ["9.99"]\n')
    assert "unknown exercise '9.99'" in _usage([str(workbooks / "alice"), "--course", str(bad_course), *out])
    assert "--jobs" in _usage([str(workbooks / "alice"), "--jobs", "0", *out])
    assert "--timeout" in _usage([str(workbooks / "alice"), "--timeout", "0", *out])


def test_an_existing_batch_is_refused_without_force(workbooks, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "grades.csv").write_text("student,total\n")
    line = _usage([str(workbooks / "alice"), "--out", str(tmp_path / "out")])
    assert "grades.csv already exists; add --force to replace it" in line


@pytest.mark.parametrize("roster, message", [
    ("alice,a1\nbob\n", "roster.csv line 2: 'bob' is not 'folder,student_id'"),
    ("alice,a1\nbob,a1\n", "roster.csv line 2: student id 'a1' is also the id of 'alice'"),
    ("alice,a1\nalice,a2\n", "roster.csv line 2: folder 'alice' is listed twice"),
    ("alice,a1\n", "the roster has no line for folder 'bob'"),
    ("alice,../a1\nbob,b1\n", "roster.csv line 1: '../a1' cannot be a student id"),
    ("folder,student_id\n", "lists no one"),
])
def test_a_bad_roster_exits_2_naming_its_line(workbooks, tmp_path, roster, message):
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    line = _usage([str(workbooks / "alice"), str(workbooks / "bob"), "--roster", str(path),
                   "--out", str(tmp_path / "out")])
    assert message in line, line


def test_two_folders_of_one_name_need_a_roster(workbooks, tmp_path):
    (tmp_path / "again" / "alice" / "exercises").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / FIRST.file, tmp_path / "again" / "alice" / "exercises" / FIRST.file)
    line = _usage([str(workbooks / "alice"), str(tmp_path / "again" / "alice"), "--out", str(tmp_path / "out")])
    assert "are both student 'alice'; rename a folder or give a roster" in line


def test_bad_usage_as_a_process_is_one_line_without_a_traceback(workbooks, tmp_path):
    proc = _edu("grade", str(workbooks / "alice"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "no course secret" in proc.stderr and "Traceback" not in proc.stderr


# ----- the seeds ---------------------------------------------------------------------------------

def test_the_student_seed_is_the_hmac_of_the_student_id_under_the_secret():
    import hashlib
    import hmac
    digest = hmac.new(b"k" * 16, b"alice", hashlib.sha256).digest()
    assert grading.student_seed(b"k" * 16, "alice") == int.from_bytes(digest[:16], "big")
    assert grading.student_seed(b"k" * 16, "alice") != grading.student_seed(b"k" * 16, "bob")
    assert grading.student_seed(b"k" * 16, "alice") != grading.student_seed(b"j" * 16, "alice")


def test_every_check_of_a_student_gets_its_own_seed():
    from tinygrad_edu.course.checking import hidden_check_seed
    seeds = {hidden_check_seed(12345, e.id, fn) for e in EXERCISES for fn in check_functions(e.id)}
    assert len(seeds) == sum(len(check_functions(e.id)) for e in EXERCISES)
    assert hidden_check_seed(12345, FIRST.id, "test_x") != hidden_check_seed(12346, FIRST.id, "test_x")


def test_the_check_names_in_the_progress_lines_are_the_feedbacks():
    assert all("\t" not in check_name(fn) and "\n" not in check_name(fn)
               for e in EXERCISES for fn in check_functions(e.id))


# ----- what docs/TEACHING.md says -----------------------------------------------------------------

def test_the_teaching_guide_states_the_graders_defaults_and_real_options():
    text = " ".join((ROOT / "docs" / "TEACHING.md").read_text(encoding="utf-8").split())
    assert f"`--timeout`, {grading.CHECK_TIMEOUT:g} s by default" in text
    assert f"stopped from outside {grading.KILL_GRACE:g} s later" in text
    assert f"`--memory`, {grading.MEMORY_MB} MB by default" in text
    assert f"on {HIDDEN_EXAMPLES} inputs each made for that student alone" in text
    options = {opt for param in cli.commands["grade"].params for opt in param.opts}
    for option in re.findall(r"edu grade [^`\n]*", text):
        for word in re.findall(r"--[a-z-]+", option):
            assert word in options, word
    for word in ("--timeout", "--memory", "--jobs", "--force", "--roster", "--secret-file", "--out"):
        assert word in text and word in options
    assert "education/autograding@v1" in (ROOT / "tinygrad_edu" / "course" / "classroom.py").read_text()


def test_one_submission_per_core_by_default():
    assert cli.commands["grade"].params[[p.name for p in cli.commands["grade"].params].index("jobs")].default is None
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert grading.default_jobs() == expected


def test_where_the_memory_limit_is_not_enforced_the_grader_says_so(monkeypatch, workbooks, tmp_path):
    monkeypatch.setattr(grading, "memory_limit_enforced", lambda: False)
    monkeypatch.setattr(grading, "grade_all", lambda *args, **kwargs: [])
    result = CliRunner().invoke(cli, ["grade", str(workbooks / "alice"), "--out", str(tmp_path / "out")],
                                env={grading.SECRET_ENV: SECRET})
    assert result.exit_code == 0, result.output
    assert f"does not enforce a memory limit (RLIMIT_AS); --memory {grading.MEMORY_MB} has no effect" in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_every_child_and_writes_nothing(tmp_path):
    pid_file = tmp_path / "child.pid"
    body = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\nwhile True:\n    time.sleep(0.01)"
    edition = _student_edition(tmp_path / "edition")
    _fill(edition, tmp_path / "alice", {FIRST.id: body})
    running = _edu_started("grade", str(tmp_path / "alice"), "--out", str(tmp_path / "out"), "--course",
                           str(_course_file(tmp_path / "course.toml")), env_extra={grading.SECRET_ENV: SECRET})
    try:
        for _ in range(600):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        child = int(pid_file.read_text())
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"edu grade: stopped by SIGINT; nothing was written to {tmp_path / 'out'}"
    assert "Traceback" not in stderr and not (tmp_path / "out").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def _mutant_shapes() -> list:
    """One mutant of each shape the submissions write: a function, a subclass of the workbook's class, another
    class, and one whose file has helpers it calls."""
    import ast as _ast
    found = {}
    for m in MUTANTS:
        text, tree, node = BENCH._mutant_node(m)
        shape = ("function" if isinstance(node, _ast.FunctionDef) else
                 "subclass" if any(_ast.unparse(b).startswith("given.") for b in node.bases) else "class")
        found.setdefault(shape, m)
        if any(isinstance(n, _ast.FunctionDef) and BENCH._mutant_decorator(n) is None for n in tree.body):
            found.setdefault("with helpers", m)
    return list(found.values())


def test_a_mutant_written_into_the_workbook_is_the_mutant(tmp_path):
    """The submissions made of mutants (here and in bench/bench_grade.py) hold the mutant as source text: one of
    each shape fails as the mutant does."""
    from tinygrad_edu.course.checking import run_exercise
    from tinygrad_edu.course.workbook import Workbook
    shapes = _mutant_shapes()
    assert len(shapes) >= 2
    for n, m in enumerate(shapes):
        folder = tmp_path / str(n)
        folder.mkdir()
        for name, text in BENCH.submission_files({e.id: "reference" for e in EXERCISES} | {m.exercise: m}).items():
            (folder / name).write_text(text, encoding="utf-8")
        results = run_exercise(Workbook(folder, EXERCISES), m.exercise)
        failed = [r for r in results if r.status == "failed"]
        assert failed and failed[0].kind == m.kind, (m.exercise, m.why, [r.message for r in results])


def _later_drawing_check():
    """The first function exercise with a check that draws inputs after its first check, and that check's name."""
    import inspect as _inspect
    for e in EXERCISES:
        checks = check_functions(e.id)
        later = [fn for fn in checks[1:] if draws_inputs(fn)]
        if later and _inspect.isfunction(e.load_reference()):
            return e, later
    return None, []


def test_after_a_failed_check_the_exercises_other_checks_do_not_shrink(tmp_path):
    """The feedback shows an exercise's first failure in numbers (shrunk, as edu check shows it) and the others by
    name: those are not shrunk, which is most of the time a wrong answer takes."""
    exercise, later = _later_drawing_check()
    if exercise is None:
        pytest.skip("no exercise has a check that draws inputs after its first check")
    log = tmp_path / "calls.log"
    (tmp_path / "alice" / "exercises").mkdir(parents=True)
    files = BENCH.submission_files({e.id: "reference" for e in EXERCISES})
    files[exercise.file] += _wrapper("wrong", log, exercise=exercise)
    for name, text in files.items():
        (tmp_path / "alice" / "exercises" / name).write_text(text, encoding="utf-8")
    course = tmp_path / "course.toml"
    course.write_text(f'name = "x"\n[grading]\nexercises = ["{exercise.id}"]\n', encoding="utf-8")
    proc = _edu("grade", str(tmp_path / "alice"), "--out", str(tmp_path / "out"), "--course", str(course))
    assert proc.returncode == 0, proc.stderr
    checks = json.loads((tmp_path / "out" / "results" / "alice.json").read_text())["exercises"][0]["visible"]["checks"]
    assert {c["status"] for c in checks} == {"failed"}
    calls = [name for name, _ in _calls(log)]
    for fn in later:
        assert 0 < calls.count(fn.__name__) <= 10, (fn.__name__, calls.count(fn.__name__))   # shrunk: 25
