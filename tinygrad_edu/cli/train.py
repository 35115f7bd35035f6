"""`edu train`, `edu compare`, `edu optimizers`: click wrappers over tinygrad_edu.experiments."""
from __future__ import annotations

import contextlib
import shlex
import sys
import time
from pathlib import Path

import click

from .. import experiments as ex
from .. import optim
from ..data import AUTO_TASK_RULE
from ..train import deferred_signals
from ._common import STOP_SIGNALS, given, peek_option, usage_error

DEFAULT_OPTIMIZER = "momentum"
HYPER = "hyper__"   # prefix of the parameter names of an optimizer's own options


def _hyper_option(h, cls) -> click.Option:
    """A click option for one Hyperparameter of an optimizer class, validated by the class's own rules."""
    flag = "--" + h.name.replace("_", "-")
    default = ex.default_lr(cls) if h.name == "lr" else h.default
    shown = "" if default is None or default is optim.REQUIRED else f"; default {default!r}"
    help_text = f"{h.help} ({h.range}{shown})"
    if h.type is bool:
        return click.Option([HYPER + h.name, f"{flag}/--no-{flag[2:]}"], default=None, help=help_text)

    def check(ctx, param, value):
        if value is None:
            return None
        try:
            return h.parse(value, cls.cli_name)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    metavar = {float: "FLOAT", int: "INT", tuple: "A,B"}.get(h.type, "VALUE")
    return click.Option([HYPER + h.name, flag], default=None, metavar=metavar, callback=check, help=help_text)


def _no_lr_option(cls, hyper) -> click.Option:
    """--lr for an optimizer without a learning rate: say so, and what sets its step instead."""
    others = ", ".join("--" + h.name.replace("_", "-") for h in hyper) or "nothing"

    def refuse(ctx, param, value):
        if value is not None:
            raise click.BadParameter(f"optimizer {cls.cli_name} has no learning rate; its step is set by {others}")
    return click.Option([HYPER + "lr", "--lr"], type=float, default=None, callback=refuse, expose_value=True,
                        help=f"(not used: {cls.cli_name} has no learning rate)")


class OptimizerCommand(click.Command):
    """`edu train`: the chosen optimizer's hyperparameters become options (--momentum, --betas, ...).

    The value of --optimizer is read from the raw arguments first, so that
    `edu train --optimizer adam --help` lists Adam's options. With --resume DIR and no
    --optimizer, the options are those of the optimizer saved in DIR only when it is a built-in
    or registered one: nothing a run folder names is imported, not even for --help.
    (A --optimizer given with --resume is loaded only by the resume, once its file is checked.)
    """

    def parse_args(self, ctx, args):
        resume = peek_option(args, "--resume")
        if resume is not None:
            # A resumed run takes no hyperparameter options, so nothing is loaded to list them: a
            # --optimizer of code is loaded by resume, after its file's SHA-256 is checked.
            ctx.meta["edu.optimizer"] = ex.saved_optimizer(resume)   # None: the options every optimizer has
        else:
            ctx.meta["edu.optimizer"] = peek_option(args, "--optimizer") or DEFAULT_OPTIMIZER
        return super().parse_args(ctx, args)

    def get_params(self, ctx):
        params = super().get_params(ctx)
        name = ctx.meta.get("edu.optimizer")
        if name is None:
            return params
        try:
            cls = ex.optimizer_class(name)
        except ex.ConfigError as exc:
            raise usage_error(exc) from None
        taken = {opt for p in params for opt in getattr(p, "opts", [])}
        hyper = cls.hyperparameters()
        extra = [_hyper_option(h, cls) for h in hyper if "--" + h.name.replace("_", "-") not in taken]
        if not any(h.name == "lr" for h in hyper):
            extra.insert(0, _no_lr_option(cls, hyper))
        return params[:-1] + extra + params[-1:]      # the help option stays last


