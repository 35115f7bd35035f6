"""Momentum without a learning rate: the experiment behind a popular Q&A question.

The question: momentum keeps its own "inertia" for each weight (written there as
v ← β·v + (1 − β)·∇L, w ← w − α·v), so why bother with a learning rate at all? Two different
things can be meant by "removing" it, and this module runs both.

**1. Remove it mid-run (η → 0): does the weight keep learning?** Train a small network with
the learning rate for k steps, then take the learning rate away and keep stepping. What
happens depends on where the form of momentum puts the learning rate:

- ``lr-inside`` (``Momentum``: m ← μ·m + η·∇L; w ← w − m). With η = 0 the update becomes
  Δw_t = μ·Δw_{t−1}: the weights *coast* along the last direction, and after n steps they
  have moved Δw·μ(1 − μⁿ)/(1 − μ) (n·Δw at μ = 1), exactly, whatever the gradient says.
  They stop (μ < 1), drift at constant speed (μ = 1), or run away (μ > 1). The run uses
  ``MomentumWithoutLR``, which removes η after ``warmup_steps`` steps.
- ``pytorch`` (``SGD(momentum=μ)``: b ← μ·b + ∇L; w ← w − η·b). η multiplies the whole
  buffer, so η = 0 stops the weights dead, at once.
- ``ema`` (``EMAMomentum``: v ← β·v + (1 − β)·∇L; w ← w − α·v). Same: α = 0 stops them dead.

Before the removal the three runs are the *same* run: ``SGD(lr=η, momentum=μ)`` and
``EMAMomentum(lr=η/(1 − μ), beta=μ)`` are ``Momentum(η, μ)`` in disguise. They differ only
in what "η = 0" means.

What the removal does to the loss: the gradient no longer steers. The coasting weights follow
the geometric series above whatever the loss does, so the loss may go on falling along the
coast for a while (in the default run, μ = 0.9: from 0.499 at the removal to 0.383 sixty steps
later), then stalls where the weights stop, or rises once they have coasted past the bottom
of the valley (μ ≥ 0.99). Keeping the learning rate does not make the loss fall for ever
either: at μ ≥ 0.99 the run with the learning rate kept overshoots the same valley and its
loss rises again, and at μ = 0.99 the coasting run even has the lower loss for 19 steps. What
the learning rate buys is the steering, not a loss that always falls. Measured for each μ:
the displacement after the removal against the closed form; both runs' losses (lowest point,
end, and the steps at which the run without the learning rate is lower); the cosine between
each update and −∇L (close to 1 while the gradient drives the update; afterwards whatever
the frozen direction happens to make with the gradient); and the proof that coasting ignores
the gradient: continued on a *different* data set, the weights follow the same path, bit
for bit.

**2. Remove it by setting it to 1 (α = 1 in the EMA form): does momentum find the right
step size by itself?** No. v is a weighted average of past gradients (weights (1−β)·βʲ that
sum to less than 1), so |v| can never exceed the largest |∇L| seen, per weight. With α = 1
the step *is* v: its size is set by the scale of the loss, not by momentum. Multiply the
loss by 100 and the same run diverges; multiply it by 0.01 and it crawls. A tuned α puts
the scale back: the best α is, to the grid's resolution, proportional to 1/scale.

(The other two forms keep a sum instead of an average, and it grows by a fixed factor, still
set by the loss's scale: under a steady gradient PyTorch's b grows to |∇L|/(1 − μ), and the
learning-rate-inside m to η·|∇L|/(1 − μ), ten times the gradient, or ten times η·|∇L|, at
μ = 0.9.)

Every function returns plain result objects (dataclasses; tables are lists of them);
``format_report`` prints them (only the forms asked for, in lines of at most 100 columns)
and ``tinygrad_edu.viz.experiment_plots`` draws them.
"""
from __future__ import annotations

import dataclasses
import math
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from . import nn, optim
from .data import closest_names, get_dataset
from .experiments import text_table
from .limits import FLOAT_BYTES, SizeLimitError, check_bytes, parameter_count
from .tensor import Tensor

__all__ = ["FORMS", "DEFAULT_MOMENTA", "Problem", "make_problem", "make_model", "coasting_factor",
           "predicted_displacement", "limit_text", "step_limit", "answer_limit", "Trace", "run", "CoastingRow",
           "GradientFreeProof", "CoastingResult",
           "momentum_without_lr", "ScaleRow", "ScaleResult", "ema_loss_scale", "LrChange", "lr_change",
           "Experiment", "run_experiment", "format_report", "as_dict", "check_form", "check_momenta"]

