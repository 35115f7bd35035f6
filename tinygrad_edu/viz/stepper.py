"""A backward pass you can step through: one offline HTML page, frame by frame.

``Tensor.backward()`` visits the ops newest first. Every user of a tensor was made after
it, so when the walk reaches a tensor, all of its users have already sent back their share
of its gradient: the gradient is complete, and the op's backward closure runs once with it.
A node used twice (``b = a + a``) receives two shares and adds them: ``grad(a) = 2 + 2 = 4``.

This module replays that walk for a given loss, calling the same closures in the same
order, and records a *frame* after each node: the node being processed, the gradient known
so far on every node and edge, every share a node has received (the ``+=``), and how many
uses of each node have not reported back yet. The last frame holds exactly the arrays that
``loss.backward()`` stores in ``.grad``.

It also replays the *naive recursive* algorithm many first attempts use:

    def naive(node, share):
        node.total += share                                  # add the share that just arrived
        for inp, g in zip(node.inputs, node.backward(node.total)):
            naive(inp, g)                                    # ... and recurse at once

A node runs its backward as soon as any share arrives, before all its users have reported.
A node with shares g₁ … g_k therefore runs its backward k times, with the partial sums
S_j = g₁ + … + g_j, and passes on S₁ + S₂ + … + S_k instead of S_k: every early share is
sent again. On ``b = a + a; c = b + b``, b gets shares 1 and 1 and sends 1, then 2, along
each of its two edges to a, so a ends with 1 + 1 + 2 + 2 = 6, not ∂c/∂a = 4. When no op
result is used twice, every op result gets one share and the naive order is right.

Usage::

    from tinygrad_edu import Tensor
    from tinygrad_edu.viz import step_backward
    from tinygrad_edu.viz.stepper import backward_frames

    a = Tensor(1.0, requires_grad=True, name="a")
    b = a + a; b.name = "b"
    c = b + b; c.name = "c"
    step_backward(c, "backprop.html")          # open it in a browser: ←/→, Home/End, the slider
    replay = backward_frames(c, mode="naive")  # the frames as Python objects
    replay.final[replay.index(a)]              # array(6.): the naive answer (the right one is 4)

The page works offline (inline CSS, JavaScript and SVG, no network). ``#frame=3`` in the
URL opens frame 3, ``#mode=naive&frame=3`` the naive replay. The layout comes from
Graphviz's ``dot`` when it is installed, else from a simple layered layout. Graphs of more
than ``MAX_NODES`` tensors are refused; the naive replay gives up after
``MAX_NAIVE_CALLS`` calls (its work doubles with every re-used node on a path).
"""
from __future__ import annotations

import html
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, NamedTuple, Optional

import graphviz
import numpy as np

from ..io import atomic_write_text
from ..tensor import Tensor
from .graph import _KINDS, tensor_kind

__all__ = ["step_backward", "backward_page", "backward_frames", "Replay", "Frame", "Edge",
           "reuse_example", "six_node_example", "MAX_NODES", "MAX_NAIVE_CALLS", "MODES"]

MAX_NODES = 200          # tensors in one page: more is unreadable and the page grows large
MAX_NAIVE_CALLS = 1000   # the naive replay's calls (one frame each) before it gives up
MODES = ("reverse", "naive")
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}
_TEXT_WIDTH = 48         # characters per line of text in a node


class Edge(NamedTuple):
    """nodes[src] is input number `slot` of nodes[dst]: data flows src → dst, gradients dst → src."""
    src: int
    dst: int
    slot: int


@dataclass(frozen=True)
class Frame:
    """The state of a replay after one step.

    ``node``: the node whose step this is (None for the seed and the final frame);
    ``via``: naive mode, the edge the share arrived along; ``grads``: the gradient known so
    far per node index; ``shares``: every share a node has received, in order (their sum is
    ``grads``); ``sent``: every gradient sent along each edge; ``waiting``: per node, the uses
    that have not reported back yet; ``new_edges``: the edges that carried a gradient in this
    step; ``title`` and ``notes``: what happens, in words.
    """
    node: Optional[int]
    via: Optional[int]
    grads: Mapping[int, np.ndarray]
    shares: Mapping[int, tuple]
    sent: Mapping[int, tuple]
    waiting: tuple
    new_edges: tuple
    title: str
    notes: tuple


@dataclass(frozen=True)
class Replay:
    """A replayed backward pass: the graph (``nodes`` oldest first, ``edges``) and its ``frames``.

    ``uses[i]``: how many edges leave node i towards an op (a user that takes the node twice,
    as in ``a + a``, counts twice); 0 for a tensor that needs no gradient. ``reference``: the
    right gradients (the reverse replay's last frame); ``wrong``: the nodes whose final
    gradient differs from it (always empty in reverse mode).
    """
    mode: str
    nodes: tuple
    edges: tuple
    uses: tuple
    frames: tuple
    reference: Mapping[int, np.ndarray]
    wrong: tuple

    def index(self, t: Tensor) -> int:
        """The position of tensor `t` in ``nodes``."""
        for i, node in enumerate(self.nodes):
            if node is t:
                return i
        raise ValueError(f"{t!r} is not in this graph; pass a tensor the loss was computed from")

    @property
    def final(self) -> Mapping[int, np.ndarray]:
        """The gradient of every node at the end of the replay."""
        return self.frames[-1].grads


# ----- the graph ---------------------------------------------------------------------

class _Graph:
    """Every tensor the loss was computed from (constants too), oldest first, and the edges between them."""

    def __init__(self, loss: Tensor, gradient, fn: str):
        if not isinstance(loss, Tensor):
            raise TypeError(f"{fn}: expected the Tensor to differentiate, got {type(loss).__name__}")
        if not loss.requires_grad:
            raise ValueError(f"{fn}: this tensor does not require grad, so it has no backward pass; create its "
                             f"leaves with Tensor(..., requires_grad=True) and compute it outside no_grad()")
        found, stack = {loss}, [loss]
        while stack:
            for inp in stack.pop().inputs:
                if inp not in found:
                    found.add(inp)
                    stack.append(inp)
                    if len(found) > MAX_NODES:
                        raise ValueError(f"{fn}: the graph has more than {MAX_NODES} tensors, the most one page "
                                         f"shows; step through a smaller graph (fewer or narrower layers, a batch "
                                         f"of 2, or one expression) or draw it whole with render_graph")
        self.loss = loss
        self.nodes = tuple(sorted(found, key=lambda t: t._stamp))
        self.index = {id(t): i for i, t in enumerate(self.nodes)}
        self.edges = tuple(Edge(self.index[id(inp)], dst, slot) for dst, t in enumerate(self.nodes)
                           for slot, inp in enumerate(t.inputs))
        self.edge_of = {(e.dst, e.slot): j for j, e in enumerate(self.edges)}
        uses = [0] * len(self.nodes)
        for e in self.edges:
            if self.nodes[e.src].requires_grad:
                uses[e.src] += 1
        self.uses = tuple(uses)
        self.root = self.index[id(loss)]
        self.names = tuple(_name(t, i, loss) for i, t in enumerate(self.nodes))
        self.seed = _seed(loss, gradient, fn)


