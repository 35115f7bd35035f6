"""Which optimizer is this update rule really? ``identify`` drives it and fits every registered one.

    from tinygrad_edu import optim
    match = optim.identify(MyMomentum, lr=0.01, momentum=0.9, asked="momentum")
    match.name, match.hyperparameters, match.exact, match.step
    print(match.sentence)

The class is driven on fixed problems: one weight vector whose gradients are a fixed random
sequence (six coordinates whose sizes span 1e-10 to 10, so that an ε shows), for 24 steps,
once at a constant learning rate and once with the learning rate multiplied by 0.25 after
step 12. Its updates Δw_t are then compared with every registered optimizer's, whose
hyperparameters are fitted to the constant-rate run:

  - the momentum family by least squares on the linear recursion they all obey,
        Δw_t = μ·Δw_{t−1} + a·g_t + b·g_{t−1}
    (Momentum: η = −a; SGD: η = −Δw₁/g₁, τ = 1 − a/η; EMAMomentum: α = −a/(1 − μ);
    Nesterov and SGD(nesterov): η = −a/(1 + μ); HeavyBall: dt = your lr, mass = dt²/(−a));
  - the adaptive ones (Adagrad, RMSprop, Adam, AdamW) by Gauss–Newton on their updates, from
    their defaults with your hyperparameters of the same names; the ones they have but are not
    fitted (Adam's weight_decay, amsgrad) stay as you gave them.

A rule with no ``lr`` attribute keeps its step in the second run (the sentence says so); one that
never moves the weights, or makes non-finite updates, is a ValueError.

At a constant learning rate SGD(lr=η, momentum=μ), Momentum(lr=η, momentum=μ) and
EMAMomentum(lr=η/(1−μ), beta=μ) are one algorithm: they match the first run alike. The run
where the rate changes tells them apart (η outside the velocity rescales the whole velocity;
inside, only the new gradients).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from .base import HyperparameterError, Optimizer
from .registry import get, names

__all__ = ["identify", "Match", "STEPS", "LR_CHANGE_STEP", "LR_FACTOR", "EXACT"]

STEPS = 24
LR_CHANGE_STEP = 12      # the learning rate is multiplied by LR_FACTOR after this step
LR_FACTOR = 0.25
EXACT = 1e-9             # largest relative difference of an update that still counts as equal
_SCALES = np.array([1e-10, 1e-8, 1e-4, 1e-2, 1.0, 10.0])
_MOMENTUM_FORMS = ("sgd", "momentum", "ema-momentum")


def _problem():
    rng = np.random.default_rng(12)
    w0 = np.zeros(_SCALES.size)   # w stays the size of its updates, so Δw = w_t − w_{t−1} loses no digits
    grads = _SCALES * (rng.standard_normal((STEPS, _SCALES.size)) + 0.5)
    return w0, grads


def drive(cls, hyperparameters: dict, change_lr: bool) -> np.ndarray:
    """The updates Δw_t (STEPS × 6) of `cls` on the driven problem."""
    w0, grads = _problem()
    w = Tensor(w0.copy(), requires_grad=True)
    opt = cls([w], **hyperparameters)
    before, updates = w.data.copy(), []
    for t, g in enumerate(grads, start=1):
        w.grad = g.copy()
        opt.step()
        updates.append(w.data - before)
        before = w.data.copy()
        if change_lr and t == LR_CHANGE_STEP and hasattr(opt, "lr"):    # a rule without one keeps going
            opt.lr = opt.lr * LR_FACTOR
    return np.array(updates)


def _relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per step, the largest relative difference of the coordinates of two update sequences."""
    size = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(size > 0, np.abs(a - b) / size, 0.0)
    return np.nan_to_num(rel, nan=np.inf).max(axis=1)


# ----- fitting the candidates -------------------------------------------------------------

def _linear_fit(d: np.ndarray, g: np.ndarray):
    """Least squares for Δw_t = μ·Δw_{t−1} + a·g_t + b·g_{t−1} (t ≥ 2), and Δw₁ = c₁·g₁; coordinates weighted."""
    d, g = d / _SCALES, g / _SCALES
    A = np.stack([d[:-1].ravel(), g[1:].ravel(), g[:-1].ravel()], axis=1)
    (mu, a, b), *_ = np.linalg.lstsq(A, d[1:].ravel(), rcond=None)
    c1 = float(d[0] @ g[0] / (g[0] @ g[0]))
    return float(mu), float(a), float(b), c1


