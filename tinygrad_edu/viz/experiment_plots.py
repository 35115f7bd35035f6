"""Figures for `edu ablate` (momentum without a learning rate) and `edu landscape` (2-D paths).

Like ``plots.py``, figures are made with matplotlib's object API (no pyplot, no window), and
matplotlib is imported only inside the functions. Save them with ``plots.save_figure``
(PNG or SVG by the extension, written atomically).

>>> fig = ablation_figure(ablation.run_experiment())
>>> save_figure(fig, "ablation.png")
>>> fig = landscape_figure("ravine", landscape.run_trajectories("ravine", ["sgd", "momentum"]))
"""
from __future__ import annotations

import numpy as np

from ..ablation import coasting_factor, proof_momentum
from ..landscape import get_landscape, grid
from .plots import new_figure, save_figure

__all__ = ["ablation_figure", "landscape_figure", "save_figure"]

_FORM_STYLE = {"lr-inside": "-", "pytorch": "--", "ema": ":"}


def _vline(ax, k: int) -> None:
    ax.axvline(k, color="0.4", linewidth=0.8, linestyle=":")


def _panel_displacement(ax, coasting) -> None:
    """Measured |w_{k+j} − w_k| (dots) on the closed form |Δw|·|μ(1 − μʲ)/(1 − μ)| (line)."""
    for i, row in enumerate(r for r in coasting.rows if r.form == "lr-inside" and r.allowed):
        trace = coasting.traces[("lr-inside", row.momentum)]["removed"]
        k, n = row.k, row.steps
        j = np.arange(1, n + 1)
        measured = np.linalg.norm(trace.weights[k + 1:k + n + 1] - trace.weights[k], axis=1)
        predicted = row.last_update * np.array([abs(coasting_factor(row.momentum, int(x))) for x in j])
        color = f"C{i}"
        ax.plot(j, predicted, color=color, linewidth=1.2, label=f"μ = {row.momentum:g}")
        every = max(1, n // 15)
        ax.plot(j[::every], measured[::every], "o", color=color, markersize=3.5, markerfacecolor="none")
    ax.set_yscale("log")
    ax.set_xlabel("steps since the learning rate was removed")
    ax.set_ylabel("|w − w_k|")
    ax.set_title("lr-inside coasts: measured (o) = Δw·μ(1−μⁿ)/(1−μ) (line)", fontsize=9)
    ax.legend(fontsize=7)


def _panel_loss(ax, coasting) -> None:
    """Each μ's loss with the learning rate removed at step k (solid) and kept (dashed), in one colour."""
    k = coasting.settings["k"]
    rows = [r for r in coasting.rows if r.form == "lr-inside" and r.allowed]
    for i, row in enumerate(rows):
        traces = coasting.traces[("lr-inside", row.momentum)]
        ax.plot(traces["removed"].loss, color=f"C{i}", linewidth=1.2, label=f"μ = {row.momentum:g}")
        ax.plot(traces["kept"].loss, color=f"C{i}", linestyle="--", linewidth=0.9)
    _vline(ax, k)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("lr removed (solid): the loss may still fall, then stalls or rises;\n"
                 "lr kept (dashed): it need not keep falling either", fontsize=8.5)
    ax.legend(fontsize=7)


def _panel_cosine(ax, coasting) -> None:
    k = coasting.settings["k"]
    rows = [r for r in coasting.rows if r.form == "lr-inside" and r.allowed]
    for i, row in enumerate(rows):
        trace = coasting.traces[("lr-inside", row.momentum)]["removed"]
        ax.plot(np.arange(1, trace.steps + 1), trace.cosine, color=f"C{i}", linewidth=1, label=f"μ = {row.momentum:g}")
    if rows:
        mu = proof_momentum(coasting.settings["momenta"])
        other = coasting.traces[("lr-inside", mu)]["other"]
        t = np.arange(k + 1, other.steps + 1)
        ax.plot(t, other.cosine[k:], color="k", linestyle="--", linewidth=1,
                label=f"μ = {mu:g}: same updates vs −∇L on {coasting.settings['other_dataset']}")
    _vline(ax, k)
    ax.axhline(0, color="0.7", linewidth=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("step")
    ax.set_ylabel("cos(update, −∇L)")
    ax.set_title("cos ≈ 1 while the gradient drives the update;\nafterwards, whatever the frozen direction gives",
                 fontsize=8.5)
    ax.legend(fontsize=6.5, loc="lower left")


def _panel_forms(ax, coasting) -> None:
    k = coasting.settings["k"]
    mu = proof_momentum(coasting.settings["momenta"])
    for form in coasting.settings["forms"]:
        traces = coasting.traces.get((form, mu))
        if traces is None:
            continue
        w = traces["removed"].weights
        ax.plot(np.linalg.norm(w - w[0], axis=1), linestyle=_FORM_STYLE.get(form, "-"), linewidth=1.5,
                label={"lr-inside": "lr-inside (Momentum): coasts", "pytorch": "pytorch (SGD): stops dead",
                       "ema": "ema (EMAMomentum): stops dead"}.get(form, form))
    _vline(ax, k)
    ax.set_xlabel("step")
    ax.set_ylabel("|w − w₀|")
    ax.set_title(f"learning rate removed at step {k} (μ = {mu:g}): coast or stop", fontsize=9)
    ax.legend(fontsize=7)


def _panel_scale_loss(ax, scale) -> None:
    scales = scale.settings["scales"]
    for i, s in enumerate(scales):
        for row in (r for r in scale.rows if r.scale == s):
            loss = scale.curves[(s, row.alpha)]
            label = f"×{s:g}, α = 1 ({row.verdict})" if not row.tuned else f"×{s:g}, tuned α = {row.alpha:g}"
            ax.plot(loss, color=f"C{i}", linestyle="--" if row.tuned else "-", linewidth=1.2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (unscaled)")
    ax.set_title(f"EMA momentum (β = {scale.settings['beta']}) on the loss × scale (tuned runs coincide)",
                 fontsize=9)
    ax.legend(fontsize=6.5)


def _panel_scale_bound(ax, scale) -> None:
    rows = [r for r in scale.rows if not r.tuned]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r.max_gradient for r in rows], width=0.4, color="C7", label="largest |∇| seen")
    ax.bar(x + 0.2, [r.max_step for r in rows], width=0.4, color="C0", label="largest step |Δw| = |v| (α = 1)")
    ax.set_xticks(x, [f"loss ×{r.scale:g}" for r in rows])
    ax.set_yscale("log")
    ax.set_title("α = 1: the step never exceeds the gradient; the loss's scale sets it", fontsize=9)
    ax.legend(fontsize=7)


def ablation_figure(experiment):
    """Six panels: coasting vs the closed form, the loss with the lr removed and kept, the cosine, the three
    forms, and the EMA loss-scale test (part 2; only when the experiment ran the ema form)."""
    fig, axes = new_figure(ncols=3, nrows=2, width=5.0, height=3.8)
    coasting = experiment.coasting
    if any(r.form == "lr-inside" and r.allowed for r in coasting.rows):
        _panel_displacement(axes[0, 0], coasting)
        _panel_loss(axes[0, 1], coasting)
        _panel_cosine(axes[0, 2], coasting)
    else:
        for ax in axes[0]:
            ax.text(0.5, 0.5, "run with --form lr-inside or all\nto see the coasting", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
    _panel_forms(axes[1, 0], coasting)
    if experiment.scale is not None:
        _panel_scale_loss(axes[1, 1], experiment.scale)
        _panel_scale_bound(axes[1, 2], experiment.scale)
    else:
        for ax in axes[1, 1:]:
            ax.text(0.5, 0.5, "run with --form ema or all\nto see α = 1 in the EMA form", ha="center", va="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
    fig.suptitle("Momentum without a learning rate", fontsize=11)
    return fig


def contour_levels(Z: np.ndarray, count: int = 24) -> np.ndarray:
    """Contour levels spaced geometrically above the minimum: fine near it, coarse far away."""
    low, high = float(np.min(Z)), float(np.max(Z))
    span = max(high - low, 1e-12)
    return low + span * np.geomspace(1e-4, 1.0, count)


def landscape_figure(landscape, trajectories, title: str | None = None):
    """The landscape's contours with each optimizer's path, and f − f* along each path."""
    fn = get_landscape(landscape)
    fig, (ax, ax_loss) = new_figure(ncols=2, width=5.2, height=4.2)
    X, Y, Z = grid(fn, n=240)
    ax.contour(X, Y, Z, levels=contour_levels(Z), colors="0.75", linewidths=0.6, negative_linestyles="solid")
    f_min = min(fn.value(m) for m in fn.minima)
    for i, tr in enumerate(trajectories):
        hyper = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in tr.hyperparameters.items())
        label = f"{tr.optimizer} ({hyper})" + (" — diverged" if tr.diverged_at is not None else "")
        color = f"C{i}"
        ax.plot(tr.path[:, 0], tr.path[:, 1], "-o", color=color, markersize=2.2, linewidth=1.0, label=label)
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.maximum(tr.loss - f_min, 1e-16)
        ax_loss.plot(gap, color=color, linewidth=1.2, label=tr.optimizer)
    if trajectories:
        start = trajectories[0].path[0]
        ax.plot(start[0], start[1], "ko", markersize=5)
    for m in fn.minima:
        ax.plot(m[0], m[1], "*", color="k", markersize=10)
    ax.set_xlim(*fn.xlim)
    ax.set_ylim(*fn.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"{fn.name}: {fn.formula}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("f − f*")
    ax_loss.set_title("f − f* along each path", fontsize=10)
    ax_loss.legend(fontsize=7)
    return fig

