"""Checks of ex02_engine.py: the topological order, the backward loop and zero_grad.

Each runs on random graphs (hypothesis shrinks a failing one to a few lines the student can
draw: ``x0 = leaf (requires grad); t1 = add(x0, x0); u = add(t1, x0); root = sum(u)``), on the
graphs where each is easy to get wrong (a tensor used twice, a constant, a path cut by an op
whose backward returns None), and the order on a chain of 100,000 ops, which a recursive walk
cannot finish. The kind of mistake, which picks the hint, is named on fixed probe graphs where
the kinds can be told apart.
"""
import operator
import sys
from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor
from tinygrad_edu.course.checking import CHECK_SETTINGS, exercise
from tinygrad_edu.course.feedback import CheckFailed, compare, expect_close

DEPTH = 100_000      # ops in the deep chain: far beyond Python's recursion limit

OPS = {"add": (2, operator.add), "mul": (2, operator.mul), "sub": (2, operator.sub), "tanh": (1, Tensor.tanh)}


# ----- random graphs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Graph:
    """Leaves x0, x1, ... (x0 requires grad), ops t_k = op(earlier tensors), u = t_last + x0, root = sum(u)."""
    leaves: tuple        # (requires_grad, ...) of x0, x1, ...
    ops: tuple           # ((op name, (indices of its inputs)), ...)

    def build(self) -> tuple:
        """(every tensor, in the order of the description), root; all named as in describe()."""
        tensors = [Tensor(_leaf_values(i), requires_grad=needs, name=f"x{i}") for i, needs in enumerate(self.leaves)]
        for name, args in self.ops:
            out = OPS[name][1](*(tensors[i] for i in args))
            out.name = f"t{len(tensors)}"
            tensors.append(out)
        u = tensors[-1] + tensors[0]          # x0 requires grad, so u and root do
        u.name = "u"
        root = u.sum()
        root.name = "root"
        return tensors + [u, root], root

    def describe(self) -> str:
        lines = [f"x{i} = {np.array2string(_leaf_values(i), separator=', ')} "
                 f"({'requires grad' if needs else 'a constant'})" for i, needs in enumerate(self.leaves)]
        for k, (name, args) in enumerate(self.ops, start=len(self.leaves)):
            lines.append(f"t{k} = {name}({', '.join(self._label(i) for i in args)})")
        lines += [f"u = add({self._label(len(self.leaves) + len(self.ops) - 1)}, x0)", "root = sum(u)"]
        return "; ".join(lines)

    def _label(self, i: int) -> str:
        return f"x{i}" if i < len(self.leaves) else f"t{i}"


def _leaf_values(i: int) -> np.ndarray:
    """Leaf i's values: fixed, so hypothesis varies (and shrinks) only the graph's shape."""
    return np.array([0.5, -1.0, 1.5]) + 0.25 * i


@st.composite
def graphs(draw, max_leaves: int = 3, max_ops: int = 6):
    """A random graph: 1-3 leaves of 3 numbers, 1-6 ops, any tensor used any number of times."""
    n = draw(st.integers(1, max_leaves))
    leaves = tuple(i == 0 or draw(st.booleans()) for i in range(n))
    ops = []
    for j in range(draw(st.integers(1, max_ops))):
        name = draw(st.sampled_from(sorted(OPS)))          # shrinks towards "add"
        ops.append((name, tuple(draw(st.integers(0, n + j - 1)) for _ in range(OPS[name][0]))))
    return Graph(leaves, tuple(ops))


def _label(t) -> str:
    return t.name if t.name else f"a tensor of shape {t.shape} made by op {t.op!r}"


def _names(tensors) -> list:
    return [t.name if isinstance(t, Tensor) else repr(t) for t in tensors]


# ----- 2.15: the topological order ----------------------------------------------------------------

def _order_problem(got, root):
    """(kind, what is wrong) if `got` is not a topological order of root's graph, else None."""
    if not isinstance(got, (list, tuple)):
        return "wrong", f"topological_order returned a {type(got).__name__}, not a list of tensors"
    strangers = [x for x in got if not isinstance(x, Tensor)]
    if strangers:
        return "wrong", f"the list holds a {type(strangers[0]).__name__}, not only tensors"
    ids = [id(t) for t in got]
    seen = set(ids)
    if len(seen) < len(ids):
        counts = {}
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
        twice = next(t for t in got if counts[id(t)] > 1)
        return "duplicate", f"{_label(twice)} is listed {counts[id(twice)]} times; list each tensor once"
    expected = root.topological_order()
    wanted = {id(t) for t in expected}
    if seen != wanted:
        extra = next((t for t in got if id(t) not in wanted), None)
        if extra is not None:
            why = "does not require grad" if not extra.requires_grad else "is not in root's graph"
            return "extra", f"{_label(extra)} {why}, but it is in your list"
        missing = next(t for t in expected if id(t) not in seen)
        return "missing", f"{_label(missing)} requires grad and root depends on it, but it is missing"
    position = dict(zip(ids, range(len(ids))))
    for t in got:
        here = position[id(t)]
        for inp in t.inputs:
            if inp.requires_grad and position[id(inp)] > here:
                return "order", f"{_label(t)} comes before its input {_label(inp)}; inputs come first"
    return None