FORMS = ("lr-inside", "pytorch", "ema")
FORM_DESCRIPTIONS = {
    "lr-inside": "Momentum: m ← μ·m + η·∇L; w ← w − m  (η → 0: coasts)",
    "pytorch": "SGD(momentum=μ): b ← μ·b + ∇L; w ← w − η·b  (η → 0: stops dead)",
    "ema": "EMAMomentum(beta=μ): v ← μ·v + (1−μ)·∇L; w ← w − α·v  (α → 0: stops dead)",
}
STOP_DEAD = {"pytorch": "stops dead: η·b = 0", "ema": "stops dead: α·v = 0"}
DEFAULT_MOMENTA = (0.5, 0.9, 0.99, 1.0, 1.01)
DEFAULTS = {"k": 20, "steps": 60, "lr": 0.005, "seed": 0}
HIDDEN = 8          # the network: MLP([2, 8, 2], tanh), 42 weights
N_SAMPLES = 200     # points per data set (150 for training, full batch)
WIDTH = 100         # the report's lines fit in this many columns
ROUND_OFF = 1e-12   # closed-form errors below this are printed as a bound: their digits are round-off
TIE = 1e-9          # losses closer than this (relative) count as equal: the difference may be round-off


# ----- the problem: a tiny MLP, full-batch cross-entropy ---------------------------------

@dataclass
class Problem:
    """A classification data set; ``loss(model)`` is the full-batch cross-entropy on it."""
    name: str
    X: np.ndarray
    y: np.ndarray

    def loss(self, model, scale: float = 1.0) -> Tensor:
        loss = nn.cross_entropy(model(Tensor(self.X)), self.y)
        return loss if scale == 1.0 else loss * scale


def make_problem(name: str = "moons", seed: int = 0) -> Problem:
    """The training part of a 2-class, 2-feature data set from ``tinygrad_edu.data``."""
    extra = {"classes": 2} if name in ("blobs", "spiral") else {}
    data = get_dataset(name, n=N_SAMPLES, seed=seed, **extra)
    return Problem(name, data.X_train, data.y_train)


def make_model(seed: int = 0) -> nn.MLP:
    return nn.MLP([2, HIDDEN, 2], activation="tanh", seed=seed)


def _flat(params, attr: str = "data") -> np.ndarray:
    return np.concatenate([getattr(p, attr).ravel() for p in params])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    """cos of the angle between a and b; NaN when either is zero (no direction)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else math.nan


# ----- the closed form ---------------------------------------------------------------------

def coasting_factor(momentum: float, n) -> float:
    """μ + μ² + … + μⁿ = μ(1 − μⁿ)/(1 − μ), or n at μ = 1: the displacement after n coasting steps, in Δw's."""
    return optim.MomentumWithoutLR.coasting_factor(momentum, n)


def predicted_displacement(last_update: np.ndarray, momentum: float, n: int) -> np.ndarray:
    """w_{k+n} − w_k = Δw·μ(1 − μⁿ)/(1 − μ) (n·Δw at μ = 1), Δw the last gradient-driven step."""
    return np.asarray(last_update) * coasting_factor(momentum, n)


def proof_momentum(momenta) -> float:
    """The μ whose runs the gradient-free proof table details: 0.9 if tried, else the first."""
    return 0.9 if 0.9 in momenta else momenta[0]


def limit_text(momentum: float) -> str:
    """What Δw_t = μᵗ·Δw does as t → ∞, in words (see ``step_limit`` for the number)."""
    if momentum < 1:
        return f"stops after {coasting_factor(momentum, math.inf):.4g}·Δw"
    if momentum == 1:
        return "drifts: every step is Δw"
    return "runs away: steps grow like μᵗ"


def step_limit(momentum: float, first_step: float) -> float:
    """lim Δw_t as t → ∞ for Δw_t = μᵗ·Δw₀ (one weight, μ >= 0): the coasting step's limit.

    0 for μ < 1; Δw₀ itself for μ = 1, whatever its size; for μ > 1, +∞ or −∞ with the sign
    of Δw₀, and 0 when Δw₀ = 0.
    """
    if momentum < 1 or first_step == 0:
        return 0.0
    if momentum == 1:
        return float(first_step)
    return math.copysign(math.inf, first_step)


def answer_limit(momentum: float, first_step: float) -> float:
    """The limit a popular Q&A answer gives for the same coasting step (it is wrong; see ``step_limit``).

    The answer writes the update without the minus sign, Δw_t = l·∂E/∂w + μ·Δw_{t−1} (this
    project writes Δw_t = −η·∇L + μ·Δw_{t−1}: a step goes downhill), drops the learning-rate
    term and claims: lim Δw_t = 0 if μ < 1, or if μ = 1 and Δw₀ < 1; 1 if μ = 1 and Δw₀ = 1;
    ∞ otherwise. Right at μ < 1; at μ = 1 it is right only for Δw₀ = 0 and Δw₀ = 1 (it treats
    Δw₀ as if it were raised to the power t: 0 below 1, ∞ above); at μ > 1 it misses −∞ for
    Δw₀ < 0 and 0 for Δw₀ = 0.
    """
    if momentum < 1 or (momentum == 1 and first_step < 1):
        return 0.0
    if momentum == 1 and first_step == 1:
        return 1.0
    return math.inf


# ----- one run -------------------------------------------------------------------------------

