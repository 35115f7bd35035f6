"""Learning-rate schedules: small objects that set ``optimizer.lr`` once per step.

    opt = optim.Momentum(model.parameters(), lr=0.1)
    sched = optim.CosineLR(opt, total_steps=1000)
    for batch in ...:
        ...; opt.step(); sched.step()        # as in PyTorch: the schedule after the optimizer

A schedule reads the optimizer's lr when it is created (the base rate η₀), then after its
t-th ``step()`` sets ``optimizer.lr = lr_at(t)``: optimizer step t + 1 uses lr_at(t).
It only sets the number; each optimizer uses lr exactly where its formula puts it. So the
same schedule acts differently on different forms of momentum: when lr falls to 0,
``Momentum`` (η inside the velocity) keeps coasting on the speed it has, while ``SGD``
(PyTorch's form, η outside) and ``EMAMomentum`` stop dead.
For ``HeavyBall`` lr is the time step dt, which enters twice (η = dt²/mass,
μ = 1 − dt·friction/mass): a schedule's ×0.1 multiplies η by 0.01 and moves μ from 0.9 to 0.99.

The forms:
    Constant()                    η_t = η₀
    StepLR(step_size, gamma)      η_t = η₀·γ^⌊t/step_size⌋
    ExponentialLR(gamma)          η_t = η₀·γᵗ
    CosineLR(total_steps, min_lr) η_t = min_lr + (η₀ − min_lr)·(1 + cos(π·t/T))/2, then min_lr
    LinearWarmup(warmup_steps, then=None)
                                  η_t = η₀·(t + 1)/W for t < W, then `then`'s rate (or η₀)

``parse("cosine", optimizer, total_steps)`` builds one from a command-line string.
"""
from __future__ import annotations

import math

import numpy as np

from .base import closest

MAX_NESTING = 10   # LinearWarmup(then=LinearWarmup(then=...)) at most this deep: each level is one more call per lr


class Schedule:
    """Base class: ``lr_at(t)`` is the formula; ``step()`` advances t and writes optimizer.lr."""

    name = ""

    def __init__(self, optimizer, base_lr: float | None = None):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} has no lr attribute to schedule")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr if base_lr is None else base_lr)
        self.t = 0   # how many times step() has run
        optimizer.lr = self.lr_at(0)

    def lr_at(self, t: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        """Call once after each optimizer.step(); returns the learning rate for the next step."""
        self.t += 1
        lr = self.optimizer.lr = self.lr_at(self.t)
        return lr

    def state_dict(self) -> dict:
        return {"t": self.t, "base_lr": self.base_lr}

    def load_state_dict(self, d) -> None:
        """Restore what state_dict() returned; every entry is checked before anything changes."""
        t, base_lr = self._checked_state(d)
        self.t, self.base_lr = t, base_lr
        self.optimizer.lr = self.lr_at(self.t)

    def _checked_state(self, d) -> tuple:
        """(t, base_lr) from a saved state: t a whole number >= 0, base_lr a finite number > 0."""
        owner = f"{type(self).__name__}.load_state_dict"
        missing = [k for k in ("t", "base_lr") if k not in d]
        if missing:
            raise ValueError(f"{owner}: missing entry {missing[0]!r}")
        t, base_lr = np.asarray(d["t"]), np.asarray(d["base_lr"])
        if t.ndim or t.dtype.kind not in "iu" or int(t) < 0:
            raise ValueError(f"{owner}: entry 't' = {d['t']!r} must be a whole number >= 0 (the steps taken)")
        if base_lr.ndim or base_lr.dtype.kind not in "fiu" or not 0 < float(base_lr) < math.inf:
            raise ValueError(f"{owner}: entry 'base_lr' = {d['base_lr']!r} must be a finite number > 0 (the "
                             f"learning rate the schedule starts from)")
        return int(t), float(base_lr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_lr={self.base_lr!r}, t={self.t})"


def _check(owner: str, name: str, value, ok: bool, valid: str):
    if not ok:
        raise ValueError(f"{owner}: {name}={value!r} is out of range; use {valid}")


def _is_whole(n) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


class Constant(Schedule):
    """η_t = η₀: the learning rate never changes."""

    name = "constant"

    def lr_at(self, t):
        return self.base_lr


class StepLR(Schedule):
    """η_t = η₀·γ^⌊t/step_size⌋: multiply by γ every `step_size` steps (torch.optim.lr_scheduler.StepLR)."""

    name = "step"

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        _check("StepLR", "step_size", step_size, _is_whole(step_size) and step_size >= 1, "step_size >= 1")
        _check("StepLR", "gamma", gamma, _is_number(gamma) and 0 < gamma <= 1, "0 < gamma <= 1")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(Schedule):
    """η_t = η₀·γᵗ: multiply by γ every step (torch.optim.lr_scheduler.ExponentialLR)."""

    name = "exp"

    def __init__(self, optimizer, gamma: float):
        _check("ExponentialLR", "gamma", gamma, _is_number(gamma) and 0 < gamma <= 1, "0 < gamma <= 1")
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, t):
        return self.base_lr * self.gamma ** t


