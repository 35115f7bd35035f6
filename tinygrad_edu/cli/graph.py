"""`edu graph`: a click wrapper over tinygrad_edu.viz (expression parser, MLP demo, Graphviz rendering)."""
from __future__ import annotations

from pathlib import Path

import click

from ..viz import mlp_loss_graph, parse_expression, render_graph
from ._common import given, make_parent_folder

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


@click.command("graph")
@click.option("--out", required=True, metavar="FILE",
              help="Picture to write: .svg, .png, .pdf, or .dot for the DOT source.")
@click.option("--expr", default=None, metavar="EXPRESSION",
              help='Draw a formula instead of the MLP demo, e.g. "(a*b + c).tanh()"; name steps with '
                   '"e = a*b; L = e + c".')
@click.option("--value", "values", multiple=True, metavar="NAME=NUMBER",
              help="Value of a name in --expr (repeat for each name); a vector as NAME=1,2,3.")
@click.option("--sizes", default="2,4,1", show_default=True, help="MLP demo: layer sizes, input first.")
@click.option("--batch", type=click.IntRange(1, MAX_SIZE), default=4, show_default=True,
              help="MLP demo: number of data points.")
@click.option("--seed", type=int, default=0, show_default=True, help="MLP demo: seed of the weights and the data.")
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
@click.pass_context
def graph_command(ctx, out, expr, values, sizes, batch, seed, backward, scalar, rankdir, no_data, no_grad,
                  no_groups, max_nodes):
    """Draw a compute graph, with its values (and gradients with --backward), to --out.

    \b
    edu graph --out mlp.svg --sizes 2,4,1 --backward
    edu graph --out neuron.svg --expr "(a*b + c).tanh()" --value a=2 --value b=-3 --value c=10
    edu graph --out L.svg --scalar --backward --expr "e = a*b; d = e + c; L = d * f" \\
        --value a=2 --value b=-3 --value c=10 --value f=-2
    """
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
    make_parent_folder(out)              # as `edu train --out` makes its folder
    rendered = render_graph(root, out, scalar=scalar, quiet=True, **options)
    click.echo(f"wrote {rendered.path}")
    if rendered.hint:
        click.echo(rendered.hint, err=True)
