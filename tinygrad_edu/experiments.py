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
import errno
import fcntl
import hashlib
import inspect
import io
import json
import math
import os
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
from .limits import SizeLimitError, check_model_size
from .optim.registry import code_file, registered
from .train import History, Loss, TrainingDiverged, TrainingError, counted, fit, get_loss
from .viz.plots import comparison_curves, save_figure, training_curves

__all__ = ["RunConfig", "Run", "ConfigError", "TrainingDiverged", "build", "fit_run", "save_run", "resume", "saved_optimizer", "compare",
           "CompareResult", "comparison_table", "save_comparison", "parse_hidden", "default_lr", "optimizer_help",
           "summary", "format_table", "text_table", "check_out_dir", "check_new_run_dir", "RUN_FILES", "RunLock",
           "new_run_dir", "save_progress", "blas_info", "CHECKPOINT_EVERY"]

CHECKPOINT_EVERY = 500   # `edu train` saves a checkpoint every this many steps (a run killed outright loses less)

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
    task: Optional[str] = None               # for a data file: "classification", "regression", None: data.AUTO_TASK_RULE
    n: Optional[int] = None                  # samples (None: the dataset's default)
    noise: Optional[float] = None
    seed: int = 0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """A RunConfig from its to_dict(), every field checked (type and range) before anything uses it."""
        if not isinstance(d, dict):
            raise ConfigError(f"the settings are a {type(d).__name__}, not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"config has unknown settings {', '.join(unknown)}; it was written by another "
                              f"version of tinygrad_edu")
        d = {"task": None, **d}          # runs saved before `task` existed had none: the automatic rule
        missing = sorted(names - set(d))
        if missing:
            raise ConfigError(f"config lacks the settings {', '.join(missing)}")
        for name, check in _SCHEMA.items():
            problem = check(d[name])
            if problem:
                raise ConfigError(f"{name} = {json.dumps(d[name])}: {problem}")
        d = dict(d)
        d["hidden"] = tuple(d["hidden"])
        return cls(**d)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _text(x, allow_none=False):
    if x is None and allow_none:
        return None
    return None if isinstance(x, str) and x.strip() else "not a non-empty text"


def _whole(low, allow_none=False):
    def check(x):
        if x is None and allow_none:
            return None
        return None if _is_int(x) and x >= low else f"not a whole number >= {low}"
    return check


def _positive_or_none(x):
    return None if x is None or (_is_number(x) and x > 0) else "not a finite number > 0"


def _hyper_values(x):
    if not isinstance(x, dict):
        return "not a JSON object of hyperparameters"
    for key, value in x.items():
        ok = (isinstance(value, bool) or _is_number(value) or
              (isinstance(value, list) and all(_is_number(v) for v in value)))
        if not ok:
            return f"{key} is not a number, a list of numbers or true/false"
    return None


_SCHEMA = {
    "optimizer": _text,
    "lr": _positive_or_none,
    "hyper": _hyper_values,
    "schedule": lambda x: _text(x, allow_none=True),
    "epochs": _whole(1),
    "batch_size": _whole(1),
    "hidden": lambda x: None if isinstance(x, list) and all(_is_int(v) and v >= 1 for v in x)
    else "not a list of whole numbers >= 1",
    "activation": lambda x: None if x in nn.ACTIVATIONS else f"not one of {', '.join(nn.ACTIVATIONS)}",
    "loss": lambda x: _text(x, allow_none=True),
    "dataset": _text,
    "data_file": lambda x: _text(x, allow_none=True),
    "n": _whole(1, allow_none=True),
    "noise": lambda x: None if x is None or (_is_number(x) and x >= 0) else "not a finite number >= 0",
    "task": lambda x: None if x in (None, "classification", "regression") else
    "not one of classification, regression or null",
    "seed": _whole(0),
}


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
    optimizer_sha256: Optional[str] = None     # the file of an optimizer from outside the registry
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
    _refuse_empty(out, "--out")
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


def _refuse_empty(folder, option: str) -> None:
    if isinstance(folder, str) and not folder.strip():
        raise ConfigError(f"{option} {folder!r}: an empty name would mean the working folder; give a folder name, "
                          f"e.g. {option} runs/demo", option)


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----- building a run -----------------------------------------------------------------------------

_DATA_OPTIONS = {"name": "--dataset", "n": "--samples", "noise": "--noise"}


