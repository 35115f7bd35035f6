"""The optimizer exercises' references, and the runs the checks compare a student's optimizer with.

Where a workbook class has the engine's constructor (Momentum, HeavyBall, Adam's AdamW...), the
manifest's reference is the engine's class itself. Where the workbook asks for less than the
engine's class does, the reference here is that class with the extra hyperparameters fixed at 0
(or False), so the update rule that runs is still the engine's:

    PlainSGD    optim.SGD with momentum 0:              w ← w − η·∇L
    RMSprop     optim.RMSprop without momentum, centering or weight decay
    Adam        optim.Adam without AMSGrad
    AdamW       optim.AdamW without AMSGrad
    coast_distance   MomentumWithoutLR.coasting_factor(μ, n)·Δw

A check drives an optimizer through a ``Run``: each parameter's start, its gradient at every step
(None: no gradient that step, so step() skips it) and the learning rate of every step (a
schedule). ``trajectory`` returns the weights after each step, computed by whatever class it is
given: the student's, or the engine's. ``expect_by_hand`` and ``expect_same_run`` raise the
CheckFailed a student reads, its kind of mistake named by ``Mistakes`` on fixed probe runs
(comparisons with the engine's classes in other forms, then ``optim.identify``'s sentence).
"""
from __future__ import annotations

import math
import re
import warnings
import weakref
from dataclasses import dataclass, field

import numpy as np

from ... import optim
from ...optim import Optimizer, learning_rate
from ...tensor import Tensor
from ..feedback import CheckFailed, compare, kind_of


# ----- the references -------------------------------------------------------------------------

class PlainSGD(optim.SGD):
    """optim.SGD with momentum, dampening and weight decay 0: w ← w − η·∇L (exercise 5.1's reference)."""

    hyper = (learning_rate(),)
    momentum, dampening, weight_decay, nesterov = 0.0, 0.0, 0.0, False

    def __init__(self, params, lr=1e-3):
        Optimizer.__init__(self, params, lr=lr)

    def required_state(self, hyper, step_count):
        return ()


class RMSprop(optim.RMSprop):
    """optim.RMSprop without momentum, centering or weight decay: s ← α·s + (1−α)·∇L²;  w ← w − η·∇L/(√s + ε)."""

    hyper = tuple(h for h in optim.RMSprop.hyper if h.name in ("lr", "alpha", "eps"))
    weight_decay, momentum, centered = 0.0, 0.0, False

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        Optimizer.__init__(self, params, lr=lr, alpha=alpha, eps=eps)

    def required_state(self, hyper, step_count):
        return ("square_avg",)


