"""`edu graph`: a click wrapper over tinygrad_edu.viz (expression parser, MLP demo, Graphviz rendering)."""
from __future__ import annotations

import shutil
from pathlib import Path

import click

from ..viz import mlp_loss_graph, parse_expression, render_graph, step_backward
from ._common import check_names_a_file, given, make_parent_folder, refuse_existing

SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
MAX_SIZE = 1024  # a demo to look at: keep layers and batches small


def _sizes(text: str) -> list:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or not all(1 <= n <= MAX_SIZE for n in sizes):
        raise click.BadParameter(f"{text!r}: give at least two layer sizes between 1 and {MAX_SIZE}, "
                                 f"separated by commas, e.g. 2,4,1", param_hint="--sizes")
    return sizes


def _one_line(exc) -> str:
    """The first line of an error's message (any further lines are detail for a traceback)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _refuse_existing(out: Path, force: bool, option: str = "--out") -> None:
    """Nothing that already exists at --out is overwritten without --force (nor the .dot written without dot)."""
    targets = [out]
    if option == "--out" and out.suffix.lower() not in (".dot", ".gv") and shutil.which("dot") is None:
        targets.append(out.with_suffix(".dot"))          # what render_graph writes when Graphviz is missing
    example = "backprop.html" if option == "--steps" else "graph.svg"
    refuse_existing(targets, force, option, f"a file name such as {out / example}")


def _values(items: tuple) -> dict:
    values = {}
    for item in items:
        name, eq, numbers = item.partition("=")
        name = name.strip()
        try:
            parsed = [float(x) for x in numbers.split(",")] if eq else []
        except ValueError:
            parsed = []
        if not name or not parsed:
            raise click.BadParameter(f"{item!r}: write NAME=NUMBER (e.g. a=2) or NAME=N1,N2,... for a vector",
                                     param_hint="--value")
        if name in values:
            raise click.BadParameter(f"{name!r} is given twice; give each name one value", param_hint="--value")
        values[name] = parsed[0] if len(parsed) == 1 else parsed
    return values


def _expression_graph(ctx, expr: str, values: tuple, backward: bool):
    for option in ("sizes", "batch", "seed"):
        if given(ctx, option):
            raise click.UsageError(f"--{option} is for the MLP demo; leave it out when drawing --expr")
    try:
        root = parse_expression(expr, _values(values), allow_unused=False)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expr") from None
    if backward:
        if not root.requires_grad:
            raise click.UsageError("--backward: the expression uses no name with a --value, so it has no gradient")
        if root.size != 1:
            raise click.UsageError(f"--backward needs a single number, but the expression has shape {root.shape}; "
                                   f"reduce it, e.g. ({expr}).sum()")
        root.backward()
    return root


def _write_stepper(ctx, steps: str, expr, values, sizes, batch, seed, rankdir, force) -> None:
    """`edu graph --steps FILE.html`: the backward stepper of an --expr or of the MLP demo's loss."""
    for option in ("backward", "scalar", "no_data", "no_grad", "no_groups", "max_nodes"):
        if given(ctx, option):
            raise click.UsageError(f"--{option.replace('_', '-')} is for pictures (--out); leave it out with --steps")
    if not steps.strip() or "\x00" in steps or Path(steps).suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{steps!r}: end the file name in .html, e.g. backprop.html", param_hint="--steps")
    path = Path(steps)
    if expr is not None:
        root = _expression_graph(ctx, expr, values, backward=False)
        if not root.requires_grad or root.size != 1:
            raise click.UsageError("--steps needs an expression that gives one number from names with a --value, "
                                   "e.g. --expr \"(a*b).sum()\" --value a=1,2 --value b=3,4")
    elif values:
        raise click.UsageError("--value gives a value to a name in --expr; add --expr or leave --value out")
    else:
        root = mlp_loss_graph(_sizes(sizes), batch=batch, seed=seed, backward=False)
    _refuse_existing(path, force, "--steps")
    make_parent_folder(path, "--steps")
    try:
        written = step_backward(root, path, rankdir=rankdir, force=True)   # --force was checked just above
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}; choose another --steps",
                                 param_hint="--steps") from None
    except ValueError as exc:            # the stepper's node limit, as one line
        raise click.UsageError(_one_line(exc)) from None
    click.echo(f"wrote {written}")


@click.command("graph")
@click.option("--out", default=None, metavar="FILE",
              help="Picture to write: .svg, .png, .pdf, or .dot for the DOT source.")
