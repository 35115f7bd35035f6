"""Drawing a compute graph with Graphviz: the values going forward, the gradients coming back.

Every Tensor made by an op remembers ``op`` and its ``inputs``; following the inputs from
the loss back to the leaves gives the whole graph. Two ways to look at it:

- ``draw_graph`` (the tensor view): one box per tensor (name, shape, value, gradient) and
  one ellipse per op, edges in the direction of data flow. After ``backward()`` each edge
  is labelled with ‖g‖, the norm of the gradient flowing back along it, so vanishing and
  exploding gradients show up as numbers on the arrows.
- ``draw_scalar_graph`` (the scalar view, for the first chapter): every scalar element is
  its own node, as in the classic hand-drawn backprop diagrams. Built from the same
  Tensor graph; a matrix product is drawn as its products and their sum.

How the gradient on an edge is found: backward() only stores the *sum* of the gradients
that reach a tensor. The gradient sent along one edge, input → op, is what the op's
backward closure returns for that input when it is given the output's gradient, so the
drawing calls ``out._backward(out.grad)`` again. The closures only read their arguments,
so drawing never changes the graph or any ``.grad``.

Drawings are deterministic: nodes are numbered in traversal order (never by ``id()``),
so the same graph gives the same DOT source, byte for byte.
"""
from __future__ import annotations

import errno
import shutil
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import NamedTuple, Optional

import graphviz
import numpy as np

from ..io import atomic_write_bytes, atomic_write_text, describe_os_error
from ..tensor import Tensor

__all__ = ["draw_graph", "draw_scalar_graph", "render_graph", "Rendered", "GraphError", "tensor_kind",
           "mlp_loss_graph", "DOT_TIMEOUT", "MAX_LAYOUT_NODES", "QUICK_LAYOUT_ABOVE"]

DEFAULT_MAX_NODES = 200  # nodes a drawing shows by default (those nearest the output)
DOT_TIMEOUT = 60.0        # seconds render_graph lets `dot` lay out a drawing before stopping it
MAX_LAYOUT_NODES = 5000   # render_graph refuses larger drawings: dot's layout time grows faster than the node count
# Above this many nodes, drawings cap the iterations of dot's network-simplex placement
# (nslimit, nslimit1): where one value feeds many ops (a sum of a*b repeated 100 times), its
# long edges make the uncapped placement the slowest part of the layout by far. Smaller
# drawings keep dot's full, tidiest layout.
QUICK_LAYOUT_ABOVE = 100
_QUICK_LAYOUT = {"nslimit": "2", "nslimit1": "2"}


class GraphError(ValueError):
    """A drawing that cannot be rendered (too large, dot failed or took too long, a file that cannot be written)."""

# kind -> (legend text, Graphviz node attributes): a colour for each kind, and a border
# (double, rounded, dashed) or shape for most, so that they stay apart in grey print too.
_KINDS = {
    "output": ("loss / output (double border)",
               {"shape": "box", "style": "filled,bold", "fillcolor": "#ffcdd2", "peripheries": "2"}),
    "parameter": ("parameter: a leaf that requires grad", {"shape": "box", "style": "filled", "fillcolor": "#c8e6c9"}),
    "input": ("input: data (rounded)", {"shape": "box", "style": "rounded,filled", "fillcolor": "#bbdefb"}),
    "constant": ("constant (dashed)", {"shape": "box", "style": "dashed,filled", "fillcolor": "#eeeeee"}),
    "intermediate": ("intermediate", {"shape": "box", "style": "filled", "fillcolor": "#ffffff"}),
    "op": ("operation (ellipse)", {"shape": "ellipse", "style": "filled", "fillcolor": "#ffe0b2"}),
}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@", "neg": "neg"}
_RANKDIRS = ("LR", "TB", "RL", "BT")
_UNARY_ELEMENTWISE = {"neg", "exp", "log", "sqrt", "abs", "relu", "tanh", "sigmoid", "clip"}
_BINARY_ELEMENTWISE = {"add", "sub", "mul", "div", "pow"}


