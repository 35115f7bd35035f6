"""Optimizers: every update against its formula, the equivalences between the forms of momentum,
the unrolled sum, the ablation's closed form, saving and resuming, validation, the registry."""
import inspect
import math
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import HyperparameterError


# ----- helpers --------------------------------------------------------------------------

def quadratic_grad(A, b):
    """∇ of L(w) = ½·wᵀAw − bᵀw, a loss whose gradient depends on where the weights are."""
    return lambda w, t: A @ w - b


def run(cls, w0, grad_fn, steps, **hp):
    """Run `steps` optimizer steps on one parameter, with p.grad = grad_fn(w, t); return each w."""
    p = Tensor(np.array(w0, dtype=float), requires_grad=True)
    opt = cls([p], **hp)
    out = []
    for t in range(steps):
        p.grad = grad_fn(p.data.copy(), t)
        opt.step()
        out.append(p.data.copy())
    return np.array(out), opt


@pytest.fixture
def quad():
    rng = np.random.default_rng(7)
    Q = rng.standard_normal((4, 4))
    A = Q @ Q.T / 4 + np.diag([0.5, 1.0, 2.0, 3.0])
    return A, rng.standard_normal(4), rng.standard_normal(4)   # A, b, w0


# ----- each update against its formula, by hand --------------------------------------------

def test_momentum_by_hand():
    # m ← μ·m + η·g; w ← w − m, with η = 0.1, μ = 0.9 and gradients 1, 2, 3
    traj, opt = run(optim.Momentum, [0.0], lambda w, t: np.array([1.0, 2.0, 3.0][t]), 3, lr=0.1, momentum=0.9)
    # m1 = 0.1, m2 = 0.09 + 0.2 = 0.29, m3 = 0.261 + 0.3 = 0.561
    np.testing.assert_allclose(traj[:, 0], [-0.1, -0.39, -0.951], rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [0.561], atol=1e-15)