def run_options(func):
    """The options `edu train` and `edu compare` share: the data, the model and the length of the run."""
    options = [
        click.option("--dataset", default="moons", show_default=True,
                     help="A built-in data set: moons, circles, spiral, xor, blobs, sine (regression), digits."),
        click.option("--data", "data_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Your own .csv (numbers; last column = label or target; header optional) or "
                          ".npz (arrays X, y) instead of --dataset."),
        click.option("--task", type=click.Choice(["auto", "classification", "regression"]), default="auto",
                     show_default=True, help=f"What a --data file's labels are: {AUTO_TASK_RULE} (auto); "
                                             f"--loss mse means regression."),
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
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seed of the data, the initial weights and the minibatch order (an integer >= 0)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def run_config(ctx, optimizer, lr=None, hyper=None, schedule=None, **options) -> ex.RunConfig:
    """A RunConfig from the parsed options (a bad combination is a usage error)."""
    if options["data_file"] and given(ctx, "dataset"):
        raise click.UsageError("give either --dataset or --data FILE, not both")
    data_file = options["data_file"]
    return ex.RunConfig(optimizer=optimizer, lr=lr, hyper=hyper or {}, schedule=schedule, epochs=options["epochs"],
                        batch_size=options["batch_size"], hidden=ex.parse_hidden(options["hidden"]),
                        activation=options["activation"], loss=options["loss"], dataset=options["dataset"],
                        data_file=str(Path(data_file).resolve()) if data_file else None,
                        task=None if options["task"] == "auto" else options["task"], n=options["samples"],
                        noise=options["noise"], seed=options["seed"])


class Progress:
    """A progress bar on stderr with the running loss (an average over about the last 20 steps).

    It redraws at most 10 times a second, so it costs the training loop almost nothing. When
    stderr is not a terminal, there is no bar at all.
    """

    def __init__(self, total: int, done: int = 0, label: str = "training"):
        self.bar = None
        if sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
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
        now = time.monotonic()
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


@click.command("train", cls=OptimizerCommand)
@click.option("--optimizer", default=DEFAULT_OPTIMIZER, show_default=True,
              help="An optimizer name (see `edu optimizers`), package.module:Class or FILE.py:Class. Its own "
                   "hyperparameters become options: `edu train --optimizer adam --help` lists them. A run made "
                   "with package.module:Class or FILE.py:Class resumes only if you name it again with --resume "
                   "(a run folder never makes edu run code), and only if its file is unchanged (SHA-256).")
@click.option("--schedule", default=None,
              help="Learning-rate schedule: constant, step:STEPS[:GAMMA], exp:GAMMA, cosine[:MIN_LR], "
                   "warmup:STEPS[:SCHEDULE].")
@run_options
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Folder for metrics.csv, config.json, model.npz (weights + optimizer state) and loss.png.")
@click.option("--resume", type=click.Path(), default=None, metavar="DIR",
              help="Carry on an interrupted run saved in DIR, with its own settings, to the same end as an "
                   "uninterrupted run.")
@click.option("--force", is_flag=True,
              help="Replace the run already in --out (its config.json, metrics.csv, model.npz, loss.png); "
                   "without it, edu train refuses to overwrite a run.")
@click.option("--checkpoint-every", type=click.IntRange(min=0), default=ex.CHECKPOINT_EVERY, show_default=True,
              metavar="STEPS",
              help="Save a checkpoint every STEPS steps (0: only when stopped), so that even a killed run can "
                   "be resumed; without --out, in a new folder under runs/.")
@click.option("--use-exercises", "use_exercises", is_flag=False, flag_value="", default=None, metavar="[DIR]",
              help="Train with your own parts from the workbook DIR (default: this folder, or its exercises/): "
                   "your ops' backward, backward loop, zero_grad, MLP and optimizer. Each part the run needs "
                   "must pass edu check first; nothing is saved.")
@click.pass_context
def train_command(ctx, optimizer, schedule, out, resume, force, checkpoint_every, use_exercises, **options):
    """Train an MLP on a data set and report the loss and accuracy.

    \b
    edu train                                        # moons, momentum: >= 97% test accuracy
    edu train --optimizer adam --lr 0.01 --out runs/adam
    edu train --optimizer sgd --momentum 0.9 --nesterov --schedule cosine
    edu train --dataset digits --hidden 64 --epochs 20
    edu train --data my.csv --loss mse

    Ctrl-C (or SIGTERM, SIGHUP) stops at the end of the current step and saves a checkpoint,
    however often it is pressed; `edu train --resume DIR` continues it and ends with the same
    weights, bit for bit, as a run that was never stopped. The exit status is then 128 + the
    signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP.

    A loss that becomes NaN or inf, or more than 100 times its first value, has diverged: the run
    stops there, keeps its metrics (in --out) and exits with status 1, naming the step.
    """
    with deferred_signals(STOP_SIGNALS, stop_on_second=False, ignore_after=True) as signals, \
            contextlib.ExitStack() as locks:
        if use_exercises is not None:
            _train_with_exercises(ctx, signals, use_exercises, optimizer, schedule, options)
        else:
            _train(ctx, signals, locks, optimizer, schedule, out, resume, force, checkpoint_every, options)


def _train_with_exercises(ctx, signals, folder, optimizer, schedule, options):
    """edu train --use-exercises: the run edu train would make, trained with the workbook's parts, in memory."""
    for name in ("out", "resume", "force", "checkpoint_every"):
        if given(ctx, name):
            raise click.UsageError(f"--use-exercises trains in memory and saves nothing; leave out "
                                   f"--{name.replace('_', '-')}")
    from ..course import milestone, runner      # the course needs pytest and hypothesis; edu train does not
    from ..course.workbook import Workbook, WorkbookImportError
    missing = runner.missing_requirements()
    if missing:
        raise click.UsageError(f"--use-exercises checks your parts first and needs {' and '.join(missing)}: "
                               f"pip install \"tinygrad_edu[course]\"")
    hyper = {k[len(HYPER):]: v for k, v in options.items() if k.startswith(HYPER) and v is not None}
    lr = hyper.pop("lr", None)
    options = {k: v for k, v in options.items() if not k.startswith(HYPER)}
    try:
        workbook = Workbook(runner.find_workbook(Path(folder) if folder else None))
        run = ex.build(run_config(ctx, optimizer, lr=lr, hyper=hyper, schedule=schedule, **options))
        milestone.check_ready(workbook, run)
    except runner.CheckSetupError:
        where = Path(folder) if folder else Path.cwd()
        raise click.UsageError(f"--use-exercises: no workbook in {where} (nor in its exercises folder); give the "
                               f"folder that holds your workbook") from None
    except (ex.ConfigError, ValueError, milestone.MilestoneError, WorkbookImportError) as exc:
        raise usage_error(exc) from None
    except milestone.NotReady as exc:
        click.echo(f"Error: {exc}; edu check shows what each one needs", err=True)
        ctx.exit(1)
    if signals.signum is not None:
        click.echo(f"Error: stopped by {signals.name} before training started; nothing was trained", err=True)
        ctx.exit(signals.exit_status)
    click.echo(ex.describe_run(run))
    with Progress(run.total_steps) as progress:
        try:
            outcome = milestone.train_run(workbook, run, on_step=progress.update, check=False)
        except ex.TrainingDiverged as exc:
            click.echo(f"Error: {exc.history.message}", err=True)
            ctx.exit(1)
        except ex.ConfigError as exc:
            raise usage_error(exc) from None
        except milestone.StudentCodeError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
    history = outcome.history
    if history.stopped == "interrupted":
        click.echo(f"{history.message}; nothing was saved (--use-exercises trains in memory)", err=True)
        ctx.exit(signals.exit_status)
    click.echo(ex.format_summary(ex.summary(outcome.run, history, outcome.seconds)))
    click.echo(f"trained with {outcome.parts}")
    if signals.signum is not None:
        click.echo(f"Error: stopped by {signals.name} after the run had finished", err=True)
        ctx.exit(signals.exit_status)


def _train(ctx, signals, locks, optimizer, schedule, out, resume, force, checkpoint_every, options):
    hyper = {k[len(HYPER):]: v for k, v in options.items() if k.startswith(HYPER) and v is not None}
    lr = hyper.pop("lr", None)
    options = {k: v for k, v in options.items() if not k.startswith(HYPER)}
    try:
        if resume is not None:
            typed = [p for p in ctx.command.get_params(ctx) if p.name not in (None, "resume", "optimizer",
                                                                              "checkpoint_every")
                     and given(ctx, p.name)]
            if typed:
                raise click.UsageError(f"--resume continues with the settings saved in {resume}/config.json; "
                                       f"leave out {typed[0].opts[0]}")
            ex.check_resume_dir(resume)
            locks.enter_context(ex.RunLock(resume, "--resume"))
            run, history = ex.resume(resume, optimizer=optimizer if given(ctx, "optimizer") else None)
            out = resume
        else:
            run, history = ex.build(run_config(ctx, optimizer, lr=lr, hyper=hyper, schedule=schedule, **options)), None
            if out is not None:
                ex.check_out_dir(out)
                locks.enter_context(ex.RunLock(out))
                ex.check_new_run_dir(out, force=force)
                ex.write_config(run, out)
    except (ex.ConfigError, ValueError) as exc:
        raise usage_error(exc) from None
    if signals.signum is not None:
        click.echo(f"Error: stopped by {signals.name} before training started; nothing was trained", err=True)
        ctx.exit(signals.exit_status)

    folder = {"path": Path(out) if out is not None else None}

    def run_folder() -> Path:
        """--out, or (for a run without it) a new folder under runs/, made and locked on first use."""
        if folder["path"] is None:
            folder["path"] = ex.new_run_dir(run.config)
            locks.enter_context(ex.RunLock(folder["path"]))
        return folder["path"]

    click.echo(ex.describe_run(run))
    started = time.perf_counter()
    with Progress(run.total_steps, history.steps if history else 0) as progress:
        def on_step(h):
            progress.update(h)
            if checkpoint_every and h.steps % checkpoint_every == 0 and h.steps < run.total_steps:
                ex.save_progress(run, h, run_folder())
        try:
            history = ex.fit_run(run, history, on_step=on_step)
        except ex.TrainingDiverged as exc:        # reported below, after the metrics so far are saved
            history = exc.history
        except (OSError, ex.ckpt_io.CheckpointError, ex.ConfigError) as exc:   # a periodic checkpoint failed
            raise click.ClickException(f"could not save a checkpoint in {folder['path']}: {exc}") from None
    seconds = time.perf_counter() - started

    if history.stopped == "interrupted":
        where = run_folder()
        try:
            ex.save_run(run, history, where, seconds, plot=False)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{history.message}, but the checkpoint could not be saved: {exc}") from None
        by = "" if signals.signum in (None, 2) else f"{signals.name}: "
        click.echo(f"{by}{history.message}; saved a checkpoint in {where}", err=True)
        click.echo(f"resume with: edu train --resume {shlex.quote(str(where))}{_optimizer_hint(run)}", err=True)
        ctx.exit(signals.exit_status)
    click.echo(ex.format_summary(ex.summary(run, history, seconds)))
    if folder["path"] is not None:
        try:
            paths = ex.save_run(run, history, folder["path"], seconds)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"could not write the results to {folder['path']}: {exc}") from None
        click.echo(f"wrote {', '.join(str(p) for p in paths.values())}")
    if signals.signum is not None:         # came after the last step: the run is complete and saved
        saved = f"; it was saved in {folder['path']}" if folder["path"] is not None else ""
        click.echo(f"Error: stopped by {signals.name} after the run had finished{saved}", err=True)
        ctx.exit(signals.exit_status)
    if history.stopped == "diverged":
        click.echo(f"Error: {history.message}", err=True)
        ctx.exit(1)