def _name(t: Tensor, i: int, loss: Tensor) -> str:
    if t.name:
        return t.name
    kind = tensor_kind(t, loss)
    if kind == "constant":
        return _short(t.data)
    return "output" if kind == "output" else f"t{i}"


def _seed(loss: Tensor, gradient, fn: str) -> np.ndarray:
    """∂loss/∂loss, as Tensor.backward makes it."""
    if gradient is None:
        if loss.data.size != 1:
            raise ValueError(f"{fn}: the output has shape {loss.shape}, not a single number; reduce it first "
                             f"(e.g. .sum() or .mean()) or pass gradient= an array of shape {loss.shape}")
        return np.array(1.0, dtype=loss.data.dtype).reshape(loss.data.shape)
    seed = np.array(gradient, dtype=loss.data.dtype)
    if seed.shape != loss.shape:
        raise ValueError(f"{fn}: gradient of shape {seed.shape} does not match the output's shape {loss.shape}; "
                         f"pass an array of shape {loss.shape}")
    return seed


def _expression(graph: _Graph, i: int) -> str:
    """`b = a + a`, `t4 = relu(t3)`, or just the name of a leaf."""
    t, name = graph.nodes[i], graph.names[i]
    if t.is_leaf:
        return name
    args = [graph.names[graph.index[id(inp)]] for inp in t.inputs]
    if t.op in _SYMBOLS and len(args) == 2:
        rhs = f"{args[0]} {_SYMBOLS[t.op]} {args[1]}"
    elif t.op == "neg" and len(args) == 1:
        rhs = f"-{args[0]}"
    else:
        rhs = f"{t.op}({', '.join(args)})"
    text = f"{name} = {rhs}"
    return text if len(text) <= _TEXT_WIDTH else text[:_TEXT_WIDTH - 1] + "…"


# ----- numbers as text -------------------------------------------------------------------

def _num(x) -> str:
    return f"{float(x) + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0


def _short(a) -> str:
    """One short line: the number, a small array, or its first and last elements and its shape."""
    a = np.asarray(a)
    if a.ndim == 0:
        return _num(a)
    if a.size == 0:
        return f"[] {_shape(a)}"
    if a.size <= 4:
        text = np.array2string(a, separator=", ", formatter={"all": _num})
        return " ".join(text.split())
    flat = a.reshape(-1)
    return f"[{_num(flat[0])}, …, {_num(flat[-1])}] {_shape(a)}"


def _shape(a: np.ndarray) -> str:
    return "(" + "×".join(str(n) for n in a.shape) + ")"


def _array_lines(a, max_lines: int = 6) -> list:
    """An array in at most `max_lines` lines of about _TEXT_WIDTH characters, abbreviated with … when big."""
    a = np.asarray(a)
    if a.ndim == 0 or a.size == 0:
        return [_short(a)]
    text = np.array2string(a, max_line_width=_TEXT_WIDTH, threshold=12, edgeitems=2, separator=", ",
                           formatter={"all": _num}).replace("...", "…")
    lines = [line for line in text.split("\n") if line.strip()]
    lines = [line if len(line) <= _TEXT_WIDTH + 2 else line[:_TEXT_WIDTH + 1] + "…" for line in lines]
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + ["…"]
    if a.size > 12 or len(lines) > 1:
        lines.append(f"shape {_shape(a)}")
    return lines


def _sum_text(shares: tuple, total) -> str:
    """``1 + 1 = 2``: the shares a node received and their sum (just the sum for one share)."""
    if len(shares) <= 1:
        return _short(total)
    terms = [_short(s) for s in shares]
    if len(terms) > 6:
        terms = terms[:5] + [f"… ({len(shares)} shares)"]
    return " + ".join(terms) + " = " + _short(total)


def _uses_text(waiting: int, uses: int) -> str:
    if waiting:
        return f"waiting for {waiting} of {uses} use{'s' if uses > 1 else ''}"
    return f"all {uses} uses reported" if uses > 1 else "its one use reported"


# ----- the two replays -------------------------------------------------------------------

class _State:
    """What a replay knows so far; ``snapshot`` freezes it into a Frame."""

    def __init__(self, graph: _Graph):
        self.graph = graph
        self.grads: dict = {}
        self.shares: dict = {}
        self.sent: dict = {}
        self.waiting = list(graph.uses)
        self.frames: list = []

    def receive(self, i: int, share: np.ndarray) -> None:
        """Node i receives one share of its gradient: the `+=`, done as Tensor.backward does it."""
        t = self.graph.nodes[i]
        self.shares[i] = self.shares.get(i, ()) + (share,)
        prev = self.grads.get(i)
        if t.inputs:        # an op result: its shares are summed (pending[inp] = prev + g_inp)
            self.grads[i] = share if prev is None else prev + share
        elif prev is None:  # a leaf owns its gradient (_add_to_leaf), then adds in place
            self.grads[i] = np.array(share, dtype=t.data.dtype)
        else:
            total = prev.copy()
            total += share
            self.grads[i] = total

    def send(self, j: int, share: np.ndarray) -> None:
        self.sent[j] = self.sent.get(j, ()) + (share,)

    def snapshot(self, node, title: str, notes: list, new_edges=(), via=None) -> None:
        self.frames.append(Frame(node, via, dict(self.grads), dict(self.shares), dict(self.sent),
                                 tuple(self.waiting), tuple(new_edges), title, tuple(notes)))

    def grad_text(self, i: int) -> str:
        return f"grad({self.graph.names[i]}) = {_sum_text(self.shares[i], self.grads[i])}"