def test_sgd_by_hand():
    g = lambda w, t: np.array([1.0, 2.0, 3.0][t])
    # plain: w ← w − η·g
    traj, _ = run(optim.SGD, [0.0], g, 3, lr=0.1)
    np.testing.assert_allclose(traj[:, 0], [-0.1, -0.3, -0.6], atol=1e-15)
    # momentum with dampening: b1 = g1 = 1 (no dampening on the first step), b2 = 0.9 + 0.5·2 = 1.9,
    # b3 = 1.71 + 0.5·3 = 3.21
    traj, _ = run(optim.SGD, [0.0], g, 3, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(traj[:, 0], [-0.1, -0.29, -0.611], atol=1e-15)
    # nesterov: b as above without dampening (1, 2.9, 5.61); step g + μ·b = 1.9, 4.61, 8.049
    traj, _ = run(optim.SGD, [0.0], g, 3, lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(traj[:, 0], [-0.19, -0.651, -1.4559], atol=1e-14)
    # weight decay: g' = g + λ·w, from w0 = 1, λ = 0.5, g = 0: w ← w·(1 − ηλ)
    traj, _ = run(optim.SGD, [1.0], lambda w, t: np.zeros(1), 3, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(traj[:, 0], [0.95, 0.9025, 0.857375], atol=1e-15)


def test_ema_momentum_by_hand():
    # v ← β·v + (1 − β)·g;  w ← w − α·v, with α = 1, β = 0.5, g = 2, 4
    traj, opt = run(optim.EMAMomentum, [0.0], lambda w, t: np.array([2.0, 4.0][t]), 2, lr=1.0, beta=0.5)
    # v1 = 1, w1 = −1;  v2 = 0.5 + 2 = 2.5, w2 = −3.5
    np.testing.assert_allclose(traj[:, 0], [-1.0, -3.5], atol=1e-15)
    np.testing.assert_allclose(opt.state[0]["velocity"], [2.5], atol=1e-15)


def test_heavy_ball_by_hand():
    # v ← v + (dt/mass)·(−g − friction·v);  x ← x + dt·v,  mass 2, friction 1, dt 0.5, g = 4, 4
    traj, opt = run(optim.HeavyBall, [0.0], lambda w, t: np.array([4.0]), 2, mass=2.0, friction=1.0, dt=0.5)
    # v1 = 0.25·(−4) = −1, x1 = −0.5;  v2 = −1 + 0.25·(−4 + 1) = −1.75, x2 = −0.5 − 0.875 = −1.375
    np.testing.assert_allclose(traj[:, 0], [-0.5, -1.375], atol=1e-15)
    np.testing.assert_allclose(opt.state[0]["velocity"], [-1.75], atol=1e-15)


def test_nesterov_by_hand():
    # Sutskever: v ← μv − η∇L(w + μv); w ← w + v.  L = ½w² (∇L = w), w0 = 1, η = 0.1, μ = 0.5.
    # step 1: look-ahead 1, v1 = −0.1, w1 = 0.9; the model holds w1 + μ·v1 = 0.85
    # step 2: look-ahead 0.85, v2 = −0.05 − 0.085 = −0.135, w2 = 0.765; the model holds 0.765 − 0.0675 = 0.6975
    traj, _ = run(optim.Nesterov, [1.0], lambda w, t: w, 2, lr=0.1, momentum=0.5)
    np.testing.assert_allclose(traj[:, 0], [0.85, 0.6975], atol=1e-15)


def test_adagrad_by_hand():
    # s ← s + g²;  w ← w − η_t·g/(√s + ε),  η_t = η/(1 + (t − 1)·lr_decay);  g = 3, 4
    traj, _ = run(optim.Adagrad, [0.0], lambda w, t: np.array([3.0, 4.0][t]), 2, lr=1.0, lr_decay=1.0, eps=1e-300)
    # s1 = 9: w1 = −3/3 = −1;  s2 = 25, η_2 = 1/2: w2 = −1 − 0.5·4/5 = −1.4
    np.testing.assert_allclose(traj[:, 0], [-1.0, -1.4], atol=1e-15)


def test_rmsprop_by_hand():
    # s ← α·s + (1 − α)·g²;  w ← w − η·g/(√s + ε);  α = 0.75, g = 2, 2
    traj, _ = run(optim.RMSprop, [0.0], lambda w, t: np.array([2.0]), 2, lr=1.0, alpha=0.75, eps=1e-300)
    # s1 = 1, w1 = −2;  s2 = 0.75 + 1 = 1.75, w2 = −2 − 2/√1.75
    np.testing.assert_allclose(traj[:, 0], [-2.0, -2.0 - 2 / math.sqrt(1.75)], atol=1e-15)
    # centered: ḡ1 = 0.5, d1 = √(1 − 0.25) = √0.75;  momentum 0.5: b1 = 2/√0.75, w1 = −b1
    traj, _ = run(optim.RMSprop, [0.0], lambda w, t: np.array([2.0]), 1, lr=1.0, alpha=0.75, eps=1e-300,
                  centered=True, momentum=0.5)
    np.testing.assert_allclose(traj[:, 0], [-2.0 / math.sqrt(0.75)], atol=1e-15)


def test_adam_by_hand():
    # m̂ and v̂ are bias corrected: after one step m̂ = g and v̂ = g², so the step is η·g/(|g| + ε)
    traj, _ = run(optim.Adam, [0.0, 0.0], lambda w, t: np.array([3.0, -0.5]), 1, lr=0.1, eps=1e-300)
    np.testing.assert_allclose(traj[0], [-0.1, 0.1], atol=1e-15)
    # step 2 with g = 1 then 3, β = (0.5, 0.5): m = 0.5, then 0.25 + 1.5 = 1.75; v = 0.5, then 0.25 + 4.5 = 4.75
    # m̂2 = 1.75/0.75, v̂2 = 4.75/0.75;  w2 = −0.1 − 0.1·(1.75/0.75)/√(4.75/0.75)
    traj, _ = run(optim.Adam, [0.0], lambda w, t: np.array([1.0, 3.0][t]), 2, lr=0.1, betas=(0.5, 0.5), eps=1e-300)
    np.testing.assert_allclose(traj[:, 0], [-0.1, -0.1 - 0.1 * (1.75 / 0.75) / math.sqrt(4.75 / 0.75)], atol=1e-15)
    # AdamW with g = 0 everywhere but w0 = 1: only the decay acts, w ← w·(1 − ηλ)
    traj, _ = run(optim.AdamW, [1.0], lambda w, t: np.zeros(1), 3, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(traj[:, 0], [0.95, 0.9025, 0.857375], atol=1e-15)


def test_amsgrad_uses_the_largest_second_moment():
    # g = 10 then 0: v shrinks, v_max keeps the peak, so AMSGrad's step 2 is smaller than Adam's
    grads = lambda w, t: np.array([10.0, 1.0][t])
    plain, _ = run(optim.Adam, [0.0], grads, 2, lr=0.1, betas=(0.0, 0.5))
    ams, opt = run(optim.Adam, [0.0], grads, 2, lr=0.1, betas=(0.0, 0.5), amsgrad=True)
    # v1 = 50, v2 = 25.5; v_max = 50;  bias-corrected: v̂ = v/(1 − 0.25)
    np.testing.assert_allclose(ams[1, 0] - ams[0, 0], -0.1 * 1 / (math.sqrt(50 / 0.75) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(plain[1, 0] - plain[0, 0], -0.1 * 1 / (math.sqrt(25.5 / 0.75) + 1e-8), rtol=1e-14)
    np.testing.assert_array_equal(opt.state[0]["max_exp_avg_sq"], [50.0])


# ----- longer runs against the formula written as a plain NumPy loop -------------------------

@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_momentum_and_ema_against_numpy_loop(quad, mu):
    A, b, w0 = quad
    grad = quadratic_grad(A, b)
    traj, _ = run(optim.Momentum, w0, grad, 30, lr=0.05, momentum=mu)
    w, m = w0.copy(), np.zeros(4)
    for t in range(30):
        m = mu * m + 0.05 * grad(w, t)
        w = w - m
        np.testing.assert_allclose(traj[t], w, rtol=0, atol=1e-13)
    traj, _ = run(optim.EMAMomentum, w0, grad, 30, lr=0.3, beta=mu)
    w, v = w0.copy(), np.zeros(4)
    for t in range(30):
        v = mu * v + (1 - mu) * grad(w, t)
        w = w - 0.3 * v
        np.testing.assert_allclose(traj[t], w, rtol=0, atol=1e-13)


# ----- the equivalences at a constant learning rate ----------------------------------------

@pytest.mark.parametrize("lr,mu", [(0.05, 0.0), (0.05, 0.5), (0.02, 0.9), (0.01, 0.99)])
def test_momentum_equals_torch_form_sgd(quad, lr, mu):
    A, b, w0 = quad
    ours, _ = run(optim.Momentum, w0, quadratic_grad(A, b), 60, lr=lr, momentum=mu)
    torch_form, _ = run(optim.SGD, w0, quadratic_grad(A, b), 60, lr=lr, momentum=mu)
    np.testing.assert_allclose(ours, torch_form, rtol=0, atol=1e-12)


@pytest.mark.parametrize("alpha,beta", [(0.1, 0.0), (0.1, 0.5), (0.2, 0.9), (0.5, 0.99)])
def test_ema_momentum_equals_momentum(quad, alpha, beta):
    A, b, w0 = quad
    ema, _ = run(optim.EMAMomentum, w0, quadratic_grad(A, b), 60, lr=alpha, beta=beta)
    mom, _ = run(optim.Momentum, w0, quadratic_grad(A, b), 60, lr=alpha * (1 - beta), momentum=beta)
    np.testing.assert_allclose(ema, mom, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mass,friction,dt", [(1.0, 1.0, 0.1), (2.0, 0.5, 0.3), (0.5, 4.0, 0.1), (3.0, 0.0, 0.2)])
def test_heavy_ball_equals_its_momentum_mapping(quad, mass, friction, dt):
    A, b, w0 = quad
    mapping = optim.HeavyBall.as_momentum(mass, friction, dt)
    assert mapping == pytest.approx({"lr": dt * dt / mass, "momentum": 1 - dt * friction / mass}, abs=1e-15)
    ball, opt = run(optim.HeavyBall, w0, quadratic_grad(A, b), 60, mass=mass, friction=friction, dt=dt)
    if mapping["momentum"] < 1:
        mom, mopt = run(optim.Momentum, w0, quadratic_grad(A, b), 60, **mapping)
        np.testing.assert_allclose(ball, mom, rtol=0, atol=1e-12)
        # and the state: m = −dt·v
        np.testing.assert_allclose(mopt.state[0]["momentum_buffer"], -dt * opt.state[0]["velocity"], atol=1e-12)
    else:   # frictionless: μ = 1, outside Momentum's range; check against the loop directly
        w, m = w0.copy(), np.zeros(4)
        for t in range(60):
            m = m + mapping["lr"] * (A @ w - b)
            w = w - m
        np.testing.assert_allclose(ball[-1], w, rtol=0, atol=1e-10)
    if friction > 0:
        ema, eopt = run(optim.EMAMomentum, w0, quadratic_grad(A, b), 60, **optim.HeavyBall.as_ema(mass, friction, dt))
        np.testing.assert_allclose(ball, ema, rtol=0, atol=1e-12)
        # the EMA of the gradients is the drag force −friction·v
        np.testing.assert_allclose(eopt.state[0]["velocity"], -friction * opt.state[0]["velocity"], atol=1e-12)
    back = optim.HeavyBall.from_momentum(mapping["lr"], mapping["momentum"], mass)
    assert back == pytest.approx({"mass": mass, "friction": friction, "dt": dt}, abs=1e-12)


def test_a_popular_answers_physical_mapping_is_wrong_and_the_corrected_one_is_right(quad):
    """A popular answer: p ← α·p + (1−α)·∇L, θ ← θ − β·p with α = ηε/m, β = η/m, γ = 1/η − ε/m (force γ·∇L).

    Right: α = 1 − ηε/m, β = η/m, γ = ε/m. Simulate the ball on the loss γ·L (force −γ·∇L)."""
    A, b, w0 = quad
    m, eps, eta = 2.0, 1.0, 0.4          # ηε/m = 0.2
    grad = quadratic_grad(A, b)

    def ball_with_force_scale(gamma):
        return run(optim.HeavyBall, w0, lambda w, t: gamma * grad(w, t), 40, mass=m, friction=eps, dt=eta)[0]

    # the corrected mapping reproduces the ball
    corrected = run(optim.EMAMomentum, w0, grad, 40, lr=eta / m, beta=1 - eta * eps / m)[0]
    np.testing.assert_allclose(ball_with_force_scale(eps / m), corrected, rtol=0, atol=1e-12)
    # the answer's mapping does not: it is a different trajectory
    claimed = run(optim.EMAMomentum, w0, grad, 40, lr=eta / m, beta=eta * eps / m)[0]
    assert np.max(np.abs(ball_with_force_scale(1 / eta - eps / m) - claimed)) > 1e-2
    # ...except when ηε/m = ½, where α and 1 − α coincide (and so do the answer's γ and ε/m)
    eta_half = 0.5 * m / eps
    half_ball = run(optim.HeavyBall, w0, lambda w, t: (1 / eta_half - eps / m) * grad(w, t), 40,
                    mass=m, friction=eps, dt=eta_half)[0]
    half_claimed = run(optim.EMAMomentum, w0, grad, 40, lr=eta_half / m, beta=eta_half * eps / m)[0]
    np.testing.assert_allclose(half_ball, half_claimed, rtol=0, atol=1e-12)
    # with the unscaled force −∇L (HeavyBall itself): β = 1 − ηε/m and step η/ε
    assert optim.HeavyBall.as_ema(m, eps, eta) == pytest.approx({"lr": eta / eps, "beta": 1 - eta * eps / m})


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_nesterov_equals_explicit_lookahead(quad, mu):
    """Sutskever's form with the gradient evaluated at w + μv, computed explicitly."""
    A, b, w0 = quad
    grad = quadratic_grad(A, b)
    traj, opt = run(optim.Nesterov, w0, grad, 50, lr=0.05, momentum=mu)
    w, v = w0.copy(), np.zeros(4)
    for t in range(50):
        v = mu * v - 0.05 * grad(w + mu * v, t)
        w = w + v
        np.testing.assert_allclose(traj[t], w + mu * v, rtol=0, atol=1e-12)   # the model holds the look-ahead point
    np.testing.assert_allclose(opt.state[0]["velocity"], v, atol=1e-12)
    torch_form, _ = run(optim.SGD, w0, grad, 50, lr=0.05, momentum=mu, nesterov=True) if mu > 0 else \
        run(optim.SGD, w0, grad, 50, lr=0.05)
    np.testing.assert_allclose(traj, torch_form, rtol=0, atol=1e-12)


def test_nesterov_differs_from_classical_momentum(quad):
    A, b, w0 = quad
    nes, _ = run(optim.Nesterov, w0, quadratic_grad(A, b), 20, lr=0.05, momentum=0.9)
    mom, _ = run(optim.Momentum, w0, quadratic_grad(A, b), 20, lr=0.05, momentum=0.9)
    assert np.max(np.abs(nes - mom)) > 1e-3


# ----- the unrolled sum, as lecture notes on momentum write it ------------------------------

def test_unrolled_sum_81_90_100_percent():
    """m_3 = η·(μ²·g_1 + μ·g_2 + g_3): with μ = 0.9 the weights are 81%, 90%, 100%."""
    basis = np.eye(3)
    _, opt = run(optim.Momentum, np.zeros(3), lambda w, t: basis[t], 3, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"] / 0.1, [0.81, 0.9, 1.0], rtol=0, atol=1e-15)


def test_unrolled_sum_over_many_steps():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((25, 5))
    lr, mu = 0.03, 0.8
    p = Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Momentum([p], lr=lr, momentum=mu)
    for t in range(25):
        p.grad = grads[t]
        opt.step()
        k = np.arange(t + 1)
        expected = lr * (mu ** (t - k)[:, None] * grads[: t + 1]).sum(axis=0)   # η·Σ_k μ^(t−k)·g_k
        np.testing.assert_allclose(opt.state[0]["momentum_buffer"], expected, rtol=0, atol=1e-14)


# ----- the ablation: momentum without a learning rate -----------------------------------------

@pytest.mark.parametrize("mu", [0.5, 0.9, 0.99, 1.0, 1.01])
def test_ablation_displacement_closed_form(quad, mu):
    A, b, w0 = quad
    k, n = 5, 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traj, opt = run(optim.MomentumWithoutLR, w0, quadratic_grad(A, b), k + n, lr=0.01, momentum=mu,
                        warmup_steps=k)
        driven, _ = run(optim.Momentum, w0, quadratic_grad(A, b), k, lr=0.01, momentum=min(mu, 0.99))
    if mu < 1:   # the first k steps are Momentum, bit for bit
        np.testing.assert_array_equal(traj[:k], driven)
    delta_w = traj[k - 1] - (traj[k - 2] if k > 1 else w0)        # the last gradient-driven step
    np.testing.assert_allclose(opt.last_update[0], delta_w, rtol=1e-12, atol=1e-15)
    factor = mu * (1 - mu ** n) / (1 - mu) if mu != 1 else n
    assert optim.MomentumWithoutLR.coasting_factor(mu, n) == pytest.approx(factor, rel=1e-14)
    expected = delta_w * factor
    np.testing.assert_allclose(traj[-1] - traj[k - 1], expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(opt.displacement[0], expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(opt.predicted_displacement()[0], expected, rtol=1e-12, atol=1e-15)
    assert opt.displacement_norm == pytest.approx(float(np.linalg.norm(expected)), rel=1e-10)
    assert opt.removed_at == k + 1 and opt.steps_since_removal == n
    # each step after the removal is μ times the one before
    steps = np.diff(traj[k - 1:], axis=0)
    np.testing.assert_allclose(steps[1:], mu * steps[:-1], rtol=1e-12, atol=1e-15)


def test_ablation_limits():
    f = optim.MomentumWithoutLR.coasting_factor
    assert f(0.5, math.inf) == 1 and f(0.9, math.inf) == pytest.approx(9) and f(0.99, math.inf) == pytest.approx(99)
    assert f(1.0, math.inf) == math.inf and f(1.01, math.inf) == math.inf
    # μ = 1: constant drift, n·Δw; not 0 or 1 as a popular answer says, whatever the size of Δw
    for delta in (0.001, 0.5, 1.0, 3.0):
        p = Tensor([0.0], requires_grad=True)
        with pytest.warns(UserWarning, match="constant speed"):
            opt = optim.MomentumWithoutLR([p], lr=delta, momentum=1.0, warmup_steps=1)
        p.grad = np.array([-1.0])
        for _ in range(101):
            opt.step()
        assert opt.last_update[0][0] == pytest.approx(delta)
        assert p.data[0] - delta == pytest.approx(100 * delta)      # every step is still Δw
    with pytest.warns(UserWarning, match="run away"):
        optim.MomentumWithoutLR([Tensor([0.0], requires_grad=True)], momentum=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.MomentumWithoutLR([Tensor([0.0], requires_grad=True)], momentum=0.99)   # no warning below 1


def _ablation_run(loss_fn, X, y, k=4, n=20):
    model = nn.MLP([2, 8, 1], seed=0)
    opt = optim.MomentumWithoutLR(model.parameters(), lr=0.05, momentum=0.9, warmup_steps=k)
    X0, y0 = _blobs(0)
    for step in range(k + n):
        opt.zero_grad()
        # the same data during the warm-up; after it, whatever loss and data the caller gives
        loss = nn.hinge(model(X0), y0) if step < k else loss_fn(model(X), y)
        loss.backward()
        opt.step()
    return model.state_dict(), opt


def _blobs(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((32, 2))
    return X, np.where(X[:, 0] + 0.3 * X[:, 1] > 0, 1.0, -1.0)


def test_ablation_trajectory_is_the_same_whatever_the_loss():
    a, opt = _ablation_run(nn.hinge, *_blobs(1))
    b, _ = _ablation_run(nn.mse, *(_blobs(2)[0] * 100, _blobs(2)[1] * 7))
    c, _ = _ablation_run(lambda out, y: (out * 0).sum(), *_blobs(3))        # a loss with zero gradient
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        np.testing.assert_array_equal(a[name], c[name])
    # and without any gradient at all (backward never called after the warm-up)
    model = nn.MLP([2, 8, 1], seed=0)
    opt2 = optim.MomentumWithoutLR(model.parameters(), lr=0.05, momentum=0.9, warmup_steps=4)
    X0, y0 = _blobs(0)
    for step in range(24):
        opt2.zero_grad()
        if step < 4:
            nn.hinge(model(X0), y0).backward()
        opt2.step()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(a[name], value)


def test_ablation_warmup_zero_never_moves():
    p = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.MomentumWithoutLR([p], lr=0.1, warmup_steps=0)
    for _ in range(5):
        p.grad = np.array([1.0, 1.0])
        opt.step()
    np.testing.assert_array_equal(p.data, [1.0, 2.0])
    assert opt.removed_at == 1 and opt.displacement == [None]


# ----- the step loop -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sgd", "momentum", "ema-momentum", "heavy-ball", "nesterov", "momentum-no-lr",
                                  "adagrad", "rmsprop", "adam", "adamw"])
def test_params_without_grad_are_skipped(name):
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0], requires_grad=True)
    opt = optim.get(name)([a, b], **({"momentum": 0.9} if name == "sgd" else {}))
    for _ in range(3):
        a.grad, b.grad = np.array([0.5, -0.5]), None
        opt.step()
    np.testing.assert_array_equal(b.data, [3.0])
    assert opt.state[1] == {}
    assert not np.array_equal(a.data, [1.0, 2.0])
    assert opt.step_count == 3
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_per_parameter_step_counts_as_torch():
    """Adam counts steps per parameter: a parameter skipped once is one step behind."""
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = np.array([1.0]), None
    opt.step()
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    opt.step()
    assert opt.state[0]["step"] == 2 and opt.state[1]["step"] == 1
    np.testing.assert_allclose(b.data, [0.9], atol=1e-8)     # b's first step, bias-corrected: η·sign(g)


def test_gradient_is_not_modified_in_place():
    for name in optim.names():
        p = Tensor([1.0, -2.0], requires_grad=True)
        opt = optim.get(name)([p])
        for _ in range(2):
            g = np.array([0.3, 0.7])
            p.grad = g
            opt.step()
            np.testing.assert_array_equal(g, [0.3, 0.7])


@pytest.mark.parametrize("name", ["sgd", "momentum", "ema-momentum", "heavy-ball", "nesterov", "adagrad", "rmsprop",
                                  "adam", "adamw"])
def test_float32_parameters_keep_float32(name):
    p = Tensor(np.ones(3), requires_grad=True, dtype=np.float32)
    opt = optim.get(name)([p])
    for _ in range(3):
        p.grad = np.full(3, 0.5, dtype=np.float32)
        opt.step()
    assert p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[0].values() if isinstance(v, np.ndarray))


def test_update_is_in_place():
    p = Tensor(np.ones(3), requires_grad=True)
    data = p.data
    opt = optim.Adam([p])
    p.grad = np.ones(3)
    opt.step()
    assert p.data is data


def test_trains_a_model():
    X, y = _blobs(5)
    for name, hp in [("sgd", {"lr": 0.1, "momentum": 0.9}), ("momentum", {"lr": 0.05}), ("adam", {"lr": 0.02}),
                     ("nesterov", {"lr": 0.05}), ("heavy-ball", {}), ("rmsprop", {"lr": 0.01})]:
        model = nn.MLP([2, 8, 1], seed=0)
        opt = optim.get(name)(model.parameters(), **hp)
        first = None
        for _ in range(60):
            opt.zero_grad()
            loss = nn.hinge(model(X), y)
            first = first if first is not None else loss.item()
            loss.backward()
            opt.step()
        assert loss.item() < 0.5 * first, name


# ----- saving and resuming -------------------------------------------------------------------

RESUME_CASES = [
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("momentum", {"lr": 0.02, "momentum": 0.9}),
    ("ema-momentum", {"lr": 0.2, "beta": 0.8}),
    ("heavy-ball", {"mass": 2.0, "friction": 1.5, "dt": 0.2}),
    ("nesterov", {"lr": 0.02, "momentum": 0.95}),
    ("momentum-no-lr", {"lr": 0.02, "momentum": 0.9, "warmup_steps": 7}),     # removed before the save
    ("momentum-no-lr", {"lr": 0.02, "momentum": 0.9, "warmup_steps": 15}),    # removed after the resume
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.01}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
]


def _train(opt_name, hp, steps, state=None, model_state=None):
    X, y = _blobs(9)
    model = nn.MLP([2, 6, 6, 1], seed=3)
    if model_state is not None:
        model.load_state_dict(model_state)
    opt = optim.get(opt_name)(model.parameters(), **hp)
    if state is not None:
        opt.load_state_dict(state)
    for _ in range(steps):
        opt.zero_grad()
        nn.hinge(model(X), y).backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("name,hp", RESUME_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(RESUME_CASES)])
def test_resume_is_bit_for_bit(tmp_path, name, hp):
    half, opt = _train(name, hp, 10)
    opt.lr = opt.lr * 0.5        # a schedule changed lr mid-run: the saved state must carry it
    # save model and optimizer to one .npz, load without pickle
    path = tmp_path / "ckpt.npz"
    np.savez(path, **{f"model.{k}": v for k, v in half.state_dict().items()},
             **{f"optim.{k}": v for k, v in opt.state_dict().items()})
    with np.load(path, allow_pickle=False) as f:
        loaded = {k: f[k] for k in f.files}
    model_state = {k[6:]: v for k, v in loaded.items() if k.startswith("model.")}
    optim_state = {k[6:]: v for k, v in loaded.items() if k.startswith("optim.")}
    resumed, ropt = _train(name, hp, 10, optim_state, model_state)
    assert ropt.step_count == 20 and ropt.lr == opt.lr
    # the reference: an uninterrupted run with the same lr change at step 10
    ref_model, ref_opt = _train(name, hp, 10)
    ref_opt.lr = opt.lr
    X, y = _blobs(9)
    for _ in range(10):
        ref_opt.zero_grad()
        nn.hinge(ref_model(X), y).backward()
        ref_opt.step()
    for k, v in ref_model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k], v, err_msg=k)
    ref_state, res_state = ref_opt.state_dict(), ropt.state_dict()
    assert ref_state.keys() == res_state.keys()
    for k in ref_state:
        np.testing.assert_array_equal(ref_state[k], res_state[k], err_msg=k)


def test_state_dict_is_flat_and_pickle_free(tmp_path):
    _, opt = _train("adam", {"amsgrad": True}, 3)
    d = opt.state_dict()
    assert all(isinstance(k, str) for k in d)
    assert all(isinstance(v, (np.ndarray, float, int, bool)) for v in d.values())
    assert d["step_count"] == 3 and d["hyper.lr"] == 1e-3
    np.testing.assert_array_equal(d["hyper.betas"], [0.9, 0.999])
    np.savez(tmp_path / "s.npz", **d)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        assert set(f.files) == set(d)
    # the state_dict holds copies
    d["state.0.exp_avg"][...] = 123.0
    assert not np.any(opt.state[0]["exp_avg"] == 123.0)


def test_loaded_state_is_a_copy():
    _, opt = _train("momentum", {}, 2)
    d = opt.state_dict()
    _, opt2 = _train("momentum", {}, 0)
    opt2.load_state_dict(d)
    opt2.state[0]["momentum_buffer"][...] = 7.0
    assert not np.any(d["state.0.momentum_buffer"] == 7.0)


def test_load_state_dict_errors():
    _, opt = _train("momentum", {}, 2)
    good = opt.state_dict()
    fresh = _train("momentum", {}, 0)[1]

    def fails(d, pattern):
        before = fresh.state_dict()
        with pytest.raises(ValueError, match=pattern) as info:
            fresh.load_state_dict(d)
        assert "\n" not in str(info.value)
        after = fresh.state_dict()          # nothing changed
        assert before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)

    fails({k: v for k, v in good.items() if k != "hyper.lr"}, "missing entry 'hyper.lr'")
    fails({k: v for k, v in good.items() if k != "step_count"}, "missing entry 'step_count'")
    fails({**good, "bogus": 1}, "unexpected entry 'bogus'")
    fails({**good, "state.0.exp_avg": np.zeros((2, 6))}, "unexpected entry 'state.0.exp_avg'.*keeps momentum_buffer")
    fails({**good, "state.0.momentum_buffer": np.zeros((6, 2))},
          r"'state.0.momentum_buffer' has shape \(6, 2\) but parameter 0 has shape \(2, 6\)")
    fails({**good, "state.99.momentum_buffer": np.zeros(1)}, "parameter 99, but the optimizer has 6 parameters")
    fails({**good, "hyper.momentum": 1.5}, r"momentum=1.5 is out of range; use 0 <= momentum < 1")
    fails({**good, "hyper.lr": -1.0}, "lr=-1.0 is out of range")
    adam_state = _train("adam", {}, 1)[1].state_dict()
    fails(adam_state, "missing entry 'hyper.momentum'")


# ----- validation ------------------------------------------------------------------------------

BAD_VALUES = [
    (optim.SGD, {"lr": 0.0}, "lr=0.0 is out of range; use lr > 0"),
    (optim.SGD, {"lr": -0.1}, "use lr > 0"),
    (optim.SGD, {"lr": float("nan")}, "lr=nan must be a number"),
    (optim.SGD, {"lr": "fast"}, "lr='fast' must be a number"),
    (optim.SGD, {"momentum": 1.0}, "SGD: momentum=1.0 is out of range; use 0 <= momentum < 1"),
    (optim.SGD, {"momentum": -0.1}, "use 0 <= momentum < 1"),
    (optim.SGD, {"dampening": 1.5}, "use 0 <= dampening <= 1"),
    (optim.SGD, {"weight_decay": -1e-4}, "use weight_decay >= 0"),
    (optim.SGD, {"nesterov": "yes"}, "nesterov='yes' must be True or False"),
    (optim.SGD, {"nesterov": True}, "nesterov=True needs momentum > 0 and dampening = 0"),
    (optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "needs momentum > 0 and dampening = 0"),
    (optim.Momentum, {"momentum": 1.5}, "Momentum: momentum=1.5 is out of range; use 0 <= momentum < 1"),
    (optim.Momentum, {"lr": 0}, "Momentum: lr=0.0 is out of range; use lr > 0"),
    (optim.EMAMomentum, {"beta": 1.0}, "EMAMomentum: beta=1.0 is out of range; use 0 <= beta < 1"),
    (optim.EMAMomentum, {"lr": -1}, "use lr > 0"),
    (optim.HeavyBall, {"mass": 0.0}, "HeavyBall: mass=0.0 is out of range; use mass > 0"),
    (optim.HeavyBall, {"friction": -1.0}, "use friction >= 0"),
    (optim.HeavyBall, {"dt": 0.0}, "use dt > 0"),
    (optim.HeavyBall, {"dt": 1.0, "friction": 3.0}, "dt\\*friction/mass = 3 is out of range; use dt\\*friction/mass <= 1"),
    (optim.Nesterov, {"momentum": 1.0}, "Nesterov: momentum=1.0 is out of range; use 0 <= momentum < 1"),
    (optim.MomentumWithoutLR, {"momentum": -0.5}, "use momentum >= 0"),
    (optim.MomentumWithoutLR, {"warmup_steps": -1}, "use warmup_steps >= 0"),
    (optim.MomentumWithoutLR, {"warmup_steps": 2.5}, "warmup_steps=2.5 must be a whole number"),
    (optim.MomentumWithoutLR, {"warmup_steps": True}, "must be a whole number"),
    (optim.Adagrad, {"lr_decay": -1.0}, "use lr_decay >= 0"),
    (optim.Adagrad, {"initial_accumulator_value": -1.0}, "use initial_accumulator_value >= 0"),
    (optim.Adagrad, {"eps": 0.0}, "Adagrad: eps=0.0 is out of range; use eps > 0"),
    (optim.Adagrad, {"weight_decay": -1.0}, "use weight_decay >= 0"),
    (optim.RMSprop, {"alpha": 1.0}, "RMSprop: alpha=1.0 is out of range; use 0 <= alpha < 1"),
    (optim.RMSprop, {"eps": -1e-8}, "use eps > 0"),
    (optim.RMSprop, {"momentum": 1.2}, "use 0 <= momentum < 1"),
    (optim.RMSprop, {"centered": 1}, "centered=1 must be True or False"),
    (optim.RMSprop, {"weight_decay": -1.0}, "use weight_decay >= 0"),
    (optim.Adam, {"betas": (0.9, 1.0)}, r"Adam: betas=\(0.9, 1.0\) is out of range; use 0 <= beta1 < 1 and 0 <= beta2 < 1"),
    (optim.Adam, {"betas": (-0.1, 0.9)}, "is out of range"),
    (optim.Adam, {"betas": 0.9}, "betas=0.9 must be two numbers"),
    (optim.Adam, {"betas": (0.9, 0.99, 0.1)}, "must be two numbers"),
    (optim.Adam, {"eps": 0.0}, "use eps > 0"),
    (optim.Adam, {"weight_decay": -0.1}, "use weight_decay >= 0"),
    (optim.Adam, {"amsgrad": "no"}, "amsgrad='no' must be True or False"),
    (optim.AdamW, {"weight_decay": -0.1}, "AdamW: weight_decay=-0.1 is out of range; use weight_decay >= 0"),
    (optim.AdamW, {"betas": (1.0, 0.9)}, "AdamW: betas=.* is out of range"),
]


@pytest.mark.parametrize("cls,hp,message", BAD_VALUES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(BAD_VALUES)])
def test_validation_errors(cls, hp, message):
    with pytest.raises(HyperparameterError, match=message) as info:
        cls([Tensor([1.0], requires_grad=True)], **hp)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_every_hyperparameter_is_validated():
    """Each hyperparameter of each class refuses at least one value (guards against a missing check)."""
    bad = {float: [-1.0, 2.0], int: [-1], bool: ["x"], tuple: [(2.0, 2.0)]}
    for name in optim.names():
        cls = optim.get(name)
        for h in cls.hyperparameters():
            if h.name == "dt" or (cls is optim.MomentumWithoutLR and h.name == "momentum"):
                values = [-1.0]
            else:
                values = bad[h.type]
            refused = 0
            for v in values:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cls([Tensor([1.0], requires_grad=True)], **{h.name: v})
                except HyperparameterError:
                    refused += 1
            assert refused >= 1, f"{cls.__name__}.{h.name} accepted {values}"


def test_parameter_list_errors():
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="got a single Tensor; pass \\[tensor\\]"):
        optim.SGD(p)
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray, not a Tensor"):
        optim.SGD([p, np.ones(2)])
    with pytest.raises(ValueError, match=r"params\[0\] \('frozen'\) does not require grad"):
        optim.Adam([Tensor([1.0], name="frozen")])
    with pytest.raises(ValueError, match=r"params\[1\] appears twice"):
        optim.Momentum([p, p])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Momentum(3)


