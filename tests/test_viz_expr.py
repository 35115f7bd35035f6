"""The expression parser behind `edu graph --expr`: right values and gradients, and nothing but the allow-list."""
import builtins
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu.ops as ops
from tinygrad_edu import Tensor
from tinygrad_edu.viz import ExpressionError, parse_expression
from tinygrad_edu.viz.expr import MAX_ELEMENTS, MAX_LENGTH, MAX_PARTS, _matmul_shape


def test_classic_example_values_and_gradients():
    # L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: e = -6, d = 4, L = -8;
    # dL/df = d = 4, dL/dd = f = -2 = dL/dc = dL/de, dL/da = -2*b = 6, dL/db = -2*a = -4.
    L = parse_expression("(a*b + c) * f", {"a": 2, "b": -3, "c": 10, "f": -2})
    assert L.item() == -8.0
    L.backward()
    leaves = {t.name: t for t in L.inputs[0].inputs[0].inputs + (L.inputs[0].inputs[1], L.inputs[1])}
    assert {name: float(t.grad) for name, t in leaves.items()} == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    assert all(t.requires_grad and t.is_leaf for t in leaves.values())


def test_named_steps_carry_their_names():
    L = parse_expression("e = a*b; d = e + c\nL = d * f", {"a": 2, "b": -3, "c": 10, "f": -2})
    d, f = L.inputs
    e, c = d.inputs
    assert (L.name, d.name, e.name, c.name, f.name) == ("L", "d", "e", "c", "f")
    assert (e.item(), d.item()) == (-6.0, 4.0)


def test_a_name_used_twice_is_one_leaf():
    y = parse_expression("a*a + a", {"a": 3.0})
    y.backward()
    a = y.inputs[1]
    assert y.inputs[0].inputs == (a, a)
    assert float(a.grad) == 2 * 3.0 + 1  # d(a² + a)/da = 2a + 1


def test_neuron_with_tanh_matches_the_formula():
    y = parse_expression("(a*b + c).tanh()", {"a": 2, "b": -3, "c": 10})
    assert y.item() == pytest.approx(math.tanh(4.0))
    y.backward()
    a = y.inputs[0].inputs[0].inputs[0]
    assert float(a.grad) == pytest.approx((1 - math.tanh(4.0) ** 2) * -3)


def test_vectors_matmul_and_method_arguments():
    w, x = [[1.0, 2.0], [3.0, 4.0]], [0.5, -1.0]
    y = parse_expression("(w @ x).clip(-1, 1).sum(axis=0, keepdims=True)", {"w": w, "x": x})
    raw = np.array(w) @ np.array(x)                       # [-1.5, -2.5]
    assert np.allclose(y.data, [np.clip(raw, -1, 1).sum()])
    assert parse_expression("w.T", {"w": w}).shape == (2, 2)
    assert parse_expression("(-w).mean()", {"w": w}).item() == -2.5


def test_constants_do_not_require_grad():
    y = parse_expression("2 * a - 1.5", {"a": 1.0})
    two = y.inputs[0].inputs[0]
    assert two.item() == 2.0 and not two.requires_grad and two.name is None
    assert y.item() == 0.5


@pytest.mark.parametrize("text, phrase", [
    ("__import__('os')", "'__import__' is not allowed"),
    ("__import__('os').system('echo hacked')", "'__import__' is not allowed"),
    ("a.__class__", "'__class__' is not allowed"),
    ("a.__class__.__bases__", "'__class__' is not allowed"),
    ("a.__add__(a)", "'__add__' is not allowed"),
    ("(lambda: a)()", "a lambda is not allowed"),
    ("lambda x: x", "a lambda is not allowed"),
    ("[x for x in a]", "a list comprehension is not allowed"),
    ("(x for x in a)", "a generator expression is not allowed"),
    ("{x for x in a}", "a set comprehension is not allowed"),
    ("{x: x for x in a}", "a dict comprehension is not allowed"),
    ("open('/etc/passwd')", "calling open(...) is not allowed"),
    ("eval('1')", "calling eval(...) is not allowed"),
    ("tanh(a)", "calling tanh(...) is not allowed"),
    ("import os", "import is not allowed"),
    ("a.foo()", "unknown method .foo()"),
    ("a.data", "unknown method .data()"),
    ("a.sum", ".sum is a method"),
    ("x + 1", "unknown name 'x'"),
    ("'text'", "the constant 'text' is not allowed"),
    ("a // 2", "operator // is not allowed"),
    ("a[0]", "indexing with [ ] is not allowed"),
    ("a if a else a", "an if-expression is not allowed"),
    ("a.sum(axis=a)", "arguments must be numbers"),
    ("a; a", "only the last line may be a bare expression"),
    ("a = a * 2", "'a' is already defined"),
    ("a +", "cannot parse"),
    ("", "the expression is empty"),
    ("a" + "+a" * 600, "1201 characters long, more than the limit of 1000"),
])
def test_refuses_everything_outside_the_allow_list(text, phrase):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, {"a": 1.0})
    message = str(info.value)
    assert phrase in message
    assert "\n" not in message


def test_refused_code_has_no_side_effect(tmp_path):
    marker = tmp_path / "hacked"
    with pytest.raises(ExpressionError):
        parse_expression(f"__import__('os').system('touch {marker}')", {})
    assert not marker.exists()


