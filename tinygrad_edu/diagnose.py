"""Diagnostics that name the bug: which op's backward is wrong, for which input, and how.

    from tinygrad_edu.diagnose import diagnose, recording
    report = diagnose(build)          # build() returns a loss; its graph is recorded and checked
    with recording():                 # or record the graph yourself, then pass the loss
        loss = build()
    report = diagnose(loss)
    print(report)                     # a short paragraph: the op, the input, the kind of mistake
    report.draw("bug.svg")            # the graph, the wrong op in red, analytic and numeric on its edge

Every node's own backward (its vector-Jacobian product) is checked against central
differences on that node's inputs, in creation order (inputs before outputs), so the first
wrong node reported is the one to fix: everything before it is right. For a node
out = f(x₁, …, xₙ) and a random cotangent u, the backward gives aᵢ = ∂⟨u, f⟩/∂xᵢ, and

    ⟨aᵢ, v⟩ ≈ ⟨u, f(xᵢ + h·v) − f(xᵢ − h·v)⟩ / 2h        (error O(h²))

for a random direction v: two evaluations of the op per input. Where that disagrees, every
element is differenced on its own, and an element passes when aᵢ lies between its one-sided
differences (the subgradient at a kink: relu and |x| at 0, tied maxima, clip at its bounds).
Elements where f is not finite at x ± h (log 0, 1/0, e^1000) cannot be differenced and are
skipped. Float32 graphs are checked in float64.

To difference a node we must evaluate its op again at other inputs, and a graph stores only
backward closures. So ``recording()`` notes, for every op made inside it, the function that
made it (an op in ops.py, nn.linear, or your own function that calls ``Tensor.from_op``) and
its arguments; the node's forward is that function called again with other inputs. A
function that does not give back the recorded output at the recorded inputs (one that
draws random numbers, say) is reported as unchecked, not as wrong.
"""
from __future__ import annotations

import contextlib
import gc
import inspect
import re
import shutil
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import graphviz
import numpy as np

from .io import atomic_write_bytes, atomic_write_text
from .tensor import Tensor, no_grad
from .viz.graph import draw_graph

__all__ = ["diagnose", "Diagnosis", "recording", "KINDS"]

KINDS = ("sign", "scale", "transpose", "unbroadcast", "wrong")
STEP = 1e-6          # h, relative to max(1, |x|) per element
_RTOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-3}
_ROUNDOFF = 4 * np.finfo(np.float64).eps   # relative round-off of an op's output, generously
_FULL_LIMIT = 20_000  # inputs larger than this are not differenced element by element

# ----- recording which function made each op ------------------------------------------

_forwards: "weakref.WeakKeyDictionary[Tensor, tuple]" = weakref.WeakKeyDictionary()
_RESULT_CODE = Tensor._result.__code__
_FROM_OP_CODE = Tensor.from_op.__code__
_functions: dict = {}   # code object -> the function that runs it


class _Recorder:
    """A profile hook that sees every call of Tensor._result and notes its caller's frame."""

    def __init__(self):
        self.pending: dict = {}

    def __call__(self, frame, event, arg):
        if frame.f_code is not _RESULT_CODE:
            return
        if event == "call":
            caller = frame.f_back
            if caller is not None and caller.f_code is _FROM_OP_CODE:
                caller = caller.f_back
            if caller is not None:
                self.pending[id(frame)] = (caller.f_code, caller.f_globals, dict(caller.f_locals))
        elif event == "return":
            made = self.pending.pop(id(frame), None)
            if made is not None and isinstance(arg, Tensor) and arg.op:
                _forwards[arg] = made


@contextlib.contextmanager
def recording():
    """Record, for every op made inside the block, how to evaluate it again (for ``diagnose``)."""
    previous = sys.getprofile()
    sys.setprofile(_Recorder())
    try:
        yield
    finally:
        try:
            sys.setprofile(previous)
        except TypeError:   # a C-level profiler (cProfile) cannot be put back from Python
            sys.setprofile(None)


