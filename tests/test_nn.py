"""Models and losses: names, scopes, saving, gradients against finite differences, losses against NumPy."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import ShapeError, Tensor, gradcheck, name_scope, nn


# ----- Module: names, order, scopes, printing ------------------------------------------------

def test_mlp_structure_and_names():
    model = nn.MLP([2, 16, 16, 1])
    assert [type(m).__name__ for m in model.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b", "layers.4.W", "layers.4.b"]
    assert [p.name for p in model.parameters()] == names
    assert [p.shape for p in model.parameters()] == [(2, 16), (16,), (16, 16), (16,), (16, 1), (1,)]
    assert model.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert all(p.requires_grad for p in model.parameters())
    assert [m._scope for m in model.modules()] == ["MLP(2→16→16→1, relu)", "layers.0: Linear(2→16)", "layers.1: ReLU",
                                                   "layers.2: Linear(16→16)", "layers.3: ReLU", "layers.4: Linear(16→1)"]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.MLP([3, 4, 4], activation="tanh", seed=1)
        self.head = nn.Linear(4, 2, seed=2)
        self.scale = Tensor([1.0], requires_grad=True)
        self.constant = Tensor([5.0])                 # does not require grad: not a parameter

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_nested_module_names_and_state_dict():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.layers.0.W", "body.layers.0.b", "body.layers.2.W", "body.layers.2.b",
                     "head.W", "head.b", "scale"]
    assert net.body.layers[2].W.name == "body.layers.2.W" and net.scale.name == "scale"
    assert net.head._scope == "head: Linear(4→2)" and net.body.layers[1]._scope == "body.layers.1: Tanh"
    assert net.constant.name is None
    assert list(net.state_dict()) == names
    # a sub-module's own parameter list keeps the full names
    assert [p.name for p in net.head.parameters()] == ["head.W", "head.b"]


def test_layer_added_after_construction_is_named():
    net = Net()
    net.extra = nn.Linear(2, 2, seed=0)
    assert net.extra.W.name == "extra.W" and net.extra._scope == "extra: Linear(2→2)"
    net.body.more = nn.Linear(4, 4, seed=0)
    assert net.body.more.W.name == "body.more.W"


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2, seed=0)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["layers.0.W", "layers.0.b"]


def test_forward_runs_inside_the_layer_scope():
    model = nn.MLP([2, 3, 1], seed=0)
    x = np.ones((4, 2))
    out = model(x)
    assert out.op == "linear" and out.scope == "layers.2: Linear(3→1)"     # x @ W + b, one op
    relu = out.inputs[0]
    assert relu.op == "relu" and relu.scope == "layers.1: ReLU"
    assert relu.inputs[0].scope == "layers.0: Linear(2→3)"
    loss = (out * out).mean()       # outside any module
    assert loss.scope is None
    with name_scope("outer"):
        inner = model.layers[0](x)
        after = inner * 2
    assert inner.scope == "layers.0: Linear(2→3)" and after.scope == "outer"


def test_scope_is_restored_after_an_error():
    model = nn.MLP([2, 3, 1], seed=0)
    with pytest.raises(ShapeError):
        model(np.ones((4, 5)))
    assert (Tensor([1.0], requires_grad=True) * 2).scope is None


def test_repr_lists_the_layers():
    text = repr(nn.MLP([2, 16, 1], activation="tanh"))
    assert text.splitlines() == ["MLP(2→16→1, tanh), 65 parameters",
                                 "  (layers.0) Linear(2→16): W (2, 16), b (16,)",
                                 "  (layers.1) Tanh",
                                 "  (layers.2) Linear(16→1): W (16, 1), b (1,)"]
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(3→2, bias=False), 6 parameters: W (3, 2)"
    assert "(head) Linear(4→2): W (4, 2), b (2,)" in repr(Net())


def test_zero_grad():
    model = nn.MLP([2, 3, 1], seed=0)
    (model(np.ones((2, 2))) ** 2).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----- state_dict ----------------------------------------------------------------------------

def test_state_dict_round_trip_through_npz(tmp_path):
    a, b = nn.MLP([2, 5, 3], seed=0), nn.MLP([2, 5, 3], seed=1)
    x = np.random.default_rng(0).standard_normal((4, 2))
    assert not np.allclose(a(x).data, b(x).data)
    np.savez(tmp_path / "m.npz", **a.state_dict())
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        b.load_state_dict(dict(f))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    # loading copies into the existing arrays (an optimizer holding them keeps working)
    W = b.layers[0].W.data
    b.load_state_dict(nn.MLP([2, 5, 3], seed=2).state_dict())
    assert b.layers[0].W.data is W
    # the state_dict holds copies
    d = a.state_dict()
    d["layers.0.W"][...] = 0
    assert np.any(a.layers[0].W.data != 0)


def test_load_state_dict_errors():
    model = nn.MLP([2, 4, 1], seed=0)
    good = model.state_dict()
    before = {k: v.copy() for k, v in good.items()}
    changed = {k: v + 1 for k, v in good.items()}

    def fails(d, exc, pattern):
        with pytest.raises(exc, match=pattern) as info:
            model.load_state_dict(d)
        assert "\n" not in str(info.value)
        for k, v in model.state_dict().items():      # nothing was changed
            np.testing.assert_array_equal(v, before[k])

    fails({k: v for k, v in changed.items() if k != "layers.2.b"}, ValueError,
          r"missing entry 'layers.2.b' \(the model's parameter has shape \(1,\)\)")
    fails({**changed, "layers.9.W": np.zeros((3, 3))}, ValueError,
          r"unexpected entry 'layers.9.W' of shape \(3, 3\); the model has no parameter of that name")
    fails({**changed, "layers.0.W": np.zeros((4, 2))}, ShapeError,
          r"entry 'layers.0.W' has shape \(4, 2\) but the model's parameter has shape \(2, 4\)")


# ----- Linear and MLP -------------------------------------------------------------------------

def test_linear_computes_x_W_plus_b():
    lin = nn.Linear(3, 2, seed=0)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(lin(x).data, x @ lin.W.data + lin.b.data, rtol=0, atol=1e-15)
    no_bias = nn.Linear(3, 2, bias=False, seed=0)
    assert no_bias.b is None and [n for n, _ in no_bias.named_parameters()] == ["W"]
    np.testing.assert_array_equal(no_bias(x).data, x @ no_bias.W.data)


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 4), n_in=st.integers(1, 4), n_out=st.integers(1, 4), bias=st.booleans(),
       seed=st.integers(0, 100))
def test_linear_gradients(batch, n_in, n_out, bias, seed):
    lin = nn.Linear(n_in, n_out, bias=bias, seed=seed, init="torch")
    x = Tensor(np.random.default_rng(seed).standard_normal((batch, n_in)), requires_grad=True)
    inputs = [x, lin.W] + ([lin.b] if bias else [])
    gradcheck(lambda *_: lin(x), inputs)


@settings(max_examples=20, deadline=None)
@given(lead=st.lists(st.integers(1, 3), max_size=3), n_in=st.integers(1, 4), n_out=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 100))
def test_linear_op_equals_matmul_then_add_for_any_leading_shape(lead, n_in, n_out, bias, seed):
    """One `linear` node computes bit for bit what x @ W + b computes with two (matmul, add)."""
    rng = np.random.default_rng(seed)
    x_data, W_data, b_data = rng.standard_normal((*lead, n_in)), rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
    g = rng.standard_normal((*lead, n_out))
    results = []
    for fused in (True, False):
        x, W, b = (Tensor(d, requires_grad=True) for d in (x_data, W_data, b_data))
        y = nn.linear(x, W, b if bias else None) if fused else (x @ W + b if bias else x @ W)
        y.backward(g)
        results.append([y.data, x.grad, W.grad] + ([b.grad] if bias else []))
    assert (y.op == "add") if bias else (y.op == "matmul")
    for ours, written_out in zip(*results):
        np.testing.assert_allclose(ours, written_out, rtol=1e-14, atol=1e-14)
    x, W, b = (Tensor(d, requires_grad=True) for d in (x_data, W_data, b_data))
    gradcheck(lambda *x_W_b: (nn.linear(*x_W_b) * g).sum(), [x, W, b] if bias else [x, W])


def test_linear_is_one_node_per_layer_with_x_W_b_as_inputs():
    lin = nn.Linear(3, 2, seed=0)
    x = Tensor(np.ones((4, 3)))
    y = lin(x)
    assert y.op == "linear" and y.inputs == (x, lin.W, lin.b)
    no_bias = nn.Linear(3, 2, bias=False, seed=0)
    assert no_bias(x).inputs == (x, no_bias.W)
    one = lin(Tensor(np.ones(3)))        # a 1-D input is one row: reshape, linear, reshape
    assert one.shape == (2,) and one.op == "reshape" and one.inputs[0].op == "linear"
    with pytest.raises(ShapeError, match=r"linear: input of shape \(4, 3\) @ W of shape \(2, 2\): the input's last "
                                         r"dimension must be 2"):
        nn.linear(x, Tensor(np.ones((2, 2))))
    with pytest.raises(ShapeError, match=r"linear: input of shape \(4, 3\) @ W of shape \(3,\): W must have shape"):
        nn.linear(x, Tensor(np.ones(3)))
    with pytest.raises(ShapeError, match=r"linear: bias of shape \(4, 2\) with W of shape \(3, 2\): the bias must "
                                         r"have shape \(2,\)"):
        nn.linear(x, lin.W, Tensor(np.ones((4, 2))))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_gradients(activation):
    model = nn.MLP([3, 4, 4, 2], activation=activation, seed=5)
    x = Tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    gradcheck(lambda *_: model(x), [x] + model.parameters())
    y = np.array([0, 1, 1, 0, 1])
    gradcheck(lambda *_: nn.cross_entropy(model(x), y), [x] + model.parameters())


def test_mlp_gradient_matches_manual_backprop():
    """W.grad has the shape of W, (in, out): ∂L/∂W = xᵀ·∂L/∂y for y = x @ W + b."""
    lin = nn.Linear(3, 2, seed=0)
    x = np.random.default_rng(0).standard_normal((5, 3))
    out = lin(x)
    (out * out).sum().backward()
    dy = 2 * out.data
    np.testing.assert_allclose(lin.W.grad, x.T @ dy, atol=1e-12)
    np.testing.assert_allclose(lin.b.grad, dy.sum(axis=0), atol=1e-12)


def test_initialisation_statistics():
    he = nn.Linear(1000, 400, init="he", seed=0)
    assert he.W.data.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    assert abs(he.W.data.mean()) < 0.002 and not he.b.data.any()
    gl = nn.Linear(600, 400, init="glorot", seed=0)
    limit = np.sqrt(6 / 1000)
    assert np.abs(gl.W.data).max() <= limit and np.abs(gl.W.data).max() > 0.99 * limit
    assert gl.W.data.var() == pytest.approx(2 / 1000, rel=0.02)
    le = nn.Linear(1000, 400, init="lecun", seed=0)
    assert le.W.data.std() == pytest.approx(np.sqrt(1 / 1000), rel=0.02)
    to = nn.Linear(400, 1000, init="torch", seed=0)
    assert np.abs(to.W.data).max() <= 0.05 and np.abs(to.b.data).max() <= 0.05 and to.b.data.std() > 0.02


def test_mlp_init_follows_activation():
    assert [m.init for m in nn.MLP([4, 4, 1], activation="relu").layers[::2]] == ["he", "he"]
    assert [m.init for m in nn.MLP([4, 4, 1], activation="tanh").layers[::2]] == ["glorot", "glorot"]
    assert nn.MLP([4, 4, 1], activation="sigmoid").layers[0].init == "glorot"
    assert nn.MLP([4, 4, 1], init="lecun").layers[2].init == "lecun"


def test_determinism_from_the_seed():
    same = [nn.MLP([2, 8, 1], seed=3).state_dict() for _ in range(2)]
    for k in same[0]:
        np.testing.assert_array_equal(same[0][k], same[1][k])
    other = nn.MLP([2, 8, 1], seed=4).state_dict()
    assert not np.array_equal(same[0]["layers.0.W"], other["layers.0.W"])
    gen_a = nn.MLP([2, 8, 1], seed=np.random.default_rng(3)).state_dict()
    np.testing.assert_array_equal(gen_a["layers.0.W"], same[0]["layers.0.W"])
    # layers of one MLP draw from one generator: two 8→8 layers differ
    deep = nn.MLP([2, 8, 8, 8, 1], seed=0)
    assert not np.array_equal(deep.layers[2].W.data, deep.layers[4].W.data)
    nn.manual_seed(11)
    a = nn.Linear(3, 3).W.data.copy()
    b = nn.Linear(3, 3).W.data.copy()
    nn.manual_seed(11)
    np.testing.assert_array_equal(nn.Linear(3, 3).W.data, a)
    assert not np.array_equal(a, b)


def test_float32_model():
    model = nn.MLP([2, 4, 1], dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((3, 2)))
    assert out.dtype == np.float32
    nn.mse(out, np.zeros(3)).backward()
    assert model.layers[0].W.grad.dtype == np.float32


def test_sequential():
    seq = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Sigmoid(), nn.Linear(3, 1, seed=1))
    assert len(seq) == 3 and isinstance(seq[1], nn.Sigmoid) and list(seq)[0] is seq.layers[0]
    x = np.ones((2, 2))
    h = 1 / (1 + np.exp(-(x @ seq[0].W.data + seq[0].b.data)))
    np.testing.assert_allclose(seq(x).data, h @ seq[2].W.data + seq[2].b.data, atol=1e-14)
    with pytest.raises(TypeError, match="argument 1 is a int, not a Module"):
        nn.Sequential(nn.ReLU(), 3)


def test_construction_errors():
    with pytest.raises(ValueError, match=r"MLP: sizes=\[2\] must be at least two whole numbers >= 1"):
        nn.MLP([2])
    with pytest.raises(ValueError, match="must be at least two whole numbers"):
        nn.MLP([2, 0, 1])
    with pytest.raises(ValueError, match="MLP: unknown activation 'gelu'; use one of relu, tanh, sigmoid"):
        nn.MLP([2, 1], activation="gelu")
    with pytest.raises(ValueError, match="Linear: in_features=0 must be a whole number >= 1"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="Linear: out_features=2.5"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match="Linear: unknown init 'xavier'; use one of he, glorot, lecun, torch"):
        nn.Linear(2, 2, init="xavier")
    with pytest.raises(ShapeError, match=r"Linear\(2→16\): input of shape \(5, 3\) must have 2 features"):
        nn.MLP([2, 16, 1])(np.ones((5, 3)))
    with pytest.raises(NotImplementedError, match="Bare must define forward"):
        type("Bare", (nn.Module,), {})()(1)


# ----- losses --------------------------------------------------------------------------------

def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 5), seed=st.integers(0, 1000), scale=st.sampled_from([1.0, 30.0]))
def test_cross_entropy_against_numpy(n, c, seed, scale):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, c)) * scale
    y = rng.integers(0, c, n)
    logits = Tensor(z, requires_grad=True)
    loss = nn.cross_entropy(logits, y)
    assert loss.item() == pytest.approx(-_log_softmax(z)[np.arange(n), y].mean(), rel=1e-12, abs=1e-12)
    loss.backward()
    onehot = np.eye(c)[y]
    np.testing.assert_allclose(logits.grad, (np.exp(_log_softmax(z)) - onehot) / n, atol=1e-14)  # (softmax − onehot)/N
    gradcheck(lambda t: nn.cross_entropy(t, y), [Tensor(z / scale, requires_grad=True)])


def test_cross_entropy_is_stable_and_accepts_label_forms():
    z = np.array([[1000.0, 0.0], [0.0, -1000.0]])
    loss = nn.cross_entropy(Tensor(z), np.array([1, 1]))
    assert loss.item() == pytest.approx(1000.0)      # (1000 + 1000)/2: −log softmax picks 1000 and 1000
    y = np.array([0, 2, 1])
    z = np.random.default_rng(0).standard_normal((3, 3))
    ref = nn.cross_entropy(z, y).item()
    assert nn.cross_entropy(z, y.astype(float)).item() == ref
    assert nn.cross_entropy(z, y.reshape(3, 1)).item() == ref
    assert nn.cross_entropy(z, Tensor(y)).item() == ref


def test_cross_entropy_errors():
    z = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 2\); got 2 at position 1"):
        nn.cross_entropy(z, [0, 2, 1])
    with pytest.raises(ValueError, match=r"got -1 at position 0"):
        nn.cross_entropy(z, [-1, 0, 1])
    with pytest.raises(ValueError, match="labels must be whole class indices, got 0.5"):
        nn.cross_entropy(z, [0, 0.5, 1])
    with pytest.raises(ShapeError, match=r"cross_entropy: 3 rows of logits but labels of shape \(2,\)"):
        nn.cross_entropy(z, [0, 1])
    with pytest.raises(ShapeError, match=r"logits must have shape \(N, classes\), got \(3,\)"):
        nn.cross_entropy(np.zeros(3), [0, 1, 1])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 1000), column=st.booleans())
def test_binary_cross_entropy_against_numpy(n, seed, column):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n) * 5
    y = rng.integers(0, 2, n).astype(float)
    shape = (n, 1) if column else (n,)
    logits = Tensor(z.reshape(shape), requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(logits, y)
    p = 1 / (1 + np.exp(-z))
    assert loss.item() == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-10, abs=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad.reshape(-1), (p - y) / n, atol=1e-14)   # (σ(z) − y)/N
    gradcheck(lambda t: nn.binary_cross_entropy_with_logits(t, y), [Tensor(z.reshape(shape) / 5, requires_grad=True)])


def test_binary_cross_entropy_is_stable():
    z = Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(z, [1.0, 0.0, 0.0, 1.0])
    assert loss.item() == pytest.approx(500.0)        # (0 + 0 + 1000 + 1000)/4
    loss.backward()
    np.testing.assert_allclose(z.grad, [0, 0, 0.25, -0.25], atol=1e-15)
    z = Tensor([1e300, -1e300, 1e300, -1e300], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no overflow anywhere, not even in a warning
        loss = nn.binary_cross_entropy_with_logits(z, [1.0, 0.0, 0.3, 1.0])
        loss.backward()
    assert loss.item() == pytest.approx((0 + 0 + 0.7e300 + 1e300) / 4, rel=1e-15)   # softplus(z) − y·z
    np.testing.assert_allclose(z.grad, [0, 0, 0.7 / 4, -1 / 4], rtol=1e-15, atol=0)  # (σ(z) − y)/N
    soft = nn.binary_cross_entropy_with_logits(np.array([0.0]), [0.3])   # probabilities as targets
    assert soft.item() == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        nn.binary_cross_entropy_with_logits(np.zeros(2), [0.0, 2.0])


def test_binary_cross_entropy_gradient_at_a_logit_of_exactly_zero():
    z = Tensor(np.zeros(3), requires_grad=True)
    y = np.array([0.0, 1.0, 0.3])
    loss = nn.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    assert z.op == "" and loss.op == "binary_cross_entropy_with_logits" and loss.inputs == (z,)   # one op
    assert loss.item() == pytest.approx(np.log(2), rel=1e-15)          # −log σ(0) = log 2, whatever y
    np.testing.assert_allclose(z.grad, (0.5 - y) / 3, rtol=1e-15)      # (σ(0) − y)/N = (0.5, −0.5, 0.2)/3
    gradcheck(lambda t: nn.binary_cross_entropy_with_logits(t, y), [Tensor(np.zeros(3), requires_grad=True)])


def test_the_chain_relu_abs_exp_log_gets_the_gradient_at_zero_wrong():
    """Why the loss is one op: built from ops, relu'(0) = 0 and |·|'(0) = 0 leave only −y/N at z = 0."""
    z = Tensor(np.zeros(3), requires_grad=True)
    y = np.array([0.0, 1.0, 0.3])
    chain = z.relu() + ((-z.abs()).exp() + 1).log() - z * y        # softplus(z) − y·z, op by op
    chain.mean().backward()
    np.testing.assert_array_equal(z.grad, -y / 3)
    assert chain.mean().item() == nn.binary_cross_entropy_with_logits(np.zeros(3), y).item()   # same value


def test_zero_initialised_logistic_regression_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12).astype(float)
    w, b = Tensor(np.zeros((3, 1)), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(nn.linear(X, w, b), y)  # every logit is exactly 0
    loss.backward()
    np.testing.assert_allclose(b.grad, [np.mean(0.5 - y)], rtol=1e-14)   # mean(σ(0) − y)
    np.testing.assert_allclose(w.grad[:, 0], X.T @ (0.5 - y) / 12, rtol=1e-13)
    gradcheck(lambda w, b: nn.binary_cross_entropy_with_logits(nn.linear(X, w, b), y),
              [Tensor(np.zeros((3, 1)), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)])


def test_binary_cross_entropy_keeps_float32():
    z = Tensor([0.0, 2.0], requires_grad=True, dtype=np.float32)
    loss = nn.binary_cross_entropy_with_logits(z, [1.0, 0.0])
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


LOSS_CASES = {  # name: (loss, an empty batch of predictions, its empty targets)
    "mse": (nn.mse, np.zeros((0, 1)), np.zeros(0)),
    "cross_entropy": (nn.cross_entropy, np.zeros((0, 3)), np.zeros(0, dtype=int)),
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits, np.zeros((0, 1)), np.zeros(0)),
    "hinge": (nn.hinge, np.zeros((0, 1)), np.zeros(0)),
}


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_every_loss_of_an_empty_batch_is_nan_with_an_empty_gradient_and_no_warning(name):
    loss_fn, empty, targets = LOSS_CASES[name]
    assert "An empty batch" in loss_fn.__doc__ and "nan" in loss_fn.__doc__    # the rule, stated where it applies
    layer = nn.Linear(2, empty.shape[1], seed=0)
    x = Tensor(np.zeros((0, 2)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = loss_fn(layer(x), targets)
        loss.backward()
    assert loss.shape == () and np.isnan(loss.item())                   # 0/0, as PyTorch's reduction="mean"
    assert x.grad.shape == (0, 2)                                       # empty, of the input's shape
    assert layer.W.grad.tolist() == [[0.0] * empty.shape[1]] * 2 and not layer.b.grad.any()   # no example, no push


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 1000), zero_one=st.booleans())
def test_hinge_against_numpy(n, seed, zero_one):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((n, 1)) * 2
    y = rng.choice([-1.0, 1.0], n)
    labels = (y + 1) / 2 if zero_one else y
    scores = Tensor(s, requires_grad=True)
    loss = nn.hinge(scores, labels)
    assert loss.item() == pytest.approx(np.mean(np.maximum(0, 1 - y * s[:, 0])), rel=1e-12, abs=1e-15)
    loss.backward()
    np.testing.assert_allclose(scores.grad[:, 0], -y * (1 - y * s[:, 0] > 0) / n, atol=1e-15)


def test_hinge_on_the_margin_has_zero_gradient():
    scores = Tensor([1.0, -1.0, 0.5], requires_grad=True)
    nn.hinge(scores, [1, -1, 1]).backward()                     # margins 1 − y·s: 0, 0 and 0.5
    np.testing.assert_array_equal(scores.grad, [0.0, 0.0, -1 / 3])   # relu'(0) = 0 on the margin


def test_hinge_errors():
    with pytest.raises(ValueError, match=r"labels must be -1/\+1 \(or 0/1\), got values \[0.0, 2.0\]"):
        nn.hinge(np.zeros(3), [0.0, 2.0, 2.0])
    with pytest.raises(ShapeError, match=r"scores must have shape \(N,\) or \(N, 1\), got \(3, 2\); use cross_entropy"):
        nn.hinge(np.zeros((3, 2)), [1, -1, 1])
    with pytest.raises(ShapeError, match=r"hinge: prediction of shape \(3, 1\) and labels of shape \(4,\) do not match"):
        nn.hinge(np.zeros((3, 1)), [1, -1, 1, 1])


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5), k=st.integers(1, 3), seed=st.integers(0, 1000))
def test_mse_against_numpy(n, k, seed):
    rng = np.random.default_rng(seed)
    p, t = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    pred = Tensor(p, requires_grad=True)
    loss = nn.mse(pred, t)
    assert loss.item() == pytest.approx(np.mean((p - t) ** 2), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(pred.grad, 2 * (p - t) / p.size, atol=1e-15)


def test_mse_shapes():
    pred = Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)
    assert nn.mse(pred, np.array([0.0, 1.0, 2.0])).item() == 0.0           # (N, 1) with (N,)
    assert nn.mse(np.arange(3.0), np.arange(3.0).reshape(3, 1)).item() == 0.0
    target = Tensor([1.0, 1.0, 1.0], requires_grad=True)                    # a target that needs grad
    nn.mse(pred, target).backward()
    np.testing.assert_allclose(target.grad, -2 * (np.arange(3.0) - 1) / 3)
    with pytest.raises(ShapeError, match=r"mse: prediction of shape \(3, 2\) and targets of shape \(3,\) do not match"):
        nn.mse(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ShapeError, match=r"prediction of shape \(3, 1\) and targets of shape \(4,\)"):
        nn.mse(np.zeros((3, 1)), np.zeros(4))


def test_accuracy():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5], [0.2, 0.1]])
    assert nn.accuracy(logits, [0, 1, 1, 1]) == 0.5
    assert nn.accuracy(Tensor(logits), np.array([[0], [1], [0], [0]])) == 1.0
    scores = np.array([[0.5], [-2.0], [3.0], [-0.1]])
    assert nn.accuracy(scores, [1, -1, -1, -1]) == 0.75
    assert nn.accuracy(scores, [1, 0, 0, 0]) == 0.75                         # 0/1 labels: threshold at 0
    assert nn.accuracy(scores.ravel(), np.array([1.0, 0.0, 1.0, 0.0])) == 1.0
    assert isinstance(nn.accuracy(scores, [1, 0, 0, 0]), float)
    with pytest.raises(ShapeError, match="accuracy: 4 scores but 3 labels"):
        nn.accuracy(scores, [1, 0, 0])
    with pytest.raises(ValueError, match="labels must be -1/\\+1"):
        nn.accuracy(scores, [1, 2, 0, 0])
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\)"):
        nn.accuracy(logits, [0, 1, 2, 0])


def test_losses_registry():
    assert nn.LOSSES["hinge"] is nn.hinge and nn.LOSSES["cross-entropy"] is nn.cross_entropy
    assert set(nn.LOSSES) == {"mse", "cross-entropy", "bce", "hinge"}