def _make_optimizer(form: str, params, lr: float, momentum: float, k: int, remove: bool):
    """The optimizer for `form`, set up so that the first k steps are Momentum(lr, momentum).

    For lr-inside, MomentumWithoutLR removes the learning rate itself after k steps (or after
    all of them when `remove` is False). The others get lr = 0 from the caller at step k.
    """
    if form == "lr-inside":
        never = 10 ** 9               # a warm-up longer than any run: the learning rate is kept
        return optim.MomentumWithoutLR(params, lr=lr, momentum=momentum, warmup_steps=k if remove else never)
    if form == "pytorch":
        return optim.SGD(params, lr=lr, momentum=momentum)
    if form == "ema":
        if not momentum < 1:   # α = η/(1 − μ) is undefined; let the class say what range it takes
            return optim.EMAMomentum(params, lr=lr, beta=momentum)
        return optim.EMAMomentum(params, lr=lr / (1 - momentum), beta=momentum)
    raise ValueError(check_form(form) or f"unknown form {form!r}")


@dataclass
class Trace:
    """Everything one run records. Index t: after t steps (weights, loss) or during step t + 1."""
    form: str
    momentum: float
    k: int                       # steps with the learning rate; step k + 1 is the first without
    weights: np.ndarray          # (T + 1, P): all weights, flattened, after each step
    loss: np.ndarray             # (T + 1,): loss at weights[t], on the data set used at step t + 1
    cosine: np.ndarray           # (T,): cos(update of step t + 1, −∇L at weights[t])
    update_norm: np.ndarray      # (T,)
    gradient_at_removal: np.ndarray = field(repr=False, default=None)   # ∇L at weights[k]

    @property
    def steps(self) -> int:
        return len(self.cosine)


def run(form: str, momentum: float, lr: float, k: int, steps: int, seed: int = 0,
        before: Optional[Problem] = None, after: Optional[Problem] = None, remove: bool = True) -> Trace:
    """Train with the learning rate for k steps on `before`, then `steps` more on `after`.

    If `remove`, the learning rate is removed for those later steps (lr-inside: by
    MomentumWithoutLR; pytorch and ema: ``optimizer.lr = 0``). The gradient is computed at
    every step, also after the removal: it is there, and the update may use it or not.
    """
    before = before or make_problem("moons", seed)
    after = after or before
    model = make_model(seed)
    params = model.parameters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # MomentumWithoutLR warns for μ >= 1: the point here
        opt = _make_optimizer(form, params, lr, momentum, k, remove)
    total = k + steps
    weights = np.empty((total + 1, sum(p.size for p in params)))
    loss = np.empty(total + 1)
    cosine = np.empty(total)
    update_norm = np.empty(total)
    weights[0] = _flat(params)
    g_removal = None
    for t in range(total):
        problem = before if t < k else after
        if t == k and remove and form != "lr-inside":
            opt.lr = 0.0                     # remove the learning rate
        opt.zero_grad()
        value = problem.loss(model)
        value.backward()
        g = _flat(params, "grad")
        if t == k:
            g_removal = g
        opt.step()
        weights[t + 1] = _flat(params)
        update = weights[t + 1] - weights[t]
        loss[t] = value.item()
        cosine[t] = _cosine(update, -g)
        update_norm[t] = np.linalg.norm(update)
    loss[total] = (before if total <= k else after).loss(model).item()
    return Trace(form, momentum, k, weights, loss, cosine, update_norm, g_removal)


# ----- memory: every trace is kept for the report and the figure -------------------------------

class AblationSizeError(SizeLimitError):
    """A k or steps so large that the recorded traces would not fit the memory limit (a ValueError, one line)."""


WEIGHTS = parameter_count([2, HIDDEN, 2])   # 42: the length of one row of Trace.weights
RUNS_KEPT = 3        # per form and μ: removed, kept, and on the other data set
RUNS_EXTRA = 3       # held for a moment besides: the control run and two differences of weights


def trace_bytes(total_steps: int) -> int:
    """Memory of one Trace of `total_steps` steps: weights (T + 1, 42), loss (T + 1), cosine and update_norm (T)."""
    t = int(total_steps)
    return FLOAT_BYTES * ((t + 1) * (WEIGHTS + 1) + 2 * t)


def check_experiment_size(n_forms: int, n_momenta: int, k: int, steps: int, max_bytes: Optional[int] = None) -> int:
    """The bytes part 1 keeps for n_forms × n_momenta runs of k + steps steps; AblationSizeError above the limit."""
    runs = RUNS_KEPT * n_forms * n_momenta + RUNS_EXTRA
    return check_bytes(runs * trace_bytes(k + steps),
                       f"the ablation ({n_forms} form{'s' if n_forms != 1 else ''} × {n_momenta} μ × {RUNS_KEPT} runs, "
                       f"each recording k + steps = {k + steps:,} steps of {WEIGHTS} weights)",
                       "use a smaller --k or --steps", max_bytes, AblationSizeError)


# ----- part 1: remove the learning rate mid-run ----------------------------------------------

