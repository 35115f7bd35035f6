"""Graphviz drawings of compute graphs: what is drawn, that it is deterministic, and that drawing changes nothing."""
import errno
import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest

from tinygrad_edu import Tensor, name_scope
from tinygrad_edu.viz import draw_graph, draw_scalar_graph, mlp_loss_graph, parse_expression, render_graph
from tinygrad_edu import io as io_module
from tinygrad_edu.viz import expr
from tinygrad_edu.viz import graph as graph_module
from tinygrad_edu.viz.graph import QUICK_LAYOUT_ABOVE, GraphError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
CLASSIC = ("e = a*b; d = e + c; L = d * f", {"a": 2, "b": -3, "c": 10, "f": -2})


def classic(backward=True):
    L = parse_expression(*CLASSIC)
    if backward:
        L.backward()
    return L


def nodes(g) -> dict:
    """node id -> label, for the graph's tensor and op nodes (n0, n1, ...)."""
    found = re.finditer(r'^\s*(n\d+) \[label=("(?:[^"\\]|\\.)*"|[^\s\]]+)', g.source, re.M)
    return {m[1]: m[2][1:-1] if m[2].startswith('"') else m[2] for m in found}


def edges(g) -> list:
    """(tail, head, label or None) for every edge, in DOT order."""
    out = []
    for m in re.finditer(r"^\s*(n\d+|hidden) -> (n\d+)(?: \[(.*)\])?$", g.source, re.M):
        label = re.search(r'label="([^"]*)"', m[3] or "")
        out.append((m[1], m[2], label[1] if label else None))
    return out


def find(g, start: str) -> str:
    """The id of the one node whose label starts with `start`."""
    hits = [k for k, v in nodes(g).items() if v.startswith(start)]
    assert len(hits) == 1, (start, hits)
    return hits[0]


def into(g, node_id: str) -> list:
    return [e for e in edges(g) if e[1] == node_id]


def out_of(g, node_id: str) -> list:
    return [e for e in edges(g) if e[0] == node_id]


# ----- the classic example: L = (a*b + c) * f, a=2, b=-3, c=10, f=-2 ----------------------------------

def test_classic_tensor_view_nodes_edges_and_gradients():
    g = draw_graph(classic())
    labels = nodes(g)
    assert len(labels) == 7 + 3          # a b c f e d L, and the ops * + *
    assert len(edges(g)) == 9            # 6 inputs into ops, 3 ops into their outputs
    assert sorted(v for v in labels.values() if "\\l" not in v) == ["*", "*", "+"]
    # value and gradient of every tensor, as computed by hand
    expected = {"a": (2, 6), "b": (-3, -4), "c": (10, -2), "f": (-2, 4), "e": (-6, -2), "d": (4, -2), "L": (-8, 1)}
    for name, (data, grad) in expected.items():
        assert labels[find(g, name + "\\l")] == f"{name}\\lshape ()\\ldata {data}\\lgrad {grad}\\l"
    # the edge a -> * carries ‖∂L/∂a‖ = 6, b -> * 4, f -> * 4, c -> + 2; the loss's own edge 1
    for name, norm in {"a": 6, "b": 4, "f": 4, "c": 2, "e": 2, "d": 2}.items():
        assert [e[2] for e in out_of(g, find(g, name + "\\l"))] == [f"‖g‖ {norm}"]
    assert [e[2] for e in into(g, find(g, "L\\l"))] == ["‖g‖ 1"]


def test_classic_scalar_view_has_signed_edge_gradients():
    g = draw_scalar_graph(classic())
    labels = nodes(g)
    assert len(labels) == 10 and len(edges(g)) == 9
    assert labels[find(g, "{ a |")] == "{ a | data 2 | grad 6 }"
    assert labels[find(g, "{ L |")] == "{ L | data -8 | grad 1 }"
    for name, flow in {"a": 6, "b": -4, "c": -2, "f": 4, "e": -2, "d": -2}.items():
        assert [e[2] for e in out_of(g, find(g, "{ " + name + " |"))] == [f"g {flow}"]
    assert 'shape=record' in g.source


