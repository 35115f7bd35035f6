"""The `edu` command line: thin click wrappers over the tinygrad_edu library.

Every command parses its options, calls one library function and prints the result.
Bad usage exits with status 2 and a one-line message (click.UsageError / click.BadParameter).
"""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tinygrad_edu", prog_name="edu")
def cli() -> None:
    """tinygrad_edu: train, compare and explore optimizers on a tiny autograd engine."""


# --- section: train / compare / optimizers (owned by the training helper) ---

import csv as _csv
import io as _io
import shlex as _shlex
import sys as _sys
import time as _time
from pathlib import Path as _Path

_DEFAULT_OPTIMIZER = "momentum"
_HYPER = "hyper__"   # prefix of the parameter names of an optimizer's own options


def _usage_error(exc) -> click.UsageError:
    """A library error as click's usage error (exit 2, one line), naming the option when it is known."""
    option = getattr(exc, "option", None)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return click.BadParameter(message, param_hint=f"'{option}'") if option else click.UsageError(message)


def _peek_option(args, name: str):
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


def _hyper_option(h, cls) -> click.Option:
    """A click option for one Hyperparameter of an optimizer class, validated by the class's own rules."""
    from tinygrad_edu.experiments import default_lr
    from tinygrad_edu.optim import REQUIRED
    flag = "--" + h.name.replace("_", "-")
    default = default_lr(cls) if h.name == "lr" else h.default
    shown = "" if default is None or default is REQUIRED else f"; default {default!r}"
    help_text = f"{h.help} ({h.range}{shown})"
    if h.type is bool:
        return click.Option([_HYPER + h.name, f"{flag}/--no-{flag[2:]}"], default=None, help=help_text)

    def check(ctx, param, value):
        if value is None:
            return None
        try:
            return h.parse(value, cls.cli_name)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    metavar = {float: "FLOAT", int: "INT", tuple: "A,B"}.get(h.type, "VALUE")
    return click.Option([_HYPER + h.name, flag], default=None, metavar=metavar, callback=check, help=help_text)


def _no_lr_option(cls, hyper) -> click.Option:
    """--lr for an optimizer without a learning rate: say so, and what sets its step instead."""
    others = ", ".join("--" + h.name.replace("_", "-") for h in hyper) or "nothing"

    def refuse(ctx, param, value):
        if value is not None:
            raise click.BadParameter(f"optimizer {cls.cli_name} has no learning rate; its step is set by {others}")
    return click.Option([_HYPER + "lr", "--lr"], type=float, default=None, callback=refuse, expose_value=True,
                        help=f"(not used: {cls.cli_name} has no learning rate)")


class _OptimizerCommand(click.Command):
    """`edu train`: the chosen optimizer's hyperparameters become options (--momentum, --betas, ...).

    The value of --optimizer is read from the raw arguments first, so that
    `edu train --optimizer adam --help` lists Adam's options.
    """

    def parse_args(self, ctx, args):
        name = _peek_option(args, "--optimizer")
        resume = _peek_option(args, "--resume")
        if name is None and resume is not None:
            name = _resumed_optimizer(resume)
        ctx.meta["edu.optimizer"] = name or _DEFAULT_OPTIMIZER
        return super().parse_args(ctx, args)

    def get_params(self, ctx):
        params = super().get_params(ctx)
        name = ctx.meta.get("edu.optimizer")
        if name is None:
            return params
        from tinygrad_edu.experiments import ConfigError, optimizer_class
        try:
            cls = optimizer_class(name)
        except ConfigError as exc:
            raise _usage_error(exc) from None
        taken = {opt for p in params for opt in getattr(p, "opts", [])}
        hyper = cls.hyperparameters()
        extra = [_hyper_option(h, cls) for h in hyper if "--" + h.name.replace("_", "-") not in taken]
        if not any(h.name == "lr" for h in hyper):
            extra.insert(0, _no_lr_option(cls, hyper))
        return params[:-1] + extra + params[-1:]      # the help option stays last


def _resumed_optimizer(folder):
    import json
    try:
        return json.loads((_Path(folder) / "config.json").read_text())["config"]["optimizer"]
    except Exception:   # a bad folder is reported by `resume` itself, with the fix
        return None