def test_never_calls_eval_or_exec(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert parse_expression("(a*b + c).tanh()", {"a": 2, "b": -3, "c": 10}).item() == pytest.approx(math.tanh(4))


def test_bad_values_and_unused_values():
    with pytest.raises(ExpressionError, match="invalid variable name '__x'"):
        parse_expression("1", {"__x": 1.0})
    with pytest.raises(ExpressionError, match="value of 'a'"):
        parse_expression("a", {"a": "two"})
    with pytest.raises(ExpressionError, match="does not use: b"):
        parse_expression("a * 2", {"a": 1.0, "b": 2.0}, allow_unused=False)
    assert parse_expression("a * 2", {"a": 1.0, "b": 2.0}).item() == 2.0  # allowed by default


def test_shape_errors_name_the_op():
    with pytest.raises(ValueError, match="matmul"):
        parse_expression("a @ b", {"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]})


# ----- property: any expression of the grammar gives the value and gradient of the same formula in Python

def _expressions():
    leaves = st.sampled_from([("a", lambda a, b: a), ("b", lambda a, b: b), ("0.5", lambda a, b: 0.5)])

    def extend(children):
        binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
            lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})",
                       {"+": lambda f, g: lambda a, b: f(a, b) + g(a, b),
                        "-": lambda f, g: lambda a, b: f(a, b) - g(a, b),
                        "*": lambda f, g: lambda a, b: f(a, b) * g(a, b)}[t[1]](t[0][1], t[2][1])))
        unary = st.tuples(children, st.sampled_from(["neg", "tanh", "sigmoid"])).map(
            lambda t: ((f"(-{t[0][0]})", lambda a, b, f=t[0][1]: -f(a, b)) if t[1] == "neg" else
                       (f"({t[0][0]}).tanh()", lambda a, b, f=t[0][1]: math.tanh(f(a, b))) if t[1] == "tanh" else
                       (f"({t[0][0]}).sigmoid()", lambda a, b, f=t[0][1]: 1 / (1 + math.exp(-f(a, b))))))
        return binary | unary
    return st.recursive(leaves, extend, max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(expr=_expressions(), a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_property_value_and_gradient_match_python(expr, a, b):
    text, fn = expr
    y = parse_expression(text, {"a": a, "b": b})
    assert y.item() == pytest.approx(fn(a, b), rel=1e-12, abs=1e-12)
    if not y.requires_grad:
        return
    y.backward()
    leaves = {}
    for t in y.topological_order():
        if t.is_leaf:
            leaves[t.name] = t
    eps = 1e-6
    for name, t in leaves.items():
        shift = {"a": (eps, 0.0), "b": (0.0, eps)}[name]
        numeric = (fn(a + shift[0], b + shift[1]) - fn(a - shift[0], b - shift[1])) / (2 * eps)
        assert float(t.grad) == pytest.approx(numeric, rel=1e-5, abs=1e-6)
    assert isinstance(y, Tensor)


# ----- bounded: length, number of parts, size of every value and result -------------------------------

def test_the_sum_of_100_products_is_accepted_and_one_part_more_than_the_limit_is_not():
    assert (MAX_LENGTH, MAX_PARTS, MAX_ELEMENTS) == (1000, 500, 1_000_000)
    sum_of_100 = "+".join("a*b" for _ in range(100))
    assert len(sum_of_100) == 399 and parse_expression(sum_of_100, {"a": 2.0, "b": -3.0}).item() == -600.0
    assert parse_expression("+".join(["a"] * 250), {"a": 1.0}).item() == 250.0      # 250 names + 249 adds: 499
    assert parse_expression("-" + "+".join(["a"] * 250), {"a": 1.0}).item() == 248.0  # 500 parts: at the limit
    with pytest.raises(ExpressionError) as info:
        parse_expression("+".join(["a"] * 251), {"a": 1.0})                         # 251 + 250 = 501 parts
    assert str(info.value) == ("expression has 501 parts (names, numbers, operators, calls), more than the limit "
                               "of 500; draw a smaller formula")
    with pytest.raises(ExpressionError, match="expression has 1000 parts"):
        parse_expression("-" * 999 + "a", {"a": 1.0})                               # deep, yet refused before


def test_results_that_would_grow_past_the_limit_are_refused_before_they_are_computed(monkeypatch):
    a = np.arange(1000.0)
    outer = parse_expression("a.reshape(-1, 1) * a", {"a": a})                     # 1000 × 1000: at the limit
    assert outer.shape == (1000, 1000) and outer.data[3, 7] == 21.0
    big = np.arange(1001.0)
    monkeypatch.setattr(ops, "mul", lambda *args: pytest.fail("the product was computed"))
    for text, shape in (("a.reshape(-1, 1) * a", "(1001, 1) * (1001,) would have shape (1001, 1001)"),
                        ("a.reshape(-1, 1) @ a.reshape(1, -1)", "(1001, 1) @ (1, 1001) would have shape (1001, 1001)")):
        with pytest.raises(ExpressionError) as info:
            parse_expression(text, {"a": big})
        assert str(info.value) == f"{shape}: 1,002,001 numbers, more than the limit of 1,000,000; use smaller values"
    with pytest.raises(ExpressionError, match="value of 'a' has 12 numbers, more than the limit of 10; use a smaller"):
        parse_expression("a", {"a": np.zeros(12)}, max_elements=10)
    assert parse_expression("a * a", {"a": np.zeros(10)}, max_elements=10).shape == (10,)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_the_matmul_shape_rule_is_numpys(a, b):
    try:
        expected = np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        with pytest.raises(ValueError):
            _matmul_shape(tuple(a), tuple(b))
        return
    assert _matmul_shape(tuple(a), tuple(b)) == expected