def _momentum_family(d, g, student_lr):
    mu, a, _, c1 = _linear_fit(d, g)
    mu = min(max(mu, 0.0), 1.0)
    yield "sgd", dict(lr=-c1, momentum=mu, dampening=min(max(1 - a / c1, 0.0), 1.0) if mu > 0 and c1 else 0.0)
    yield "sgd", dict(lr=-a / (1 + mu), momentum=mu, nesterov=True)
    yield "momentum", dict(lr=-a, momentum=mu)
    yield "ema-momentum", dict(lr=-a / (1 - mu) if mu < 1 else -a, beta=mu)
    yield "nesterov", dict(lr=-a / (1 + mu), momentum=mu)
    dt = student_lr if student_lr else 0.1
    if a < 0:
        mass = dt * dt / -a
        yield "heavy-ball", dict(mass=mass, friction=(1 - mu) * mass / dt, dt=dt)
    best = None   # momentum without lr: the gradient stops entering after k steps
    for k in range(1, STEPS):
        ds, gs = d / _SCALES, g / _SCALES
        A = np.stack([ds[:-1].ravel(), (gs[1:] * (np.arange(2, STEPS + 1) <= k)[:, None]).ravel()], axis=1)
        (m, a_k), res, *_ = np.linalg.lstsq(A, ds[1:].ravel(), rcond=None)
        r = float(np.sum((A @ np.array([m, a_k]) - ds[1:].ravel()) ** 2))
        if best is None or r < best[0]:
            best = (r, dict(lr=-float(a_k), momentum=max(float(m), 0.0), warmup_steps=k))
    yield "momentum-no-lr", best[1]


_ADAPTIVE = {  # name: the hyperparameters fitted (betas split in two)
    "adagrad": ("lr", "eps"),
    "rmsprop": ("lr", "alpha", "eps"),
    "adam": ("lr", "beta1", "beta2", "eps"),
    "adamw": ("lr", "beta1", "beta2", "eps", "weight_decay"),
}
_LOG = {"lr", "eps"}       # fitted as logarithms: positive, spanning decades
_SIMPLER = {"adamw": "adam"}   # the same rule with one hyperparameter fewer (weight_decay = 0)


def _to_hyper(keys, theta) -> dict:
    values = {k: float(math.exp(v) if k in _LOG else v) for k, v in zip(keys, theta)}
    if "beta1" in values:
        values["betas"] = (values.pop("beta1"), values.pop("beta2"))
    return values


def _gauss_newton(cls, keys, start: dict, target: np.ndarray, fixed: dict, iterations: int = 40) -> dict:
    """The hyperparameters `keys` of `cls` fitted to the updates `target`, from `start`; `fixed` as given."""
    with np.errstate(all="ignore"):
        return {**_fit(cls, keys, start, target, fixed, iterations), **fixed}


def _fit(cls, keys, start: dict, target: np.ndarray, fixed: dict, iterations: int) -> dict:
    def residual(theta):
        try:
            hyper = {**fixed, **_to_hyper(keys, theta)}
            if any(not (0 <= hyper.get(k, 0.5) < 1) for k in ("alpha",)) or \
                    any(not 0 <= b < 1 for b in hyper.get("betas", ())):
                return None
            with np.errstate(all="ignore"):
                r = ((drive(cls, hyper, False) - target) / size).ravel()
            return r if np.all(np.isfinite(r)) else None
        except (HyperparameterError, FloatingPointError, ValueError, OverflowError):
            return None

    size = np.sqrt(np.mean(target * target, axis=0)) + 1e-300   # each coordinate's typical update
    theta = np.array([math.log(max(start[k], 1e-14)) if k in _LOG else start[k] for k in keys], dtype=float)
    r = residual(theta)
    if r is None:
        return _to_hyper(keys, theta)
    damping = 1e-3
    for _ in range(iterations):
        J = np.empty((r.size, theta.size))
        for j in range(theta.size):
            step = 1e-7 * max(1.0, abs(theta[j]))
            t2 = theta.copy()
            t2[j] += step
            r2 = residual(t2)
            if r2 is None:
                t2[j] -= 2 * step
                r2 = residual(t2)
                step = -step
            J[:, j] = 0 if r2 is None else (r2 - r) / step
        JTJ, JTr = J.T @ J, J.T @ r
        improved = False
        for _ in range(8):
            delta = np.linalg.lstsq(JTJ + damping * np.diag(np.diag(JTJ) + 1e-30), -JTr, rcond=None)[0]
            candidate = theta + delta
            for j, k in enumerate(keys):
                if k == "eps":
                    candidate[j] = max(candidate[j], math.log(1e-14))   # ε is fitted between 1e-14 and 1
            r_new = residual(candidate)
            if r_new is not None and r_new @ r_new < r @ r:
                theta, r, damping, improved = candidate, r_new, damping / 10, True
                break
            damping *= 10
        if not improved or r @ r < 1e-30:
            break
    return _to_hyper(keys, theta)