def _seed_frame(state: _State) -> None:
    graph = state.graph
    r = graph.root
    state.receive(r, graph.seed)
    name = graph.names[r]
    state.snapshot(None, f"Start: the seed ∂{name}/∂{name}",
                   [f"grad({name}) = {_short(graph.seed)}: the output's gradient with respect to itself. "
                    f"No other gradient is known yet."])


def _reverse_frames(graph: _Graph) -> list:
    """Tensor.backward's walk, step by step (same order, same closures, same sums)."""
    state = _State(graph)
    _seed_frame(state)
    loss, names = graph.loss, graph.names
    pending = {graph.root: graph.seed}
    order = reversed(loss.topological_order(leaves=False)) if loss.inputs else ()
    for t in order:
        i = graph.index[id(t)]
        g = pending.pop(i, None)
        name = names[i]
        if g is None:  # every path from here to the output was cut (a closure returned None)
            notes = [f"No gradient reached {name}: every path from it to the output was cut, so it sends nothing."]
            for inp in t.inputs:
                if inp.requires_grad:
                    state.waiting[graph.index[id(inp)]] -= 1
            state.snapshot(i, f"{name} is skipped", notes)
            continue
        if type(g) is not np.ndarray or g.dtype is not t.data.dtype:
            g = np.asarray(g, dtype=t.data.dtype)
        state.grads[i] = g
        if i == graph.root:
            notes = [f"{name} is the output: its gradient is the seed, {_short(g)}."]
        else:
            notes = [f"Every user of {name} was made after it, so all of its uses have reported: "
                     f"{state.grad_text(i)} is complete."]
        sends, new_edges, touched = [], [], []
        for slot, (inp, g_inp) in enumerate(zip(t.inputs, t._backward(g))):
            if not inp.requires_grad:
                continue
            k, j = graph.index[id(inp)], graph.edge_of[(i, slot)]
            state.waiting[k] -= 1
            if g_inp is None:
                sends.append(f"nothing to {names[k]}")
                continue
            state.send(j, g_inp)
            state.receive(k, g_inp)
            new_edges.append(j)
            sends.append(f"{_short(g_inp)} to {names[k]}")
            if k not in touched:
                touched.append(k)
            if inp.inputs:
                prev = pending.get(k)
                pending[k] = g_inp if prev is None else prev + g_inp
        notes.append(f"{_expression(graph, i)} runs its backward once, with g = {_short(g)}: it sends "
                     + ", ".join(sends) + ".")
        for k in touched:
            where = "a leaf: .grad" if graph.nodes[k].is_leaf else "pending"
            notes.append(f"{state.grad_text(k)} ({where}; {_uses_text(state.waiting[k], graph.uses[k])}).")
        state.snapshot(i, f"{name} runs its backward", notes, new_edges)
    state.snapshot(None, "Done: every gradient is complete",
                   ["Each node ran its backward once, after all of its users had reported. These are the "
                    "arrays loss.backward() stores in .grad."])
    return state.frames


def _naive_frames(graph: _Graph) -> list:
    """The naive recursion: a node runs its backward as soon as a share arrives, with what it knows so far."""
    state = _State(graph)
    _seed_frame(state)
    names, nodes = graph.names, graph.nodes
    runs = [0] * len(nodes)
    reported = set()  # edges that have reported at least once (uses are counted once, however often they send)
    calls = [(graph.root, None, None)]  # (node, share that arrives or None for the seed, edge it came along)
    while calls:
        if len(state.frames) > MAX_NAIVE_CALLS:
            raise ValueError(f"naive replay: more than {MAX_NAIVE_CALLS} calls; the naive order runs a node's "
                             f"backward once per share, so its work multiplies with every re-used node on a path; "
                             f"replay a smaller graph")
        i, share, via = calls.pop()
        t, name = nodes[i], names[i]
        notes, new_edges = [], []
        if share is not None:
            src = graph.edges[via].dst
            if via not in reported:
                reported.add(via)
                state.waiting[i] -= 1
            state.send(via, share)
            state.receive(i, share)
            new_edges.append(via)
            notes.append(f"{names[src]} sends {_short(share)} to {name}: {state.grad_text(i)} "
                         f"({_uses_text(state.waiting[i], graph.uses[i])}).")
        if not t.inputs:
            notes.append(f"{name} is a leaf: the share is added to its .grad and the recursion returns.")
            state.snapshot(i, f"{name} receives {_short(share)}", notes, new_edges, via)
            continue
        total = state.grads[i]
        if type(total) is not np.ndarray or total.dtype is not t.data.dtype:
            total = np.asarray(total, dtype=t.data.dtype)
        if runs[i]:
            notes.append(f"{name} already ran its backward; it runs it again with its new total {_short(total)}, "
                         f"so the shares it passed on before are passed on again.")
        elif state.waiting[i]:
            notes.append(f"{name} runs its backward at once with {_short(total)}, although "
                         f"{state.waiting[i]} of its {graph.uses[i]} uses {'has' if state.waiting[i] == 1 else 'have'} "
                         f"not reported yet: an incomplete gradient, the naive order's mistake.")
        elif i != graph.root:
            notes.append(f"{name} has heard from all of its uses; it runs its backward with their sum.")
        runs[i] += 1
        results = t._backward(total)
        targets = []
        for slot, (inp, g_inp) in enumerate(zip(t.inputs, results)):
            j = graph.edge_of[(i, slot)]
            if inp.requires_grad and g_inp is not None:
                targets.append((graph.index[id(inp)], g_inp, j))
            elif inp.requires_grad and j not in reported:  # this use reports nothing
                reported.add(j)
                state.waiting[graph.index[id(inp)]] -= 1
        notes.append(f"{_expression(graph, i)} runs its backward with g = {_short(total)} and calls backward "
                     f"on its inputs right away: " + ", ".join(f"{_short(g)} to {names[k]}" for k, g, _ in targets)
                     + ".")
        calls.extend(reversed(targets))
        title = f"{name} runs its backward (run {runs[i]})" if runs[i] > 1 else f"{name} runs its backward"
        state.snapshot(i, title, notes, new_edges, via)
    return state.frames


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-12 * max(scale, 1.0))


