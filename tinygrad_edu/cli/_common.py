"""What every command shares: library errors as usage errors, --out paths, figures, option sources."""
from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

import click

from ..course.runner import missing_requirements
from ..viz.plots import save_figure


# The signals that stop a command cleanly (saving what it has): Ctrl-C, `kill`, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived while a command was working (its `signum`: which one)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stoppable():
    """Ctrl-C, SIGTERM and SIGHUP raise Stopped inside the block, so the command ends through its cleanup
    (a temporary folder removed, child processes killed)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(signum)
    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def require_course_extra(command: str) -> None:
    """A usage error naming what to install when the course's tools (pytest, hypothesis) are missing."""
    missing = missing_requirements()
    if missing:
        raise click.UsageError(f"{command} needs {' and '.join(missing)}: pip install \"tinygrad_edu[course]\" "
                               f"(or, in a checkout, pip install -e \".[course]\")")


def usage_error(exc) -> click.UsageError:
    """A library error as click's usage error (exit 2, one line), naming the option when it is known."""
    option = getattr(exc, "option", None)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return click.BadParameter(message, param_hint=f"'{option}'") if option else click.UsageError(message)


def given(ctx: click.Context, name: str) -> bool:
    """Whether the user typed option `name` (not just its default)."""
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def peek_option(args, name: str):
    """The value given to option `name` in the raw arguments (the last one wins, as in click), or None."""
    value = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg[len(name) + 1:]
    return value


def check_names_a_file(text: str, option: str, give: str) -> None:
    """Refuse, before anything runs, an output name that names no file: empty, or with a NUL byte."""
    if not text.strip() or "\x00" in text:
        raise click.BadParameter(f"{text!r} names no file; give {give}", param_hint=option)


def refuse_existing(paths, force: bool, option: str, file_name: str) -> None:
    """Nothing that already exists at an output path is overwritten without --force; `file_name` says what to
    give instead of a folder (e.g. "a file name such as graph.svg")."""
    for path in paths:
        try:
            is_dir, exists = path.is_dir(), path.exists()
        except (OSError, ValueError) as exc:             # a name too long, a NUL byte, ...
            raise click.BadParameter(f"cannot use {str(path)[:80]!r}: {getattr(exc, 'strerror', None) or exc}; "
                                     f"choose another {option}", param_hint=option) from None
        if is_dir:
            raise click.BadParameter(f"{path} is a folder; give {file_name}", param_hint=option)
        if exists and not force:
            raise click.BadParameter(f"{path} already exists; add --force to replace it, or choose another {option}",
                                     param_hint=option)


def make_parent_folder(path: Path, option: str = "--out") -> None:
    """Create the folder `path` goes into (as `edu train --out` creates its folder); exit 2 if it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:      # ValueError: a NUL byte in the name
        raise click.BadParameter(f"cannot create the folder {path.parent}: {exc.strerror or exc}; "
                                 f"choose another {option}", param_hint=option) from None


def figure_path(out: str, default_name: str) -> tuple:
    """(figure path, folder or None): a .png/.svg name is the figure; anything else is a folder for it."""
    path = Path(out)
    if path.suffix.lower() in (".png", ".svg"):
        folder = None
    elif path.suffix and not path.is_dir():
        raise click.BadParameter(f"{out!r}: end a file name in .png or .svg, or give a folder", param_hint="--out")
    else:
        folder, path = path, path / default_name
    make_parent_folder(path)
    return path, folder


def write_figure(fig, path) -> None:
    """Save a matplotlib figure atomically; a path that cannot be written is a usage error naming --out."""
    try:
        save_figure(fig, path)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}; "
                                 f"choose another --out", param_hint="--out") from None


def check_lr(lr, example: str = "") -> None:
    """--lr, when given, is a finite number > 0 (NaN fails the comparison too)."""
    if lr is not None and not 0 < lr < float("inf"):
        raise click.BadParameter(f"lr={lr!r} must be a number > 0{example}", param_hint="--lr")