def test_before_backward_there_are_no_gradients():
    for draw in (draw_graph, draw_scalar_graph):
        g = draw(classic(backward=False))
        assert "grad" not in "".join(nodes(g).values())
        assert all(label is None for *_, label in edges(g))
        assert "edge label" not in g.source


def test_show_data_and_show_grad_switch_lines_off():
    g = draw_graph(classic(), show_data=False, show_grad=False)
    text = "".join(nodes(g).values())
    assert "data" not in text and "grad" not in text and "shape ()" in text


# ----- the gradient along each edge --------------------------------------------------------------------

def test_edge_gradients_of_a_value_used_three_times_sum_to_its_gradient():
    y = parse_expression("a*a + a", {"a": 3.0})   # dy/da = 2a + 1 = 7: 3 + 3 along the two * edges, 1 along +
    y.backward()
    g = draw_scalar_graph(y)
    flows = sorted(float(label.split()[1]) for *_, label in out_of(g, find(g, "{ a |")))
    assert flows == [1.0, 3.0, 3.0] and sum(flows) == 7.0
    g = draw_graph(y)
    assert sorted(label for *_, label in out_of(g, find(g, "a\\l"))) == ["‖g‖ 1", "‖g‖ 3", "‖g‖ 3"]


def test_edge_norm_is_the_gradient_the_op_sends_to_that_input():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 2)), name="x")
    W = Tensor(rng.standard_normal((2, 4)), requires_grad=True, name="W")
    h = (x @ W).tanh()
    loss = (h * h).sum()
    loss.backward()
    g = draw_graph(loss)
    # W is used once, so everything it receives comes along its one edge
    assert [e[2] for e in out_of(g, find(g, "W\\l"))] == [f"‖g‖ {np.linalg.norm(W.grad):.4g}"]
    # x needs no gradient: its edge carries none
    assert [e[2] for e in out_of(g, find(g, "x\\l"))] == [None]
    # h is used twice by h*h: each edge carries ∂L/∂(h*h) * h = h, half of h.grad = 2h
    assert [e[2] for e in out_of(g, find(g, "shape (3, 4)\\ldata min " + f"{h.data.min():.4g}"))] == \
        [f"‖g‖ {np.linalg.norm(h.data):.4g}"] * 2


def test_vanishing_and_exploding_gradients_are_marked():
    x = Tensor([-1.0, -2.0], requires_grad=True, name="x")
    loss = x.relu().sum()                        # relu is flat for negative inputs: no gradient gets through
    loss.backward()
    g = draw_graph(loss)
    (edge,) = out_of(g, find(g, "x\\l"))
    assert edge[2] == "‖g‖ 0"
    assert re.search(r"-> " + edge[1] + r" \[.*style=dashed", g.source)
    y = Tensor([1.0], requires_grad=True, name="y")
    z = (y * np.inf).sum()
    z.backward()
    assert re.search(r'label="‖g‖ inf".*color=red', draw_graph(z).source)


# ----- drawing changes nothing ---------------------------------------------------------------------------

def test_drawing_never_changes_the_graph_or_any_grad(tmp_path):
    loss = mlp_loss_graph([2, 3, 1], batch=3, seed=1, backward=True)
    tensors = [loss] + loss.topological_order()
    before = [(t, t.grad, None if t.grad is None else t.grad.copy(), t.data.copy(), t.op, t.inputs, t.name)
              for t in tensors]
    draw_graph(loss)
    draw_scalar_graph(loss, max_nodes=500)
    render_graph(loss, tmp_path / "g.dot")
    for t, grad, grad_copy, data, op, inputs, name in before:
        assert t.grad is grad and np.array_equal(t.grad, grad_copy)
        assert np.array_equal(t.data, data) and t.op == op and t.inputs is inputs and t.name == name
    loss.backward()                              # gradients still accumulate as before: exactly twice
    for t, grad, grad_copy, *_ in before:
        np.testing.assert_allclose(t.grad, 2 * grad_copy)


# ----- determinism ---------------------------------------------------------------------------------------