def tensor_kind(t: Tensor, root: Tensor) -> str:
    """What a tensor is in the graph of `root`: output, parameter, input, constant or intermediate.

    A leaf that requires grad is a parameter (what we differentiate with respect to); a leaf
    that does not is an input, or a constant when it is an unnamed single number (the 2 in
    ``2 * x``). Name your data (``Tensor(x, name="x")``) so that it shows as an input.
    """
    if t is root:
        return "output"
    if not t.is_leaf:
        return "intermediate"
    if t.requires_grad:
        return "parameter"
    return "constant" if t.name is None and t.size == 1 else "input"


# ----- formatting ---------------------------------------------------------------

def _fmt(x) -> str:
    return f"{float(x) + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0


def _summary(a: np.ndarray) -> str:
    """A number for a single element, else min / mean / max."""
    if a.size == 0:
        return "(empty)"
    if a.size == 1:
        return _fmt(a.reshape(()))
    return f"min {_fmt(a.min())}  mean {_fmt(a.mean())}  max {_fmt(a.max())}"


def _lines(lines: list) -> graphviz.nohtml:
    """Left-justified lines of a node label, user text escaped for DOT."""
    return graphviz.nohtml("".join(graphviz.escape(line) + "\\l" for line in lines))


def _record(fields: list) -> graphviz.nohtml:
    """A record label ``{ a | data 2 | grad 6 }``, the classic micrograd look."""
    def esc(s):
        s = graphviz.escape(s)
        for ch in "{}|<>":
            s = s.replace(ch, "\\" + ch)
        return s
    return graphviz.nohtml("{ " + " | ".join(esc(f) for f in fields) + " }")


def _op_label(op: str) -> str:
    return _SYMBOLS.get(op, op)


def _post_order(roots, inputs_of) -> list:
    """Every node reachable from `roots`, each after all of its inputs (depth-first, no recursion)."""
    order, seen = [], set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for inp in reversed(inputs_of(node)):
                if inp not in seen:
                    stack.append((inp, False))
    return order


def _all_tensors(root: Tensor) -> list:
    """Every tensor `root` depends on (constants too), inputs before outputs (tensors hash by identity)."""
    return _post_order([root], lambda t: t.inputs)


def _flows(t: Tensor, show_grad: bool):
    """The gradient t's op sends back to each of its inputs, or None before backward().

    Recomputed by calling the op's backward closure with t.grad; nothing is stored.
    """
    if not show_grad or t.grad is None or t._backward is None:
        return (None,) * len(t.inputs)
    return tuple(t._backward(t.grad))


# ----- the two views: nodes, their inputs, and the gradient on each edge -----------

class _TensorView:
    """One node per tensor, one per op. Keys: ("t", i) tensor i, ("o", i) the op that made it."""

    def __init__(self, root: Tensor, show_data: bool, show_grad: bool, group_modules: bool):
        self.root, self.show_data, self.show_grad = root, show_data, show_grad
        self.tensors = _all_tensors(root)
        self.index = {id(t): i for i, t in enumerate(self.tensors)}
        self.roots = [("t", self.index[id(root)])]
        self.total = len(self.tensors) + sum(1 for t in self.tensors if not t.is_leaf)
        self.clusters = self._clusters() if group_modules else {}

    def _clusters(self) -> dict:
        """Cluster label per node key: its scope; a parameter joins its consumers' scope when they share one."""
        consumers: dict = {}
        for t in self.tensors:
            for inp in t.inputs:
                consumers.setdefault(id(inp), set()).add(t.scope)
        out = {}
        for i, t in enumerate(self.tensors):
            scope = t.scope
            if scope is None and t.is_leaf and t.requires_grad and len(consumers.get(id(t), ())) == 1:
                scope = next(iter(consumers[id(t)]))
            if scope is not None:
                out[("t", i)] = scope
            if not t.is_leaf and t.scope is not None:
                out[("o", i)] = t.scope  # an op and its output are made together
        return out

    def preds(self, key) -> list:
        kind, i = key
        t = self.tensors[i]
        if kind == "t":
            return [] if t.is_leaf else [(("o", i), t.grad if self.show_grad else None)]
        flows = _flows(t, self.show_grad)
        return [(("t", self.index[id(inp)]), flow) for inp, flow in zip(t.inputs, flows)]

    def node(self, key):
        kind, i = key
        t = self.tensors[i]
        cluster = self.clusters.get(key)
        if kind == "o":
            return "op", graphviz.nohtml(graphviz.escape(_op_label(t.op))), cluster
        tkind = tensor_kind(t, self.root)
        lines = []
        name = t.name or {"output": "output", "constant": "constant"}.get(tkind)
        if name:
            lines.append(name)
        lines.append(f"shape {tuple(t.shape)}")
        if self.show_data:
            lines.append(f"data {_summary(t.data)}")
        if self.show_grad and t.grad is not None:
            lines.append(f"grad {_summary(t.grad)}")
        return tkind, _lines(lines), cluster

    @staticmethod
    def edge(flow):
        if flow is None:
            return None, {}
        norm = float(np.linalg.norm(np.asarray(flow, dtype=np.float64)))
        return f"‖g‖ {_fmt(norm)}", _edge_style(norm)

    edge_note = "edge label ‖g‖: norm of the gradient flowing back along the edge"


