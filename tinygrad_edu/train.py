"""The training loop, written once: `fit` trains a model on a Dataset and records what happened.

>>> from tinygrad_edu import nn, optim
>>> from tinygrad_edu.data import get_dataset
>>> data = get_dataset("moons", seed=0)
>>> model = nn.MLP([2, 16, 16, 2], activation="relu", seed=0)
>>> history = fit(model, optim.get("momentum")(model.parameters(), lr=0.1), data, epochs=20, batch_size=32)
>>> history.test_accuracy[-1]

Each step is the loop you would write by hand:

    optimizer.zero_grad()
    loss = loss_fn(model(X_batch), y_batch)
    loss.backward()
    optimizer.step()

plus bookkeeping: the History records, per step, the minibatch loss, the gradient norm ‖∇L‖,
the update norm ‖Δw‖ and the learning rate; per epoch, the loss and accuracy on the whole
training and test sets (epoch 0 is measured before the first step).

When training goes wrong:
  - Divergence raises TrainingDiverged. A loss has diverged when it is NaN or inf, or more than
    100 times (`diverge_factor`) the first value of the run's loss curve: the whole training
    set's loss before the first step. Every loss fit measures is checked: each step's minibatch
    loss (a diverged one stops the run before that step's update) and the training set's loss
    after each epoch. The exception's one-line message names the step and suggests a smaller
    learning rate; exc.history holds the metrics up to there (history.stopped == "diverged").
  - Ctrl-C (SIGINT) finishes the current step and returns with history.stopped == "interrupted"
    (a Ctrl-C after the last step lets the run finish; `deferred_signals` tells which signal came);
    the model, optimizer and schedule are then at a clean step boundary and can be saved and
    resumed (pass the returned history back to `fit`) to end with the very same weights.
"""
from __future__ import annotations

import contextlib
import math
import signal
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import numpy as np

from . import nn
from .data import Dataset, batches, closest_names, n_batches
from .tensor import Tensor, no_grad

__all__ = ["fit", "deferred_signals", "Signals", "History", "Loss", "get_loss", "loss_names", "evaluate", "TrainingError", "TrainingDiverged",
           "DIVERGE_FACTOR", "has_diverged", "counted"]

DIVERGE_FACTOR = 100.0   # a loss more than this many times the run's first loss has diverged