def _adaptive_family(student: dict, target: np.ndarray):
    adam = None                  # Adam's fit, a starting point of AdamW's (_ADAPTIVE lists adam first)
    for name, keys in _ADAPTIVE.items():
        cls = get(name)
        defaults = {h.name: h.default for h in cls.hyperparameters()}
        start = {**defaults, **{k: v for k, v in student.items() if k in defaults}}
        start["beta1"], start["beta2"] = start.pop("betas", (0.9, 0.999))
        # what is not fitted stays as the student gave it (Adam's weight_decay, amsgrad), defaults left out
        fixed = {k: v for k, v in student.items()
                 if k in defaults and k not in keys and k != "betas" and v != defaults[k]}
        starts = [start]
        if name == "adamw":      # also from Adam's fit, plus the decay (for hyperparameters named otherwise)
            starts.append({**start, "lr": adam["lr"], "eps": adam["eps"], "beta1": adam["betas"][0],
                           "beta2": adam["betas"][1]})
        for first in starts:
            fitted = _gauss_newton(cls, keys, first, target, fixed)
            adam = fitted if name == "adam" else adam
            yield name, fitted


# ----- the result ----------------------------------------------------------------------------

@dataclass
class Match:
    """What ``identify`` found: the registered optimizer the rule equals, or the closest one.

    name: its registry name; hyperparameters: the fitted values; exact: equal within EXACT
    relative on every step of both runs; step: the first step where it departs from it (None
    when exact); deviation: the largest relative difference of an update; same_at_constant_lr:
    every (name, hyperparameters) that equals it while the learning rate stays constant;
    equals: every (name, hyperparameters) equal to it on both runs; sentence: the finding in words.
    """
    name: str
    hyperparameters: dict
    exact: bool
    step: int | None
    deviation: float
    sentence: str
    same_at_constant_lr: list = field(default_factory=list)
    equals: list = field(default_factory=list)

    def __str__(self) -> str:
        return self.sentence


def _snap(value):
    """A fitted 0 or 1 that least squares left at 1e-16 from it, back on it."""
    if isinstance(value, float):
        for exact in (0.0, 1.0):
            if abs(value - exact) < 1e-12:
                return exact
    return value


def _snapped(hyper: dict) -> dict:
    """`hyper` with its fitted 0s and 1s (not lr or ε, which span decades) snapped."""
    return {k: v if k in _LOG else tuple(_snap(x) for x in v) if isinstance(v, tuple) else _snap(v)
            for k, v in hyper.items()}


def _format(hyper: dict) -> str:
    def f(v):
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, tuple):
            return "(" + ", ".join(f(x) for x in v) + ")"
        return f"{v:.6g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{k}={f(v)}" for k, v in hyper.items())


def _label(name, hyper) -> str:
    cls = get(name)
    return f"{cls.__name__}({_format(hyper)})"


