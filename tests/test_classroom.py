"""The GitHub Classroom files made from course.toml: one autograding test per exercise, and the workflow."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.course.classroom import AUTOGRADING, WORKFLOW, autograding_tests, workflow, write_classroom_files
from tinygrad_edu.course.coursefile import load_course
from tinygrad_edu.course.manifest import load

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load()
FIRST = EXERCISES[0]
# The fields GitHub Classroom's autograding action reads for a test, and its comparison modes.
TEST_FIELDS = {"name", "setup", "run", "input", "output", "comparison", "timeout", "points"}


def _course(tmp_path, text):
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return load_course(path)


def test_every_exercise_is_one_test_worth_its_visible_points(tmp_path):
    course = load_course()
    files = write_classroom_files(tmp_path, course)
    assert files == [tmp_path / AUTOGRADING, tmp_path / WORKFLOW]
    assert AUTOGRADING == Path(".github/classroom/autograding.json")
    config = json.loads((tmp_path / AUTOGRADING).read_text(encoding="utf-8"))
    assert list(config) == ["tests"]
    tests = config["tests"]
    assert [t["name"] for t in tests] == [f"{e.id} {e.title}" for e in EXERCISES]
    assert [t["run"] for t in tests] == [f"edu check {e.id}" for e in EXERCISES]
    assert [t["points"] for t in tests] == [g.points for g in course.exercises]
    for t in tests:
        assert set(t) == TEST_FIELDS
        assert (t["setup"], t["input"], t["output"], t["comparison"]) == ("", "", "", "included")
        assert t["timeout"] == course.classroom_timeout and isinstance(t["points"], int)


def test_points_and_timeout_follow_the_course_file(tmp_path):
    course = _course(tmp_path, f'name = "HW"\n[grading]\nexercises = ["{FIRST.id}"]\npoints = 1.5\nhidden_points = 7\n'
                               f'[classroom]\ntimeout = 2\npython = "3.12"\n')
    tests = autograding_tests(course)["tests"]
    assert [(t["run"], t["points"], t["timeout"]) for t in tests] == [(f"edu check {FIRST.id}", 1.5, 2)]
    assert 'python-version: "3.12"' in workflow(course)


def test_the_workflow_installs_the_checks_and_runs_the_autograding(tmp_path):
    yaml = pytest.importorskip("yaml")
    course = load_course()
    write_classroom_files(tmp_path, course)
    flow = yaml.safe_load((tmp_path / WORKFLOW).read_text(encoding="utf-8"))
    steps = flow["jobs"]["build"]["steps"]
    assert flow[True] == ["push", "workflow_dispatch"]          # YAML 1.1 reads the key `on` as true
    assert flow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert [s.get("uses") for s in steps] == ["actions/checkout@v4", "actions/setup-python@v5", None,
                                              "education/autograding@v1"]
    assert steps[1]["with"] == {"python-version": course.python}
    assert steps[2]["run"] == 'python -m pip install ".[course]"'
    assert "course" in (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[project.optional-dependencies]")[1]


def test_the_test_command_passes_in_the_repositorys_root_when_the_exercise_is_solved(tmp_path):
    """Each test's command, run as the classroom runs it (in the repository's root). That `edu check` exits with
    a non-zero status when an exercise does not pass is tests/test_cli_check.py's."""
    test = autograding_tests(load_course())["tests"][0]
    assert test["run"] == f"edu check {FIRST.id}"
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / FIRST.file).write_text((ROOT / "exercises" / FIRST.file).read_text(encoding="utf-8"))
    command = [sys.executable, str(ROOT / "cli.py"), *test["run"].split()[1:]]
    solved = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "1 of 1 exercises pass" in solved.stdout


def test_writing_twice_gives_the_same_bytes(tmp_path):
    course = load_course()
    first = [p.read_bytes() for p in write_classroom_files(tmp_path / "a", course)]
    second = [p.read_bytes() for p in write_classroom_files(tmp_path / "a", course)]
    assert first == second


def test_the_student_edition_carries_the_classroom_files(tmp_path):
    """`edu course build --student` writes them from the course file (once the edition builder exists)."""
    edition = pytest.importorskip("tinygrad_edu.course.edition")
    if "classroom" not in edition.PARTS:
        pytest.skip("the edition builder does not write the classroom files yet (a 'classroom' part that calls "
                    "classroom.write_classroom_files)")
    edition.build_student(ROOT, tmp_path / "student")
    course = load_course()
    expected = tmp_path / "expected"
    write_classroom_files(expected, course)
    for relative in (AUTOGRADING, WORKFLOW):
        assert (tmp_path / "student" / relative).read_bytes() == (expected / relative).read_bytes()


def test_the_files_as_text_are_the_files_written(tmp_path):
    from tinygrad_edu.course.classroom import classroom_files
    course = load_course()
    texts = classroom_files(course)
    assert list(texts) == [AUTOGRADING.as_posix(), WORKFLOW.as_posix()]
    write_classroom_files(tmp_path, course)
    assert all((tmp_path / relative).read_text(encoding="utf-8") == text for relative, text in texts.items())