def _replay(graph: _Graph, mode: str, reference=None) -> Replay:
    if mode == "reverse":
        frames = _reverse_frames(graph)
        return Replay(mode, graph.nodes, graph.edges, graph.uses, tuple(frames), frames[-1].grads, ())
    if reference is None:
        reference = _reverse_frames(graph)[-1].grads
    frames = _naive_frames(graph)
    final = frames[-1].grads
    wrong = tuple(i for i in sorted(reference) if i not in final or _differs(final[i], reference[i]))
    names = graph.names
    runs = {}
    for frame in frames[1:]:
        if graph.nodes[frame.node].inputs:
            runs[frame.node] = runs.get(frame.node, 0) + 1
    repeated = ", ".join(f"{names[i]} {n} times" for i, n in sorted(runs.items()) if n > 1)
    if wrong:
        summary = [f"The naive order got {len(wrong)} of {len(reference)} gradients wrong: "
                   + "; ".join(f"grad({names[i]}) is {_short(final[i]) if i in final else 'missing'}, "
                               f"not {_short(reference[i])}" for i in wrong) + ".",
                   f"Backward ran more than once at: {repeated}. Each early run used an incomplete gradient, "
                   f"and each later run passed the early shares on again."]
    elif repeated:
        summary = [f"The naive order got every gradient right here, although backward ran more than once at: "
                   f"{repeated}; the shares it sent again did not change any answer."]
    else:
        summary = ["The naive order got every gradient right here: every op result received one share, so "
                   "each ran its backward once, with its complete gradient."]
    notes = [f"grad({names[i]}): naive {_short(final[i]) if i in final else 'none'}, right {_short(reference[i])}"
             + (" ✗" if i in wrong else " ✓") for i in sorted(reference)]
    done = Frame(None, None, final, frames[-1].shares, frames[-1].sent, frames[-1].waiting, (),
                 "Done: the naive answer", tuple(summary + notes))
    return Replay(mode, graph.nodes, graph.edges, graph.uses, tuple(frames) + (done,), reference, wrong)


def backward_frames(loss: Tensor, mode: str = "reverse", *, gradient=None) -> Replay:
    """Replay the backward pass of `loss` frame by frame, without changing any ``.grad``.

    ``mode="reverse"``: the engine's order (``Tensor.backward``): the ops newest first, each
    running its backward once with its complete gradient. Its last frame's gradients equal
    what ``loss.backward()`` stores in ``.grad`` (starting from no gradient), bit for bit.
    ``mode="naive"``: the naive recursion described in this module's docstring; ``wrong``
    lists the nodes where it ends with a gradient different from the reverse replay's.
    """
    if mode not in MODES:
        raise ValueError(f"backward_frames: mode={mode!r} is not one of {', '.join(MODES)}")
    return _replay(_Graph(loss, gradient, "backward_frames"), mode)


# ----- the examples -------------------------------------------------------------------

def reuse_example(a: float = 1.0) -> Tensor:
    """``b = a + a; c = b + b``: ∂c/∂a = 4 for every a; the naive recursion says 6."""
    leaf = Tensor(a, requires_grad=True, name="a")
    b = leaf + leaf
    b.name = "b"
    c = b + b
    c.name = "c"
    return c


def six_node_example(x: float = 2.0, y: float = 3.0) -> Tensor:
    """Six nodes, ``a`` used three times at different depths: ``a = x*y; b = a + x; c = a*b; L = c + a``.

    L = a² + a·x + a, so ∂L/∂a = 2a + x + 1 (15 at x=2, y=3), ∂L/∂x = y·∂L/∂a + a (51) and
    ∂L/∂y = x·∂L/∂a (30). The naive recursion runs a's backward three times (with 8, 14 and 15)
    and gets ∂L/∂x = 117 and ∂L/∂y = 74.
    """
    xs = Tensor(x, requires_grad=True, name="x")
    ys = Tensor(y, requires_grad=True, name="y")
    a = xs * ys
    a.name = "a"
    b = a + xs
    b.name = "b"
    c = a * b
    c.name = "c"
    L = c + a
    L.name = "L"
    return L


# ----- what the page shows ----------------------------------------------------------------

def _node_display(graph: _Graph, replay: Replay) -> tuple:
    """Per node, its text after each frame, as (frame, grad lines, uses line, state) where it changes."""
    histories = []
    last = len(replay.frames) - 1
    for i, t in enumerate(graph.nodes):
        history, previous, texts = [], None, {}  # texts: the grad lines after n shares (a grad changes only then)
        for k, frame in enumerate(replay.frames):
            if not t.requires_grad:
                shown = ((), "no gradient needed", "none")
            else:
                grad = frame.grads.get(i)
                n = len(frame.shares.get(i, ()))
                if grad is None:
                    lines = ("grad ?",)
                elif n in texts:
                    lines = texts[n]
                elif grad.size == 1:
                    lines = texts[n] = ("grad " + _sum_text(frame.shares[i], grad),)
                else:
                    lines = texts[n] = ((("grad" if n == 1 else f"grad: sum of {n} shares"),)
                                        + tuple(_array_lines(grad)))
                if i == graph.root:
                    uses = "the output: seed"
                else:
                    uses = _uses_text(frame.waiting[i], graph.uses[i])
                state = "current" if frame.node == i else ("complete" if frame.waiting[i] == 0 and grad is not None
                                                            else "partial" if grad is not None else "none")
                if k == last and i in replay.wrong:
                    state = "wrong"
                shown = (lines, uses, state)
            if shown != previous:
                history.append([k, list(shown[0]), shown[1], shown[2]])
                previous = shown
        histories.append(history)
    return histories


def _edge_display(graph: _Graph, replay: Replay) -> list:
    histories = []
    for j in range(len(graph.edges)):
        history, previous = [], None
        for k, frame in enumerate(replay.frames):
            sent = frame.sent.get(j, ())
            if len(sent) <= 1 or (len(sent) <= 3 and all(np.ndim(g) == 0 for g in sent)):
                text = ", ".join(_short(g) for g in sent)
            else:  # naive mode sends along an edge once per run of the node above it
                text = f"{len(sent)} times, last {_short(sent[-1])}"
            if text != previous:
                history.append([k, text])
                previous = text
        histories.append(history)
    return histories


