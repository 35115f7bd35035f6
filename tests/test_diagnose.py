"""diagnose: a catalogue of planted bugs, each named with its op and kind; no false alarm on built-in ops."""
import numpy as np
import pytest

from tinygrad_edu import Tensor, concatenate, nn, ops, stack
from tinygrad_edu.diagnose import KINDS, Diagnosis, diagnose, recording


def planted(name, inputs, forward, backward):
    """An op made with Tensor.from_op whose backward has a planted bug."""
    return Tensor.from_op(forward(*[t.data for t in inputs]), tuple(inputs), name, backward)


def leaf(*shape, seed=0, name=None, low=None):
    t = Tensor.randn(*shape, seed=seed, requires_grad=True, name=name)
    if low is not None:
        t.data[...] = np.abs(t.data) + low
    return t


# Each bug: a function that builds a loss using one op with a wrong backward.
def _neg_no_sign(a):
    return Tensor.from_op(-a.data, (a,), "neg", lambda g: (g,))


def _sub_plus(a, b):
    return Tensor.from_op(a.data - b.data, (a, b), "sub", lambda g: (g, g))


def _exp_sign(a):
    out = np.exp(a.data)
    return Tensor.from_op(out, (a,), "exp", lambda g: (-g * out,))


def _tanh_sign(a):
    out = np.tanh(a.data)
    return Tensor.from_op(out, (a,), "tanh", lambda g: (g * (out * out - 1),))


def _log_sign(a):
    return Tensor.from_op(np.log(a.data), (a,), "log", lambda g: (-g / a.data,))


def _mul_twice(a, b):
    return Tensor.from_op(a.data * b.data, (a, b), "mul", lambda g: (2 * g * b.data, g * a.data))


def _mean_no_n(a):
    return Tensor.from_op(np.asarray(a.data.mean()), (a,), "mean", lambda g: (np.full(a.shape, float(g)),))


def _sqrt_no_half(a):
    out = np.sqrt(a.data)
    return Tensor.from_op(out, (a,), "sqrt", lambda g: (g / out,))


def _cube(a):
    """A custom op: a³, with the 3 of ∂/∂a = 3a² written as 2."""
    return Tensor.from_op(a.data ** 3, (a,), "cube", lambda g: (2 * a.data ** 2 * g,))


def _matmul_transposed_a(a, b):
    return Tensor.from_op(a.data @ b.data, (a, b), "matmul", lambda g: ((g @ b.data.T).T, a.data.T @ g))


def _matmul_wrong_order_b(a, b):
    return Tensor.from_op(a.data @ b.data, (a, b), "matmul", lambda g: (g @ b.data.T, g.T @ a.data))


def _matmul_untransposed(a, b):
    return Tensor.from_op(a.data @ b.data, (a, b), "matmul", lambda g: (g @ b.data, a.data.T @ g))


def _linear_transposed_w(x, W, b):
    return Tensor.from_op(x.data @ W.data + b.data, (x, W, b), "linear",
                          lambda g: (g @ W.data.T, g.T @ x.data, g.sum(axis=0)))


def _add_no_unbroadcast(a, b):
    return Tensor.from_op(a.data + b.data, (a, b), "add", lambda g: (g, g))


def _sub_no_unbroadcast(a, b):
    return Tensor.from_op(a.data - b.data, (a, b), "sub", lambda g: (g, -g))


def _mul_no_unbroadcast(a, b):
    return Tensor.from_op(a.data * b.data, (a, b), "mul",
                          lambda g: (ops.unbroadcast(g * b.data, a.shape), g * a.data))


def _div_drop_keepdims(a, b):
    return Tensor.from_op(a.data / b.data, (a, b), "div",
                          lambda g: (g / b.data, (-g * a.data / b.data ** 2).sum(axis=1)))


def _relu_flipped(a):
    return Tensor.from_op(np.maximum(a.data, 0), (a,), "relu", lambda g: (g * (a.data < 0),))


def _abs_no_sign(a):
    return Tensor.from_op(np.abs(a.data), (a,), "abs", lambda g: (g + 0 * a.data,))


def _max_to_all(a):
    return Tensor.from_op(np.asarray(a.data.max()), (a,), "max", lambda g: (np.full(a.shape, float(g)),))


def _softmax_diagonal(a):
    e = np.exp(a.data - a.data.max(axis=-1, keepdims=True))
    out = e / e.sum(axis=-1, keepdims=True)
    return Tensor.from_op(out, (a,), "softmax", lambda g: (g * out,))