def _optimizer_hint(run) -> str:
    """' --optimizer X' when resuming needs the user to name the optimizer again (code outside the registry)."""
    name = run.config.optimizer
    return "" if optim.registry.registered(name) is not None else f" --optimizer {shlex.quote(name)}"


@click.command("compare")
@click.option("--optimizers", default="sgd,momentum,nesterov,adam", show_default=True,
              help="Comma-separated optimizer names (or package.module:Class), each with its default settings.")
@click.option("--lr", type=float, default=None,
              help="One learning rate for all of them (default: each optimizer's own, see `edu optimizers`).")
@run_options
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

    An optimizer whose loss diverges (NaN, inf, or more than 100 times its first value) stops
    there and is marked "diverged at step N" in the table; the others still run. The exit status
    is then 1. Ctrl-C (or SIGTERM, SIGHUP) stops the comparison: the table so far is printed,
    nothing is written, and the exit status is 128 + the signal's number (130 for Ctrl-C).
    """
    with deferred_signals(STOP_SIGNALS, stop_on_second=False, ignore_after=True) as signals:
        _compare(ctx, signals, optimizers, lr, target_loss, out, options)


def _compare(ctx, signals, optimizers, lr, target_loss, out, options):
    try:
        if lr is not None and lr <= 0:
            raise ex.ConfigError(f"lr={lr!r} must be > 0", "--lr")
        if target_loss is not None and not target_loss > 0:
            raise ex.ConfigError(f"target loss {target_loss!r} must be > 0", "--target-loss")
        names = ex.optimizer_names(optimizers)
        config = run_config(ctx, names[0], lr=lr, **options)
        ex.check_out_dir(out)
        result = ex.compare(names, config, target=target_loss, on_step=None)
    except (ex.ConfigError, ValueError) as exc:
        raise usage_error(exc) from None
    click.echo(result.data.describe())
    click.echo(ex.comparison_table(result))
    stopped = next((row for row in result.rows if row["stopped"] == "interrupted"), None)
    if stopped is not None or (signals.signum is not None and len(result.rows) < len(names)):
        during = f" during {stopped['optimizer']} ({stopped['message']})" if stopped else ""
        click.echo(f"Error: stopped by {signals.name or 'SIGINT'}{during}: the table above is partial "
                   f"({counted_rows(result, names)}) and nothing was written to {out}", err=True)
        ctx.exit(signals.exit_status)
    try:
        paths = ex.save_comparison(result, out)
    except OSError as exc:
        raise click.ClickException(f"could not write the results to {out}: {exc}") from None
    click.echo(f"wrote {', '.join(str(p) for p in paths.values())}")
    if signals.signum is not None:
        click.echo(f"Error: stopped by {signals.name} after the comparison had finished; its results were "
                   f"written in full", err=True)
        ctx.exit(signals.exit_status)
    diverged = [row for row in result.rows if row["stopped"] == "diverged"]
    for row in diverged:
        click.echo(f"Error: {row['optimizer']}: {row['message']}", err=True)
    if diverged:
        ctx.exit(1)


def counted_rows(result, names) -> str:
    done = sum(row["stopped"] != "interrupted" for row in result.rows)
    return f"{done} of {len(names)} optimizers ran to the end"


@click.command("optimizers")
@click.argument("names", nargs=-1)
def optimizers_command(names):
    """List the optimizers: each one's update rule and hyperparameters (or only NAMES)."""
    blocks = []
    for name in names or optim.names():
        try:
            blocks.append(ex.optimizer_help(ex.optimizer_class(name)))
        except ex.ConfigError as exc:
            if names:                         # the argument, not the --optimizer of edu train
                raise click.BadParameter(str(exc).splitlines()[0], param_hint="NAMES") from None
            blocks.append(f"{name}: cannot be loaded ({exc})")
    click.echo("\n\n".join(blocks))