class CosineLR(Schedule):
    """η_t = min_lr + (η₀ − min_lr)·(1 + cos(π·t/T))/2 for t ≤ T, then min_lr (half a cosine wave).

    The floor min_lr must lie in [0, η₀]: the wave goes down from the optimizer's lr to it.
    """

    name = "cosine"

    def __init__(self, optimizer, total_steps: int, min_lr: float = 0.0):
        _check("CosineLR", "total_steps", total_steps, _is_whole(total_steps) and total_steps >= 1,
               "total_steps >= 1")
        base = getattr(optimizer, "lr", math.inf)
        _check("CosineLR", "min_lr", min_lr, _is_number(min_lr) and 0 <= min_lr <= base,
               f"0 <= min_lr <= {base:g} (the floor, at most the optimizer's lr, where the cosine starts)")
        self.total_steps, self.min_lr = int(total_steps), float(min_lr)
        super().__init__(optimizer)

    def lr_at(self, t):
        t = min(t, self.total_steps)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * t / self.total_steps)) / 2


class LinearWarmup(Schedule):
    """η_t = η₀·(t + 1)/W for the first W steps (step s uses η₀·s/W), then `then`'s schedule (or η₀).

    `then` is another schedule on the same optimizer; it starts counting when the warm-up ends.
    """

    name = "warmup"

    def __init__(self, optimizer, warmup_steps: int, then: Schedule | None = None):
        _check("LinearWarmup", "warmup_steps", warmup_steps, _is_whole(warmup_steps) and warmup_steps >= 1,
               "warmup_steps >= 1")
        if then is not None and not isinstance(then, Schedule):
            raise TypeError(f"LinearWarmup: then={then!r} must be a Schedule (e.g. CosineLR(opt, 1000)) or None")
        if then is not None and then.optimizer is not optimizer:
            raise ValueError("LinearWarmup: `then` must schedule the same optimizer")
        self.depth = 1 + (then.depth if isinstance(then, LinearWarmup) else 0)
        if self.depth > MAX_NESTING:
            raise ValueError(f"LinearWarmup: {self.depth} warm-ups nested in one another; use at most {MAX_NESTING}")
        self.warmup_steps, self.then = int(warmup_steps), then
        super().__init__(optimizer, base_lr=then.base_lr if then is not None else None)

    def lr_at(self, t):
        if t < self.warmup_steps:
            return self.base_lr * (t + 1) / self.warmup_steps
        return self.then.lr_at(t - self.warmup_steps) if self.then is not None else self.base_lr

    def step(self):
        lr = super().step()
        if self.then is not None:   # keep the inner schedule's clock: it counts from the end of the warm-up
            self.then.t = max(0, self.t - self.warmup_steps)
        return lr

    def state_dict(self):
        d = super().state_dict()
        if self.then is not None:
            d.update({f"then.{k}": v for k, v in self.then.state_dict().items()})
        return d

    def load_state_dict(self, d):
        self._checked_state(d)                  # this level's entries, before the inner schedule changes
        if self.then is not None:
            self.then.load_state_dict({k[5:]: v for k, v in d.items() if k.startswith("then.")})
        super().load_state_dict(d)