def _run_options(func):
    """The options `edu train` and `edu compare` share: the data, the model and the length of the run."""
    options = [
        click.option("--dataset", default="moons", show_default=True,
                     help="A built-in data set: moons, circles, spiral, xor, blobs, sine (regression), digits."),
        click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Your own .csv (numbers; last column = label or target; header optional) or "
                          ".npz (arrays X, y) instead of --dataset."),
        click.option("--samples", type=int, default=None,
                     help="Number of samples of a synthetic data set (default: its own, e.g. 500 for moons)."),
        click.option("--noise", type=float, default=None, help="Noise of a synthetic data set (default: its own)."),
        click.option("--hidden", default="16,16", show_default=True,
                     help="Hidden layer sizes, comma-separated ('none' for a linear model)."),
        click.option("--activation", default="relu", show_default=True, help="relu, tanh or sigmoid."),
        click.option("--loss", default=None,
                     help="cross-entropy (default for classes), bce or hinge (two classes), mse (default for "
                          "regression)."),
        click.option("--epochs", type=int, default=30, show_default=True, help="Passes over the training set."),
        click.option("--batch-size", type=int, default=32, show_default=True, help="Samples per step."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the data, the initial weights and the minibatch order."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _config(ctx, optimizer, lr=None, hyper=None, schedule=None, **options):
    """A RunConfig from the parsed options (ConfigError → exit 2)."""
    from tinygrad_edu.experiments import RunConfig, parse_hidden
    if options["data_file"] and ctx.get_parameter_source("dataset") is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("give either --dataset or --data FILE, not both")
    data_file = options["data_file"]
    return RunConfig(optimizer=optimizer, lr=lr, hyper=hyper or {}, schedule=schedule, epochs=options["epochs"],
                     batch_size=options["batch_size"], hidden=parse_hidden(options["hidden"]),
                     activation=options["activation"], loss=options["loss"], dataset=options["dataset"],
                     data_file=str(_Path(data_file).resolve()) if data_file else None, n=options["samples"],
                     noise=options["noise"], seed=options["seed"])


class _Progress:
    """A progress bar on stderr with the running loss (an average over about the last 20 steps).

    It redraws at most 10 times a second, so it costs the training loop almost nothing. When
    stderr is not a terminal, click shows only the label.
    """

    def __init__(self, total: int, done: int = 0, label: str = "training"):
        self.bar = None
        if _sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=_sys.stderr, show_pos=True,
                                         item_show_func=lambda text: text)
        self.done, self.pending, self.running, self.last = done, 0, None, 0.0

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
            if self.done:
                self.bar.update(self.done)
        return self

    def update(self, history) -> None:
        loss = history.loss[-1]
        self.running = loss if self.running is None else 0.95 * self.running + 0.05 * loss
        self.pending += 1
        if self.bar is None:
            return
        now = _time.monotonic()
        if now - self.last >= 0.1:
            self.flush()
            self.last = now

    def flush(self) -> None:
        if self.pending and self.bar is not None:
            self.bar.update(self.pending, f"loss {self.running:.4f}")
        self.pending = 0

    def __exit__(self, *exc):
        self.flush()
        return self.bar.__exit__(*exc) if self.bar is not None else None


@cli.command("train", cls=_OptimizerCommand)
@click.option("--optimizer", default=_DEFAULT_OPTIMIZER, show_default=True,
              help="An optimizer name (see `edu optimizers`) or package.module:Class. Its own hyperparameters "
                   "become options: `edu train --optimizer adam --help` lists them.")
@click.option("--schedule", default=None,
              help="Learning-rate schedule: constant, step:STEPS[:GAMMA], exp:GAMMA, cosine[:MIN_LR], "
                   "warmup:STEPS[:SCHEDULE].")
@_run_options
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Folder for metrics.csv, config.json, model.npz (weights + optimizer state) and loss.png.")
@click.option("--resume", type=click.Path(), default=None, metavar="DIR",
              help="Carry on an interrupted run saved in DIR, with its own settings, to the same end as an "
                   "uninterrupted run.")
