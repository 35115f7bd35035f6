"""tinygrad_edu.train.fit: the textbook loop, its records, faults, and resuming bit for bit."""
import csv
import io
import math
import signal
import threading

import numpy as np
import pytest

from tinygrad_edu import Tensor, is_grad_enabled, nn, optim
from tinygrad_edu.data import batches, get_dataset
from tinygrad_edu.experiments import RunConfig, build, compare, fit_run
from tinygrad_edu.train import History, Loss, TrainingError, evaluate, fit, get_loss


@pytest.fixture(scope="module")
def moons():
    return get_dataset("moons", n=200, seed=0)


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_fit_is_the_hand_written_loop(moons):
    """fit adds bookkeeping only: the same steps by hand give the same weights, bit for bit."""
    model = nn.MLP([2, 8, 2], seed=3)
    opt = optim.Momentum(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, opt, moons, epochs=3, batch_size=16, seed=5)

    hand = nn.MLP([2, 8, 2], seed=3)
    hand_opt = optim.Momentum(hand.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for epoch in range(3):
        for xb, yb in batches(moons.X_train, moons.y_train, 16, seed=[5, epoch]):
            hand_opt.zero_grad()
            loss = nn.cross_entropy(hand(Tensor(xb)), yb)
            loss.backward()
            hand_opt.step()
            losses.append(loss.item())
    assert same_weights(weights(model), weights(hand))
    assert history.loss == losses
    assert history.steps == 3 * math.ceil(150 / 16) and history.steps_per_epoch == 10


def test_step_records_match_their_definitions(moons):
    """Plain SGD: Δw = −η·∇L, so ‖Δw‖ = η·‖∇L‖; both norms checked against a step done by hand."""
    model = nn.MLP([2, 8, 2], seed=0)
    w0 = weights(model)
    history = fit(model, optim.SGD(model.parameters(), lr=0.3), moons, epochs=1, batch_size=200, seed=0)
    assert history.steps == 1                       # one full batch: a deterministic step
    probe = nn.MLP([2, 8, 2], seed=0)
    xb, yb = next(batches(moons.X_train, moons.y_train, 200, seed=[0, 0]))
    loss = nn.cross_entropy(probe(Tensor(xb)), yb)
    loss.backward()
    grad_norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in probe.parameters()))
    update = math.sqrt(sum(float(((weights(model)[k] - w0[k]) ** 2).sum()) for k in w0))
    assert history.loss[0] == loss.item()
    assert history.grad_norm[0] == pytest.approx(grad_norm, rel=1e-12)
    assert history.update_norm[0] == pytest.approx(update, rel=1e-12)
    assert history.update_norm[0] == pytest.approx(0.3 * history.grad_norm[0], rel=1e-12)
    assert history.lr == [0.3]


def test_recorded_lr_follows_the_schedule(moons):
    model = nn.MLP([2, 4, 2], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.2)
    sched = optim.CosineLR(opt, total_steps=20)
    history = fit(model, opt, moons, epochs=2, batch_size=15, schedule=sched)
    expected = [0.2 * (1 + math.cos(math.pi * t / 20)) / 2 for t in range(20)]   # step t+1 uses lr_at(t)
    assert history.lr == pytest.approx(expected, abs=1e-15)


def test_epoch_metrics_are_the_whole_sets(moons):
    model = nn.MLP([2, 8, 2], seed=1)
    before = evaluate(model, get_loss(None, moons), moons.X_test, moons.y_test)
    history = fit(model, optim.Adam(model.parameters(), lr=0.02), moons, epochs=4, batch_size=32)
    assert history.epoch == [0, 1, 2, 3, 4] and history.step == [0, 5, 10, 15, 20]
    assert (history.test_loss[0], history.test_accuracy[0]) == before
    with_nn = nn.accuracy(model(Tensor(moons.X_test)).data, moons.y_test)
    assert history.test_accuracy[-1] == with_nn
    assert history.train_loss[-1] == pytest.approx(nn.cross_entropy(model(Tensor(moons.X_train)), moons.y_train).item())


@pytest.mark.parametrize("loss_name, outputs", [("bce", 1), ("hinge", 1), ("cross-entropy", 2)])
def test_binary_losses_train_one_output(moons, loss_name, outputs):
    loss = get_loss(loss_name, moons)
    assert loss.outputs(moons.n_classes) == outputs
    model = nn.MLP([2, 16, outputs], seed=0)
    history = fit(model, optim.Adam(model.parameters(), lr=0.05), moons, epochs=15, batch_size=32, loss=loss_name)
    assert history.test_accuracy[-1] > 0.85 and history.train_loss[-1] < history.train_loss[0]