def test_same_graph_same_dot_source_byte_for_byte():
    assert draw_graph(classic()).source == draw_graph(classic()).source
    assert draw_scalar_graph(classic()).source == draw_scalar_graph(classic()).source
    a = mlp_loss_graph([2, 4, 1], batch=4, seed=0, backward=True)
    b = mlp_loss_graph([2, 4, 1], batch=4, seed=0, backward=True)
    assert draw_graph(a).source == draw_graph(b).source
    assert draw_graph(a).source != draw_graph(mlp_loss_graph([2, 4, 1], batch=4, seed=1, backward=True)).source
    # nodes are numbered in traversal order, never by id()
    assert sorted(nodes(draw_graph(a)), key=lambda k: int(k[1:])) == [f"n{i}" for i in range(len(nodes(draw_graph(a))))]


# ----- kinds, legend, values -----------------------------------------------------------------------------

def test_kinds_have_their_own_colour_and_the_legend_lists_them():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    x = Tensor([3.0, 4.0], name="x")
    loss = (w * x * 2).sum()
    g = draw_graph(loss)
    colour = {}
    for line in g.source.splitlines():
        m = re.match(r'\s*(n\d+) \[label="([^"]*)".*fillcolor="(#\w+)"', line)
        if m:
            colour[m[2].split("\\l")[0]] = m[3]
    assert colour["w"] == "#c8e6c9" and colour["x"] == "#bbdefb" and colour["constant"] == "#eeeeee"
    assert colour["output"] == "#ffcdd2" and colour["*"] == "#ffe0b2" and colour["shape (2,)"] == "#ffffff"
    legend = re.search(r"legend \[label=<(.*)>", g.source)[1]
    for text in ("loss / output", "parameter", "input", "constant", "intermediate", "operation"):
        assert text in legend
    assert "legend" not in draw_graph(loss, legend=False).source


def test_array_values_show_min_mean_max():
    W = Tensor([[1.0, 2.0], [3.0, 6.0]], requires_grad=True, name="W")
    loss = (W * 3).sum()
    loss.backward()
    label = nodes(draw_graph(loss))[find(draw_graph(loss), "W\\l")]
    assert label == "W\\lshape (2, 2)\\ldata min 1  mean 3  max 6\\lgrad min 3  mean 3  max 3\\l"


def test_names_are_escaped_for_dot(tmp_path):
    x = Tensor(1.0, requires_grad=True, name='x"<y>\\z')
    y = (x * 2).sum()
    g = draw_graph(y)
    assert 'x\\"<y>\\\\z\\l' in g.source
    if shutil.which("dot"):
        texts = _svg_texts(render_graph(y, tmp_path / "g.svg").path)
        assert 'x"<y>\\z' in texts


# ----- modules -------------------------------------------------------------------------------------------

def test_group_modules_puts_each_layer_in_a_labelled_cluster():
    x = Tensor([[1.0, 2.0]], name="x")
    W = Tensor(np.ones((2, 3)), requires_grad=True, name="layers.0.W")
    with name_scope("layers.0: Linear(2→3)"):
        h = x @ W
    loss = h.sum()
    g = draw_graph(loss)
    cluster = re.search(r"subgraph cluster_0 \{(.*?)\n\t\}", g.source, re.S)[1]
    assert 'label="layers.0: Linear(2→3)"' in cluster
    assert find(g, "layers.0.W\\l") in cluster and "@" in cluster      # the parameter and its op
    assert find(g, "x\\l") not in cluster                               # the data stays outside
    assert "subgraph" not in draw_graph(loss, group_modules=False).source


def test_mlp_demo_clusters_its_layers_and_names_its_parameters():
    g = draw_graph(mlp_loss_graph([2, 4, 1], batch=4, seed=0, backward=True))
    for label in ("layers.0: Linear(2→4)", "layers.1: ReLU", "layers.2: Linear(4→1)"):
        assert f'label="{label}"' in g.source
    for name in ("layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b", "x", "y", "loss"):
        assert find(g, name + "\\l")


# ----- size limits ---------------------------------------------------------------------------------------