@click.pass_context
def train_command(ctx, optimizer, schedule, out, resume, **options):
    """Train an MLP on a data set and report the loss and accuracy.

    \b
    edu train                                        # moons, momentum: >= 97% test accuracy in a second
    edu train --optimizer adam --lr 0.01 --out runs/adam
    edu train --optimizer sgd --momentum 0.9 --nesterov --schedule cosine
    edu train --dataset digits --hidden 64 --epochs 20
    edu train --data my.csv --loss mse

    Ctrl-C stops at the end of the current step and saves a checkpoint; `edu train --resume DIR`
    continues it and ends with the same weights, bit for bit, as a run that was never stopped.
    """
    from tinygrad_edu import experiments as ex
    hyper = {k[len(_HYPER):]: v for k, v in options.items() if k.startswith(_HYPER) and v is not None}
    lr = hyper.pop("lr", None)
    run_options = {k: v for k, v in options.items() if not k.startswith(_HYPER)}
    try:
        if resume is not None:
            given = [p for p in ctx.command.get_params(ctx) if p.name and p.name != "resume"
                     and ctx.get_parameter_source(p.name) is click.core.ParameterSource.COMMANDLINE]
            if given:
                raise click.UsageError(f"--resume continues with the settings saved in {resume}/config.json; "
                                       f"leave out {given[0].opts[0]}")
            run, history = ex.resume(resume)
            out = resume
        else:
            config = _config(ctx, optimizer, lr=lr, hyper=hyper, schedule=schedule, **run_options)
            run, history = ex.build(config), None
            if out is not None:
                ex.check_out_dir(out)
                ex.write_config(run, out)
    except (ex.ConfigError, ValueError) as exc:
        raise _usage_error(exc) from None

    click.echo(ex.describe_run(run))
    started = _time.perf_counter()
    with _Progress(run.total_steps, history.steps if history else 0) as progress:
        history = ex.fit_run(run, history, on_step=progress.update)
    seconds = _time.perf_counter() - started

    if history.stopped == "interrupted":
        folder = _Path(out) if out is not None else ex.default_run_dir(run.config)
        try:
            ex.save_run(run, history, folder, seconds, plot=False)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{history.message}, but the checkpoint could not be saved: {exc}") from None
        click.echo(f"{history.message}; saved a checkpoint in {folder}", err=True)
        click.echo(f"resume with: edu train --resume {_shlex.quote(str(folder))}", err=True)
        ctx.exit(130)
    result = ex.summary(run, history, seconds)
    click.echo(ex.format_summary(result))
    if out is not None:
        try:
            paths = ex.save_run(run, history, out, seconds)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"could not write the results to {out}: {exc}") from None
        click.echo(f"wrote {', '.join(str(p) for p in paths.values())}")
    if history.stopped == "diverged":
        click.echo(f"Error: {history.message}", err=True)
        ctx.exit(1)


@cli.command("compare")
@click.option("--optimizers", default="sgd,momentum,nesterov,adam", show_default=True,
              help="Comma-separated optimizer names (or package.module:Class), each with its default settings.")
@click.option("--lr", type=float, default=None,
              help="One learning rate for all of them (default: each optimizer's own, see `edu optimizers`).")
@_run_options
@click.option("--target-loss", type=float, default=None,
              help="Report the steps each optimizer needs to bring the training loss to this value "
                   "(default 0.1; 0.01 for regression).")
@click.option("--out", type=click.Path(file_okay=False), default="runs/compare", show_default=True, metavar="DIR",
              help="Folder for compare.png (loss curves), compare.csv (the table) and metrics-NAME.csv.")