def _sigmoid_no_one_minus(a):
    out = 1 / (1 + np.exp(-a.data))
    return Tensor.from_op(out, (a,), "sigmoid", lambda g: (g * out,))


CATALOGUE = [  # (id, build, op, kind, input)
    ("neg", lambda: _neg_no_sign(leaf(3, 2)).sum(), "neg", "sign", 0),
    ("sub", lambda: (_sub_plus(leaf(3), leaf(3, seed=1)) ** 2).sum(), "sub", "sign", 1),
    ("exp", lambda: _exp_sign(leaf(4)).mean(), "exp", "sign", 0),
    ("tanh", lambda: (_tanh_sign(leaf(2, 3)) * leaf(2, 3, seed=2)).sum(), "tanh", "sign", 0),
    ("log", lambda: _log_sign(leaf(5, low=0.5)).sum(), "log", "sign", 0),
    ("mul", lambda: _mul_twice(leaf(3), leaf(3, seed=1)).sum(), "mul", "scale", 0),
    ("mean", lambda: _mean_no_n(leaf(2, 5)) * 3.0, "mean", "scale", 0),
    ("sqrt", lambda: _sqrt_no_half(leaf(4, low=0.1)).sum(), "sqrt", "scale", 0),
    ("cube", lambda: _cube(leaf(3, 2) * 2.0).sum(), "cube", "scale", 0),
    ("matmul-a", lambda: _matmul_transposed_a(leaf(3, 4), leaf(4, 2, seed=1)).sum(), "matmul", "transpose", 0),
    ("matmul-b", lambda: _matmul_wrong_order_b(leaf(3, 4), leaf(4, 2, seed=1)).tanh().sum(), "matmul",
     "transpose", 1),
    ("matmul-square", lambda: (_matmul_untransposed(leaf(3, 3), leaf(3, 3, seed=1)) ** 2).sum(), "matmul",
     "transpose", 0),
    ("linear", lambda: _linear_transposed_w(leaf(5, 3), leaf(3, 2, seed=1), leaf(2, seed=2)).relu().sum(),
     "linear", "transpose", 1),
    ("add", lambda: _add_no_unbroadcast(leaf(3, 4), leaf(3, 1, seed=1)).sum(), "add", "unbroadcast", 1),
    ("sub-b", lambda: (_sub_no_unbroadcast(leaf(2, 3), leaf(3, seed=1)) ** 2).sum(), "sub", "unbroadcast", 1),
    ("mul-a", lambda: _mul_no_unbroadcast(leaf(3, 4), leaf(1, 4, seed=1)).sum(), "mul", "unbroadcast", 1),
    ("div", lambda: _div_drop_keepdims(leaf(3, 4), leaf(3, 1, seed=1, low=1.0)).sum(), "div", "unbroadcast", 1),
    ("relu", lambda: _relu_flipped(leaf(6)).sum(), "relu", "wrong", 0),
    ("abs", lambda: (_abs_no_sign(leaf(6)) * leaf(6, seed=3)).sum(), "abs", "wrong", 0),
    ("max", lambda: _max_to_all(leaf(5)) * 1.0, "max", "wrong", 0),
    ("softmax", lambda: (_softmax_diagonal(leaf(2, 4)) * leaf(2, 4, seed=4)).sum(), "softmax", "wrong", 0),
    ("sigmoid", lambda: _sigmoid_no_one_minus(leaf(5)).sum(), "sigmoid", "wrong", 0),
]