def test_max_nodes_cuts_with_a_visible_marker():
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(50):
        y = y.tanh()                              # 51 tensors + 50 ops = 101 nodes
    g = draw_graph(y, max_nodes=10)
    assert len(nodes(g)) == 10
    assert re.search(r'hidden \[label="… 91 nodes not shown', g.source)
    assert [e for e in edges(g) if e[0] == "hidden"]                 # the cut is connected, not silent
    assert find(g, "output\\l")                                       # the output end is kept
    assert "hidden" not in draw_graph(y).source                       # 101 <= 200: nothing cut
    s = draw_scalar_graph(y, max_nodes=7)
    assert len(nodes(s)) == 7 and "… 94 nodes not shown" in s.source
    wide = Tensor(np.arange(10.0), requires_grad=True, name="v") * 2   # more output elements than max_nodes
    s = draw_scalar_graph(wide, max_nodes=3)
    # 10 elements of v, the constant 2, 10 products with their 10 "*" nodes: 31, of which 3 are drawn
    assert len(nodes(s)) == 3 and "… 28 nodes not shown" in s.source


def test_long_chains_do_not_recurse():
    y = Tensor(0.1, requires_grad=True)
    for _ in range(5000):
        y = y * 1.0
    assert "… " in draw_graph(y).source
    assert "… " in draw_scalar_graph(y).source


# ----- the scalar view ------------------------------------------------------------------------------------

def test_scalar_view_draws_a_matrix_product_as_products_and_a_sum():
    y = parse_expression("w @ x + b", {"w": [2.0, -1.0], "x": [0.5, 3.0], "b": 0.25})
    y.backward()
    g = draw_scalar_graph(y)
    labels = nodes(g)
    # leaves w[0] w[1] x[0] x[1] b; two products with their "*"; the sum "+" and its value; "+" b and y
    assert len(labels) == 5 + 4 + 2 + 2
    assert sorted(v for v in labels.values() if not v.startswith("{")) == ["*", "*", "+", "+"]
    assert labels[find(g, "{ output |")] == "{ output | data -1.75 | grad 1 }"
    assert [e[2] for e in out_of(g, find(g, "{ w[0] |"))] == ["g 0.5"]   # ∂y/∂w0 = x0
    assert [e[2] for e in out_of(g, find(g, "{ x[1] |"))] == ["g -1"]    # ∂y/∂x1 = w1


def test_scalar_view_draws_a_linear_layer_as_neurons_with_their_bias():
    from tinygrad_edu import nn
    x = Tensor([[1.0, 2.0]], name="x")
    W = Tensor([[0.5, -1.0], [0.25, 3.0]], requires_grad=True, name="W")
    b = Tensor([0.1, -0.2], requires_grad=True, name="b")
    y = nn.linear(x, W, b).sum()
    y.backward()
    g = draw_scalar_graph(y)
    labels = nodes(g)
    plus = [k for k, v in labels.items() if v == "+"]      # one "+" per neuron, then the sum's own op
    assert sorted(v for v in labels.values() if not v.startswith("{")).count("*") == 4 and len(plus) == 2
    for n in range(2):  # each neuron's "+" takes its two products and its bias b[n]
        bias_edges = out_of(g, find(g, f"{{ b[{n}] |"))
        assert len(bias_edges) == 1 and bias_edges[0][1] in plus and bias_edges[0][2] == "g 1"
        assert len(into(g, bias_edges[0][1])) == 3
    assert [e[2] for e in out_of(g, find(g, "{ W[1,0] |"))] == ["g 2"]   # ∂y/∂W[1,0] = x[0,1]


def test_scalar_view_broadcast_and_sum():
    y = parse_expression("(v * c).sum()", {"v": [1.0, 2.0, 3.0], "c": 2.0})
    y.backward()
    g = draw_scalar_graph(y)
    flows = [float(label.split()[1]) for *_, label in out_of(g, find(g, "{ c |"))]
    assert flows == [1.0, 2.0, 3.0] and sum(flows) == float(y.inputs[0].inputs[1].grad)
    assert len(into(g, find(g, "sum"))) == 3


# ----- rendering to files --------------------------------------------------------------------------------

def _svg_texts(path) -> list:
    root = ET.parse(path).getroot()
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]