@dataclass
class CoastingRow:
    """One line of the table: one form of momentum, one μ."""
    form: str
    momentum: float
    allowed: bool                 # False: the optimizer refuses this μ (see note)
    note: str = ""
    k: int = 0
    steps: int = 0
    last_update: float = math.nan         # |Δw|, the last gradient-driven step
    predicted: float = math.nan           # |w_{k+n} − w_k| by the closed form (0 for the stop-dead forms)
    measured: float = math.nan            # |w_{k+n} − w_k| measured
    error: float = math.nan               # |measured − predicted| (vectors), relative to max(|predicted|, |Δw|)
    limit: str = ""
    loss_start: float = math.nan
    loss_at_removal: float = math.nan
    loss_end: float = math.nan            # n steps after the removal
    loss_best_after: float = math.nan     # lowest loss after the removal ...
    step_best_after: Optional[int] = None     # ... and the step at which it is reached
    loss_kept: float = math.nan           # the same run with the learning rate kept, n steps after k
    loss_kept_best: float = math.nan      # its lowest loss from step k on ...
    step_kept_best: Optional[int] = None      # ... and the step at which it is reached
    steps_removed_lower: int = 0          # how many of the n steps the run without the learning rate is lower
    removed_lower_from: Optional[int] = None  # the first and last such step (None: never)
    removed_lower_to: Optional[int] = None
    cos_driven: float = math.nan          # mean cos(update, −∇L) over the k steps with the learning rate
    cos_last_driven: float = math.nan
    cos_coasting: float = math.nan        # mean over the steps after the removal (NaN: no update at all)
    cos_end: float = math.nan
    cos_coasting_other: float = math.nan  # the same mean for the run continued on other_data: same updates,
                                          # other gradients
    other_data: str = ""
    other_data_difference: float = math.nan   # max |w − w'| after the removal, w' trained on other_data after it
    other_data_difference_kept: float = math.nan  # the same with the learning rate kept

    @property
    def gradient_free(self) -> bool:
        """The weights after the removal do not depend on the data: the update ignores the gradient."""
        return self.other_data_difference == 0.0

    @property
    def falls_after_removal(self) -> bool:
        """The loss went on falling after the removal: its lowest point comes later (by more than TIE)."""
        return self.loss_best_after < self.loss_at_removal - TIE * max(1.0, abs(self.loss_at_removal))

    @property
    def kept_keeps_improving(self) -> bool:
        """With the learning rate kept, the loss ends at its lowest point since step k (to within TIE)."""
        return self.loss_kept <= self.loss_kept_best + TIE * max(1.0, abs(self.loss_kept_best))


@dataclass
class GradientFreeProof:
    """Continue one run on two data sets after the removal: same weights, bit for bit?"""
    form: str
    momentum: float
    dataset: str
    other_dataset: str
    gradient_cosine: float          # cos(∇L on dataset, ∇L on other) at the removal: they disagree
    gradient_difference: float      # |∇L − ∇L'| / |∇L| at the removal
    max_difference: float           # max |w − w'| over the steps after the removal (0.0: identical)
    max_difference_kept: float      # the same with the learning rate kept: the data matter
    identical: bool
    cos_end: float                  # cos(last update, −∇L) on dataset ...
    cos_end_other: float            # ... and on the other: the same update, two unrelated cosines


@dataclass
class CoastingResult:
    rows: list
    proofs: list                    # GradientFreeProof per form, for μ = proof_momentum(momenta)
    traces: dict                    # (form, μ) -> {"removed": Trace, "kept": Trace, "other": Trace}
    settings: dict


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def _lowest(values: np.ndarray, offset: int) -> tuple:
    """(the lowest finite value, offset + the first index within TIE of it), or (NaN, None) when none is finite.

    The first index within TIE, not the index of the minimum: once the weights have stopped the
    loss is flat, and which of its equal values is lowest is round-off (it differs by BLAS kernel).
    """
    finite = np.flatnonzero(np.isfinite(values))
    if not finite.size:
        return math.nan, None
    lowest = float(np.min(values[finite]))
    i = finite[np.argmax(values[finite] <= lowest + TIE * max(1.0, abs(lowest)))]
    return lowest, offset + int(i)


def _row(form, mu, k, n, removed: Trace, kept: Trace, other: Trace, other_name: str) -> CoastingRow:
    w = removed.weights
    last = w[k] - w[k - 1]
    measured = w[k + n] - w[k]
    predicted = predicted_displacement(last, mu, n) if form == "lr-inside" else np.zeros_like(last)
    scale = max(np.linalg.norm(predicted), np.linalg.norm(last)) or 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        error = float(np.linalg.norm(measured - predicted) / scale)
        after, kept_after = removed.loss[k:k + n + 1], kept.loss[k:k + n + 1]
        lower = k + np.flatnonzero(after < kept_after - TIE)   # steps at which removing the lr did better
    best_after, step_best_after = _lowest(after, k)
    kept_best, step_kept_best = _lowest(kept_after, k)
    return CoastingRow(
        form=form, momentum=mu, allowed=True, k=k, steps=n,
        last_update=float(np.linalg.norm(last)), predicted=float(np.linalg.norm(predicted)),
        measured=float(np.linalg.norm(measured)), error=error,
        limit=limit_text(mu) if form == "lr-inside" else STOP_DEAD[form],
        loss_start=float(removed.loss[0]), loss_at_removal=float(removed.loss[k]), loss_end=float(removed.loss[k + n]),
        loss_best_after=best_after, step_best_after=step_best_after,
        loss_kept=float(kept.loss[k + n]), loss_kept_best=kept_best, step_kept_best=step_kept_best,
        steps_removed_lower=int(lower.size),
        removed_lower_from=int(lower[0]) if lower.size else None,
        removed_lower_to=int(lower[-1]) if lower.size else None,
        cos_driven=_mean(removed.cosine[:k]), cos_last_driven=float(removed.cosine[k - 1]),
        cos_coasting=_mean(removed.cosine[k:]), cos_end=float(removed.cosine[-1]),
        cos_coasting_other=_mean(other.cosine[k:]),
        other_data=other_name,
        other_data_difference=float(np.max(np.abs(other.weights[k:] - w[k:]))),
        other_data_difference_kept=math.nan)


