"""`edu check`: the table, the feedback of a failure in numbers, not attempted, exit statuses, --watch."""
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu.course import runner
from tinygrad_edu.course.manifest import load

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "exercises"
EXERCISES = load()
FIRST = EXERCISES[0]


def _edu(*args, cwd=ROOT, timeout=120):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONIOENCODING="utf-8"))


def _copy_workbook(dest: Path) -> Path:
    dest.mkdir()
    for path in WORKBOOK.glob("*.py"):
        shutil.copy(path, dest / path.name)
    return dest


def _replace_solution(path: Path, exercise_id: str, body: str) -> None:
    """Put `body` (one line, at the solution's indentation) in place of the solution of `exercise_id`'s function."""
    ex = {e.id: e for e in EXERCISES}[exercise_id]
    text = path.read_text(encoding="utf-8")
    start = text.index(f"def {ex.name}(") if f"def {ex.name}(" in text else text.index(f"class {ex.name}")
    begin = text.index("# BEGIN SOLUTION", start)
    end = text.index("# END SOLUTION", begin) + len("# END SOLUTION")
    indent = text[text.rindex("\n", 0, begin) + 1:begin]
    path.write_text(text[:begin] + body.replace("\n", "\n" + indent) + text[end:], encoding="utf-8")


def test_the_instructor_workbook_passes_every_exercise_with_exit_0():
    proc = _edu("check", cwd=WORKBOOK, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(EXERCISES)} of {len(EXERCISES)} exercises pass" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_stub_is_not_attempted_and_the_exit_status_is_1(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    _replace_solution(wb / FIRST.file, FIRST.id, f'raise NotImplementedError("exercise {FIRST.id}: {FIRST.title}")')
    proc = _edu("check", FIRST.id, "--workbook", str(wb))
    assert proc.returncode == 1
    assert re.search(rf"· {re.escape(FIRST.id)}\s+{re.escape(FIRST.title)}\s*$", proc.stdout, re.M), proc.stdout
    assert f"Next: write {FIRST.id}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and "NotImplementedError" not in proc.stdout