def counted(n: int, noun: str) -> str:
    """'1 step', '2 steps': a count with its noun in the right number (nouns that take an s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class TrainingError(ValueError):
    """Settings that cannot train (one-line message naming the problem and the fix)."""


class TrainingDiverged(ArithmeticError):
    """The loss diverged at `step` (it became `loss`); `history` holds the metrics up to there.

    An ArithmeticError, like OverflowError: the numbers blew up, the settings were valid. The
    message is one line: the step, the loss, and the learning rate to try instead.
    """

    def __init__(self, step: int, loss: float, history: "History"):
        super().__init__(history.message)
        self.step, self.loss, self.history = step, loss, history


# ----- losses: how targets are encoded and predictions read --------------------------------

@dataclass(frozen=True)
class Loss:
    """A loss function with what it needs around it.

    fn(outputs, targets) -> scalar Tensor; outputs(n_classes) is the width of the model's last
    layer; targets(y) encodes the dataset's labels for fn; predict(outputs) turns raw outputs
    into class indices (classification only).
    """
    name: str
    task: str                               # "classification" or "regression"
    fn: Callable
    outputs: Callable[[int], int]
    targets: Callable[[np.ndarray], np.ndarray] = lambda y: y
    predict: Optional[Callable[[np.ndarray], np.ndarray]] = None
    binary_only: bool = False
    doc: str = ""


def _argmax(out: np.ndarray) -> np.ndarray:
    return out.argmax(axis=1)


def _positive(out: np.ndarray) -> np.ndarray:
    return (out[:, 0] > 0).astype(np.int64)


_LOSSES = {
    "cross-entropy": Loss("cross-entropy", "classification", nn.cross_entropy,
                          outputs=lambda k: k, predict=_argmax,
                          doc="softmax cross-entropy, one output per class"),
    "bce": Loss("bce", "classification", nn.binary_cross_entropy_with_logits,
                outputs=lambda k: 1, targets=lambda y: y.astype(np.float64).reshape(-1, 1), predict=_positive,
                binary_only=True, doc="binary cross-entropy on one logit (two classes)"),
    "hinge": Loss("hinge", "classification", nn.hinge,
                  outputs=lambda k: 1, targets=lambda y: 2.0 * y - 1.0, predict=_positive, binary_only=True,
                  doc="hinge loss max(0, 1 - y·f(x)) on one score, labels ±1 (two classes)"),
    "mse": Loss("mse", "regression", nn.mse, outputs=lambda k: k,
                doc="mean squared error (regression)"),
}


def loss_names() -> list:
    return list(_LOSSES)


def get_loss(name: Optional[str], data: Dataset) -> Loss:
    """The Loss called `name` (None: cross-entropy for classification, mse for regression), checked against data."""
    if name is None:
        name = "cross-entropy" if data.task == "classification" else "mse"
    if isinstance(name, Loss):
        loss = name
    elif str(name).strip().lower().replace("_", "-") in _LOSSES:
        loss = _LOSSES[str(name).strip().lower().replace("_", "-")]
    else:
        raise TrainingError(f"unknown loss {name!r}{closest_names(str(name), _LOSSES)} "
                            f"(choose from: {', '.join(_LOSSES)})")
    if loss.task != data.task:
        suitable = [k for k, v in _LOSSES.items() if v.task == data.task]
        fix = f"use {' or '.join(suitable)}" if len(suitable) < 2 else f"use one of {', '.join(suitable)}"
        raise TrainingError(f"loss {loss.name} is for {loss.task}, but {data.name or 'the data'} is a {data.task} "
                            f"problem; {fix}")
    if loss.binary_only and data.n_classes != 2:
        raise TrainingError(f"loss {loss.name} needs two classes, but {data.name or 'the data'} has "
                            f"{data.n_classes}; use cross-entropy")
    return loss


# ----- what happened ---------------------------------------------------------------------

@dataclass
class History:
    """Per step (index s = step s+1): loss, grad_norm, update_norm, lr.
    Per evaluation (index e = after epoch e; e = 0 before training): epoch, step, train_loss,
    test_loss, train_accuracy, test_accuracy (NaN for regression)."""
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    update_norm: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    step: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    steps_per_epoch: int = 0
    stopped: str = ""          # "", "diverged" or "interrupted"
    message: str = ""

    STEP_FIELDS = ("loss", "grad_norm", "update_norm", "lr")
    EPOCH_FIELDS = ("epoch", "step", "train_loss", "test_loss", "train_accuracy", "test_accuracy")

    @property
    def steps(self) -> int:
        """Number of optimizer steps taken."""
        return len(self.loss)

    @property
    def epochs_done(self) -> int:
        return self.epoch[-1] if self.epoch else 0

    def steps_to(self, target: float) -> Optional[int]:
        """Steps until the whole training set's loss first reached `target` (checked after each epoch), or None."""
        for step, value in zip(self.step, self.train_loss):
            if value <= target:
                return step
        return None

    def to_arrays(self) -> dict:
        """Flat name → array dict (for a checkpoint)."""
        arrays = {name: np.asarray(getattr(self, name), dtype=np.float64)
                  for name in self.STEP_FIELDS + self.EPOCH_FIELDS}
        arrays["steps_per_epoch"] = np.array(self.steps_per_epoch)
        arrays["stopped"] = np.array(self.stopped)
        arrays["message"] = np.array(self.message)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict) -> "History":
        """The History `to_arrays` saved, checked first: a damaged one is a one-line TrainingError."""
        def fail(problem):
            raise TrainingError(f"the saved history is damaged ({problem})")
        for name in cls.STEP_FIELDS + cls.EPOCH_FIELDS + ("steps_per_epoch",):
            if name not in arrays:
                fail(f"no {name}")
        spe = np.asarray(arrays["steps_per_epoch"])
        if spe.ndim != 0 or spe.dtype.kind not in "iu" or int(spe) < 1:
            fail(f"steps_per_epoch = {spe.tolist()!r}, not a whole number >= 1")
        h = cls(steps_per_epoch=int(spe))
        for name in ("stopped", "message"):
            value = np.asarray(arrays.get(name, ""))
            if value.ndim != 0 or value.dtype.kind != "U":
                fail(f"{name} is not a text")
            setattr(h, name, str(value))
        for name in cls.STEP_FIELDS + cls.EPOCH_FIELDS:
            values = np.asarray(arrays[name])
            if values.ndim != 1 or values.dtype.kind not in "fiu":
                fail(f"{name} has shape {values.shape} and type {values.dtype}, not a list of numbers")
            setattr(h, name, [int(v) for v in values] if name in ("epoch", "step") else values.tolist())
        for fields in (cls.STEP_FIELDS, cls.EPOCH_FIELDS):
            lengths = {len(getattr(h, f)) for f in fields}
            if len(lengths) > 1:
                fail(f"{', '.join(fields)} have different lengths {sorted(lengths)}")
        evaluations = h.steps // h.steps_per_epoch + 1       # epoch 0 and one per finished epoch
        if h.epoch != list(range(evaluations)) or h.step != [e * h.steps_per_epoch for e in range(evaluations)]:
            fail(f"{h.steps} steps of {h.steps_per_epoch} per epoch need evaluations after epochs 0 to "
                 f"{evaluations - 1}, it has {len(h.epoch)}")
        return h

    def to_csv(self) -> str:
        """One row per step (row 0: before training); the epoch columns are filled on the step ending each epoch."""
        at_step = {s: e for e, s in enumerate(self.step)}
        evaluated = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")
        lines = [",".join(("step", "epoch") + self.STEP_FIELDS + evaluated)]
        for s in range(self.steps + 1):
            epoch = -(-s // self.steps_per_epoch) if self.steps_per_epoch else 0   # step s belongs to epoch ⌈s/spe⌉
            row = [str(s), str(epoch)]
            row += [_num(getattr(self, f)[s - 1]) if s > 0 else "" for f in self.STEP_FIELDS]
            e = at_step.get(s)
            row += [_num(getattr(self, f)[e]) if e is not None else "" for f in evaluated]
            lines.append(",".join(row))
        return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))