@needs_dot
def test_rendered_svg_parses_as_xml_and_holds_the_labels(tmp_path):
    out = render_graph(classic(), tmp_path / "classic.svg", scalar=True)
    assert out.path == tmp_path / "classic.svg" and out.hint is None
    texts = _svg_texts(out.path)
    for label in ("L", "data -8", "grad 1", "a", "data 2", "grad 6", "g -4", "*", "+"):
        assert label in texts
    assert "data -8" in _svg_texts(render_graph(classic(), tmp_path / "tensor.svg").path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classic.svg", "tensor.svg"]  # no temporary files left


@needs_dot
def test_png_and_pdf(tmp_path):
    assert render_graph(classic(), tmp_path / "g.png").path.read_bytes().startswith(b"\x89PNG")
    assert render_graph(classic(), tmp_path / "g.PDF").path.read_bytes().startswith(b"%PDF")


def test_dot_extension_writes_the_source(tmp_path):
    out = render_graph(classic(), tmp_path / "g.dot", rankdir="TB")
    assert out.path.read_text(encoding="utf-8") == draw_graph(classic(), rankdir="TB").source


def test_without_dot_the_source_is_written_and_a_hint_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "")
    out = render_graph(classic(), tmp_path / "g.svg", scalar=True)
    assert out.path == tmp_path / "g.dot" and not (tmp_path / "g.svg").exists()
    assert out.path.read_text(encoding="utf-8") == draw_scalar_graph(classic()).source
    err = capsys.readouterr().err
    assert err == out.hint + "\n" and "\n" not in out.hint
    assert "apt-get install graphviz" in out.hint and "brew install graphviz" in out.hint
    assert str(tmp_path / "g.dot") in out.hint
    render_graph(classic(), tmp_path / "h.png", quiet=True)
    assert capsys.readouterr().err == ""


@needs_dot
def test_the_digraph_displays_inline_in_jupyter():
    g = draw_graph(classic())
    assert isinstance(g, graphviz.Digraph)
    assert "<svg" in g._repr_mimebundle_()["image/svg+xml"]