@click.option("--steps", default=None, metavar="FILE.html",
              help="Instead of a picture, write a page that steps through the backward pass node by node "
                   "(one offline HTML file; ←/→ to step, a toggle replays the naive recursive order).")
@click.option("--expr", default=None, metavar="EXPRESSION",
              help='Draw a formula instead of the MLP demo, e.g. "(a*b + c).tanh()"; name steps with '
                   '"e = a*b; L = e + c".')
@click.option("--value", "values", multiple=True, metavar="NAME=NUMBER",
              help="Value of a name in --expr (repeat for each name); a vector as NAME=1,2,3.")
@click.option("--sizes", default="2,4,1", show_default=True, help="MLP demo: layer sizes, input first.")
@click.option("--batch", type=click.IntRange(1, MAX_SIZE), default=4, show_default=True,
              help="MLP demo: number of data points.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="MLP demo: seed of the weights and the data (an integer >= 0).")
@click.option("--backward", is_flag=True,
              help="Run backward() first: show gradients and label each edge with the gradient flowing back.")
@click.option("--scalar", is_flag=True, help="One node per scalar element, as in the classic backprop diagrams.")
@click.option("--rankdir", type=click.Choice(["LR", "TB", "RL", "BT"]), default="LR", show_default=True,
              help="Layout direction (LR: left to right, TB: top to bottom).")
@click.option("--no-data", is_flag=True, help="Leave the values out of the nodes.")
@click.option("--no-grad", is_flag=True, help="Leave the gradients out.")
@click.option("--no-groups", is_flag=True, help="Do not box each layer in a cluster.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=200, show_default=True,
              help="Draw at most this many nodes; a marker says how many were left out.")
@click.option("--force", is_flag=True,
              help="Replace a file that already exists at --out; without it, edu graph refuses to overwrite it.")
@click.pass_context
def graph_command(ctx, out, steps, expr, values, sizes, batch, seed, backward, scalar, rankdir, no_data, no_grad,
                  no_groups, max_nodes, force):
    """Draw a compute graph, with its values (and gradients with --backward), to --out; or write a page
    that steps through its backward pass (--steps).

    \b
    edu graph --out mlp.svg --sizes 2,4,1 --backward
    edu graph --out neuron.svg --expr "(a*b + c).tanh()" --value a=2 --value b=-3 --value c=10
    edu graph --out L.svg --scalar --backward --expr "e = a*b; d = e + c; L = d * f" \\
        --value a=2 --value b=-3 --value c=10 --value f=-2
    edu graph --steps reuse.html --expr "b = a + a; c = b + b" --value a=1
    """
    if (out is None) == (steps is None):
        raise click.UsageError("give --out FILE for a picture, or --steps FILE.html for the backward stepper "
                               "(one of the two)")
    if steps is not None:
        _write_stepper(ctx, steps, expr, values, sizes, batch, seed, rankdir, force)
        return
    check_names_a_file(out, "--out", "a file name such as graph.svg")
    out = Path(out)
    if out.suffix.lower() not in SUFFIXES:
        raise click.BadParameter(f"{out.name!r}: end the file name in .svg, .png, .pdf or .dot", param_hint="--out")
    if expr is not None:
        root = _expression_graph(ctx, expr, values, backward)
    elif values:
        raise click.UsageError("--value gives a value to a name in --expr; add --expr or leave --value out")
    else:
        root = mlp_loss_graph(_sizes(sizes), batch=batch, seed=seed, backward=backward)
    options = dict(show_data=not no_data, show_grad=not no_grad, rankdir=rankdir, max_nodes=max_nodes)
    if not scalar:
        options["group_modules"] = not no_groups
    _refuse_existing(out, force)
    make_parent_folder(out)              # as `edu train --out` makes its folder
    try:
        rendered = render_graph(root, out, scalar=scalar, quiet=True, **options)
    except OSError as exc:               # read-only folder, name too long, disk full, ...
        raise click.BadParameter(f"cannot write {out}: {exc.strerror or exc}; choose another --out",
                                 param_hint="--out") from None
    except ValueError as exc:            # GraphError: dot timed out, failed or was killed; a bound of the drawing
        raise click.UsageError(_one_line(exc)) from None
    click.echo(f"wrote {rendered.path}")
    for remark in (rendered.note, rendered.hint):   # what --max-nodes left out; Graphviz missing
        if remark:
            click.echo(remark, err=True)