def momentum_without_lr(forms: Sequence[str] = FORMS, momenta: Sequence[float] = DEFAULT_MOMENTA,
                        k: int = DEFAULTS["k"], steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                        seed: int = DEFAULTS["seed"], dataset: str = "moons",
                        other_dataset: str = "circles", max_bytes: Optional[int] = None) -> CoastingResult:
    """Part 1: for each form and μ, train k steps, remove the learning rate, go `steps` more.

    Every trace is kept; when they would not fit the memory limit (``check_experiment_size``;
    `max_bytes`, see ``tinygrad_edu.limits``) an AblationSizeError is raised before any run.
    """
    forms = list(forms)
    for f in forms:
        message = check_form(f)
        if message:
            raise ValueError(message)
    momenta = check_momenta(momenta)
    _check_int(k, "k", 1)
    _check_int(steps, "steps", 1)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a number > 0")
    check_experiment_size(len(forms), len(momenta), k, steps, max_bytes)
    A, B = make_problem(dataset, seed), make_problem(other_dataset, seed)
    shown = proof_momentum(momenta)
    rows, proofs, traces = [], [], {}
    for form in forms:
        for mu in momenta:
            try:
                removed = run(form, mu, lr, k, steps, seed, A, A, remove=True)
            except optim.HyperparameterError as exc:
                rows.append(CoastingRow(form, mu, allowed=False, note=str(exc), k=k, steps=steps))
                continue
            kept = run(form, mu, lr, k, steps, seed, A, A, remove=False)
            other = run(form, mu, lr, k, steps, seed, A, B, remove=True)
            row = _row(form, mu, k, steps, removed, kept, other, B.name)
            if mu >= 1 and form == "lr-inside":
                row.note = "allowed in MomentumWithoutLR only"
            rows.append(row)
            traces[(form, mu)] = {"removed": removed, "kept": kept, "other": other}
            if mu != shown:
                continue
            # The control: with the learning rate kept, the other data set does change the path.
            other_kept = run(form, mu, lr, k, steps, seed, A, B, remove=False)
            row.other_data_difference_kept = float(np.max(np.abs(other_kept.weights[k:] - kept.weights[k:])))
            g, g_other = removed.gradient_at_removal, other.gradient_at_removal
            proofs.append(GradientFreeProof(
                form, mu, A.name, B.name, gradient_cosine=_cosine(g, g_other),
                gradient_difference=float(np.linalg.norm(g - g_other) / np.linalg.norm(g)),
                max_difference=row.other_data_difference, max_difference_kept=row.other_data_difference_kept,
                identical=bool(np.array_equal(other.weights[k:], removed.weights[k:])),
                cos_end=float(removed.cosine[-1]), cos_end_other=float(other.cosine[-1])))
    settings = {"forms": forms, "momenta": momenta, "k": k, "steps": steps, "lr": lr, "seed": seed,
                "dataset": A.name, "other_dataset": B.name, "model": f"MLP([2, {HIDDEN}, 2], tanh)",
                "samples": len(A.X)}
    return CoastingResult(rows, proofs, traces, settings)


# ----- part 2: the EMA form with α = 1, at three loss scales ----------------------------------

@dataclass
class ScaleRow:
    """EMAMomentum(α, β) on (scale × loss)."""
    scale: float
    alpha: float
    tuned: bool                  # True: the best α of the grid for this scale
    loss_start: float
    loss_end: float              # the unscaled loss after the run
    steps_to_target: Optional[int]
    diverged: bool               # the loss became non-finite or ended above where it started
    max_weight: float            # max |w| at the end
    max_step: float              # max |Δw| of any weight in any step
    max_gradient: float          # max |∇(scale·L)| of any weight in any step
    bound_ratio: float           # max over steps and weights of |v| / (largest |g| seen so far): <= 1

    @property
    def verdict(self) -> str:
        if self.diverged:
            return "diverges"
        if self.steps_to_target is None:
            return "crawls"
        return "learns"


@dataclass
class ScaleResult:
    rows: list
    curves: dict                 # (scale, alpha) -> loss per step (unscaled)
    settings: dict


