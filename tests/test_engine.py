"""backward() semantics, the Tensor's surface, and every error message of the core."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import GradcheckError, ShapeError, Tensor, detect_anomaly, gradcheck, name_scope, no_grad


def test_two_layer_mlp_gradients_match_hand_derived_numpy():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    W1, b1, W2, b2 = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((5, 1)), rng.standard_normal(1)
    # by hand: h = tanh(X W1 + b1); p = h W2 + b2; L = mean((p - y)²)
    z = X @ W1 + b1
    h = np.tanh(z)
    p = h @ W2 + b2
    dp = 2 * (p - y) / len(X)
    dW2, db2 = h.T @ dp, dp.sum(0)
    dz = (dp @ W2.T) * (1 - h ** 2)
    dW1, db1 = X.T @ dz, dz.sum(0)

    params = [Tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    tW1, tb1, tW2, tb2 = params
    loss = ((((Tensor(X) @ tW1 + tb1).tanh() @ tW2 + tb2) - y) ** 2).mean()
    loss.backward()
    assert loss.item() == pytest.approx(np.mean((p - y) ** 2), rel=1e-14)
    for t, expected in zip(params, (dW1, db1, dW2, db2)):
        np.testing.assert_allclose(t.grad, expected, rtol=1e-12, atol=1e-14)


def test_deep_chain_of_100000_ops_backpropagates_without_recursion():
    x = Tensor(2.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    (y * 3.0).backward()
    assert x.grad == 3.0


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = Tensor([1.0, -2.0], requires_grad=True)
    for expected in (1, 2, 3):
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad, expected * 2 * x.data)
    x.zero_grad()
    assert x.grad is None


def test_a_tensor_used_several_times_receives_the_sum():
    x = Tensor(3.0, requires_grad=True)
    (x * x + x * 2.0 + x).backward()  # d/dx (x² + 3x) = 2x + 3
    assert x.grad == 9.0


def test_shared_gradient_arrays_are_not_aliased():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)
    a.grad[0] = 100.0  # must not leak into b.grad nor into the caller's seed
    assert b.grad[0] == 1.0 and seed[0] == 1.0
    c = a.reshape(2, 1).reshape(2)
    c.backward(np.ones(2))
    a2 = Tensor([1.0, 2.0], requires_grad=True)
    y = a2.reshape(1, 2)
    y.backward(np.ones((1, 2)))
    y.grad[0, 0] = 7.0
    assert a2.grad[0] == 1.0


def test_leaf_gradients_own_their_memory_and_keep_the_leaf_dtype():
    w = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    (w * Tensor([3.0, 4.0])).sum().backward()        # float32 * float64: the gradient arrives as float64
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [3.0, 4.0]
    x = Tensor([1.0, 2.0], requires_grad=True)
    z = x * 2.0
    W = Tensor([0.5, 0.5], requires_grad=True)      # a leaf made after the op it meets
    out = W + z                                      # add hands one gradient array to both inputs
    out.backward(np.ones(2))
    W.grad += 1.0                                    # in place, as an optimizer or a user may do
    assert out.grad.tolist() == z.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]
    v = Tensor(3.0, requires_grad=True)              # backward() of a leaf: dv/dv = 1, accumulated
    v.backward()
    v.backward()
    assert v.grad == 2.0


def test_topological_order_is_creation_order_and_can_leave_out_the_leaves():
    b = Tensor(2.0, requires_grad=True, name="b")
    a = Tensor(1.0, requires_grad=True, name="a")
    y = (a * b).exp()
    L = y - b
    order = L.topological_order()
    assert [t.name or t.op for t in order] == ["b", "a", "mul", "exp", "sub"]
    assert L.topological_order(leaves=False) == [t for t in order if not t.is_leaf]
    assert a.topological_order(leaves=False) == [a] == a.topological_order()


def test_non_scalar_backward_takes_an_explicit_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2.0).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -2.0])


def test_no_grad_records_no_graph():
    w = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = w * 2.0
        assert not tinygrad_edu.is_grad_enabled()
    assert tinygrad_edu.is_grad_enabled()
    assert not y.requires_grad and y.op == "" and y.inputs == ()
    z = w * 2.0
    assert z.requires_grad and z.op == "mul" and z.inputs[0] is w


def test_results_remember_op_and_inputs_in_argument_order():
    a, b = Tensor(1.0, requires_grad=True, name="a"), Tensor(2.0, requires_grad=True, name="b")
    out = 5.0 - a * b
    assert out.op == "sub" and out.inputs[0].data == 5.0 and out.inputs[1].op == "mul"
    assert out.inputs[1].inputs == (a, b)
    order = out.topological_order()
    assert order.index(a) < order.index(out.inputs[1]) < order.index(out) and order[-1] is out


def test_name_scope_tags_ops():
    x = Tensor(1.0, requires_grad=True)
    with name_scope("layer 1"):
        y = x * 2.0
    z = y + 1.0
    assert y.scope == "layer 1" and z.scope is None


def test_graph_is_freed_without_the_cycle_collector():
    gc.disable()
    try:
        x = Tensor(np.ones(4), requires_grad=True)
        loss = ((x * 2.0).tanh() + x).sum()
        loss.backward()
        probe = weakref.ref(loss.inputs[0])
        del loss
        assert probe() is None  # refcounting alone freed it: no tensor <-> closure cycle
    finally:
        gc.enable()


def test_constructors_are_seeded_and_typed():
    a, b = Tensor.randn(3, 2, seed=7), Tensor.randn((3, 2), seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    u = Tensor.uniform(1000, low=-2, high=2, seed=1)
    assert u.data.min() >= -2 and u.data.max() < 2
    assert Tensor.zeros(2, 3).data.sum() == 0 and Tensor.ones(2, dtype=np.float32).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float64


def test_tensor_surface():
    data = np.array([[1.0, 2.0]])
    t = Tensor(data, requires_grad=True, name="w")
    data[0, 0] = 9.0
    assert t.data[0, 0] == 1.0, "the constructor copies"
    assert t.shape == (1, 2) and t.ndim == 2 and t.size == 2 and len(t) == 1
    assert Tensor(4.0).item() == 4.0 and isinstance(Tensor(4.0).item(), float)
    assert t.numpy() is t.data
    d = t.detach()
    assert not d.requires_grad and d.data is t.data
    assert repr(t) == "Tensor([[1., 2.]], name='w', requires_grad=True)"
    assert "shape=(3, 4)" in repr(Tensor.zeros(3, 4)) and "op='mul'" in repr(t * 2.0)
    assert t.is_leaf and not (t * 2.0).is_leaf


def test_numpy_array_on_the_left_defers_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_same_seed_same_numbers_bit_for_bit():
    def run():
        w = Tensor.randn(4, 3, seed=3, requires_grad=True)
        loss = (Tensor.randn(5, 4, seed=4) @ w).tanh().log_softmax().mean()
        loss.backward()
        return loss.data.tobytes() + w.grad.tobytes()
    assert run() == run()


@pytest.mark.parametrize("make, kind, message", [
    (lambda: Tensor.ones(3, 4) @ Tensor.ones(5, 2), ShapeError, "matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ"),
    (lambda: Tensor.ones(3, 4) + Tensor.ones(5), ShapeError, "add: (3, 4) + (5,): shapes cannot be broadcast"),
    (lambda: Tensor.ones(2) * Tensor.ones(3), ShapeError, "mul: (2,) * (3,)"),
    (lambda: Tensor.ones(3).reshape(2, 2), ShapeError, "reshape: cannot reshape (3,)"),
    (lambda: Tensor.ones(3).sum(axis=2), ShapeError, "sum: axis 2 is out of range"),
    (lambda: Tensor.ones(2, 3).transpose(0, 0), ShapeError, "transpose: axes (0, 0)"),
    (lambda: Tensor("abc"), TypeError, "Tensor data must be numeric"),
    (lambda: Tensor({"a": 1}), TypeError, "got dict"),
    (lambda: Tensor([[1.0], [1.0, 2.0]]), TypeError, "got list"),
    (lambda: Tensor(1.0, dtype=np.int32), TypeError, "dtype must be float64 or float32"),
    (lambda: Tensor.ones(3, requires_grad=True).backward(), RuntimeError, "not a scalar; reduce it first"),
    (lambda: Tensor.ones(3).sum().backward(), RuntimeError, "does not require grad"),
    (lambda: Tensor.ones(2, requires_grad=True).backward(np.ones(3)), ShapeError, "gradient of shape (3,)"),
    (lambda: Tensor.ones(3).item(), ValueError, "item: only a tensor with one element"),
    (lambda: Tensor.ones(3).clip(2, 1), ValueError, "clip: low=2 is greater than high=1"),
    (lambda: Tensor.zeros(0, 3).max(axis=0), ShapeError, "max: tensor of shape (0, 3) has no elements along axes (0,)"),
    (lambda: Tensor.zeros(0).max(), ShapeError, "max: tensor of shape (0,) has no elements along axes (0,)"),
])
def test_errors_are_one_line_and_name_the_problem(make, kind, message):
    with pytest.raises(kind) as info:
        make()
    text = str(info.value)
    assert message in text and "\n" not in text


def test_detect_anomaly_names_the_op():
    x = Tensor([0.0, 1.0], requires_grad=True)
    assert np.isinf(x.log().data).any()  # off by default
    with detect_anomaly(), pytest.raises(FloatingPointError, match="op 'log' produced inf"):
        x.log()
    with detect_anomaly(), pytest.raises(FloatingPointError, match="op 'exp' produced inf"):
        (x * 1000.0).exp()


def test_gradcheck_returns_error_and_names_the_failing_input():
    x = Tensor([0.5, -1.5], requires_grad=True, name="x")
    assert gradcheck(lambda t: (t * t).sum(), [x]) < 1e-7

    def wrong_square(t):  # forward t², backward claims 3t
        return Tensor._result(t.data ** 2, (t,), "wrong", lambda g: (g * 3 * t.data,))
    with pytest.raises(GradcheckError, match=r"input 0 \('x'\) at index \(0,\)"):
        gradcheck(wrong_square, [x])
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t, [Tensor([1.0], requires_grad=True, dtype=np.float32)])


@pytest.mark.parametrize("claimed", [np.nan, np.inf, -np.inf])
def test_gradcheck_fails_a_nan_or_infinite_gradient_where_finite_differences_are_finite(claimed):
    def bad_square(t):  # forward t², backward claims nan or inf
        return Tensor._result(t.data ** 2, (t,), "bad", lambda g: (np.full_like(t.data, claimed),))
    with pytest.raises(GradcheckError, match=r"^gradcheck: analytic gradient of input 0 at index \(2,\) is "
                                             r"(nan|inf|-inf) \(finite differences give -?\d"):
        gradcheck(lambda t: bad_square(t[2:]).sum() + (t[:2] * t[:2]).sum(), [Tensor([0.5, 1.0, 2.0], requires_grad=True)])


@pytest.mark.parametrize("fn, at", [
    (lambda t: t.log(), 0.0),      # ln 0 = −inf: backward gives 1/0 = inf, finite differences nan (ln of −ε)
    (lambda t: t.sqrt(), 0.0),     # √ is vertical at 0 and undefined left of it
    (lambda t: (t - 1.0).log(), 1.0),
])
def test_gradcheck_fails_log_and_sqrt_at_zero(fn, at):
    x = Tensor([at], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"analytic gradient of input 0 at index \(0,\) is -?inf \(finite "
                                             r"differences give nan\)") as info:
        gradcheck(fn, [x])
    assert "\n" not in str(info.value)


def test_gradcheck_fails_where_only_finite_differences_are_infinite():
    """Infinite finite differences: the function jumps to inf at the point; it is not differentiable there,
    even where backward says inf too (an infinite gradient is never a pass)."""
    def wall(t, slope):  # 0 left of the origin, inf right of it
        return Tensor._result(np.where(t.data > 0, np.inf, 0.0), (t,), "wall", lambda g: (g * slope,))
    x = Tensor([0.0], requires_grad=True, name="x")
    with pytest.raises(GradcheckError, match=r"^gradcheck: numeric gradient of input 0 \('x'\) at index \(0,\) is "
                                             r"-?inf: the function is not differentiable there .*backward gives 0\)"):
        gradcheck(lambda t: wall(t, 0.0), [x])
    with pytest.raises(GradcheckError, match=r"analytic gradient of input 0 \('x'\) at index \(0,\) is -?inf"):
        gradcheck(lambda t: wall(t, np.inf), [x])


@pytest.mark.parametrize("result, kind", [(lambda t: float(t.data.sum()), "float"), (lambda t: t.data * 2, "ndarray"),
                                          (lambda t: (t * t).sum().item(), "float")])
def test_gradcheck_of_a_function_that_returns_no_tensor_says_to_return_one(result, kind):
    with pytest.raises(TypeError, match=f"^gradcheck: fn returned a {kind}, not a Tensor; return a Tensor") as info:
        gradcheck(result, [Tensor([1.0, 2.0], requires_grad=True)])
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="^gradcheck: fn's result is not connected to the inputs"):
        gradcheck(lambda t: Tensor(t.data * 2), [Tensor([1.0, 2.0], requires_grad=True)])


# ----- edge points: our conventions, by hand (tests/test_edges_torch.py checks them against PyTorch) -----

def test_ops_at_their_edge_points_give_ieee_values_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor([0.0, 4.0], requires_grad=True)
        log, root = x.log(), x.sqrt()
        (log + root).sum().backward()
        assert log.data.tolist() == [-np.inf, np.log(4.0)] and root.data.tolist() == [0.0, 2.0]
        assert x.grad.tolist() == [np.inf, 0.25 + 0.25]                  # 1/a + 1/(2√a): inf at 0
        assert (1.0 / Tensor(0.0)).item() == np.inf and np.isnan((Tensor(0.0) / 0.0).item())
        big = Tensor([709.78, 709.79, 1000.0]).exp().data
        assert np.isfinite(big[0]) and big[1] == big[2] == np.inf       # e^a overflows float64 past a = 709.78...
        assert np.isnan((Tensor(-1.0).log() + Tensor(-1.0).sqrt()).item())


@pytest.mark.parametrize("b, d_da, d_db", [
    (0.0, 0.0, 0.0),        # 0⁰ = 1: flat in a; PyTorch's 0 in b
    (1.0, 1.0, 0.0),        # a¹: slope 1
    (2.0, 0.0, 0.0), (3.0, 0.0, 0.0),
    (0.5, np.inf, 0.0),     # √a is vertical at 0
    (-1.0, -np.inf, -np.inf), (-2.0, -np.inf, -np.inf),
])
def test_pow_at_zero_follows_pytorch(b, d_da, d_db):
    base, exponent = Tensor(0.0, requires_grad=True), Tensor(b, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (base ** exponent).backward()
    assert base.grad == d_da and exponent.grad == d_db


def test_pow_of_a_negative_base_has_no_derivative_in_the_exponent():
    base, exponent = Tensor([-2.0, -2.0], requires_grad=True), Tensor([2.0, 0.0], requires_grad=True)
    (base ** exponent).sum().backward()
    assert base.grad.tolist() == [-4.0, 0.0] and np.isnan(exponent.grad).all()   # ln(−2) is nan


def test_pow_at_zero_agrees_with_finite_differences_where_they_exist():
    for b in (0.0, 1.0, 2.0, 3.0):      # an integer power is defined on both sides of a = 0
        gradcheck(lambda a: a ** b, [Tensor([0.0, 0.0], requires_grad=True)])
    for b in (0.5, 1.0, 2.0):           # 0^b = 0 on both sides of b > 0
        gradcheck(lambda e: 0.0 ** e, [Tensor([b], requires_grad=True)])
    gradcheck(lambda a, e: a ** e, [Tensor([0.0, 0.0], requires_grad=True), Tensor([2.0, 3.0], requires_grad=True)])


def test_max_ties_share_the_gradient_evenly_in_a_full_reduction_too():
    x = Tensor([[1.0, 2.0, 2.0], [2.0, 0.0, 0.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    y = Tensor([[1.0, 2.0, 5.0], [1.0, 0.0, 5.0]], requires_grad=True)
    y.max(axis=0, keepdims=True).backward(np.array([[1.0, 2.0, 4.0]]))   # columns 0 and 2 are ties
    np.testing.assert_array_equal(y.grad, [[0.5, 2, 2], [0.5, 0, 2]])


def test_empty_arrays_go_through_every_op():
    rows = Tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outs = {
            "arithmetic": ((rows + 1.0) * 2.0 - rows / 3.0) ** 2.0, "matmul": rows @ Tensor.ones(3, 2),
            "elementwise": rows.exp() + rows.log() + rows.sqrt() + rows.abs() + rows.relu() + rows.tanh()
                           + rows.sigmoid() + rows.clip(-1.0, 1.0),
            "softmax": rows.softmax(-1) + rows.log_softmax(0), "shape": rows.reshape(3, 0).T[:, 1:],
            "max": rows.max(axis=1), "mean_rows": rows.mean(axis=1),
        }
        for name, out in outs.items():
            rows.grad = None
            out.backward(np.zeros(out.shape))
            assert out.size == 0 and rows.grad.shape == (0, 3), name
        total, mean = rows.sum(axis=0), rows.mean(axis=0)         # reducing the empty axis
        assert total.data.tolist() == [0.0] * 3 and np.isnan(mean.data).all() and np.isnan(rows.mean().item())
        rows.grad = None
        (total.sum() + mean.sum()).backward()
        assert rows.grad.shape == (0, 3)
        inner = Tensor(np.zeros((2, 0)), requires_grad=True) @ Tensor(np.zeros((0, 3)))
        assert inner.data.tolist() == [[0.0] * 3] * 2                # a sum of no products is 0


def test_softmax_over_an_empty_axis_is_empty_and_bad_axes_are_one_line_errors():
    """Over an empty axis there is nothing to normalise: an empty result, as torch.softmax gives
    (test_edges_torch.py compares); a 0-d tensor has no axis at all."""
    for shape, axis in (((0,), -1), ((3, 0), 1), ((0, 3), 0)):
        x = Tensor(np.zeros(shape), requires_grad=True)
        for out in (x.softmax(axis), x.log_softmax(axis)):
            out.backward(np.zeros(shape))
            assert out.shape == shape and x.grad.shape == shape
    for make, kind, message in [
        (lambda: Tensor(3.0).softmax(), ShapeError, "^softmax: a 0-dimensional tensor has no axis -1; pass axis=None"),
        (lambda: Tensor(3.0).sum(axis=0), ShapeError, "^sum: a 0-dimensional tensor has no axis 0"),
        (lambda: Tensor([1.0]).sum(axis=1.5), TypeError, r"^sum: axis=1.5 must be None, an int or a tuple of ints$"),
        (lambda: Tensor([1.0]).max(axis=(0, "x")), TypeError, r"^max: axis=\(0, 'x'\) must be None, an int or a tuple"),
        (lambda: Tensor([1.0]).mean(axis=True), TypeError, "^mean: axis=True must be None"),
        (lambda: Tensor(np.zeros(2)).softmax(axis=1), ShapeError, "^softmax: axis 1 is out of range for a tensor with 1"),
    ]:
        with pytest.raises(kind, match=message) as info:
            make()
        assert "\n" not in str(info.value)
    assert Tensor(3.0).sum().item() == 3.0                          # axis=None reduces a 0-d tensor fine