@click.pass_context
def compare_command(ctx, optimizers, lr, target_loss, out, **options):
    """Train the same model with several optimizers: same data, same initial weights, same minibatches.

    \b
    edu compare
    edu compare --optimizers sgd,momentum,adam --dataset spiral --epochs 100
    """
    from tinygrad_edu import experiments as ex
    try:
        if lr is not None and lr <= 0:
            raise ex.ConfigError(f"lr={lr!r} must be > 0", "--lr")
        if target_loss is not None and not target_loss > 0:
            raise ex.ConfigError(f"target loss {target_loss!r} must be > 0", "--target-loss")
        names = ex.optimizer_names(optimizers)
        config = _config(ctx, names[0], lr=lr, **options)
        ex.check_out_dir(out)
        result = ex.compare(names, config, target=target_loss, on_step=None)
    except (ex.ConfigError, ValueError) as exc:
        raise _usage_error(exc) from None
    click.echo(result.data.describe())
    columns = [("optimizer", "optimizer", "{}"), ("lr", "lr", "{:g}"), ("train_loss", "train loss", "{:.4f}"),
               ("test_loss", "test loss", "{:.4f}")]
    if result.data.task == "classification":
        columns.append(("test_accuracy", "test acc", "{:.1%}"))
    columns += [("steps_to_target", f"steps to loss {result.target:g}", "{}"), ("stopped", "end", "{}"),
                ("seconds", "time (s)", "{:.2f}")]
    click.echo(ex.format_table(result.rows, columns))
    from tinygrad_edu.io import atomic_write_text
    from tinygrad_edu.viz.plots import comparison_curves, save_figure
    out = _Path(out)
    try:
        buffer = _io.StringIO()
        writer = _csv.writer(buffer, lineterminator="\n")
        keys = [k for k, _, _ in columns]
        writer.writerow(keys)
        for row in result.rows:
            writer.writerow(["" if row.get(k) is None else row[k] for k in keys])
        atomic_write_text(out / "compare.csv", buffer.getvalue())
        for name, history in result.histories.items():
            safe = name.replace(":", "-").replace("/", "-")
            atomic_write_text(out / f"metrics-{safe}.csv", history.to_csv())
        title = f"{result.data.name}: same data, same initial weights"
        save_figure(comparison_curves(result.histories, title=title, target=result.target), out / "compare.png")
    except OSError as exc:
        raise click.ClickException(f"could not write the results to {out}: {exc}") from None
    click.echo(f"wrote {out / 'compare.png'}, {out / 'compare.csv'}")
    for row in result.rows:
        if row["stopped"] == "diverged":
            click.echo(f"note: {row['optimizer']}: {row['message']}", err=True)


@cli.command("optimizers")
@click.argument("names", nargs=-1)
def optimizers_command(names):
    """List the optimizers: each one's update rule and hyperparameters (or only NAMES)."""
    from tinygrad_edu import optim
    from tinygrad_edu.experiments import ConfigError, default_lr, optimizer_class
    blocks = []
    for name in names or optim.names():
        try:
            cls = optimizer_class(name)
        except ConfigError as exc:
            if names:
                raise _usage_error(exc) from None
            blocks.append(f"{name}: cannot be loaded ({exc})")
            continue
        text = cls.describe()
        lr = default_lr(cls)
        text += f"\n  edu train uses lr={lr:g} unless you give --lr" if lr is not None else \
            "\n  (no learning rate: the step is set by the hyperparameters above)"
        blocks.append(text)
    click.echo("\n\n".join(blocks))

# --- end section: train / compare / optimizers ---


# --- section: ablate / landscape (owned by the ablation helper) ---

def _abl_out_path(out: str, default_name: str):
    """(figure path, folder or None): a .png/.svg name is the figure; anything else is a folder for it."""
    from pathlib import Path
    path = Path(out)
    if path.suffix.lower() in (".png", ".svg"):
        folder = None
    elif path.suffix and not path.is_dir():
        raise click.BadParameter(f"{out!r}: end a file name in .png or .svg, or give a folder", param_hint="--out")
    else:
        folder, path = path, path / default_name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create the folder {path.parent}: {exc.strerror or exc}; "
                                 f"choose another --out", param_hint="--out") from None
    return path, folder


def _abl_momenta(text: str) -> list:
    from tinygrad_edu.ablation import check_momenta
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of numbers; write e.g. 0.5,0.9,0.99,1.0,1.01",
                                 param_hint="--momenta") from None
    try:
        return check_momenta(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--momenta") from None


def _abl_lr(lr, example: str = "") -> None:
    if lr is not None and not 0 < lr < float("inf"):   # NaN fails the comparison too
        raise click.BadParameter(f"lr={lr!r} must be a number > 0{example}", param_hint="--lr")


def _abl_save(fig, path) -> None:
    from tinygrad_edu.viz.plots import save_figure
    try:
        save_figure(fig, path)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}; "
                                 f"choose another --out", param_hint="--out") from None


@cli.command("ablate")
@click.option("--form", default="all", show_default=True, metavar="lr-inside|pytorch|ema|all",
              help="Which form of momentum loses its learning rate: lr-inside (Momentum) coasts, "
                   "pytorch (SGD) and ema (EMAMomentum) stop dead.")
@click.option("--k", "k", type=click.IntRange(min=1), default=20, show_default=True,
              help="Steps with the learning rate before it is removed.")
@click.option("--steps", type=click.IntRange(min=1), default=60, show_default=True,
              help="Steps after the removal.")