def _function_of(code, f_globals) -> Optional[Callable]:
    fn = _functions.get(code)
    if fn is None:
        candidate = f_globals.get(code.co_name)
        if getattr(candidate, "__code__", None) is code:
            fn = candidate
        else:  # a nested function or a method: find it among the objects that use its code
            fn = next((r for r in gc.get_referrers(code) if inspect.isfunction(r) and r.__code__ is code), None)
        if fn is not None:
            _functions[code] = fn
    return fn


_signatures: dict = {}


def _parameters(fn) -> list:
    params = _signatures.get(fn)
    if params is None:
        params = _signatures[fn] = list(inspect.signature(fn).parameters.items())
    return params


def _substitute(value, subs: dict):
    if isinstance(value, Tensor):
        return subs.get(id(value), value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tensor, list, tuple)) for v in value):
        return type(value)(_substitute(v, subs) for v in value)
    return value


def _mentions(value, target: Tensor) -> bool:
    if value is target:
        return True
    return isinstance(value, (list, tuple)) and any(_mentions(v, target) for v in value)


class _Forward:
    """A node's op as a function of its inputs' data: the recorded function, called again."""

    def __init__(self, node: Tensor):
        made = _forwards.get(node)
        self.reason = None
        if made is None:
            self.reason = "its graph was not recorded (build the loss inside recording(), or pass the function)"
            return
        code, f_globals, local = made
        self.fn = _function_of(code, f_globals)
        if self.fn is None:
            self.reason = f"the function {code.co_name} that made it can no longer be found"
            return
        self.args, self.kwargs = [], {}
        for name, p in _parameters(self.fn):
            value = local.get(name, p.default)
            if p.kind is p.VAR_POSITIONAL:
                self.args.extend(value if name in local else ())
            elif p.kind is p.VAR_KEYWORD:
                self.kwargs.update(value if name in local else {})
            elif p.kind is p.KEYWORD_ONLY:
                self.kwargs[name] = value
            else:
                self.args.append(value)
        everything = self.args + list(self.kwargs.values())
        self.reaches = [any(_mentions(v, inp) for v in everything) for inp in node.inputs]
        self.inputs = node.inputs
        self.base = {id(t): Tensor(t.data, dtype=np.float64) for t in node.inputs}

    def __call__(self, i: int, x: np.ndarray) -> np.ndarray:
        subs = dict(self.base)
        subs[id(self.inputs[i])] = Tensor(x, dtype=np.float64)
        args = [_substitute(a, subs) for a in self.args]
        kwargs = {k: _substitute(v, subs) for k, v in self.kwargs.items()}
        with no_grad(), np.errstate(all="ignore"):
            return np.asarray(self.fn(*args, **kwargs).data, dtype=np.float64)


def _difference(plus: np.ndarray, minus: np.ndarray) -> np.ndarray:
    """plus − minus, 0 where they are equal (also equal infinities, where the difference would be nan)."""
    with np.errstate(invalid="ignore"):
        return np.where(plus == minus, 0.0, plus - minus)


# ----- the report --------------------------------------------------------------------

