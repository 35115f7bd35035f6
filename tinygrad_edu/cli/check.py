"""`edu check`: the student's command. Where do I stand, what is wrong, what next."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..course import runner
from ._common import require_course_extra


@click.command("check")
@click.argument("exercises", nargs=-1, metavar="[EXERCISE]...")
@click.option("--workbook", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The workbook folder (default: this folder, or its exercises/ folder).")
@click.option("--verbose", "-v", is_flag=True, help="Also show the traceback of each failed check.")
@click.option("--watch", is_flag=True, help="Check again every time a workbook file is saved (Ctrl-C stops).")
@click.option("--milestone", is_flag=True,
              help="Train the moons network with your ops, backward loop, layers and optimizer (their checks first).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=3600), default=runner.CHECK_TIMEOUT, show_default=True,
              help="Seconds one check may run before it counts as an endless loop.")
def check_command(exercises, workbook, verbose, watch, milestone, timeout):
    """Check your workbook: ✓ passed, ✗ failed, · not attempted, and the next exercise to do.

    EXERCISE is an id such as 2.8, or a chapter number such as 2; without one, every exercise is
    checked. For a failed exercise you see the check that failed with its numbers (the smallest
    input that fails, expected, got, the largest difference), a hint and a diagnosis. Exit status
    0 only when every exercise asked for passes. --milestone: train a network on the two-moons
    data with your own parts once their checks pass; exit 0 when it reaches the goal accuracy.
    """
    require_course_extra("edu check")
    try:
        folder = runner.find_workbook(workbook)
        runner.select(list(exercises), runner.load())
    except runner.CheckSetupError as exc:
        raise click.UsageError(str(exc)) from None
    if milestone:
        if exercises or watch:
            raise click.UsageError("--milestone checks the parts it needs itself: give it no EXERCISE and no --watch")
        from ..course.milestone import run as run_milestone   # it needs pytest and hypothesis: only here
        result = run_milestone(folder)
        click.echo(result.message)
        sys.exit(0 if result.passed else 1)
    encoding = getattr(sys.stdout, "encoding", None)
    if not watch:
        sys.exit(_run_once(folder, exercises, verbose, timeout, encoding))
    files, seen = runner.workbook_files(folder), None
    try:
        while True:
            now = runner.snapshot(files)
            if now != seen:
                seen = now
                click.clear()
                _run_once(folder, exercises, verbose, timeout, encoding)
                click.echo("\nWatching the workbook: save a file to check again, Ctrl-C to stop.")
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nStopped watching.")
        sys.exit(130)


def _run_once(folder, exercises, verbose, timeout, encoding) -> int:
    try:
        report = runner.run_checks(folder, list(exercises), check_timeout=timeout)
    except runner.CheckSetupError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(runner.render(report, verbose=verbose, encoding=encoding))
    return 0 if report.ok else 1