@click.option("--momenta", default="0.5,0.9,0.99,1.0,1.01", show_default=True,
              help="The momentum coefficients μ to try (0 <= μ <= 2; μ >= 1 only the lr-inside form accepts).")
@click.option("--lr", type=float, default=0.005, show_default=True,
              help="η during the first k steps (the EMA form gets α = η/(1 − μ): the same run).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data and the initial weights.")
@click.option("--out", default="runs/ablate", show_default=True, metavar="FILE-or-DIR",
              help="Figure file (.png or .svg), or a folder for ablation.png and ablation.json (the tables).")
def ablate_command(form, k, steps, momenta, lr, seed, out):
    """Momentum without a learning rate: remove η after k steps and watch what each form does.

    Part 1 trains a small MLP for k steps, removes the learning rate and shows, for each μ, the
    displacement afterwards against the closed form Δw·μ(1−μⁿ)/(1−μ), the loss (it stops
    improving), the cosine between each update and −∇L, and the proof that the coasting ignores
    the gradient (the same weights, bit for bit, on another data set). Part 2 sets α = 1 in the
    EMA form: the step is then set by the loss's scale, so ×100 diverges and ×0.01 crawls.

    \b
    edu ablate
    edu ablate --form lr-inside --k 30 --momenta 0.9,1.0 --out ablation.svg
    """
    import json

    from tinygrad_edu import ablation
    from tinygrad_edu.io import atomic_write_text

    key = form.strip().lower()
    forms = list(ablation.FORMS) if key == "all" else [key]
    message = "" if key == "all" else ablation.check_form(key)
    if message:
        raise click.BadParameter(message, param_hint="--form")
    mus = _abl_momenta(momenta)
    _abl_lr(lr, ", e.g. 0.005")
    figure, folder = _abl_out_path(out, "ablation.png")
    try:
        result = ablation.run_experiment(forms, mus, k=k, steps=steps, lr=lr, seed=seed)
    except ValueError as exc:
        raise click.UsageError(str(exc).splitlines()[0]) from None
    click.echo(ablation.format_report(result))
    from tinygrad_edu.viz.experiment_plots import ablation_figure
    _abl_save(ablation_figure(result), figure)
    written = [str(figure)]
    if folder is not None:
        try:
            atomic_write_text(folder / "ablation.json", json.dumps(ablation.as_dict(result), indent=1) + "\n")
        except OSError as exc:
            raise click.BadParameter(f"cannot write {folder / 'ablation.json'}: {exc.strerror or exc}",
                                     param_hint="--out") from None
        written.append(str(folder / "ablation.json"))
    click.echo(f"\nwrote {', '.join(written)}")


@cli.command("landscape")
@click.option("--function", "function", default="ravine", show_default=True,
              metavar="quadratic|ravine|rosenbrock|saddle", help="The 2-D landscape to walk on.")