@dataclass
class Diagnosis:
    """What ``diagnose`` found. ``ok`` is True when every checked backward agrees with central differences.

    For the first wrong node: ``op``, ``name`` and ``scope`` of the node, ``input`` (the index of
    the input whose gradient is wrong) and ``input_name``, ``shape`` (that input's), ``grad_shape``
    (what the backward returned), ``output_shape``; ``kind`` (one of KINDS), ``factor`` (for
    "scale"), ``max_difference`` and ``where`` (its index), ``analytic`` and ``numeric`` (the
    gradient for the random cotangent, and central differences of the same).
    """
    ok: bool
    nodes_checked: int
    unchecked: list = field(default_factory=list)
    op: Optional[str] = None
    name: Optional[str] = None
    scope: Optional[str] = None
    input: Optional[int] = None
    input_name: Optional[str] = None
    shape: Optional[tuple] = None
    grad_shape: Optional[tuple] = None
    output_shape: Optional[tuple] = None
    kind: Optional[str] = None
    factor: Optional[float] = None
    max_difference: Optional[float] = None
    where: Optional[tuple] = None
    detail: str = ""
    analytic: Optional[np.ndarray] = field(default=None, repr=False)
    numeric: Optional[np.ndarray] = field(default=None, repr=False)
    node: Optional[Tensor] = field(default=None, repr=False)
    root: Optional[Tensor] = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        skipped = ""
        if self.unchecked:
            skipped = f" {len(self.unchecked)} could not be checked: " + "; ".join(self.unchecked[:3]) + \
                      ("; …" if len(self.unchecked) > 3 else "") + "."
        if self.ok:
            return (f"All {self.nodes_checked} ops checked have a correct backward: each one's gradient agrees "
                    f"with central differences on its own inputs (in float64).{skipped}")
        where = f" (node {self.name!r})" if self.name else ""
        scope = f" in {self.scope}" if self.scope else ""
        which = f"input {self.input}" + (f" ({self.input_name!r})" if self.input_name else "")
        return (f"The backward of op '{self.op}'{where}{scope} is wrong for {which}, of shape {self.shape}: "
                f"{self.detail} Every op made before it has a correct backward, so fix this one first.{skipped}")

    def draw(self, path, max_nodes: int = 200):
        """Write the graph to `path` (.svg, .png, .pdf or .dot), the wrong op in red, and return the path.

        The edge from the wrong input into that op carries the analytic and the numeric gradient
        (their norms for an array). When the wrong node is beyond `max_nodes` from the output,
        the graph below the wrong node is drawn instead.
        """
        if self.root is None:
            raise ValueError("Diagnosis.draw: this diagnosis has no graph to draw")
        graph = self.graph(max_nodes)
        path = Path(path)
        fmt = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"Diagnosis.draw: cannot tell the format of {path.name!r}; end it in .svg, .png, "
                             f".pdf or .dot")
        if fmt == "dot" or shutil.which("dot") is None:
            return atomic_write_text(path.with_suffix(".dot") if fmt != "dot" else path, graph.source)
        return atomic_write_bytes(path, graph.pipe(format=fmt))

    def graph(self, max_nodes: int = 200) -> graphviz.Digraph:
        """The drawing as a ``graphviz.Digraph`` (see ``draw``)."""
        if self.ok or self.node is None:
            return draw_graph(self.root, max_nodes=max_nodes)
        for root in (self.root, self.node):
            g = _marked_graph(root, self.node, self.node.inputs[self.input], max_nodes)
            if g is not None:
                break
        op_id, in_id, g = g
        g.node(op_id, color="red", fillcolor="#ff5252", style="filled,bold", penwidth="3",
               fontcolor="white")
        label = f"{self.kind}: analytic {_short(self.analytic)}\\nnumeric {_short(self.numeric)}"
        pattern = re.compile(rf"^\t{in_id} -> {op_id}\b")
        for k, line in enumerate(g.body):
            if pattern.match(line):
                g.body[k] = f'\t{in_id} -> {op_id} [label="{label}" color=red fontcolor=red penwidth=3]\n'
                break
        return g


def _short(a) -> str:
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        return f"{float(a.reshape(())):.4g}"
    return f"‖·‖ {float(np.linalg.norm(a)):.4g}, shape {a.shape}"


def _marked_graph(root: Tensor, node: Tensor, inp: Tensor, max_nodes: int):
    """Draw `root`'s graph and find the ids of `node`'s op and of `inp` (by names set for a moment)."""
    marks = {node: "\x01diagnose-out\x01", inp: "\x01diagnose-in\x01"}
    saved = {t: t.name for t in marks}
    try:
        for t, mark in marks.items():
            t.name = mark
        g = draw_graph(root, max_nodes=max_nodes, show_grad=False)
    finally:
        for t, name in saved.items():
            t.name = name
    ids = {}
    for k, line in enumerate(g.body):
        for t, mark in marks.items():
            if mark in line:
                ids[t] = line.split()[0]
                name = saved[t]
                g.body[k] = line.replace(mark + "\\l", graphviz.escape(name) + "\\l" if name else "")
    if node not in ids or inp not in ids:
        return None
    out_id = ids[node]
    op_id = next((line.split()[0] for line in g.body if re.match(rf"^\t\S+ -> {out_id}\b", line)), None)
    return None if op_id is None else (op_id, ids[inp], g)