class Adam(optim.Adam):
    """optim.Adam without AMSGrad (amsgrad=False)."""

    hyper = tuple(h for h in optim.Adam.hyper if h.name != "amsgrad")
    amsgrad = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        Optimizer.__init__(self, params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def required_state(self, hyper, step_count):
        return ("step", "exp_avg", "exp_avg_sq")


class AdamW(optim.AdamW):
    """optim.AdamW without AMSGrad (amsgrad=False)."""

    hyper = tuple(h for h in optim.AdamW.hyper if h.name != "amsgrad")
    amsgrad = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        Optimizer.__init__(self, params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def required_state(self, hyper, step_count):
        return ("step", "exp_avg", "exp_avg_sq")


def coast_distance(last_update, momentum, n):
    """w_{k+n} − w_k = Δw·(μ + μ² + … + μⁿ), by the engine's closed form (n may be math.inf).

    Where Δw = 0 the weights never move: 0, also for n = ∞ at μ ≥ 1 (where 0·∞ would be nan).
    """
    last_update = np.asarray(last_update, dtype=float)
    factor = optim.MomentumWithoutLR.coasting_factor(momentum, n)
    if math.isinf(factor):
        return np.where(last_update == 0, 0.0, np.copysign(math.inf, last_update))
    return last_update * factor


# ----- driving an optimizer through a run ----------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """A run without a loss: the starting weights, the gradients step by step, the learning rate's schedule.

    grads[t][i] is parameter i's gradient at step t + 1 (None: it has none, so step() skips it);
    lr_factors[t] sets the learning rate of step t + 1 to that factor times the one the optimizer
    was built with (missing: 1). For the heavy ball the learning rate is dt.
    """
    start: tuple
    grads: tuple
    lr_factors: tuple = ()

    def factor(self, t: int) -> float:
        """The learning rate's factor at step t (1-based)."""
        return self.lr_factors[t - 1] if t - 1 < len(self.lr_factors) else 1.0

    def scaled(self, c: float) -> "Run":
        """The same run with every gradient multiplied by c."""
        return Run(self.start, tuple(tuple(None if g is None else c * np.asarray(g) for g in step)
                                     for step in self.grads), self.lr_factors)


def trajectory(cls, hyper: dict, run: Run) -> list:
    """The weights after every step of `run`: a list (one entry per step) of tuples of arrays (one per parameter).

    NumPy's floating-point warnings are off while it runs, so an overflow gives the same inf (and
    the same result) under every warnings filter; so is the engine's warning that a momentum >= 1
    drifts (MomentumWithoutLR), which a run asks for on purpose.
    """
    params = [Tensor(np.array(w, dtype=float, copy=True), requires_grad=True) for w in run.start]
    with np.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            opt = cls(params, **hyper)
        lr = opt.lr
        weights = []
        for t, grads in enumerate(run.grads, start=1):
            opt.lr = lr * run.factor(t)
            for p, g in zip(params, grads):
                p.grad = None if g is None else np.array(g, dtype=float, copy=True)
            opt.step()
            weights.append(tuple(p.data.copy() for p in params))
    return weights


def updates(cls, hyper: dict, run: Run) -> np.ndarray:
    """Every step's update Δw_t = w_t − w_{t−1}: one row per step, the parameters' entries side by side."""
    before = [np.asarray(w, dtype=float) for w in run.start]
    rows = []
    with np.errstate(all="ignore"):
        for weights in trajectory(cls, hyper, run):
            rows.append(np.concatenate([(w - b).ravel() for w, b in zip(weights, before)]))
            before = list(weights)
    return np.array(rows)


def probe_run(steps: int = 8, change_after: int = 4, factor: float = 0.25, size: int = 6, params: int = 1,
              skipped: tuple = ()) -> Run:
    """A fixed run to name a mistake on: gradients of mixed signs and sizes, the lr ×`factor` after step `change_after`.

    `skipped`: (step, parameter) pairs that get no gradient.
    """
    rng = np.random.default_rng(2024)
    start = tuple(rng.uniform(-1, 1, size) for _ in range(params))
    grads = tuple(tuple(None if (t, i) in skipped else rng.uniform(-2, 2, size) + 0.25 for i in range(params))
                  for t in range(1, steps + 1))
    return Run(start, grads, tuple(1.0 if t <= change_after else factor for t in range(1, steps + 1)))


PROBE = probe_run()
CONSTANT_LR_PROBE = probe_run(change_after=8)
TWO_PARAMETER_PROBE = probe_run(params=2, skipped=((1, 1), (3, 0)))


EDGE_GRADIENTS = np.array([0.0, 1e-300, -1e-10, 1e-4, -1.0, 1e100])   # zero, tiny, ordinary, huge


def edge_run() -> Run:
    """One weight vector for four steps: gradients at the edge points (zero, tiny, huge), the same reversed and
    negated, all zeros, and the first again; the learning rate halves after step 2."""
    grads = [EDGE_GRADIENTS, -EDGE_GRADIENTS[::-1], np.zeros(EDGE_GRADIENTS.size), EDGE_GRADIENTS]
    return Run((np.linspace(-1, 1, EDGE_GRADIENTS.size),), tuple((g,) for g in grads), (1.0, 1.0, 0.5, 0.5))


def shapes_run() -> Run:
    """Three parameters of shapes (2, 3), (4,) and (0,) for 3 steps; the second has no gradient at step 2."""
    rng = np.random.default_rng(7)
    shapes = [(2, 3), (4,), (0,)]
    start = tuple(rng.uniform(-1, 1, s) for s in shapes)
    grads = tuple(tuple(None if (t, i) == (2, 1) else rng.uniform(-2, 2, s) for i, s in enumerate(shapes))
                  for t in (1, 2, 3))
    return Run(start, grads, (1.0, 0.5, 0.5))


def random_runs(max_params: int = 3, max_steps: int = 6, low: float = -5.0, high: float = 5.0):
    """A hypothesis strategy of Runs: 1 to `max_params` parameters of one random shape, 1 to `max_steps`
    steps, gradients in [low, high], and a schedule that halves, quarters or doubles the learning rate.

    It belongs with ``course.strategies``; it is here until it moves there. Hypothesis is imported
    on the first call, not with this module: the references are used without the test tools too.
    """
    from hypothesis import strategies as st        # (see the docstring)
    from ..strategies import arrays, shapes

    @st.composite
    def run(draw):
        shape = draw(shapes(min_dims=1, max_dims=2, max_side=3))
        n, steps = draw(st.integers(1, max_params)), draw(st.integers(1, max_steps))
        values = draw(arrays((steps + 1, n) + tuple(shape), low, high))   # one draw: quick to make and to shrink
        factors = draw(st.lists(st.sampled_from((1.0, 0.5, 0.25, 2.0)), min_size=steps, max_size=steps))
        return Run(tuple(values[0]), tuple(tuple(step) for step in values[1:]), tuple(factors))
    return run()


def same_steps(student, hyper: dict, other, other_hyper: dict | None = None, run: Run = PROBE) -> bool:
    """Whether `student` built with `hyper` makes the same updates on `run` as `other` built with `other_hyper`."""
    return compare(updates(student, hyper, run), updates(other, hyper if other_hyper is None else other_hyper,
                                                         run)).equal


# ----- naming the mistake --------------------------------------------------------------------------

@dataclass(frozen=True)
class Mistakes:
    """How to name what is wrong with a student's optimizer, on fixed probe runs (not on the failing input).

    reference, hyper: the engine's class and the hyperparameters of the probe runs; asked: the
    registry name of the form asked for (identify's sentence says whether the student wrote it).
    when_wrong: (kind, test) pairs tried in order when the student's steps differ on the probe;
    elsewhere: (kind, test, hyperparameters) triples tried when they agree there (the mistake shows
    in another run, or with other hyperparameters, with which identify then runs the class).
    A test is a function of the student's class that is True when the kind fits.
    forms: registry name → kind, for a class that identify finds to be exactly another registered
    optimizer (its hyperparameters fitted) when no test fits.
    unregistered: the kinds no registered optimizer makes, for which identify is not asked (it
    would find no exact match, and it takes longer than the checks).
    """
    reference: type
    hyper: dict
    asked: str
    when_wrong: tuple = ()
    elsewhere: tuple = ()
    forms: dict = field(default_factory=dict)
    unregistered: tuple = ()

    def kind(self, student) -> tuple:
        """(kind, the hyperparameters that show it)."""
        got = updates(student, self.hyper, PROBE)
        expected = updates(self.reference, self.hyper, PROBE)
        if compare(got, expected).equal:
            for kind, test, hyper in self.elsewhere:
                if test(student):
                    return kind, hyper
            if not same_steps(student, self.hyper, self.reference, run=TWO_PARAMETER_PROBE):
                return "per-parameter", self.hyper
            return "wrong", self.hyper
        if not np.all(np.isfinite(got)):
            return "nan", self.hyper
        if not np.any(got):
            return "not-in-place", self.hyper
        if compare(got, -expected).equal:
            return "sign", self.hyper
        for kind, test in self.when_wrong:
            if test(student):
                return kind, self.hyper
        match = identified(student, self.asked, self.hyper) if self.forms else None
        if match is not None and match.exact and match.name in self.forms:
            return self.forms[match.name], self.hyper
        return kind_of(got, expected), self.hyper

    def explain(self, student) -> tuple:
        """(kind, diagnosis) for the student's class, computed once per class."""
        cache = _EXPLAINED.setdefault(student, {})
        if id(self) not in cache:
            kind, hyper = self.kind(student)
            # identify drives one parameter (no help with per-parameter) in a descent (none goes uphill)
            quiet = kind in ("nan", "not-in-place", "per-parameter", "sign") + self.unregistered
            cache[id(self)] = (kind, "" if quiet else diagnosis(student, self.asked, hyper))
        return cache[id(self)]


def first_update_ratio(student, hyper: dict, reference, ratio: float) -> bool:
    """Whether the student's first update is `ratio` times the reference's, on gradients far above any ε."""
    run = Run((np.zeros(3),), ((np.array([1.0, -2.0, 0.5]),),))
    return compare(updates(student, hyper, run), ratio * updates(reference, hyper, run), rtol=1e-6).equal


_EXPLAINED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_IDENTIFIED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def identified(student, asked: str, hyper: dict):
    """``optim.identify``'s Match for the student's class built with `hyper` (once per class), or None.

    identify drives the class through two runs and fits every registered optimizer to them, which
    takes longer than a check: the checks call it once a check has failed, and once per class.
    """
    cache = _IDENTIFIED.setdefault(student, {})
    key = (asked, repr(sorted(hyper.items())))
    if key not in cache:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")      # its candidates' own warnings (a fitted momentum >= 1)
                cache[key] = optim.identify(student, asked=asked, **hyper)
        except (ValueError, ArithmeticError):        # it cannot build or fit this class: no match, the kind stays
            cache[key] = None
    return cache[key]


def diagnosis(student, asked: str, hyper: dict) -> str:
    """identify's sentence on the student's class, when it matches a registered optimizer exactly ('' otherwise)."""
    match = identified(student, asked, hyper)
    if match is None or not match.exact:
        return ""
    text = f"What your class does on a test problem (optim.identify): {_without_round_off(match.sentence)}"
    fitted = {h.name: h.default for h in optim.get(match.name).hyperparameters() if h.default is not optim.REQUIRED}
    fitted.update(match.hyperparameters)
    differ = [k for k in hyper if k in fitted and not _near(fitted[k], hyper[k])]
    if match.name == asked and not differ:
        return ""         # right on identify's problem: the mistake shows only in the check's run
    if match.name == asked:
        text += (" But with " + ", ".join(f"{k}={_number(fitted[k])}" for k in differ) +
                 ", where your class was built with " + ", ".join(f"{k}={_number(hyper[k])}" for k in differ) + ".")
    return text


_ROUND_OFF = re.compile(r"(?<==)-?\d+(?:\.\d+)?e-(?:1[3-9]|[2-9]\d|\d{3,})\b")


def _without_round_off(sentence: str) -> str:
    """identify's sentence with fitted values below 1e-12 written 0: least squares leaves a 0 at 1e-16 or
    1e-18, and which of those depends on the BLAS kernel (no printed number may)."""
    return _ROUND_OFF.sub("0", sentence)


def _near(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return len(a) == len(b) and all(_near(x, y) for x, y in zip(a, b))
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)


def _number(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_number(x) for x in v) + ")"
    return str(v) if isinstance(v, (bool, int)) else f"{v:.6g}"


# ----- the comparisons the checks make -------------------------------------------------------------

class _Shown(str):
    """Text shown as it is among a failure's inputs (feedback shows other values by their repr)."""

    def __repr__(self) -> str:
        return str(self)


def _describe(run: Run, upto: int, param: int, hyper: dict) -> dict:
    """The inputs of a failing run as a student reads them: hyperparameters, start, gradients, learning rates."""
    grads = [run.grads[t][param] for t in range(upto)]
    shown = "; ".join(f"step {t}: " + ("none (skipped)" if g is None else
                                       np.array2string(np.asarray(g), precision=6, separator=", "))
                      for t, g in enumerate(grads, start=1))
    inputs = {"hyperparameters": _Shown(", ".join(f"{k}={_number(v)}" for k, v in hyper.items()))}
    if len(run.start) > 1:
        inputs["parameter"] = _Shown(f"{param} of {len(run.start)} (each has its own start and gradients)")
    inputs.update({"start w": np.asarray(run.start[param]), "gradients": _Shown(shown)})
    factors = [run.factor(t) for t in range(1, upto + 1)]
    if any(f != 1 for f in factors):
        name = "dt" if "dt" in hyper else "lr"
        inputs[f"{name} at each step"] = _Shown(", ".join(_number(hyper[name] * f) for f in factors))
    return inputs


def expect_same_run(student, hyper: dict, run: Run, mistakes: Mistakes, rtol: float = 1e-9,
                    atol: float = 1e-12) -> None:
    """Raise CheckFailed at the first step and parameter where the student's weights depart from the engine's."""
    got_run = trajectory(student, hyper, run)
    expected_run = trajectory(mistakes.reference, hyper, run)
    for t, (got, expected) in enumerate(zip(got_run, expected_run), start=1):
        for i, (w, w_ref) in enumerate(zip(got, expected)):
            result = compare(w, w_ref, rtol, atol)
            if result.equal:
                continue
            kind, diagnosis = mistakes.explain(student)
            which = f" of parameter {i} (shape {w_ref.shape})" if len(got) > 1 else ""
            where = f" at index {result.where}" if result.where is not None and w_ref.ndim else ""
            size = f"; largest difference {result.max_diff:.3g}{where}" if result.max_diff is not None else ""
            raise CheckFailed(f"after step {t}, the weights{which} are wrong{size}", kind=kind, expected=w_ref,
                              got=w, max_diff=result.max_diff, inputs=_describe(run, t, i, hyper),
                              diagnosis=diagnosis)


def expect_by_hand(student, hyper: dict, run: Run, by_hand: list, mistakes: Mistakes, rtol: float = 1e-9) -> None:
    """The student's steps on a one-weight run against the formula worked by hand: by_hand[t] = (w, how)."""
    for t, (w, (expected, how)) in enumerate(zip(trajectory(student, hyper, run), by_hand), start=1):
        got = w[0]
        if compare(got, np.array([expected]), rtol).equal:
            continue
        kind, diagnosis = mistakes.explain(student)
        digits = _digits_apart(expected, float(got[0])) if got.shape == (1,) else 6
        got_text = f"{float(got[0]):.{digits}g}" if got.shape == (1,) else np.array2string(got, precision=6)
        raise CheckFailed(f"after step {t}, expected w = {expected:.{digits}g} ({how}), got {got_text}", kind=kind,
                          expected=np.array([expected]), got=got,
                          max_diff=float(abs(got[0] - expected)) if got.shape == (1,) else None,
                          inputs=_describe(run, t, 0, hyper), diagnosis=diagnosis)


def _digits_apart(a: float, b: float) -> int:
    """The fewest significant digits (6 at least) at which a and b print differently."""
    for digits in range(6, 18):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            return digits
    return 17


def term(x: float) -> str:
    """A number as a term in a worked formula: 6 significant digits, in parentheses when negative."""
    text = f"{x:.6g}"
    return f"({text})" if x < 0 else text
