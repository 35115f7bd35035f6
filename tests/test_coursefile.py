"""exercises/course.toml: what is graded, for how many points; each mistake is one line naming the entry and the fix."""
import re
from pathlib import Path

import pytest

from tinygrad_edu.course import grading
from tinygrad_edu.course.coursefile import (COURSE_FILE, DEFAULT_PARTS, CourseError, format_points,
                                            load_course)
from tinygrad_edu.course.manifest import load

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load()
FIRST = EXERCISES[0]


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(CourseError) as caught:
        load_course(_write(tmp_path, text))
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_the_shipped_course_grades_every_exercise_of_the_manifest():
    course = load_course()
    assert COURSE_FILE == ROOT / "exercises" / "course.toml" and course.path == COURSE_FILE
    assert [g.id for g in course.exercises] == [e.id for e in EXERCISES]
    assert all((g.points, g.hidden_points) == (2, 1) for g in course.exercises)
    assert course.max_points == 3 * len(EXERCISES)
    assert course.parts == DEFAULT_PARTS and course.classroom_timeout == 5 and course.python == "3.11"
    grading.check_course(course)          # the installed checks can grade it, hidden points included


def test_the_shipped_course_file_says_what_it_holds():
    text = COURSE_FILE.read_text(encoding="utf-8")
    course = load_course()
    assert f'name = "{course.name}"' in text and 'exercises = "all"' in text
    assert "points = 2" in text and "hidden_points = 1" in text and "timeout = 5" in text


def test_defaults_a_selection_and_overrides(tmp_path):
    chapter = str(FIRST.chapter)
    course = load_course(_write(tmp_path, f'''
name = "Homework 1"
[grading]
exercises = ["{chapter}"]
points = 1.5
[[exercise]]
id = "{FIRST.id}"
points = 4
hidden_points = 2
'''))
    in_chapter = [e.id for e in EXERCISES if e.chapter == FIRST.chapter]
    assert [g.id for g in course.exercises] == in_chapter
    assert (course.graded(FIRST.id).points, course.graded(FIRST.id).hidden_points) == (4, 2)
    others = [g for g in course.exercises if g.id != FIRST.id]
    assert all((g.points, g.hidden_points) == (1.5, 0) for g in others)
    assert course.max_points == 6 + 1.5 * len(others)
    assert course.parts == DEFAULT_PARTS and course.has_hidden_checks
    assert not load_course(_write(tmp_path, 'name = "x"\n')).has_hidden_checks


def test_a_minimal_course_file_is_every_exercise_for_a_point_each(tmp_path):
    course = load_course(_write(tmp_path, 'name = "x"\n'))
    assert [(g.id, g.points, g.hidden_points) for g in course.exercises] == [(e.id, 1, 0) for e in EXERCISES]