# ----- checking one node ----------------------------------------------------------------

def _close(p: np.ndarray, q: np.ndarray, mask: np.ndarray, rtol: float = 1e-3) -> bool:
    if p.shape != q.shape:
        return False
    p, q = p[mask], q[mask]
    scale = max(float(np.linalg.norm(p)), float(np.linalg.norm(q)))
    return float(np.linalg.norm(p - q)) <= rtol * scale + 1e-12


def _elementwise(forward: _Forward, i: int, x: np.ndarray, u: np.ndarray, f0: np.ndarray):
    """Central and one-sided differences of ⟨u, f⟩ for every element of input i, and where they are finite."""
    central, left, right = (np.zeros(x.shape) for _ in range(3))
    finite = np.ones(x.shape, dtype=bool)
    noise = np.zeros(x.shape)   # a bound on the round-off in each difference quotient
    for idx in np.ndindex(x.shape):
        h = STEP * max(1.0, abs(float(x[idx])))
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        plus, minus = forward(i, xp), forward(i, xm)
        with np.errstate(all="ignore"):
            r = float(np.sum(u * _difference(plus, f0))) / h
            lft = float(np.sum(u * _difference(f0, minus))) / h
            noise[idx] = _ROUNDOFF * float(np.sum(np.abs(u) * (np.abs(plus) + np.abs(minus)))) / h
        if not (np.isfinite(r) and np.isfinite(lft) and np.isfinite(plus).all() and np.isfinite(minus).all()):
            finite[idx] = False
            continue
        left[idx], right[idx], central[idx] = lft, r, (lft + r) / 2
    return central, left, right, finite, noise


def _passes(a, central, left, right, finite, noise, rtol) -> bool:
    tol = rtol * (1 + np.abs(central)) + noise
    with np.errstate(invalid="ignore"):
        near = np.abs(a - central) <= tol
        between = (a >= np.minimum(left, right) - tol) & (a <= np.maximum(left, right) + tol)
    return bool(np.all(near | between | ~finite))


def _swapped_operands(node: Tensor, i: int, u: np.ndarray) -> list:
    """Products of the cotangent with another 2-D operand, in every order and transposition."""
    if u.ndim != 2:
        return []
    found = []
    for j, other in enumerate(node.inputs):
        if j == i or other.ndim != 2:
            continue
        X = np.asarray(other.data, dtype=np.float64)
        for P in (u, u.T):
            for Q in (X, X.T):
                for A, B in ((P, Q), (Q, P)):
                    if A.shape[1] == B.shape[0]:
                        found.append(A @ B)
    return found


