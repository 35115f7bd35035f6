"""The backward stepper: its frames replay Tensor.backward exactly, the naive replay goes wrong where the
docstrings say, and the page works offline in a real browser (keys, slider, URL fragment, no script errors)."""
import html
import json
import re
import textwrap
import time

import numpy as np
import pytest

from _browser import Browser, chromium_binary
from tinygrad_edu import Tensor, concatenate
from tinygrad_edu.viz import mlp_loss_graph, step_backward, stepper
from tinygrad_edu.viz.stepper import (MAX_NAIVE_CALLS, MAX_NODES, backward_frames, backward_page, reuse_example,
                                      six_node_example)


# ----- graphs (each call builds a fresh copy) ---------------------------------------------------------------

def broadcast_graph():
    """Broadcasting (3,1) + (4,) and a scalar, with h and x each used more than once."""
    x = Tensor([[1.0], [2.0], [3.0]], requires_grad=True, name="x")
    b = Tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True, name="b")
    w = Tensor(1.5, requires_grad=True, name="w")
    h = (x + b) * w
    return (h * h).sum() + (h.relu() * x).mean()


def edge_points_graph():
    """relu and abs at 0, max with a tie, a huge value, a constant."""
    v = Tensor([0.0, 2.0, 2.0, -1.0, 1e300], requires_grad=True, name="v")
    return v.relu().sum() + v[:3].max() + (v - 2).abs().sum() + (v * 1e-300).sum()


def indexing_graph():
    a = Tensor.randn(3, 4, seed=0, requires_grad=True, name="a")
    s = concatenate([a[0], a[1:].sum(axis=0)])
    return (s.log_softmax() * s).sum() + (a @ a.T).mean()


def float32_graph():
    a = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float32, name="a")
    return ((a * 3 + a) ** 2).sum()


def empty_graph():
    e = Tensor(np.zeros((0, 3)), requires_grad=True, name="e")
    k = Tensor(2.0, requires_grad=True, name="k")
    return (e * k).sum() + k


def mlp_graph():
    return mlp_loss_graph((2, 4, 3), batch=4, seed=1)       # cross-entropy


def mlp_mse_graph():
    return mlp_loss_graph((2, 3, 1), batch=3, seed=2, activation="tanh")


def cut_graph():
    """An op whose backward returns None for its input: no gradient reaches z, so backward() skips it."""
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    z = a * 2
    cut = Tensor._result(z.data.copy(), (z,), "cut", lambda g: (None,))
    return cut.sum() + (a * a).sum()


GRAPHS = [reuse_example, six_node_example, broadcast_graph, edge_points_graph, indexing_graph, float32_graph,
          empty_graph, mlp_graph, mlp_mse_graph, cut_graph]


def grads_of(replay, frame=-1) -> dict:
    """name -> gradient in a frame, for graphs whose tensors have names."""
    return {replay.nodes[i].name: float(g) for i, g in replay.frames[frame].grads.items()}


# ----- the engine's order: the last frame is loss.backward() ----------------------------------------------

@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__)
def test_last_frame_equals_backward_on_a_fresh_copy(build):
    loss = build()
    replay = backward_frames(loss)
    assert all(t.grad is None for t in replay.nodes)          # replaying changes no .grad
    fresh = build()
    fresh.backward()
    fresh_nodes = backward_frames(fresh).nodes                 # the same graph, oldest first
    assert len(fresh_nodes) == len(replay.nodes)
    for i, t in enumerate(fresh_nodes):
        if t.grad is None:
            assert i not in replay.final
        else:
            got = replay.final[i]
            assert got.dtype == t.grad.dtype and got.shape == t.grad.shape
            assert got.tobytes() == t.grad.tobytes()         # bit for bit
    # ... and on the very same graph, after its own backward()
    loss.backward()
    for i, t in enumerate(replay.nodes):
        if t.grad is not None:
            assert replay.final[i].tobytes() == t.grad.tobytes()


