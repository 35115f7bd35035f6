"""Every op at its edge points against PyTorch (float64): values and gradients.

Random inputs never land on 0, on a tie or on an overflow, so the conventions there are
tested here: a kink's derivative (relu, abs, clip at its bounds), 0⁰ and ln 0 in pow, ties
in max, ±1000 and ±1e300 for the functions built on exp, and empty arrays, (0,) and (0, 3).
Values and gradients must equal torch's (inf and nan in the same places), and our ops must
not warn. Where our own convention is the point (e.g. max's ties), test_engine.py checks it
by hand as well.
"""
import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, concatenate, nn, stack

torch = pytest.importorskip("torch")
F = torch.nn.functional

INF, NAN = np.inf, np.nan
HUGE = np.array([1e300, -1e300, 1000.0, -1000.0, 709.78, 709.79, 0.0, -0.0])
EMPTY, EMPTY_ROWS = np.zeros(0), np.zeros((0, 3))
BCE_TARGETS = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0, 0.3])


def ours(x) -> bool:
    return isinstance(x, Tensor)


def const(array):
    """A constant operand for either library."""
    return lambda x: array if ours(x) else torch.from_numpy(np.asarray(array))


BCE_Y, CE_LABELS, HINGE_Y = const(BCE_TARGETS), const(np.array([1, 2, 0, 1])), const(np.array([1.0, 1.0, -1.0, -1.0]))
NO_LABELS, NO_TARGETS = const(np.zeros(0, dtype=np.int64)), const(np.zeros(0))