def test_hyperparameter_parse_from_cli_strings():
    hp = {h.name: h for h in optim.Adam.hyperparameters()}
    assert hp["betas"].parse("0.8,0.99") == (0.8, 0.99)
    assert hp["betas"].parse("(0.8, 0.99)") == (0.8, 0.99)
    assert hp["amsgrad"].parse("true") is True and hp["amsgrad"].parse("no") is False
    assert hp["lr"].parse("3e-4") == 3e-4
    with pytest.raises(HyperparameterError, match="betas='0.8' must be two numbers"):
        hp["betas"].parse("0.8")
    with pytest.raises(HyperparameterError, match="betas='a,b' must be two numbers like 0.9,0.999"):
        hp["betas"].parse("a,b")
    with pytest.raises(HyperparameterError, match="Adam: lr='fast' must be a number; use lr > 0"):
        hp["lr"].parse("fast", "Adam")
    with pytest.raises(HyperparameterError, match="lr=-1.0 is out of range"):
        hp["lr"].parse("-1")
    with pytest.raises(HyperparameterError, match="amsgrad='maybe' must be true or false"):
        hp["amsgrad"].parse("maybe")
    ws = {h.name: h for h in optim.MomentumWithoutLR.hyperparameters()}["warmup_steps"]
    assert ws.parse("5") == 5 and isinstance(ws.parse("5"), int)
    with pytest.raises(HyperparameterError, match="must be a whole number"):
        ws.parse("2.5")