@pytest.mark.parametrize("build", GRAPHS, ids=lambda f: f.__name__)
def test_frames_follow_the_engine_and_every_use_reports(build):
    loss = build()
    replay = backward_frames(loss)
    order = [replay.index(t) for t in reversed(loss.topological_order(leaves=False))]
    assert [f.node for f in replay.frames[1:-1]] == order      # one frame per op, newest first
    assert replay.frames[0].node is None and replay.frames[-1].node is None
    previous = replay.frames[0].waiting
    for frame in replay.frames:
        assert all(0 <= w <= p for w, p in zip(frame.waiting, previous))   # counts only go down
        previous = frame.waiting
        if frame.node is not None:
            assert frame.waiting[frame.node] == 0                # a node runs only once all uses reported
        for i, shares in frame.shares.items():                   # the +=: a gradient is the sum of its shares
            total = shares[0].astype(np.float64)
            for s in shares[1:]:
                total = total + s
            np.testing.assert_allclose(frame.grads[i], total, rtol=1e-6)
    assert replay.frames[-1].waiting == (0,) * len(replay.nodes)
    reached = {i for i in replay.final if replay.nodes[i].inputs} - {replay.index(loss)}
    for i in reached:
        assert len(replay.frames[-1].shares[i]) == replay.uses[i]    # one share per use


def test_cut_graph_skips_the_node_no_gradient_reaches():
    replay = backward_frames(cut_graph())
    z = next(i for i, t in enumerate(replay.nodes) if t.op == "mul" and t.inputs[1].name is None)
    frame = next(f for f in replay.frames if f.node == z)
    assert frame.title.endswith("is skipped") and z not in frame.grads
    a = next(i for i, t in enumerate(replay.nodes) if t.name == "a")
    assert len(replay.frames[-1].shares[a]) == 2             # from a * a only: z sent nothing


def test_uses_count_a_user_that_takes_the_node_twice_twice():
    replay = backward_frames(reuse_example())
    assert [(t.name, u) for t, u in zip(replay.nodes, replay.uses)] == [("a", 2), ("b", 2), ("c", 0)]
    constant = backward_frames(Tensor(3.0, requires_grad=True) * 2)
    assert constant.uses == (1, 0, 0)                        # the constant 2 needs no gradient


# ----- the two examples, by hand -----------------------------------------------------------------------

def test_reuse_example_right_is_4_naive_is_6():
    right = backward_frames(reuse_example())
    assert grads_of(right) == {"a": 4.0, "b": 2.0, "c": 1.0}        # ∂c/∂a = ∂c/∂b · ∂b/∂a = 2 · 2
    a = right.index(next(t for t in right.nodes if t.name == "a"))
    assert [float(s) for s in right.frames[-1].shares[a]] == [2.0, 2.0]   # grad(a) = 2 + 2 = 4

    naive = backward_frames(reuse_example(), mode="naive")
    assert grads_of(naive) == {"a": 6.0, "b": 2.0, "c": 1.0}
    assert naive.wrong == (a,)
    assert [float(s) for s in naive.frames[-1].shares[a]] == [1.0, 1.0, 2.0, 2.0]  # 1 + 1 + 2 + 2 = 6
    b_to_a = [j for j, e in enumerate(naive.edges) if e.src == a]
    assert [[float(s) for s in naive.frames[-1].sent[j]] for j in b_to_a] == [[1.0, 2.0], [1.0, 2.0]]
    assert len(naive.frames) == 9                 # seed, c, b, a, a, b again, a, a, and the verdict
    assert naive.frames[-1].waiting == (0, 0, 0)
    assert any("grad(a) is 6, not 4" in note for note in naive.frames[-1].notes)
    # the frame where it goes wrong: b runs with 1 while one of its two uses has not reported
    first_b = next(f for f in naive.frames if f.node == 1)
    assert first_b.waiting[1] == 1 and float(first_b.grads[1]) == 1.0
    assert any("an incomplete gradient" in note for note in first_b.notes)