class _ScalarView:
    """One node per scalar element.

    Keys: ("v", t, i) element i (flat index) of tensor t; ("o", t, i) the op that made it;
    for a 1-D/2-D matmul, ("p", t, i, k) the product a[m, k]·b[k, n] and ("q", t, i, k) its
    "*" node, so that ("o", t, i) is the "+" that sums them: the neuron of the classic diagrams.
    A `linear` op (x @ W + b) is drawn the same way, with the bias b[n] as one more term of the "+".
    """

    def __init__(self, root: Tensor, show_data: bool, show_grad: bool):
        self.root, self.show_data, self.show_grad = root, show_data, show_grad
        self.tensors = _all_tensors(root)
        self.index = {id(t): i for i, t in enumerate(self.tensors)}
        r = self.index[id(root)]
        self.roots = [("v", r, i) for i in range(root.size)]
        self.total = 0
        for t in self.tensors:
            self.total += t.size if t.is_leaf else 2 * t.size
            if self._expands_matmul(t):
                self.total += 2 * t.size * t.inputs[0].shape[-1]

    @staticmethod
    def _expands_matmul(t: Tensor) -> bool:
        return t.op in ("matmul", "linear") and t.inputs[0].ndim <= 2 and t.inputs[1].ndim <= 2

    def _grad(self, t: Tensor, i: int):
        return None if not self.show_grad or t.grad is None else float(t.grad.flat[i])

    def _matmul_operands(self, t: Tensor, i: int, k: int):
        """Flat indices of a[m, k] and b[k, n] for output element i = (m, n)."""
        a, b = t.inputs[:2]
        K = a.shape[-1]
        N = b.shape[-1] if b.ndim == 2 else 1
        m, n = divmod(i, N)
        return m * K + k, k * N + n

    def preds(self, key) -> list:
        kind, ti, i = key[0], key[1], key[2]
        t = self.tensors[ti]
        g = self._grad(t, i)
        if kind == "v":
            return [] if t.is_leaf else [(("o", ti, i), g)]
        if kind == "p":
            return [(("q", ti, i, key[3]), g)]
        if kind == "q":  # product a[m, k] * b[k, n]; ∂/∂a = b, ∂/∂b = a
            a, b = t.inputs[:2]
            ja, jb = self._matmul_operands(t, i, key[3])
            return [(("v", self.index[id(a)], ja), None if g is None or not a.requires_grad else g * b.data.flat[jb]),
                    (("v", self.index[id(b)], jb), None if g is None or not b.requires_grad else g * a.data.flat[ja])]
        if self._expands_matmul(t):  # the "+" over the products (and a linear op's bias b[n])
            terms = [(("p", ti, i, k), g) for k in range(t.inputs[0].shape[-1])]
            if len(t.inputs) == 3:
                bias = t.inputs[2]
                terms.append((("v", self.index[id(bias)], i % bias.size), g if bias.requires_grad else None))
            return terms
        # One row of the op's Jacobian: its backward applied to a one-hot output gradient.
        one_hot = np.zeros(t.shape, dtype=t.dtype)
        one_hot.flat[i] = 1
        rows = t._backward(one_hot)
        out = []
        for inp, row in zip(t.inputs, rows):
            row = None if row is None else np.asarray(row)
            if t.op in _UNARY_ELEMENTWISE:
                deps = [i]
            elif t.op in _BINARY_ELEMENTWISE:
                deps = [int(np.broadcast_to(np.arange(inp.size).reshape(inp.shape), t.shape).flat[i])]
            else:  # any other op: the elements with a non-zero local derivative
                deps = [] if row is None else [int(j) for j in np.flatnonzero(row)]
            j_in = self.index[id(inp)]
            for j in deps:
                out.append((("v", j_in, j), None if g is None or row is None else g * float(row.flat[j])))
        return out

    def _element_name(self, t: Tensor, i: int) -> Optional[str]:
        kind = tensor_kind(t, self.root)
        name = t.name or {"output": "output", "constant": "constant"}.get(kind)
        if name and t.size > 1:
            name += "[" + ",".join(str(int(x)) for x in np.unravel_index(i, t.shape)) + "]"
        return name

    def node(self, key):
        kind, ti, i = key[0], key[1], key[2]
        t = self.tensors[ti]
        if kind == "o":
            return "op", graphviz.nohtml(graphviz.escape("+" if self._expands_matmul(t) else _op_label(t.op))), None
        if kind == "q":
            return "op", graphviz.nohtml("*"), None
        if kind == "p":
            ja, jb = self._matmul_operands(t, i, key[3])
            value, tkind, fields = t.inputs[0].data.flat[ja] * t.inputs[1].data.flat[jb], "intermediate", []
        else:
            value, tkind = t.data.flat[i], tensor_kind(t, self.root)
            name = self._element_name(t, i)
            fields = [name] if name else []
        if self.show_data:
            fields.append(f"data {_fmt(value)}")
        g = self._grad(t, i)
        if g is not None:
            fields.append(f"grad {_fmt(g)}")
        return tkind, _record(fields or [" "]), None

    @staticmethod
    def edge(flow):
        if flow is None:
            return None, {}
        return f"g {_fmt(flow)}", _edge_style(abs(float(flow)))

    edge_note = "edge label g: the gradient flowing back along the edge"


