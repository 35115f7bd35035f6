"""What a GitHub Classroom assignment needs, made from the course file: its autograding tests and its workflow.

    write_classroom_files("student-edition", load_course())     # or classroom_files(course): {path: text}
    # student-edition/.github/classroom/autograding.json   one test per exercise: `edu check ID`, its points
    # student-edition/.github/workflows/classroom.yml     installs the package with its checks, runs them

The autograding file is the one GitHub Classroom's autograding action reads
(``.github/classroom/autograding.json``): a list of tests, each a shell command (``run``) that
passes when it exits with status 0, worth ``points``, stopped after ``timeout`` minutes; with no
``input`` and no ``output``, the exit status alone decides. ``edu check ID`` exits 0 only when every
check of that exercise passes, so each test is worth the exercise's (visible) points. The hidden
points are not there: the hidden checks need the course secret, which never goes into a student's
repository; ``edu grade`` awards them.

The classroom runs the student's own repository, checks included: a student can edit them, or the
workflow. Its scores are a convenience for the students; the grades come from ``edu grade``, which
uses your copy of the checks.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..io import atomic_write_text
from .coursefile import Course

AUTOGRADING = Path(".github") / "classroom" / "autograding.json"
WORKFLOW = Path(".github") / "workflows" / "classroom.yml"


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def autograding_tests(course: Course) -> dict:
    """The autograding configuration: one test per graded exercise, worth its visible points."""
    return {"tests": [{"name": f"{g.id} {g.exercise.title}", "setup": "", "run": f"edu check {g.id}",
                       "input": "", "output": "", "comparison": "included",
                       "timeout": _number(course.classroom_timeout), "points": _number(g.points)}
                      for g in course.exercises]}


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def workflow(course: Course) -> str:
    """The student repository's workflow: on every push, install the package with its checks and run the tests."""
    return "\n".join([
        f"# Written by `edu course build --student` from course.toml ({_yaml_string(course.name)}).",
        "# GitHub Classroom runs it on every push: each exercise's `edu check ID` is one autograding test.",
        "name: GitHub Classroom Workflow",
        "",
        "on:",
        "  - push",
        "  - workflow_dispatch",
        "",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "",
        "jobs:",
        "  build:",
        "    name: Autograding",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {_yaml_string(course.python)}",
        "      - name: Install tinygrad_edu with the checks (its course extra)",
        "        run: python -m pip install \".[course]\"",
        "      - uses: education/autograding@v1",
        "",
    ])


def classroom_files(course: Course) -> dict[str, str]:
    """{path in the student edition: text}: the autograding configuration and the workflow."""
    return {AUTOGRADING.as_posix(): json.dumps(autograding_tests(course), indent=2, ensure_ascii=False) + "\n",
            WORKFLOW.as_posix(): workflow(course)}


def write_classroom_files(dest, course: Course) -> list[Path]:
    """Write the autograding configuration and the workflow into the edition at `dest` (atomically)."""
    files = []
    for relative, text in classroom_files(course).items():
        path = Path(dest) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        files.append(atomic_write_text(path, text))
    return files