def _expect_order(got, root, inputs: dict, shown=None) -> None:
    problem = _order_problem(got, root)
    if problem is not None:
        kind, message = problem
        expected, mine = (shown if shown is not None else (_names(root.topological_order()), _names(got)))
        raise CheckFailed(message, kind=kind, expected=expected, got=mine, inputs=inputs)


def _probe_graph() -> tuple:
    """x used three times, a diamond, a constant and a result computed from constants only."""
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    c = Tensor([3.0, 4.0], name="c (a constant)")
    k = c * 2.0
    k.name = "k = c * 2 (no grad)"
    y = x * x
    y.name = "y = x * x"
    z = y + k
    z.name = "z = y + k"
    w = z * y
    w.name = "w = z * y"
    root = (w + x).sum()
    root.name = "root = sum(w + x)"
    return x, root


def _chain(depth: int) -> Tensor:
    """x0 -> t1 -> ... -> t_depth, one input each (an op that passes its gradient through)."""
    node = Tensor(np.array(1.0), requires_grad=True, name="x0")
    one = np.array(1.0)

    def passes_through(g):
        return (g,)
    for _ in range(depth):
        node = Tensor.from_op(one, (node,), "step", passes_through)
    node.name = f"root = t{depth}"        # the others stay unnamed: naming 100,000 tensors costs time
    return node


@exercise("2.15")
@CHECK_SETTINGS
@given(graph=graphs())
def test_topological_order_of_random_graphs(workbook, graph):
    """topological_order lists every tensor the root depends on once, inputs before outputs"""
    topological_order = workbook.student()
    _, root = graph.build()
    _expect_order(topological_order(root), root, {"graph": graph.describe()})


@exercise("2.15")
def test_topological_order_of_reused_tensors_and_constants(workbook):
    """A tensor used twice is listed once; constants are left out; a leaf alone is its own order"""
    topological_order = workbook.student()
    x, root = _probe_graph()
    graph = "x = [1, 2] (requires grad); c = [3, 4] (a constant); k = c * 2; y = x * x; z = y + k; " \
            "w = z * y; root = sum(w + x)"
    _expect_order(topological_order(root), root, {"graph": graph})
    _expect_order(topological_order(x), x, {"graph": "x = [1, 2] (requires grad), the root itself"})


@exercise("2.15")
def test_topological_order_of_a_100000_op_chain(workbook):
    """topological_order handles a chain of 100,000 ops (a recursive walk cannot)"""
    topological_order = workbook.student()
    root = _chain(DEPTH)
    graph = f"x0 = 1.0 (requires grad); t1 = step(x0); t2 = step(t1); ...; root = t{DEPTH} = step(t{DEPTH - 1})"
    try:
        got = topological_order(root)
    except RecursionError:
        raise CheckFailed(f"topological_order hit Python's recursion limit ({sys.getrecursionlimit()} nested calls) "
                          f"on a chain of {DEPTH:,} ops", kind="recursion", inputs={"graph": graph}) from None
    length = len(got) if isinstance(got, (list, tuple)) else None
    shown = (f"{DEPTH + 1:,} tensors: x0, t1, ..., t{DEPTH}", f"{length:,} entries" if length is not None else
             type(got).__name__)
    _expect_order(got, root, {"graph": graph}, shown=shown)


# ----- 2.16: the backward loop --------------------------------------------------------------------

def _probe_chain() -> tuple:
    """No tensor used twice: root = 5 · sum(x · c)."""
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True, name="x")
    c = Tensor([3.0, 1.5, -2.0], name="c")
    y = x * c
    y.name = "y"
    s = y.sum()
    s.name = "s"
    root = s * 5.0
    root.name = "root"
    return [x, c, y, s, root], [root]


def _probe_reuse() -> tuple:
    """x used three times: root = sum(x · x + x)."""
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True, name="x")
    y = x * x
    y.name = "y"
    u = y + x
    u.name = "u"
    root = u.sum()
    root.name = "root"
    return [x, y, u, root], [root]