# name: (function of our Tensors or of torch tensors, input arrays); each input requires grad
CASES = {
    # kinks and singular points at 0
    "relu_at_0": (lambda x: x.relu(), (np.array([0.0, -0.0, 1e-300, -1e-300]),)),
    "abs_at_0": (lambda x: x.abs(), (np.array([0.0, -0.0, 1e-300, -1e-300]),)),
    "sqrt_at_0": (lambda x: x.sqrt(), (np.array([0.0, 1e-300, 4.0]),)),
    "log_at_0": (lambda x: x.log(), (np.array([0.0, 1e-300, 1.0]),)),
    "div_by_0": (lambda a, b: a / b, (np.array([1.0, 0.0, 1.0]), np.array([0.0, 0.0, -0.0]))),
    "clip_at_bounds": (lambda x: x.clip(-0.5, 0.5), (np.array([-0.5, 0.5, -0.5 - 1e-12, 0.5 + 1e-12, 0.0]),)),
    "clip_low_only_at_0": (lambda x: x.clip(0.0, None), (np.array([0.0, -1.0, 1.0]),)),
    # pow at a = 0: both derivatives, exponents 0, 1, 2, 0.5, -1, -2; and negative bases
    "pow_at_0": (lambda a, b: a ** b, (np.zeros(6), np.array([0.0, 1.0, 2.0, 0.5, -1.0, -2.0]))),
    "pow_negative_base": (lambda a, b: a ** b, (np.full(3, -2.0), np.array([0.0, 2.0, 0.5]))),
    "pow_number_exponent_0": (lambda a: a ** 0.0, (np.array([0.0, 2.0]),)),
    "pow_number_exponent_half": (lambda a: a ** 0.5, (np.array([0.0, 4.0]),)),
    "pow_number_base_0": (lambda b: 0.0 ** b, (np.array([0.0, 1.0, 2.0, 0.5, -1.0]),)),
    # ties in max: all-equal rows, partial ties, ±inf ties; over an axis, several axes, everything
    "max_ties_axis": (lambda x: x.max(axis=1) if ours(x) else x.amax(dim=1),
                      (np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 0.0], [3.0, 1.0, 2.0], [-INF, -INF, -INF], [INF, INF, 1.0]]),)),
    "max_ties_axis0_keepdims": (lambda x: x.max(axis=0, keepdims=True) if ours(x) else x.amax(dim=0, keepdim=True),
                                (np.array([[1.0, 5.0, 0.0], [1.0, 2.0, 0.0]]),)),
    "max_ties_full": (lambda x: x.max() if ours(x) else x.amax(), (np.array([[1.0, 2.0, 2.0], [2.0, 0.0, 0.0]]),)),
    "max_all_equal_full": (lambda x: x.max() if ours(x) else x.amax(), (np.full((2, 3), 7.0),)),
    "max_ties_two_axes": (lambda x: x.max(axis=(0, 2)) if ours(x) else x.amax(dim=(0, 2)),
                          (np.array([[[1.0, 3.0], [2.0, 2.0]], [[3.0, 0.0], [2.0, 1.0]]]),)),
    # ±large: nothing overflows except exp itself (e^709.78 is finite, e^709.79 is inf)
    "exp_huge": (lambda x: x.exp(), (HUGE,)),
    "sigmoid_huge": (lambda x: x.sigmoid(), (HUGE,)),
    "tanh_huge": (lambda x: x.tanh(), (HUGE,)),
    "softmax_huge": (lambda x: x.softmax(-1),
                     (np.array([[1e300, -1e300, 0.0], [1000.0, 1000.0, -1000.0], [-1e300, -1e300, -1e300], [0.0, -1000.0, 1e300]]),)),
    "log_softmax_huge": (lambda x: x.log_softmax(-1),
                         (np.array([[1e300, -1e300, 0.0], [1000.0, 1000.0, -1000.0], [-1e300, -1e300, -1e300], [0.0, -1000.0, 1e300]]),)),
    "cross_entropy_huge": (lambda x: nn.cross_entropy(x, CE_LABELS(x)) if ours(x) else F.cross_entropy(x, CE_LABELS(x)),
                           (np.array([[1e300, -1e300, 0.0], [1000.0, 1000.0, -1000.0], [-1e300, -1e300, -1e300], [0.0, -1000.0, 1e300]]),)),
    "bce_huge_and_0": (lambda z: nn.binary_cross_entropy_with_logits(z, BCE_Y(z)) if ours(z)
                       else F.binary_cross_entropy_with_logits(z, BCE_Y(z)), (HUGE,)),
    "bce_at_0": (lambda z: nn.binary_cross_entropy_with_logits(z, [0.0, 1.0, 0.3]) if ours(z)
                 else F.binary_cross_entropy_with_logits(z, torch.tensor([0.0, 1.0, 0.3], dtype=torch.float64)), (np.zeros(3),)),
    "hinge_huge": (lambda s: nn.hinge(s, HINGE_Y(s)) if ours(s) else torch.relu(1 - s * HINGE_Y(s)).mean(),
                   (np.array([1e300, -1e300, 1.0, -1.0]),)),
    # empty arrays: (0,) and (0, 3)
    "add_empty": (lambda a, b: a + b, (EMPTY_ROWS, np.ones(3))),
    "sub_empty": (lambda a, b: a - b, (EMPTY, EMPTY)),
    "mul_empty": (lambda a, b: a * b, (EMPTY_ROWS, np.ones((1, 3)))),
    "div_empty": (lambda a, b: a / b, (EMPTY_ROWS, np.ones(3))),
    "pow_empty": (lambda a, b: a ** b, (EMPTY_ROWS, np.ones(3))),
    "neg_empty": (lambda a: -a, (EMPTY,)),
    "matmul_empty_rows": (lambda a, b: a @ b, (EMPTY_ROWS, np.ones((3, 2)))),
    "matmul_empty_inner": (lambda a, b: a @ b, (np.zeros((2, 0)), np.zeros((0, 3)))),
    "sum_empty": (lambda x: x.sum(), (EMPTY,)),
    "sum_empty_axis0": (lambda x: x.sum(axis=0) if ours(x) else x.sum(dim=0), (EMPTY_ROWS,)),
    "sum_empty_axis1": (lambda x: x.sum(axis=1) if ours(x) else x.sum(dim=1), (EMPTY_ROWS,)),
    "mean_empty": (lambda x: x.mean(), (EMPTY,)),
    "mean_empty_axis0": (lambda x: x.mean(axis=0) if ours(x) else x.mean(dim=0), (EMPTY_ROWS,)),
    "mean_empty_axis1": (lambda x: x.mean(axis=1) if ours(x) else x.mean(dim=1), (EMPTY_ROWS,)),
    "max_empty_axis1": (lambda x: x.max(axis=1) if ours(x) else x.amax(dim=1), (EMPTY_ROWS,)),
    "exp_empty": (lambda x: x.exp(), (EMPTY_ROWS,)),
    "log_empty": (lambda x: x.log(), (EMPTY,)),
    "sqrt_empty": (lambda x: x.sqrt(), (EMPTY_ROWS,)),
    "abs_empty": (lambda x: x.abs(), (EMPTY,)),
    "relu_empty": (lambda x: x.relu(), (EMPTY_ROWS,)),
    "tanh_empty": (lambda x: x.tanh(), (EMPTY,)),
    "sigmoid_empty": (lambda x: x.sigmoid(), (EMPTY_ROWS,)),
    "clip_empty": (lambda x: x.clip(-1.0, 1.0), (EMPTY,)),
    "softmax_empty": (lambda x: x.softmax(-1), (EMPTY,)),
    "softmax_empty_rows": (lambda x: x.softmax(-1), (EMPTY_ROWS,)),
    "softmax_empty_axis0": (lambda x: x.softmax(0), (EMPTY_ROWS,)),
    "log_softmax_empty": (lambda x: x.log_softmax(-1), (EMPTY,)),
    "log_softmax_empty_rows": (lambda x: x.log_softmax(-1), (EMPTY_ROWS,)),
    "log_softmax_empty_axis0": (lambda x: x.log_softmax(0), (EMPTY_ROWS,)),
    "reshape_empty": (lambda x: x.reshape(3, 0), (EMPTY_ROWS,)),
    "transpose_empty": (lambda x: x.T, (EMPTY_ROWS,)),
    "slice_empty": (lambda x: x[:, 1:], (EMPTY_ROWS,)),
    "linear_empty": (lambda x, W, b: nn.linear(x, W, b) if ours(x) else F.linear(x, W.T, b),
                     (EMPTY_ROWS, np.ones((3, 2)), np.ones(2))),
    "concatenate_empty": (lambda a, b: concatenate([a, b]) if ours(a) else torch.cat([a, b]), (EMPTY_ROWS, np.ones((2, 3)))),
    "stack_empty": (lambda a, b: stack([a, b]) if ours(a) else torch.stack([a, b]), (EMPTY_ROWS, EMPTY_ROWS)),
    # the losses on an empty batch: nan (reduction="mean" of nothing), an empty gradient
    "mse_empty": (lambda p: nn.mse(p, NO_TARGETS(p)) if ours(p) else F.mse_loss(p, NO_TARGETS(p)), (EMPTY,)),
    "cross_entropy_empty": (lambda x: nn.cross_entropy(x, NO_LABELS(x)) if ours(x) else F.cross_entropy(x, NO_LABELS(x)),
                            (EMPTY_ROWS,)),
    "bce_empty": (lambda z: nn.binary_cross_entropy_with_logits(z, NO_TARGETS(z)) if ours(z)
                  else F.binary_cross_entropy_with_logits(z, NO_TARGETS(z)), (EMPTY,)),
    "hinge_empty": (lambda s: nn.hinge(s, NO_TARGETS(s)) if ours(s) else torch.relu(1 - s * NO_TARGETS(s)).mean(), (EMPTY,)),
}