# ----- description and registry ------------------------------------------------------------------

TORCH_NAMES = {"lr", "momentum", "dampening", "nesterov", "weight_decay", "alpha", "eps", "centered", "betas",
               "amsgrad", "lr_decay", "initial_accumulator_value"}
ISSUE_NAMES = {"beta", "mass", "friction", "dt", "warmup_steps"}


@pytest.mark.parametrize("name", optim.names())
def test_every_optimizer_describes_itself(name):
    cls = optim.get(name)
    assert cls.cli_name == name and cls.formula and "←" in cls.formula
    assert cls.__doc__ and len(cls.__doc__.splitlines()) > 3
    signature = inspect.signature(cls.__init__).parameters
    described = [h.name for h in cls.hyperparameters()]
    assert described == [p for p in signature if p not in ("self", "params")]   # all of them, in order
    for h in cls.hyperparameters():
        assert h.name in TORCH_NAMES | ISSUE_NAMES
        assert h.default == signature[h.name].default
        assert h.type in (float, int, bool, tuple) and h.range and h.help
        assert h.name in h.range or h.type in (bool, tuple)
    cls([Tensor([1.0], requires_grad=True)])          # the defaults are valid
    text = cls.describe()
    assert name in text and cls.formula in text and all(f"--{h.replace('_', '-')}" in text for h in described)
    assert cls.__name__ in repr(cls([Tensor([1.0], requires_grad=True)]))


