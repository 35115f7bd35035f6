"""Plots of training runs, drawn with matplotlib.

The figures are built with matplotlib's object API (`matplotlib.figure.Figure`), not with
pyplot: no window opens, no global state changes (a notebook's backend is left alone), and
nothing needs closing. matplotlib is imported inside the functions, so importing this module
(and the `edu` command) stays fast.

>>> fig = training_curves(history, title="moons, momentum")
>>> save_figure(fig, "loss.png")        # or .svg
"""
from __future__ import annotations

import functools
import io
import math
from pathlib import Path
from typing import Mapping, Optional

from ..io import atomic_write_bytes

__all__ = ["save_figure", "new_figure", "training_curves", "comparison_curves", "smooth", "FORMATS"]

FORMATS = (".png", ".svg")


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8):
    """A Figure and its axes (an array when there are several), sized `width` × `height` inches per panel."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def save_figure(fig, path, dpi: int = 100) -> Path:
    """Save `fig` as PNG or SVG (chosen by the file's extension), atomically.

    The same figure gives the same bytes every time: SVG files carry no date and fixed ids;
    PNG files carry only matplotlib's own "Software" tag, its version (which
    tutorials/build.py reads to know whether two PNGs were drawn by the same matplotlib).
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in FORMATS:
        raise ValueError(f"save_figure: cannot save {path.name!r}: unknown image type {path.suffix!r}; "
                         f"end the name with .png or .svg")
    import matplotlib
    import numpy as np
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == ".svg" else {}
    # A diverged run's losses reach 1e300: drawing them overflows harmlessly, so no warnings.
    with matplotlib.rc_context({"svg.hashsalt": "tinygrad_edu"}), np.errstate(over="ignore", invalid="ignore"):
        fig.savefig(buffer, format=fmt[1:], dpi=dpi, metadata=metadata)
    return atomic_write_bytes(path, buffer.getvalue())


def smooth(values, window: int) -> list:
    """Running mean over the last `window` values (shorter at the start): minibatch losses are noisy."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _quiet_overflow(draw):
    """Draw without overflow warnings: a diverged run's losses reach 1e300, and drawing them is still fine."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import numpy as np
        with np.errstate(over="ignore", invalid="ignore"):
            return draw(*args, **kwargs)
    return wrapper


def _markers(points: int, marker: str) -> dict:
    """A curve of `points` values gets markers while they stay apart (up to 60), else a plain line.

    (Given as keywords, never with a format string like "o-" as well: matplotlib warns when
    both name a marker.)
    """
    return {"marker": marker, "markersize": 3} if points <= 60 else {"marker": ""}


def _has_accuracy(history) -> bool:
    return any(not math.isnan(a) for a in history.test_accuracy)


@_quiet_overflow
def training_curves(history, title: Optional[str] = None):
    """Loss (per step, and on the whole train/test sets after each epoch) and, for classification, accuracy."""
    with_acc = _has_accuracy(history)
    fig, axes = new_figure(ncols=2 if with_acc else 1)
    ax_loss = axes[0] if with_acc else axes
    steps = range(1, history.steps + 1)
    if history.steps:
        ax_loss.plot(steps, history.loss, color="0.75", linewidth=0.8, label="minibatch loss")
    n = len(history.step)
    ax_loss.plot(history.step, history.train_loss, color="C0", label="train loss", **_markers(n, "o"))
    ax_loss.plot(history.step, history.test_loss, color="C1", label="test loss", **_markers(n, "s"))
    _log_scale_if_positive(ax_loss, history.loss + history.train_loss + history.test_loss)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("loss")
    ax_loss.legend()
    if with_acc:
        ax = axes[1]
        ax.plot(history.step, [100 * a for a in history.train_accuracy], color="C0", label="train", **_markers(n, "o"))
        ax.plot(history.step, [100 * a for a in history.test_accuracy], color="C1", label="test", **_markers(n, "s"))
        ax.set_xlabel("step")
        ax.set_ylabel("accuracy (%)")
        ax.set_title("accuracy")
        ax.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    for ax in (axes if with_acc else [axes]):
        ax.grid(True, alpha=0.3)
    return fig


@_quiet_overflow
def comparison_curves(histories: Mapping[str, object], title: Optional[str] = None, target: Optional[float] = None):
    """One line per run (e.g. per optimizer): the minibatch loss, smoothed, against the step.

    A second panel shows the test accuracy after each epoch, for classification.
    """
    first = next(iter(histories.values()))
    with_acc = _has_accuracy(first)
    fig, axes = new_figure(ncols=2 if with_acc else 1, width=5.5)
    ax_loss = axes[0] if with_acc else axes
    values = []
    for i, (name, h) in enumerate(histories.items()):
        window = max(1, h.steps_per_epoch)
        curve = smooth(h.loss, window)
        ax_loss.plot(range(1, h.steps + 1), curve, color=f"C{i}", label=name)
        values += curve
        if with_acc:
            axes[1].plot(h.step, [100 * a for a in h.test_accuracy], color=f"C{i}", label=name,
                         **_markers(len(h.step), "o"))
    if target is not None:
        ax_loss.axhline(target, color="0.4", linestyle="--", linewidth=0.8, label=f"target {target:g}")
    _log_scale_if_positive(ax_loss, values)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("minibatch loss (running mean over an epoch)")
    ax_loss.set_title("loss")
    ax_loss.legend()
    ax_loss.grid(True, alpha=0.3)
    if with_acc:
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("test accuracy (%)")
        axes[1].set_title("test accuracy")
        axes[1].legend(loc="lower right")
        axes[1].grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def _log_scale_if_positive(ax, values) -> None:
    finite = [v for v in values if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
