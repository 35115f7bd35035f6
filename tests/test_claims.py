"""The sentences with numbers in the ablation, landscape and optimizer docstrings, recomputed by running the code.

Each test runs the experiment a docstring describes and asserts what the text says, with
thresholds far from round-off (the numbers must not depend on the CPU or BLAS kernel).
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, ablation, optim
from tinygrad_edu import landscape as L

# ----- the ablation: what removing the learning rate does to the loss ------------------------------

K, N = ablation.DEFAULTS["k"], ablation.DEFAULTS["steps"]       # the project's own experiment: 20, then 60


@pytest.fixture(scope="module")
def default_run():
    result = ablation.momentum_without_lr(["lr-inside"], ablation.DEFAULT_MOMENTA)
    return {r.momentum: r for r in result.rows}, result


def test_the_loss_keeps_falling_after_the_removal_at_mu_0_9(default_run):
    rows, result = default_run
    r = rows[0.9]
    assert r.falls_after_removal and r.loss_end < r.loss_at_removal - 0.05
    assert (round(r.loss_at_removal, 3), round(r.loss_end, 3)) == (0.499, 0.383)   # the docstring's numbers
    loss = result.traces[("lr-inside", 0.9)]["removed"].loss
    assert np.all(np.diff(loss[K:]) < 1e-9)         # along the coast it falls (or is flat), step after step
    assert np.ptp(loss[-10:]) < 1e-3                 # ... and stalls where the weights stop


def test_at_high_momentum_the_coasting_loss_falls_first_then_rises(default_run):
    rows, _ = default_run
    for mu in (0.99, 1.0, 1.01):
        r = rows[mu]
        assert r.falls_after_removal and r.loss_best_after < r.loss_at_removal - 0.03
        assert K + 3 <= r.step_best_after <= K + 15              # the lowest point: steps 26–30
        assert r.loss_end > r.loss_best_after + 0.1              # then it coasts past the valley and climbs
        assert abs(r.loss_best_after - 0.304) < 0.005


def test_keeping_the_learning_rate_does_not_keep_the_loss_falling_at_high_momentum(default_run):
    rows, result = default_run
    for mu in (0.99, 1.0, 1.01):
        r = rows[mu]
        assert not r.kept_keeps_improving
        assert r.loss_kept > r.loss_kept_best + 0.03             # 0.304 → 0.350, 0.394, 0.460 at step 80
        kept = result.traces[("lr-inside", mu)]["kept"].loss
        assert np.max(np.diff(kept[K:])) > 1e-3                  # it rises, by more than round-off
    assert [round(rows[mu].loss_kept, 3) for mu in (0.99, 1.0, 1.01)] == [0.350, 0.394, 0.460]
    for mu in (0.5, 0.9):                                        # at low momentum it does keep falling
        assert rows[mu].kept_keeps_improving
        assert np.all(np.diff(result.traces[("lr-inside", mu)]["kept"].loss) < 0)


def test_at_mu_0_99_the_coasting_run_is_lower_for_a_stretch_of_steps(default_run):
    rows, result = default_run
    r = rows[0.99]
    assert r.steps_removed_lower == 19 and (r.removed_lower_from, r.removed_lower_to) == (31, 49)
    traces = result.traces[("lr-inside", 0.99)]
    margin = traces["kept"].loss - traces["removed"].loss
    assert margin[31:50].min() > 0 and margin.max() > 3e-3      # lower by far more than round-off
    for mu in (0.5, 0.9):                                        # below 0.99 keeping η wins at every step
        assert rows[mu].steps_removed_lower == 0


def test_the_step_of_the_lowest_loss_ignores_round_off_on_a_plateau(default_run):
    """Once the weights stop the loss is flat: its lowest point is where the plateau starts, not a round-off pick."""
    plateau = np.array([0.9, 0.8, 0.75, 0.75 + 2e-16, 0.75 - 1e-16, 0.75 + 1e-16])
    assert ablation._lowest(plateau, 20) == (0.75 - 1e-16, 22)
    rows, result = default_run
    loss = result.traces[("lr-inside", 0.5)]["removed"].loss
    step = rows[0.5].step_best_after
    assert step == 43 and loss[step - 1] - loss.min() > 1e-9 >= loss[step] - loss.min()


def test_the_report_and_the_figure_show_both_runs(default_run):
    rows, result = default_run
    text = ablation.format_coasting(result)
    assert "19 steps (31–49)" in text and "0.304 (30)" in text
    assert "stops improving" not in text and "always wins" not in text
    from tinygrad_edu.viz.experiment_plots import ablation_figure
    experiment = ablation.Experiment(result, None, [])
    fig = ablation_figure(experiment)
    ax = fig.axes[1]
    assert "stops improving" not in ax.get_title() and "need not keep falling" in ax.get_title()
    curves = [line.get_ydata() for line in ax.get_lines() if len(line.get_ydata()) == K + N + 1]
    for mu in ablation.DEFAULT_MOMENTA:                          # for every μ, the removed and the kept loss
        traces = result.traces[("lr-inside", mu)]
        for run in ("removed", "kept"):
            assert any(np.array_equal(c, traces[run].loss) for c in curves), (mu, run)


def test_buffers_grow_by_a_fixed_factor_under_a_steady_gradient():
    """PyTorch's b → |∇L|/(1 − μ); the lr-inside m → η·|∇L|/(1 − μ); the EMA's v → |∇L|."""
    g, lr, mu = 2.5, 0.01, 0.9
    buffers = {}
    for cls, key, hyper in ((optim.SGD, "momentum_buffer", {"momentum": mu}),
                            (optim.Momentum, "momentum_buffer", {"momentum": mu}),
                            (optim.EMAMomentum, "velocity", {"beta": mu})):
        w = Tensor([0.0], requires_grad=True)
        opt = cls([w], lr=lr, **hyper)
        for _ in range(400):
            w.grad = np.array([g])
            opt.step()
        buffers[cls.__name__] = opt.state[0][key][0]
    assert buffers["SGD"] == pytest.approx(g / (1 - mu), rel=1e-12)               # 25: ten times the gradient
    assert buffers["Momentum"] == pytest.approx(lr * g / (1 - mu), rel=1e-12)     # 0.25: η times that
    assert buffers["EMAMomentum"] == pytest.approx(g, rel=1e-12)


# ----- the popular answer's limit of the coasting step ----------------------------------------------

def coast(first_step, mu, steps):
    """One weight: one gradient-driven step of exactly `first_step`, then `steps` steps without the gradient."""
    w = Tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # μ >= 1 warns: the point here
        opt = optim.MomentumWithoutLR([w], lr=1.0, momentum=mu, warmup_steps=1)
    w.grad = np.array([-first_step])
    opt.step()
    updates = []
    for _ in range(steps):
        before = w.item()
        opt.step()
        updates.append(w.item() - before)
    return np.array(updates)


@pytest.mark.parametrize("mu, first_step, right, claimed", [
    (0.5, 2.0, 0.0, 0.0),              # μ < 1: 0, as the answer says
    (0.5, -3.0, 0.0, 0.0),
    (1.0, 0.0, 0.0, 0.0),              # μ = 1: Δw₀ itself; the answer is right only at 0 and 1
    (1.0, 1.0, 1.0, 1.0),
    (1.0, 0.5, 0.5, 0.0),
    (1.0, -3.0, -3.0, 0.0),
    (1.0, 2.0, 2.0, math.inf),         # its "otherwise" branch: ∞ for Δw₀ > 1
    (1.01, 2.0, math.inf, math.inf),   # μ > 1: ±∞ with the sign of Δw₀, 0 for Δw₀ = 0
    (1.01, -3.0, -math.inf, math.inf),
    (1.01, 0.0, 0.0, math.inf),
])
def test_each_limit_branch_against_a_run(mu, first_step, right, claimed):
    assert ablation.step_limit(mu, first_step) == right
    assert ablation.answer_limit(mu, first_step) == claimed
    updates = coast(first_step, mu, 3000)
    if mu < 1 or first_step == 0:
        assert updates[-1] == 0.0
    elif mu == 1:
        assert np.all(updates == first_step)                 # every step is the first, exactly
    else:
        assert np.sign(updates[-1]) == np.sign(first_step) and abs(updates[-1]) > 1e12
        np.testing.assert_allclose(updates[1:] / updates[:-1], mu, rtol=1e-12)


def test_limit_text_names_what_each_mu_does():
    assert ablation.limit_text(0.9) == "stops after 9·Δw"
    assert ablation.limit_text(1.0) == "drifts: every step is Δw"
    assert ablation.limit_text(1.01).startswith("runs away")


# ----- the report prints what was asked for, in 100 columns ------------------------------------------

def test_the_report_prints_only_the_forms_asked_for():
    lr_inside = ablation.run_experiment(["lr-inside"], [0.9, 1.0], k=5, steps=5)
    assert lr_inside.scale is None and {c.form for c in lr_inside.lr_changes} == {"lr-inside"}
    text = ablation.format_report(lr_inside)
    assert "[lr-inside]" in text and "-0.1, -0.2, -0.3" in text
    for other in ("[pytorch]", "[ema]", "Part 2", "EMAMomentum", "SGD(momentum"):
        assert other not in text, other
    assert not [line for line in text.splitlines() if line.startswith(("pytorch", "ema"))]
    pytorch = ablation.format_report(ablation.run_experiment(["pytorch"], [0.9], k=5, steps=5))
    assert "[pytorch]" in pytorch and "-0.1, -0.119, -0.1461" in pytorch
    assert "[lr-inside]" not in pytorch and not [line for line in pytorch.splitlines()
                                                 if line.startswith(("lr-inside", "ema"))]
    from tinygrad_edu.viz.experiment_plots import ablation_figure
    assert len(ablation_figure(lr_inside).axes) == 6                # part 2's panels say how to see it


def test_every_report_line_fits_in_100_columns():
    every = ablation.run_experiment(ablation.FORMS, ablation.DEFAULT_MOMENTA, k=5, steps=5)
    text = ablation.format_report(every)
    for form in ablation.FORMS:
        assert f"[{form}]" in text
    assert "Part 2" in text and "diverges" in text and "crawls" in text
    runaway_run = ablation.run_experiment(["lr-inside"], [2.0], k=3, steps=60)
    assert runaway_run.coasting.rows[0].error < 1e-12       # relative to the displacement: round-off, at any size
    runaway = ablation.format_report(runaway_run)
    for line in (text + "\n" + runaway).splitlines():
        assert len(line) <= 100, (len(line), line)


def test_round_off_and_chaotic_numbers_are_not_printed():
    """The closed-form error is round-off (its digits differ by BLAS kernel); a diverged loss is chaotic."""
    every = ablation.run_experiment(["lr-inside", "ema"], [0.9, 1.0], k=5, steps=5)
    text = ablation.format_report(every)
    assert "< 1e-12" in text
    assert all(r.error < 1e-12 for r in every.coasting.rows if r.allowed)
    diverged = [r for r in every.scale.rows if r.diverged]
    assert diverged and "0.943 → diverged" in text
    for r in diverged:
        assert f"{r.loss_end:.3g}" not in text


# ----- landscapes: Rosenbrock's curvature and SGD's learning-rate limit -----------------------------

def rosenbrock_hessian(x, y):
    """By hand: f_xx = 2 − 400(y − x²) + 800x², f_xy = −400x, f_yy = 200."""
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def largest_curvature(x, y):
    return float(np.linalg.eigvalsh(rosenbrock_hessian(x, y))[-1])


def test_rosenbrock_curvatures():
    assert round(largest_curvature(-1.2, 1.0)) == 1506                  # at the start
    assert round(largest_curvature(1.5, 2.25)) == round(largest_curvature(-1.5, 2.25)) == 2002   # floor, |x| = 1.5
    at_minimum = np.linalg.eigvalsh(rosenbrock_hessian(1.0, 1.0))
    assert round(at_minimum[-1]) == 1002 and round(at_minimum[0], 1) == 0.4
    np.testing.assert_allclose(L.hessian("rosenbrock", (1.0, 1.0)), rosenbrock_hessian(1.0, 1.0), rtol=1e-6)
    np.testing.assert_allclose(L.hessian("rosenbrock", (-1.2, 1.0)), rosenbrock_hessian(-1.2, 1.0), rtol=1e-6)
    assert 1.99e-3 < 2 / at_minimum[-1] < 2.01e-3                       # SGD's limit: 2/λ_max at the minimum


def sgd_on_rosenbrock(lr, steps):
    """SGD (the optimizer) from (−1.2, 1), with the hand-derived gradient written into .grad."""
    p = Tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    path = np.empty((steps + 1, 2))
    path[0] = p.data
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            x, y = p.data
            p.grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
            opt.step()
            path[t + 1] = p.data
    return path


def test_the_hand_gradient_loop_is_the_landscape_run():
    np.testing.assert_allclose(sgd_on_rosenbrock(1.5e-3, 200), L.run_trajectory("rosenbrock", "sgd", steps=200).path,
                               rtol=1e-12, atol=1e-14)


def test_sgd_on_rosenbrock_converges_below_2_over_lambda_max_and_bounces_above():
    distance = np.linalg.norm(sgd_on_rosenbrock(1.99e-3, 20000) - 1.0, axis=1)
    assert distance[-1] < 1e-5                                          # converges at 1.99e-3
    for lr in (2.01e-3, 4e-3, 6e-3, 6.1e-3):                            # bounded, but never settles
        path = sgd_on_rosenbrock(lr, 5000)
        assert np.abs(path).max() < 2
        assert np.linalg.norm(path[-500:] - 1.0, axis=1).min() > 5e-3, lr
    for lr in (6.2e-3, 7e-3, 1e-2):                                     # leaves every bound within a few steps
        tr = L.run_trajectory("rosenbrock", "sgd", lr=lr, steps=1000)
        assert tr.diverged_at is not None and tr.diverged_at < 20, lr


def test_rosenbrock_header_states_the_limit():
    text = L.describe("rosenbrock")
    assert "1002" in text and "0.001997" in text and "η = 0.0015: below" in text
    assert "not below" in L.describe("rosenbrock", lr=3e-3)
    assert "~1000" not in L.__doc__ and "diverges above" not in L.__doc__


# ----- landscapes: the saddle's escape factor -----------------------------------------------------

def larger_root(b, c):
    """The larger root of z² − b·z + c = 0, by the quadratic formula."""
    return (b + math.sqrt(b * b - 4 * c)) / 2


@pytest.mark.parametrize("name, expected", [("sgd", 1.1), ("momentum", larger_root(1 + 0.9 + 0.02, 0.9))])
def test_saddle_escape_factor_against_a_run(name, expected):
    fn = L.LANDSCAPES["saddle"]
    tr = L.run_trajectory("saddle", name, start=(1.5, 1e-9), steps=120)  # y stays tiny: the linear regime
    ratio = tr.path[61:, 1] / tr.path[60:-1, 1]
    np.testing.assert_allclose(ratio, expected, rtol=1e-6)
    hyper = tr.hyperparameters
    mu = hyper.get("momentum", 0.9 if name == "momentum" else 0.0)         # (0.9: Momentum's default)
    assert L.growth_factor(hyper["lr"], mu, -1.0) == pytest.approx(expected, rel=1e-12)
    assert fn.lr[name] == hyper["lr"]
    assert f"×{expected:.4g}" in L.describe("saddle")
    assert round(larger_root(1.92, 0.9), 3) == 1.107                    # the docstring's number, not 1 + η = 1.02


# ----- landscapes: the header reports the hyperparameters actually used ----------------------------

def test_header_reports_the_momentum_actually_used():
    default = L.header("quadratic")
    assert "μ = 0.9," in default and "×0.949 per step" in default
    high = L.header("quadratic", momentum=0.99)
    assert "μ = 0.99," in high and "μ = 0.9," not in high and "×0.995 per step" in high
    low = L.header("quadratic", momentum=0.5)
    assert "μ = 0.5," in low and "overshoots along y" in low
    assert "η = 0.01" in L.header("ravine", lr=0.01) and L.header("ravine", lr=0.01).count("η = 0.01") == 2
    for name in L.landscape_names():
        for mu in (None, 0.5, 0.99):
            assert all(len(line) <= 100 for line in L.header(name, momentum=mu).splitlines())
        assert L.header(name).startswith(f"{name}: {L.LANDSCAPES[name].formula}")
        assert L.LANDSCAPES[name].note == L.describe(name)


@pytest.mark.parametrize("name, mu", [("quadratic", None), ("quadratic", 0.5), ("quadratic", 0.99),
                                      ("ravine", None), ("ravine", 0.99)])
def test_described_behaviour_is_what_the_walk_does(name, mu):
    sgd, momentum = L.run_trajectories(name, ["sgd", "momentum"], momentum=mu, steps=300)
    text = L.describe(name, momentum=mu)
    sgd_text, momentum_text = text.split("; momentum")
    for tr, said in ((sgd, sgd_text), (momentum, momentum_text)):
        hyper = tr.hyperparameters
        mu_used = hyper.get("momentum", 0.9 if tr.optimizer == "momentum" else 0.0)   # (0.9: Momentum's default)
        curvatures = np.diag(L.hessian(name, (0.0, 0.0)))
        rate = max(L.growth_factor(hyper["lr"], mu_used, lam) for lam in curvatures)
        assert f"×{rate:.3g} per step" in said
        measured = (tr.distance()[200] / tr.distance()[100]) ** (1 / 100)   # the distance shrinks by ~rate
        assert measured == pytest.approx(rate, rel=2e-2)
        x_flips, y_flips = tr.sign_changes(0, steps=150), tr.sign_changes(1, steps=150)
        if "without overshooting" in said:
            assert x_flips == y_flips == 0
        if "spirals in" in said:
            assert x_flips >= 1 and y_flips >= 1
        if "overshoots along y" in said:
            assert x_flips == 0 and y_flips >= 1
        if "y flips sign every step" in said:
            assert y_flips == 150


def test_default_learning_rates_are_inside_the_stability_limits():
    """The landscape comment: SGD can settle only while η < 2/λ_max, momentum while η < (2 + 2μ)/λ_max."""
    for name, fn in L.LANDSCAPES.items():
        for minimum in fn.minima:
            steepest = float(np.linalg.eigvalsh(L.hessian(name, minimum))[-1])
            assert fn.lr["sgd"] < 2 / steepest, name
            assert fn.lr["momentum"] < (2 + 2 * 0.9) / steepest, name


def test_adaptive_first_steps_as_the_landscape_comment_says():
    """Adagrad's first step is lr, RMSprop's lr/√(1 − α) = 10·lr, Adam's lr, whatever the gradient's size."""
    for g in (1e-3, 1.0, 250.0):
        for cls, factor in ((optim.Adagrad, 1.0), (optim.RMSprop, 1 / math.sqrt(1 - 0.99)), (optim.Adam, 1.0)):
            w = Tensor([0.0], requires_grad=True)
            opt = cls([w], lr=0.01)
            w.grad = np.array([g])
            opt.step()
            assert -w.item() == pytest.approx(0.01 * factor, rel=1e-4), (cls.__name__, g)


# ----- Adam: how far one step can move a weight -------------------------------------------------------

def adam_steps(gradients, lr=0.01, **hyper):
    w = Tensor([0.0], requires_grad=True)
    opt = optim.Adam([w], lr=lr, **hyper)
    steps = np.empty(len(gradients))
    for t, g in enumerate(gradients):
        w.grad = np.array([float(g)])
        before = w.item()
        opt.step()
        steps[t] = before - w.item()
    return steps / lr                        # in units of η


B1, B2 = 0.9, 0.999
SPARSE_BOUND = (1 - B1) / math.sqrt(1 - B2)                          # ≈ 3.16: a lone spike after quiet
WORST_CASE = (1 - B1) / math.sqrt((1 - B2) * (1 - B1 ** 2 / B2))     # ≈ 7.27: any gradients at all


def test_adam_numbers_in_the_docstring():
    assert round(SPARSE_BOUND, 2) == 3.16 and round(WORST_CASE, 2) == 7.27 and round(B2 / B1, 2) == 1.11


@pytest.mark.parametrize("g", [1e-3, 1.0, 1e3])
def test_adam_moves_by_eta_under_a_steady_gradient(g):
    np.testing.assert_allclose(adam_steps([g] * 50), 1.0, rtol=1e-4)


def test_adam_after_a_spike_moves_by_up_to_3_16_eta():
    late = adam_steps([0.0] * 10000 + [1.0])[-1]
    assert SPARSE_BOUND * (1 - 1e-4) < late <= SPARSE_BOUND                # approached, and it holds
    early = adam_steps([0.0] * 1000 + [1.0])[-1]
    assert round(early, 1) == 2.5                                         # the bias corrections hold it back
    for quiet in (10, 100, 1000):
        assert adam_steps([0.0] * quiet + [5.0])[-1] <= SPARSE_BOUND
    # it is not a bound for every spike: on top of a steady gradient the step goes further
    on_steady = adam_steps([1.0] * 10000 + [111.0])[-1]
    assert on_steady > SPARSE_BOUND + 0.1 and round(on_steady, 2) == 3.29


def test_adam_worst_case_step_is_approached_by_a_growing_gradient():
    growing = adam_steps([0.0] * 5000 + list((B2 / B1) ** np.arange(300)))
    assert WORST_CASE - 0.03 < growing.max() <= WORST_CASE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.booleans())
def test_adam_never_moves_a_weight_by_more_than_7_27_eta(gradients, amsgrad):
    assert np.all(np.abs(adam_steps(gradients, amsgrad=amsgrad)) <= WORST_CASE * (1 + 1e-12))


# ----- HeavyBall: a schedule changes dt, and dt enters twice -----------------------------------------

def test_heavy_ball_lr_times_0_1_is_eta_times_0_01_and_mu_0_99():
    rng = np.random.default_rng(0)
    A = np.diag([1.0, 3.0])
    start = rng.standard_normal(2)
    ball = Tensor(start.copy(), requires_grad=True)
    opt = optim.HeavyBall([ball])                                        # mass 1, friction 1, dt 0.1
    assert optim.HeavyBall.as_momentum(opt.mass, opt.friction, opt.lr) == pytest.approx(
        {"lr": 0.01, "momentum": 0.9})
    schedule = optim.StepLR(opt, step_size=5, gamma=0.1)
    for _ in range(5):
        ball.grad = A @ ball.data
        opt.step()
        schedule.step()
    assert opt.lr == opt.dt == pytest.approx(0.01)
    after = optim.HeavyBall.as_momentum(opt.mass, opt.friction, opt.dt)
    assert after == pytest.approx({"lr": 1e-4, "momentum": 0.99})        # ×0.01 on η, and μ 0.9 → 0.99
    # from here on the ball is Momentum(1e-4, 0.99), its buffer m = −dt·v at the new dt
    twin = Tensor(ball.data.copy(), requires_grad=True)
    momentum = optim.Momentum([twin], **after)
    momentum.state[0]["momentum_buffer"] = -opt.dt * opt.state[0]["velocity"]
    for _ in range(30):
        ball.grad = A @ ball.data
        twin.grad = A @ twin.data
        opt.step()
        momentum.step()
        np.testing.assert_allclose(twin.data, ball.data, rtol=0, atol=1e-14)


# ----- the docstrings say what the tests above establish ---------------------------------------------

def test_landscape_docstring_rates():
    quadratic, ravine = L.LANDSCAPES["quadratic"], L.LANDSCAPES["ravine"]
    assert [L.heavy_ball_roots(quadratic.lr["sgd"], 0.0, lam)[0].real for lam in (1, 2)] == pytest.approx([0.7, 0.4])
    for lam in (1, 2):                                       # complex roots: it spirals, shrinking by √μ
        roots = L.heavy_ball_roots(quadratic.lr["momentum"], 0.9, lam)
        assert abs(roots[0].imag) > 0 and round(abs(roots[0]), 3) == 0.949
        assert round(L.growth_factor(quadratic.lr["momentum"], 0.99, lam), 3) == 0.995
    assert ravine.lr["sgd"] == round(2 / 101, 4)
    assert [round(L.heavy_ball_roots(ravine.lr["sgd"], 0.0, lam)[0].real, 2) for lam in (1, 100)] == [0.98, -0.98]
    for lam in (1, 100):
        roots = L.heavy_ball_roots(ravine.lr["momentum"], 0.9, lam)
        assert abs(roots[0].imag) > 0 and round(abs(roots[0]), 3) == 0.949


@pytest.mark.parametrize("obj, gone, there", [
    (ablation, ["stops improving once", "always wins", "goes on improving"],
     ["may go on falling", "19 steps", "0.499", "0.383", "η·|∇L|/(1 − μ)"]),
    (optim.MomentumWithoutLR, ["the loss stops improving"],
     ["without the minus sign", "−∞ for Δw₀ < 0 and 0 for Δw₀ = 0", "not ∞ for Δw₀ > 1", "may still fall"]),
    (ablation.answer_limit, [], ["without the minus sign", "−η·∇L"]),
    (optim.Adam, ["about η per step,\n    whatever"], ["3.16η", "2.5η", "3.29η", "7.27η", "1.11 per step"]),
    (optim.HeavyBall, [], ["by 0.1 multiplies η by 0.01", "Momentum(0.0001, 0.99)"]),
    (optim.HeavyBall.lr, [], ["η ×0.01, μ 0.9 → 0.99"]),
    (optim.Momentum, [], ["lecture notes", "without the minus sign"]),
    (optim.EMAMomentum, [], ["popular Q&A question"]),
    (L, ["~1000", "diverges above", "(1 + η) per step"],
     ["1002", "1506", "2002", "0.4 at the minimum", "1.99e-3", "2.01e-3", "6.1e-3", "6.2e-3", "1.107", "0.949",
      "0.995"]),
])
def test_docstrings_state_the_measured_claims(obj, gone, there):
    doc = " ".join(obj.__doc__.split())                  # line breaks do not matter
    for text in gone:
        assert " ".join(text.split()) not in doc, text
    for text in there:
        assert text in doc, text


def test_ema_momentum_starts_biased_towards_zero():
    """EMAMomentum's docstring: under a constant g, v_t = (1 − βᵗ)·g (Adam divides this bias out; it does not)."""
    w = Tensor([0.0], requires_grad=True)
    opt = optim.EMAMomentum([w], lr=0.1, beta=0.9)
    for t in range(1, 30):
        w.grad = np.array([3.0])
        opt.step()
        assert opt.state[0]["velocity"][0] == pytest.approx((1 - 0.9 ** t) * 3.0, rel=1e-12)