def _classify(node, i, a, n, finite, u) -> tuple:
    """(kind, factor, detail) for an analytic gradient a that disagrees with the numeric n."""
    x_shape = node.inputs[i].shape
    swapped = _swapped_operands(node, i, u)
    full = np.ones(a.shape, dtype=bool)
    if a.shape != x_shape:
        if a.ndim >= 2 and a.shape[::-1] == x_shape and _close(a.T, n, finite):
            return "transpose", None, (f"it is the numerical gradient transposed (shape {a.shape} instead of "
                                       f"{x_shape}): transpose it, or swap the operands of the product.")
        if any(_close(a, c, full) for c in swapped if c.shape == a.shape):
            return "transpose", None, (f"it has shape {a.shape} instead of {x_shape}, and it is the product of "
                                       f"the gradient and the other operand in the wrong order or transposed "
                                       f"(for C = A @ B: ∂L/∂A = g @ Bᵀ, ∂L/∂B = Aᵀ @ g).")
        if a.shape == node.shape:
            how = (f"it has the output's shape {a.shape}, not the input's {x_shape}: the input was broadcast in "
                   f"the forward pass, so its gradient must be summed over the broadcast axes "
                   f"(ops.unbroadcast(g, x.shape)).")
        else:
            how = (f"it has shape {a.shape}, not the input's {x_shape}: sum over the broadcast axes keeping the "
                   f"input's dimensions (ops.unbroadcast(g, x.shape)).")
        return "unbroadcast", None, how
    if np.any(n[finite] != 0) and _close(a, -n, finite):
        return "sign", -1.0, "it is the numerical gradient with the opposite sign: a minus sign is missing or extra."
    if a.ndim >= 2 and a.shape[-1] == a.shape[-2] and _close(np.swapaxes(a, -1, -2), n, finite):
        return "transpose", None, "it is the numerical gradient transposed: transpose it, or swap the operands."
    if any(_close(a, c, full) for c in swapped if c.shape == a.shape):
        return "transpose", None, ("it is the product of the gradient and the other operand in the wrong order or "
                                   "transposed (for C = A @ B: ∂L/∂A = g @ Bᵀ, ∂L/∂B = Aᵀ @ g).")
    nn_ = float(np.sum(n[finite] * n[finite]))
    if nn_ > 0:
        c = float(np.sum(a[finite] * n[finite])) / nn_   # least squares: a ≈ c·n
        if abs(c) > 1e-6 and _close(a, c * n, finite):
            return "scale", c, (f"it is {c:.4g} times the numerical gradient: a constant factor is wrong "
                                f"(a missing 2, 1/n or learning-rate-like constant).")
    diff = np.where(finite, np.abs(a - n), 0.0)
    where = tuple(int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape)) if diff.size else ()
    biggest = float(diff[where]) if diff.size else 0.0
    return "wrong", None, (f"it differs from central differences by up to {biggest:.2g}, at index {where}: "
                           f"analytic {float(a[where]):.6g}, numeric {float(n[where]):.6g}.")


def _check_node(node: Tensor, rng: np.random.Generator):
    """None if the node's backward is right (or cannot be checked: then a reason string); else a dict."""
    forward = _Forward(node)
    if forward.reason:
        return f"op '{node.op}': {forward.reason}"
    f0 = forward(0, np.asarray(node.inputs[0].data, dtype=np.float64)) if node.inputs else None
    if f0 is None or f0.shape != node.shape or not np.allclose(f0, node.data, rtol=_RTOL[node.dtype] / 10,
                                                               atol=0, equal_nan=True):
        return f"op '{node.op}': calling its function again does not give the same output"
    rtol = _RTOL[node.dtype]
    u = rng.standard_normal(node.shape)
    grads = node._backward(u)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    first = {}
    for i, inp in enumerate(node.inputs):
        first.setdefault(id(inp), i)
    for i, inp in enumerate(node.inputs):
        if not inp.requires_grad or first[id(inp)] != i:
            continue    # a tensor used twice (x * x) is checked once, with the sum of its gradients
        v = rng.standard_normal(inp.shape)
        if i >= len(grads) or grads[i] is None:
            return dict(input=i, kind="wrong", factor=None, analytic=np.zeros(0), numeric=np.zeros(0),
                        detail=f"its backward returns {len(grads)} gradients for {len(node.inputs)} inputs, and "
                               f"none for this input, which requires grad.", max_difference=None, where=None)
        if not forward.reaches[i]:
            continue   # the recorded call does not take this input directly: it cannot be varied
        a = np.asarray(grads[i], dtype=np.float64)
        for j in range(i + 1, len(node.inputs)):
            if node.inputs[j] is inp and j < len(grads) and grads[j] is not None:
                a = a + np.asarray(grads[j], dtype=np.float64)
        x = np.asarray(inp.data, dtype=np.float64)
        if a.shape == x.shape:
            if x.size == 0:
                continue
            scale = np.maximum(1.0, np.abs(x))
            plus, minus = forward(i, x + STEP * scale * v), forward(i, x - STEP * scale * v)
            with np.errstate(all="ignore"):
                numeric = float(np.sum(u * _difference(plus, minus))) / (2 * STEP)
                analytic = float(np.sum(a * scale * v))
                bound = float(np.sum(np.abs(a * scale * v)))
                noise = _ROUNDOFF * float(np.sum(np.abs(u) * (np.abs(plus) + np.abs(minus)))) / (2 * STEP)
            # An infinite bound or noise (an inf in the gradient, a huge output) would pass anything: then go
            # element by element, where the elements that can be differenced are checked.
            if np.isfinite(numeric) and np.isfinite(bound) and np.isfinite(noise) and \
                    abs(numeric - analytic) <= rtol * (1 + bound + abs(numeric)) + noise:
                continue
        if x.size > _FULL_LIMIT:
            return dict(input=i, kind="wrong", factor=None, analytic=a, numeric=np.zeros(0), max_difference=None,
                        where=None, detail="its gradient disagrees with central differences along a random "
                                           "direction (the input is too large to difference element by element).")
        central, left, right, finite, noise = _elementwise(forward, i, x, u, f0)
        if a.shape == x.shape and _passes(a, central, left, right, finite, noise, rtol):
            continue
        kind, factor, detail = _classify(node, i, a, central, finite, u)
        diff = np.where(finite, np.abs(a - central), 0.0) if a.shape == x.shape else None
        return dict(input=i, kind=kind, factor=factor, analytic=a, numeric=central, detail=detail,
                    max_difference=None if diff is None or not diff.size else float(diff.max()),
                    where=None if diff is None or not diff.size else
                    tuple(int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape)))
    return None