def _ema_run(problem: Problem, scale: float, alpha: float, beta: float, steps: int, seed: int, target: float):
    model = make_model(seed)
    params = model.parameters()
    opt = optim.EMAMomentum(params, lr=alpha, beta=beta)
    loss = np.full(steps + 1, np.nan)
    largest_g = np.zeros(sum(p.size for p in params))
    max_step = ratio = 0.0
    w = _flat(params)
    for t in range(steps):
        opt.zero_grad()
        value = problem.loss(model)
        loss[t] = value.item()
        if not math.isfinite(loss[t]):
            break
        (value * scale).backward()
        g = np.abs(_flat(params, "grad"))
        np.maximum(largest_g, g, out=largest_g)
        opt.step()
        v = np.abs(np.concatenate([s["velocity"].ravel() for s in opt.state]))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(largest_g > 0, v / largest_g, 0.0)
        ratio = max(ratio, float(np.max(r)))
        w_new = _flat(params)
        max_step = max(max_step, float(np.max(np.abs(w_new - w))))
        w = w_new
    else:
        loss[steps] = problem.loss(model).item()
    finite = loss[np.isfinite(loss)]
    end = float(loss[steps]) if math.isfinite(loss[steps]) else math.inf
    hits = np.flatnonzero(np.isfinite(loss) & (loss <= target))
    return loss, dict(loss_start=float(finite[0]), loss_end=end,
                      steps_to_target=int(hits[0]) if hits.size else None,
                      diverged=bool(not math.isfinite(end) or end > finite[0]),
                      max_weight=float(np.max(np.abs(w))), max_step=max_step,
                      max_gradient=float(np.max(largest_g)), bound_ratio=ratio)


def ema_loss_scale(scales: Sequence[float] = (0.01, 1.0, 100.0), beta: float = 0.9, steps: int = 100,
                   alphas: Sequence[float] = tuple(10.0 ** e for e in range(-3, 5)), target: float = 0.35,
                   seed: int = 0, dataset: str = "moons") -> ScaleResult:
    """Part 2: EMAMomentum with α = 1 and with the best α of a grid, on the loss times each scale."""
    _check_int(steps, "steps", 1)
    curves = len(scales) * len(set(alphas) | {1.0})
    check_bytes(curves * FLOAT_BYTES * (steps + 1), f"{curves} loss curves of {steps:,} steps", "use fewer steps",
                None, AblationSizeError)
    problem = make_problem(dataset, seed)
    rows, curves = [], {}
    for scale in scales:
        results = {}
        for alpha in sorted(set(alphas) | {1.0}):
            loss, stats = _ema_run(problem, scale, alpha, beta, steps, seed, target)
            results[alpha] = stats
            curves[(scale, alpha)] = loss
        best = min((a for a in results if not results[a]["diverged"]),
                   key=lambda a: results[a]["loss_end"], default=1.0)
        rows.append(ScaleRow(scale, 1.0, tuned=False, **results[1.0]))
        rows.append(ScaleRow(scale, best, tuned=True, **results[best]))
    settings = {"scales": list(scales), "beta": beta, "steps": steps, "alphas": list(alphas), "target": target,
                "seed": seed, "dataset": problem.name, "model": f"MLP([2, {HIDDEN}, 2], tanh)"}
    return ScaleResult(rows, curves, settings)


# ----- what each form does when the learning rate changes --------------------------------------

@dataclass
class LrChange:
    """The updates of each form under a constant gradient when the learning rate changes."""
    form: str
    gradient: float
    momentum: float
    lrs: list
    updates: list                # w_t − w_{t−1}
    positions: list              # w_t − w_0


def lr_change(form: str, gradient: float = 1.0, momentum: float = 0.9, lrs: Sequence[float] = (0.1, 0.01, 0.01)) -> LrChange:
    """Step a one-weight model whose gradient is always `gradient`; lrs[t] is the learning rate of step t + 1.

    The learning rate keeps its meaning in each form: η for lr-inside and pytorch, α for ema.
    """
    message = check_form(form)
    if message:
        raise ValueError(message)
    w = Tensor([0.0], requires_grad=True)
    first = lrs[0]
    opt = {"lr-inside": lambda: optim.Momentum([w], lr=first, momentum=momentum),
           "pytorch": lambda: optim.SGD([w], lr=first, momentum=momentum),
           "ema": lambda: optim.EMAMomentum([w], lr=first, beta=momentum)}[form]()
    updates, positions = [], []
    for lr in lrs:
        opt.lr = lr
        w.grad = np.array([gradient])
        before = float(w.data[0])
        opt.step()
        updates.append(float(w.data[0]) - before)
        positions.append(float(w.data[0]))
    return LrChange(form, gradient, momentum, list(lrs), updates, positions)


# ----- everything, for `edu ablate` ---------------------------------------------------------------

@dataclass
class Experiment:
    coasting: CoastingResult
    scale: Optional[ScaleResult]  # part 2 (the EMA form with α = 1); None when "ema" was not asked for
    lr_changes: list             # LrChange for each form asked for: drop to 0.01, then drop to 0