@pytest.mark.parametrize("build, op, kind, which", [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_planted_bug_is_named(build, op, kind, which):
    d = diagnose(build)
    assert not d.ok and not d
    assert (d.op, d.kind, d.input) == (op, kind, which), str(d)
    assert f"op '{op}'" in str(d) and "fix this one first" in str(d)


def test_the_catalogue_covers_every_kind_four_times_over_ten_ops():
    kinds = [c[3] for c in CATALOGUE]
    assert all(kinds.count(k) >= 4 for k in KINDS)
    assert len({c[2] for c in CATALOGUE}) >= 10 and "cube" in {c[2] for c in CATALOGUE}


def test_details_scale_factor_shapes_and_names():
    d = diagnose(lambda: _cube(leaf(3, 2, name="x") * 2.0).sum())
    assert d.factor == pytest.approx(2 / 3, rel=1e-6) and "0.6667 times" in str(d)
    d = diagnose(lambda: _add_no_unbroadcast(leaf(3, 4), leaf(3, 1, seed=1, name="bias")).sum())
    assert (d.shape, d.grad_shape, d.output_shape, d.input_name) == ((3, 1), (3, 4), (3, 4), "bias")
    assert "summed over the broadcast axes" in str(d)
    d = diagnose(lambda: _neg_no_sign(leaf(2)).sum())
    assert d.factor == -1.0 and "opposite sign" in str(d)
    d = diagnose(lambda: _relu_flipped(leaf(6)).sum())
    k = d.where
    assert d.max_difference == pytest.approx(abs(d.analytic[k] - d.numeric[k]))
    assert f"index {k}" in str(d)


def test_the_first_wrong_node_is_reported_and_its_scope():
    def build():
        x = leaf(3, 4)
        with nn_scope("layers.1"):
            y = _mul_twice(x.tanh(), leaf(3, 4, seed=1))     # the first bug
        return _neg_no_sign(y).sum()                         # a later one
    d = diagnose(build)
    assert (d.op, d.kind, d.scope) == ("mul", "scale", "layers.1")


def nn_scope(label):
    from tinygrad_edu import name_scope
    return name_scope(label)


def _every_builtin_op(x, p, q, m, z):
    """Every built-in op once; x random, p positive, q a square matrix, m with ties, z with zeros."""
    parts = [
        (x + p).sum(), (x - p).sum(), (x * p).sum(), (x / p).sum(), (p ** x).sum(), (p ** 2.5).sum(), (-x).sum(),
        (x @ q).sum(), (x[0] @ q).sum(), x.sum(axis=0).sum(), x.mean(axis=1, keepdims=True).sum(),
        x.max(axis=1).sum(), m.max().mul(1.0) if hasattr(m, "mul") else m.max() * 1.0, p.exp().sum(),
        p.log().sum(), p.sqrt().sum(), z.abs().sum(), z.relu().sum(), x.tanh().sum(), x.sigmoid().sum(),
        m.clip(0.0, 1.0).sum(), x.softmax(axis=0).sum() * 0 + (x.softmax() * p).sum(), (x.log_softmax() * p).sum(),
        x.reshape(9).sum(), (x.T * p).sum(), x.transpose(1, 0).sum(), x[[0, 0, 2]].sum(), x[x.data > 0].sum(),
        concatenate([x, p], axis=1).sum(), (stack([x, p]) * 2.0).sum(),
        nn.linear(x, q, p[0]).sum(), nn.cross_entropy(x, [0, 2, 1]), nn.mse(x, p),
        nn.binary_cross_entropy_with_logits(x, (p.data > 1).astype(float)), nn.hinge(x[:, 0], [1, -1, 1]),
    ]
    total = parts[0]
    for t in parts[1:]:
        total = total + t
    return total


def test_no_false_alarm_on_builtin_ops_at_random_points():
    def build():
        x = leaf(3, 3, seed=1)
        p = leaf(3, 3, seed=2, low=0.5)
        q = leaf(3, 3, seed=3)
        m = leaf(3, 3, seed=4)
        z = leaf(3, 3, seed=5)
        return _every_builtin_op(x, p, q, m, z)
    d = diagnose(build)
    assert d.ok, str(d)
    assert d.nodes_checked > 60 and not d.unchecked


def test_no_false_alarm_at_edge_points():
    def build():
        x = Tensor([[0.0, 1e6, -1e6], [2.0, 2.0, 2.0], [-3.0, 0.0, 1.0]], requires_grad=True)   # huge, ties
        p = Tensor([[1e-8, 1.0, 700.0], [2.0, 3.0, 4.0], [0.5, 1.0, 1e6]], requires_grad=True)   # tiny, huge
        q = leaf(3, 3, seed=3)
        m = Tensor([[0.0, 1.0, 1.0], [0.5, 0.0, 1.0], [1.0, 1.0, 1.0]], requires_grad=True)      # clip bounds, ties
        z = Tensor([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [2.0, 0.0, 0.0]], requires_grad=True)     # kinks at 0
        return _every_builtin_op(x, p, q, m, z)
    d = diagnose(build)
    assert d.ok, str(d)


@pytest.mark.parametrize("op", ["log", "sqrt", "exp", "reciprocal", "empty"])
def test_non_finite_points_and_empty_arrays_are_no_false_alarm(op):
    def build():
        a = Tensor([0.0, 1.0, 1000.0], requires_grad=True)
        if op == "empty":
            e = Tensor(np.zeros((0, 3)), requires_grad=True)
            return e.sum() + (e * 2.0).sum(axis=0).sum()
        return (1.0 / a).sum() if op == "reciprocal" else getattr(a, op)().sum()
    d = diagnose(build)
    assert d.ok, str(d)


def test_float32_graphs_are_checked_in_float64():
    def build():
        x = Tensor.randn(4, 3, seed=0, requires_grad=True, dtype=np.float32)
        W = Tensor.randn(3, 3, seed=1, requires_grad=True, dtype=np.float32)
        return (nn.linear(x, W, None).tanh() * x).sum().sqrt()
    assert diagnose(build).ok

    def bad():
        x = Tensor.randn(4, 3, seed=0, requires_grad=True, dtype=np.float32)
        return _mul_twice(x, x.tanh()).sum()
    d = diagnose(bad)
    assert (d.op, d.kind) == ("mul", "scale")
    assert d.factor == pytest.approx(2.0, rel=1e-3)   # x used twice: analytic 2b + a against b + a at a = x


def test_a_tensor_used_twice_is_checked_with_its_summed_gradient():
    assert diagnose(lambda: (leaf(4) * leaf(4)).sum()).ok
    x_twice = lambda: (lambda x: (x * x).sum())(leaf(4))
    assert diagnose(x_twice).ok


def test_same_seed_same_report_and_recorded_loss():
    with recording():
        loss = _mul_twice(leaf(3), leaf(3, seed=1)).sum()
    a, b = diagnose(loss, seed=3), diagnose(loss, seed=3)
    assert str(a) == str(b) and np.array_equal(a.numeric, b.numeric)


def test_an_unrecorded_graph_is_refused_not_called_correct():
    loss = _mul_twice(leaf(3), leaf(3, seed=1)).sum()
    with pytest.raises(ValueError, match=r"built outside recording\(\).*pass the function") as caught:
        diagnose(loss)
    assert "\n" not in str(caught.value)


def test_bad_input_is_one_line():
    with pytest.raises(TypeError, match="expected a loss Tensor"):
        diagnose(3)
    with pytest.raises(ValueError, match="no graph to check"):
        diagnose(Tensor([1.0]))
    with pytest.raises(TypeError, match="must return the loss"):
        diagnose(lambda: 3)


def test_a_thousand_node_graph_is_diagnosed():
    def build():
        x = leaf(3)
        y = x
        for i in range(500):
            y = _mul_twice(y, Tensor(0.999)) if i == 400 else y * 0.999
            y = y + 0.001
        return y.sum()
    d = diagnose(build)
    assert (d.op, d.kind) == ("mul", "scale") and d.nodes_checked == 801


def test_draw_marks_the_wrong_op_in_red_with_both_gradients(tmp_path):
    d = diagnose(lambda: _add_no_unbroadcast(leaf(3, 4, name="x"), leaf(3, 1, seed=1, name="c")).sum())
    source = d.graph().source
    red = [line for line in source.splitlines() if "#ff5252" in line]
    assert len(red) == 1
    op_id = red[0].split()[0]
    edge = [line for line in source.splitlines() if f"-> {op_id} [label=" in line]
    assert len(edge) == 1 and "analytic" in edge[0] and "numeric" in edge[0]
    c_id = [line.split()[0] for line in source.splitlines() if 'label="c\\l' in line]
    assert edge[0].split()[0] == c_id[0]
    assert "diagnose-" not in source
    path = d.draw(tmp_path / "bug.dot")
    assert path.read_text() == source
    svg = d.draw(tmp_path / "bug.svg")
    assert svg.suffix in (".svg", ".dot") and svg.stat().st_size > 0
    with pytest.raises(ValueError, match="end it in .svg"):
        d.draw(tmp_path / "bug.txt")


def test_chapter_section_diagnose_finds_the_planted_bug():
    """The code of the chapter section on diagnose (kept in sync with the chapter text by hand)."""
    def cube(a):
        return Tensor.from_op(a.data ** 3, (a,), "cube", lambda g: (2 * a.data ** 2 * g,))

    def build():
        x = Tensor([1.0, -2.0, 0.5], requires_grad=True, name="x")
        return (cube(x * 2.0) + x.tanh()).sum()

    report = diagnose(build)
    assert (report.op, report.kind, round(report.factor, 4)) == ("cube", "scale", 0.6667)


def test_diagnose_is_reachable_from_gradcheck_too():
    from tinygrad_edu import gradcheck as gradcheck_function
    from tinygrad_edu.gradcheck import Diagnosis as D2, diagnose as d2, recording as r2
    assert (d2, D2, r2) == (diagnose, Diagnosis, recording) and callable(gradcheck_function)
