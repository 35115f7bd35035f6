"""Optimizers on 2-D landscapes: watch each one walk, step by step, over a contour plot.

A landscape is a function f(x, y) of two numbers. The walker is a real parameter, a
Tensor of 2 elements; each step is the ordinary training loop:

    optimizer.zero_grad()
    loss = f(p[0], p[1])     # the autograd engine records the graph...
    loss.backward()          # ...and computes ∂f/∂x, ∂f/∂y into p.grad
    optimizer.step()         # the optimizer moves p

so every optimizer of ``tinygrad_edu.optim`` runs here exactly as it runs on a network.

The four landscapes, each chosen to show one behaviour (the numbers are for the default
hyperparameters; ``header`` and ``describe`` recompute them for others):

- ``quadratic``  f = ½x² + y²: a bowl, curvatures 1 and 2. Plain gradient descent (η = 0.3)
  multiplies x by 0.7 and y by 0.4 per step: it walks in without overshooting. Momentum
  (μ = 0.9, η = 0.05) overshoots and spirals in, shrinking by √μ ≈ 0.949 per step; at
  μ = 0.99 it circles longer (√0.99 ≈ 0.995 per step).
- ``ravine``     f = ½x² + 50y²: a long narrow valley (curvatures 1 and 100). At its best
  learning rate, 2/(1 + 100) ≈ 0.0198 (the one that minimises the slowest factor), SGD
  multiplies x by 0.98 and y by −0.98 at every step: it bounces from wall to wall (the steep
  coordinate y changes sign at every step) while it crawls along the floor. Momentum
  (μ = 0.9, η = 0.005) adds up the gradients: the across-the-valley components alternate and
  cancel, the along-the-floor ones agree and add up, so the zig-zag is damped (every
  direction shrinks by √μ ≈ 0.949 per step) and the walker reaches the minimum first.
- ``rosenbrock`` f = (1 − x)² + 100(y − x²)²: a curved banana valley with its minimum at
  (1, 1). Across the valley the curvature (the Hessian's largest eigenvalue) is 1002 at the
  minimum, 1506 at the start (−1.2, 1) and 2002 on the valley floor at |x| = 1.5; along it,
  it is small (0.4 at the minimum), so progress along the valley is slow. SGD from the start
  converges only while η < 2/1002 ≈ 2.0e-3 (2/λ_max at the minimum; it converges at 1.99e-3);
  just above (2.01e-3 up to about 6.1e-3) it keeps bouncing across the valley, bounded but
  never settling, and from about 6.2e-3 on it leaves every bound within a few steps.
- ``saddle``     f = ½x² + ¼y⁴ − ½y²: a saddle point at (0, 0) between two minima at
  (0, ±1). Started next to the ridge (y = 0.001), SGD and momentum first slide down to the
  saddle, stall there for dozens of steps (the gradient, and so the step, is tiny), then
  escape: near the ridge ∂f/∂y ≈ −y, so SGD multiplies y by 1 + η (1.1 at η = 0.1) per step,
  and momentum by the larger root of z² − (1 + μ + η)z + μ = 0 (1.107 at μ = 0.9, η = 0.02).
  Adam divides the gradient by its own size, so it takes full steps even there and barely
  stalls. Started exactly on the ridge (y = 0) no one can leave, because ∂f/∂y = 0 there.

The functions are written once with + - * ** only, so the same code evaluates a Tensor
(for training) and a NumPy grid (for the contour plot).
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import optim
from .data import closest_names
from .limits import FLOAT_BYTES, SizeLimitError, check_bytes
from .tensor import Tensor

__all__ = ["Landscape", "Trajectory", "LANDSCAPES", "landscape_names", "get_landscape", "evaluate", "hessian",
           "heavy_ball_roots", "growth_factor", "describe", "header",
           "default_hyperparameters", "run_trajectory", "run_trajectories", "grid", "format_trajectories",
           "DIVERGED_BEYOND", "TrajectoryError", "trajectory_bytes"]

DIVERGED_BEYOND = 1e6   # a walk with |x| or |y| above this (or a non-finite loss) has diverged


class TrajectoryError(SizeLimitError):
    """A run whose trajectory arrays would not fit the memory limit (a ValueError, one line)."""


@dataclass(frozen=True)
class Landscape:
    """A 2-D test function with what is needed to run and draw optimizers on it."""
    name: str
    formula: str
    f: Callable                  # f(x, y): works on Tensors and on NumPy arrays
    gradient_formula: str
    minima: tuple                # the global minima, ((x, y), ...)
    start: tuple                 # default starting point
    steps: int                   # default number of steps
    xlim: tuple
    ylim: tuple
    lr: dict                     # default learning rate per optimizer name
    note: str = ""               # what to watch for, at the default hyperparameters (see ``describe``)

    def __call__(self, x, y):
        return self.f(x, y)

    def value(self, point) -> float:
        """f at a point (x, y), as a float (NumPy, no graph); inf where f overflows float64."""
        x, y = (np.float64(v) for v in point)       # NumPy floats overflow to inf; Python's raise
        with np.errstate(over="ignore", invalid="ignore"):
            return float(self.f(x, y))


def _quadratic(x, y):
    return 0.5 * x ** 2 + y ** 2


def _ravine(x, y):
    return 0.5 * x ** 2 + 50.0 * y ** 2


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _saddle(x, y):
    return 0.5 * x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2


# Default learning rates, per landscape and optimizer, chosen so that each picture shows
# its point (see the module docstring). The adaptive methods (adam, rmsprop, adagrad) divide
# the gradient by a running size of it, so their rates are distances: Adagrad's first step
# is lr per coordinate, RMSprop's is lr/√(1 − α) = 10·lr, Adam's is about lr under a steady
# gradient. The others multiply the gradient, so their rates are set against the curvature:
# gradient descent can settle at a minimum only while η < 2/λ_max there.
LANDSCAPES: dict = {
    "quadratic": Landscape(
        "quadratic", "f = ½x² + y²", _quadratic, "∇f = (x, 2y)",
        minima=((0.0, 0.0),), start=(-4.0, 3.0), steps=80, xlim=(-5.0, 5.0), ylim=(-4.0, 4.0),
        lr={"sgd": 0.3, "momentum": 0.05, "nesterov": 0.05, "ema-momentum": 0.5, "momentum-no-lr": 0.05,
            "adam": 0.3, "adamw": 0.3, "rmsprop": 0.05, "adagrad": 1.0}),
    "ravine": Landscape(
        "ravine", "f = ½x² + 50y²", _ravine, "∇f = (x, 100y)",
        minima=((0.0, 0.0),), start=(-8.0, 1.0), steps=150, xlim=(-9.0, 2.0), ylim=(-1.5, 1.5),
        lr={"sgd": 0.0198, "momentum": 0.005, "nesterov": 0.005, "ema-momentum": 0.05, "momentum-no-lr": 0.005,
            "adam": 0.1, "adamw": 0.1, "rmsprop": 0.02, "adagrad": 1.0}),
    "rosenbrock": Landscape(
        "rosenbrock", "f = (1 − x)² + 100(y − x²)²", _rosenbrock, "∇f = (−2(1 − x) − 400x(y − x²), 200(y − x²))",
        minima=((1.0, 1.0),), start=(-1.2, 1.0), steps=1000, xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
        lr={"sgd": 1.5e-3, "momentum": 1e-3, "nesterov": 1e-3, "ema-momentum": 1e-2, "momentum-no-lr": 1e-3,
            "adam": 0.05, "adamw": 0.05, "rmsprop": 5e-3, "adagrad": 0.5}),
    "saddle": Landscape(
        "saddle", "f = ½x² + ¼y⁴ − ½y²", _saddle, "∇f = (x, y³ − y)",
        minima=((0.0, 1.0), (0.0, -1.0)), start=(1.5, 1e-3), steps=120, xlim=(-2.0, 2.0), ylim=(-1.6, 1.6),
        lr={"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "ema-momentum": 0.2, "momentum-no-lr": 0.02,
            "adam": 0.05, "adamw": 0.05, "rmsprop": 0.01, "adagrad": 0.5}),
}


def landscape_names() -> list:
    return list(LANDSCAPES)


def get_landscape(name) -> Landscape:
    """The landscape called `name` (or `name` itself if it is a Landscape)."""
    if isinstance(name, Landscape):
        return name
    key = str(name).strip().lower()
    if key not in LANDSCAPES:
        raise ValueError(f"unknown landscape {name!r}{closest_names(key, LANDSCAPES, n=2)} "
                         f"(choose from: {', '.join(LANDSCAPES)})")
    return LANDSCAPES[key]


def evaluate(landscape, point) -> tuple:
    """(f, ∇f) at `point`, the gradient computed by the autograd engine."""
    fn = get_landscape(landscape)
    p = Tensor(np.asarray(point, dtype=np.float64).reshape(2), requires_grad=True)
    loss = fn(p[0], p[1])
    loss.backward()
    return loss.item(), p.grad.copy()


def grid(landscape, n: int = 200, xlim=None, ylim=None) -> tuple:
    """X, Y, Z arrays of shape (n, n) for a contour plot: Z = f(X, Y)."""
    fn = get_landscape(landscape)
    xs = np.linspace(*(xlim or fn.xlim), n)
    ys = np.linspace(*(ylim or fn.ylim), n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, fn.f(X, Y)


# ----- what to watch for: local rates from the linear recurrence -----------------------------

def hessian(landscape, point, h: float = 1e-5) -> np.ndarray:
    """The 2×2 matrix of second derivatives at `point`: central differences of the autograd gradient."""
    point = np.asarray(point, dtype=np.float64)
    columns = [(evaluate(landscape, point + h * e)[1] - evaluate(landscape, point - h * e)[1]) / (2 * h)
               for e in np.eye(2)]
    H = np.array(columns).T
    return (H + H.T) / 2


def heavy_ball_roots(lr: float, momentum: float, curvature: float) -> np.ndarray:
    """The roots of z² − (1 + μ − ηλ)z + μ = 0: momentum's factors per step along a direction of curvature λ.

    Along an eigenvector of curvature λ, m ← μ·m + η·λ·w, w ← w − m is the recurrence
    w_{t+1} = (1 + μ − ηλ)·w_t − μ·w_{t−1}, whose solutions are combinations of zᵗ. At μ = 0
    (plain gradient descent) the roots are 1 − ηλ and 0. A negative λ (a saddle's downhill
    direction) gives z² − (1 + μ + η|λ|)z + μ = 0, whose larger root is the escape factor.
    """
    b = 1 + momentum - lr * curvature
    return np.roots([1.0, -b, momentum]).astype(complex) if momentum else np.array([b, 0.0], dtype=complex)


def growth_factor(lr: float, momentum: float, curvature: float) -> float:
    """max |z| over ``heavy_ball_roots``: how much a direction of curvature λ shrinks (< 1) or grows per step."""
    return float(np.max(np.abs(heavy_ball_roots(lr, momentum, curvature))))


def _walk(lr: float, momentum: float, curvatures) -> str:
    """How (heavy-ball) gradient descent moves on a quadratic bowl with these curvatures along x and y."""
    roots = [heavy_ball_roots(lr, momentum, lam) for lam in curvatures]
    rate = max(float(np.max(np.abs(r))) for r in roots)
    if rate > 1 + 1e-12:
        return f"diverges (×{rate:.3g} per step)"
    if rate > 1 - 1e-12:
        return "never settles (×1 per step)"
    oscillates = [axis for axis, r in zip("xy", roots) if abs(r[0].imag) > 0]
    flips = [axis for axis, r in zip("xy", roots)
             if abs(r[0].imag) == 0 and r[np.argmax(np.abs(r))].real < 0 and axis not in oscillates]
    parts = []
    if flips:
        parts.append(f"zig-zags ({' and '.join(flips)} flips sign every step)")
    if len(oscillates) == 2:
        parts.append("overshoots and spirals in")
    elif oscillates:
        parts.append(f"overshoots along {oscillates[0]}")
    return f"{' and '.join(parts) or 'walks in without overshooting'}, ×{rate:.3g} per step"


def _describe_bowl(fn, sgd_lr, momentum_lr, mu) -> str:
    curvatures = np.diag(hessian(fn, fn.minima[0]))      # these two are x–y aligned: the diagonal
    lead = "a bowl" if fn.name == "quadratic" else "a narrow valley"
    return (f"{lead}, curvatures {curvatures[0]:.3g} and {curvatures[1]:.3g}: SGD (η = {sgd_lr:g}) "
            f"{_walk(sgd_lr, 0.0, curvatures)}; momentum (μ = {mu:g}, η = {momentum_lr:g}) "
            f"{_walk(momentum_lr, mu, curvatures)}")


def _describe_rosenbrock(fn, sgd_lr, momentum_lr, mu) -> str:
    steepest = float(np.linalg.eigvalsh(hessian(fn, fn.minima[0]))[-1])
    sgd_limit, momentum_limit = 2 / steepest, (2 + 2 * mu) / steepest

    def side(lr, limit):
        return "below" if lr < limit else "not below"
    return (f"a curved valley, minimum at (1, 1), curvature across it {steepest:.4g} there: SGD can converge "
            f"only for η < 2/λ = {sgd_limit:.4g} (η = {sgd_lr:g}: {side(sgd_lr, sgd_limit)}), momentum only for "
            f"η < (2 + 2μ)/λ = {momentum_limit:.4g} (μ = {mu:g}, η = {momentum_lr:g}: "
            f"{side(momentum_lr, momentum_limit)}); along the valley progress is slow")


def _describe_saddle(fn, sgd_lr, momentum_lr, mu) -> str:
    downhill = float(np.linalg.eigvalsh(hessian(fn, (0.0, 0.0)))[0])    # −1: the ridge's curvature along y
    return (f"a saddle at (0, 0) between minima (0, ±1): near the ridge y grows "
            f"×{growth_factor(sgd_lr, 0.0, downhill):.4g} per step with SGD (η = {sgd_lr:g}) and "
            f"×{growth_factor(momentum_lr, mu, downhill):.4g} with momentum (μ = {mu:g}, η = {momentum_lr:g}), "
            f"so a walker started next to it stalls, then escapes")


_DESCRIBERS = {"quadratic": _describe_bowl, "ravine": _describe_bowl, "rosenbrock": _describe_rosenbrock,
               "saddle": _describe_saddle}


def describe(landscape, momentum: Optional[float] = None, lr: Optional[float] = None) -> str:
    """What SGD and momentum do on `landscape`, computed for the hyperparameters actually used.

    `momentum` is μ of the momentum methods (default: Momentum's own, 0.9) and `lr` one
    learning rate for both (default: the landscape's rates for sgd and momentum), as
    ``run_trajectories`` takes them. The rates come from the linear recurrence of
    ``heavy_ball_roots`` at the landscape's curvatures. A landscape made elsewhere keeps its note.
    """
    fn = get_landscape(landscape)
    describer = _DESCRIBERS.get(fn.name)
    if describer is None or fn.name not in LANDSCAPES or LANDSCAPES[fn.name].f is not fn.f:
        return fn.note
    mu = inspect.signature(optim.Momentum).parameters["momentum"].default if momentum is None else momentum
    sgd_lr = fn.lr["sgd"] if lr is None else lr
    momentum_lr = fn.lr["momentum"] if lr is None else lr
    return describer(fn, sgd_lr, momentum_lr, mu)


def header(landscape, momentum: Optional[float] = None, lr: Optional[float] = None, width: int = 100) -> str:
    """The lines `edu landscape` prints above its table: name, formula and ``describe``, wrapped to `width`."""
    fn = get_landscape(landscape)
    text = f"{fn.name}: {fn.formula}   ({describe(fn, momentum=momentum, lr=lr)})"
    glued = text.replace(" = ", "\u00a0=\u00a0").replace(" < ", "\u00a0<\u00a0")   # keep "μ = 0.9" on one line
    return textwrap.fill(glued, width, subsequent_indent="  ", break_on_hyphens=False).replace("\u00a0", " ")


for _name, _fn in LANDSCAPES.items():        # each note says what to watch for at the defaults
    LANDSCAPES[_name] = dataclasses.replace(_fn, note=describe(_fn))


# ----- running an optimizer ----------------------------------------------------------

@dataclass
class Trajectory:
    """The path of one optimizer: path[t] is the point after t steps, loss[t] = f(path[t])."""
    landscape: str
    optimizer: str
    hyperparameters: dict
    path: np.ndarray             # (steps + 1, 2)
    loss: np.ndarray             # (steps + 1,)
    diverged_at: Optional[int] = None   # the step after which the point left every sane range
    minima: tuple = field(default=(), repr=False)

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]

    def distance(self) -> np.ndarray:
        """Distance from each point of the path to the nearest minimum (inf beyond float64's range)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.min([np.linalg.norm(self.path - np.asarray(m), axis=1) for m in self.minima], axis=0)

    def steps_to_reach(self, tol: float = 1e-2) -> Optional[int]:
        """The first step t at which the point is within `tol` of a minimum (None if never)."""
        hits = np.flatnonzero(self.distance() < tol)
        return int(hits[0]) if hits.size else None

    def sign_changes(self, coordinate: int, around: Optional[float] = None, steps: Optional[int] = None) -> int:
        """How many times coordinate (0 = x, 1 = y) crossed `around` (default: the first minimum's).

        A zig-zag across a valley flips the sign at every step; a damped path rarely.
        """
        centre = self.minima[0][coordinate] if around is None else around
        c = self.path[: None if steps is None else steps + 1, coordinate] - centre
        s = np.sign(c)
        s = s[s != 0]
        return int(np.count_nonzero(s[1:] != s[:-1]))

    def path_length(self) -> float:
        """Total length of the path's segments (inf when a diverged walk left float64's range)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.linalg.norm(np.diff(self.path, axis=0), axis=1).sum())


def _optimizer_class(name):
    return optim.get(name) if isinstance(name, str) else name


def _takes(cls, argument: str) -> bool:
    try:
        return argument in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def default_hyperparameters(landscape, optimizer: str) -> dict:
    """The default hyperparameters for `optimizer` on `landscape` (today: the learning rate)."""
    fn = get_landscape(landscape)
    cls = _optimizer_class(optimizer)
    if not _takes(cls, "lr"):
        return {}
    name = getattr(cls, "cli_name", "") or getattr(cls, "__name__", str(cls))
    if name in fn.lr:
        return {"lr": fn.lr[name]}
    default = inspect.signature(cls).parameters["lr"].default
    if default is inspect.Parameter.empty:
        raise ValueError(f"no default learning rate for {name!r} on {fn.name}; pass lr= (e.g. --lr 0.01)")
    return {"lr": default}


def trajectory_bytes(steps: int, trajectories: int = 1) -> int:
    """Memory of `trajectories` runs of `steps` steps: path (steps + 1, 2) and loss (steps + 1,), float64.

    One more run's worth is counted for the copy each run makes when it trims its arrays.
    """
    return (trajectories + 1) * 3 * FLOAT_BYTES * (int(steps) + 1)


def _check_steps(steps, trajectories: int, max_bytes: Optional[int]) -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps={steps!r} must be an integer >= 0")
    runs = f"{trajectories} trajectories" if trajectories > 1 else "a trajectory"
    check_bytes(trajectory_bytes(steps, trajectories), f"{runs} of {steps:,} steps", "use fewer steps (--steps)",
                max_bytes, TrajectoryError)


def _check_start(start, fn: Landscape) -> np.ndarray:
    start = np.asarray(fn.start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError(f"start={start.tolist()!r} must be two finite numbers (x, y)")
    if np.abs(start).max() > DIVERGED_BEYOND:
        raise ValueError(f"start=({start[0]:g}, {start[1]:g}) lies outside |x|, |y| <= {DIVERGED_BEYOND:g}, where a "
                         f"walk counts as diverged; start inside it, e.g. at {fn.name}'s own start "
                         f"({fn.start[0]:g}, {fn.start[1]:g})")
    return start


def run_trajectory(landscape, optimizer: str, steps: Optional[int] = None, start=None,
                   max_bytes: Optional[int] = None, **hyperparameters) -> Trajectory:
    """Run `optimizer` (a registry name, "package.module:Class", or a class) on `landscape`.

    Returns the path, starting at `start` (default: the landscape's), for `steps` steps
    (default: the landscape's). Hyperparameters not given take the landscape's defaults
    (see ``default_hyperparameters``). A walk that leaves every sane range (|x| or |y|
    > DIVERGED_BEYOND = 1e6, or a non-finite loss) stops there and records the step in
    ``diverged_at``; a start outside that range is refused. `steps` whose arrays would not
    fit the memory limit (`max_bytes`, see ``tinygrad_edu.limits``) are a TrajectoryError.
    """
    fn = get_landscape(landscape)
    steps = fn.steps if steps is None else steps
    _check_steps(steps, 1, max_bytes)
    start = _check_start(start, fn)
    cls = _optimizer_class(optimizer)
    hyper = {**default_hyperparameters(fn, cls), **hyperparameters}

    p = Tensor(start, requires_grad=True, name="(x, y)")
    opt = cls([p], **hyper)
    path = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    path[0] = p.data
    diverged_at = None
    last = steps
    # A step that overflows is not an error here: the walk is stopped and reported as diverged.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            opt.zero_grad()
            value = fn(p[0], p[1])
            loss[t] = value.item()
            value.backward()
            opt.step()
            path[t + 1] = p.data
            if not (np.isfinite(p.data).all() and np.abs(p.data).max() <= DIVERGED_BEYOND):
                diverged_at, last = t + 1, t + 1
                break
    loss[last] = fn.value(path[last])
    name = optimizer if isinstance(optimizer, str) else getattr(cls, "__name__", str(cls))
    return Trajectory(fn.name, name, hyper, path[: last + 1].copy(), loss[: last + 1].copy(), diverged_at, fn.minima)


def run_trajectories(landscape, optimizers, steps: Optional[int] = None, start=None, lr: Optional[float] = None,
                     momentum: Optional[float] = None, max_bytes: Optional[int] = None) -> list:
    """One Trajectory per optimizer name, from the same start.

    `lr` overrides every optimizer's default learning rate. `momentum` sets μ of the momentum
    methods: the optimizers whose `momentum` argument defaults to a non-zero value
    (momentum, nesterov, momentum-no-lr); plain sgd and rmsprop stay without momentum.
    Before any run, `steps` and `start` are checked: all the trajectories together must fit
    the memory limit (``trajectory_bytes``; `max_bytes`, see ``tinygrad_edu.limits``), else
    a TrajectoryError (a ValueError) says how much they would need.
    """
    optimizers = list(optimizers)
    fn = get_landscape(landscape)
    _check_steps(fn.steps if steps is None else steps, max(len(optimizers), 1), max_bytes)
    _check_start(start, fn)
    out = []
    for name in optimizers:
        cls = _optimizer_class(name)
        hyper = {}
        if lr is not None and _takes(cls, "lr"):
            hyper["lr"] = lr
        if momentum is not None and _takes(cls, "momentum"):
            default = inspect.signature(cls).parameters["momentum"].default
            if default not in (0, 0.0, inspect.Parameter.empty) and not (isinstance(default, float) and math.isnan(default)):
                hyper["momentum"] = momentum
        out.append(run_trajectory(fn, name, steps=steps, start=start, max_bytes=max_bytes, **hyper))
    return out


def format_trajectories(trajectories: list, tol: float = 1e-2) -> str:
    """A plain-text table: where each optimizer ended, how close, how fast, how much it zig-zagged."""
    if not trajectories:
        return ""
    fn = get_landscape(trajectories[0].landscape)
    f_min = min(fn.value(m) for m in fn.minima)
    header = ["optimizer", "hyperparameters", "final (x, y)", "f − f*", f"steps to within {tol:g}",
              "y sign changes", "path length"]
    rows = []
    for tr in trajectories:
        hyper = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}"
                          for k, v in tr.hyperparameters.items()) or "(defaults)"
        reach = tr.steps_to_reach(tol)
        if tr.diverged_at is not None:
            final, gap, reach_text = "diverged", "–", f"diverged at step {tr.diverged_at}"
        else:
            final = f"({tr.final[0]:+.4f}, {tr.final[1]:+.4f})"
            gap = f"{max(tr.loss[-1] - f_min, 0.0):.3g}"
            reach_text = "not within the run" if reach is None else f"step {reach}"
        rows.append([tr.optimizer, hyper, final, gap, reach_text, str(tr.sign_changes(1)), f"{tr.path_length():.3g}"])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