def test_a_wrong_answer_shows_the_failed_check_in_numbers_with_its_hint(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    _replace_solution(wb / "ex02_ops.py", "2.8", "return g * (out * out - 1)")
    proc = _edu("check", "2.8", "--workbook", str(wb))
    assert proc.returncode == 1
    out = proc.stdout
    assert "✗ 2.8" in out and "check:" in out and "expected:" in out and "got:" in out
    assert "largest difference" in out and "input:" in out
    assert {e.id: e for e in EXERCISES}["2.8"].hints["sign"] in out
    assert "diagnosis: The backward of op 'tanh' is wrong" in out
    assert "Traceback" not in out + proc.stderr
    verbose = _edu("check", "2.8", "--workbook", str(wb), "--verbose")
    assert "traceback:" in verbose.stdout and "CheckFailed" in verbose.stdout


def test_a_file_that_does_not_import_names_its_line_and_spares_the_other_files(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    _replace_solution(wb / "ex02_ops.py", "2.8", "return g * (1 - out * out))")
    proc = _edu("check", "--workbook", str(wb), timeout=300)
    assert proc.returncode == 1
    assert re.search(r"does not import: ex02_ops\.py line \d+: SyntaxError", proc.stdout), proc.stdout
    others = [e for e in EXERCISES if e.file != "ex02_ops.py"]
    for e in others:
        assert re.search(rf"✓ {re.escape(e.id)}\s", proc.stdout), (e.id, proc.stdout)
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_endless_loop_times_out_and_a_sys_exit_is_a_failure(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    _replace_solution(wb / "ex02_ops.py", "2.8", "while True:\n    pass")
    proc = _edu("check", "2.8", "--workbook", str(wb), "--timeout", "0.5")
    assert proc.returncode == 1 and "timed out" in proc.stdout and "still running after 0.5 s" in proc.stdout
    path = wb / "ex02_ops.py"
    path.write_text(path.read_text().replace("while True:\n        pass", "raise SystemExit(3)"))
    proc = _edu("check", "2.8", "--workbook", str(wb))
    assert proc.returncode == 1 and "your code raised SystemExit: 3 (ex02_ops.py line" in proc.stdout, proc.stdout


def test_a_crash_of_the_whole_process_is_reported_not_raised(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    _replace_solution(wb / "ex02_ops.py", "2.8", "import os\nos._exit(9)")
    proc = _edu("check", "2.8", "--workbook", str(wb))
    assert proc.returncode == 1 and "(crashed)" in proc.stdout and "exit status 9" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_pytest_plugin_the_student_installed_does_not_run_with_the_checks(tmp_path):
    # an installed plugin (a dist with a pytest11 entry point) that would crash any pytest it loads into
    site = tmp_path / "site"
    (site / "crashing_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "crashing_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: crashing-plugin\n"
                                                                      "Version: 1.0\n")
    (site / "crashing_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pytest11]\ncrashing = crashing_plugin\n")
    (site / "crashing_plugin.py").write_text("import os\nos._exit(7)\n")
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONPATH=str(site))
    loads = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", str(site)], capture_output=True,
                           env=env, timeout=60)
    assert loads.returncode == 7                 # a plain pytest does load it
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "2.8"], cwd=WORKBOOK, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 of 1 exercises pass" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["check", "9.99"], "no exercise '9.99'"),
    (["check", "--workbook", "/nonexistent-folder"], "no workbook in /nonexistent-folder"),
    (["check", "--timeout", "0"], "--timeout"),
])
def test_bad_usage_exits_2_with_one_line(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_checks_collected_must_match_the_manifest(tmp_path):
    doubled = [e if e.id != "2.8" else type(e)(**{**e.__dict__, "checks": e.checks + 1}) for e in EXERCISES]
    with pytest.raises(runner.CheckSetupError, match=r"exercise 2\.8: pytest collected 3 checks but the manifest "
                                                     r"declares 4"):
        runner.run_checks(WORKBOOK, ["2.8"], exercises=doubled)


def test_the_table_falls_back_to_ascii_where_the_terminal_cannot_print_the_symbols():
    report = runner.Report(WORKBOOK, [runner.ExerciseReport(e, "passed") for e in EXERCISES[:2]])
    assert "✓" in runner.render(report, encoding="utf-8")
    text = runner.render(report, encoding="ascii")
    assert "✓" not in text and f"ok {EXERCISES[0].id}" in text


def test_a_chapter_number_selects_its_exercises():
    chapter = str(FIRST.chapter)
    assert [e.id for e in runner.select([chapter], EXERCISES)] == [e.id for e in EXERCISES if e.chapter == FIRST.chapter]


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="POSIX signals")
def test_watch_checks_again_when_a_file_is_saved_and_stops_on_ctrl_c(tmp_path):
    wb = _copy_workbook(tmp_path / "wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "check", "2.8", "--watch", "--workbook", str(wb)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONIOENCODING="utf-8", TERM="dumb"))
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def read_until(text, seconds=60):
        seen, deadline = [], time.time() + seconds
        while time.time() < deadline:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            if text in seen[-1]:
                return "".join(seen)
        raise AssertionError(f"no {text!r} in: {''.join(seen)}")
    try:
        first = read_until("Watching the workbook")
        assert "1 of 1 exercises pass" in first
        _replace_solution(wb / "ex02_ops.py", "2.8", "return g * (out * out - 1)")
        second = read_until("Watching the workbook")
        assert "0 of 1 exercises pass" in second
        proc.send_signal(signal.SIGINT)
        assert "Stopped watching." in read_until("Stopped watching.")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in proc.stderr.read()


def test_the_milestone_trains_with_the_instructor_parts_and_names_what_a_stub_leaves_to_do(tmp_path):
    from tinygrad_edu.course.milestone import PASS_ACCURACY
    proc = _edu("check", "--milestone", cwd=WORKBOOK)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Milestone passed") and f"≥ {PASS_ACCURACY:.0%} needed" in proc.stdout
    wb = _copy_workbook(tmp_path / "wb")
    backward = {e.id: e for e in EXERCISES if e.name == "backward"}
    (ex,) = backward.values()
    _replace_solution(wb / ex.file, ex.id, f'raise NotImplementedError("exercise {ex.id}: {ex.title}")')
    proc = _edu("check", "--milestone", "--workbook", str(wb))
    assert proc.returncode == 1 and f"{ex.id} {ex.title} (not attempted)" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert CliRunner().invoke(cli, ["check", "--milestone", "2.8"]).exit_code == 2


def test_a_fresh_student_edition_is_all_not_attempted_with_no_traceback(tmp_path):
    from tinygrad_edu.course.edition import build_student
    build_student(ROOT, tmp_path / "student")
    proc = _edu("check", cwd=tmp_path / "student" / "exercises", timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"0 of {len(EXERCISES)} exercises pass" in proc.stdout
    for e in EXERCISES:
        assert re.search(rf"^  · {re.escape(e.id)}\s+{re.escape(e.title)}$", proc.stdout, re.M), e.id
    assert f"Next: write {EXERCISES[0].id} {EXERCISES[0].title}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and "✗" not in proc.stdout


# Runs the launcher with pytest and hypothesis missing, as after `pip install -e .` without the course extra.
WITHOUT_THE_COURSE_EXTRA = """
import sys
class Missing:                     # each finder, blind to pytest and hypothesis: not found, as if not installed
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pytest", "_pytest", "hypothesis"):
            return None
        return self.finder.find_spec(name, path, target)
    def __getattr__(self, name):
        return getattr(self.finder, name)
sys.meta_path[:] = [Missing(finder) for finder in sys.meta_path]
sys.path.insert(0, sys.argv[1])
sys.argv = ["edu", *sys.argv[2:]]
from tinygrad_edu_launcher import main
main()
"""


@pytest.mark.parametrize("args, status", [
    (["train", "--optimizer", "momentum", "--epochs", "2"], 0),
    (["course", "build", "--help"], 0),
    (["grade", "--help"], 0),
    (["check", "2.8"], 2),
    (["grade", "submission", "--out", "graded"], 2),
])
def test_every_command_starts_without_the_course_extra(tmp_path, args, status):
    proc = subprocess.run([sys.executable, "-c", WITHOUT_THE_COURSE_EXTRA, str(ROOT), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    if status == 2:
        assert f"edu {args[0]} needs pytest and hypothesis" in proc.stderr and "[course]" in proc.stderr


def test_without_the_course_extra_edu_check_says_what_to_install(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hypothesis" else real(name, *a))
    result = CliRunner().invoke(cli, ["check", "2.8", "--workbook", str(WORKBOOK)])
    assert result.exit_code == 2 and "edu check needs hypothesis" in result.output and "[course]" in result.output
