"""tinygrad_edu.viz.plots draws training curves without a single warning, with or without markers."""
import warnings

import pytest

from tinygrad_edu import nn, optim
from tinygrad_edu.data import get_dataset
from tinygrad_edu.train import fit
from tinygrad_edu.viz.plots import comparison_curves, save_figure, training_curves


def _history(epochs):
    data = get_dataset("moons", n=40, seed=0)
    model = nn.MLP([2, 4, 2], seed=0)
    return fit(model, optim.SGD(model.parameters(), lr=0.1), data, epochs=epochs, batch_size=30, seed=0)


@pytest.mark.parametrize("epochs, marked", [(5, True), (60, False)], ids=["few points", "edu train --epochs 60"])
def test_curves_draw_without_warnings(tmp_path, epochs, marked):
    history = _history(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")         # matplotlib's "marker is redundantly defined" was a UserWarning
        curves = training_curves(history, title="moons")
        both = comparison_curves({"sgd": history, "again": history}, target=0.5)
        save_figure(curves, tmp_path / "loss.png")
        save_figure(both, tmp_path / "compare.png")
    # Per-epoch curves get markers only while their points stay apart (61 points do not).
    per_epoch = [line for ax in curves.axes for line in ax.get_lines() if len(line.get_xdata()) == epochs + 1]
    per_epoch += [line for line in both.axes[1].get_lines()]
    assert len(per_epoch) == 6
    assert all((line.get_marker() not in ("", "None", None)) == marked for line in per_epoch)