LR_SCHEDULES = ((0.1, 0.01, 0.01, 0.01), (0.1, 0.0, 0.0, 0.0))   # the learning-rate changes the report shows


def run_experiment(forms: Sequence[str] = FORMS, momenta: Sequence[float] = DEFAULT_MOMENTA,
                   k: int = DEFAULTS["k"], steps: int = DEFAULTS["steps"], lr: float = DEFAULTS["lr"],
                   seed: int = DEFAULTS["seed"], max_bytes: Optional[int] = None) -> Experiment:
    """Both parts and the learning-rate-change table, as `edu ablate` shows them, for `forms` only.

    Part 2 sets α = 1 in the EMA form, so it runs only when "ema" is among the forms. A k or
    steps too large for the memory limit (`max_bytes`) is an AblationSizeError (a ValueError)
    before anything runs.
    """
    coasting = momentum_without_lr(forms, momenta, k=k, steps=steps, lr=lr, seed=seed, max_bytes=max_bytes)
    forms = coasting.settings["forms"]
    scale = ema_loss_scale(seed=seed) if "ema" in forms else None
    changes = [lr_change(f, lrs=lrs) for lrs in LR_SCHEDULES for f in forms]
    return Experiment(coasting, scale, changes)


# ----- validation -----------------------------------------------------------------------------------

def check_form(form: str) -> str:
    """'' if `form` is a form's name, else a one-line message with the closest names."""
    if form in FORMS:
        return ""
    return f"unknown form {form!r}{closest_names(str(form), FORMS + ('all',))} (choose from: {', '.join(FORMS)}, all)"


def check_momenta(momenta) -> list:
    values = []
    for mu in momenta:
        if isinstance(mu, bool) or not isinstance(mu, (int, float, np.integer, np.floating)) or not math.isfinite(mu) \
                or mu < 0 or mu > 2:
            raise ValueError(f"momentum {mu!r} is out of range; use numbers 0 <= μ <= 2 (μ >= 1 drifts or runs away)")
        values.append(float(mu))
    if not values:
        raise ValueError("no momentum values given; pass at least one, e.g. 0.5,0.9,0.99,1.0,1.01")
    return values


def _check_int(value, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r} must be a whole number >= {minimum}")


# ----- text --------------------------------------------------------------------------------------

def _fmt(x, spec: str = ".4g") -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and math.isnan(x):
        return "–"
    return format(x, spec)


def _table(headers: list, rows: list) -> str:
    return text_table([[str(c) for c in r] for r in [headers] + rows])


