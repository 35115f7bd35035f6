"""Losses and layers against PyTorch (float64): values and gradients."""
import numpy as np
import pytest

from tinygrad_edu import Tensor, nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def both(z):
    return Tensor(z.copy(), requires_grad=True), torch.tensor(z.copy(), requires_grad=True)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_cross_entropy_equals_torch(scale):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((7, 4)) * scale
    y = rng.integers(0, 4, 7)
    ours, theirs = both(z)
    a, b = nn.cross_entropy(ours, y), F.cross_entropy(theirs, torch.from_numpy(y))
    a.backward()
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=0, atol=1e-14)


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_binary_cross_entropy_equals_torch(scale):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((9, 1)) * scale
    y = rng.random(9)                                    # soft targets in [0, 1]
    ours, theirs = both(z)
    a = nn.binary_cross_entropy_with_logits(ours, y)
    b = F.binary_cross_entropy_with_logits(theirs, torch.from_numpy(y.reshape(9, 1)))
    a.backward()
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=0, atol=1e-14)


def test_zero_initialised_logistic_regression_follows_torch_for_50_sgd_steps():
    """From w = 0 every logit of the first step is exactly 0, where bce's gradient is (½ − y)/N."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0).astype(float)
    w, b = Tensor(np.zeros((3, 1)), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)
    w_ref = torch.zeros((3, 1), dtype=torch.float64, requires_grad=True)
    b_ref = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w_ref, b_ref], lr=0.5)
    ours, theirs = [], []
    for _ in range(50):
        w.grad = b.grad = None
        nn.binary_cross_entropy_with_logits(nn.linear(X, w, b), y).backward()
        w.data -= 0.5 * w.grad                                      # w ← w − η∇L
        b.data -= 0.5 * b.grad
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(torch.from_numpy(X) @ w_ref + b_ref, torch.from_numpy(y[:, None])).backward()
        opt.step()
        ours.append(np.concatenate([w.data[:, 0], b.data]))
        theirs.append(torch.cat([w_ref[:, 0], b_ref]).detach().numpy().copy())
    assert np.abs(np.array(ours) - np.array(theirs)).max() < 1e-12
    assert np.abs(ours[-1]).min() > 0.1                                 # it did move: the test is not of zeros


def test_mse_and_hinge_equal_torch():
    rng = np.random.default_rng(2)
    z, t = rng.standard_normal((6, 1)), rng.standard_normal(6)
    ours, theirs = both(z)
    a, b = nn.mse(ours, t), F.mse_loss(theirs, torch.from_numpy(t.reshape(6, 1)))
    a.backward()
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-15)
    y = np.sign(rng.standard_normal(6))
    ours, theirs = both(z)
    a = nn.hinge(ours, y)
    b = torch.relu(1 - theirs[:, 0] * torch.from_numpy(y)).mean()
    a.backward()
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_and_gradients_equal_torch(activation):
    model = nn.MLP([3, 8, 8, 2], activation=activation, seed=0)
    layers = []
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    for m in model.layers:
        if isinstance(m, nn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.W.data.T))      # torch stores W as (out, in)
                lin.bias.copy_(torch.from_numpy(m.b.data))
            layers.append(lin)
        else:
            layers.append(act())
    ref = torch.nn.Sequential(*layers)
    x = np.random.default_rng(3).standard_normal((10, 3))
    y = np.random.default_rng(4).integers(0, 2, 10)
    loss = nn.cross_entropy(model(x), y)
    ref_loss = F.cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    ref_loss.backward()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-12)
    for m, r in zip(model.layers[::2], layers[::2]):
        np.testing.assert_allclose(m.W.grad, r.weight.grad.numpy().T, rtol=0, atol=1e-13)
        np.testing.assert_allclose(m.b.grad, r.bias.grad.numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
def test_linear_op_equals_torch(shape):
    rng = np.random.default_rng(4)
    x, W, b = rng.standard_normal(shape), rng.standard_normal((3, 2)), rng.standard_normal(2)
    g = rng.standard_normal(shape[:-1] + (2,))
    ours = [Tensor(a.copy(), requires_grad=True) for a in (x, W, b)]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in (x, W, b)]
    y_ours, y_theirs = nn.linear(*ours), F.linear(theirs[0], theirs[1].T, theirs[2])   # torch keeps W as (out, in)
    y_ours.backward(g)
    y_theirs.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