def six_node_function(x, y):
    a = x * y
    return a * (a + x) + a


def test_six_node_example_matches_its_docstring_and_finite_differences():
    right = backward_frames(six_node_example())
    g = grads_of(right)
    x, y = 2.0, 3.0
    a = x * y
    assert g["a"] == 2 * a + x + 1 == 15                     # ∂L/∂a = 2a + x + 1
    assert g["x"] == y * g["a"] + a == 51 and g["y"] == x * g["a"] == 30
    h = 1e-5
    assert abs((six_node_function(x + h, y) - six_node_function(x - h, y)) / (2 * h) - 51) < 1e-6
    assert abs((six_node_function(x, y + h) - six_node_function(x, y - h)) / (2 * h) - 30) < 1e-6
    assert len(right.nodes) == 6

    naive = backward_frames(six_node_example(), mode="naive")
    n = grads_of(naive)
    assert (n["x"], n["y"], n["a"]) == (117.0, 74.0, 15.0)
    ai = next(i for i, t in enumerate(naive.nodes) if t.name == "a")
    runs = [float(f.grads[ai]) for f in naive.frames[1:-1] if f.node == ai]
    assert runs == [8.0, 14.0, 15.0]                          # a's backward ran with the partial sums S_j
    shares = [float(s) for s in naive.frames[-1].shares[ai]]
    assert shares == [8.0, 6.0, 1.0] and list(np.cumsum(shares)) == runs
    yi = next(i for i, t in enumerate(naive.nodes) if t.name == "y")
    a_to_y = next(j for j, e in enumerate(naive.edges) if e.src == yi and e.dst == ai)   # y is input 2 of a
    assert [float(s) for s in naive.frames[-1].sent[a_to_y]] == [x * s for s in runs]   # x · S_j to y
    assert n["x"] == y * sum(runs) + g["b"]                   # S1 + S2 + S3 passed on, instead of S3
    assert {naive.nodes[i].name for i in naive.wrong} == {"x", "y"}


def test_six_node_example_against_torch():
    torch = pytest.importorskip("torch")
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    six_node_function(x, y).backward()
    g = grads_of(backward_frames(six_node_example()))
    assert (g["x"], g["y"]) == (x.grad.item(), y.grad.item())


def test_naive_is_right_when_no_op_result_is_used_twice():
    right, naive = backward_frames(mlp_graph()), backward_frames(mlp_graph(), mode="naive")
    assert all(u <= 1 for t, u in zip(naive.nodes, naive.uses) if t.inputs)   # cross-entropy is one op
    assert naive.wrong == ()
    assert any("every op result received one share" in note for note in naive.frames[-1].notes)
    for i, g in right.final.items():
        assert naive.final[i].tobytes() == g.tobytes()


def test_naive_gets_mse_wrong_below_diff_times_diff():
    right, naive = backward_frames(mlp_mse_graph()), backward_frames(mlp_mse_graph(), mode="naive")
    diff = next(i for i, t in enumerate(naive.nodes) if t.op == "sub")
    assert naive.uses[diff] == 2                                  # mse = mean(diff * diff)
    assert naive.final[diff].tobytes() == right.final[diff].tobytes()   # diff itself still adds up right
    assert diff not in naive.wrong and 0 in naive.wrong          # ... but it ran twice: the weights are wrong
    w = naive.index(next(t for t in naive.nodes if t.name == "layers.0.W"))
    np.testing.assert_allclose(naive.final[w], 3 * right.final[w])     # shares g, g: passes on g + 2g


def test_naive_runs_twice_but_is_right_when_the_extra_shares_are_zero():
    a = Tensor(-1.0, requires_grad=True, name="a")
    b = a.relu()
    b.name = "b"
    naive = backward_frames(b + b, mode="naive")
    assert naive.wrong == () and float(naive.final[0]) == 0.0
    assert any("b 2 times" in note for note in naive.frames[-1].notes)