def build(config: RunConfig, initial_state: Optional[dict] = None, optimizer_cls=None,
          optimizer_sha: Optional[str] = None) -> Run:
    """Data, model, optimizer, schedule and loss for `config`; every error is a ConfigError naming the option.

    initial_state: weights to start from instead of the seed's (used by compare).
    optimizer_cls, optimizer_sha: the class of config.optimizer and the SHA-256 of its file, when resume
    has already checked and loaded it (then nothing config.optimizer names is looked up again).
    """
    for name, value in (("epochs", config.epochs), ("batch_size", config.batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name.replace('_', ' ')} = {value!r}: use an integer >= 1",
                              "--" + name.replace("_", "-"))
    hidden = parse_hidden(config.hidden)
    if optimizer_cls is None:
        optimizer_sha = optimizer_sha256(config.optimizer)     # hashed before its code runs
        optimizer_cls = optimizer_class(config.optimizer)
    cls = optimizer_cls
    kwargs = _optimizer_kwargs(cls, config)
    if config.task is not None and not config.data_file:
        raise ConfigError("--task applies to a --data file; a built-in data set has its own task, leave it out",
                          "--task")
    if config.data_file and (config.n is not None or config.noise is not None):
        option = "--samples" if config.n is not None else "--noise"
        raise ConfigError(f"{option} applies to the built-in data sets, not to a --data file; leave it out", option)
    try:
        if config.data_file:
            task = config.task or ("regression" if config.loss == "mse" else None)
            data = load_dataset(config.data_file, seed=config.seed, task=task)
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
    try:
        check_model_size(sizes)
    except SizeLimitError as exc:
        raise ConfigError(str(exc), "--hidden") from None
    model = nn.MLP(sizes, activation=config.activation, seed=config.seed)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    try:
        optimizer = cls(model.parameters(), **kwargs)
    except ValueError as exc:       # a rule between hyperparameters, e.g. SGD's nesterov needs momentum > 0
        raise ConfigError(str(exc)) from None
    run = Run(config, data, model, optimizer, None, loss, data_sha256=sha, optimizer_sha256=optimizer_sha)
    if config.schedule:
        run.schedule = _parse_schedule(config.schedule, optimizer, run.total_steps)
    return run


def optimizer_sha256(name: str) -> Optional[str]:
    """SHA-256 of the file an optimizer outside the registry comes from (None for a built-in or registered one)."""
    if registered(name) is not None:
        return None
    file = code_file(name)
    return _sha256(file) if file is not None else None


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
            "finished": _finished(run, history), "stopped": history.stopped, "data_sha256": run.data_sha256,
            "optimizer_sha256": run.optimizer_sha256}
    return ckpt_io.save_checkpoint(path, run.model, run.optimizer, run.schedule, meta=meta,
                                   extra={f"history.{k}": v for k, v in history.to_arrays().items()})


def save_run(run: Run, history: History, out, seconds: Optional[float] = None, plot: bool = True,
             in_progress: bool = False) -> dict:
    """Write model.npz, metrics.csv, config.json (and loss.png) into `out`, in that order; return name → path.

    The checkpoint comes first, so a crash between the files leaves config.json and metrics.csv
    describing an earlier step than model.npz, never a later one; config.json records the step of
    the checkpoint it goes with ("checkpoint_step"), which resume checks. in_progress: a periodic
    checkpoint of a run still training.
    """
    out = check_out_dir(out)
    paths = {"model": out / "model.npz", "metrics": out / "metrics.csv", "config": out / "config.json"}
    save_checkpoint(run, history, paths["model"])
    atomic_write_text(paths["metrics"], history.to_csv())
    write_config(run, out, history, seconds, in_progress=in_progress)
    if plot and history.epoch:
        paths["plot"] = out / "loss.png"
        c = run.config
        data = Path(c.data_file).name if c.data_file else c.dataset
        lr = f", lr={run.optimizer.lr:g}" if hasattr(run.optimizer, "lr") else ""
        title = f"{data}, {c.optimizer}{lr}"
        save_figure(training_curves(history, title=title), paths["plot"])
    return paths


def save_progress(run: Run, history: History, out) -> dict:
    """A periodic checkpoint of a run still training (`edu train --checkpoint-every N`)."""
    return save_run(run, history, out, plot=False, in_progress=True)


def write_config(run: Run, out, history: Optional[History] = None, seconds: Optional[float] = None,
                 in_progress: bool = False) -> Path:
    """config.json: the settings (enough to rebuild the run), the BLAS it ran on and, once there is one, the outcome.

    history: the run as saved in model.npz (its step is "checkpoint_step"); None before the first checkpoint.
    """
    record = {"config": run.config.to_dict(), "optimizer": repr(run.optimizer), "data": run.data.describe(),
              "data_sha256": run.data_sha256, "optimizer_sha256": run.optimizer_sha256, "blas": blas_info(),
              "checkpoint_step": None if history is None else history.steps}
    if history is not None:
        record["result"] = summary(run, history, seconds)
        if in_progress:
            record["result"]["stopped"] = "running"
    return atomic_write_text(Path(out) / "config.json", json.dumps(record, indent=2, allow_nan=False,
                                                                   default=_json_default) + "\n")