def assert_same(a, b, what):
    """Equal up to round-off, with inf (and its sign) and nan in the same places."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{what}: nan in other places than torch")
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=what)


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_points_equal_pytorch(name):
    fn, arrays = CASES[name]
    mine = [Tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # an op at its edge point returns its value without a warning
        out = fn(*mine)
        upstream = np.random.default_rng(0).uniform(0.5, 2.0, out.shape)   # positive: keeps the sign of an inf
        out.backward(upstream)
    ref = fn(*theirs)
    ref.backward(torch.from_numpy(upstream))
    assert_same(out.data, ref.detach().numpy(), f"{name} value")
    for i, (t, r) in enumerate(zip(mine, theirs)):
        assert_same(t.grad, r.grad.numpy(), f"{name} gradient of input {i}")


def test_the_table_reaches_the_edges_it_names():
    """The inputs really are edge points, so that editing them cannot quietly hollow the table out."""
    e = Tensor(HUGE).exp().data
    assert np.isfinite(e[4]) and e[5] == INF                       # exp overflows between 709.78 and 709.79
    fn, arrays = CASES["pow_at_0"]
    np.testing.assert_array_equal(fn(*map(Tensor, arrays)).data, [1.0, 0.0, 0.0, 0.0, INF, INF])   # 0⁰ = 1, 0⁻¹ = inf
    assert all(arrays[0].size == 0 for name, (_, arrays) in CASES.items() if "empty" in name)


def test_max_shares_ties_as_amax_and_full_max_do_not_as_max_along_a_dim():
    """max's docstring: ties share the gradient evenly (torch.amax, torch.max(a)); torch.max(a, dim) picks one."""
    x = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 0.0]])
    rows, whole = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    rows.max(axis=1).sum().backward()
    whole.max().backward()
    along_dim, full = torch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    along_dim.max(dim=1).values.sum().backward()
    full.max().backward()
    np.testing.assert_allclose(rows.grad, [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]], rtol=1e-15)
    assert (along_dim.grad.numpy() != 0).sum(axis=1).tolist() == [1, 1]     # one winner per row takes it all
    assert along_dim.grad.numpy().sum(axis=1).tolist() == [1.0, 1.0]
    np.testing.assert_allclose(whole.grad, full.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(whole.grad, [[0, 0, 0], [0.5, 0.5, 0]], rtol=1e-15)