def diagnose(loss, seed: int = 0) -> Diagnosis:
    """Check every op's backward in the graph of `loss` against central differences; name the first wrong one.

    `loss` is a function of no arguments that builds the loss (its graph is recorded while it
    runs), or a loss Tensor built inside ``with recording():``. `seed` fixes the random
    cotangents and directions: the same seed gives the same report.
    """
    if callable(loss) and not isinstance(loss, Tensor):
        with recording():
            loss = loss()
        if not isinstance(loss, Tensor):
            raise TypeError(f"diagnose: the function returned a {type(loss).__name__}; it must return the loss "
                            f"Tensor it builds")
    if not isinstance(loss, Tensor):
        raise TypeError(f"diagnose: expected a loss Tensor or a function that builds one, got {type(loss).__name__}")
    if not loss.requires_grad or loss.is_leaf:
        raise ValueError("diagnose: this tensor has no graph to check; build it from tensors made with "
                         "requires_grad=True, outside no_grad()")
    rng = np.random.default_rng(seed)
    nodes = loss.topological_order(leaves=False)
    unchecked, checked = [], 0
    for node in nodes:
        with np.errstate(all="ignore"):   # inf and nan at an op's edge points are skipped, not warned about
            found = _check_node(node, rng)
        if isinstance(found, str):
            unchecked.append(found)
            continue
        checked += 1
        if found is not None:
            inp = node.inputs[found["input"]]
            a = found["analytic"]
            return Diagnosis(ok=False, nodes_checked=checked, unchecked=unchecked, op=node.op, name=node.name,
                             scope=node.scope, input_name=inp.name, shape=tuple(inp.shape),
                             grad_shape=tuple(a.shape) if a.size or a.ndim else None,
                             output_shape=tuple(node.shape), node=node, root=loss, **found)
    if not checked and nodes:   # nothing was checked: "ok" would tell a student a wrong op is right
        raise ValueError("diagnose: none of the graph's ops can be checked (it was built outside recording()); "
                         "pass the function that builds the loss, or build it inside `with recording():`")
    return Diagnosis(ok=True, nodes_checked=checked, unchecked=unchecked, root=loss)