def test_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"end the file name in \.svg, \.png, \.pdf or \.dot"):
        render_graph(classic(), tmp_path / "g.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_graph(classic(), tmp_path / "missing" / "g.svg")
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir='UP' is not one of LR, TB, RL, BT"):
        draw_graph(classic(), rankdir="UP")
    with pytest.raises(ValueError, match="max_nodes=0 must be an integer >= 1"):
        draw_scalar_graph(classic(), max_nodes=0)


def test_scalar_view_edges_carry_each_leaf_gradient_for_every_op():
    """For every element of every leaf: the gradients on its outgoing edges add up to its .grad."""
    from tinygrad_edu import concatenate, nn, stack
    rng = np.random.default_rng(3)
    v = Tensor(rng.standard_normal(4), requires_grad=True, name="v")
    M = Tensor(rng.standard_normal((2, 2)), requires_grad=True, name="M")
    B = Tensor(rng.standard_normal((2, 2, 2)), requires_grad=True, name="B")
    parts = [v.max(), v.softmax().sum() * 0.5, v.log_softmax()[1:3].mean(), (v / 3 - 1).abs().sqrt().sum(),
             v.clip(-0.5, 0.5).exp().sum(), (v ** 2).sigmoid().sum(), (M @ M.T).reshape(4).log_softmax().sum(),
             (B @ M).transpose(2, 0, 1).sum(), concatenate([v, M.reshape(4)]).relu().sum(),
             stack([M, -M], axis=1).tanh().sum(), (v @ M.reshape(4, 1)).sum(), (M @ v[:2]).sum(),
             (v.reshape(2, 2) @ M).sum(axis=0).mean(), nn.linear(M, M.T, v[:2]).tanh().sum()]
    loss = parts[0]
    for p in parts[1:]:
        loss = loss + p
    loss.backward()
    g = draw_scalar_graph(loss, max_nodes=100_000, legend=False)
    assert "hidden" not in g.source
    for leaf in (v, M, B):
        for j in range(leaf.size):
            index = ",".join(str(int(x)) for x in np.unravel_index(j, leaf.shape))
            node = find(g, "{ " + f"{leaf.name}[{index}] |")
            flows = [float(label.split()[1]) for *_, label in out_of(g, node)]
            assert sum(flows) == pytest.approx(leaf.grad.flat[j], rel=1e-3, abs=1e-3), (leaf.name, j)


# ----- bounded: big drawings, a slow or failing dot, files that cannot be written -------------------

SUM_OF_100 = "+".join("a*b" for _ in range(100))     # 399 characters; dot took over 600 s on it unbounded


def sum_of_100():
    root = parse_expression(SUM_OF_100, {"a": 2.0, "b": -3.0})
    root.backward()
    return root


def chain(n: int) -> Tensor:
    y = Tensor(0.5, requires_grad=True, name="x")
    for _ in range(n):
        y = y.tanh()
    return y                                           # 2n + 1 nodes


def test_a_cut_drawing_says_how_many_nodes_were_left_out_and_how_to_draw_more(tmp_path):
    assert len(SUM_OF_100) == 399
    out = render_graph(sum_of_100(), tmp_path / "g.dot")
    assert out.note == ("drew 200 of the graph's 400 nodes (the 200 nearest the output; max_nodes=200); raise "
                        "max_nodes (--max-nodes) to draw more, or draw a smaller graph")
    assert render_graph(sum_of_100(), tmp_path / "g.dot", max_nodes=400).note is None
    assert render_graph(classic(), tmp_path / "c.dot").note is None


def test_large_drawings_get_the_quick_layout_small_ones_keep_the_full_one():
    y = chain(100)
    assert "nslimit" not in draw_graph(y, max_nodes=QUICK_LAYOUT_ABOVE).source
    quick = draw_graph(y, max_nodes=QUICK_LAYOUT_ABOVE + 1).source
    assert "nslimit=2" in quick and "nslimit1=2" in quick
    assert "nslimit=2" in draw_scalar_graph(y, max_nodes=QUICK_LAYOUT_ABOVE + 1).source


def _fake_dot(tmp_path, monkeypatch, script: str):
    """Put a `dot` that runs `script` first on PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    dot = folder / "dot"
    dot.write_text("#!/bin/sh\n" + script + "\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return dot


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_a_dot_that_hangs_is_stopped_at_the_timeout(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, "exec sleep 30")
    started = time.monotonic()
    with pytest.raises(GraphError) as info:
        render_graph(classic(), tmp_path / "g.svg", timeout=0.5)
    assert time.monotonic() - started < 10
    assert str(info.value) == ("Graphviz's dot did not finish laying out 10 nodes within 0.5 s, so it was stopped; "
                               "draw fewer nodes (max_nodes=, --max-nodes) or a smaller graph, or allow more time "
                               "(timeout=)")
    assert not (tmp_path / "g.svg").exists() and not _children_named("sleep")


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
@pytest.mark.parametrize("script, message", [
    ("echo 'Error: <stdin>: syntax error in line 3 near x' >&2; echo 'more' >&2; exit 1",
     "Graphviz's dot failed (exit status 1): Error: <stdin>: syntax error in line 3 near x; write the DOT source "
     "(.dot) to see what it was given, or check the Graphviz installation"),
    ("kill -9 $$",
     "Graphviz's dot was killed by SIGKILL while laying out 10 nodes (out of memory?); draw fewer nodes "
     "(max_nodes=, --max-nodes), or write the DOT source (.dot) instead"),
])
def test_a_dot_that_fails_or_is_killed_is_one_line(tmp_path, monkeypatch, script, message):
    _fake_dot(tmp_path, monkeypatch, script)
    with pytest.raises(GraphError) as info:
        render_graph(classic(), tmp_path / "g.png")
    assert str(info.value) == message and not (tmp_path / "g.png").exists()


def _children_named(name: str) -> list:
    """Live processes named `name` whose parent is this one (none once dot has been stopped and reaped)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)
            comm, ppid = fields[0].split("(", 1)[1], int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if comm == name and ppid == os.getpid():
            found.append(stat_file.parent.name)
    return found