@pytest.mark.parametrize("body, expected", [
    ('[[exercise]]\nid = "9.99"\n', r"course\.toml: \[\[exercise\]\] #1 \(9\.99\): unknown exercise '9\.99'; the "
                                     r"manifest's exercises are .* \(edu check lists them\)"),
    ('[grading]\nexercises = ["9.99"]\n', r"course\.toml: \[grading\] exercises: unknown exercise '9\.99'"),
    ('[grading]\npoints = -1\n', r"course\.toml: \[grading\]: points = -1 is negative; points are ≥ 0"),
    ('[grading]\nhidden_points = "two"\n', r"course\.toml: \[grading\]: hidden_points = 'two' is not a number; "
                                           r"write a number of points ≥ 0"),
    ('[grading]\npoints = true\n', r"points = True is not a number"),
    ('[grading]\npoints = nan\n', r"points = nan is not a number"),
    (f'[[exercise]]\nid = "{FIRST.id}"\npoints = -2\n',
     rf"course\.toml: \[\[exercise\]\] #1 \({re.escape(FIRST.id)}\): points = -2 is negative"),
    (f'[[exercise]]\nid = "{FIRST.id}"\n[[exercise]]\nid = "{FIRST.id}"\n',
     rf"\[\[exercise\]\] #2 \({re.escape(FIRST.id)}\): id {re.escape(FIRST.id)} is listed twice \(also "
     rf"\[\[exercise\]\] #1\); keep one entry"),
    ('[[exercise]]\npoints = 2\n', r"\[\[exercise\]\] #1: has no id; add id = "),
    ('pionts = 2\n', r"course\.toml: top level: unknown key 'pionts'; the keys of the top level are name, grading"),
    ('[grading]\npionts = 2\n', r"course\.toml: \[grading\]: unknown key 'pionts'; the keys of \[grading\] are "
                                r"exercises, points, hidden_points"),
    (f'[[exercise]]\nid = "{FIRST.id}"\nbonus = 1\n', r"unknown key 'bonus'; the keys of \[\[exercise\]\] are id"),
    ('[release]\nparts = ["exercises", "/etc"]\n', r"\[release\] parts: '/etc': must be relative to the repository"),
    ('[release]\nparts = ["exercises", "../x"]\n', r"parts: '\.\./x': must stay inside the repository"),
    ('[release]\nparts = ["exercises", "exercises/mutants"]\n', r"would put the mutants \(near-solutions\) or \.git"),
    ('[release]\nparts = ["exercises", ".git"]\n', r"would put the mutants"),
    ('[release]\nparts = ["exercises", "docs", "docs"]\n', r"parts: 'docs': is listed twice"),
    ('[release]\nparts = ["docs"]\n', r"\[release\] parts: has no \"exercises\""),
    ('[release]\nparts = ["exercises", ""]\n', r"a part is a non-empty path"),
    ('[release]\nparts = "docs"\n', r"must be a list of paths"),
    ('[classroom]\ntimeout = 0\n', r"\[classroom\] timeout: 0 must be a number of minutes in \(0, 360\]"),
    ('[classroom]\npython = "2.7"\n', r"\[classroom\] python: '2\.7' must be a Python version such as \"3\.11\""),
    ('[grading]\npoints = 0\n', r"\[grading\]: no exercise is worth any points"),
    ('grading = 3\n', r"grading: must be a table \[grading\]"),
])
def test_each_mistake_is_one_line_naming_the_entry_and_the_fix(tmp_path, body, expected):
    problems = _problems(tmp_path, 'name = "x"\n' + body)
    assert len(problems) == 1 and "\n" not in problems[0], problems
    assert re.search(expected, problems[0]), problems[0]


def test_every_mistake_is_reported_at_once(tmp_path):
    problems = _problems(tmp_path, '[grading]\npoints = -1\nhidden_points = "x"\n[[exercise]]\nid = "9.99"\n'
                                   '[classroom]\ntimeout = -3\n')
    assert [p.split(": ")[1] for p in problems] == ["name", "[grading]", "[grading]", "[[exercise]] #1 (9.99)",
                                                    "[classroom] timeout"]


def test_an_exercise_entry_must_be_graded(tmp_path):
    if len(EXERCISES) < 2:
        pytest.skip("needs two exercises in the manifest")
    second = EXERCISES[1]
    problems = _problems(tmp_path, f'name = "x"\n[grading]\nexercises = ["{FIRST.id}"]\n'
                                   f'[[exercise]]\nid = "{second.id}"\n')
    assert problems == [f"course.toml: [[exercise]] #1 ({second.id}): exercise {second.id} is not graded: add it to "
                        f"[grading] exercises, or remove this entry"]


def test_unreadable_and_malformed_files_are_one_line(tmp_path):
    with pytest.raises(CourseError, match=r"cannot read the course file .*exercises/course\.toml"):
        load_course(tmp_path / "missing.toml")
    (tmp_path / "course.toml").write_bytes(b"name = \xff\n")
    with pytest.raises(CourseError, match=r"course\.toml: is not UTF-8 text; save it as UTF-8"):
        load_course(tmp_path / "course.toml")
    with pytest.raises(CourseError, match=r"course\.toml: is not valid TOML \(.*line 1.*\); fix that line"):
        load_course(_write(tmp_path, "name = \n"))


def test_hidden_points_need_a_check_that_draws_inputs(tmp_path):
    course = load_course(_write(tmp_path, f'name = "x"\n[grading]\nexercises = ["{FIRST.id}"]\nhidden_points = 1\n'))
    grading.check_course(course)
    broken = type(course.exercises[0].exercise)(**{**course.exercises[0].exercise.__dict__, "checks": 99})
    wrong = type(course)(course.name, (type(course.exercises[0])(broken, 1, 1),))
    with pytest.raises(grading.GradingError, match=rf"exercise {re.escape(FIRST.id)}: \d+ checks are installed but "
                                                   r"the manifest declares 99; reinstall tinygrad_edu"):
        grading.check_course(wrong)


def test_points_are_written_as_a_teacher_writes_them():
    assert [format_points(p) for p in (2, 2.0, 1.5, 0.25, 10 / 3)] == ["2", "2", "1.5", "0.25", "3.33333"]


def test_the_default_parts_are_what_the_edition_builder_copies():
    from tinygrad_edu.course.edition import INCLUDED
    assert DEFAULT_PARTS == INCLUDED
