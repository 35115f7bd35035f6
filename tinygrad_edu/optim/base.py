"""The Optimizer base class: parameters, validated hyperparameters, per-parameter state.

A new algorithm is a short subclass. It declares its hyperparameters, passes them to
``Optimizer.__init__`` (which checks each one against its valid range), and writes its
update rule in ``update(w, g, state)`` on NumPy arrays, in place:

    class SignSGD(Optimizer):
        '''w ← w − η·sign(∇L)'''
        cli_name = "sign-sgd"
        formula = "w ← w − η·sign(∇L)"
        hyper = (learning_rate(),)

        def __init__(self, params, lr=0.01):
            super().__init__(params, lr=lr)

        def update(self, w, g, state):
            w -= self.lr * np.sign(g)

The base class does the rest: ``step()`` calls ``update`` for every parameter that has a
gradient, ``zero_grad()``, and ``state_dict()`` / ``load_state_dict()`` so that a run can
be saved to an .npz file and resumed bit for bit.

The learning rate is a plain attribute, ``optimizer.lr``: a schedule (or you) may change
it between steps, and each algorithm uses it exactly where its formula puts it.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

import numpy as np

from ..tensor import Tensor, mark_changed

REQUIRED = inspect.Parameter.empty  # default of a hyperparameter that has none


class HyperparameterError(ValueError):
    """A hyperparameter of the wrong type or outside its valid range (the message says which range)."""


def _always(value) -> bool:
    return True


@dataclass(frozen=True)
class Hyperparameter:
    """Machine-readable description of one hyperparameter, for validation and for the CLI.

    name:  the keyword argument (torch.optim's name where torch has one: lr, momentum, betas...)
    type:  float, int, bool, or tuple (a pair of floats, like Adam's betas)
    range: the valid range as text, shown in errors and in --help ("0 <= momentum < 1")
    help:  one line saying what it does
    valid: a predicate for the range (applied to each element of a tuple)
    scheduled: a schedule may change it during a run (lr); a saved value only needs to be >= 0
    default: filled in by ``Optimizer.hyperparameters()`` from the class's signature
    """
    name: str
    type: type
    range: str
    help: str
    valid: Callable[[Any], bool] = _always
    scheduled: bool = False
    default: Any = REQUIRED

    def coerce(self, value, owner: str = "", check_range: bool = True):
        """Return `value` converted to this hyperparameter's type; raise HyperparameterError if invalid."""
        where = f"{owner}: " if owner else ""
        if self.type is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise HyperparameterError(f"{where}{self.name}={value!r} must be True or False")
            return bool(value)
        if self.type is int:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)) \
                    or not float(value).is_integer():
                raise HyperparameterError(f"{where}{self.name}={value!r} must be a whole number; use {self.range}")
            value = int(value)
        elif self.type is float:
            value = _to_float(value, f"{where}{self.name}={value!r} must be a number; use {self.range}")
        elif self.type is tuple:
            try:
                items = tuple(value)
            except TypeError:
                items = ()
            if len(items) != 2:
                raise HyperparameterError(f"{where}{self.name}={value!r} must be two numbers{self._example()}; "
                                          f"use {self.range}")
            value = tuple(_to_float(x, f"{where}{self.name}={value!r} must be two numbers; use {self.range}")
                          for x in items)
        if not check_range:
            return value
        ok = all(self.valid(x) for x in value) if self.type is tuple else self.valid(value)
        if not ok:
            raise HyperparameterError(f"{where}{self.name}={value!r} is out of range; use {self.range}")
        return value

    def _example(self, typed: bool = False) -> str:
        """The default as an example for a message (as Python, or as typed on the command line:
        " like 0.9,0.999"), or "" when there is no default to show."""
        if self.default is REQUIRED:
            return ""
        if typed and isinstance(self.default, tuple):
            return f" like {','.join(str(x) for x in self.default)}"
        return f", e.g. {self.default!r}"

    def parse(self, text: str, owner: str = ""):
        """Convert a command-line string ("0.9", "0.9,0.999", "true") and validate it."""
        where = f"{owner}: " if owner else ""
        text = str(text).strip()
        if self.type is bool:
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise HyperparameterError(f"{where}{self.name}={text!r} must be true or false")
            return self.coerce(lowered in ("true", "1", "yes"), owner)
        if self.type is tuple:
            parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
            try:
                numbers = tuple(float(p) for p in parts)
            except ValueError:
                numbers = ()
            if len(numbers) != 2:
                raise HyperparameterError(f"{where}{self.name}={text!r} must be two numbers{self._example(typed=True)}; "
                                          f"use {self.range}")
            return self.coerce(numbers, owner)
        try:
            number = float(text)
        except ValueError:
            kind = "a whole number" if self.type is int else "a number"
            raise HyperparameterError(f"{where}{self.name}={text!r} must be {kind}; use {self.range}") from None
        return self.coerce(number, owner)


