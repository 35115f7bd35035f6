"""2-D landscapes: gradients by hand, paths against their closed forms, and the behaviours they are meant to show."""
import numpy as np
import pytest

from tinygrad_edu import landscape as L
from tinygrad_edu import optim

# ----- the functions ----------------------------------------------------------------------------

HAND_GRADIENTS = {
    "quadratic": lambda x, y: (x, 2 * y),
    "ravine": lambda x, y: (x, 100 * y),
    "rosenbrock": lambda x, y: (-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)),
    "saddle": lambda x, y: (x, y ** 3 - y),
}


@pytest.mark.parametrize("name", L.landscape_names())
def test_autograd_gradient_matches_the_hand_derived_one(name):
    rng = np.random.default_rng(0)
    for point in rng.uniform(-2, 2, (5, 2)):
        value, grad = L.evaluate(name, point)
        assert value == pytest.approx(L.get_landscape(name).value(point), rel=1e-14)
        np.testing.assert_allclose(grad, HAND_GRADIENTS[name](*point), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", L.landscape_names())
def test_minima_are_stationary_and_lowest_on_the_grid(name):
    fn = L.get_landscape(name)
    for m in fn.minima:
        _, grad = L.evaluate(name, m)
        assert np.all(grad == 0)
    X, Y, Z = L.grid(name, n=101)
    assert Z.shape == (101, 101)
    assert Z.min() >= min(fn.value(m) for m in fn.minima) - 1e-12


def test_unknown_landscape_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"unknown landscape 'ravin'; did you mean 'ravine'\?"):
        L.get_landscape("ravin")


def test_bad_start_and_steps_are_one_line_errors():
    with pytest.raises(ValueError, match=r"start=.* must be two finite numbers"):
        L.run_trajectory("ravine", "sgd", start=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match=r"steps=-1 must be an integer >= 0"):
        L.run_trajectory("ravine", "sgd", steps=-1)
    with pytest.raises(ValueError, match=r"unknown optimizer 'sgdd'"):
        L.run_trajectory("ravine", "sgdd")


# ----- the runner steps a real parameter exactly as the formulas say ----------------------------

def test_sgd_on_the_ravine_follows_the_closed_form_and_zigzags():
    """f = ½x² + 50y²: SGD multiplies x by (1 − η) and y by (1 − 100η) at every step."""
    lr = L.LANDSCAPES["ravine"].lr["sgd"]
    tr = L.run_trajectory("ravine", "sgd")
    t = np.arange(tr.steps + 1)
    x0, y0 = L.LANDSCAPES["ravine"].start
    np.testing.assert_allclose(tr.path[:, 0], x0 * (1 - lr) ** t, rtol=1e-12)
    np.testing.assert_allclose(tr.path[:, 1], y0 * (1 - 100 * lr) ** t, rtol=1e-11)
    assert 1 - 100 * lr < 0                           # the steep coordinate flips sign ...
    assert tr.sign_changes(1) == tr.steps             # ... at every single step: the zig-zag
    assert tr.steps_to_reach(1e-2) is None            # and crawls along the floor


def test_momentum_path_is_the_hand_rolled_recurrence():
    lr, mu = 0.005, 0.9
    tr = L.run_trajectory("ravine", "momentum", steps=40, lr=lr, momentum=mu)
    w, m = np.array(L.LANDSCAPES["ravine"].start), np.zeros(2)
    for t in range(40):
        m = mu * m + lr * np.array([w[0], 100 * w[1]])
        w = w - m
        np.testing.assert_allclose(tr.path[t + 1], w, rtol=1e-12, atol=1e-15)


def test_momentum_damps_the_ravine_zigzag_and_arrives_first():
    sgd, momentum = L.run_trajectories("ravine", ["sgd", "momentum"])
    # far fewer reversals across the valley in the first 50 steps ...
    assert sgd.sign_changes(1, steps=50) == 50
    assert momentum.sign_changes(1, steps=50) <= 15
    # ... the oscillation across the valley dies out faster (√0.9 per step against 0.98) ...
    assert np.abs(momentum.path[50:, 1]).max() < 0.3 * np.abs(sgd.path[50:, 1]).max()
    # ... and it reaches the minimum while SGD is still crawling
    assert momentum.steps_to_reach(1e-2) is not None and momentum.steps_to_reach(1e-2) < sgd.steps
    assert sgd.steps_to_reach(1e-2) is None
    assert momentum.path_length() < sgd.path_length() / 3


