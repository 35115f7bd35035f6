"""Explorers you can drag: sliders over a landscape, the ablation, and the heavy ball's stability map.

In a Jupyter notebook (``pip install ipywidgets``), end a cell with one of:

    from tinygrad_edu import explore
    explore.landscape("ravine")     # η, μ, the optimizer and the start point: the path redraws on the contours
    explore.ablation()              # μ, k and the form: the coasting displacement against its closed form
    explore.stability()             # the (ηλ, μ) map of where momentum converges, and x_t at the chosen point

Each returns an ``Explorer``, a small object that is easy to drive from code too:

    e = explore.stability(interactive=False)
    e.update(eta_lambda=3.0, momentum=0.5)     # what moving the sliders does: recompute, redraw
    e.data["spectral_radius"]                  # the plotted numbers (1.0 here: on the edge)
    e.figure                                   # the matplotlib Figure
    e.controls                                 # the widgets (live) or the plain values (static)

Without a kernel (a script, the tests, a notebook read on GitHub) or without ipywidgets, an
explorer is the static figure of its current values, and a notebook shows it as that image.
With live widgets, the saved output holds that image too, so the notebook still reads on GitHub.

ipywidgets is optional, so it is imported only when an explorer is made live.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import io
import math
import sys
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from . import optim
from .ablation import FORM_DESCRIPTIONS, FORMS, STOP_DEAD, coasting_factor, limit_text, make_problem
from .ablation import run as run_ablation
from .landscape import default_hyperparameters, get_landscape, grid, run_trajectory
from .tensor import Tensor
from .viz.experiment_plots import contour_levels
from .viz.plots import new_figure

__all__ = ["INSTALL_HINT", "Control", "Explorer", "LandscapeExplorer", "AblationExplorer", "StabilityExplorer",
           "landscape", "ablation", "stability", "landscape_optimizers", "momentum_parameter",
           "spectral_radius", "characteristic_roots", "heavy_ball_path"]

INSTALL_HINT = "pip install ipywidgets (or pip install 'tinygrad_edu[explore]')"


# ----- ipywidgets, when there is somewhere to show them ------------------------------------------

def _in_kernel() -> bool:
    """True inside a Jupyter kernel: the only place where widgets have a front end to talk to."""
    ipython = sys.modules.get("IPython")          # a kernel has always imported IPython already
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _widgets_module(interactive: Optional[bool]):
    """ipywidgets if the explorer is to be live (see ``Explorer`` for `interactive`), else None."""
    if interactive is not None and not isinstance(interactive, bool):
        raise ValueError(f"interactive={interactive!r} must be True, False or None (None: live in a notebook)")
    if interactive is False:
        return None
    try:
        widgets = importlib.import_module("ipywidgets")
    except ImportError:
        if interactive:
            raise ImportError(f"explore: interactive=True needs ipywidgets; {INSTALL_HINT}") from None
        return None
    if interactive is None and not _in_kernel():
        return None
    return widgets


# ----- one knob ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Control:
    """One knob of an explorer: a slider (``float``, ``log``: a log-scale float, ``int``) or a ``choice``.

    Values are checked here against the slider's range, because a slider would silently clamp
    a value outside it to the nearest end.
    """
    name: str                   # the keyword of ``Explorer.update``
    label: str                  # what the slider says
    kind: str                   # "float", "log", "int" or "choice"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01          # for "log": the step of the exponent
    options: tuple = ()

    @property
    def range(self) -> str:
        return f"{self.low:g} <= {self.name} <= {self.high:g}"

    def check(self, value):
        """`value` converted to this control's type, or a one-line ValueError saying what to use."""
        if self.kind == "choice":
            if value not in self.options:
                raise ValueError(f"{self.name}={value!r} is not offered here; choose from: "
                                 f"{', '.join(map(str, self.options))}")
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value):
            raise ValueError(f"{self.name}={value!r} must be a number; use {self.range}")
        if self.kind == "int" and not float(value).is_integer():
            raise ValueError(f"{self.name}={value!r} must be a whole number; use {self.range}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name}={value!r} is out of range; use {self.range}")
        return int(value) if self.kind == "int" else float(value)

    def make_widget(self, widgets, value):
        """The ipywidgets widget for this control, showing `value`."""
        if self.kind == "choice":
            return widgets.Dropdown(options=list(self.options), value=value, description=self.label)
        # Redraw when the slider is let go, not at every pixel of a drag: each redraw renders a PNG.
        common = {"value": value, "description": self.label, "continuous_update": False,
                  "style": {"description_width": "initial"}}
        if self.kind == "int":
            return widgets.IntSlider(min=int(self.low), max=int(self.high), step=int(self.step), **common)
        if self.kind == "log":
            return widgets.FloatLogSlider(base=10, min=math.log10(self.low), max=math.log10(self.high),
                                          step=self.step, readout_format=".3g", **common)
        return widgets.FloatSlider(min=self.low, max=self.high, step=self.step, readout_format=".3g", **common)