def _edge_style(norm: float) -> dict:
    if not np.isfinite(norm):
        return {"color": "red", "fontcolor": "red", "penwidth": "2"}
    if norm == 0:
        return {"color": "gray", "fontcolor": "gray", "style": "dashed"}
    return {}


# ----- turning a view into a Digraph -----------------------------------------------

def _check(root, rankdir, max_nodes, fn):
    if not isinstance(root, Tensor):
        raise TypeError(f"{fn}: expected a Tensor to draw, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{fn}: rankdir={rankdir!r} is not one of {', '.join(_RANKDIRS)}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"{fn}: max_nodes={max_nodes!r} must be an integer >= 1")


class _Drawing(NamedTuple):
    graph: graphviz.Digraph
    drawn: int        # tensor and op nodes in the picture (not the marker or the legend)
    hidden: int       # nodes of the graph left out by max_nodes


def _draw(view, rankdir: str, max_nodes: int, legend: bool, scalar: bool) -> _Drawing:
    # 1. Keep the max_nodes nodes nearest the output (breadth-first), so a cut graph still
    #    shows the loss and the last layers, where one starts reading.
    preds, kept, seen = {}, [], set(view.roots)
    queue = deque(view.roots)
    while queue and len(kept) < max_nodes:
        key = queue.popleft()
        kept.append(key)
        preds[key] = view.preds(key)
        for p, _ in preds[key]:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    kept_set = set(kept)
    # view.total counts every element of every tensor; in the scalar view a few may not reach
    # the output at all (the rows a slice drops), so an empty queue means nothing was cut.
    hidden = view.total - len(kept) if queue else 0

    # 2. Number the kept nodes inputs-first (depth-first post-order), without recursion.
    order = _post_order([r for r in view.roots if r in kept_set],   # a root may be cut (too many elements)
                        lambda key: [p for p, _ in preds[key] if p in kept_set])
    ids = {key: f"n{i}" for i, key in enumerate(order)}

    graph_attr = {"rankdir": rankdir, **(_QUICK_LAYOUT if len(order) > QUICK_LAYOUT_ABOVE else {})}
    g = graphviz.Digraph("compute_graph", graph_attr=graph_attr,
                         node_attr={"fontname": "Helvetica", "fontsize": "10"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    # 3. Nodes, each cluster (module) in its own subgraph, in order of first appearance.
    clusters, kinds_seen = {}, []
    for key in order:
        kind, label, cluster = view.node(key)
        if kind not in kinds_seen:
            kinds_seen.append(kind)
        attrs = dict(_KINDS[kind][1])
        if scalar and kind != "op":
            attrs["shape"] = "record"
        if cluster is None:
            g.node(ids[key], label, **attrs)
        else:
            clusters.setdefault(cluster, []).append((ids[key], label, attrs))
    for c, (label, nodes) in enumerate(clusters.items()):
        with g.subgraph(name=f"cluster_{c}") as sub:
            sub.attr(label=graphviz.nohtml(graphviz.escape(label)), style="rounded", color="gray40",
                     fontname="Helvetica", fontsize="10")
            for node_id, node_label, attrs in nodes:
                sub.node(node_id, node_label, **attrs)
    if hidden > 0:
        g.node("hidden", f"… {hidden} nodes not shown (max_nodes={max_nodes})", shape="note",
               style="dashed,filled", fillcolor="#fff9c4")

    # 4. Edges in the direction of data flow, labelled with the gradient coming back.
    labelled = False
    for key in order:
        cut = False
        for p, flow in preds[key]:
            if p not in kept_set:
                cut = True
                continue
            label, attrs = view.edge(flow)
            if label is not None:
                labelled = True
                attrs = dict(attrs, label=label)
            g.edge(ids[p], ids[key], **attrs)
        if cut:
            g.edge("hidden", ids[key], style="dashed", color="gray40")

    if legend:
        _legend(g, [k for k in _KINDS if k in kinds_seen], view.edge_note if labelled else None)
    return _Drawing(g, len(order), max(hidden, 0))


def _legend(g: graphviz.Digraph, kinds: list, edge_note: Optional[str]) -> None:
    """One small table node: a colour swatch and a line of text per kind of node drawn."""
    rows = "".join(f'<TR><TD BGCOLOR="{_KINDS[k][1]["fillcolor"]}" WIDTH="14"></TD>'
                   f'<TD ALIGN="LEFT" BORDER="0">{_KINDS[k][0]}</TD></TR>' for k in kinds)
    if edge_note:
        rows += f'<TR><TD COLSPAN="2" ALIGN="LEFT" BORDER="0">{edge_note}</TD></TR>'
    g.node("legend", f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2">{rows}</TABLE>>',
           shape="plaintext", fontsize="8")


def draw_graph(root: Tensor, *, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
               group_modules: bool = True, max_nodes: int = DEFAULT_MAX_NODES, legend: bool = True) -> graphviz.Digraph:
    """Draw the graph that computed `root`: one node per tensor, one per op.

    A tensor node shows its name, shape and value (the number for a single element, else
    min / mean / max); after ``backward()`` its gradient too, and every edge carries ‖g‖,
    the norm of the gradient flowing back along it. ``group_modules`` boxes each module's
    ops and parameters in a cluster labelled with its ``name_scope``. At most `max_nodes`
    tensor and op nodes are drawn (those nearest the output); a marker says how many are
    left out. Returns a ``graphviz.Digraph``: it displays inline in Jupyter, ``.source``
    is the DOT text; ``render_graph`` writes it to a file.
    """
    _check(root, rankdir, max_nodes, "draw_graph")
    return _draw(_TensorView(root, show_data, show_grad, group_modules), rankdir, int(max_nodes), legend, False).graph


def draw_scalar_graph(root: Tensor, *, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
                      max_nodes: int = DEFAULT_MAX_NODES, legend: bool = True) -> graphviz.Digraph:
    """Draw every scalar element as its own node, as in the classic hand-drawn backprop diagrams.

    Meant for tiny expressions such as ``L = (a*b + c) * f``. Elementwise ops connect
    element i to element i (broadcasting included), a 1-D/2-D matrix product is drawn as
    its products a[m,k]·b[k,n] and their sum, and any other op connects each output element
    to the input elements with a non-zero local derivative (for ``max``: only the maxima,
    the only elements the gradient reaches). Each edge carries the signed gradient flowing
    back along it: a value used twice receives the sum of its two edges.
    """
    _check(root, rankdir, max_nodes, "draw_scalar_graph")
    return _draw(_ScalarView(root, show_data, show_grad), rankdir, int(max_nodes), legend, True).graph


def _drawing(root: Tensor, scalar: bool, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
             group_modules: bool = True, max_nodes: int = DEFAULT_MAX_NODES, legend: bool = True) -> _Drawing:
    """What draw_graph / draw_scalar_graph draw, with the counts render_graph reports."""
    fn = "draw_scalar_graph" if scalar else "draw_graph"
    _check(root, rankdir, max_nodes, fn)
    view = (_ScalarView(root, show_data, show_grad) if scalar
            else _TensorView(root, show_data, show_grad, group_modules))
    return _draw(view, rankdir, int(max_nodes), legend, scalar)


# ----- writing a picture to a file ---------------------------------------------------

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class Rendered(NamedTuple):
    """What render_graph wrote: the file, a hint when Graphviz was missing (DOT written instead),
    and a note when max_nodes left part of the graph out (how many, and how to draw more).

    A notebook shows it as the drawing itself (SVG or PNG, read from the file); for a DOT
    file, as its text repr (the path, and the hint when Graphviz was missing).
    """
    path: Path
    hint: Optional[str] = None
    note: Optional[str] = None

    def _repr_svg_(self) -> Optional[str]:
        return self.path.read_text(encoding="utf-8") if self.path.suffix.lower() == ".svg" else None

    def _repr_png_(self) -> Optional[bytes]:
        return self.path.read_bytes() if self.path.suffix.lower() == ".png" else None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """The drawing, for a notebook (IPython adds the text repr, which holds the hint)."""
        images = {"image/svg+xml": self._repr_svg_(), "image/png": self._repr_png_()}
        return {mime: data for mime, data in images.items() if data is not None}


def _install_hint(dot_path: Path, wanted: Path, fmt: str) -> str:
    return (f"Graphviz's `dot` program was not found, so the DOT source was written to {dot_path} instead of "
            f"{wanted}; install Graphviz (apt-get install graphviz / brew install graphviz / conda install "
            f"graphviz), then run: dot -T{fmt} {dot_path} -o {wanted}")


def _run_dot(dot: str, source: str, fmt: str, timeout: float, drawn: int) -> bytes:
    """dot's output for `source`; a dot that fails, is killed or runs past `timeout` is a one-line GraphError."""
    try:
        # subprocess.run kills dot when the timeout passes (or on Ctrl-C) and waits for it to end.
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GraphError(f"Graphviz's dot did not finish laying out {drawn} nodes within {timeout:g} s, so it was "
                         f"stopped; draw fewer nodes (max_nodes=, --max-nodes) or a smaller graph, or allow more "
                         f"time (timeout=)") from None
    except OSError as exc:
        raise GraphError(f"cannot run Graphviz's dot ({dot}): {exc.strerror or exc}; check the Graphviz "
                         f"installation, or write the DOT source (.dot) instead") from None
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise GraphError(f"Graphviz's dot was killed by {name} while laying out {drawn} nodes (out of memory?); "
                         f"draw fewer nodes (max_nodes=, --max-nodes), or write the DOT source (.dot) instead")
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        said = f": {lines[0]}" if lines else ""
        raise GraphError(f"Graphviz's dot failed (exit status {done.returncode}){said}; write the DOT source "
                         f"(.dot) to see what it was given, or check the Graphviz installation")
    return done.stdout


def _write(path: Path, write, data) -> Path:
    try:
        return write(path, data)
    except OSError as exc:
        raise GraphError(describe_os_error(exc, path, "write")) from None


def render_graph(root: Tensor, path, *, scalar: bool = False, quiet: bool = False, timeout: float = DOT_TIMEOUT,
                 **options) -> Rendered:
    """Draw `root`'s graph and write it to `path`; the format comes from the extension.

    .svg, .png and .pdf are made by Graphviz's ``dot``; .dot (or .gv) is the DOT source.
    ``scalar=True`` uses ``draw_scalar_graph``, otherwise ``draw_graph``; other keyword
    arguments go to that function. When ``dot`` is not installed, the DOT source is written
    next to `path` (same name, .dot) and a one-line hint says how to install Graphviz
    (printed to stderr unless ``quiet``, and returned in ``Rendered.hint``). When max_nodes
    leaves part of the graph out, ``Rendered.note`` says how much and how to draw more.

    Bounded: a drawing of more than MAX_LAYOUT_NODES (5000) nodes is refused before dot
    starts, and dot is stopped after `timeout` seconds (DOT_TIMEOUT, 60 by default). That,
    a dot that fails, and a file that cannot be written (a read-only folder, a folder in
    the way, a name too long, a full disk) are each a one-line GraphError (a ValueError).
    Files are written atomically.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"render_graph: cannot tell the format of {path.name!r} from its extension; "
                         f"end the file name in .svg, .png, .pdf or .dot")
    try:
        parent_exists, is_folder = path.parent.is_dir(), path.is_dir()
    except OSError as exc:          # e.g. a name longer than the file system allows
        raise GraphError(describe_os_error(exc, path, "write")) from None
    if not parent_exists:
        raise FileNotFoundError(f"render_graph: directory {path.parent} does not exist; create it first")
    if is_folder:
        raise GraphError(describe_os_error(IsADirectoryError(errno.EISDIR, "Is a directory"), path, "write"))
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"render_graph: timeout={timeout!r} must be a number of seconds > 0, e.g. 60")
    graph, drawn, hidden = _drawing(root, scalar, **options)
    note = None
    if hidden:
        limit = options.get("max_nodes", DEFAULT_MAX_NODES)
        note = (f"drew {drawn} of the graph's {drawn + hidden} nodes (the {drawn} nearest the output; "
                f"max_nodes={limit}); raise max_nodes (--max-nodes) to draw more, or draw a smaller graph")
    if fmt == "dot":
        return Rendered(_write(path, atomic_write_text, graph.source), note=note)
    if drawn > MAX_LAYOUT_NODES:
        raise GraphError(f"the drawing has {drawn} nodes, more than the {MAX_LAYOUT_NODES} that dot lays out in "
                         f"reasonable time; draw at most {MAX_LAYOUT_NODES} (max_nodes=, --max-nodes), or write the "
                         f"DOT source (.dot) instead")
    dot = shutil.which("dot")
    if dot is not None:
        return Rendered(_write(path, atomic_write_bytes, _run_dot(dot, graph.source, fmt, timeout, drawn)), note=note)
    dot_path = path.with_suffix(".dot")
    _write(dot_path, atomic_write_text, graph.source)
    hint = _install_hint(dot_path, path, fmt)
    if not quiet:
        print(hint, file=sys.stderr)
    return Rendered(dot_path, hint, note)


# ----- the demo of `edu graph` ---------------------------------------------------------

def mlp_loss_graph(sizes=(2, 4, 1), batch: int = 4, seed: int = 0, backward: bool = False,
                   activation: str = "relu") -> Tensor:
    """The loss of a small MLP on `batch` random points, ready to draw (after backward() when asked).

    Inputs x ~ N(0, 1) of shape (batch, sizes[0]). One output: mean squared error against
    targets ±1; several outputs: cross-entropy against random class labels. The weights and
    the data come from one generator made from `seed`, so the same seed draws the same graph.
    """
    from .. import nn  # a model is only needed for this demo; the drawings need just the core

    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"mlp_loss_graph: batch={batch!r} must be a whole number >= 1")
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes, activation=activation, seed=rng)
    x = Tensor(rng.standard_normal((batch, model.sizes[0])), name="x")
    out = model(x)
    if model.sizes[-1] == 1:
        y = Tensor(rng.choice([-1.0, 1.0], size=(batch, 1)), name="y")
        loss = nn.mse(out, y)
    else:
        loss = nn.cross_entropy(out, rng.integers(0, model.sizes[-1], size=batch))
    loss.name = "loss"
    if backward:
        loss.backward()
    return loss