def identify(optimizer_class, asked: str | None = None, **hyperparameters) -> Match:
    """Drive `optimizer_class` (built with `hyperparameters`) and name the registered optimizer it is.

    `asked`: the registry name of the form the student was asked to write (e.g. "momentum");
    the sentence then says whether this is it, and where it departs from it.
    """
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, Optimizer)):
        raise TypeError(f"identify: expected a subclass of tinygrad_edu.optim.Optimizer, got {optimizer_class!r}")
    if asked is not None and asked not in names():
        raise ValueError(f"identify: asked={asked!r} is not a registered optimizer; choose one of {', '.join(names())}")
    try:
        constant = drive(optimizer_class, hyperparameters, False)
        changed = drive(optimizer_class, hyperparameters, True)
    except (TypeError, HyperparameterError) as exc:
        raise ValueError(f"identify: cannot build {optimizer_class.__name__} with {hyperparameters}: "
                         f"{str(exc).splitlines()[0]}") from None
    if not np.all(np.isfinite(constant)):
        raise ValueError(f"identify: {optimizer_class.__name__} made non-finite updates on the test problem; "
                         f"try a smaller lr")
    if not constant.any() and not changed.any():
        raise ValueError(f"identify: {optimizer_class.__name__} never moved the weights on the test problem (every "
                         f"update is 0); its step() must change each parameter's .data")
    student_lr = getattr(optimizer_class([Tensor([0.0], requires_grad=True)], **hyperparameters), "lr", None)
    _, grads = _problem()

    results = []   # (deviation, first departure, name, hyper, equal at constant lr)
    candidates = list(_momentum_family(constant, grads, student_lr)) + \
        list(_adaptive_family(hyperparameters, constant))
    for order, (name, hyper) in enumerate(candidates):
        cls = get(name)
        try:
            # a fitted candidate may sit where its class warns (momentum 1) or overflows: its trial, not yours
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                ours_constant, ours_changed = drive(cls, hyper, False), drive(cls, hyper, True)
        except (HyperparameterError, TypeError, ValueError):
            continue
        rel = np.concatenate([_relative(constant, ours_constant), _relative(changed, ours_changed)])
        if not np.all(np.isfinite(rel)):
            continue
        bad = np.nonzero(rel > EXACT)[0]
        departs = None if bad.size == 0 else int(bad[0] % STEPS) + 1
        results.append((float(rel.max()), order, departs, name, _snapped(hyper),   # snapped to be shown, not run
                        bool(_relative(constant, ours_constant).max() <= EXACT)))
    # Equal ones first (the form asked for first among them), then by deviation to one significant digit.
    results.sort(key=lambda r: (r[0] > EXACT, r[3] != asked if r[0] <= EXACT else float(f"{r[0]:.1g}"), r[1]))
    forms = set()       # one fit per form (AdamW is fitted from two starts): the closest, first after the sort
    results = [r for r in results if (r[3], tuple(r[4])) not in forms and not forms.add((r[3], tuple(r[4])))]
    best = results[0]
    if best[0] > EXACT and best[3] in _SIMPLER:
        # a fit with one more hyperparameter (AdamW's decay fitted to ≈ 0) must be twice as close to be named
        simpler = [r for r in results if r[3] == _SIMPLER[best[3]] and r[0] < 2 * best[0]]
        best = simpler[0] if simpler else best
    deviation, _, departs, name, hyper, _ = best
    exact = deviation <= EXACT
    twins = [(n, h) for _, _, _, n, h, same in results if same]
    equals = [(n, h) for dev, _, _, n, h, _ in results if dev <= EXACT]
    sentence = _sentence(name, hyper, exact, departs, deviation, twins, results, asked, equals)
    if student_lr is None:
        sentence += (f" ({optimizer_class.__name__} has no lr attribute, so the run where the learning rate "
                     f"changes after step {LR_CHANGE_STEP} could not change it.)")
    return Match(name=name, hyperparameters=hyper, exact=exact, step=departs, deviation=deviation,
                 sentence=sentence, same_at_constant_lr=twins, equals=equals)


def _sentence(name, hyper, exact, departs, deviation, twins, results, asked, equals) -> str:
    cls = get(name)
    if not exact:
        magnitude = f"1e{round(math.log10(deviation)):+d}" if deviation > 0 else "0"
        text = (f"No registered optimizer matches it exactly; the closest is {_label(name, hyper)} "
                f"({cls.formula}), which it departs from at step {departs} (relative difference up to about "
                f"{magnitude}).")
        if hyper.get("alpha", 1) < 1e-3 or hyper.get("betas", (1, 1))[0] < 1e-3:
            text += " Without memory (α = 0, or β1 = β2 = 0) both are sign descent as ε → 0."
        return text
    text = f"This is {_label(name, hyper)}: {cls.formula}."
    if name == "sgd" and hyper.get("momentum", 0) > 0 and not hyper.get("nesterov"):
        text += " This is PyTorch's form: the learning rate multiplies the whole velocity."
    same = [(n, h) for n, h in equals if n != name]
    if same:
        text += (" It is also exactly " + " and ".join(_label(n, h) for n, h in same) +
                 ", even when the learning rate changes: the same algorithm written another way.")
    others = [(n, h) for n, h in twins if n != name and n in _MOMENTUM_FORMS and (n, h) not in same]
    if name in _MOMENTUM_FORMS and others:
        text += (" At a constant learning rate it is also " + " and ".join(_label(n, h) for n, h in others) +
                 ": the three forms of momentum are one algorithm there; the run where the learning rate "
                 f"changes after step {LR_CHANGE_STEP} tells them apart.")
    if asked is not None and asked != name:
        asked_results = [r for r in results if r[3] == asked]
        if asked_results:
            dev, _, step, _, h, same = min(asked_results, key=lambda r: r[0])
            if same:
                text += (f" It is not the {asked} form you were asked for: it equals {_label(asked, h)} until the "
                         f"learning rate changes, and departs from it at step {step}.")
            else:
                text += f" It is not the {asked} form you were asked for: it departs from it at step {step}."
    elif asked == name:
        text += " It is the form you were asked for."
    return text