def test_high_momentum_overshoots_and_oscillates_near_the_minimum():
    low = L.run_trajectory("quadratic", "momentum", momentum=0.5)
    high = L.run_trajectory("quadratic", "momentum", momentum=0.99)
    assert low.sign_changes(0) == 0                  # over-damped along x: walks straight in
    assert high.sign_changes(0) >= 5                 # passes the minimum again and again
    assert high.sign_changes(1) >= 5
    assert low.distance()[-1] < 1e-2 < high.distance()[-1]


def test_rosenbrock_converges_with_a_small_learning_rate_and_not_with_a_large_one():
    sgd = L.run_trajectory("rosenbrock", "sgd", lr=1e-3, steps=1000)
    assert np.all(np.diff(sgd.loss) <= 1e-12)        # small steps: the loss falls at every step
    assert sgd.loss[-1] < sgd.loss[0] / 40
    momentum = L.run_trajectory("rosenbrock", "momentum", lr=1e-3, steps=1000)
    assert momentum.distance()[-1] < 0.02            # reaches (1, 1)
    blown = L.run_trajectory("rosenbrock", "momentum", lr=5e-3, steps=1000)
    assert blown.diverged_at is not None and blown.diverged_at < 50
    assert blown.steps == blown.diverged_at          # the walk stops where it left every sane range


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_saddle_escapes_from_near_the_ridge_but_not_from_on_it(name):
    near = L.run_trajectory("saddle", name)
    assert near.steps_to_reach(1e-2) is not None     # reaches a minimum (0, ±1)
    assert near.loss[-1] < -0.2499
    on = L.run_trajectory("saddle", name, start=(1.5, 0.0))
    assert np.all(on.path[:, 1] == 0.0)              # ∂f/∂y = 0 on the ridge: y never moves
    assert abs(on.final[0]) < 0.05 and on.loss[-1] > -1e-3   # stuck at the saddle point


def test_gradient_methods_stall_near_the_saddle_adam_does_not():
    """Near (0, 0) the gradient is tiny: a step proportional to it is tiny too. Adam divides by its size."""
    def stalled_steps(tr):     # steps spent near the saddle's height f = 0 (the minima are at −¼)
        return int(np.sum(np.abs(tr.loss) < 0.02))
    sgd, momentum, adam = L.run_trajectories("saddle", ["sgd", "momentum", "adam"])
    assert stalled_steps(sgd) >= 24 and stalled_steps(momentum) >= 24   # "dozens of steps"
    assert stalled_steps(adam) < 5
    assert adam.steps_to_reach(1e-2) < sgd.steps_to_reach(1e-2)


def test_same_inputs_same_path_bit_for_bit():
    a = L.run_trajectories("rosenbrock", ["adam", "nesterov"], steps=200)
    b = L.run_trajectories("rosenbrock", ["adam", "nesterov"], steps=200)
    for x, y in zip(a, b):
        assert np.array_equal(x.path, y.path) and np.array_equal(x.loss, y.loss)


def test_lr_override_and_momentum_only_for_momentum_methods():
    trs = L.run_trajectories("quadratic", ["sgd", "momentum", "nesterov", "adam"], steps=3, lr=0.01, momentum=0.5)
    hyper = {tr.optimizer: tr.hyperparameters for tr in trs}
    assert hyper["sgd"] == {"lr": 0.01}              # plain SGD stays plain
    assert hyper["momentum"] == {"lr": 0.01, "momentum": 0.5}
    assert hyper["nesterov"] == {"lr": 0.01, "momentum": 0.5}
    assert hyper["adam"] == {"lr": 0.01}


def test_optimizers_without_a_table_entry_use_their_own_defaults():
    tr = L.run_trajectory("quadratic", "heavy-ball", steps=200)      # no lr at all: mass, friction, dt
    assert tr.hyperparameters == {}
    assert tr.distance()[-1] < 0.05
    assert L.default_hyperparameters("quadratic", optim.SGD) == {"lr": L.LANDSCAPES["quadratic"].lr["sgd"]}

    class Plugin(optim.Optimizer):
        hyper = (optim.Hyperparameter("lr", float, "lr > 0", "step", lambda v: v > 0),)

        def __init__(self, params, lr=0.125):
            super().__init__(params, lr=lr)

        def update(self, w, g, state):
            w -= self.lr * g

    class NoDefault(Plugin):
        def __init__(self, params, lr):
            super().__init__(params, lr=lr)

    tr = L.run_trajectory("quadratic", Plugin, steps=2)
    assert tr.hyperparameters == {"lr": 0.125}
    np.testing.assert_allclose(tr.path[1], [-4 * (1 - 0.125), 3 * (1 - 0.25)])
    with pytest.raises(ValueError, match=r"no default learning rate for 'NoDefault' on quadratic; pass lr="):
        L.run_trajectory("quadratic", NoDefault)


