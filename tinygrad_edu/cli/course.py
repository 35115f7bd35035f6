"""`edu course build --student DIR`: write the student edition (a click wrapper over course.edition)."""
from __future__ import annotations

from pathlib import Path

import click

from ..course.edition import EditionError, EditionUsageError, build_student, find_source_root, is_instructor_edition
from ._common import Stopped, check_names_a_file, stoppable


@click.group("course")
def course_group() -> None:
    """The course's editions: this repository is the instructor's; build the students' from it."""


@course_group.command("build")
@click.option("--student", "student", metavar="DIR", required=True,
              help="Write the student edition to DIR (a new or empty folder, or an earlier build with --force).")
@click.option("--force", is_flag=True,
              help="Replace DIR if it is an earlier build left as that build wrote it (never any other folder).")
@click.option("--source", metavar="ROOT", default=None,
              help="The instructor's edition to build from (default: the repository around the current folder, "
                   "else the one the installed package lives in).")
def build_command(student, force, source):
    """Write the student edition: every solution replaced by a stub, the chapters' solutions removed.

    \b
    edu course build --student ../student-edition
    Workbook solutions (# BEGIN SOLUTION ... # END SOLUTION) become
    raise NotImplementedError("exercise 2.8: ..."); each chapter's solution fold
    (<!-- BEGIN SOLUTION --> ... <!-- END SOLUTION -->) becomes one line. The edition is proven
    before it is written: no solution line remains in any file outside tinygrad_edu/ (the
    engine, the readable reference, is copied as it is).
    Exits 0 when written, 1 when the source's markers are wrong or a solution would leak (nothing
    is written), 2 on bad usage, 128 + the signal's number when stopped (DIR is left as it was,
    or holds the whole new edition).
    """
    check_names_a_file(student, "--student", "a folder for the student edition, e.g. --student student")
    if source is not None:
        check_names_a_file(source, "--source", "the instructor's repository folder")
        if not is_instructor_edition(source):
            raise click.BadParameter(f"{source} is not the instructor's edition (it needs exercises/ and "
                                     f"tinygrad_edu/course/manifest.toml); give the repository's folder",
                                     param_hint="--source")
    try:
        root = Path(source) if source is not None else find_source_root()
        with stoppable():
            report = build_student(root, student, force=force)
    except Stopped as exc:
        click.echo(f"edu course build: stopped by {exc.name}; {student} is as it was, "
                   f"or holds the whole new edition, never a part of one", err=True)
        raise SystemExit(128 + exc.signum) from None
    except EditionUsageError as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None
    except EditionError as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    click.echo(report.summary(shown_as=student))