def _probe_two_calls() -> tuple:
    """Two losses of one weight, backward on each: w.grad = 3 + 2w."""
    w = Tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    first = (w * 3.0).sum()
    second = (w * w).sum()
    return [w], [first, second]


def _grads(probe, backward) -> list:
    tensors, roots = probe()
    for root in roots:
        backward(root)
    return [t.grad for t in tensors]


def _same_grads(got: list, expected: list) -> bool:
    return all((a is None) == (b is None) and (a is None or compare(a, b).equal) for a, b in zip(got, expected))


def _backward_kind(student, reference) -> str:
    """The kind of mistake, named on the probes: a chain, then a tensor used twice, then two calls."""
    got, expected = _grads(_probe_chain, student), _grads(_probe_chain, reference)
    if not _same_grads(got, expected):
        never_arrived = any(a is None and b is not None for a, b in zip(got, expected))
        return "order" if never_arrived else "chain"
    if not _same_grads(_grads(_probe_reuse, student), _grads(_probe_reuse, reference)):
        return "overwrite"
    if not _same_grads(_grads(_probe_two_calls, student), _grads(_probe_two_calls, reference)):
        return "accumulate"
    return "wrong"


def _expect_same_grads(mine: list, theirs: list, inputs: dict, kind) -> None:
    """Every tensor's .grad in `mine` equals the same tensor's in `theirs` (None where it is None)."""
    for t, ref in zip(mine, theirs):
        name = ref.name
        if t.grad is None and ref.grad is None:
            continue
        if t.grad is None:
            raise CheckFailed(f"{name}.grad is None, but root depends on {name}: ∂root/∂{name} should be there",
                              kind=kind(), expected=ref.grad, got=None, inputs=inputs)
        if ref.grad is None:
            why = "it does not require grad" if not ref.requires_grad else "every path from it to root was cut"
            raise CheckFailed(f"{name}.grad should stay None ({why}), but it holds a gradient", kind=kind(),
                              expected=None, got=np.asarray(t.grad), inputs=inputs)
        if not compare(t.grad, ref.grad).equal:
            expect_close(t.grad, ref.grad, what=f"∂root/∂{name} (in {name}.grad)", inputs=inputs, kind=kind())


@exercise("2.16")
@CHECK_SETTINGS
@given(graph=graphs())
def test_backward_on_random_graphs(workbook, graph):
    """backward(root) stores the engine's gradient in every tensor's .grad, on random graphs"""
    backward, reference = workbook.student(), workbook.reference()
    mine, root = graph.build()
    theirs, their_root = graph.build()
    backward(root)
    reference(their_root)
    _expect_same_grads(mine, theirs, {"graph": graph.describe()}, lambda: _backward_kind(backward, reference))


def _cut_paths() -> tuple:
    """Paths cut by an op whose backward returns None: a gets no gradient at all, x one share only."""
    x = Tensor([1.0, -2.0], requires_grad=True, name="x")
    a = x * 3.0
    a.name = "a"
    blocked = Tensor.from_op(a.data.copy(), (a,), "stop", lambda g: (None,))
    blocked.name = "b = stop(a)"
    u = blocked * x
    u.name = "u"
    root = u.sum()
    root.name = "root"
    return [x, a, blocked, u, root], [root]


def _diamond() -> tuple:
    """x feeds two branches that meet again, beside a constant c."""
    x = Tensor([0.5, 1.5], requires_grad=True, name="x")
    c = Tensor([2.0, -1.0], name="c")
    left = x.tanh()
    left.name = "left"
    right = x * c
    right.name = "right"
    top = left * right
    top.name = "top"
    root = top.sum()
    root.name = "root"
    return [x, c, left, right, top, root], [root]


@exercise("2.16")
def test_backward_adds_the_shares_of_a_reused_tensor(workbook):
    """A tensor used twice gets the sum of both shares; constants and cut paths get no gradient"""
    backward, reference = workbook.student(), workbook.reference()
    shown = {_probe_reuse: "x = [0.5, -1, 2] (requires grad); y = x * x; u = y + x; root = sum(u)",
             _diamond: "x = [0.5, 1.5] (requires grad); c = [2, -1] (a constant); left = tanh(x); right = x * c; "
                       "top = left * right; root = sum(top)",
             _cut_paths: "x = [1, -2] (requires grad); a = x * 3; b = stop(a), an op whose backward returns None; "
                         "u = b * x; root = sum(u)"}
    for probe, graph in shown.items():
        (mine, roots), (theirs, their_roots) = probe(), probe()
        backward(roots[0])
        reference(their_roots[0])
        _expect_same_grads(mine, theirs, {"graph": graph}, lambda: _backward_kind(backward, reference))