def _mode_data(graph: _Graph, replay: Replay) -> dict:
    frames = [{"node": f.node, "via": f.via, "title": f.title, "notes": list(f.notes), "new": list(f.new_edges)}
              for f in replay.frames]
    right = {str(i): _short(replay.reference[i]) for i in replay.wrong}
    return {"frames": frames, "nodes": _node_display(graph, replay), "edges": _edge_display(graph, replay),
            "wrong": list(replay.wrong), "right": right}


# ----- layout -----------------------------------------------------------------------------

_CHAR = 6.7      # px per character of the 11px monospace node text
_LINE = 14       # px per line of node text
_EDGE_CHAR = 6.1  # px per character of the 10px monospace edge labels
_LABEL_AT = 0.4   # edge labels sit 40% of the way along: edges into one op spread apart more near their start
_DOT_SECONDS = 5   # give up on dot's layout after this long and use the layered one
_DOT_MAX_DETOUR = 2000  # ... or skip dot when edges cross more ranks than this in all (see _dot_layout)


class _Layout(NamedTuple):
    width: float
    height: float
    boxes: list        # per node (x, y, w, h): the top-left corner and size
    paths: list        # per edge (SVG path d, label x, label y)
    engine: str        # "dot" or "layered"


def _bezier_point(points: list, t: float) -> tuple:
    """The point at parameter t (0 = start, 1 = end) of a cubic Bézier spline (points 0, 1..3, 4..6, ...)."""
    segments = (len(points) - 1) // 3
    k = min(int(t * segments), segments - 1)
    u = t * segments - k
    p0, p1, p2, p3 = points[3 * k:3 * k + 4]
    weights = ((1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u * u * (1 - u), u ** 3)
    return tuple(sum(w * p[axis] for w, p in zip(weights, (p0, p1, p2, p3))) for axis in (0, 1))


def _dot_layout(sizes: list, edges: tuple, labels: list, rankdir: str) -> Optional[_Layout]:
    """Positions from Graphviz's dot: nodes of fixed size, the edge labels put halfway along each edge.

    Edge labels are not given to dot: it lays a label out as a node of its own, which made a
    127-node graph with one hub take minutes. The gap between ranks leaves room for them instead.
    dot also puts a hidden node on every rank an edge passes, and a tensor used all along a deep
    graph (x in h = h*x + h, 99 times) made it run for minutes: such graphs get the layered layout.
    None when dot is missing, fails or takes longer than _DOT_SECONDS.
    """
    dot = shutil.which("dot")
    depth = _depths(len(sizes), edges)
    if dot is None or sum(depth[e.src] - depth[e.dst] - 1 for e in edges) > _DOT_MAX_DETOUR:
        return None
    widest = max(labels, default=0) * _EDGE_CHAR
    ranksep = (widest + 30) / 72 if rankdir == "LR" else 1.0  # TB: room for labels that fan out
    g = graphviz.Digraph(graph_attr={"rankdir": rankdir, "nodesep": "0.3", "ranksep": f"{max(ranksep, 0.5):.2f}"},
                         node_attr={"shape": "box", "fixedsize": "true", "label": ""})
    for i, (w, h) in enumerate(sizes):
        g.node(f"n{i}", width=f"{w / 72:.3f}", height=f"{h / 72:.3f}")
    for j, e in enumerate(edges):
        g.edge(f"n{e.src}", f"n{e.dst}", id=f"e{j}")
    try:
        run = subprocess.run([dot, "-Tjson0"], input=g.source.encode(), capture_output=True, timeout=_DOT_SECONDS)
        laid = json.loads(run.stdout) if run.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        laid = None
    if laid is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in laid["bb"].split(","))
    pad = 12.0

    def point(text):
        x, y = (float(v) for v in text.split(","))
        return x - x0 + pad, y1 - y + pad

    boxes = [None] * len(sizes)
    for obj in laid.get("objects", []):
        i = int(obj["name"][1:])
        cx, cy = point(obj["pos"])
        w, h = sizes[i]
        boxes[i] = (cx - w / 2, cy - h / 2, w, h)
    paths = [None] * len(edges)
    for edge in laid.get("edges", []):
        j = int(edge["id"][1:])
        end, points = None, []
        for token in edge["pos"].split():
            if token.startswith("e,"):
                end = point(token[2:])
            elif not token.startswith("s,"):
                points.append(point(token))
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for k in range(1, len(points) - 2, 3):
            d += " C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in points[k:k + 3])
        if end is not None:
            d += f" L{end[0]:.1f},{end[1]:.1f}"
        lx, ly = _bezier_point(points, _LABEL_AT)
        paths[j] = (d, lx, ly - 4)
    if None in boxes or None in paths:
        return None
    return _Layout(x1 - x0 + 2 * pad, y1 - y0 + 2 * pad, boxes, paths, "dot")


def _depths(n: int, edges: tuple) -> list:
    """Each node's rank: the longest path from it to the output (0 for the output)."""
    depth = [0] * n
    for e in sorted(edges, key=lambda e: -e.dst):  # a user always comes after its inputs
        depth[e.src] = max(depth[e.src], depth[e.dst] + 1)
    return depth


def _layered_layout(sizes: list, edges: tuple, labels: list, rankdir: str) -> _Layout:
    """Columns by distance from the output (the longest path), nodes stacked in creation order."""
    n = len(sizes)
    depth = _depths(n, edges)
    levels = max(depth) + 1
    across = rankdir == "TB"  # TB: levels go down the page, nodes side by side
    gap_level = 60 + max(labels, default=0) * _EDGE_CHAR
    level_size = [0.0] * levels
    for i, (w, h) in enumerate(sizes):
        level_size[depth[i]] = max(level_size[depth[i]], h if across else w)
    # the output's level last (right or bottom): level L sits at the sum of the levels after it
    start, position = [0.0] * levels, 20.0
    for lv in reversed(range(levels)):
        start[lv] = position
        position += level_size[lv] + gap_level
    extent = position - gap_level + 20
    boxes, fill = [None] * n, [20.0] * levels
    for i, (w, h) in enumerate(sizes):
        lv = depth[i]
        if across:
            boxes[i] = (fill[lv], start[lv], w, h)
            fill[lv] += w + 30
        else:
            boxes[i] = (start[lv], fill[lv], w, h)
            fill[lv] += h + 30
    breadth = max(fill) + 10
    paths, seen = [], {}
    for j, e in enumerate(edges):
        sx, sy, sw, sh = boxes[e.src]
        dx, dy, dw, dh = boxes[e.dst]
        k = seen.get((e.src, e.dst), 0)
        seen[(e.src, e.dst)] = k + 1
        bend = 18 * k * (1 if k % 2 else -1)  # a second edge between the same two nodes bows away
        if across:
            a, b = (sx + sw / 2, sy + sh), (dx + dw / 2, dy)
            mid = (a[1] + b[1]) / 2
            c1, c2 = (a[0] + bend, mid), (b[0] + bend, mid)
        else:
            a, b = (sx + sw, sy + sh / 2), (dx, dy + dh / 2)
            mid = (a[0] + b[0]) / 2
            c1, c2 = (mid, a[1] + bend), (mid, b[1] + bend)
        d = f"M{a[0]:.1f},{a[1]:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {b[0]:.1f},{b[1]:.1f}"
        lx, ly = _bezier_point([a, c1, c2, b], _LABEL_AT)
        paths.append((d, lx, ly - 4))
    width, height = (breadth, extent) if across else (extent, breadth)
    return _Layout(width, height, boxes, paths, "layered")


