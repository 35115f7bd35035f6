"""Every op's gradient against central finite differences, over random shapes (hypothesis)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from tinygrad_edu import Tensor, concatenate, gradcheck, stack

FAST = settings(max_examples=20, deadline=None)


def away_from_zero(rng, shape, low=0.3, high=2.0):
    """Values with |x| in [low, high]: no op has a kink within eps of them."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """Values at least 0.1 apart, so max has no near-ties that finite differences would straddle."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape) + rng.uniform(-0.02, 0.02, shape)


def leaf(values):
    return Tensor(values, requires_grad=True)


seeds = st.integers(0, 2**32 - 1)
broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


@FAST
@given(shapes=broadcast_pairs, seed=seeds, op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_ops_broadcast(shapes, seed, op):
    rng = np.random.default_rng(seed)
    a, b = (leaf(away_from_zero(rng, s)) for s in shapes.input_shapes)
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y,
          "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[op]
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    expected = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op](a.data, b.data)
    np.testing.assert_array_equal(out.data, expected)
    gradcheck(fn, [a, b])


@FAST
@given(shapes=broadcast_pairs, seed=seeds)
def test_pow_both_operands(shapes, seed):
    rng = np.random.default_rng(seed)
    base = leaf(rng.uniform(0.5, 2.0, shapes.input_shapes[0]))
    exponent = leaf(rng.uniform(-2.0, 2.0, shapes.input_shapes[1]))
    gradcheck(lambda x, y: x ** y, [base, exponent])


@FAST
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=seeds, number=st.floats(-3, 3))
def test_numbers_and_arrays_on_either_side(shape, seed, number):
    rng = np.random.default_rng(seed)
    x = leaf(away_from_zero(rng, shape))
    arr = away_from_zero(rng, shape)
    for fn in (lambda t: number + t, lambda t: t - number, lambda t: number - t, lambda t: number * t,
               lambda t: arr / t, lambda t: t / 2.5, lambda t: arr * t, lambda t: t + arr, lambda t: -t,
               lambda t: 2.0 ** t, lambda t: t ** 2, lambda t: arr - t):
        gradcheck(fn, [x])
    np.testing.assert_array_equal((arr * x).data, arr * x.data)


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    kind = draw(st.sampled_from(["vec@vec", "vec@mat", "mat@vec", "mat@mat"]))
    a = (k,) if kind.startswith("vec") else batch.input_shapes[0] + (n, k)
    b = (k,) if kind.endswith("vec") else batch.input_shapes[1] + (k, m)
    return a, b


@FAST
@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul_1d_2d_and_batched(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (leaf(rng.standard_normal(s)) for s in shapes)
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data), rtol=1e-12, atol=1e-12)
    gradcheck(lambda x, y: x @ y, [a, b])


@st.composite
def shape_and_axis(draw, min_dims=1):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=3, max_side=4))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)))
    return shape, axis


@FAST
@given(sa=shape_and_axis(), keepdims=st.booleans(), seed=seeds, op=st.sampled_from(["sum", "mean", "max"]))
def test_reductions(sa, keepdims, seed, op):
    shape, axis = sa
    rng = np.random.default_rng(seed)
    x = leaf(distinct(rng, shape))
    out = getattr(x, op)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(np, op)(x.data, axis=axis, keepdims=keepdims), rtol=1e-12)
    gradcheck(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), [x])


def test_max_ties_share_the_gradient_evenly():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


UNARY = {
    "exp": (lambda t: t.exp(), np.exp, away_from_zero),
    "log": (lambda t: t.log(), np.log, lambda r, s: r.uniform(0.2, 3.0, s)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, lambda r, s: r.uniform(0.2, 3.0, s)),
    "abs": (lambda t: t.abs(), np.abs, away_from_zero),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), away_from_zero),
    "tanh": (lambda t: t.tanh(), np.tanh, away_from_zero),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), away_from_zero),
    "clip": (lambda t: t.clip(-1.0, 1.0), lambda a: np.clip(a, -1, 1),
             lambda r, s: np.where(r.random(s) < 0.5, r.uniform(-0.9, 0.9, s), r.uniform(1.1, 2, s) * r.choice([-1, 1], s))),
}


