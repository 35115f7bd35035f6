"""`edu grade`: the teacher's command. Every submission, the grader's own checks, grades and feedback."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..course import grading
from ..course.coursefile import COURSE_FILE, CourseError, format_points, load_course
from ._common import Stopped, refuse_existing, require_course_extra, stoppable


def _course_file(given: Path | None) -> Path:
    """--course, else exercises/course.toml (or course.toml) here, else the checkout's."""
    if given is not None:
        return given
    for candidate in (Path("exercises") / "course.toml", Path("course.toml")):
        if candidate.is_file():
            return candidate
    return COURSE_FILE


@click.command("grade")
@click.argument("submissions", nargs=-1, metavar="SUBMISSION...", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for grades.csv, results/STUDENT.json and feedback/STUDENT.md.")
@click.option("--roster", type=click.Path(path_type=Path), default=None,
              help="CSV file of lines folder,student_id (default: the student id is the folder's name).")
@click.option("--secret-file", type=click.Path(path_type=Path), default=None,
              help=f"File holding the course secret the hidden inputs are made from (default: ${grading.SECRET_ENV}).")
@click.option("--course", "course_file", type=click.Path(path_type=Path), default=None,
              help="The course file (default: exercises/course.toml).")
@click.option("--jobs", type=click.IntRange(min=1, max=512), default=None,
              help="Submissions graded at once (default: one per core).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=grading.CHECK_TIMEOUT,
              show_default=True, help="Seconds one check may run before it counts as an endless loop.")
@click.option("--memory", type=click.IntRange(min=0, max=1 << 20), default=grading.MEMORY_MB, show_default=True,
              help="Megabytes of memory each submission's process may use (0: no limit; Linux only).")
@click.option("--force", is_flag=True, help="Replace the grades already in --out.")
def grade_command(submissions, out, roster, secret_file, course_file, jobs, timeout, memory, force):
    """Grade SUBMISSION folders (students' editions): visible and hidden checks, grades and feedback.

    Each submission is checked by this installation's checks (never the submission's) in a fresh
    folder holding only its workbook files, in its own process with a time and a memory limit.
    Once an exercise's checks pass, its hidden checks re-run them on inputs made for each student
    from the course secret. Writes grades.csv, results/STUDENT.json (every check) and
    feedback/STUDENT.md (for the student). Exit status 0 when every submission is graded, whatever
    the grades; 2 on bad usage; 128 + the signal's number when stopped (nothing is written).
    """
    require_course_extra("edu grade")
    try:
        course = load_course(_course_file(course_file))
    except CourseError as exc:
        raise click.UsageError(f"{exc} (--course)") from None
    try:
        roster_map = grading.read_roster(roster) if roster is not None else None
        found = grading.find_submissions(list(submissions), roster_map)
        secret = grading.read_secret(secret_file, os.environ) if course.has_hidden_checks else None
    except grading.GradingError as exc:
        raise click.UsageError(str(exc)) from None
    for submission in found:
        inside = out.resolve()
        if inside == submission.folder.resolve() or submission.folder.resolve() in inside.parents:
            raise click.BadParameter(f"{out} is inside submission {submission.folder}; choose a folder outside the "
                                     f"submissions", param_hint="'--out'")
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file; give a folder", param_hint="'--out'")
    previous = grading.existing_grades(out)
    if previous and not force:
        refuse_existing(previous[:1], False, "--out", "a folder")
    if not grading.memory_limit_enforced() and memory:
        click.echo(f"note: this system does not enforce a memory limit (RLIMIT_AS); --memory {memory} has no effect",
                   err=True)

    def graded(result):
        click.echo(f"{result.student}: {format_points(result.points)} of {format_points(course.max_points)} points",
                   err=True)
    try:
        with stoppable():
            grades = grading.grade_all(found, course, secret, jobs=jobs, check_timeout=timeout,
                                       memory_mb=memory or None, on_graded=graded)
        written = grading.write_grades(out, grades, course, replaced=previous)
    except Stopped as exc:
        click.echo(f"edu grade: stopped by {exc.name}; nothing was written to {out}", err=True)
        sys.exit(128 + exc.signum)
    except grading.GradingError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.BadParameter(f"cannot write in {out}: {exc.strerror or exc}; choose another --out",
                                 param_hint="'--out'") from None
    click.echo(f"graded {len(grades)} submission{'s' * (len(grades) != 1)}: {written[-1]}, "
               f"{out / 'results'}, {out / 'feedback'}")