def test_torch_compatible_defaults():
    sig = lambda c: {k: v.default for k, v in inspect.signature(c.__init__).parameters.items() if k not in ("self", "params")}
    assert sig(optim.SGD) == {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False}
    assert sig(optim.Adagrad) == {"lr": 1e-2, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
                                  "eps": 1e-10}
    assert sig(optim.RMSprop) == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0,
                                  "centered": False}
    assert sig(optim.Adam) == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False}
    assert sig(optim.AdamW) == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}


def test_registry_lookup():
    assert optim.names()[:6] == ["sgd", "momentum", "ema-momentum", "heavy-ball", "nesterov", "momentum-no-lr"]
    assert set(optim.names()) >= {"adagrad", "rmsprop", "adam", "adamw"}
    assert optim.get("momentum") is optim.Momentum
    assert optim.get("Heavy_Ball") is optim.HeavyBall          # case and underscores do not matter
    assert optim.get("AdamW") is optim.AdamW and optim.get("HeavyBall") is optim.HeavyBall
    assert optim.get(optim.Adam) is optim.Adam
    assert optim.get("tinygrad_edu.optim:Nesterov") is optim.Nesterov
    opt = optim.create("adam", [Tensor([1.0], requires_grad=True)], lr=0.1)
    assert isinstance(opt, optim.Adam) and opt.lr == 0.1