@pytest.mark.parametrize("a", [1.0, -3.5, 0.0, 1e6])
def test_reuse_example_is_4_and_6_for_every_a(a):
    assert float(backward_frames(reuse_example(a)).final[0]) == 4.0
    assert float(backward_frames(reuse_example(a), mode="naive").final[0]) == 6.0


def test_naive_work_doubles_with_every_reused_node_on_the_path():
    for k in range(1, 6):
        x = Tensor(1.0, requires_grad=True, name="x")
        y = x
        for _ in range(k):                                    # k nodes, each used twice by the next
            y = y + y
        naive = backward_frames(y, mode="naive")
        assert sum(1 for f in naive.frames if f.node == 0) == 2 ** k     # shares that reach x


def test_naive_gives_up_after_max_calls_and_the_page_says_why():
    x = Tensor(1.0, requires_grad=True, name="x")
    for _ in range(11):                                       # 2**11 paths from the output to x
        x = x + x
    with pytest.raises(ValueError, match=f"more than {MAX_NAIVE_CALLS} calls"):
        backward_frames(x, mode="naive")
    assert float(backward_frames(x).final[0]) == 2.0 ** 11
    page = backward_page(x)
    data = page_data(page)
    assert data["modes"]["naive"] is None
    assert "The naive replay is not available for this graph" in page and 'id="mode-naive" type="button" ' \
        'aria-pressed="false" disabled' in page


def test_the_module_docstring_usage_runs_and_says_6(tmp_path, monkeypatch):
    block = re.search(r"Usage::\n\n((?:    .*\n|\n)+)", stepper.__doc__)[1]
    code = textwrap.dedent(block)
    assert "step_backward(c" in code
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(code, scope)
    assert (tmp_path / "backprop.html").is_file()
    replay, a = scope["replay"], scope["a"]
    assert float(replay.final[replay.index(a)]) == 6.0
    assert float(backward_frames(scope["c"]).final[replay.index(a)]) == 4.0


# ----- bad input ----------------------------------------------------------------------------------------

def test_bad_input_is_a_one_line_error():
    with pytest.raises(TypeError, match="expected the Tensor"):
        backward_frames(3.0)
    with pytest.raises(ValueError, match="does not require grad"):
        backward_frames(Tensor(1.0) * 2)
    with pytest.raises(ValueError, match=r"shape \(2,\), not a single number.*\.sum\(\)"):
        backward_frames(Tensor([1.0, 2.0], requires_grad=True) * 2)
    with pytest.raises(ValueError, match="mode='recursive' is not one of reverse, naive"):
        backward_frames(reuse_example(), mode="recursive")
    with pytest.raises(ValueError, match="rankdir='XY'"):
        backward_page(reuse_example(), rankdir="XY")


def test_a_graph_above_the_node_limit_is_refused_with_the_limit_and_a_way_out():
    w = Tensor(1.0, requires_grad=True, name="w")
    y = w
    for _ in range(MAX_NODES):
        y = y * 1.0001
    with pytest.raises(ValueError) as err:
        backward_frames(y)
    message = str(err.value)
    assert "\n" not in message and f"more than {MAX_NODES} tensors" in message
    assert "smaller graph" in message and "render_graph" in message
    small = mlp_loss_graph((2, 3, 1), batch=2)                # the suggested size fits
    assert len(backward_frames(small).nodes) <= MAX_NODES


def test_non_scalar_output_with_a_gradient_matches_backward():
    def build():
        x = Tensor([1.0, -2.0, 3.0], requires_grad=True, name="x")
        return (x * x).tanh()
    seed = np.array([1.0, 0.5, -2.0])
    replay = backward_frames(build(), gradient=seed)
    fresh = build()
    fresh.backward(seed)
    x = fresh.inputs[0].inputs[0]
    assert replay.final[0].tobytes() == x.grad.tobytes()
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) does not match"):
        backward_frames(build(), gradient=[1.0, 2.0])


