"""Trajectories equal torch.optim's, step for step, for the same gradients (float64)."""
import numpy as np
import pytest

from tinygrad_edu import Tensor, optim

torch = pytest.importorskip("torch")

STEPS = 30

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.8, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.3}),
]


def gradient(w: np.ndarray, t: int, rng_noise: np.ndarray) -> np.ndarray:
    """A gradient that depends on the weights (so trajectories can drift apart) plus fixed noise.

    Some entries are exactly 0 at some steps, to exercise the ε paths."""
    g = np.sin(3 * w) + 0.5 * w ** 3 + rng_noise[t]
    g[..., 0] *= (t % 3 != 0)
    return g


@pytest.mark.parametrize("name,hp", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_equals_torch(name, hp):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,)]
    w0 = [rng.standard_normal(s) for s in shapes]
    noise = [rng.standard_normal((STEPS,) + s) for s in shapes]

    ours = [Tensor(w.copy(), requires_grad=True) for w in w0]
    theirs = [torch.tensor(w.copy(), dtype=torch.float64, requires_grad=True) for w in w0]
    opt = getattr(optim, name)(ours, **hp)
    ref = getattr(torch.optim, name)(theirs, **hp)
    worst = 0.0
    for t in range(STEPS):
        for p, q, n in zip(ours, theirs, noise):
            p.grad = gradient(p.data.copy(), t, n)
            q.grad = torch.from_numpy(gradient(q.detach().numpy().copy(), t, n))
        opt.step()
        ref.step()
        for p, q in zip(ours, theirs):
            worst = max(worst, float(np.max(np.abs(p.data - q.detach().numpy()))))
    assert worst < 1e-12, f"{name} {hp}: largest difference from torch.optim {worst:.3e}"
    moved = max(float(np.max(np.abs(p.data - w))) for p, w in zip(ours, w0))
    assert moved > 1e-2       # the comparison is not of two runs that stayed put


@pytest.mark.parametrize("lr,mu", [(0.05, 0.9), (0.01, 0.99)])
def test_momentum_forms_equal_torch_sgd(lr, mu):
    """Momentum (η inside) and Nesterov equal torch's SGD at a constant learning rate."""
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)
    noise = rng.standard_normal((STEPS, 5))
    for ours_cls, hp, torch_hp in [(optim.Momentum, {"lr": lr, "momentum": mu}, {"lr": lr, "momentum": mu}),
                                   (optim.Nesterov, {"lr": lr, "momentum": mu},
                                    {"lr": lr, "momentum": mu, "nesterov": True}),
                                   (optim.EMAMomentum, {"lr": lr / (1 - mu), "beta": mu},
                                    {"lr": lr, "momentum": mu})]:
        p = Tensor(w0.copy(), requires_grad=True)
        q = torch.tensor(w0.copy(), requires_grad=True)
        opt, ref = ours_cls([p], **hp), torch.optim.SGD([q], **torch_hp)
        for t in range(STEPS):
            p.grad = gradient(p.data.copy(), t, noise)
            q.grad = torch.from_numpy(gradient(q.detach().numpy().copy(), t, noise))
            opt.step()
            ref.step()
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-12)


def test_lr_change_separates_the_forms_from_torch():
    """After a learning-rate change, torch's SGD and Momentum (η inside) no longer agree."""
    p = Tensor([0.0], requires_grad=True)
    q = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    opt, ref = optim.Momentum([p], lr=0.1, momentum=0.9), torch.optim.SGD([q], lr=0.1, momentum=0.9)
    sgd = optim.SGD([Tensor([0.0], requires_grad=True)], lr=0.1, momentum=0.9)
    ours_sgd = sgd.params[0]
    positions, torch_positions, sgd_positions = [], [], []
    for t in range(3):
        if t == 1:
            opt.lr = sgd.lr = 0.01
            for group in ref.param_groups:
                group["lr"] = 0.01
        p.grad, ours_sgd.grad, q.grad = np.ones(1), np.ones(1), torch.ones(1, dtype=torch.float64)
        opt.step(); ref.step(); sgd.step()
        positions.append(p.data[0]); torch_positions.append(q.item()); sgd_positions.append(ours_sgd.data[0])
    np.testing.assert_allclose(torch_positions, [-0.1, -0.119, -0.1461], atol=1e-15)
    np.testing.assert_allclose(sgd_positions, torch_positions, atol=1e-15)
    np.testing.assert_allclose(positions, [-0.1, -0.2, -0.3], atol=1e-15)
