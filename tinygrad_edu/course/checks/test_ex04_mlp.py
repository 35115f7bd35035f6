"""Checks of ex04_mlp.py: a Linear layer's and an MLP's forward, against the engine's nn.Linear and nn.MLP.

Each compares the outputs and then the gradients that backward() finds for every weight (and
for x), so a forward computed on NumPy arrays, which carries no graph, fails as surely as a
wrong formula. The kind of mistake, which picks the hint, is named on fixed probe inputs where
the kinds can be told apart (a bias left out, an activation too many or in the wrong place).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import CheckFailed, compare, expect_close
from tinygrad_edu.course.strategies import arrays

ACTIVATIONS = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}


def _cotangent(shape) -> np.ndarray:
    """A fixed incoming gradient ∂L/∂y of `shape`: backward of sum(y · g) tests every entry."""
    return np.cos(np.arange(int(np.prod(shape)), dtype=float)).reshape(shape) + 0.5


def _grad_of(t) -> np.ndarray | None:
    return None if t.grad is None else np.asarray(t.grad)


def _outputs_and_grads(model, x: np.ndarray) -> tuple:
    """(y, [∂L/∂p for each parameter], ∂L/∂x) for L = sum(y · g); y is whatever model(x) returned."""
    x_t = Tensor(x, requires_grad=True)
    y = model(x_t)
    if not isinstance(y, Tensor) or not y.requires_grad:
        return y, None, None
    (y * Tensor(_cotangent(y.shape))).sum().backward()
    return y, [_grad_of(p) for p in model.parameters()], _grad_of(x_t)


def _expect_like_reference(mine, theirs, x: np.ndarray, inputs: dict, kind, names) -> None:
    """Outputs, then every weight's gradient, then ∂L/∂x of `mine` equal those of `theirs`."""
    y, grads, x_grad = _outputs_and_grads(mine, x)
    y_ref, grads_ref, x_grad_ref = _outputs_and_grads(theirs, x)
    if not isinstance(y, Tensor):
        raise CheckFailed(f"the forward returned a {type(y).__name__}, not a Tensor: backward() cannot reach the "
                          f"weights", kind=kind(), expected=y_ref.data, got=y, inputs=inputs)
    if not compare(y.data, y_ref.data).equal:
        expect_close(y.data, y_ref.data, what="the output y", inputs=inputs, kind=kind())
    if grads is None:
        raise CheckFailed("the output is right but carries no graph (it does not require grad): backward() "
                          "cannot reach the weights", kind=kind(), inputs=inputs)
    for name, got, expected in zip(names(mine), grads, grads_ref):
        if got is None:
            raise CheckFailed(f"{name}.grad is None after backward(): the output was not computed from {name}",
                              kind=kind(), expected=expected, got=None, inputs=inputs)
        if not compare(got, expected).equal:
            expect_close(got, expected, what=f"∂L/∂{name}", inputs=inputs, kind=kind())
    if x_grad is None or not compare(x_grad, x_grad_ref).equal:
        expect_close(x_grad if x_grad is not None else np.zeros(0), x_grad_ref, what="∂L/∂x", inputs=inputs,
                     kind=kind())


def _parameter_names(model) -> list:
    return [name for name, _ in model.named_parameters()]


# ----- 4.1: Linear --------------------------------------------------------------------------------

PROBE_X = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]])
PROBE_B = np.array([0.5, -1.0, 2.0, 0.25])


def _linear_pair(workbook, n_in: int, n_out: int, seed, b: np.ndarray | None) -> tuple:
    """The student's and the reference's Linear(n_in, n_out, seed), both given the bias b (one that shows)."""
    mine, theirs = workbook.student()(n_in, n_out, seed=seed), workbook.reference()(n_in, n_out, seed=seed)
    if b is not None:
        for layer in (mine, theirs):
            layer.b.data = b.copy()
    return mine, theirs


def _linear_kind(workbook) -> str:
    """The kind of mistake on the probe: Linear(2, 4) with a bias that is not zero."""
    mine, theirs = _linear_pair(workbook, 2, 4, 0, PROBE_B)
    y = mine(Tensor(PROBE_X))
    expected = theirs(Tensor(PROBE_X)).data
    if not isinstance(y, Tensor):
        return "graph"
    if compare(y.data, expected).equal:
        if not y.requires_grad:
            return "graph"
        return "wrong"
    if compare(y.data, PROBE_X @ theirs.W.data).equal:
        return "bias"
    if compare(y.data, np.maximum(expected, 0)).equal:
        return "activation"
    return compare(y.data, expected).kind


@st.composite
def linear_cases(draw):
    """(x, b, seed) for a random Linear(in_features, out_features): batch 1-4, sizes 1-4."""
    n, n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return draw(arrays((n, n_in))), draw(arrays((n_out,), -2.0, 2.0)), draw(st.integers(0, 2 ** 16))


@exercise("4.1")
@CHECK_SETTINGS
@given(case=linear_cases())
def test_linear_on_random_inputs(workbook, case):
    """Linear(in, out, seed)(x) is x @ W + b, and backward reaches W, b and x, as the engine's nn.Linear"""
    x, b, seed = case
    mine, theirs = _linear_pair(workbook, x.shape[1], b.shape[0], seed, b)
    _expect_like_reference(mine, theirs, x, {"x": x, "b": b, "W": theirs.W.data}, lambda: _linear_kind(workbook),
                           _parameter_names)