# ----- the explorer ---------------------------------------------------------------------------------

class Explorer:
    """A matplotlib figure with knobs.

    ``values``: the current value of every control. ``update(**values)``: set some of them
    (exactly what moving a slider does), recompute ``data`` and redraw ``figure``.
    ``controls``: the widgets when live, else the plain values. ``artists``: the figure's
    lines by name, to read what is drawn. ``widget``: the ipywidgets box, or None when static.

    ``interactive``: None (the default) is live in a Jupyter kernel with ipywidgets installed
    and static anywhere else; True is live even without a kernel (widgets work, nothing shows
    them); False is static. Subclasses define ``_make_figure``, ``_compute`` and ``_draw``.
    """

    dpi = 90

    def __init__(self, controls: Sequence[Control], values: dict, interactive: Optional[bool] = None):
        widgets = _widgets_module(interactive)
        self.spec = {c.name: c for c in controls}
        self.values = {name: c.check(values[name]) for name, c in self.spec.items()}
        self.figure, self.artists = self._make_figure()
        self.data: dict = {}
        self.widget = None
        self._widgets: dict = {}
        self._syncing = False
        self._refresh()
        if widgets is not None:
            self._build(widgets)

    # ----- what subclasses define -----------------------------------------------------------------
    def _make_figure(self):
        raise NotImplementedError

    def _compute(self, values: dict) -> dict:
        raise NotImplementedError

    def _draw(self, data: dict) -> None:
        raise NotImplementedError

    def _settle(self, old: dict, new: dict, given: set) -> dict:
        """The values after an update: controls that follow others change here (default: none)."""
        return new

    def _inactive(self) -> set:
        """Names of the controls that do nothing at the current values (their sliders are greyed out)."""
        return set()

    # ----- the public side ------------------------------------------------------------------------
    @property
    def controls(self) -> dict:
        return dict(self._widgets) if self.widget is not None else dict(self.values)

    @property
    def interactive(self) -> bool:
        return self.widget is not None

    def update(self, **values) -> None:
        """Set controls by name (as the sliders do), then recompute ``data`` and redraw ``figure``."""
        unknown = [name for name in values if name not in self.spec]
        if unknown:
            raise ValueError(f"{type(self).__name__}.update: unknown control {unknown[0]!r}; "
                             f"the controls are {', '.join(self.spec)}")
        new = dict(self.values)
        for name, value in values.items():
            new[name] = self.spec[name].check(value)
        self.values = self._settle(dict(self.values), new, set(values))
        self._sync_widgets()
        self._refresh()

    def png(self) -> bytes:
        """The figure as PNG bytes, as a notebook shows it."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi, metadata={"Software": None})
        return buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        if self.widget is None:
            return {"text/plain": repr(self), "image/png": self.png()}
        # A live front end shows the widget; a notebook read on GitHub shows the picture it holds.
        # (The widget view is written out as Jupyter's widget protocol 2 has it: ipywidgets 7 has no
        # _repr_mimebundle_ to ask.)
        view = {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}
        return {"text/plain": repr(self), "image/png": bytes(self._image.value),
                "application/vnd.jupyter.widget-view+json": view}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in self.values.items())
        return f"<{type(self).__name__} {shown}: {self.data.get('status', '')}>"

    # ----- machinery --------------------------------------------------------------------------------
    def _refresh(self) -> None:
        self.data = self._compute(dict(self.values))
        self._draw(self.data)
        if self.widget is not None:
            self._image.value = self.png()
            self._status.value = self.data["status"]
            self._grey_out()

    def _build(self, widgets) -> None:
        self._widgets = {name: c.make_widget(widgets, self.values[name]) for name, c in self.spec.items()}
        for name, w in self._widgets.items():
            w.observe(functools.partial(self._on_widget, name), names="value")
        self._status = widgets.Label(value=self.data["status"])
        self._image = widgets.Image(value=self.png(), format="png")
        knobs = widgets.HBox(list(self._widgets.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([knobs, self._status, self._image])
        self._grey_out()

    def _on_widget(self, name: str, change: dict) -> None:
        if not self._syncing:            # not an echo of update() setting the widget itself
            self.update(**{name: change["new"]})

    def _sync_widgets(self) -> None:
        self._syncing = True
        try:
            for name, w in self._widgets.items():
                if w.value != self.values[name]:
                    w.value = self.values[name]
        finally:
            self._syncing = False

    def _grey_out(self) -> None:
        inactive = self._inactive()
        for name, w in self._widgets.items():
            w.disabled = name in inactive


def _check_whole(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} must be a whole number >= {low}")
    return int(value)


def _check_positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a number > 0")
    return float(value)


# ----- 1. optimizers on a 2-D landscape ----------------------------------------------------------

def momentum_parameter(optimizer) -> Optional[str]:
    """The hyperparameter that plays μ in `optimizer` (a name or a class): momentum, beta, betas (β₁), or None."""
    parameters = inspect.signature(optim.get(optimizer)).parameters
    return next((name for name in ("momentum", "beta", "betas") if name in parameters), None)


def _default_momentum(optimizer) -> float:
    name = momentum_parameter(optimizer)
    if name is None:
        return 0.0
    default = inspect.signature(optim.get(optimizer)).parameters[name].default
    return float(default[0] if name == "betas" else default)


def landscape_optimizers(function="ravine") -> tuple:
    """The registry names the landscape explorer offers: those the landscape has a learning rate for.

    (``momentum-no-lr`` is left out: its learning rate leaves after one step; ``explore.ablation``
    is its explorer.)
    """
    fn = get_landscape(function)
    return tuple(name for name in optim.names() if name in fn.lr and name != "momentum-no-lr")


class LandscapeExplorer(Explorer):
    """One optimizer's path over a landscape's contours, and f − f* along it.

    Choosing another optimizer resets η and μ to that optimizer's defaults on this landscape
    (unless the same update sets them). μ sets the hyperparameter that plays momentum's role
    (``momentum_parameter``: SGD's and RMSprop's momentum, EMAMomentum's β, Adam's β₁); Adagrad has none.
    """

    def __init__(self, function="ravine", optimizer: str = "momentum", lr: Optional[float] = None,
                 momentum: Optional[float] = None, start=None, steps: Optional[int] = None,
                 optimizers: Optional[Sequence[str]] = None, interactive: Optional[bool] = None):
        fn = self.landscape = get_landscape(function)
        names = landscape_optimizers(fn) if optimizers is None else tuple(optimizers)
        for name in names:               # an unfit name is a one-line error now, not at the first redraw
            if "lr" not in inspect.signature(optim.get(name)).parameters:
                raise ValueError(f"optimizer {name!r} takes no lr, so the η slider cannot drive it; "
                                 f"leave it out of optimizers=")
        if optimizer not in names:
            raise ValueError(f"optimizer={optimizer!r} is not offered here; choose from: {', '.join(names)}")
        start = fn.start if start is None else start
        if np.shape(start) != (2,):
            raise ValueError(f"start={start!r} must be two numbers (x, y)")
        controls = (
            Control("optimizer", "optimizer", "choice", options=names),
            Control("lr", "η (lr)", "log", 1e-4, 10.0, 0.05),
            Control("momentum", "μ", "float", 0.0, 0.99, 0.01),
            Control("x", "start x", "float", *fn.xlim, 0.01),
            Control("y", "start y", "float", *fn.ylim, 0.01),
            Control("steps", "steps", "int", 1, 4 * fn.steps, 1),
        )
        values = {"optimizer": optimizer, "lr": self._default_lr(optimizer) if lr is None else lr,
                  "momentum": _default_momentum(optimizer) if momentum is None else momentum,
                  "x": start[0], "y": start[1], "steps": fn.steps if steps is None else steps}
        super().__init__(controls, values, interactive)

    def _default_lr(self, optimizer: str) -> float:
        return default_hyperparameters(self.landscape, optimizer)["lr"]

    def hyperparameters(self, values: Optional[dict] = None) -> dict:
        """The keyword arguments the optimizer gets for `values` (default: the current ones)."""
        v = self.values if values is None else values
        name = v["optimizer"]
        hyper = {"lr": v["lr"]}
        mu = momentum_parameter(name)
        if mu == "betas":
            beta2 = inspect.signature(optim.get(name)).parameters["betas"].default[1]
            hyper["betas"] = (v["momentum"], beta2)
        elif mu is not None:
            hyper[mu] = v["momentum"]
        return hyper

    def _settle(self, old, new, given):
        if new["optimizer"] != old["optimizer"]:
            if "lr" not in given:
                new["lr"] = self._default_lr(new["optimizer"])
            if "momentum" not in given:
                new["momentum"] = _default_momentum(new["optimizer"])
        return new

    def _inactive(self):
        return set() if momentum_parameter(self.values["optimizer"]) else {"momentum"}

    def _make_figure(self):
        fn = self.landscape
        fig, (ax, ax_gap) = new_figure(ncols=2, width=5.0, height=4.0)
        X, Y, Z = grid(fn, n=160)
        ax.contour(X, Y, Z, levels=contour_levels(Z), colors="0.75", linewidths=0.6, negative_linestyles="solid")
        for m in fn.minima:
            ax.plot(m[0], m[1], "*", color="k", markersize=10, zorder=3)
        path, = ax.plot([], [], "-o", color="C0", markersize=2.2, linewidth=1.0, gid="path")
        start, = ax.plot([], [], "ko", markersize=5, gid="start")
        ax.set(xlim=fn.xlim, ylim=fn.ylim, xlabel="x", ylabel="y")
        ax.set_title(f"{fn.name}: {fn.formula}", fontsize=10)
        gap, = ax_gap.plot([], [], color="C0", linewidth=1.2, gid="gap")
        ax_gap.set_yscale("log")
        ax_gap.set(xlabel="step", ylabel="f − f*")
        ax_gap.set_title("f − f* along the path", fontsize=10)
        ax_gap.grid(True, alpha=0.3)
        title = fig.suptitle("", fontsize=10)
        return fig, {"path": path, "start": start, "gap": gap, "title": title}

    def _compute(self, v):
        fn = self.landscape
        hyper = self.hyperparameters(v)
        tr = run_trajectory(fn, v["optimizer"], steps=v["steps"], start=(v["x"], v["y"]), **hyper)
        gap = tr.loss - min(fn.value(m) for m in fn.minima)
        shown = ", ".join(f"{k}={x:g}" if isinstance(x, float) else f"{k}=({x[0]:g}, {x[1]:g})"
                          for k, x in hyper.items())
        if tr.diverged_at is not None:
            outcome = f"diverged at step {tr.diverged_at}"
        else:
            reach = tr.steps_to_reach(1e-2)
            near = "never within 0.01 of a minimum" if reach is None else f"within 0.01 of a minimum at step {reach}"
            outcome = f"f − f* = {gap[-1]:.2g} after {tr.steps} steps; {near}"
        return {"path": tr.path, "loss": tr.loss, "gap": gap, "trajectory": tr, "hyperparameters": hyper,
                "status": f"{v['optimizer']} ({shown}): {outcome}"}

    def _draw(self, data):
        a = self.artists
        path = data["path"]
        a["path"].set_data(path[:, 0], path[:, 1])
        a["start"].set_data(path[:1, 0], path[:1, 1])
        a["gap"].set_data(np.arange(len(path)), np.maximum(data["gap"], 1e-16))   # log axis: 0 is drawn at 1e-16
        ax_gap = a["gap"].axes
        ax_gap.relim()
        ax_gap.autoscale_view()
        a["title"].set_text(data["status"])


def landscape(function="ravine", optimizer: str = "momentum", lr: Optional[float] = None,
              momentum: Optional[float] = None, start=None, steps: Optional[int] = None,
              optimizers: Optional[Sequence[str]] = None, interactive: Optional[bool] = None) -> LandscapeExplorer:
    """Sliders for η, μ, the optimizer and the start point; the path redraws on the contours.

    In a notebook: ``explore.landscape("ravine")`` as the last line of a cell.
    `function` is a name of ``tinygrad_edu.landscape`` (quadratic, ravine, rosenbrock, saddle);
    `lr`, `momentum`, `start` and `steps` default to the landscape's own; `optimizers` limits the
    dropdown (default: ``landscape_optimizers(function)``). See ``Explorer`` for `interactive`.
    """
    return LandscapeExplorer(function, optimizer, lr, momentum, start, steps, optimizers, interactive)


# ----- 2. momentum without a learning rate ---------------------------------------------------------

class AblationExplorer(Explorer):
    """Train k steps with the learning rate, remove it, and watch the weights coast or stop.

    Left: how far the weights move after the removal, |w_{k+j} − w_k| (dots), on the closed form
    (line): Δw·μ(1 − μʲ)/(1 − μ) for lr-inside (j·Δw at μ = 1), 0 for pytorch and ema, which stop
    dead. Δw is the last step the gradient drove. Right: the loss, with the learning rate removed
    and kept. pytorch and ema refuse μ >= 1; the figure then says so.
    """

    def __init__(self, form: str = "lr-inside", momentum: float = 0.9, k: int = 20, steps: int = 60,
                 lr: float = 0.005, seed: int = 0, dataset: str = "moons", interactive: Optional[bool] = None):
        self.steps = _check_whole(steps, "steps", 1)
        self.lr = _check_positive(lr, "lr")
        self.seed = _check_whole(seed, "seed", 0)
        self.problem = make_problem(dataset, self.seed)
        controls = (
            Control("form", "form", "choice", options=FORMS),
            Control("momentum", "μ", "float", 0.0, 1.05, 0.01),
            Control("k", "k (steps with η)", "int", 1, 100, 1),
        )
        super().__init__(controls, {"form": form, "momentum": momentum, "k": k}, interactive)

    def _make_figure(self):
        fig, (ax, ax_loss) = new_figure(ncols=2, width=5.0, height=3.8)
        closed, = ax.plot([], [], "-", color="C0", linewidth=1.4, gid="closed_form")
        measured, = ax.plot([], [], "o", color="C1", markersize=3.5, markerfacecolor="none", gid="measured",
                            label="measured")
        ax.set(xlabel="j: steps since the learning rate was removed", ylabel=r"$|w_{k+j} - w_k|$")
        ax.grid(True, alpha=0.3)
        message = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", wrap=True, fontsize=9,
                          gid="message")
        removed, = ax_loss.plot([], [], color="C0", linewidth=1.2, gid="loss_removed", label="lr removed after k")
        kept, = ax_loss.plot([], [], color="0.4", linestyle="--", linewidth=1.0, gid="loss_kept", label="lr kept")
        removal = ax_loss.axvline(0, color="0.4", linewidth=0.8, linestyle=":", gid="removal")
        ax_loss.set(xlabel="step", ylabel="loss")
        ax_loss.set_title(f"full-batch cross-entropy, {self.problem.name}, η = {self.lr:g}", fontsize=9)
        ax_loss.legend(fontsize=8)
        ax_loss.grid(True, alpha=0.3)
        title = fig.suptitle("", fontsize=10)
        return fig, {"closed_form": closed, "measured": measured, "loss_removed": removed, "loss_kept": kept,
                     "removal": removal, "message": message, "title": title}

    def _compute(self, v):
        form, mu, k, n = v["form"], v["momentum"], v["k"], self.steps
        j = np.arange(n + 1)
        data = {"j": j, "k": k, "form": form, "momentum": mu, "refused": ""}
        try:
            removed = run_ablation(form, mu, self.lr, k, n, self.seed, self.problem, self.problem, remove=True)
            kept = run_ablation(form, mu, self.lr, k, n, self.seed, self.problem, self.problem, remove=False)
        except optim.HyperparameterError as exc:
            message = str(exc).splitlines()[0]
            empty = np.full(n + 1, np.nan)
            return {**data, "refused": f"refused by the optimizer:\n{message}\n(only lr-inside takes μ >= 1)",
                    "measured": empty, "predicted": empty, "loss_removed": np.full(k + n + 1, np.nan),
                    "loss_kept": np.full(k + n + 1, np.nan),
                    "status": f"{FORM_DESCRIPTIONS[form]}; μ = {mu:g}: refused"}
        w = removed.weights
        last_update = w[k] - w[k - 1]
        if form == "lr-inside":
            factor = np.array([coasting_factor(mu, int(x)) for x in j])
            limit = limit_text(mu)
        else:
            factor = np.zeros(n + 1)
            limit = STOP_DEAD[form]
        displacement = w[k:] - w[k]
        predicted = factor[:, None] * last_update
        return {**data, "last_update": last_update, "displacement": displacement,
                "predicted_displacement": predicted, "measured": np.linalg.norm(displacement, axis=1),
                "predicted": np.linalg.norm(last_update) * np.abs(factor),
                "loss_removed": removed.loss, "loss_kept": kept.loss,
                "status": f"{FORM_DESCRIPTIONS[form]}; μ = {mu:g}, k = {k}: {limit}"}

    def _draw(self, data):
        a = self.artists
        j = data["j"]
        a["closed_form"].set_data(j, data["predicted"])
        a["measured"].set_data(j, data["measured"])
        if data["form"] == "lr-inside":
            label = "closed form |Δw|·μ(1 − μʲ)/(1 − μ)" if data["momentum"] != 1 else "closed form j·|Δw|"
        else:
            label = "closed form: 0 (stops dead)"
        a["closed_form"].set_label(label)
        ax = a["closed_form"].axes
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("after the removal", fontsize=9)
        a["message"].set_text(data["refused"])
        steps = np.arange(len(data["loss_removed"]))
        a["loss_removed"].set_data(steps, data["loss_removed"])
        a["loss_kept"].set_data(steps, data["loss_kept"])
        a["removal"].set_xdata([data["k"], data["k"]])
        ax_loss = a["loss_removed"].axes
        if data["refused"]:          # nothing to autoscale to: keep the axes still, over the steps
            ax.set(xlim=(0, len(j) - 1), ylim=(0, 1))
            ax_loss.set(xlim=(0, len(steps) - 1), ylim=(0, 1))
        else:
            for axes in (ax, ax_loss):
                axes.set_autoscale_on(True)
                axes.relim()
                axes.autoscale_view()
        a["title"].set_text(data["status"])


def ablation(form: str = "lr-inside", momentum: float = 0.9, k: int = 20, steps: int = 60, lr: float = 0.005,
             seed: int = 0, dataset: str = "moons", interactive: Optional[bool] = None) -> AblationExplorer:
    """Sliders for μ, k (steps with the learning rate) and the form; coasting against its closed form.

    In a notebook: ``explore.ablation()`` as the last line of a cell.
    The network and data are ``tinygrad_edu.ablation``'s (a 2-8-2 tanh MLP, by default on 150 moons points);
    `steps` is how many steps follow the removal. See ``Explorer`` for `interactive`.
    """
    return AblationExplorer(form, momentum, k, steps, lr, seed, dataset, interactive)


# ----- 3. where the heavy ball converges -------------------------------------------------------------

def characteristic_roots(eta_lambda, momentum) -> np.ndarray:
    """The two roots of z² − (1 + μ − ηλ)z + μ = 0, as complex numbers (the larger |z| first)."""
    b = 1 + momentum - eta_lambda
    root = np.sqrt(complex(b * b - 4 * momentum))
    z = np.array([(b + root) / 2, (b - root) / 2])
    return z[np.argsort(-np.abs(z), kind="stable")]


def spectral_radius(eta_lambda, momentum):
    """ρ, the largest |root| of z² − (1 + μ − ηλ)z + μ = 0: x_t shrinks (ρ < 1) or grows (ρ > 1) like ρᵗ.

    Momentum(lr=η, momentum=μ) on f = ½λx² is x_{t+1} = (1 + μ − ηλ)x_t − μx_{t−1}, whose solutions
    are x_t = c₁z₁ᵗ + c₂z₂ᵗ ((c₁ + c₂t)zᵗ at a double root). Complex roots are a conjugate pair:
    ρ = √μ. Real roots: ρ = (|b| + √(b² − 4μ))/2, with b = 1 + μ − ηλ. It converges (ρ < 1)
    exactly when 0 < ηλ < 2 + 2μ and μ < 1. Works on arrays.
    """
    a, mu = np.asarray(eta_lambda, dtype=np.float64), np.asarray(momentum, dtype=np.float64)
    b = 1 + mu - a
    disc = b * b - 4 * mu
    real = (np.abs(b) + np.sqrt(np.maximum(disc, 0.0))) / 2
    return np.where(disc < 0, np.sqrt(np.maximum(mu, 0.0)), real)


def heavy_ball_path(eta_lambda: float, momentum: float, steps: int, curvature: float = 1.0,
                    x0: float = 1.0) -> np.ndarray:
    """x_0 … x_steps of ``optim.Momentum(lr=ηλ/λ, momentum=μ)`` on f = ½λx², run by the engine."""
    x = Tensor([float(x0)], requires_grad=True, name="x")
    opt = optim.Momentum([x], lr=eta_lambda / curvature, momentum=momentum)
    path = np.empty(steps + 1)
    path[0] = x.data[0]
    for t in range(steps):
        opt.zero_grad()
        (0.5 * curvature * x * x).sum().backward()
        opt.step()
        path[t + 1] = x.data[0]
    return path


def _regime(eta_lambda: float, momentum: float, rho: float) -> str:
    b = 1 + momentum - eta_lambda
    disc = b * b - 4 * momentum
    if abs(rho - 1) < 1e-12:
        return "on the edge: |x| neither grows nor shrinks"
    if rho > 1:
        return "diverges: |x| grows like ρᵗ"
    if abs(disc) < 1e-12:
        return "critically damped: a double root"
    if disc < 0:
        return "oscillates: complex roots, ρ = √μ"
    if b < 0:
        return "flips sign every step: real roots, the larger one negative"
    return "creeps in without overshooting: real positive roots"


class StabilityExplorer(Explorer):
    """The map of ρ over (ηλ, μ) with the chosen point marked, and that point's trajectory x_t beside it."""

    A_MAX = 4.5                  # the map spans 0 <= ηλ <= 4.5 and 0 <= μ <= 1

    def __init__(self, eta_lambda: float = 1.0, momentum: float = 0.9, steps: int = 60, curvature: float = 1.0,
                 x0: float = 1.0, interactive: Optional[bool] = None):
        self.curvature = _check_positive(curvature, "curvature")
        if isinstance(x0, bool) or not isinstance(x0, (int, float, np.integer, np.floating)) \
                or not math.isfinite(x0) or x0 == 0:
            raise ValueError(f"x0={x0!r} must be a non-zero number (at x0 = 0 nothing moves)")
        self.x0 = float(x0)
        a_grid, mu_grid = np.linspace(0.0, self.A_MAX, 181), np.linspace(0.0, 1.0, 101)
        A, M = np.meshgrid(a_grid, mu_grid)
        self.map = {"eta_lambda": A, "momentum": M, "spectral_radius": spectral_radius(A, M)}
        controls = (
            Control("eta_lambda", "ηλ", "float", 0.01, self.A_MAX, 0.01),   # ηλ = 0: no step, lr = 0 is refused
            Control("momentum", "μ", "float", 0.0, 0.99, 0.01),
            Control("steps", "steps", "int", 1, 200, 1),
        )
        super().__init__(controls, {"eta_lambda": eta_lambda, "momentum": momentum, "steps": steps}, interactive)

    def _make_figure(self):
        fig, (ax, ax_x) = new_figure(ncols=2, width=5.0, height=4.0)
        m = self.map
        image = ax.pcolormesh(m["eta_lambda"], m["momentum"], np.minimum(m["spectral_radius"], 1.05),
                              shading="nearest", cmap="viridis", vmin=0.0, vmax=1.05)
        fig.colorbar(image, ax=ax, label="ρ, the largest |root| (capped at 1.05)")
        mu = np.linspace(0.0, 1.0, 201)
        ax.plot(2 + 2 * mu, mu, "r-", linewidth=2, label="edge ηλ = 2 + 2μ")
        ax.plot((1 - np.sqrt(mu)) ** 2, mu, "w--", linewidth=1.0, label="double root ηλ = (1 ± √μ)²")
        ax.plot((1 + np.sqrt(mu)) ** 2, mu, "w--", linewidth=1.0)
        point, = ax.plot([], [], "o", color="w", markeredgecolor="r", markeredgewidth=2, markersize=10, gid="point")
        ax.set(xlabel="ηλ", ylabel="μ (momentum)", xlim=(0.0, self.A_MAX), ylim=(0.0, 1.0))
        ax.set_title("momentum on f = ½λx²: converges where ρ < 1", fontsize=10)
        ax.legend(fontsize=7, loc="lower right", facecolor="0.35", labelcolor="white")
        x, = ax_x.plot([], [], "-o", color="C0", markersize=2.5, linewidth=1.0, gid="trajectory", label="x_t")
        upper, = ax_x.plot([], [], "--", color="0.5", linewidth=0.9, gid="envelope", label="±|x₀|·ρᵗ")
        lower, = ax_x.plot([], [], "--", color="0.5", linewidth=0.9, gid="envelope_lower")
        ax_x.axhline(0.0, color="0.7", linewidth=0.6)
        ax_x.set(xlabel="step t", ylabel="x_t")
        ax_x.legend(fontsize=8, loc="upper right")
        ax_x.grid(True, alpha=0.3)
        title = fig.suptitle("", fontsize=10)
        return fig, {"point": point, "trajectory": x, "envelope": upper, "envelope_lower": lower, "title": title}

    def _compute(self, v):
        a, mu, n = v["eta_lambda"], v["momentum"], v["steps"]
        rho = float(spectral_radius(a, mu))
        t = np.arange(n + 1)
        x = heavy_ball_path(a, mu, n, self.curvature, self.x0)
        envelope = abs(self.x0) * rho ** t
        regime = _regime(a, mu, rho)
        return {"eta_lambda": a, "momentum": mu, "spectral_radius": rho, "roots": characteristic_roots(a, mu),
                "regime": regime, "t": t, "x": x, "envelope": envelope,
                "status": f"ηλ = {a:g}, μ = {mu:g}: ρ = {rho:.4f}, {regime}"}

    def _draw(self, data):
        a = self.artists
        a["point"].set_data([data["eta_lambda"]], [data["momentum"]])
        t = data["t"]
        a["trajectory"].set_data(t, data["x"])
        a["envelope"].set_data(t, data["envelope"])
        a["envelope_lower"].set_data(t, -data["envelope"])
        ax = a["trajectory"].axes
        # Growing paths reach 1e100: a symmetric log axis still shows their sign and their rate.
        if np.max(np.abs(data["x"])) > 10 * abs(self.x0):
            ax.set_yscale("symlog", linthresh=abs(self.x0))
        else:
            ax.set_yscale("linear")
        ax.relim()
        ax.autoscale_view()
        a["title"].set_text(data["status"])


def stability(eta_lambda: float = 1.0, momentum: float = 0.9, steps: int = 60, curvature: float = 1.0,
              x0: float = 1.0, interactive: Optional[bool] = None) -> StabilityExplorer:
    """Sliders for ηλ and μ over the map of momentum's stability; x_t at the chosen point beside it.

    In a notebook: ``explore.stability()`` as the last line of a cell.
    The trajectory is ``optim.Momentum(lr=ηλ/λ, momentum=μ)`` on f = ½λx² (λ = `curvature`) from `x0`;
    the map is ``spectral_radius``. See ``Explorer`` for `interactive`.
    """
    return StabilityExplorer(eta_lambda, momentum, steps, curvature, x0, interactive)