# ----- evaluation --------------------------------------------------------------------------

def evaluate(model, loss: Loss, X: np.ndarray, y: np.ndarray) -> tuple:
    """(loss, accuracy) of the model on all of X, y; accuracy is NaN for regression."""
    with no_grad():
        out = model(Tensor(X))
        value = float(loss.fn(out, loss.targets(y)).item())
    if loss.predict is None:
        return value, math.nan
    return value, float(np.mean(loss.predict(out.data) == y))


# ----- Ctrl-C at a step boundary --------------------------------------------------------------

class Signals:
    """What `deferred_signals` caught: the first signal's number (None: none yet) and how many came."""

    def __init__(self, stop_on_second: bool):
        self.signum: Optional[int] = None
        self.count = 0
        self.stop_on_second = stop_on_second

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_status(self) -> int:
        """The shell's status for a process ended by the signal: 128 + its number (130 for SIGINT)."""
        return 128 + (self.signum if self.signum is not None else signal.SIGINT)

    def handler(self, signum, frame):
        self.count += 1
        if self.signum is None:
            self.signum = signum
        elif self.stop_on_second and signum == signal.SIGINT:
            raise KeyboardInterrupt


_active: list = []     # the Signals of the deferred_signals blocks now open (outermost first)


@contextlib.contextmanager
def deferred_signals(signums=(signal.SIGINT,), stop_on_second: bool = True, ignore_after: bool = False):
    """Turn signals into a flag that the training loop checks between steps, so no step is left half done.

    Inside `fit` alone only Ctrl-C (SIGINT) is deferred, and a second Ctrl-C interrupts at once, as
    in any Python program. The `edu` command opens an outer block for SIGINT, SIGTERM and SIGHUP
    with stop_on_second=False: every signal waits until the run is saved, so the save always
    finishes; a `fit` inside it shares the outer flag. With ignore_after=True (the command: it
    exits right after the block), once a signal has come the signals are ignored after the block,
    so one more Ctrl-C cannot turn the clean exit into a traceback or a kill. Outside the main
    thread (where Python cannot install signal handlers) nothing is deferred.
    """
    if _active:
        yield _active[-1]
        return
    caught = Signals(stop_on_second)
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {s: signal.signal(s, caught.handler) for s in signums}
    _active.append(caught)
    try:
        yield caught
    finally:
        _active.pop()
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_IGN if ignore_after and caught.signum is not None else handler)


# ----- the loop ---------------------------------------------------------------------------------