# ----- the page -----------------------------------------------------------------------------

def _svg(graph: _Graph, layout: _Layout, static: list, slots: list) -> str:
    esc = html.escape
    parts = [f'<svg id="graph-svg" width="{layout.width:.0f}" height="{layout.height:.0f}" '
             f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="img" '
             f'aria-label="the compute graph">',
             '<defs>' + "".join(
                 f'<marker id="head-{c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="head-{c}"/></marker>'
                 for c in ("idle", "grad", "new")) + '</defs>']
    for j, (d, lx, ly) in enumerate(layout.paths):
        e = graph.edges[j]
        needs = " needs-grad" if graph.nodes[e.src].requires_grad else ""
        parts.append(f'<g class="edge{needs}" id="e{j}"><path d="{d}"/>'
                     f'<text class="elabel" x="{lx:.1f}" y="{ly:.1f}"></text></g>')
    for i, (x, y, w, h) in enumerate(layout.boxes):
        kind = tensor_kind(graph.nodes[i], graph.loss)
        fill = _KINDS[kind][1]["fillcolor"]
        tx, ty = x + 8, y + 5 + _LINE - 3
        lines = static[i]
        out = [f'<g class="node kind-{kind}" id="n{i}" data-name="{esc(graph.names[i])}">',
               f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" fill="{fill}"/>']
        for k, (cls, text) in enumerate(zip(("title", "value"), lines)):
            out.append(f'<text class="{cls}" x="{tx:.1f}" y="{ty + k * _LINE:.1f}">{esc(text)}</text>')
        row = len(lines)
        grad_rows, has_mark = slots[i]
        spans = "".join(f'<tspan x="{tx:.1f}" y="{ty + (row + k) * _LINE:.1f}"></tspan>' for k in range(grad_rows))
        out.append(f'<text class="grad">{spans}</text>')
        row += grad_rows
        out.append(f'<text class="uses" x="{tx:.1f}" y="{ty + row * _LINE:.1f}"></text>')
        row += 1
        if has_mark:
            out.append(f'<text class="mark" x="{tx:.1f}" y="{ty + row * _LINE:.1f}"></text>')
        out.append("</g>")
        parts.append("".join(out))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> str:
    kinds = [("output", "the output (loss)"), ("parameter", "a leaf that requires grad"),
             ("input", "data: needs no gradient"), ("constant", "a constant"), ("intermediate", "an op's result")]
    rows = "".join(f'<li><span class="swatch" style="background:{_KINDS[k][1]["fillcolor"]}"></span>{text}</li>'
                   for k, text in kinds)
    return (f'<ul class="legend">{rows}'
            '<li><span class="swatch current"></span>the node whose step this is</li>'
            '<li><span class="line new"></span>gradient sent in this step</li>'
            '<li><span class="line grad"></span>gradient sent earlier (arrows point the way data flows; '
            'gradients travel against them). Naive mode: <b>1, 2</b> on an edge means sent twice, 1 and then 2</li>'
            '<li><b>waiting for k of n uses</b>: the node\'s users that have not sent their share yet '
            '(a user that takes the node twice, as in a + a, counts twice)</li>'
            '<li><b>grad 1 + 1 = 2</b>: the shares a re-used node received, added up (the +=)</li>'
            '<li><span class="swatch wrong"></span>naive mode, last frame: a wrong gradient, with the right one</li>'
            '</ul>')


_CSS = """
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{display:flex;flex-direction:column;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#212121}
header{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;padding:6px 10px;border-bottom:1px solid #ccc;
background:#f5f5f5}
header h1{font-size:15px;margin:0 8px 0 0}
button{font:inherit;padding:2px 8px;border:1px solid #999;border-radius:4px;background:#fff;cursor:pointer}
button[aria-pressed=true]{background:#1565c0;color:#fff;border-color:#0d47a1}
button:disabled{color:#999;cursor:default}
#slider{flex:1;min-width:140px}
#counter{font-variant-numeric:tabular-nums;min-width:7em}
main{flex:1;display:flex;min-height:0}
#graph{flex:1;overflow:auto;background:#fcfcfc;padding:6px}
#graph.fit svg{max-width:100%;height:auto}
#side{width:350px;flex:none;overflow:auto;padding:8px 12px;border-left:1px solid #ccc}
#side h2{font-size:15px;margin:4px 0}
#notes p{margin:4px 0}
#errors{color:#b71c1c;white-space:pre-wrap;margin:0}
details{margin:8px 0}
summary{cursor:pointer;font-weight:600}
.legend{list-style:none;padding:0;margin:4px 0;font-size:13px}
.legend li{margin:2px 0}
.swatch{display:inline-block;width:14px;height:12px;border:1px solid #666;margin-right:6px;vertical-align:-1px}
.swatch.current{border:3px solid #e65100}
.swatch.wrong{border:3px solid #c62828;background:#ffebee}
.line{display:inline-block;width:22px;height:0;border-top:3px solid;margin-right:6px;vertical-align:3px}
.line.new{border-color:#e65100}.line.grad{border-color:#1565c0}
svg text{font:11px ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;fill:#212121}
svg .title{font-weight:700}
svg .uses{fill:#616161}
svg .mark{fill:#c62828;font-weight:700}
.node rect{stroke:#616161;stroke-width:1}
.node.state-partial .grad{fill:#6d4c41}
.node.state-none .grad{fill:#9e9e9e}
.node.state-current rect{stroke:#e65100;stroke-width:4}
.node.state-wrong rect{stroke:#c62828;stroke-width:4}
.node.kind-output rect{stroke-width:2.5}
.edge path{fill:none;stroke:#bdbdbd;stroke-width:1.3;marker-end:url(#head-idle)}
.edge:not(.needs-grad) path{stroke-dasharray:3 3}
.edge.has-grad path{stroke:#1565c0;stroke-width:1.8;marker-end:url(#head-grad)}
.edge.new path{stroke:#e65100;stroke-width:3;marker-end:url(#head-new)}
.edge .elabel{font-size:10px;text-anchor:middle;fill:#0d47a1;paint-order:stroke;stroke:#fcfcfc;stroke-width:3px}
.edge.new .elabel{fill:#bf360c;font-weight:700}
.head-idle{fill:#bdbdbd}.head-grad{fill:#1565c0}.head-new{fill:#e65100}
"""

_JS = r"""
(function () {
  "use strict";
  var errors = document.getElementById("errors");
  window.addEventListener("error", function (ev) {
    errors.hidden = false;
    errors.textContent += "script error: " + ev.message + "\n";
  });
  var D = JSON.parse(document.getElementById("stepper-data").textContent);
  var slider = document.getElementById("slider"), counter = document.getElementById("counter");
  var buttons = {reverse: document.getElementById("mode-reverse"), naive: document.getElementById("mode-naive")};
  var nodes = D.nodes.map(function (_, i) {
    var g = document.getElementById("n" + i);
    return {g: g, spans: g.querySelectorAll(".grad tspan"), uses: g.querySelector(".uses"),
            mark: g.querySelector(".mark")};
  });
  var edges = D.edges.map(function (_, j) {
    var g = document.getElementById("e" + j);
    return {g: g, label: g.querySelector(".elabel")};
  });
  var mode = "reverse", frame = 0;

  function at(history, k) {  // the last entry at or before frame k
    var found = history[0];
    for (var h = 0; h < history.length && history[h][0] <= k; h++) found = history[h];
    return found;
  }
  function clampFrame(k) {
    var last = D.modes[mode].frames.length - 1;
    return Math.max(0, Math.min(last, isFinite(k) ? Math.round(k) : 0));
  }
  function render() {
    var M = D.modes[mode], F = M.frames[frame], last = M.frames.length - 1;
    nodes.forEach(function (n, i) {
      var h = at(M.nodes[i], frame), lines = h[1];
      for (var s = 0; s < n.spans.length; s++) n.spans[s].textContent = s < lines.length ? lines[s] : "";
      if (n.uses) n.uses.textContent = h[2];
      n.g.setAttribute("class", "node kind-" + D.nodes[i].kind + " state-" + h[3]);
      if (n.mark) {
        var wrong = frame === last && M.wrong.indexOf(i) >= 0;
        n.mark.textContent = wrong ? "\u2717 right: " + M.right[String(i)] : "";
      }
    });
    edges.forEach(function (e, j) {
      var text = at(M.edges[j], frame)[1];
      e.label.textContent = text;
      e.g.classList.toggle("has-grad", text !== "");
      e.g.classList.toggle("new", F["new"].indexOf(j) >= 0);
    });
    slider.max = String(last);
    slider.value = String(frame);
    counter.textContent = "frame " + frame + " / " + last;
    document.getElementById("title").textContent = F.title;
    var notes = document.getElementById("notes");
    notes.textContent = "";
    F.notes.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      notes.appendChild(p);
    });
    ["reverse", "naive"].forEach(function (m) {
      buttons[m].setAttribute("aria-pressed", String(m === mode));
      document.getElementById("about-" + m).hidden = m !== mode;
    });
    document.getElementById("prev").disabled = frame === 0;
    document.getElementById("next").disabled = frame === last;
    if (F.node !== null && document.getElementById("graph").className !== "fit") {
      nodes[F.node].g.scrollIntoView({block: "nearest", inline: "nearest"});
    }
  }
  function writeHash() {
    var hash = "#" + (mode === "naive" ? "mode=naive&" : "") + "frame=" + frame;
    try { history.replaceState(null, "", hash); } catch (err) { /* some browsers refuse it on file: pages */ }
  }
  function go(k) { frame = clampFrame(k); render(); writeHash(); }
  function setMode(m) {
    if (!D.modes[m]) return;
    mode = m;
    go(frame);
  }
  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var m = params.get("mode");
    mode = (m === "naive" && D.modes.naive) ? "naive" : "reverse";
    frame = params.has("frame") ? clampFrame(parseInt(params.get("frame"), 10)) : 0;
  }
  var KEYS = {
    ArrowLeft: function () { return frame - 1; }, ArrowRight: function () { return frame + 1; },
    Home: function () { return 0; }, End: function () { return D.modes[mode].frames.length - 1; }
  };
  function onKey(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || !KEYS[ev.key]) return;
    ev.preventDefault();  // also on the slider, so that one key press is one step
    go(KEYS[ev.key]());
  }
  document.addEventListener("keydown", onKey);
  slider.addEventListener("input", function () { go(parseInt(slider.value, 10)); });
  document.getElementById("first").addEventListener("click", function () { go(0); });
  document.getElementById("prev").addEventListener("click", function () { go(frame - 1); });
  document.getElementById("next").addEventListener("click", function () { go(frame + 1); });
  document.getElementById("last").addEventListener("click", function () { go(Infinity); });
  buttons.reverse.addEventListener("click", function () { setMode("reverse"); });
  buttons.naive.addEventListener("click", function () { setMode("naive"); });
  function setZoom(fit) {
    document.getElementById("graph").className = fit ? "fit" : "";
    document.getElementById("zoom").textContent = fit ? "zoom: fit" : "zoom: 1:1";
  }
  document.getElementById("zoom").addEventListener("click", function () {
    setZoom(document.getElementById("graph").className !== "fit");
    render();
  });
  // Fit the graph to the window unless that shrinks its text below 60% of its size: then scroll.
  var svg = document.getElementById("graph-svg"), pane = document.getElementById("graph");
  setZoom(pane.clientWidth >= 0.6 * svg.width.baseVal.value);
  window.addEventListener("hashchange", function () { readHash(); render(); });
  readHash();
  render();
  document.body.setAttribute("data-ready", "1");
})();
"""


def _json_for_script(data) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' that could end the element early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def backward_page(loss: Tensor, *, gradient=None, rankdir: str = "LR", title: Optional[str] = None) -> str:
    """The HTML text of the stepper page for `loss` (what ``step_backward`` writes)."""
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"step_backward: rankdir={rankdir!r} is not one of LR, TB")
    graph = _Graph(loss, gradient, "step_backward")
    reverse = _replay(graph, "reverse")
    try:
        naive, naive_reason = _replay(graph, "naive", reverse.reference), None
    except ValueError as exc:
        naive, naive_reason = None, str(exc)
    modes = {"reverse": _mode_data(graph, reverse), "naive": _mode_data(graph, naive) if naive else None}

    # Node text: two fixed lines, then as many grad lines as the longest frame needs, the uses line,
    # and in naive mode a line for the right answer where the naive one is wrong.
    static = [[_expression(graph, i), "value " + _short(t.data)] for i, t in enumerate(graph.nodes)]
    slots, sizes = [], []
    for i in range(len(graph.nodes)):
        shown = [h for m in modes.values() if m for h in m["nodes"][i]]
        grad_rows = max(len(h[1]) for h in shown)
        texts = static[i] + [line for h in shown for line in h[1]] + [h[2] for h in shown]
        has_mark = naive is not None and i in naive.wrong
        if has_mark:
            texts.append("✗ right: " + modes["naive"]["right"][str(i)])
        slots.append((grad_rows, has_mark))
        rows = len(static[i]) + grad_rows + 1 + has_mark
        sizes.append((max(map(len, texts)) * _CHAR + 16, rows * _LINE + 10))
    labels = [max(len(h[1]) for m in modes.values() if m for h in m["edges"][j]) for j in range(len(graph.edges))]
    layout = (_dot_layout(sizes, graph.edges, labels, rankdir)
              or _layered_layout(sizes, graph.edges, labels, rankdir))

    data = {"nodes": [{"kind": tensor_kind(t, loss), "name": graph.names[i]} for i, t in enumerate(graph.nodes)],
            "edges": [list(e) for e in graph.edges], "modes": modes, "layout": layout.engine}
    esc = html.escape
    heading = title or f"Stepping through the backward pass of {graph.names[graph.root]}"
    if naive is None:
        naive_about = (f"<p>The naive replay is not available for this graph: {esc(naive_reason)}.</p>")
    else:
        naive_about = ""
    reverse_about = (
        "<p><b>The engine's order</b> (Tensor.backward): the ops are visited newest first. Every user of a "
        "tensor was made after it, so when a node's turn comes, all of its uses have reported and its "
        "gradient is complete. Its op's backward runs once, with that gradient, and each result is added "
        "to the input's gradient (the +=).</p>")
    naive_text = (
        "<p><b>The naive recursion</b>: as soon as a share of the gradient reaches a node, the node adds it "
        "and at once runs its backward with the total it knows so far, recursing into its inputs. It does not "
        "wait for the node's other users. A node with shares g<sub>1</sub> … g<sub>k</sub> runs its backward "
        "k times, with the partial sums S<sub>j</sub> = g<sub>1</sub> + … + g<sub>j</sub>, and passes on "
        "S<sub>1</sub> + S<sub>2</sub> + … + S<sub>k</sub> instead of S<sub>k</sub>: every early share is "
        "sent again, and the nodes below get the wrong sum. With no re-used op result, each op result gets one "
        "share and the answer is right.</p>")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(heading)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{esc(heading)}</h1>