def test_landscape_figure_is_written(tmp_path):
    from tinygrad_edu.viz.experiment_plots import landscape_figure, save_figure
    trs = L.run_trajectories("saddle", ["sgd", "adam"], steps=30)
    path = save_figure(landscape_figure("saddle", trs), tmp_path / "saddle.svg")
    text = path.read_text()
    assert "<svg" in text and not list(tmp_path.glob(".*.tmp"))


# ----- bounded: huge step counts are refused, huge numbers are reported as divergence ------------------

@pytest.fixture
def default_limit(monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_MAX_BYTES", raising=False)


def test_steps_1e12_are_refused_with_the_memory_they_would_need(default_limit):
    names = ["sgd", "momentum", "nesterov", "adam"]
    with pytest.raises(L.TrajectoryError) as info:
        L.run_trajectories("ravine", names, steps=10 ** 12)
    assert info.value.needed == L.trajectory_bytes(10 ** 12, 4) == 5 * 24 * (10 ** 12 + 1)
    assert str(info.value) == ("4 trajectories of 1,000,000,000,000 steps would need 109 TiB, more than the memory "
                               "limit of 2 GiB; use fewer steps (--steps), or raise the limit: "
                               "TINYGRAD_EDU_MAX_BYTES=110T")
    assert isinstance(info.value, ValueError)
    with pytest.raises(L.TrajectoryError, match="a trajectory of 1,000,000,000,000 steps would need"):
        L.run_trajectory("ravine", "sgd", steps=10 ** 12)


def test_trajectory_bytes_is_what_the_runs_hold_and_the_limit_is_exact():
    runs = L.run_trajectories("quadratic", ["sgd", "adam"], steps=30)
    held = sum(tr.path.nbytes + tr.loss.nbytes for tr in runs)
    assert L.trajectory_bytes(30, 2) == held * 3 // 2          # + one run's worth for the trimming copy
    assert len(L.run_trajectories("quadratic", ["sgd", "adam"], steps=30, max_bytes=L.trajectory_bytes(30, 2))) == 2
    with pytest.raises(L.TrajectoryError):
        L.run_trajectories("quadratic", ["sgd", "adam"], steps=30, max_bytes=L.trajectory_bytes(30, 2) - 1)


def test_a_start_beyond_the_divergence_bound_is_refused_in_one_line():
    with pytest.raises(ValueError) as info:
        L.run_trajectories("quadratic", ["sgd", "momentum", "adam"], start=(1e308, 1e308))
    assert str(info.value) == ("start=(1e+308, 1e+308) lies outside |x|, |y| <= 1e+06, where a walk counts as "
                               "diverged; start inside it, e.g. at quadratic's own start (-4, 3)")
    assert L.run_trajectory("quadratic", "sgd", start=(L.DIVERGED_BEYOND, -L.DIVERGED_BEYOND), steps=3).steps == 3


def test_overflow_is_reported_as_divergence_without_warnings(recwarn):
    # lr = 1e300 throws the point past float64's range in one step: inf, then a Python float overflow.
    runs = L.run_trajectories("rosenbrock", ["sgd", "momentum", "adam"], lr=1e300)
    assert [tr.diverged_at for tr in runs] == [1, 1, 1]
    assert all(tr.loss[-1] == np.inf for tr in runs)
    table = L.format_trajectories(runs)
    assert table.count("diverged at step 1") == 3 and "inf" in table
    assert L.get_landscape("quadratic").value((1e200, 0.0)) == np.inf
    steep = L.run_trajectories("rosenbrock", ["sgd", "momentum"], start=(1e6, 1e6), lr=1e300)   # the step overflows
    assert [tr.diverged_at for tr in steep] == [1, 1] and not np.isfinite(steep[0].path[-1]).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