def has_diverged(loss: float, first: float, factor: Optional[float] = DIVERGE_FACTOR) -> bool:
    """True when `loss` is NaN or ±inf, or loss > factor × first (factor None: only a non-finite loss).

    Exactly factor × first has not diverged yet. A first loss of 0 (or below) gives no scale to
    grow from, so then only a non-finite loss counts.
    """
    if not math.isfinite(loss):
        return True
    return factor is not None and first > 0 and loss > factor * first


def fit(model, optimizer, data: Dataset, epochs: int, batch_size: int, loss: Union[str, Loss, None] = None,
        schedule=None, seed: int = 0, history: Optional[History] = None,
        on_step: Optional[Callable[[History], None]] = None, track_norms: bool = True,
        diverge_factor: Optional[float] = DIVERGE_FACTOR) -> History:
    """Train `model` with `optimizer` on data.X_train for `epochs` epochs of minibatches; return the History.

    loss: a name from loss_names() (default: cross-entropy or mse by data.task) or a Loss.
    schedule: a learning-rate schedule (optim.schedules); its step() is called after each optimizer step.
    seed: the order of the minibatches in epoch e is drawn from numpy.random.default_rng([seed, e]):
          it depends on the seed and the epoch only, so a resumed run shuffles exactly as an
          uninterrupted one.
    history: a History returned by an interrupted fit (with the model, optimizer and schedule
             restored to the state they had then): training carries on where it stopped.
    on_step: called with the History after every step (progress bars; raising KeyboardInterrupt
             there stops training at that step boundary, like Ctrl-C).
    track_norms: measure ‖∇L‖ and ‖Δw‖ each step (about 5% of a small MLP's step; NaN if False).
    diverge_factor: a loss above diverge_factor × the first training loss raises TrainingDiverged
                    (None: only a NaN or inf loss does, to watch a run blow up on purpose).
    The whole-set evaluation after each epoch costs about two forward passes over the data.
    """
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise TrainingError(f"{name}={value!r}: use an integer >= 1")
    if diverge_factor is not None and not (isinstance(diverge_factor, (int, float)) and 1 < diverge_factor < math.inf):
        raise TrainingError(f"diverge_factor={diverge_factor!r}: use a number > 1, or None to stop only on NaN/inf")
    loss = get_loss(loss, data)
    params = [p for p in model.parameters() if p.requires_grad]
    X, y = data.X_train, loss.targets(data.y_train)
    steps_per_epoch = n_batches(len(X), batch_size)

    if history is None:
        history = History(steps_per_epoch=steps_per_epoch)
    if history.steps_per_epoch != steps_per_epoch:
        raise TrainingError(f"the history was recorded with {counted(history.steps_per_epoch, 'step')} per epoch, "
                            f"this run has {steps_per_epoch}; resume with the same data and batch size")
    if history.stopped == "diverged":
        raise TrainingError(f"cannot continue a run that diverged ({history.message}); start again with a smaller "
                            f"learning rate")
    history.stopped, history.message = "", ""
    if not history.epoch:
        with np.errstate(over="ignore", invalid="ignore"):
            _record_epoch(history, model, loss, data, epoch=0)
    start_epoch, start_batch = divmod(history.steps, steps_per_epoch)

    norms = _Norms(params) if track_norms else None
    watch = _Divergence(history, optimizer, diverge_factor)
    in_step = False
    # Overflow on the way to divergence is expected and reported once, as TrainingDiverged, not as warnings.
    with deferred_signals() as interrupt, np.errstate(over="ignore", invalid="ignore"):
        try:
            for epoch in range(start_epoch, epochs):
                skip = start_batch if epoch == start_epoch else 0
                for xb, yb in batches(X, y, batch_size, seed=[seed, epoch], start=skip):
                    if interrupt.signum is not None:   # checked before a step: a signal after the last one
                        raise KeyboardInterrupt        # lets the run finish
                    in_step = True
                    _step(model, optimizer, loss, xb, yb, norms, history, watch)
                    if schedule is not None:
                        schedule.step()
                    if history.steps % steps_per_epoch == 0:
                        _record_epoch(history, model, loss, data, epoch + 1)
                        watch.check(history.train_loss[-1], history.steps,
                                    f"after step {history.steps} (epoch {epoch + 1})", what="training loss")
                    in_step = False
                    if on_step is not None:
                        on_step(history)
        except KeyboardInterrupt:
            if in_step:      # stopped inside a step: the state is half updated, nothing clean to save
                raise
            epoch_now, batch_now = divmod(history.steps, steps_per_epoch)
            history.stopped = "interrupted"
            history.message = (f"interrupted after step {history.steps} (epoch {epoch_now + (batch_now > 0)}, "
                               f"batch {batch_now or steps_per_epoch} of {steps_per_epoch})")
    return history


