"""The `edu` command line: thin click wrappers over the tinygrad_edu library.

One module per group of commands: ``train`` (train, compare, optimizers), ``ablate``
(ablate, landscape), ``graph``, ``diagnose``, ``check`` (the workbook) and ``course`` (the
student edition); ``_common`` holds what they share. Every command parses its options, calls
the library and prints the result. Bad usage exits with status 2 and a
one-line message (click.UsageError / click.BadParameter).

It is installed as `edu`; `python -m tinygrad_edu` and `python cli.py` (in a checkout) run it too. All
three start in ``tinygrad_edu_launcher.main``, which catches a signal while this module loads.
"""
from __future__ import annotations

import click

from .ablate import ablate_command, landscape_command
from .check import check_command
from .course import course_group
from .diagnose import diagnose_command
from .grade import grade_command
from .graph import graph_command
from .train import compare_command, optimizers_command, train_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tinygrad_edu", prog_name="edu")
def cli() -> None:
    """tinygrad_edu: train, compare and explore optimizers on a tiny autograd engine."""


cli.add_command(train_command)
cli.add_command(compare_command)
cli.add_command(optimizers_command)
cli.add_command(ablate_command)
cli.add_command(landscape_command)
cli.add_command(graph_command)
cli.add_command(diagnose_command)
cli.add_command(check_command)
cli.add_command(course_group)
cli.add_command(grade_command)


def main() -> None:
    """The command line as `edu` runs it, without the start-up signal handlers (``tinygrad_edu_launcher.main``)."""
    cli(prog_name="edu")