@exercise("4.1")
def test_linear_of_zeros_huge_values_and_an_empty_batch(workbook):
    """A zero input gives b in every row; huge inputs stay finite; an empty batch gives no rows"""
    b = np.array([0.5, -1.0, 2.0])
    for x in (np.zeros((2, 4)), np.array([[1e150, -1e150, 3e149, 0.0]]), np.zeros((0, 4))):
        mine, theirs = _linear_pair(workbook, 4, 3, 1, b)
        _expect_like_reference(mine, theirs, x, {"x": x, "b": b, "W": theirs.W.data}, lambda: _linear_kind(workbook),
                               _parameter_names)


@exercise("4.1")
def test_linear_of_one_example(workbook):
    """One example, a 1-D x of in_features numbers, gives out_features numbers"""
    x, b = np.array([1.5, -0.5, 2.0]), np.array([0.25, -0.75])
    mine, theirs = _linear_pair(workbook, 3, 2, 7, b)
    _expect_like_reference(mine, theirs, x, {"x": x, "b": b, "W": theirs.W.data}, lambda: _linear_kind(workbook),
                           _parameter_names)


# ----- 4.2: MLP -----------------------------------------------------------------------------------

PROBE_SIZES = [2, 3, 3, 2]
PROBE_SEED = 3           # its hidden units and its logits have negative values at PROBE_X


def _weights(reference_model) -> list:
    """[(W, b), ...] of the reference MLP's Linear layers, as arrays."""
    return [(p.data, q.data) for p, q in zip(reference_model.parameters()[::2], reference_model.parameters()[1::2])]


def _forward_variant(weights, x, activation, between=True, last=False, first=False) -> np.ndarray:
    """The MLP's forward by NumPy, with the activation between the layers or not, after the last, on the input."""
    act = ACTIVATIONS[activation]
    h = act(x) if first else x
    for i, (W, b) in enumerate(weights):
        h = h @ W + b
        if (i < len(weights) - 1 and between) or (i == len(weights) - 1 and last):
            h = act(h)
    return h


def _mlp_kind(workbook) -> str:
    """The kind of mistake on the probe MLP([2, 3, 3, 2]), with relu and with tanh."""
    for activation in ACTIVATIONS:
        mine = workbook.student()(PROBE_SIZES, activation=activation, seed=PROBE_SEED)
        theirs = workbook.reference()(PROBE_SIZES, activation=activation, seed=PROBE_SEED)
        y = mine(Tensor(PROBE_X))
        got = y.data if isinstance(y, Tensor) else np.asarray(y)
        weights = _weights(theirs)
        expected = _forward_variant(weights, PROBE_X, activation)
        if compare(got, expected).equal:
            continue
        other = "tanh" if activation == "relu" else "relu"
        variants = {"last_activation": dict(last=True), "input_activation": dict(first=True),
                    "no_activation": dict(between=False)}
        for kind, how in variants.items():
            if compare(got, _forward_variant(weights, PROBE_X, activation, **how)).equal:
                return kind
        if compare(got, _forward_variant(weights, PROBE_X, other)).equal:
            return "activation"
        return compare(got, expected).kind
    return "wrong"


@st.composite
def mlp_cases(draw):
    """(sizes, activation, seed, x): 1-3 layers of width 1-4, a batch of 1-4."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
    return sizes, activation, draw(st.integers(0, 2 ** 16)), draw(arrays((draw(st.integers(1, 4)), sizes[0])))


def _mlp_check(workbook, sizes, activation, seed, x) -> None:
    mine = workbook.student()(sizes, activation=activation, seed=seed)
    theirs = workbook.reference()(sizes, activation=activation, seed=seed)
    _expect_like_reference(mine, theirs, x, {"sizes": str(sizes), "activation": activation, "seed": seed, "x": x},
                           lambda: _mlp_kind(workbook), _parameter_names)


@exercise("4.2")
@CHECK_SETTINGS
@given(case=mlp_cases())
def test_mlp_on_random_networks(workbook, case):
    """MLP(sizes, activation, seed)(x) and its gradients equal the engine's nn.MLP's"""
    _mlp_check(workbook, *case)


@exercise("4.2")
def test_mlp_has_no_activation_after_the_last_layer_or_on_the_input(workbook):
    """No activation on the input, none after the last layer: the logits keep their negative values"""
    for activation in ACTIVATIONS:
        _mlp_check(workbook, PROBE_SIZES, activation, PROBE_SEED, PROBE_X)


@exercise("4.2")
def test_mlp_of_one_layer_and_of_an_empty_batch(workbook):
    """MLP([3, 2]) is one Linear layer without activation; an empty batch gives no rows"""
    _mlp_check(workbook, [3, 2], "relu", 5, np.array([[-1.0, 2.0, -3.0], [0.5, -0.5, 1.0]]))
    _mlp_check(workbook, [3, 4, 2], "tanh", 5, np.zeros((0, 3)))