@exercise("2.16")
def test_backward_accumulates_over_two_calls(workbook):
    """Two backward calls add up in a leaf's .grad, as in PyTorch: w.grad = ∂first/∂w + ∂second/∂w"""
    backward, reference = workbook.student(), workbook.reference()
    (mine, roots), (theirs, their_roots) = _probe_two_calls(), _probe_two_calls()
    for root, their_root in zip(roots, their_roots):
        backward(root)
        reference(their_root)
    graph = "w = [0.5, -1, 2] (requires grad); first = sum(w * 3); second = sum(w * w); backward(first); " \
            "backward(second)"
    _expect_same_grads(mine, theirs, {"graph": graph}, lambda: _backward_kind(backward, reference))


# ----- 2.17: zero_grad ----------------------------------------------------------------------------

def _zero_grad_kind(student, reference_backward) -> str:
    """The kind of mistake, named on the probe x → y = x·x → u = y + x → root after one backward."""
    tensors, (root,) = _probe_reuse()
    reference_backward(root)
    student(root)
    leaf, results = tensors[0], tensors[1:]
    if any(isinstance(t.grad, np.ndarray) and not np.any(t.grad) for t in tensors):
        return "zeros"
    if leaf.grad is None and any(t.grad is not None for t in results):
        return "leaves_only"
    if any(t.grad is not None for t in tensors):
        return "missing"
    return "wrong"


def _expect_cleared(tensors: list, inputs: dict, kind) -> None:
    kept = [t for t in tensors if t.grad is not None]
    if kept:
        what = "the leaf" if kept[0].is_leaf else "the op result"
        raise CheckFailed(f"after zero_grad(root), {what} {kept[0].name} still has a .grad "
                          f"({len(kept)} of {len(tensors)} tensors do); every one should be None", kind=kind(),
                          expected=[], got=_names(kept), inputs=inputs)


@exercise("2.17")
@CHECK_SETTINGS
@given(graph=graphs())
def test_zero_grad_clears_random_graphs(workbook, graph):
    """zero_grad(root) sets .grad = None for every tensor of the graph, leaves and op results"""
    zero_grad, reference_backward = workbook.student(), workbook.reference("2.16")
    tensors, root = graph.build()
    reference_backward(root)
    zero_grad(root)
    _expect_cleared(tensors, {"graph": graph.describe() + "; backward(root); zero_grad(root)"},
                    lambda: _zero_grad_kind(zero_grad, reference_backward))


@exercise("2.17")
def test_zero_grad_then_backward_gives_fresh_gradients(workbook):
    """After zero_grad, the next backward gives one backward's gradients, the op results' too"""
    zero_grad, reference_backward = workbook.student(), workbook.reference("2.16")
    (mine, (root,)), (fresh, (fresh_root,)) = _probe_reuse(), _probe_reuse()
    reference_backward(root)
    zero_grad(root)
    reference_backward(root)
    reference_backward(fresh_root)
    graph = "x = [0.5, -1, 2] (requires grad); y = x * x; u = y + x; root = sum(u); backward(root); " \
            "zero_grad(root); backward(root)"
    kind = lambda: _zero_grad_kind(zero_grad, reference_backward)   # noqa: E731
    for t, ref in zip(mine, fresh):
        if t.grad is None or not compare(t.grad, ref.grad).equal:
            if t.grad is None:
                raise CheckFailed(f"{t.name}.grad is None after the second backward", kind=kind(),
                                  expected=ref.grad, got=None, inputs={"graph": graph})
            expect_close(t.grad, ref.grad, what=f"{t.name}.grad after zero_grad and backward", inputs={"graph": graph},
                         kind=kind())


@exercise("2.17")
def test_zero_grad_of_a_leaf_and_of_a_graph_with_constants(workbook):
    """zero_grad of a leaf clears that leaf; constants in a graph stay without a gradient"""
    zero_grad, reference_backward = workbook.student(), workbook.reference("2.16")
    kind = lambda: _zero_grad_kind(zero_grad, reference_backward)   # noqa: E731
    w = Tensor([1.0, -1.0], requires_grad=True, name="w")
    reference_backward((w * w).sum())
    zero_grad(w)
    _expect_cleared([w], {"graph": "w = [1, -1] (requires grad); backward(sum(w * w)); zero_grad(w)"}, kind)
    tensors, roots = _diamond()
    reference_backward(roots[0])
    zero_grad(roots[0])
    _expect_cleared(tensors, {"graph": "x = [0.5, 1.5] (requires grad); c = [2, -1] (a constant); left = tanh(x); "
                                       "right = x * c; top = left * right; root = sum(top); backward(root); "
                                       "zero_grad(root)"}, kind)
