"""Momentum without a learning rate: closed forms, gradient-freeness, cosines, the three forms, the EMA bound."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, ablation, optim

K, N = 15, 40          # short runs: the closed form holds at any length


@pytest.fixture(scope="module")
def coasting():
    return ablation.momentum_without_lr(k=K, steps=N)


def rows(result, form):
    return {r.momentum: r for r in result.rows if r.form == form}


# ----- the closed form ---------------------------------------------------------------------------

def test_coasting_factor_by_hand():
    assert ablation.coasting_factor(0.5, 3) == pytest.approx(0.5 + 0.25 + 0.125, rel=1e-15)
    assert ablation.coasting_factor(0.9, 2) == pytest.approx(0.9 + 0.81, rel=1e-15)
    assert ablation.coasting_factor(1.0, 7) == 7                                  # μ = 1: n·Δw, constant drift
    assert ablation.coasting_factor(1.01, 3) == pytest.approx(1.01 + 1.01 ** 2 + 1.01 ** 3, rel=1e-14)
    assert ablation.coasting_factor(0.9, math.inf) == pytest.approx(9.0)          # stops after 9 more Δw
    assert ablation.coasting_factor(1.0, math.inf) == math.inf


def test_displacement_after_removal_equals_the_closed_form_for_every_mu(coasting):
    lr_inside = rows(coasting, "lr-inside")
    assert sorted(lr_inside) == sorted(ablation.DEFAULT_MOMENTA)
    for mu, row in lr_inside.items():
        trace = coasting.traces[("lr-inside", mu)]["removed"]
        w = trace.weights
        last = w[K] - w[K - 1]
        for n in (1, 2, 10, N):
            predicted = last * ablation.coasting_factor(mu, n)
            np.testing.assert_allclose(w[K + n] - w[K], predicted, rtol=1e-9, atol=1e-12 * np.abs(last).max())
        assert row.error < 1e-10
        assert row.predicted == pytest.approx(row.measured, rel=1e-10)


def test_each_coasting_step_is_mu_times_the_previous_one(coasting):
    """Δw_t = μ·Δw_{t−1}: shrinking (μ < 1), constant drift (μ = 1), runaway (μ > 1)."""
    for mu in (0.5, 0.9, 1.0, 1.01):
        w = coasting.traces[("lr-inside", mu)]["removed"].weights
        steps = np.diff(w[K - 1:K + 12], axis=0)          # Δw (last driven), then 11 coasting steps
        for j in range(1, len(steps)):
            np.testing.assert_allclose(steps[j], mu ** j * steps[0], rtol=1e-9, atol=1e-15)
    drift = coasting.traces[("lr-inside", 1.0)]["removed"].update_norm[K:]
    np.testing.assert_allclose(drift, drift[0], rtol=1e-9)                     # μ = 1: constant speed
    runaway = coasting.traces[("lr-inside", 1.01)]["removed"].update_norm[K:]
    np.testing.assert_allclose(runaway[1:] / runaway[:-1], 1.01, rtol=1e-8)  # μ > 1: geometric growth
    assert runaway[-1] > runaway[0] * 1.01 ** (N - 2)


def test_momentum_with_lr_set_to_zero_is_momentum_without_lr_bit_for_bit():
    problem = ablation.make_problem("moons", 0)
    a = ablation.run("lr-inside", 0.9, 0.005, K, 10, before=problem)
    model = ablation.make_model(0)
    opt = optim.Momentum(model.parameters(), lr=0.005, momentum=0.9)
    for t in range(K + 10):
        if t == K:
            opt.lr = 0.0
        opt.zero_grad()
        problem.loss(model).backward()
        opt.step()
    assert np.array_equal(np.concatenate([p.data.ravel() for p in model.parameters()]), a.weights[-1])


# ----- gradient-free -----------------------------------------------------------------------------

def test_coasting_is_identical_bit_for_bit_on_another_data_set(coasting):
    for row in coasting.rows:
        if row.allowed:
            assert row.gradient_free and row.other_data_difference == 0.0
            removed = coasting.traces[(row.form, row.momentum)]["removed"]
            other = coasting.traces[(row.form, row.momentum)]["other"]
            assert np.array_equal(removed.weights, other.weights)
    for proof in coasting.proofs:
        assert proof.identical and proof.max_difference == 0.0
        assert proof.gradient_cosine < 0.5 and proof.gradient_difference > 0.5   # the data sets disagree ...
        assert proof.max_difference_kept > 1e-2                                  # ... which matters while η drives


def test_coasting_needs_no_backward_at_all():
    model = ablation.make_model(0)
    problem = ablation.make_problem("moons", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = optim.MomentumWithoutLR(model.parameters(), lr=0.005, momentum=1.0, warmup_steps=K)
    for t in range(K + 10):
        opt.zero_grad()
        if t < K:
            problem.loss(model).backward()     # afterwards: no loss, no gradient, still moving
        opt.step()
    reference = ablation.run("lr-inside", 1.0, 0.005, K, 10, before=problem)
    assert np.array_equal(np.concatenate([p.data.ravel() for p in model.parameters()]), reference.weights[-1])


def test_cosine_is_near_one_while_the_gradient_drives_and_unrelated_after(coasting):
    for mu, row in rows(coasting, "lr-inside").items():
        assert row.cos_driven > 0.95 and row.cos_last_driven > 0.9
        trace = coasting.traces[("lr-inside", mu)]["removed"]
        coast = np.diff(trace.weights[K:K + 20], axis=0)
        if mu > 0.5:     # (at μ = 0.5 the steps underflow to exactly 0 after a few dozen steps)
            # the direction is frozen: every coasting update is parallel to the last driven one
            cos = coast @ (trace.weights[K] - trace.weights[K - 1]) / (
                np.linalg.norm(coast, axis=1) * np.linalg.norm(trace.weights[K] - trace.weights[K - 1]))
            np.testing.assert_allclose(cos, 1.0, atol=1e-9)
        # the same updates, measured against another data set's gradient, give another cosine
        assert abs(row.cos_coasting - row.cos_coasting_other) > 0.3
    lr_inside = rows(coasting, "lr-inside")
    for mu in (0.99, 1.0, 1.01):                 # carried past the minimum: now moving uphill
        assert lr_inside[mu].cos_end < 0


def test_after_the_removal_the_gradient_no_longer_steers_the_loss(coasting):
    """The loss follows the frozen motion: frozen (stop-dead forms), fading out (μ <= 0.9), or over the valley and up."""
    for row in coasting.rows:
        if not row.allowed:
            continue
        trace = coasting.traces[(row.form, row.momentum)]["removed"]
        if row.form != "lr-inside":
            assert np.all(trace.loss[K:] == trace.loss[K])     # stopped dead: not one more step
        elif row.momentum <= 0.9:                               # coasting to a stop: progress fades out
            assert row.falls_after_removal
            assert abs(trace.loss[-1] - trace.loss[-6]) < 0.1 * abs(trace.loss[K + 5] - trace.loss[K])
        else:                                                   # down into the valley, past its floor, and up
            assert row.falls_after_removal and row.loss_end > row.loss_best_after + 0.05
        if row.momentum <= 0.9:
            assert row.loss_end > row.loss_kept + 0.01         # here keeping η would have gone further


def test_pytorch_and_ema_forms_stop_dead_and_refuse_mu_of_one_or_more(coasting):
    for form in ("pytorch", "ema"):
        for mu, row in rows(coasting, form).items():
            if mu >= 1:
                assert not row.allowed and "out of range" in row.note and "< 1" in row.note
                continue
            assert row.measured == 0.0 and row.predicted == 0.0
            assert row.loss_end == row.loss_at_removal
            w = coasting.traces[(form, mu)]["removed"].weights
            assert np.array_equal(w[K:], np.broadcast_to(w[K], w[K:].shape))


def test_before_the_removal_the_three_forms_are_the_same_run(coasting):
    for mu in (0.5, 0.9, 0.99):
        w = {f: coasting.traces[(f, mu)]["removed"].weights[:K + 1] for f in ablation.FORMS}
        np.testing.assert_allclose(w["pytorch"], w["lr-inside"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(w["ema"], w["lr-inside"], rtol=0, atol=1e-12)


def test_same_seed_same_numbers():
    a = ablation.momentum_without_lr(["lr-inside"], [0.9], k=5, steps=5, seed=3)
    b = ablation.momentum_without_lr(["lr-inside"], [0.9], k=5, steps=5, seed=3)
    assert ablation.as_dict(a) == ablation.as_dict(b)
    assert np.array_equal(a.traces[("lr-inside", 0.9)]["removed"].weights,
                          b.traces[("lr-inside", 0.9)]["removed"].weights)


# ----- what each form does when the learning rate changes ---------------------------------------

def test_lr_drop_by_hand():
    """g = 1, μ = 0.9, η: 0.1 then 0.01. By hand:
    lr-inside  m = 0.1;  0.9·0.1 + 0.01 = 0.1;  again 0.1          → updates −0.1, −0.1, −0.1
    pytorch    b = 1, 1.9, 2.71;  η·b = 0.1, 0.019, 0.0271         → updates −0.1, −0.019, −0.0271
               (−0.1, −0.119, −0.1461 are the positions w − w₀ it reaches, not its updates)
    ema        v = 0.1, 0.19, 0.271;  α·v = 0.01, 0.0019, 0.00271   → updates −0.01, −0.0019, −0.00271
    """
    lrs = (0.1, 0.01, 0.01)
    got = {f: ablation.lr_change(f, lrs=lrs) for f in ablation.FORMS}
    np.testing.assert_allclose(got["lr-inside"].updates, [-0.1, -0.1, -0.1], rtol=1e-12)
    np.testing.assert_allclose(got["pytorch"].updates, [-0.1, -0.019, -0.0271], rtol=1e-12)
    np.testing.assert_allclose(got["pytorch"].positions, [-0.1, -0.119, -0.1461], rtol=1e-12)
    np.testing.assert_allclose(got["ema"].updates, [-0.01, -0.0019, -0.00271], rtol=1e-12)


def test_lr_to_zero_lr_inside_coasts_the_others_stop_dead():
    got = {f: ablation.lr_change(f, lrs=(0.1, 0.0, 0.0, 0.0)) for f in ablation.FORMS}
    np.testing.assert_allclose(got["lr-inside"].updates, [-0.1, -0.09, -0.081, -0.0729], rtol=1e-12)
    assert got["pytorch"].updates[1:] == [0.0, 0.0, 0.0]
    assert got["ema"].updates[1:] == [0.0, 0.0, 0.0]


# ----- part 2: the EMA form with α = 1 ----------------------------------------------------------

@pytest.fixture(scope="module")
def scale():
    return ablation.ema_loss_scale(alphas=(0.1, 10.0, 1000.0))


def test_ema_with_alpha_one_diverges_at_x100_and_crawls_at_x001(scale):
    by = {(r.scale, r.tuned): r for r in scale.rows}
    assert by[(100.0, False)].diverged and by[(100.0, False)].verdict == "diverges"
    assert by[(0.01, False)].verdict == "crawls" and by[(0.01, False)].loss_end > 0.4
    assert by[(1.0, False)].verdict == "learns"
    for s in (0.01, 1.0, 100.0):                       # a tuned α handles every scale ...
        tuned = by[(s, True)]
        assert tuned.verdict == "learns" and tuned.loss_end < 0.01
        assert tuned.alpha * s == pytest.approx(10.0)  # ... and it is ∝ 1/scale


def test_only_alpha_times_scale_matters(scale):
    np.testing.assert_allclose(scale.curves[(0.01, 1000.0)], scale.curves[(1.0, 10.0)], rtol=1e-9)
    np.testing.assert_allclose(scale.curves[(100.0, 0.1)], scale.curves[(1.0, 10.0)], rtol=1e-9)
    np.testing.assert_allclose(scale.curves[(0.01, 10.0)], scale.curves[(1.0, 0.1)], rtol=1e-9)
    np.testing.assert_allclose(scale.curves[(100.0, 10.0)][:5], scale.curves[(1.0, 1000.0)][:5], rtol=1e-9)


def test_ema_velocity_never_exceeds_the_largest_gradient_in_the_runs(scale):
    for row in scale.rows:
        assert row.bound_ratio <= 1 + 1e-12
    by = {(r.scale, r.tuned): r for r in scale.rows}
    for s in (0.01, 1.0, 100.0):                       # α = 1: the step is v, so |Δw| <= max |g| too
        assert by[(s, False)].max_step <= by[(s, False)].max_gradient * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(0.0, 0.999),
       grads=st.lists(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3), min_size=1, max_size=30))
def test_ema_velocity_bound_property(beta, grads):
    """|v_t| <= max over s <= t of |g_s|, per weight: v is an average with weights summing to 1 − βᵗ <= 1."""
    w = Tensor(np.zeros(3), requires_grad=True)
    opt = optim.EMAMomentum([w], lr=1.0, beta=beta)
    largest = np.zeros(3)
    for g in grads:
        g = np.array(g)
        np.maximum(largest, np.abs(g), out=largest)
        w.grad = g
        before = w.data.copy()
        opt.step()
        v = opt.state[0]["velocity"]
        assert np.all(np.abs(v) <= largest * (1 + 1e-12))
        assert np.all(np.abs(w.data - before) <= largest * (1 + 1e-12) + 1e-12)   # α = 1: the step is v


# ----- validation and text ------------------------------------------------------------------------

def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match=r"unknown form 'lr-insde'; did you mean 'lr-inside'\?"):
        ablation.momentum_without_lr(["lr-insde"])
    with pytest.raises(ValueError, match=r"momentum -0.5 is out of range; use numbers 0 <= μ <= 2"):
        ablation.momentum_without_lr(momenta=[-0.5])
    with pytest.raises(ValueError, match=r"k=0 must be a whole number >= 1"):
        ablation.momentum_without_lr(k=0)
    with pytest.raises(ValueError, match=r"lr=0 must be a number > 0"):
        ablation.momentum_without_lr(lr=0)
    with pytest.raises(ValueError, match="no momentum values"):
        ablation.check_momenta([])


def test_report_and_figure():
    experiment = ablation.Experiment(
        ablation.momentum_without_lr(k=5, steps=8, momenta=[0.9, 1.0]),
        ablation.ema_loss_scale(alphas=(10.0,), steps=20),
        [ablation.lr_change(f) for f in ablation.FORMS])
    text = ablation.format_report(experiment)
    for needle in ("[lr-inside]", "[pytorch]", "[ema]", "0 (identical, bit for bit)", "refused by the optimizer",
                   "drifts: every step is Δw", "Part 2", "-0.1, -0.119, -0.1461"):
        assert needle in text, needle
    from tinygrad_edu.viz.experiment_plots import ablation_figure
    fig = ablation_figure(experiment)
    assert len(fig.axes) >= 6


# ----- bounded: k or steps too large for memory are refused before any run ------------------------

def test_k_or_steps_of_1e9_are_refused_with_the_memory_they_would_need(monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_MAX_BYTES", raising=False)
    monkeypatch.setattr(ablation, "run", lambda *a, **k: pytest.fail("a run was started"))
    for k, steps in ((10 ** 9, 60), (20, 10 ** 9)):
        with pytest.raises(ablation.AblationSizeError) as info:
            ablation.run_experiment(k=k, steps=steps)
        runs = ablation.RUNS_KEPT * 3 * 5 + ablation.RUNS_EXTRA
        assert info.value.needed == runs * ablation.trace_bytes(k + steps)
        assert str(info.value).startswith(f"the ablation (3 forms × 5 μ × 3 runs, each recording k + steps = "
                                          f"{k + steps:,} steps of 42 weights) would need 15.7 TiB, more than the "
                                          f"memory limit of 2 GiB; use a smaller --k or --steps, or raise the limit")
        assert isinstance(info.value, ValueError)


def test_trace_bytes_is_what_a_trace_holds():
    trace = ablation.run("lr-inside", 0.9, 0.005, 4, 6)
    assert ablation.WEIGHTS == trace.weights.shape[1] == 42
    held = trace.weights.nbytes + trace.loss.nbytes + trace.cosine.nbytes + trace.update_norm.nbytes
    assert ablation.trace_bytes(4 + 6) == held
    need = ablation.check_experiment_size(1, 2, 4, 6)
    assert need == (ablation.RUNS_KEPT * 2 + ablation.RUNS_EXTRA) * held
    ablation.momentum_without_lr(["lr-inside"], [0.5, 0.9], k=4, steps=6, max_bytes=need)    # exactly at the limit
    with pytest.raises(ablation.AblationSizeError):
        ablation.momentum_without_lr(["lr-inside"], [0.5, 0.9], k=4, steps=6, max_bytes=need - 1)


def test_part_2_refuses_steps_it_could_not_hold(monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_MAX_BYTES", raising=False)
    monkeypatch.setattr(ablation, "_ema_run", lambda *a, **k: pytest.fail("a run was started"))
    with pytest.raises(ablation.AblationSizeError) as info:
        ablation.ema_loss_scale(steps=10 ** 9)
    assert info.value.needed == 3 * 8 * 8 * (10 ** 9 + 1)      # 3 scales × 8 α (1 among them), float64 per step
    assert str(info.value).startswith("24 loss curves of 1,000,000,000 steps would need 179 GiB")