def _to_float(value, message: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise HyperparameterError(message)
    value = float(value)
    if not math.isfinite(value):
        raise HyperparameterError(message)
    return value


# ----- the hyperparameters most optimizers share -------------------------------------

def learning_rate(help: str = "η: the step size; how strongly each gradient moves the weights") -> Hyperparameter:
    return Hyperparameter("lr", float, "lr > 0", help, lambda v: v > 0, scheduled=True)


def unit_interval(name: str, help: str) -> Hyperparameter:
    """A coefficient in [0, 1): a momentum or a decay rate."""
    return Hyperparameter(name, float, f"0 <= {name} < 1", help, lambda v: 0 <= v < 1)


def non_negative(name: str, help: str) -> Hyperparameter:
    return Hyperparameter(name, float, f"{name} >= 0", help, lambda v: v >= 0)


def positive(name: str, help: str) -> Hyperparameter:
    return Hyperparameter(name, float, f"{name} > 0", help, lambda v: v > 0)


# ----- the base class -----------------------------------------------------------------

class Optimizer:
    """Base class: holds the parameters, their hyperparameters and per-parameter state.

    Subclasses set the class attributes below, call ``super().__init__(params, **hyper)``
    with every hyperparameter, and implement ``update(w, g, state)``.
    """

    cli_name: ClassVar[str] = ""            # name on the command line: `edu train --optimizer NAME`
    formula: ClassVar[str] = ""             # the update rule on one line
    hyper: ClassVar[tuple] = ()             # Hyperparameter descriptions, in signature order
    state_keys: ClassVar[tuple] = ()        # the names of the per-parameter state entries
    state_counters: ClassVar[tuple] = ()    # those of them that count steps (whole numbers, not arrays)

    def __init__(self, params: Iterable[Tensor], **hyperparameters):
        owner = type(self).__name__
        self.params: list[Tensor] = _check_params(params, owner)
        specs = {h.name: h for h in self.hyperparameters()}   # with defaults, for the errors' examples
        for name, value in hyperparameters.items():
            if name not in specs:
                raise HyperparameterError(f"{owner}: unknown hyperparameter {name!r}; it takes "
                                          f"{', '.join(specs) or 'none'}")
            setattr(self, name, specs[name].coerce(value, owner))
        missing = [name for name in specs if name not in hyperparameters]
        if missing:
            raise TypeError(f"{owner}: missing hyperparameter {', '.join(missing)}; pass it as a keyword argument "
                            f"(a subclass's __init__ passes all of its hyperparameters to Optimizer.__init__)")
        self.check_hyperparameters()
        self.state: list[dict] = [{} for _ in self.params]
        self.step_count = 0   # how many times step() has run

    # ----- for subclasses ------------------------------------------------------------
    def check_hyperparameters(self) -> None:
        """Rules that involve several hyperparameters at once (override; raise HyperparameterError)."""

    def update(self, w: np.ndarray, g: np.ndarray, state: dict) -> None:
        """Update one parameter's values `w` in place, given its gradient `g` and its `state` dict."""
        raise NotImplementedError(f"{type(self).__name__} must implement update(w, g, state)")

    @staticmethod
    def buffer(state: dict, key: str, like: np.ndarray) -> np.ndarray:
        """The state array `key`, created as zeros shaped like `like` on first use."""
        buf = state.get(key)
        if buf is None:
            buf = state[key] = np.zeros_like(like)
        return buf

    # ----- the training-loop interface ------------------------------------------------
    def step(self) -> None:
        """Apply one update to every parameter that has a gradient (others are skipped).

        Each updated parameter is marked changed (its version goes up), so that backward() of a
        graph made before the step refuses to compute gradients from the moved weights.
        """
        self.step_count += 1
        moved = []
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self.update(p._data, p.grad, state)
                moved.append(p)
        mark_changed(*moved)

    def zero_grad(self) -> None:
        """Forget the gradients (set every .grad to None) before the next backward()."""
        for p in self.params:
            p.grad = None

    # ----- description, for the CLI and for people ------------------------------------
    @classmethod
    def hyperparameters(cls) -> list[Hyperparameter]:
        """The hyperparameters, with their defaults taken from the constructor's signature."""
        signature = inspect.signature(cls.__init__).parameters
        return [dataclasses.replace(h, default=signature[h.name].default if h.name in signature else REQUIRED)
                for h in cls.hyper]

    @classmethod
    def describe(cls) -> str:
        """A few lines: the name, the formula, and a table of hyperparameters."""
        lines = [f"{cls.cli_name or cls.__name__}  ({cls.__name__})", f"  {cls.formula}"]
        rows = [(f"--{h.name.replace('_', '-')}", "required" if h.default is REQUIRED else repr(h.default),
                 h.range, h.help) for h in cls.hyperparameters()]
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
        for r in rows:
            lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
        return "\n".join(lines)

    def __repr__(self) -> str:
        hp = ", ".join(f"{h.name}={getattr(self, h.name)!r}" for h in self.hyper)
        return f"{type(self).__name__}({hp})"

    # ----- saving and resuming ---------------------------------------------------------
    def state_dict(self) -> dict:
        """A flat dict of str → ndarray / float / int / bool, saveable with np.savez (no pickle).

        Keys: "step_count", "hyper.<name>" for each hyperparameter (lr as it is now, after any
        schedule), "params_with_state" (the indices of the parameters that have state, so that a
        missing one is noticed on loading) and "state.<i>.<key>" for parameter i's state. Arrays
        are copies.
        """
        d: dict = {"step_count": self.step_count,
                   "params_with_state": np.array([i for i, s in enumerate(self.state) if s], dtype=np.int64)}
        for h in self.hyper:
            value = getattr(self, h.name)
            d[f"hyper.{h.name}"] = np.array(value, dtype=np.float64) if h.type is tuple else value
        for i, state in enumerate(self.state):
            for key, value in state.items():
                d[f"state.{i}.{key}"] = value.copy() if isinstance(value, np.ndarray) else value
        return d

    def load_state_dict(self, d) -> None:
        """Restore what ``state_dict()`` returned (also after a round trip through np.savez/np.load).

        All or nothing, and strict: everything is checked before anything changes, and a missing,
        unexpected or bad entry is a one-line ValueError naming it. Each hyperparameter must be
        valid; the parameters listed in "params_with_state" hold every entry ``required_state(...)``
        names for these hyperparameters, each an array of the parameter's shape holding finite
        numbers (a counter such as Adam's "step": a whole number from 1 to step_count), and the
        others hold none (the optimizer never updated them: they had no gradient).
        """
        owner = f"{type(self).__name__}.load_state_dict"
        if not hasattr(d, "keys") or not hasattr(d, "__getitem__"):
            raise TypeError(f"{owner}: expected a dict (as state_dict() returns), got {type(d).__name__}")
        d = {key: d[key] for key in d.keys()}
        hint = "it was saved by another optimizer or for another model"
        if "step_count" not in d:
            raise ValueError(f"{owner}: missing entry 'step_count'; {hint}")
        step_count = _whole(d.pop("step_count"), owner, "step_count", low=0)
        hyper = {}
        for h in self.hyperparameters():
            key = f"hyper.{h.name}"
            if key not in d:
                raise ValueError(f"{owner}: missing entry {key!r}; {hint}")
            value = d.pop(key)
            if h.type is tuple:
                value = tuple(np.asarray(value).tolist()) if np.ndim(value) == 1 else value
            elif isinstance(value, np.ndarray) and value.ndim == 0:
                value = value.item()
            if h.scheduled:
                value = h.coerce(value, owner, check_range=False)
                if value < 0:
                    raise HyperparameterError(f"{owner}: {h.name}={value!r} is out of range; a saved {h.name} "
                                              f"must be >= 0")
            else:
                value = h.coerce(value, owner)
            hyper[h.name] = value
        self._check_saved_hyperparameters(hyper, owner)
        if "params_with_state" not in d:
            raise ValueError(f"{owner}: missing entry 'params_with_state'; {hint}, or by an older version")
        with_state = self._indices(d.pop("params_with_state"), owner)
        found: list[dict] = [{} for _ in self.params]
        for key in sorted(d):
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise ValueError(f"{owner}: unexpected entry {key!r}; {hint}")
            i, name = int(parts[1]), parts[2]
            if i >= len(self.params):
                raise ValueError(f"{owner}: entry {key!r} is for parameter {i}, but the optimizer has "
                                 f"{len(self.params)} parameters; {hint}")
            found[i][name] = d[key]
        required = tuple(self.required_state(hyper, step_count))
        states: list[dict] = []
        for i, entries in enumerate(found):
            if entries and i not in with_state:
                raise ValueError(f"{owner}: unexpected entry 'state.{i}.{next(iter(entries))}': parameter {i} is "
                                 f"not in params_with_state; the file is damaged")
            if i in with_state:
                unexpected = [k for k in entries if k not in required]
                if unexpected:
                    uses = ", ".join(required) or "no state"
                    raise ValueError(f"{owner}: unexpected entry 'state.{i}.{unexpected[0]}'; with these "
                                     f"hyperparameters {type(self).__name__} keeps {uses}")
                missing = [k for k in required if k not in entries]
                if missing:
                    has = ", ".join(repr(f"state.{i}.{k}") for k in entries) or "no entries"
                    raise ValueError(f"{owner}: missing entry 'state.{i}.{missing[0]}' (parameter {i} has {has}); "
                                     f"the file is incomplete or {hint}")
            states.append({k: self._state_value(owner, f"state.{i}.{k}", v, self.params[i], step_count)
                           for k, v in entries.items()})
        for name, value in hyper.items():
            setattr(self, name, value)
        self.state = states
        self.step_count = step_count

    def _indices(self, value, owner: str) -> set:
        """params_with_state: distinct indices of this optimizer's parameters."""
        arr = np.asarray(value)
        n = len(self.params)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu") or len(set(arr.tolist())) != arr.size or \
                (arr.size and not 0 <= arr.min() <= arr.max() < n):
            raise ValueError(f"{owner}: entry 'params_with_state' = {value!r} must list distinct parameter "
                             f"indices from 0 to {n - 1}; the file is damaged or for another model")
        return set(arr.tolist())

    def required_state(self, hyper: dict, step_count: int) -> tuple:
        """The state entries every updated parameter holds, for hyperparameters `hyper` after `step_count`
        steps (load_state_dict checks them). All of ``state_keys`` unless a subclass says otherwise."""
        return self.state_keys

    def _check_saved_hyperparameters(self, hyper: dict, owner: str) -> None:
        """Run check_hyperparameters on saved values without keeping them if they fail."""
        current = {name: getattr(self, name) for name in hyper}
        try:
            for name, value in hyper.items():
                setattr(self, name, value)
            self.check_hyperparameters()
        finally:
            for name, value in current.items():
                setattr(self, name, value)

    def _state_value(self, owner: str, key: str, value, p: Tensor, step_count: int):
        """One state entry, checked: a counter (state_counters) or a finite array of p's shape."""
        name = key.rsplit(".", 1)[1]
        if name in self.state_counters:
            return _whole(value, owner, key, low=1, high=step_count)
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiu":
            raise ValueError(f"{owner}: entry {key!r} holds {arr.dtype} values, not numbers; "
                             f"the file is damaged or was not written by state_dict()")
        if arr.shape != p.shape:
            raise ValueError(f"{owner}: entry {key!r} has shape {arr.shape} but parameter {key.split('.')[1]} has "
                             f"shape {p.shape}; it was saved for another model")
        with np.errstate(over="ignore"):
            arr = np.array(arr, dtype=p.dtype, copy=True)
        if not np.isfinite(arr).all():
            raise ValueError(f"{owner}: entry {key!r} holds {'nan' if np.isnan(arr).any() else 'inf'}; optimizer "
                             f"state must be finite (the run it came from diverged, or the file is damaged)")
        return arr

    def divergence_hint(self) -> str:
        """What to change when training with this optimizer diverged (the loss became inf or nan, or
        grew far past its first value): a smaller learning rate, unless a subclass knows better."""
        names = [h.name for h in self.hyper]
        if "lr" not in names:       # e.g. HeavyBall: mass, friction and dt set its step
            return f"make its steps smaller ({', '.join(names) or 'its hyperparameters'} set them)"
        return f"use a smaller learning rate (lr={float(self.lr):g} now, try {float(self.lr) / 10:g})"


def _whole(value, owner: str, key: str, low: int | None = None, high: int | None = None) -> int:
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"{owner}: entry {key!r} must be a whole number, got {value!r}")
    n = int(arr)
    if (low is not None and n < low) or (high is not None and n > high):
        bounds = f">= {low}" if high is None else f"from {low} to {high}"
        raise ValueError(f"{owner}: entry {key!r} = {n} is out of range; it must be {bounds}")
    return n


def _check_params(params, owner: str) -> list:
    if isinstance(params, Tensor):
        raise TypeError(f"{owner}: params must be an iterable of Tensors, got a single Tensor; "
                        f"pass [tensor] or model.parameters()")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be an iterable of Tensors (e.g. model.parameters()), "
                        f"got {type(params).__name__}") from None
    if not params:
        raise ValueError(f"{owner}: got an empty parameter list; pass model.parameters() of a model "
                         f"that has parameters")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: params[{i}] is a {type(p).__name__}, not a Tensor")
        if not p.requires_grad:
            label = f" ({p.name!r})" if p.name else ""
            raise ValueError(f"{owner}: params[{i}]{label} does not require grad, so it would never move; "
                             f"create it with requires_grad=True")
        if id(p) in seen:
            raise ValueError(f"{owner}: params[{i}] appears twice in the parameter list; pass each Tensor once")
        seen.add(id(p))
    return params


def closest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest matches of `name`, or ''."""
    matches = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
