"""`edu ablate` and `edu landscape`: click wrappers over tinygrad_edu.ablation and tinygrad_edu.landscape."""
from __future__ import annotations

import json

import click

from .. import ablation, landscape, optim
from ..io import atomic_write_text
from ..limits import format_bytes
from ..viz.experiment_plots import ablation_figure, landscape_figure
from ._common import check_lr, check_names_a_file, figure_path, refuse_existing, write_figure

MAX_STEPS = 100_000      # steps per run (ablate: k + steps; landscape: --steps); a run records every step
MAX_LR = 1e6            # far above any useful rate; near 1e308 the steps overflow float64
MAX_COORDINATE = landscape.DIVERGED_BEYOND   # a path beyond it counts as diverged, so no start lies there
FORCE_HELP = "Replace files that already exist at --out; without it, the command refuses to overwrite any file."


def _momenta(text: str) -> list:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of numbers; write e.g. 0.5,0.9,0.99,1.0,1.01",
                                 param_hint="--momenta") from None
    try:
        return ablation.check_momenta(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--momenta") from None


def _start(text):
    """--start X,Y as a point, or None for the landscape's own."""
    if text is None:
        return None
    try:
        point = [float(x) for x in text.split(",")]
    except ValueError:
        point = []
    if len(point) != 2 or not all(abs(x) < float("inf") for x in point):
        raise click.BadParameter(f"{text!r}: write two numbers x,y, e.g. -1.2,1", param_hint="--start")
    if not all(abs(x) <= MAX_COORDINATE for x in point):
        raise click.BadParameter(f"{text!r}: each coordinate must lie within ±{MAX_COORDINATE:g} (a path beyond "
                                 f"that counts as diverged), e.g. -1.2,1", param_hint="--start")
    return point


def _check_lr(lr, example: str) -> None:
    """--lr, when given, is a finite number in (0, MAX_LR]."""
    check_lr(lr, example)
    if lr is not None and lr > MAX_LR:
        raise click.BadParameter(f"lr={lr!r} is too large: use 0 < lr <= {MAX_LR:g}{example}", param_hint="--lr")


def _check_steps(total: int, what: str, per_step: int, hint: str) -> None:
    """Refuse a run longer than MAX_STEPS before anything is allocated, saying what it would need."""
    if total > MAX_STEPS:
        size = (total + 1) * per_step * 8
        raise click.BadParameter(f"{what} make {total} steps, whose record needs {format_bytes(size)} "
                                 f"({per_step} numbers a step); {hint} <= {MAX_STEPS}", param_hint=what.split()[0])


def _figure_path(out: str, default_name: str) -> tuple:
    """figure_path, after refusing an --out that names no file."""
    check_names_a_file(out, "--out", "a file name ending in .png or .svg, or a folder")
    return figure_path(out, default_name)


@click.command("ablate")
@click.option("--form", default="all", show_default=True, metavar="lr-inside|pytorch|ema|all",
              help="Which form of momentum loses its learning rate: lr-inside (Momentum) coasts, "
                   "pytorch (SGD) and ema (EMAMomentum) stop dead.")
@click.option("--k", "k", type=click.IntRange(min=1), default=20, show_default=True,
              help="Steps with the learning rate before it is removed (k + steps <= 100000).")
@click.option("--steps", type=click.IntRange(min=1), default=60, show_default=True,
              help="Steps after the removal.")
@click.option("--momenta", default="0.5,0.9,0.99,1.0,1.01", show_default=True,
              help="The momentum coefficients μ to try (0 <= μ <= 2; μ >= 1 only the lr-inside form accepts).")
@click.option("--lr", type=float, default=0.005, show_default=True,
              help="η during the first k steps, 0 < η <= 1e6 (the EMA form gets α = η/(1 − μ): the same run).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the data and the initial weights (an integer >= 0).")
@click.option("--out", default="runs/ablate", show_default=True, metavar="FILE-or-DIR",
              help="Figure file (.png or .svg), or a folder for ablation.png and ablation.json (the tables).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def ablate_command(form, k, steps, momenta, lr, seed, out, force):
    """Momentum without a learning rate: remove η after k steps and watch what each form does.

    Part 1 trains a small MLP for k steps, removes the learning rate and shows, for each μ, the
    displacement afterwards against the closed form Δw·μ(1−μⁿ)/(1−μ), the loss (no longer steered:
    it may still fall along the coast, then stalls or rises), the cosine between each update and
    −∇L, and the proof that the coasting ignores the gradient (the same weights, bit for bit, on
    another data set). Part 2 sets α = 1 in the
    EMA form: the step is then set by the loss's scale, so ×100 diverges and ×0.01 crawls.

    \b
    edu ablate
    edu ablate --form lr-inside --k 30 --momenta 0.9,1.0 --out ablation.svg
    """
    key = form.strip().lower()
    forms = list(ablation.FORMS) if key == "all" else [key]
    message = "" if key == "all" else ablation.check_form(key)
    if message:
        raise click.BadParameter(message, param_hint="--form")
    mus = _momenta(momenta)
    _check_lr(lr, ", e.g. 0.005")
    numbers_a_step = sum(p.size for p in ablation.make_model().parameters()) + 3   # weights, loss, cosine, |Δw|
    _check_steps(k + steps, f"--k {k} and --steps {steps}", numbers_a_step, "use k + steps")
    figure, folder = _figure_path(out, "ablation.png")
    refuse_existing([figure] if folder is None else [figure, folder / "ablation.json"], force, "--out",
                    "a file name ending in .png or .svg")
    try:
        result = ablation.run_experiment(forms, mus, k=k, steps=steps, lr=lr, seed=seed)
    except ValueError as exc:   # a bound of the library (a size, a hyperparameter) as one line
        raise click.UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    click.echo(ablation.format_report(result))
    write_figure(ablation_figure(result), figure)
    written = [str(figure)]
    if folder is not None:
        try:
            atomic_write_text(folder / "ablation.json", json.dumps(ablation.as_dict(result), indent=1) + "\n")
        except OSError as exc:
            raise click.BadParameter(f"cannot write {folder / 'ablation.json'}: {exc.strerror or exc}",
                                     param_hint="--out") from None
        written.append(str(folder / "ablation.json"))
    click.echo(f"\nwrote {', '.join(written)}")


@click.command("landscape")
@click.option("--function", "function", default="ravine", show_default=True,
              metavar="quadratic|ravine|rosenbrock|saddle", help="The 2-D landscape to walk on.")
@click.option("--optimizers", default="sgd,momentum,nesterov,adam", show_default=True,
              help="Comma-separated optimizer names (or package.module:Class).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Steps per optimizer, at most 100000 (default: the landscape's own: 80, 150, 1000, 120).")
@click.option("--lr", type=float, default=None,
              help="One learning rate for all of them, 0 < lr <= 1e6 (default: a rate chosen per landscape and "
                   "optimizer).")
@click.option("--momentum", type=float, default=None,
              help="μ for the momentum methods (momentum, nesterov); try 0.99 to see it overshoot.")
@click.option("--start", default=None, metavar="X,Y",
              help="Starting point, |x| and |y| <= 1e6 (default: the landscape's own).")
@click.option("--out", default=None, metavar="FILE",
              help="Figure file, .png or .svg (default: runs/landscape-FUNCTION.png).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def landscape_command(function, optimizers, steps, lr, momentum, start, out, force):
    """Optimizers walking on a 2-D function: paths over a contour plot, and a table.

    \b
    edu landscape --function ravine                     # SGD zig-zags, momentum damps it
    edu landscape --function quadratic --optimizers sgd,momentum --momentum 0.99
    edu landscape --function saddle --start 1.5,0       # on the ridge: never escapes
    """
    try:
        fn = landscape.get_landscape(function)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--function") from None
    names = [o.strip() for o in optimizers.split(",") if o.strip()]
    if not names:
        raise click.BadParameter("give at least one optimizer, e.g. sgd,momentum", param_hint="--optimizers")
    for name in names:
        try:
            optim.get(name)
        except ValueError as exc:
            raise click.BadParameter(str(exc).splitlines()[0], param_hint="--optimizers") from None
    _check_lr(lr, ", e.g. 0.01")
    point = _start(start)
    if steps is not None:
        _check_steps(steps, f"--steps {steps}", 3, "use --steps")       # x, y and the loss
    figure, _ = _figure_path(out if out is not None else f"runs/landscape-{fn.name}.png", f"landscape-{fn.name}.png")
    refuse_existing([figure], force, "--out", "a file name ending in .png or .svg")
    try:
        trajectories = landscape.run_trajectories(fn, names, steps=steps, start=point, lr=lr, momentum=momentum)
        header = landscape.header(fn, momentum=momentum, lr=lr)
    except ValueError as exc:   # a hyperparameter out of range (HyperparameterError is a ValueError), a size
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if momentum is not None and "momentum" in message:
            raise click.BadParameter(message, param_hint="--momentum") from None
        raise click.UsageError(message) from None
    click.echo(header)
    click.echo(landscape.format_trajectories(trajectories))
    for tr in trajectories:
        if tr.diverged_at is not None:
            click.echo(f"note: {tr.optimizer} diverged at step {tr.diverged_at}; try a smaller --lr", err=True)
    write_figure(landscape_figure(fn, trajectories), figure)
    click.echo(f"wrote {figure}")
