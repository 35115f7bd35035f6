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
from tinygrad_edu.train import (DIVERGE_FACTOR, History, Loss, TrainingDiverged, TrainingError, evaluate, fit,
                                get_loss, has_diverged)


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
    with pytest.raises(TrainingDiverged) as info:
        fit(model, optim.Momentum(model.parameters(), lr=5.0), sine, epochs=50, batch_size=10)
    history = info.value.history
    assert history.stopped == "diverged" and str(info.value) == history.message
    bad_step = history.steps + 1
    assert info.value.step == bad_step and info.value.loss > 100 * history.train_loss[0]
    assert f"at step {bad_step} is more than 100× its first value" in history.message
    assert "smaller learning rate" in history.message
    assert "try 0.5" in history.message and "\n" not in history.message
    assert all(math.isfinite(v) for v in history.loss)               # the metrics so far are kept
    assert len(history.grad_norm) == len(history.update_norm) == len(history.lr) == history.steps
    assert history.steps < 50 * 7


def test_without_the_growth_rule_only_nan_or_inf_stops_it():
    """diverge_factor=None: the same run trains on through losses far above 100× until one is inf."""
    sine = get_dataset("sine", n=100, seed=0)
    model = nn.MLP([1, 16, 1], seed=0)
    with pytest.raises(TrainingDiverged, match=r"^loss became inf at step (\d+): training diverged; use a smaller "
                                               r"learning rate \(lr=5 now, try 0.5\)$") as info:
        fit(model, optim.Momentum(model.parameters(), lr=5.0), sine, epochs=50, batch_size=10, diverge_factor=None)
    history = info.value.history
    assert max(history.loss) > 1e6 * history.train_loss[0] and info.value.step == history.steps + 1


def test_the_nonfinite_step_is_not_applied(moons):
    calls = {"n": 0}

    def explodes_on_fourth(out, y):
        calls["n"] += is_grad_enabled()              # count training steps, not evaluations
        value = nn.cross_entropy(out, y)
        return value * float("inf") if calls["n"] == 4 else value
    loss = Loss("boom", "classification", explodes_on_fourth, outputs=lambda k: k, predict=lambda o: o.argmax(1))
    model = nn.MLP([2, 4, 2], seed=0)
    seen = []
    with pytest.raises(TrainingDiverged) as info:
        fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=3, batch_size=16, loss=loss,
            on_step=lambda h: seen.append(weights(model)))
    history = info.value.history
    assert history.stopped == "diverged" and history.steps == 3 and "loss became inf at step 4" in history.message
    assert same_weights(weights(model), seen[-1])
    with pytest.raises(TrainingError, match="cannot continue a run that diverged"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=3, batch_size=16, history=history)


def scripted(step_losses, evaluation_losses):
    """A Loss whose value is step_losses[i] at training step i + 1 and evaluation_losses[e] on the training and
    the test set after epoch e (e = 0: before training); its gradient is 0, so SGD leaves the weights alone."""
    steps, evaluations = iter(step_losses), iter([value for value in evaluation_losses for _ in ("train", "test")])

    def fn(out, y):
        value = next(steps) if is_grad_enabled() else next(evaluations)
        return (out * 0.0).sum() + value
    return Loss("scripted", "classification", fn, outputs=lambda k: k, predict=lambda o: o.argmax(1))


def fit_scripted(moons, step_losses, evaluation_losses, **kwargs):
    """3 steps per epoch (150 training points, batches of 50); the first loss is evaluation_losses[0]."""
    model = nn.MLP([2, 3, 2], seed=0)
    return fit(model, optim.SGD(model.parameters(), lr=0.1), moons, epochs=4, batch_size=50,
               loss=scripted(step_losses, evaluation_losses), **kwargs)


JUST_ABOVE_100X = math.nextafter(50.0, math.inf)        # the first value is 0.5: 100× is exactly 50.0


def test_a_loss_of_exactly_100_times_the_first_is_not_divergence(moons):
    history = fit_scripted(moons, [50.0] * 12, [0.5] * 5)
    assert history.stopped == "" and history.steps == 12 and max(history.loss) == 100 * history.train_loss[0]


@pytest.mark.parametrize("bad, text", [(JUST_ABOVE_100X, "loss 50.00000000000001 at step 5 is more than 100× its "
                                                         "first value 0.5"),
                                       (math.nan, "loss became nan at step 5"),
                                       (math.inf, "loss became inf at step 5"),
                                       (-math.inf, "loss became -inf at step 5")])