def test_regression_has_no_accuracy():
    sine = get_dataset("sine", n=100, seed=0)
    model = nn.MLP([1, 16, 1], activation="tanh", seed=0)
    history = fit(model, optim.Adam(model.parameters(), lr=0.02), sine, epochs=30, batch_size=16)
    assert all(math.isnan(a) for a in history.test_accuracy)
    assert history.test_loss[-1] < 0.3 * history.test_loss[0]


def test_loss_choice_errors(moons):
    with pytest.raises(TrainingError, match=r"unknown loss 'hinj'; did you mean 'hinge'\?"):
        get_loss("hinj", moons)
    with pytest.raises(TrainingError, match="loss mse is for regression, but moons is a classification problem"):
        get_loss("mse", moons)
    with pytest.raises(TrainingError, match="needs two classes, but spiral has 3"):
        get_loss("bce", get_dataset("spiral", n=60))
    assert get_loss("cross_entropy", moons).name == "cross-entropy"       # torch's spelling works too


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"batch_size": 0}, {"epochs": 1.5}])
def test_bad_epochs_or_batch_size(moons, kwargs):
    model = nn.MLP([2, 2], seed=0)
    args = {"epochs": 1, "batch_size": 8, **kwargs}
    with pytest.raises(TrainingError, match="use an integer >= 1"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), moons, **args)


# ----- faults --------------------------------------------------------------------------------

def test_divergence_stops_at_once_and_keeps_the_metrics():
    sine = get_dataset("sine", n=100, seed=0)
    model = nn.MLP([1, 16, 1], seed=0)
    history = fit(model, optim.Momentum(model.parameters(), lr=5.0), sine, epochs=50, batch_size=10)
    assert history.stopped == "diverged"
    bad_step = history.steps + 1
    assert f"at step {bad_step}:" in history.message and "smaller learning rate" in history.message
    assert "try 0.5" in history.message and "\n" not in history.message
    assert all(math.isfinite(v) for v in history.loss)               # the metrics so far are kept
    assert len(history.grad_norm) == len(history.update_norm) == len(history.lr) == history.steps
    assert history.steps < 50 * 7


def test_the_nonfinite_step_is_not_applied(moons):
    calls = {"n": 0}

    def explodes_on_fourth(out, y):
        calls["n"] += is_grad_enabled()              # count training steps, not evaluations
        value = nn.cross_entropy(out, y)
        return value * float("inf") if calls["n"] == 4 else value
    loss = Loss("boom", "classification", explodes_on_fourth, outputs=lambda k: k, predict=lambda o: o.argmax(1))
    model = nn.MLP([2, 4, 2], seed=0)
    seen = []
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=3, batch_size=16, loss=loss,
                  on_step=lambda h: seen.append(weights(model)))
    assert history.stopped == "diverged" and history.steps == 3 and "loss became inf at step 4" in history.message
    assert same_weights(weights(model), seen[-1])
    with pytest.raises(TrainingError, match="cannot continue a run that diverged"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=3, batch_size=16, history=history)


def _interrupt_at(k):
    def on_step(history):
        if history.steps == k:
            raise KeyboardInterrupt
    return on_step


@pytest.mark.parametrize("config", [
    RunConfig(epochs=4, n=200),
    RunConfig(optimizer="adam", schedule="warmup:5:cosine", epochs=4, n=200),
    RunConfig(optimizer="sgd", hyper={"momentum": 0.9, "nesterov": True}, schedule="step:7:0.5", epochs=3, n=200),
    RunConfig(dataset="sine", epochs=3, n=120, hidden=(8,), activation="tanh"),
], ids=["momentum", "adam-warmup-cosine", "nesterov-step", "sine-regression"])
def test_interrupted_then_resumed_equals_uninterrupted(config):
    reference = build(config)
    full = fit_run(reference)
    spe = reference.steps_per_epoch
    for k in (1, spe - 1, spe, spe + 1, full.steps - 1):
        run = build(config)
        history = fit_run(run, on_step=_interrupt_at(k))
        assert history.stopped == "interrupted" and history.steps == k
        # hand the states to a freshly built run, as a checkpoint would
        fresh = build(config)
        fresh.model.load_state_dict(run.model.state_dict())
        fresh.optimizer.load_state_dict(run.optimizer.state_dict())
        if fresh.schedule is not None:
            fresh.schedule.load_state_dict(run.schedule.state_dict())
        resumed = fit_run(fresh, History.from_arrays(history.to_arrays()))
        assert resumed.stopped == ""
        assert same_weights(weights(fresh.model), weights(reference.model)), k
        assert resumed.loss == full.loss and resumed.lr == full.lr and resumed.test_loss == full.test_loss
        assert resumed.epoch == full.epoch and resumed.grad_norm == full.grad_norm


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread() or not hasattr(signal, "raise_signal"),
                    reason="SIGINT handlers can only be installed in the main thread")