def test_a_leaf_as_the_output():
    leaf = Tensor(5.0, requires_grad=True, name="w")
    replay = backward_frames(leaf)
    assert len(replay.frames) == 2 and float(replay.final[0]) == 1.0
    leaf.backward()
    assert float(leaf.grad) == 1.0


def test_step_backward_writes_atomically_and_replaces_only_with_force(tmp_path):
    path = tmp_path / "backprop.html"
    assert step_backward(reuse_example(), path) == path
    first = path.read_text()
    assert first.startswith("<!DOCTYPE html>")
    with pytest.raises(FileExistsError, match="already exists; pass force=True"):
        step_backward(six_node_example(), path)
    assert path.read_text() == first
    step_backward(six_node_example(), path, force=True)
    assert path.read_text() != first
    assert [p.name for p in tmp_path.iterdir()] == ["backprop.html"]   # no temporary file left behind
    with pytest.raises(ValueError, match="end the file name in .html"):
        step_backward(reuse_example(), tmp_path / "g.svg")
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        step_backward(reuse_example(), tmp_path / "missing" / "g.html")


def test_a_deep_hub_graph_skips_dot_and_stays_quick():
    """x used by every step of a deep graph: dot took minutes on such graphs, so they get the layered layout."""
    x = Tensor(0.5, requires_grad=True, name="x")
    h = x
    for _ in range(60):
        h = h * x + h
    start = time.perf_counter()
    data = page_data(backward_page(h))
    assert time.perf_counter() - start < 5
    assert data["layout"] == "layered" and len(data["nodes"]) == 1 + 2 * 60
    assert data["modes"]["naive"] is None                     # 2**60 paths: the naive replay gives up


# ----- the page, read as text ----------------------------------------------------------------------------

def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="stepper-data">(.*?)</script>', page, re.S)[1])


@pytest.mark.parametrize("build", [reuse_example, six_node_example, mlp_graph], ids=lambda f: f.__name__)
def test_page_is_self_contained_and_offline(build):
    page = backward_page(build())
    assert "http://" not in page and "https://" not in page and "//" not in re.sub(r"<script>.*?</script>", "",
                                                                                 page, flags=re.S)
    for loader in ("src=", "href=", "@import", "<link", "<iframe", "fetch(", "XMLHttpRequest"):
        assert loader not in page
    assert re.findall(r"url\((.)", page) and set(re.findall(r"url\((.)", page)) == {"#"}   # only in-page markers
    assert page.count("<svg") == 1 and page.count("<style>") == 1
    assert len(page.encode()) < 200_000


def test_page_is_deterministic():
    assert backward_page(six_node_example()) == backward_page(six_node_example())


def test_page_says_where_the_naive_answer_goes_wrong():
    page = backward_page(reuse_example())
    data = page_data(page)
    naive = data["modes"]["naive"]
    assert naive["wrong"] == [0] and naive["right"] == {"0": "4"}
    assert "The naive order got 1 of 3 gradients wrong: grad(a) is 6, not 4." in naive["frames"][-1]["notes"]
    assert "runs its backward k times" in page and "instead of S<sub>k</sub>" in page


def test_names_are_escaped():
    name = '<b>x</b> & "y" </script><script>alert(1)</script>'
    w = Tensor(2.0, requires_grad=True, name=name)
    page = backward_page(w * w)
    assert "<b>x" not in page and "alert(1)</script>" not in page
    assert html.escape(name) in page
    assert page_data(page)["nodes"][0]["name"] == name       # the JSON carries it intact