@FAST
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4), seed=seeds, name=st.sampled_from(sorted(UNARY)))
def test_elementwise(shape, seed, name):
    fn, reference, sample = UNARY[name]
    x = leaf(sample(np.random.default_rng(seed), shape))
    np.testing.assert_allclose(fn(x).data, reference(x.data), rtol=1e-12)
    gradcheck(fn, [x])


@FAST
@given(sa=shape_and_axis(), seed=seeds, op=st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_family(sa, seed, op):
    shape, axis = sa
    axis = axis if isinstance(axis, int) else -1
    x = leaf(np.random.default_rng(seed).standard_normal(shape) * 3)
    out = getattr(x, op)(axis=axis)
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    soft = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(out.data, soft if op == "softmax" else np.log(soft), rtol=1e-10, atol=1e-12)
    gradcheck(lambda t: getattr(t, op)(axis=axis), [x])


def test_softmax_is_stable_for_large_logits():
    x = leaf([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    soft, logsoft = x.softmax(axis=1), x.log_softmax(axis=1)
    assert np.isfinite(soft.data).all() and np.isfinite(logsoft.data).all()
    np.testing.assert_allclose(soft.data[0], np.exp([-2, -1, 0]) / np.exp([-2, -1, 0]).sum())
    assert logsoft.data[1, 0] == -2000.0
    logsoft.sum().backward()
    assert np.isfinite(x.grad).all()


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = Tensor([-1000.0, 0.0, 1000.0]).sigmoid()
    np.testing.assert_array_equal(out.data, [0.0, 0.5, 1.0])


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds)
def test_reshape_and_transpose(shape, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    perm = tuple(rng.permutation(len(shape)))
    gradcheck(lambda t: t.reshape(-1), [x])
    gradcheck(lambda t: t.reshape(tuple(reversed(shape))), [x])
    gradcheck(lambda t: t.transpose(*perm), [x])
    gradcheck(lambda t: t.T, [x])
    np.testing.assert_array_equal(x.transpose(*perm).data, x.data.transpose(perm))
    np.testing.assert_array_equal(x.T.data, x.data.T)


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=5), seed=seeds)
def test_indexing_slices_int_arrays_and_masks(shape, seed):
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    repeated = rng.integers(0, shape[0], size=6)  # repeats on purpose: gradients must add up
    mask = rng.random(shape) < 0.5
    for index in (slice(None, None, 2), (slice(1, None), Ellipsis), repeated, mask, -1):
        np.testing.assert_array_equal(x[index].data, x.data[index])
        gradcheck(lambda t: t[index], [x])
    x.grad = None
    x[repeated].sum().backward()
    np.testing.assert_array_equal(x.grad[:, ...].reshape(shape[0], -1)[:, 0], np.bincount(repeated, minlength=shape[0]))


@FAST
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, n=st.integers(1, 3))
def test_concatenate_and_stack(shape, seed, n):
    rng = np.random.default_rng(seed)
    axis = int(rng.integers(0, len(shape)))
    parts = [leaf(rng.standard_normal(shape[:axis] + (int(rng.integers(1, 4)),) + shape[axis + 1:])) for _ in range(n)]
    np.testing.assert_array_equal(concatenate(parts, axis=axis).data, np.concatenate([p.data for p in parts], axis=axis))
    gradcheck(lambda *ts: concatenate(ts, axis=axis), parts)
    same = [leaf(rng.standard_normal(shape)) for _ in range(n)]
    np.testing.assert_array_equal(stack(same, axis=axis).data, np.stack([p.data for p in same], axis=axis))
    gradcheck(lambda *ts: stack(ts, axis=axis), same)


def test_float32_on_request_stays_float32():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32)
    w = Tensor.randn(2, 3, seed=0, dtype=np.float32, requires_grad=True)
    loss = ((x @ w).tanh() * 2.0 + np.ones(3)).softmax().log().mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