@click.option("--optimizers", default="sgd,momentum,nesterov,adam", show_default=True,
              help="Comma-separated optimizer names (or package.module:Class).")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Steps per optimizer (default: the landscape's own: 80, 150, 1000, 120).")
@click.option("--lr", type=float, default=None,
              help="One learning rate for all of them (default: a rate chosen per landscape and optimizer).")
@click.option("--momentum", type=float, default=None,
              help="μ for the momentum methods (momentum, nesterov); try 0.99 to see it overshoot.")
@click.option("--start", default=None, metavar="X,Y", help="Starting point (default: the landscape's own).")
@click.option("--out", default=None, metavar="FILE",
              help="Figure file, .png or .svg (default: runs/landscape-FUNCTION.png).")
def landscape_command(function, optimizers, steps, lr, momentum, start, out):
    """Optimizers walking on a 2-D function: paths over a contour plot, and a table.

    \b
    edu landscape --function ravine                     # SGD zig-zags, momentum damps it
    edu landscape --function quadratic --optimizers sgd,momentum --momentum 0.99
    edu landscape --function saddle --start 1.5,0       # on the ridge: never escapes
    """
    from tinygrad_edu import landscape, optim

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
    _abl_lr(lr)
    point = None
    if start is not None:
        try:
            point = [float(x) for x in start.split(",")]
        except ValueError:
            point = []
        if len(point) != 2 or not all(abs(x) < float("inf") for x in point):
            raise click.BadParameter(f"{start!r}: write two numbers x,y, e.g. -1.2,1", param_hint="--start")
    figure, _ = _abl_out_path(out or f"runs/landscape-{fn.name}.png", f"landscape-{fn.name}.png")
    try:
        trajectories = landscape.run_trajectories(fn, names, steps=steps, start=point, lr=lr, momentum=momentum)
    except ValueError as exc:   # a hyperparameter out of range (HyperparameterError is a ValueError)
        message = str(exc).splitlines()[0]
        if momentum is not None and "momentum" in message:
            raise click.BadParameter(message, param_hint="--momentum") from None
        raise click.UsageError(message) from None
    click.echo(f"{fn.name}: {fn.formula}   ({fn.note})")
    click.echo(landscape.format_trajectories(trajectories))
    for tr in trajectories:
        if tr.diverged_at is not None:
            click.echo(f"note: {tr.optimizer} diverged at step {tr.diverged_at}; try a smaller --lr", err=True)
    from tinygrad_edu.viz.experiment_plots import landscape_figure
    _abl_save(landscape_figure(fn, trajectories), figure)
    click.echo(f"wrote {figure}")

# --- end section: ablate / landscape ---


# --- section: graph (owned by the graph helper) ---

_GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
_GRAPH_MAX_SIZE = 1024  # a demo to look at: keep layers and batches small


def _graph_sizes(text: str) -> list:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or not all(1 <= n <= _GRAPH_MAX_SIZE for n in sizes):
        raise click.BadParameter(f"{text!r}: give at least two layer sizes between 1 and {_GRAPH_MAX_SIZE}, "
                                 f"separated by commas, e.g. 2,4,1", param_hint="--sizes")
    return sizes


def _graph_values(items: tuple) -> dict:
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


@cli.command("graph")
@click.option("--out", required=True, metavar="FILE",
              help="Picture to write: .svg, .png, .pdf, or .dot for the DOT source.")
@click.option("--expr", default=None, metavar="EXPRESSION",
              help='Draw a formula instead of the MLP demo, e.g. "(a*b + c).tanh()"; name steps with '
                   '"e = a*b; L = e + c".')
@click.option("--value", "values", multiple=True, metavar="NAME=NUMBER",
              help="Value of a name in --expr (repeat for each name); a vector as NAME=1,2,3.")
@click.option("--sizes", default="2,4,1", show_default=True, help="MLP demo: layer sizes, input first.")
@click.option("--batch", type=click.IntRange(1, _GRAPH_MAX_SIZE), default=4, show_default=True,
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
    from pathlib import Path

    from tinygrad_edu.viz import mlp_loss_graph, parse_expression, render_graph

    out = Path(out)
    if out.suffix.lower() not in _GRAPH_SUFFIXES:
        raise click.BadParameter(f"{out.name!r}: end the file name in .svg, .png, .pdf or .dot", param_hint="--out")
    if not out.parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist; create it first", param_hint="--out")
    if expr is None:
        if values:
            raise click.UsageError("--value gives a value to a name in --expr; add --expr or leave --value out")
        root = mlp_loss_graph(_graph_sizes(sizes), batch=batch, seed=seed, backward=backward)
    else:
        for option in ("sizes", "batch", "seed"):
            if ctx.get_parameter_source(option) is click.core.ParameterSource.COMMANDLINE:
                raise click.UsageError(f"--{option} is for the MLP demo; leave it out when drawing --expr")
        try:
            root = parse_expression(expr, _graph_values(values), allow_unused=False)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expr") from None
        if backward:
            if not root.requires_grad:
                raise click.UsageError("--backward: the expression uses no name with a --value, so it has no gradient")
            if root.size != 1:
                raise click.UsageError(f"--backward needs a single number, but the expression has shape {root.shape}; "
                                       f"reduce it, e.g. ({expr}).sum()")
            root.backward()
    options = dict(show_data=not no_data, show_grad=not no_grad, rankdir=rankdir, max_nodes=max_nodes)
    if not scalar:
        options["group_modules"] = not no_groups
    rendered = render_graph(root, out, scalar=scalar, quiet=True, **options)
    click.echo(f"wrote {rendered.path}")
    if rendered.hint:
        click.echo(rendered.hint, err=True)

# --- end section: graph ---


if __name__ == "__main__":
    cli(prog_name="edu")