def test_ctrl_c_finishes_the_step_then_stops(moons):
    model = nn.MLP([2, 4, 2], seed=0)

    def press_ctrl_c(history):
        if history.steps == 7:
            signal.raise_signal(signal.SIGINT)       # arrives between steps; fit checks it right after
    previous = signal.getsignal(signal.SIGINT)
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=5, batch_size=16, on_step=press_ctrl_c)
    assert history.stopped == "interrupted" and history.steps == 7
    assert history.message == "interrupted after step 7 (epoch 1, batch 7 of 10)"
    assert signal.getsignal(signal.SIGINT) is previous               # the handler is put back


def test_track_norms_off_changes_nothing_else(moons):
    a, b = nn.MLP([2, 8, 2], seed=0), nn.MLP([2, 8, 2], seed=0)
    ha = fit(a, optim.SGD(a.parameters(), lr=0.1), moons, epochs=2, batch_size=32)
    hb = fit(b, optim.SGD(b.parameters(), lr=0.1), moons, epochs=2, batch_size=32, track_norms=False)
    assert same_weights(weights(a), weights(b)) and ha.loss == hb.loss
    assert all(math.isnan(v) for v in hb.grad_norm + hb.update_norm)


# ----- History ----------------------------------------------------------------------------------

def test_history_csv_and_arrays_round_trip(moons):
    model = nn.MLP([2, 4, 2], seed=0)
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=2, batch_size=64)   # 3 steps/epoch
    rows = list(csv.DictReader(io.StringIO(history.to_csv())))
    assert [int(r["step"]) for r in rows] == list(range(7)) and [int(r["epoch"]) for r in rows] == [0, 1, 1, 1, 2, 2, 2]
    assert [float(r["loss"]) for r in rows[1:]] == history.loss                      # repr: exact
    assert [float(rows[s]["test_loss"]) for s in (0, 3, 6)] == history.test_loss
    assert rows[1]["test_loss"] == "" and rows[0]["loss"] == ""
    again = History.from_arrays(history.to_arrays())
    assert again == history


def test_steps_to_target():
    h = History(step=[0, 10, 20, 30], train_loss=[1.0, 0.5, 0.09, 0.2])
    assert h.steps_to(0.1) == 20 and h.steps_to(0.5) == 10 and h.steps_to(0.01) is None


# ----- the default run and compare -------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_default_run_reaches_97_percent(seed):
    history = fit_run(build(RunConfig(seed=seed)))
    assert history.test_accuracy[-1] >= 0.97


def test_compare_uses_the_same_data_weights_and_batches():
    config = RunConfig(epochs=3, n=200)
    result = compare("sgd,momentum,adam", config)
    assert [r["optimizer"] for r in result.rows] == ["sgd", "momentum", "adam"]
    first = [h.train_loss[0] for h in result.histories.values()]
    assert first[0] == first[1] == first[2]                            # same initial weights
    alone = fit_run(build(RunConfig(optimizer="momentum", epochs=3, n=200)))
    assert result.histories["momentum"].loss == alone.loss             # same as its own run
    for row, h in zip(result.rows, result.histories.values()):
        assert row["steps_to_target"] == h.steps_to(result.target)
        assert row["test_loss"] == h.test_loss[-1]


# ----- plots of a History ---------------------------------------------------------------------------

def test_plots_save_png_and_svg_reproducibly(tmp_path, moons):
    from tinygrad_edu.viz.plots import comparison_curves, save_figure, smooth, training_curves
    model = nn.MLP([2, 4, 2], seed=0)
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=2, batch_size=32)
    fig = training_curves(history, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(loss_lines["test loss"].get_ydata()) == history.test_loss
    for name in ("a.svg", "b.svg", "a.png", "b.png"):
        save_figure(fig, tmp_path / name)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()      # no date, fixed ids
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match=r"unknown image type '\.jpg'; end the name with \.png or \.svg"):
        save_figure(fig, tmp_path / "c.jpg")
    both = comparison_curves({"x": history, "y": history}, target=0.5)
    assert [line.get_label() for line in both.axes[0].get_lines()] == ["x", "y", "target 0.5"]
    assert smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