def blas_info() -> dict:
    """The BLAS library NumPy uses and its thread count (sums can differ in the last bits between them).

    From threadpoolctl when it is installed, else from NumPy's build configuration (threads
    then from the usual environment variables, None when unset).
    """
    try:
        from threadpoolctl import threadpool_info        # optional: not a dependency
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return {"library": pool.get("internal_api"), "version": pool.get("version"),
                        "threads": pool.get("num_threads"), "source": "threadpoolctl"}
    info = {"library": None, "version": None, "threads": None, "source": "numpy"}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["library"], info["version"] = blas.get("name"), blas.get("version")
    except Exception:      # older NumPy has no mode="dicts"; the library then stays unknown
        pass
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            info["threads"] = int(os.environ[variable])
            break
    return info


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


_META_TYPES = {"config": dict, "steps": int, "total_steps": int, "finished": bool, "stopped": str,
               "data_sha256": (str, type(None)), "optimizer_sha256": (str, type(None))}


def resume(out, optimizer: Optional[str] = None) -> tuple:
    """Rebuild the run saved in folder `out` (config.json + model.npz) at the step it stopped; (run, history).

    Everything in the folder is data and is checked before it is used. Nothing it names is imported
    or run: a built-in or registered optimizer resumes by name; a run made with code from outside
    the registry ('file.py:Class', 'module:Class', an entry point) resumes only when the caller
    names it again (`optimizer`, the user's own --optimizer), and only if its file has the SHA-256
    recorded when the run started.
    """
    out = check_resume_dir(out)

    def refuse(problem: str, fix: str = "start a new run"):
        raise ConfigError(f"--resume {out}: {problem}; {fix}", "--resume")

    try:
        record = json.loads((out / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        refuse("no config.json in it", "give the folder of an interrupted run")
    except (OSError, UnicodeDecodeError) as exc:
        refuse(f"cannot read config.json ({getattr(exc, 'strerror', None) or exc})")
    except ValueError as exc:
        refuse(f"config.json is not JSON ({exc})")
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        refuse("config.json is damaged (it holds no settings object \"config\")")
    try:
        config = RunConfig.from_dict(record["config"])
    except ConfigError as exc:
        refuse(f"config.json is damaged ({exc})")
    try:
        saved = ckpt_io.load_checkpoint(out / "model.npz")
    except ckpt_io.CheckpointError as exc:
        if not (out / "model.npz").exists():
            refuse("it holds no model.npz (the run was stopped before its first checkpoint)",
                   f"start it again with --out {shlex.quote(str(out))} --force")
        raise ConfigError(str(exc), "--resume") from None
    meta = saved.meta
    bad = [k for k, t in _META_TYPES.items() if not isinstance(meta, dict) or not isinstance(meta.get(k), t)
           or (t is int and isinstance(meta.get(k), bool))]
    if bad:
        refuse(f"the meta data of model.npz is damaged ({bad[0]})")
    if meta["config"] != config.to_dict():
        refuse("config.json and model.npz are from different runs")
    stamp = record.get("checkpoint_step")
    if stamp is not None and (not _is_int(stamp) or stamp > meta["steps"]):
        refuse(f"config.json describes step {stamp!r} but model.npz holds step {meta['steps']}")
    if meta["finished"]:
        refuse(f"that run already finished ({counted(meta['steps'], 'step')})",
               "to train longer, start a new run with more --epochs")
    if meta["stopped"] == "diverged":
        refuse("that run diverged", "start a new run with a smaller --lr")
    cls, sha = _trusted_optimizer(out, config.optimizer, meta["optimizer_sha256"], optimizer)
    run = build(config, optimizer_cls=cls, optimizer_sha=sha)
    if run.data_sha256 != meta["data_sha256"]:
        refuse(f"the data file {config.data_file} changed since the run started",
               "resume with the same data or start a new run")
    try:
        history = History.from_arrays({k[len("history."):]: v for k, v in saved.extra.items()
                                       if k.startswith("history.")})
    except TrainingError as exc:
        refuse(str(exc))
    if history.steps_per_epoch != run.steps_per_epoch or meta["total_steps"] != run.total_steps:
        refuse(f"its history has {counted(history.steps_per_epoch, 'step')} per epoch, its settings give "
               f"{run.steps_per_epoch}; the files were changed by hand")
    if history.steps != meta["steps"] or history.steps >= run.total_steps:
        refuse(f"its history has {counted(history.steps, 'step')}, its meta data says {meta['steps']} of "
               f"{run.total_steps}; the files were changed by hand")
    try:
        saved.restore(run.model, run.optimizer, run.schedule)
    except (ckpt_io.CheckpointError, KeyError, ValueError, TypeError) as exc:
        refuse(f"cannot restore the run ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    return run, history


def check_resume_dir(out) -> Path:
    """The folder given to --resume, which must exist (an empty name is refused: it means the working folder)."""
    _refuse_empty(out, "--resume")
    out = Path(out)
    if not out.is_dir():
        raise ConfigError(f"--resume {out}: no such folder; give the folder of an interrupted run "
                          f"(it holds config.json and model.npz)", "--resume")
    return out


def _trusted_optimizer(out: Path, saved: str, saved_sha: Optional[str], given: Optional[str]) -> tuple:
    """(class, sha) of the optimizer to resume `saved` with, loading code only when the user named it (`given`)."""
    cls = registered(saved)
    if cls is not None:
        if given is not None and registered(given) is not cls:
            raise ConfigError(f"--optimizer {given}: the run in {out} uses {saved}; leave out --optimizer", "--optimizer")
        return cls, None
    if given is None:
        raise ConfigError(f"--resume {out}: its optimizer {saved!r} is code from outside tinygrad_edu, which is never "
                          f"run because a run folder names it; if you trust that code, name it yourself: "
                          f"edu train --resume {shlex.quote(str(out))} --optimizer {shlex.quote(saved)}", "--resume")
    same_name = given.strip().rpartition(":")[2].strip().lower() == saved.strip().rpartition(":")[2].strip().lower()
    if not same_name or registered(given) is not None:
        raise ConfigError(f"--optimizer {given}: the run in {out} was made with {saved}; name that one", "--optimizer")
    file = code_file(given)
    sha = _sha256(file) if file is not None else None
    if sha != saved_sha:
        raise ConfigError(f"--optimizer {given}: {file or given} is not the code this run was made with (its SHA-256 "
                          f"differs from the one recorded); resume with that same file, or start a new run",
                          "--optimizer")
    return optimizer_class(given), sha


def saved_optimizer(out) -> Optional[str]:
    """The optimizer saved in folder `out`'s config.json when it is a built-in or registered one, else None.

    `edu train --resume DIR --help` needs it before parsing its options (they depend on the
    optimizer). A name of code from outside the registry gives None: nothing a run folder names
    is ever imported (resume explains how to name such an optimizer).
    """
    try:
        name = json.loads((Path(out) / "config.json").read_text(encoding="utf-8"))["config"]["optimizer"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) and registered(name) is not None else None


class RunLock:
    """An exclusive lock on a run folder, so two `edu train` cannot write one run at once.

    The lock is the file .edu-train.lock in the folder, locked with flock and holding the
    owner's pid. The kernel drops a flock when its process dies, so a lock left by a killed
    run is taken over without any guessing about pids.
    """
    NAME = ".edu-train.lock"

    def __init__(self, folder, option: str = "--out"):
        self.path, self.option, self.fd = Path(folder) / self.NAME, option, None

    def __enter__(self) -> "RunLock":
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ConfigError(f"{self.option} {self.path.parent}: cannot write there ({exc.strerror or exc}); "
                                  f"choose a folder you can write to", self.option) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise ConfigError(f"{self.option} {self.path.parent}: another edu train (pid {owner or '?'}) is "
                                  f"writing a run there; wait for it to end, or choose another folder",
                                  self.option) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:        # not a file its last owner removed between our open and our flock
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            os.close(self.fd)
            self.fd = None


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
    """The name for a run without --out: runs/<data>-<optimizer>-<date>-<time> (new_run_dir makes it unique)."""
    data = Path(config.data_file).stem if config.data_file else config.dataset
    optimizer = config.optimizer.replace(":", "-").replace("/", "-").replace(".", "-")
    return Path(root) / f"{data}-{optimizer}-{time.strftime('%Y%m%d-%H%M%S')}"


def new_run_dir(config: RunConfig, root="runs") -> Path:
    """Create a folder for a run without --out that no other run has: default_run_dir, then -2, -3, ...

    The folder is made with an exclusive mkdir, so two runs started in the same second get two.
    """
    base = default_run_dir(config, root)
    base.parent.mkdir(parents=True, exist_ok=True)
    for i in range(1, 10_000):
        folder = base if i == 1 else base.with_name(f"{base.name}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise ConfigError(f"{base.parent} holds 9999 runs named {base.name}; give a folder with --out", "--out")


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
