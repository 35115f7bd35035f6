"""`edu diagnose FILE.py:NAME`: name the wrong op of a loss-building function, or identify an optimizer class."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from ..diagnose import diagnose
from ..optim import Optimizer, identify, names


def _load(target: str):
    file, sep, attr = target.rpartition(":")
    if not sep or not file.endswith(".py") or not attr:
        raise click.BadParameter(f"{target!r}: write FILE.py:NAME, e.g. my_ops.py:build", param_hint="TARGET")
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(f"no such file {file}; check the path", param_hint="TARGET")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise click.UsageError(f"running {file} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                               f"; fix the file and try again") from None
    if not hasattr(module, attr):
        raise click.BadParameter(f"{file} has no {attr!r}; name a function that builds a loss or an Optimizer "
                                 f"subclass", param_hint="TARGET")
    return getattr(module, attr)


@click.command("diagnose")
@click.argument("target", metavar="FILE.py:NAME")
@click.option("--asked", default=None, metavar="OPTIMIZER",
              help="For an optimizer class: the registered form it was meant to be (e.g. momentum).")
@click.option("--draw", "draw", default=None, metavar="FILE",
              help="For a loss: also draw the graph, the wrong op in red (.svg, .png, .pdf or .dot).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random test directions.")
def diagnose_command(target, asked, draw, seed):
    """Check a loss's backward op by op, or say which optimizer an Optimizer subclass really is.

    \b
    edu diagnose my_ops.py:build          # build() returns a loss: which op's gradient is wrong, and how
    edu diagnose my_optim.py:MyMomentum --asked momentum
    Exits 0 when everything is correct, 1 when a bug is found, 2 on bad usage.
    """
    obj = _load(target)
    if isinstance(obj, type) and issubclass(obj, Optimizer):
        if draw:
            raise click.UsageError("--draw is for a function that builds a loss; leave it out for an optimizer")
        if asked is not None and asked not in names():
            raise click.BadParameter(f"{asked!r} is not a registered optimizer; choose one of {', '.join(names())}",
                                     param_hint="--asked")
        try:
            match = identify(obj, asked=asked)
        except (TypeError, ValueError) as exc:
            raise click.UsageError(str(exc).splitlines()[0]) from None
        click.echo(match.sentence)
        raise SystemExit(0 if match.exact and (asked is None or match.name == asked or
                                               asked in {n for n, _ in match.equals}) else 1)
    if asked is not None:
        raise click.UsageError("--asked is for an Optimizer subclass; leave it out for a loss")
    if not callable(obj):
        raise click.BadParameter(f"{target!r} is a {type(obj).__name__}; name a function that builds a loss "
                                 f"or an Optimizer subclass", param_hint="TARGET")
    try:
        report = diagnose(obj, seed=seed)
    except (TypeError, ValueError) as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None
    click.echo(str(report))
    if draw and not report.ok:
        try:
            click.echo(f"wrote {report.draw(draw)}")
        except (OSError, ValueError) as exc:
            raise click.BadParameter(str(exc).splitlines()[0], param_hint="--draw") from None
    raise SystemExit(0 if report.ok else 1)