def test_dot_layout_and_the_fallback_without_dot(monkeypatch):
    with_dot = page_data(backward_page(six_node_example()))
    if stepper.shutil.which("dot") is not None:
        assert with_dot["layout"] == "dot"
    monkeypatch.setattr(stepper.shutil, "which", lambda name: None)
    page = backward_page(six_node_example())
    assert page_data(page)["layout"] == "layered"
    boxes = [tuple(float(v) for v in m) for m in
             re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', page)]
    assert len(boxes) == 6
    for i, (x, y, w, h) in enumerate(boxes):                  # no two boxes overlap
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y
    # the output is in the right-most column, the leaves left of everything they feed
    names = re.findall(r'class="node [^"]*" id="n(\d+)" data-name="([^"]*)"', page)
    where = {name: boxes[int(i)] for i, name in names}
    assert where["L"][0] == max(b[0] for b in boxes)
    assert where["x"][0] < where["a"][0] < where["b"][0] < where["c"][0]


# ----- in a real browser ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary found (apt-get install chromium); the browser tests need it")
    with Browser(binary) as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stepper")
    out = {}
    for name, build in [("reuse", reuse_example), ("six", six_node_example), ("mlp", mlp_graph)]:
        out[name] = step_backward(build(), folder / f"{name}.html").as_uri()
    return out


def text(browser, selector: str) -> str:
    return browser.evaluate(f"document.querySelector({json.dumps(selector)}).textContent")


def assert_clean(browser):
    """No uncaught exception, console error or failed load; nothing fetched but our own files."""
    assert browser.problems() == []
    assert text(browser, "#errors") == ""
    assert all(url.startswith("file://") for url in browser.requests())
    browser.events.clear()


def test_browser_fragment_selects_the_frame(browser, pages):
    browser.open(pages["reuse"] + "#frame=2")
    assert text(browser, "#counter") == "frame 2 / 3"
    assert text(browser, "#title") == "b runs its backward"
    assert text(browser, "#n0 .grad") == "grad 2 + 2 = 4"             # a: the += of its two shares
    assert text(browser, "#n0 .uses") == "all 2 uses reported"
    assert [text(browser, f"#e{j} .elabel") for j in range(4)] == ["2", "2", "1", "1"]   # b→a twice, c→b twice
    assert browser.evaluate("document.getElementById('n1').getAttribute('class')").endswith("state-current")
    browser.open(pages["reuse"] + "#frame=1")
    assert text(browser, "#n0 .grad") == "grad ?" and text(browser, "#n1 .grad") == "grad 1 + 1 = 2"
    assert text(browser, "#n0 .uses") == "waiting for 2 of 2 uses"
    browser.open(pages["reuse"] + "#frame=99")                          # clamped to the last frame
    assert text(browser, "#counter") == "frame 3 / 3"
    assert_clean(browser)


def test_browser_keys_step_through_the_frames(browser, pages):
    browser.open(pages["reuse"])
    assert text(browser, "#counter") == "frame 0 / 3" and text(browser, "#n0 .grad") == "grad ?"
    browser.key("ArrowRight")
    browser.key("ArrowRight")
    assert text(browser, "#counter") == "frame 2 / 3"
    assert text(browser, "#n0 .grad") == "grad 2 + 2 = 4"
    assert browser.evaluate("location.hash") == "#frame=2"               # the address follows
    browser.key("End")
    assert text(browser, "#counter") == "frame 3 / 3"
    browser.key("ArrowRight")
    assert text(browser, "#counter") == "frame 3 / 3"
    browser.key("Home")
    browser.key("ArrowLeft")
    assert text(browser, "#counter") == "frame 0 / 3"
    browser.evaluate("document.getElementById('slider').focus()")       # on the slider a key is still one step
    browser.key("ArrowRight")
    assert text(browser, "#counter") == "frame 1 / 3"
    browser.evaluate("var s = document.getElementById('slider'); s.value = '2'; "
                     "s.dispatchEvent(new Event('input'))")
    assert text(browser, "#n0 .grad") == "grad 2 + 2 = 4"
    assert_clean(browser)


def test_browser_naive_replay_shows_the_wrong_value(browser, pages):
    browser.open(pages["reuse"] + "#mode=naive&frame=8")
    assert text(browser, "#counter") == "frame 8 / 8"
    assert text(browser, "#n0 .grad") == "grad 1 + 1 + 2 + 2 = 6"
    assert text(browser, "#n0 .mark") == "✗ right: 4"
    b_to_a = [j for j, e in enumerate(backward_frames(reuse_example()).edges) if e.src == 0]
    assert [text(browser, f"#e{j} .elabel") for j in b_to_a] == ["1, 2", "1, 2"]   # each edge sent twice
    assert browser.evaluate("document.getElementById('n0').getAttribute('class')").endswith("state-wrong")
    assert "grad(a) is 6, not 4" in text(browser, "#notes")
    browser.open(pages["reuse"] + "#mode=naive&frame=2")                 # where it goes wrong
    assert text(browser, "#n1 .uses") == "waiting for 1 of 2 uses"
    assert "an incomplete gradient" in text(browser, "#notes")
    # the toggle: the engine's order gives 4 and marks nothing
    browser.key("End")
    browser.evaluate("document.getElementById('mode-reverse').click()")
    assert browser.evaluate("location.hash") == "#frame=3"
    assert text(browser, "#n0 .grad") == "grad 2 + 2 = 4" and text(browser, "#n0 .mark") == ""
    browser.evaluate("document.getElementById('mode-naive').click()")
    assert browser.evaluate("document.getElementById('mode-naive').getAttribute('aria-pressed')") == "true"
    browser.key("End")
    assert text(browser, "#n0 .grad") == "grad 1 + 1 + 2 + 2 = 6"
    assert_clean(browser)


def test_browser_six_node_naive_marks_x_and_y(browser, pages):
    browser.open(pages["six"] + "#mode=naive&frame=14")
    marks = browser.evaluate("Array.from(document.querySelectorAll('.node')).map(function (g) {"
                             "var m = g.querySelector('.mark'); return g.dataset.name + ':' + (m ? m.textContent : '')})")
    assert sorted(marks) == ["L:", "a:", "b:", "c:", "x:✗ right: 51", "y:✗ right: 30"]
    browser.open(pages["six"] + "#frame=5")
    assert text(browser, "#graph [data-name='a'] .grad") == "grad 1 + 8 + 6 = 15"
    assert_clean(browser)


def test_browser_mlp_shows_the_engine_gradients(browser, pages):
    browser.open(pages["mlp"])
    browser.key("End")
    fresh = mlp_graph()
    fresh.backward()
    replay = backward_frames(fresh)
    for i, t in enumerate(replay.nodes):
        if t.name == "layers.2.b" or t.name == "layers.0.W":
            shown = browser.evaluate(f"Array.from(document.querySelectorAll('#n{i} .grad tspan'))"
                                     f".map(function (s) {{ return s.textContent; }}).join(' ')")
            body = shown.split("shape")[0]
            numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", body)]
            np.testing.assert_allclose(numbers, t.grad.reshape(-1), rtol=1e-3)   # shown to 4 digits
    assert_clean(browser)


def test_browser_escapes_names_and_works_with_the_fallback_layout(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(stepper.shutil, "which", lambda name: None)
    name = '<b>w</b> & "q"'
    w = Tensor(2.0, requires_grad=True, name=name)
    uri = step_backward(w * w, tmp_path / "names.html").as_uri()
    browser.open(uri + "#frame=1")
    assert text(browser, "#n0 .title") == name
    assert browser.evaluate("document.querySelectorAll('#graph b').length") == 0
    assert text(browser, "#n0 .grad") == "grad 2 + 2 = 4"                 # ∂(w·w)/∂w = 2w, in two shares
    assert_clean(browser)


def test_browser_error_collection_catches_a_script_error(browser, tmp_path):
    """The harness itself: a page with a broken script is reported (so 'no errors' above means something)."""
    page = backward_page(reuse_example()).replace("var mode = \"reverse\", frame = 0;",
                                                  "var mode = \"reverse\", frame = 0; undefinedFunction();")
    path = tmp_path / "broken.html"
    path.write_text(page)
    browser.open(path.as_uri(), ready_flag=False)
    problems = browser.problems()
    assert any("undefinedFunction" in p for p in problems)
    assert "undefinedFunction" in text(browser, "#errors")
    browser.events.clear()