@needs_dot
def test_the_real_dot_is_killed_at_the_timeout_and_the_sum_of_100_renders(tmp_path):
    with pytest.raises(GraphError, match=r"did not finish laying out 400 nodes within 0\.5 s, so it was stopped"):
        render_graph(sum_of_100(), tmp_path / "all.svg", max_nodes=400, timeout=0.5)
    assert not _children_named("dot") and not (tmp_path / "all.svg").exists()
    out = render_graph(sum_of_100(), tmp_path / "g.svg")         # the default 200 nodes: the quick layout
    assert "… 200 nodes not shown" in " ".join(_svg_texts(out.path)) and out.note.startswith("drew 200 of")


def test_drawings_too_large_to_lay_out_are_refused_before_dot_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module.subprocess, "run", lambda *a, **k: pytest.fail("dot was started"))
    with pytest.raises(GraphError) as info:
        render_graph(chain(3000), tmp_path / "g.svg", max_nodes=5001)
    assert str(info.value) == ("the drawing has 5001 nodes, more than the 5000 that dot lays out in reasonable time; "
                               "draw at most 5000 (max_nodes=, --max-nodes), or write the DOT source (.dot) instead")
    assert render_graph(chain(3000), tmp_path / "g.dot", max_nodes=5001).path.exists()   # the source is fine
    with pytest.raises(ValueError, match=r"timeout=0 must be a number of seconds > 0"):
        render_graph(classic(), tmp_path / "g.svg", timeout=0)


def test_an_existing_folder_and_an_over_long_name_are_one_line(tmp_path, monkeypatch):
    (tmp_path / "g.svg").mkdir()
    with monkeypatch.context() as m:                   # refused before dot spends any time on it
        m.setattr(graph_module.subprocess, "run", lambda *a, **k: pytest.fail("dot was started"))
        with pytest.raises(GraphError) as info:
            render_graph(classic(), tmp_path / "g.svg")
    assert str(info.value) == (f"cannot write {tmp_path / 'g.svg'}: it is a folder; give a file name (inside it, "
                               f"e.g. {tmp_path / 'g.svg' / 'graph.svg'})")
    for suffix in (".svg", ".dot"):
        with pytest.raises(GraphError) as info:
            render_graph(classic(), tmp_path / ("g" * 296 + suffix))
        assert str(info.value) == (f"cannot write {tmp_path / ('g' * 40)}…(300 characters): a name in the path is "
                                   f"300 bytes long, more than the 255 most file systems allow; use a shorter name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]              # no temporary file left


@pytest.mark.parametrize("where, code, fix", [
    ("mkstemp", errno.EROFS, "the file system is read-only; choose a folder on a writable disk"),
    ("mkstemp", errno.EACCES, "permission denied; choose a place you can write to, or change its permissions"),
    ("fsync", errno.ENOSPC, "the disk is full; free some space or choose another disk"),
])
def test_a_read_only_folder_or_a_full_disk_is_one_line(tmp_path, monkeypatch, where, code, fix):
    # As root a chmod'ed folder stays writable, and no disk here is full: the system call fails instead.

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    target = io_module.tempfile if where == "mkstemp" else io_module.os
    monkeypatch.setattr(target, where, fail)
    for name in ("g.dot", "g.svg") if shutil.which("dot") else ("g.dot",):
        with pytest.raises(GraphError) as info:
            render_graph(classic(), tmp_path / name)
        assert str(info.value) == f"cannot write {tmp_path / name}: {fix}"
    assert list(tmp_path.iterdir()) == []                                       # nothing half-written


def test_the_documented_bounds():
    assert (graph_module.DOT_TIMEOUT, graph_module.MAX_LAYOUT_NODES, graph_module.QUICK_LAYOUT_ABOVE) == (60.0, 5000, 100)
    assert "MAX_LAYOUT_NODES (5000)" in render_graph.__doc__ and "DOT_TIMEOUT, 60 by default" in render_graph.__doc__
    assert "MAX_LENGTH (1000)" in expr.__doc__ and "MAX_PARTS (500)" in expr.__doc__
    assert "MAX_ELEMENTS (1,000,000)" in expr.__doc__