def test_registry_unknown_name_suggests():
    with pytest.raises(ValueError, match="unknown optimizer 'mometum' \\(did you mean 'momentum'") as info:
        optim.get("mometum")
    assert "\n" not in str(info.value) and "package.module:Class" in str(info.value)
    with pytest.raises(ValueError, match="'nesterof' \\(did you mean 'nesterov'"):
        optim.get("nesterof")
    with pytest.raises(ValueError, match="unknown optimizer 'zzz'; choose one of sgd, momentum"):
        optim.get("zzz")


# The worked example of chapter 10, as a module a user would write, plus a name that is not a class.
SIGN_SGD = (Path(__file__).resolve().parents[1] / "tutorials" / "signsgd.py").read_text() + "\nnot_an_optimizer = 42\n"


def test_registry_imports_module_class_and_file(tmp_path, monkeypatch):
    (tmp_path / "my_sign_opt.py").write_text(textwrap.dedent(SIGN_SGD))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "my_sign_opt", raising=False)
    cls = optim.get("my_sign_opt:SignSGD")           # found in the current directory, like `python -m`
    p = Tensor([1.0, 1.0], requires_grad=True)
    opt = cls([p], lr=0.25)
    p.grad = np.array([3.0, -0.1])
    opt.step()
    np.testing.assert_array_equal(p.data, [0.75, 1.25])
    assert str(tmp_path) not in sys.path
    by_file = optim.get("my_sign_opt.py:SignSGD")
    assert by_file.formula == cls.formula
    with pytest.raises(ValueError, match="has no attribute 'SignSDG' \\(did you mean 'SignSGD'"):
        optim.get("my_sign_opt:SignSDG")
    with pytest.raises(ValueError, match="is a int, not a subclass of tinygrad_edu.optim.Optimizer"):
        optim.get("my_sign_opt:not_an_optimizer")
    with pytest.raises(ValueError, match="cannot import module 'no_such_module_xyz'"):
        optim.get("no_such_module_xyz:Foo")
    with pytest.raises(ValueError, match="no such file missing.py"):
        optim.get("missing.py:Foo")
    with pytest.raises(ValueError, match="expected 'package.module:Class'"):
        optim.get(":Foo")