class _Norms:
    """‖∇L‖ and ‖Δw‖ over all parameters at once, measured cheaply.

    All parameters are copied into one flat buffer before the step and once after, so the norms
    cost a few NumPy calls per step, however many parameter arrays the model has.
    """

    def __init__(self, params):
        self.params = params
        size = sum(p.data.size for p in params)
        self.before, self.after, self.grad = np.empty(size), np.empty(size), np.empty(size)

    def _flat(self, arrays, out) -> np.ndarray:
        return np.concatenate([a.ravel() for a in arrays], out=out)

    def grad_norm(self) -> float:
        grads = [p.grad if p.grad is not None else np.zeros_like(p.data) for p in self.params]
        g = self._flat(grads, self.grad)
        return math.sqrt(float(g @ g))

    def snapshot(self) -> None:
        self._flat([p.data for p in self.params], self.before)

    def update_norm(self) -> float:
        delta = np.subtract(self._flat([p.data for p in self.params], self.after), self.before, out=self.after)
        return math.sqrt(float(delta @ delta))


class _Divergence:
    """Checks each loss against the run's first one; a diverged loss raises TrainingDiverged with the fix."""

    def __init__(self, history: History, optimizer, factor: Optional[float]):
        self.history, self.optimizer, self.factor = history, optimizer, factor
        self.first = history.train_loss[0]

    def check(self, value: float, step: int, when: str, what: str = "loss") -> None:
        """Raise TrainingDiverged if `value` (the `what` measured `when`, e.g. "at step 12") has diverged."""
        if not has_diverged(value, self.first, self.factor):
            return
        if math.isfinite(value):
            problem = (f"{what} {_above(value, self.factor * self.first)} {when} is more than {self.factor:g}× "
                       f"its first value {self.first:.3g}")
        else:
            problem = f"{what} became {value} {when}"
        self.history.stopped = "diverged"
        self.history.message = f"{problem}: training diverged; {self.fix()}"
        raise TrainingDiverged(step, value, self.history)

    def fix(self) -> str:
        """What to change: the optimizer knows best (MomentumWithoutLR blames a momentum >= 1, not η)."""
        hint = getattr(self.optimizer, "divergence_hint", None)
        if hint is not None:
            return hint()
        lr = getattr(self.optimizer, "lr", None)      # an optimizer of another library
        return "use a smaller learning rate" + (f" (lr={float(lr):g} now)" if lr is not None else "")


def _above(value: float, threshold: float) -> str:
    """`value` in 3 significant digits, or as many more as it takes to print a number above `threshold`."""
    for digits in range(3, 18):
        text = f"{value:.{digits}g}"
        if float(text) > threshold:
            return text
    return repr(value)


def _step(model, optimizer, loss: Loss, xb, yb, norms: Optional[_Norms], history: History,
          watch: _Divergence) -> None:
    """One optimizer step; a diverged loss raises TrainingDiverged before the update is applied."""
    optimizer.zero_grad()
    value_t = loss.fn(model(Tensor(xb)), yb)
    value = float(value_t.data)
    lr = float(getattr(optimizer, "lr", math.nan))
    step = history.steps + 1
    watch.check(value, step, f"at step {step}")
    value_t.backward()
    if norms is not None:
        history.grad_norm.append(norms.grad_norm())
        norms.snapshot()
        optimizer.step()
        history.update_norm.append(norms.update_norm())
    else:
        optimizer.step()
        history.grad_norm.append(math.nan)
        history.update_norm.append(math.nan)
    history.loss.append(value)
    history.lr.append(lr)


def _record_epoch(history: History, model, loss: Loss, data: Dataset, epoch: int) -> None:
    train_loss, train_acc = evaluate(model, loss, data.X_train, data.y_train)
    test_loss, test_acc = evaluate(model, loss, data.X_test, data.y_test)
    history.epoch.append(epoch)
    history.step.append(history.steps)
    history.train_loss.append(train_loss)
    history.test_loss.append(test_loss)
    history.train_accuracy.append(train_acc)
    history.test_accuracy.append(test_acc)