_FORMS = {
    "constant": "constant",
    "step": "step:STEP_SIZE[:GAMMA]",
    "exp": "exp:GAMMA",
    "cosine": "cosine[:MIN_LR]",
    "warmup": "warmup:STEPS[:SCHEDULE]",
}


def parse(spec: str, optimizer, total_steps: int | None = None) -> Schedule:
    """Build a schedule from a command-line string.

        "constant"          Constant
        "step:100:0.5"      StepLR(step_size=100, gamma=0.5)   (gamma defaults to 0.1)
        "exp:0.99"          ExponentialLR(gamma=0.99)
        "cosine" "cosine:1e-4"   CosineLR(total_steps, min_lr)
        "warmup:50" "warmup:50:cosine"   LinearWarmup(50, then=...) (the rest over total_steps − 50)

    At most MAX_NESTING (10) warm-ups may be nested ("warmup:5:warmup:5:...").
    """
    text = str(spec).strip()
    if text.lower().count("warmup") > MAX_NESTING:
        raise ValueError(f"schedule {_shown(text)}: {text.lower().count('warmup')} warm-ups nested in one another; "
                         f"use at most {MAX_NESTING}")
    return _parse(text, optimizer, total_steps)


def _shown(text: str, width: int = 60) -> str:
    """The spec as quoted in a message, cut short if it is long (the message stays one readable line)."""
    return repr(text) if len(text) <= width else repr(text[:width]) + f"… ({len(text)} characters)"


def _parse(text: str, optimizer, total_steps: int | None) -> Schedule:
    usage = f"use one of {', '.join(_FORMS.values())}"
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    args = rest.split(":") if rest else []

    def number(i, what, cast=float):
        try:
            value = cast(args[i])
        except (ValueError, IndexError):
            raise ValueError(f"schedule {_shown(text)}: {what} must be {'a whole number' if cast is int else 'a number'}, "
                             f"as in {_FORMS[kind]}") from None
        return value            # its range is checked by the schedule's class

    if kind not in _FORMS:
        raise ValueError(f"unknown schedule {_shown(text)}{closest(kind, _FORMS)}; {usage}")
    if kind == "constant":
        if args:
            raise ValueError(f"schedule {_shown(text)}: 'constant' takes no arguments; {usage}")
        return Constant(optimizer)
    if kind == "step":
        if not 1 <= len(args) <= 2:
            raise ValueError(f"schedule {_shown(text)}: expected {_FORMS['step']}, e.g. step:100:0.5")
        return StepLR(optimizer, number(0, "STEP_SIZE", int), number(1, "GAMMA") if len(args) > 1 else 0.1)
    if kind == "exp":
        if len(args) != 1:
            raise ValueError(f"schedule {_shown(text)}: expected {_FORMS['exp']}, e.g. exp:0.99")
        return ExponentialLR(optimizer, number(0, "GAMMA"))
    if kind == "cosine":
        if len(args) > 1:
            raise ValueError(f"schedule {_shown(text)}: expected {_FORMS['cosine']}, e.g. cosine or cosine:1e-4")
        if total_steps is None:
            raise ValueError(f"schedule {_shown(text)}: a cosine schedule needs the total number of steps")
        return CosineLR(optimizer, total_steps, number(0, "MIN_LR") if args else 0.0)
    # warmup
    if not args:
        raise ValueError(f"schedule {_shown(text)}: expected {_FORMS['warmup']}, e.g. warmup:50 or warmup:50:cosine")
    steps = number(0, "STEPS", int)
    then = None
    if len(args) > 1:
        remaining = None if total_steps is None else max(1, total_steps - steps)
        then = _parse(":".join(args[1:]), optimizer, remaining)
    return LinearWarmup(optimizer, steps, then)