def test_registry_entry_points(tmp_path, monkeypatch):
    import importlib.metadata
    (tmp_path / "ep_sign_opt.py").write_text(textwrap.dedent(SIGN_SGD))
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint(name="sign-ep", value="ep_sign_opt:SignSGD", group=optim.ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points

    def fake(**kw):
        return [ep] if kw.get("group") == optim.ENTRY_POINT_GROUP else real(**kw)
    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    assert "sign-ep" in optim.names()
    assert optim.get("sign-ep").__name__ == "SignSGD"
    with pytest.raises(ValueError, match="did you mean 'sign-ep'"):
        optim.get("sign-ap")


def test_register_decorator(monkeypatch):
    from tinygrad_edu.optim import registry
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))

    @optim.register
    class Doubling(optim.Momentum):
        """Momentum, registered under a new name."""
        cli_name = "doubling-test"
    assert optim.get("doubling-test") is Doubling and "doubling-test" in optim.names()

    class Unnamed(optim.SGD):
        cli_name = ""
    optim.register(Unnamed, name="unnamed-test")
    assert optim.get("unnamed-test") is Unnamed and Unnamed.cli_name == "unnamed-test"

    class Clash(optim.SGD):
        cli_name = "momentum"
    with pytest.raises(ValueError, match="'momentum' is already taken by tinygrad_edu.optim.momentum.Momentum"):
        optim.register(Clash)
    with pytest.raises(TypeError, match="not a subclass"):
        optim.register(int)