def test_just_above_100_times_nan_and_inf_stop_before_that_step(moons, bad, text):
    seen = []
    with pytest.raises(TrainingDiverged) as info:
        fit_scripted(moons, [0.5, 50.0, 1.0, 2.0, bad, 1.0], [0.5] * 5, on_step=lambda h: seen.append(h.steps))
    exc = info.value
    assert exc.step == 5 and (exc.loss == bad or (math.isnan(bad) and math.isnan(exc.loss)))
    assert exc.history.steps == 4 and exc.history.loss == [0.5, 50.0, 1.0, 2.0] and seen == [1, 2, 3, 4]
    assert exc.history.epoch == [0, 1] and exc.history.stopped == "diverged"
    assert str(exc) == f"{text}: training diverged; use a smaller learning rate (lr=0.1 now, try 0.01)"


def test_the_training_loss_after_an_epoch_is_checked_too(moons):
    """A step may blow the weights up after its loss was measured: the epoch's evaluation catches it."""
    with pytest.raises(TrainingDiverged, match=r"^training loss 50.00000000000001 after step 6 \(epoch 2\) is more "
                                               r"than 100× its first value 0.5: training diverged;") as info:
        fit_scripted(moons, [0.5] * 12, [0.5, 50.0, JUST_ABOVE_100X, 0.5, 0.5])
    assert info.value.step == 6 and info.value.history.steps == 6 and info.value.history.train_loss[-1] > 50.0


def test_the_growth_rule_can_be_changed_or_switched_off(moons):
    with pytest.raises(TrainingDiverged, match="more than 10× its first value"):
        fit_scripted(moons, [0.5, 5.5], [0.5] * 5, diverge_factor=10)
    history = fit_scripted(moons, [1e300] * 12, [0.5] * 5, diverge_factor=None)
    assert history.stopped == "" and history.steps == 12
    for bad in (1, 0.5, -3, math.nan, math.inf, True, "100"):
        with pytest.raises(TrainingError, match=r"diverge_factor=.*: use a number > 1, or None"):
            fit_scripted(moons, [0.5], [0.5], diverge_factor=bad)


def test_has_diverged_at_its_edges():
    assert not has_diverged(100.0, 1.0) and has_diverged(math.nextafter(100.0, math.inf), 1.0)
    assert has_diverged(math.nan, 1.0) and has_diverged(math.inf, 1.0) and has_diverged(-math.inf, 1.0)
    assert not has_diverged(1e300, 1.0, factor=None) and has_diverged(math.nan, 1.0, factor=None)
    assert not has_diverged(1e300, 0.0) and has_diverged(math.inf, 0.0)      # a first loss of 0 gives no scale
    assert DIVERGE_FACTOR == 100.0


def test_training_diverged_is_not_a_settings_error():
    """It is raised by valid settings that blew up: an ArithmeticError, not the ValueError of bad input."""
    assert issubclass(TrainingDiverged, ArithmeticError) and not issubclass(TrainingDiverged, ValueError)


def test_an_optimizer_without_a_learning_rate_is_told_what_sets_its_step():
    sine = get_dataset("sine", n=100, seed=0)
    model = nn.MLP([1, 16, 1], seed=0)
    with pytest.raises(TrainingDiverged, match=r"training diverged; make its steps smaller \(mass, friction, dt set "
                                               r"them\)$"):
        fit(model, optim.HeavyBall(model.parameters(), mass=0.01, friction=0.01, dt=1.0), sine, epochs=50, batch_size=10)


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


def test_a_runaway_momentum_without_lr_is_blamed_on_the_momentum_not_the_learning_rate(moons):
    model = nn.MLP([2, 8, 2], seed=0)
    with pytest.warns(UserWarning, match="momentum=1.5 >= 1"):          # it warns when made, too
        opt = optim.MomentumWithoutLR(model.parameters(), lr=0.05, momentum=1.5, warmup_steps=2)
    with pytest.raises(TrainingDiverged) as caught:
        fit(model, opt, moons, epochs=50, batch_size=32, seed=0)
    message = str(caught.value)
    assert "momentum=1.5 makes the weights run away (×1.5 per step)" in message and "use momentum < 1" in message
    assert "smaller learning rate" not in message and "\n" not in message