def _wrap(text: str, indent: str = "") -> str:
    """Prose in lines of at most WIDTH columns (tables are laid out to fit on their own)."""
    return textwrap.fill(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def _round_off(x: float) -> str:
    """A closed-form error: a bound when it is round-off (the digits differ by CPU and BLAS), else the value."""
    if isinstance(x, float) and math.isnan(x):
        return "–"
    if x == 0:
        return "0"
    return f"< {ROUND_OFF:.0e}" if x < ROUND_OFF else f"{x:.1e}"


def _loss(x: float) -> str:
    """A loss to three decimals; a runaway one (>= 1000) to three digits, so that the table keeps its width."""
    return _fmt(x, ".3f" if not abs(x) >= 1000 else ".3g")


def _at(value: float, step: Optional[int]) -> str:
    return "–" if step is None else f"{_loss(value)} ({step})"


def _removed_lower(r: CoastingRow) -> str:
    if not r.steps_removed_lower:
        return "never"
    return f"{r.steps_removed_lower} steps ({r.removed_lower_from}–{r.removed_lower_to})"


def format_coasting(result: CoastingResult) -> str:
    s = result.settings
    k, end = s["k"], s["k"] + s["steps"]
    out = [_wrap(f"Part 1: remove the learning rate after k = {s['k']} steps, then {s['steps']} more steps "
                 f"({s['model']}, full-batch cross-entropy on {s['samples']} {s['dataset']} points, "
                 f"η = {s['lr']}, seed {s['seed']}).")]
    out.append(_wrap("After the removal the gradient no longer steers: the weights coast or stop whatever the "
                     "loss does, so the loss may still fall along the coast, then stalls or rises. "
                     "Keeping the learning rate steers, but its loss need not keep falling either."))
    other = s["other_dataset"]
    for form in s["forms"]:
        rows = [r for r in result.rows if r.form == form]
        allowed = [r for r in rows if r.allowed]
        out += ["", f"[{form}] {FORM_DESCRIPTIONS[form]}"]
        out.append(_table(["μ", "predicted |w−w_k|", "measured", "rel. error", "as t → ∞"],
                          [[_fmt(r.momentum, "g"), _fmt(r.predicted), _fmt(r.measured), _round_off(r.error), r.limit]
                           if r.allowed else [_fmt(r.momentum, "g"), "–", "–", "–", "refused by the optimizer"]
                           for r in rows]))
        out += [f"  μ = {r.momentum:g}: {r.note}" for r in rows if not r.allowed]
        if not allowed:
            continue
        out += ["", f"loss: lr removed at step {k} against lr kept (lowest loss, and the step it is reached at)"]
        out.append(_table(["μ", f"at {k} → {end}", "removed: lowest", "kept: lowest", f"kept: at {end}",
                           "removed < kept at"],
                          [[_fmt(r.momentum, "g"), f"{_loss(r.loss_at_removal)} → {_loss(r.loss_end)}",
                            _at(r.loss_best_after, r.step_best_after), _at(r.loss_kept_best, r.step_kept_best),
                            _loss(r.loss_kept), _removed_lower(r)] for r in allowed]))
        out += ["", f"cos(update, −∇L): before and after the removal, and the same updates against the "
                    f"gradient on {other}"]
        out.append(_table(["μ", "before", "after", f"after, on {other}", f"same weights on {other}"],
                          [[_fmt(r.momentum, "g"), _fmt(r.cos_driven, "+.2f"), _fmt(r.cos_coasting, "+.2f"),
                            _fmt(r.cos_coasting_other, "+.2f"),
                            "yes" if r.gradient_free else f"no ({_fmt(r.other_data_difference, '.1e')})"]
                           for r in allowed]))
    shown = proof_momentum(s["momenta"])
    proofs = result.proofs
    if proofs:
        out += ["", _wrap(f"Gradient-free? After the removal, continue on {other} instead of {s['dataset']} "
                          f"(μ = {shown:g}; the two data sets' gradients disagree):")]
        out.append(_table(["form", "cos(∇L, ∇L')", "max |w − w'| after removal", "lr kept", "last cos −∇L",
                           "last cos −∇L'"],
                          [[p.form, _fmt(p.gradient_cosine, "+.2f"),
                            "0 (identical, bit for bit)" if p.identical else _fmt(p.max_difference, ".2e"),
                            _fmt(p.max_difference_kept, ".2e"), _fmt(p.cos_end, "+.2f"), _fmt(p.cos_end_other, "+.2f")]
                           for p in proofs]))
    return "\n".join(out)


def format_scale(result: ScaleResult) -> str:
    s = result.settings
    out = [_wrap(f"Part 2: EMAMomentum (β = {s['beta']}) with α removed (α = 1) vs a tuned α, on the loss × scale "
                 f"({s['steps']} steps, {s['dataset']}; target loss {s['target']})")]
    # A diverging run's last loss is chaotic (it differs by CPU and BLAS kernel): only the verdict is printed.
    out.append(_table(["loss ×", "α", "loss start → end", "target at", "max |Δw|", "max |∇|", "|v|/max|g|",
                       "verdict"],
                      [[_fmt(r.scale, "g"), ("1 (removed)" if not r.tuned else f"{r.alpha:g} (tuned)"),
                        f"{r.loss_start:.3f} → {'diverged' if r.diverged else _fmt(r.loss_end, '.3g')}",
                        "never" if r.steps_to_target is None else f"step {r.steps_to_target}",
                        _fmt(r.max_step, ".3g"), _fmt(r.max_gradient, ".3g"), _fmt(r.bound_ratio, ".3f"), r.verdict]
                       for r in result.rows]))
    out.append(_wrap("|v| never exceeds the largest gradient seen (ratio <= 1): with α = 1 the step is a "
                     "gradient's size, set by the loss's scale. The tuned α scales as 1/scale."))
    return "\n".join(out)


def format_lr_changes(changes: list) -> str:
    if not changes:
        return ""
    mu = changes[0].momentum
    out = [f"What each form does when the learning rate changes (gradient 1 every step, μ = {mu:g}):"]
    schedules = list(dict.fromkeys(tuple(c.lrs) for c in changes))
    for lrs in schedules:
        out += ["", "learning rate per step: " + " → ".join(f"{x:g}" for x in lrs)]
        out.append(_table(["form", "updates Δw", "positions w − w₀"],
                          [[c.form, ", ".join(f"{u:+.5g}" for u in c.updates),
                            ", ".join(f"{p:+.5g}" for p in c.positions)]
                           for c in changes if tuple(c.lrs) == lrs]))
    return "\n".join(out)


def format_report(experiment: Experiment) -> str:
    """The tables of `edu ablate`: only the forms the experiment ran, in lines of at most 100 columns."""
    parts = [format_coasting(experiment.coasting)]
    if experiment.scale is not None:
        parts.append(format_scale(experiment.scale))
    if experiment.lr_changes:
        parts.append(format_lr_changes(experiment.lr_changes))
    return "\n\n".join(parts)


def as_dict(obj):
    """A JSON-friendly copy of a result: dataclasses as dicts (with their verdicts), no per-step traces."""
    if dataclasses.is_dataclass(obj):
        d = {f.name: as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)
             if f.name not in ("traces", "curves", "gradient_at_removal")}
        for name in ("gradient_free", "falls_after_removal", "kept_keeps_improving", "verdict"):
            if hasattr(type(obj), name):
                d[name] = getattr(obj, name)
        return d
    if isinstance(obj, dict):
        return {str(k): as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return as_dict(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None     # JSON has no NaN or infinity
    return obj