def test_heavy_ball_lr_is_dt():
    opt = optim.HeavyBall([Tensor([1.0], requires_grad=True)], dt=0.2)
    assert opt.lr == 0.2
    opt.lr = 0.05
    assert opt.dt == 0.05 and opt.state_dict()["hyper.dt"] == 0.05


def test_the_default_momentum_forms_are_one_algorithm(quad):
    """Momentum(0.01, 0.9) = EMAMomentum(0.1, 0.9) = HeavyBall(1, 1, 0.1) = SGD(0.01, momentum=0.9)."""
    A, b, w0 = quad
    runs = [run(cls, w0, quadratic_grad(A, b), 40, **hp)[0] for cls, hp in
            [(optim.Momentum, {}), (optim.EMAMomentum, {}), (optim.HeavyBall, {}), (optim.SGD, {"lr": 0.01, "momentum": 0.9})]]
    for other in runs[1:]:
        np.testing.assert_allclose(other, runs[0], rtol=0, atol=1e-12)


def test_subclass_without_init_must_pass_its_hyperparameters():
    class Bare(optim.Optimizer):
        hyper = (optim.learning_rate(),)

        def update(self, w, g, state):
            w -= self.lr * g
    with pytest.raises(TypeError, match="Bare: missing hyperparameter lr; pass it as a keyword argument"):
        Bare([Tensor([1.0], requires_grad=True)])
    with pytest.raises(HyperparameterError, match="Bare: unknown hyperparameter 'momentum'; it takes lr"):
        Bare([Tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    p = Tensor([1.0], requires_grad=True)
    opt = Bare([p], lr=0.5)
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == 0.5
    with pytest.raises(NotImplementedError, match="must implement update"):
        optim.Optimizer([p]).step()


def test_a_file_optimizer_runs_once_per_process(tmp_path, monkeypatch):
    """`edu` looks a name up several times; a file.py:Class file must not run again each time."""
    log = tmp_path / "runs.log"
    (tmp_path / "counted_opt.py").write_text(f"open({str(log)!r}, 'a').write('ran\\n')\n" + SIGN_SGD)
    monkeypatch.chdir(tmp_path)
    first, second = optim.get("counted_opt.py:SignSGD"), optim.get("counted_opt.py:SignSGD")
    assert first is second
    assert log.read_text() == "ran\n"
