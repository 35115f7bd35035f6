"""Training runs as the `edu` command makes them: settings → data, model, optimizer → fit → files.

    config = RunConfig(optimizer="momentum", epochs=40)     # every setting of `edu train`
    run = build(config)                                     # data, model, optimizer, schedule, loss
    history = fit_run(run)                                  # train (train.fit; TrainingDiverged if it blows up)
    save_run(run, history, "runs/demo")                     # metrics.csv, config.json, model.npz, loss.png
    run, history = resume("runs/demo")                      # after Ctrl-C: carry on where it stopped

    result = compare(["sgd", "momentum", "adam"], config)   # same data, same initial weights

A run is rebuilt from its RunConfig alone: the data set, the initial weights and the order of
the minibatches all come from config.seed. That is why a checkpoint needs only the states
that change during training (weights, optimizer, schedule, position and history) to resume
bit for bit.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import inspect
import io
import json
import math
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from . import checkpoint as ckpt_io
from . import nn, optim
from .data import DataError, Dataset, closest_names, get_dataset, load_dataset, n_batches
from .io import atomic_write_text
from .train import History, Loss, TrainingDiverged, TrainingError, counted, fit, get_loss
from .viz.plots import comparison_curves, save_figure, training_curves

__all__ = ["RunConfig", "Run", "ConfigError", "TrainingDiverged", "build", "fit_run", "save_run", "resume", "saved_optimizer", "compare",
           "CompareResult", "comparison_table", "save_comparison", "parse_hidden", "default_lr", "optimizer_help",
           "summary", "format_table", "text_table", "check_out_dir", "check_new_run_dir", "RUN_FILES"]

# Learning rates that train the default MLP on the standardised toy sets well, for `edu train`
# and `edu compare` when --lr is not given. (The classes' own defaults are torch's, which are
# tuned for other problems: SGD's 0.001 would barely move here.)
TRAIN_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "ema-momentum": 0.5, "momentum-no-lr": 0.05,
            "adam": 0.01, "rmsprop": 0.01, "adagrad": 0.1}


class ConfigError(ValueError):
    """A setting that cannot be used; `option` names the command-line option to fix (e.g. "--hidden")."""

    def __init__(self, message: str, option: Optional[str] = None):
        super().__init__(message)
        self.option = option


@dataclass
class RunConfig:
    """Every setting of one training run (what `edu train` writes to config.json)."""
    optimizer: str = "momentum"
    lr: Optional[float] = None               # None: TRAIN_LR for the optimizer, else its own default
    hyper: dict = field(default_factory=dict)  # the optimizer's other hyperparameters, when not its defaults
    schedule: Optional[str] = None           # e.g. "cosine", "step:100:0.5" (optim.schedules.parse)
    epochs: int = 30
    batch_size: int = 32
    hidden: tuple = (16, 16)
    activation: str = "relu"
    loss: Optional[str] = None               # None: cross-entropy (classification) or mse (regression)
    dataset: str = "moons"
    data_file: Optional[str] = None          # a .csv/.npz file instead of a named dataset
    n: Optional[int] = None                  # samples (None: the dataset's default)
    noise: Optional[float] = None
    seed: int = 0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"config has unknown settings {', '.join(unknown)}; it was written by another "
                              f"version of tinygrad_edu")
        d = dict(d)
        if "hidden" in d:
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


@dataclass
class Run:
    """Everything built from a RunConfig, ready for `fit`."""
    config: RunConfig
    data: Dataset
    model: object
    optimizer: object
    schedule: object
    loss: Loss
    data_sha256: Optional[str] = None

    @property
    def steps_per_epoch(self) -> int:
        return n_batches(len(self.data.X_train), self.config.batch_size)

    @property
    def total_steps(self) -> int:
        return self.config.epochs * self.steps_per_epoch


# ----- checking settings ------------------------------------------------------------------------

def parse_hidden(text) -> tuple:
    """'16,16' → (16, 16); '' or 'none' → () (a linear model)."""
    if isinstance(text, (tuple, list)):
        items = list(text)
    else:
        s = str(text).strip().lower()
        items = [] if s == "none" else [p.strip() for p in s.split(",")]
    sizes = []
    for item in items:
        try:
            size = int(item)
        except (TypeError, ValueError):
            size = 0
        if size < 1 or str(size) != str(item).strip():
            raise ConfigError(f"hidden layer sizes {text!r} are not a comma-separated list of positive integers; "
                              f"write e.g. --hidden 16,16 (or --hidden none for a linear model)", "--hidden")
        sizes.append(size)
    return tuple(sizes)


def optimizer_class(name: str):
    try:
        return optim.get(name)
    except ValueError as exc:
        raise ConfigError(str(exc), "--optimizer") from None


def default_lr(cls) -> Optional[float]:
    """The learning rate `edu train` uses for an optimizer class when --lr is not given (None: it takes none)."""
    lr = next((h for h in cls.hyperparameters() if h.name == "lr"), None)
    if lr is None:
        return None
    if cls.cli_name in TRAIN_LR:
        return TRAIN_LR[cls.cli_name]
    default = lr.default
    if default is inspect.Parameter.empty:
        raise ConfigError(f"optimizer {cls.cli_name or cls.__name__} has no default learning rate; give one with --lr",
                          "--lr")
    return default


def optimizer_help(cls) -> str:
    """What `edu optimizers` prints for one optimizer: its rule, its hyperparameters, the lr `edu train` uses."""
    lr = default_lr(cls)
    if lr is None:
        return cls.describe() + "\n  (no learning rate: the step is set by the hyperparameters above)"
    return cls.describe() + f"\n  edu train uses lr={lr:g} unless you give --lr"


def _optimizer_kwargs(cls, config: RunConfig) -> dict:
    kwargs = dict(config.hyper)
    specs = {h.name: h for h in cls.hyperparameters()}
    unknown = [k for k in kwargs if k not in specs]
    if unknown:
        raise ConfigError(f"optimizer {cls.cli_name} has no hyperparameter {', '.join(unknown)}; it takes "
                          f"{', '.join(specs) or 'none'}", "--" + unknown[0].replace("_", "-"))
    if config.lr is not None:
        if "lr" not in specs:
            raise ConfigError(f"optimizer {cls.cli_name} has no learning rate; leave out --lr "
                              f"(its step is set by {', '.join(specs)})", "--lr")
        kwargs["lr"] = config.lr
    elif "lr" in specs:
        kwargs["lr"] = default_lr(cls)
    for name, value in kwargs.items():
        try:
            kwargs[name] = specs[name].coerce(value, cls.cli_name)
        except ValueError as exc:
            raise ConfigError(str(exc), "--" + name.replace("_", "-")) from None
    return kwargs


def check_out_dir(out) -> Path:
    """Create `out` (and its parents) and make sure files can be written in it, before training starts."""
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out}: is a file, not a folder; give a folder name", "--out")
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write to {out} ({exc.strerror or exc}); choose a folder you can write to",
                          "--out") from None
    return out


RUN_FILES = ("config.json", "metrics.csv", "model.npz", "loss.png")   # what save_run writes into a run's folder


def check_new_run_dir(out, force: bool = False) -> Path:
    """check_out_dir for a new run, which must not overwrite another: a folder holding a run is refused.

    force=True replaces that run: its files (RUN_FILES) are removed, so none is left over from it.
    Other files in the folder are never touched.
    """
    out = Path(out)
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not force:
        raise ConfigError(f"{out} already holds a run ({', '.join(existing)}); continue it with "
                          f"`edu train --resume {shlex.quote(str(out))}`, or replace it with --force", "--out")
    out = check_out_dir(out)
    for name in existing:
        (out / name).unlink()
    return out


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----- building a run -----------------------------------------------------------------------------

_DATA_OPTIONS = {"name": "--dataset", "n": "--samples", "noise": "--noise"}


def build(config: RunConfig, initial_state: Optional[dict] = None) -> Run:
    """Data, model, optimizer, schedule and loss for `config`; every error is a ConfigError naming the option.

    initial_state: weights to start from instead of the seed's (used by compare).
    """
    for name, value in (("epochs", config.epochs), ("batch_size", config.batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name.replace('_', ' ')} = {value!r}: use an integer >= 1",
                              "--" + name.replace("_", "-"))
    hidden = parse_hidden(config.hidden)
    cls = optimizer_class(config.optimizer)
    kwargs = _optimizer_kwargs(cls, config)
    if config.data_file and (config.n is not None or config.noise is not None):
        option = "--samples" if config.n is not None else "--noise"
        raise ConfigError(f"{option} applies to the built-in data sets, not to a --data file; leave it out", option)
    try:
        if config.data_file:
            data = load_dataset(config.data_file, seed=config.seed,
                                task="regression" if config.loss == "mse" else None)
            sha = _sha256(config.data_file)
        else:
            data = get_dataset(config.dataset, n=config.n, seed=config.seed, noise=config.noise)
            sha = None
    except DataError as exc:
        option = "--data" if config.data_file else _DATA_OPTIONS.get(exc.param)
        raise ConfigError(str(exc), option) from None
    try:
        loss = get_loss(config.loss, data)
    except TrainingError as exc:
        raise ConfigError(str(exc), "--loss") from None
    activations = list(nn.ACTIVATIONS)
    if config.activation not in activations:
        raise ConfigError(f"unknown activation {config.activation!r}{closest_names(config.activation, activations)} "
                          f"(choose from: {', '.join(activations)})", "--activation")
    sizes = [data.n_features, *hidden, loss.outputs(data.n_outputs)]
    model = nn.MLP(sizes, activation=config.activation, seed=config.seed)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    try:
        optimizer = cls(model.parameters(), **kwargs)
    except ValueError as exc:       # a rule between hyperparameters, e.g. SGD's nesterov needs momentum > 0
        raise ConfigError(str(exc)) from None
    run = Run(config, data, model, optimizer, None, loss, data_sha256=sha)
    if config.schedule:
        run.schedule = _parse_schedule(config.schedule, optimizer, run.total_steps)
    return run


def _parse_schedule(spec: str, optimizer, total_steps: int):
    if not hasattr(optimizer, "lr"):
        raise ConfigError(f"optimizer {type(optimizer).cli_name} has no learning rate to schedule; leave out "
                          f"--schedule", "--schedule")
    try:
        return optim.schedules.parse(spec, optimizer, total_steps)
    except ValueError as exc:
        raise ConfigError(str(exc), "--schedule") from None


# ----- training, saving, resuming --------------------------------------------------------------------

def fit_run(run: Run, history: Optional[History] = None, on_step: Optional[Callable] = None) -> History:
    """Train `run` to the end of config.epochs (or until it diverges or is interrupted)."""
    c = run.config
    return fit(run.model, run.optimizer, run.data, c.epochs, c.batch_size, loss=run.loss, schedule=run.schedule,
               seed=c.seed, history=history, on_step=on_step)


def _finished(run: Run, history: History) -> bool:
    return history.steps >= run.total_steps


def save_checkpoint(run: Run, history: History, path) -> Path:
    """model.npz: weights, optimizer and schedule state, the history so far and where training stopped."""
    meta = {"config": run.config.to_dict(), "steps": history.steps, "total_steps": run.total_steps,
            "finished": _finished(run, history), "stopped": history.stopped, "data_sha256": run.data_sha256}
    return ckpt_io.save_checkpoint(path, run.model, run.optimizer, run.schedule, meta=meta,
                                   extra={f"history.{k}": v for k, v in history.to_arrays().items()})


def save_run(run: Run, history: History, out, seconds: Optional[float] = None, plot: bool = True) -> dict:
    """Write config.json, metrics.csv, model.npz (and loss.png) into `out`; return name → path."""
    out = check_out_dir(out)
    paths = {"config": out / "config.json", "metrics": out / "metrics.csv", "model": out / "model.npz"}
    write_config(run, out, history, seconds)
    atomic_write_text(paths["metrics"], history.to_csv())
    save_checkpoint(run, history, paths["model"])
    if plot and history.epoch:
        paths["plot"] = out / "loss.png"
        c = run.config
        data = Path(c.data_file).name if c.data_file else c.dataset
        lr = f", lr={run.optimizer.lr:g}" if hasattr(run.optimizer, "lr") else ""
        title = f"{data}, {c.optimizer}{lr}"
        save_figure(training_curves(history, title=title), paths["plot"])
    return paths


def write_config(run: Run, out, history: Optional[History] = None, seconds: Optional[float] = None) -> Path:
    """config.json: the settings (enough to rebuild the run) and, once there is one, the outcome."""
    record = {"config": run.config.to_dict(), "optimizer": repr(run.optimizer), "data": run.data.describe(),
              "data_sha256": run.data_sha256}
    if history is not None:
        record["result"] = summary(run, history, seconds)
    return atomic_write_text(Path(out) / "config.json", json.dumps(record, indent=2, allow_nan=False,
                                                                   default=_json_default) + "\n")


def _json_default(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(f"{type(x).__name__} is not JSON")


def summary(run: Run, history: History, seconds: Optional[float] = None) -> dict:
    """Final numbers of a run (JSON-ready: None where there is no number)."""
    def last(values):
        return None if not values or math.isnan(values[-1]) else float(values[-1])
    return {"steps": history.steps, "epochs": history.epochs_done, "train_loss": last(history.train_loss),
            "test_loss": last(history.test_loss), "train_accuracy": last(history.train_accuracy),
            "test_accuracy": last(history.test_accuracy), "stopped": history.stopped or "finished",
            "message": history.message, "seconds": None if seconds is None else round(seconds, 3)}


def resume(out) -> tuple:
    """Rebuild the run saved in folder `out` (config.json + model.npz) at the step it stopped; (run, history)."""
    out = Path(out)
    if not out.is_dir():
        raise ConfigError(f"--resume {out}: no such folder; give the folder of an interrupted run "
                          f"(it holds config.json and model.npz)", "--resume")
    try:
        record = json.loads((out / "config.json").read_text())
        config = RunConfig.from_dict(record["config"])
    except FileNotFoundError:
        raise ConfigError(f"--resume {out}: no config.json in it; give the folder of an interrupted run", "--resume") \
            from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"--resume {out}: config.json is damaged ({exc}); start a new run", "--resume") from None
    try:
        saved = ckpt_io.load_checkpoint(out / "model.npz")
    except ckpt_io.CheckpointError as exc:
        raise ConfigError(str(exc), "--resume") from None
    if saved.meta.get("config") != config.to_dict():
        raise ConfigError(f"--resume {out}: config.json and model.npz are from different runs; start a new run",
                          "--resume")
    if saved.meta.get("finished"):
        raise ConfigError(f"--resume {out}: that run already finished ({counted(saved.meta.get('steps'), 'step')}); "
                          f"to train longer, start a new run with more --epochs", "--resume")
    if saved.meta.get("stopped") == "diverged":
        raise ConfigError(f"--resume {out}: that run diverged; start a new run with a smaller --lr", "--resume")
    run = build(config)
    if run.data_sha256 != saved.meta.get("data_sha256"):
        raise ConfigError(f"--resume {out}: the data file {config.data_file} changed since the run started; "
                          f"resume with the same data or start a new run", "--resume")
    try:
        saved.restore(run.model, run.optimizer, run.schedule)
        history = History.from_arrays({k[len("history."):]: v for k, v in saved.extra.items()
                                       if k.startswith("history.")})
    except (ckpt_io.CheckpointError, KeyError, ValueError) as exc:
        raise ConfigError(f"--resume {out}: cannot restore the run ({exc})", "--resume") from None
    return run, history


def saved_optimizer(out) -> Optional[str]:
    """The optimizer name saved in folder `out`'s config.json, or None when there is none to read.

    `edu train --resume DIR` needs it before parsing its options (they depend on the optimizer);
    a folder that cannot be resumed is reported by `resume` itself, with the fix.
    """
    try:
        return json.loads((Path(out) / "config.json").read_text())["config"]["optimizer"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ----- comparing optimizers ---------------------------------------------------------------------------

@dataclass
class CompareResult:
    """The histories of one run per optimizer, and a table row for each."""
    histories: dict
    rows: list
    target: float
    data: Dataset


def optimizer_names(optimizers) -> list:
    """The names of a comma-separated list (or a list), checked: none missing, none twice, all known."""
    names = [o.strip() for o in optimizers if o.strip()] if not isinstance(optimizers, str) else \
        [o.strip() for o in optimizers.split(",") if o.strip()]
    if not names:
        raise ConfigError("no optimizers to compare; give a comma-separated list, e.g. sgd,momentum,adam",
                          "--optimizers")
    if len(set(names)) != len(names):
        raise ConfigError(f"optimizer listed twice in {','.join(names)}; list each once", "--optimizers")
    for name in names:
        optimizer_class(name)        # fail on a bad name before anything trains
    return names


def compare(optimizers, config: RunConfig, target: Optional[float] = None,
            on_step: Optional[Callable] = None) -> CompareResult:
    """Train one model per optimizer: same data, same initial weights, same minibatch order.

    Each optimizer uses config.lr if set, else its training default (TRAIN_LR). `target` is the
    training loss whose first crossing (checked after each epoch) is reported in steps
    (default 0.1 for classification, 0.01 for regression). An optimizer whose run diverges
    (train.TrainingDiverged) keeps its history up to there, its row's "end" says
    "diverged at step N", and the others still run.
    """
    names = optimizer_names(optimizers)
    first = build(dataclasses.replace(config, optimizer=names[0]))
    initial = first.model.state_dict()           # copies already
    if target is None:
        target = 0.1 if first.data.task == "classification" else 0.01
    histories, rows = {}, []
    for name in names:
        run = first if name == names[0] else build(dataclasses.replace(config, optimizer=name), initial_state=initial)
        started = time.perf_counter()
        try:
            history, end = fit_run(run, on_step=on_step), None
        except TrainingDiverged as exc:
            history, end = exc.history, f"diverged at step {exc.step}"
        seconds = time.perf_counter() - started
        histories[name] = history
        row = summary(run, history, seconds)
        row["optimizer"] = name
        row["lr"] = getattr(run.optimizer, "lr", None)
        row["steps_to_target"] = history.steps_to(target)
        row["end"] = end or row["stopped"]
        rows.append(row)
        if history.stopped == "interrupted":
            break
    return CompareResult(histories, rows, target, first.data)


def _comparison_columns(result: CompareResult) -> list:
    columns = [("optimizer", "optimizer", "{}"), ("lr", "lr", "{:g}"), ("train_loss", "train loss", "{:.4f}"),
               ("test_loss", "test loss", "{:.4f}")]
    if result.data.task == "classification":
        columns.append(("test_accuracy", "test acc", "{:.1%}"))
    return columns + [("steps_to_target", f"steps to loss {result.target:g}", "{}"), ("end", "end", "{}"),
                      ("seconds", "time (s)", "{:.2f}")]


def comparison_table(result: CompareResult) -> str:
    """The table `edu compare` prints: one row per optimizer."""
    return format_table(result.rows, _comparison_columns(result))


def save_comparison(result: CompareResult, out) -> dict:
    """Write compare.csv (the table), metrics-NAME.csv per optimizer and compare.png into `out`; name → path."""
    out = Path(out)
    keys = [key for key, _, _ in _comparison_columns(result)]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(keys)
    for row in result.rows:
        writer.writerow(["" if row.get(k) is None else row[k] for k in keys])
    paths = {"figure": out / "compare.png", "table": atomic_write_text(out / "compare.csv", table.getvalue())}
    for name, history in result.histories.items():
        safe = name.replace(":", "-").replace("/", "-")
        paths[f"metrics {name}"] = atomic_write_text(out / f"metrics-{safe}.csv", history.to_csv())
    title = f"{result.data.name}: same data, same initial weights"
    save_figure(comparison_curves(result.histories, title=title, target=result.target), paths["figure"])
    return paths


def format_table(rows: list, columns: list) -> str:
    """A plain-text table: columns is a list of (key, header, format) with format like '{:.4f}'."""
    cells = [[h for _, h, _ in columns]]
    for row in rows:
        cells.append([("–" if row.get(k) is None else fmt.format(row[k])) for k, _, fmt in columns])
    return text_table(cells)


def text_table(cells: list) -> str:
    """Lay out rows of strings (the first row the headers): first column left-aligned, the rest right."""
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def default_run_dir(config: RunConfig, root="runs") -> Path:
    """Where an interrupted run without --out saves its checkpoint: runs/<data>-<optimizer>-<time>."""
    data = Path(config.data_file).stem if config.data_file else config.dataset
    optimizer = config.optimizer.replace(":", "-").replace("/", "-").replace(".", "-")
    return Path(root) / f"{data}-{optimizer}-{time.strftime('%Y%m%d-%H%M%S')}"


def describe_run(run: Run) -> str:
    """Two lines: the data, then the model, the optimizer and the length of the run."""
    c = run.config
    schedule = f", schedule {c.schedule}" if c.schedule else ""
    return (f"{run.data.describe()}\n"
            f"{run.model.describe()} ({run.model.num_parameters()} parameters), {run.loss.name} loss, "
            f"{run.optimizer!r}{schedule}; {counted(c.epochs, 'epoch')} × {counted(run.steps_per_epoch, 'step')} "
            f"of {c.batch_size}")


def format_summary(result: dict) -> str:
    """The end-of-run lines: steps and time, then the final train and test loss (and accuracy)."""
    head = f"{result['stopped']}: {counted(result['steps'], 'step')}, {counted(result['epochs'], 'epoch')}"
    if result.get("seconds") is not None:
        head += f", {result['seconds']:.2f} s"
    if result["stopped"] != "finished":     # the losses are measured after each epoch: say which one
        head += "; the losses below are from " + \
            ("before training" if result["epochs"] == 0 else f"the end of epoch {result['epochs']}")
    lines = [head]
    for part in ("train", "test"):
        loss, acc = result[f"{part}_loss"], result[f"{part}_accuracy"]
        line = f"  {part:<5} loss {_loss_text(loss)}"
        if acc is not None:
            line += f"   accuracy {100 * acc:.1f}%"
        lines.append(line)
    return "\n".join(lines)


def _loss_text(x: Optional[float]) -> str:
    if x is None:
        return "–"
    return f"{x:.4f}" if abs(x) < 1e4 else f"{x:.3e}"