<button id="mode-reverse" type="button" aria-pressed="true" title="Tensor.backward's order">engine order</button>
<button id="mode-naive" type="button" aria-pressed="false"{' disabled' if naive is None else ''}
 title="recurse as soon as a share arrives">naive recursion</button>
<button id="first" type="button" title="first frame (Home)">|◀</button>
<button id="prev" type="button" title="previous frame (←)">◀</button>
<input id="slider" type="range" min="0" max="0" value="0" step="1" aria-label="frame">
<button id="next" type="button" title="next frame (→)">▶</button>
<button id="last" type="button" title="last frame (End)">▶|</button>
<span id="counter"></span>
<button id="zoom" type="button" title="fit the graph to the window, or show it at full size">zoom: fit</button>
</header>
<main>
<div id="graph" class="fit">
{_svg(graph, layout, static, slots)}
</div>
<aside id="side">
<pre id="errors" hidden></pre>
<h2 id="title"></h2>
<div id="notes"></div>
<div id="about-reverse">{reverse_about}</div>
<div id="about-naive" hidden>{naive_text}{naive_about}</div>
<details open><summary>Legend</summary>{_legend()}
<p>Keys: ← → one frame, Home / End the first and last. In the address, <code>#frame=3</code> opens frame 3
and <code>#mode=naive&amp;frame=3</code> the naive replay.</p></details>
</aside>
</main>
<script type="application/json" id="stepper-data">{_json_for_script(data)}</script>
<script>{_JS}</script>
</body>
</html>
"""
    return page


def step_backward(loss: Tensor, path, *, gradient=None, rankdir: str = "LR", title: Optional[str] = None,
                  force: bool = False) -> Path:
    """Write a page that steps through the backward pass of `loss` to `path` (.html); return the path.

    One self-contained file (it works offline): the graph, and frame by frame the node being
    processed, the gradient known so far on every node and edge, how many uses of each node
    have not reported back, and the += on a re-used node. A toggle replays the same graph in
    the naive recursive order and shows where it goes wrong. ``rankdir`` "LR" (left to right)
    or "TB" (top to bottom). An existing file is only replaced with ``force=True``. Nothing in
    the graph changes (no ``.grad`` is touched).
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"step_backward: {path.name!r} is not an .html file; end the file name in .html")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"step_backward: directory {path.parent} does not exist; create it first")
    if path.exists() and not force:
        raise FileExistsError(f"step_backward: {path} already exists; pass force=True to replace it")
    page = backward_page(loss, gradient=gradient, rankdir=rankdir, title=title)
    return atomic_write_text(path, page)
