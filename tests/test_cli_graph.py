"""`edu graph`: files written on success, exit 2 with a one-line error on bad usage."""
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
CLASSIC = ["--expr", "e = a*b; d = e + c; L = d * f", "--value", "a=2", "--value", "b=-3", "--value", "c=10",
           "--value", "f=-2"]


def run(*args):
    return CliRunner().invoke(cli, ["graph", *args])


def error_line(result) -> str:
    """The one line that says what went wrong."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@needs_dot
def test_expression_with_backward_renders_an_svg(tmp_path):
    out = tmp_path / "neuron.svg"
    result = run("--out", str(out), "--backward", "--scalar", *CLASSIC)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    texts = [t.text for t in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text")]
    for label in ("L", "data -8", "grad 1", "a", "grad 6", "b", "grad -4", "c", "grad -2", "f", "grad 4"):
        assert label in texts


def test_expression_to_dot_without_backward_has_no_gradients(tmp_path):
    out = tmp_path / "neuron.dot"
    result = run("--out", str(out), "--expr", "(a*b + c).tanh()", "--value", "a=2", "--value", "b=-3",
                 "--value", "c=10", "--rankdir", "TB")
    assert result.exit_code == 0, result.output
    source = out.read_text(encoding="utf-8")
    assert "rankdir=TB" in source and "tanh" in source and "data 10" in source and "\\lgrad " not in source


def test_vector_values(tmp_path):
    out = tmp_path / "dot.dot"
    result = run("--out", str(out), "--expr", "(w @ x).sum()", "--value", "w=1,2", "--value", "x=3,-1",
                 "--backward", "--scalar")
    assert result.exit_code == 0, result.output
    source = out.read_text(encoding="utf-8")
    assert "{ w[1] | data 2 | grad -1 }" in source and "{ output | data 1 | grad 1 }" in source


def test_mlp_demo_forward_and_backward(tmp_path):
    forward, backward = tmp_path / "f.dot", tmp_path / "b.dot"
    assert run("--out", str(forward), "--sizes", "2,4,1", "--batch", "4", "--seed", "0").exit_code == 0
    result = run("--out", str(backward), "--sizes", "2,4,1", "--batch", "4", "--seed", "0", "--backward")
    assert result.exit_code == 0, result.output
    f, b = forward.read_text(encoding="utf-8"), backward.read_text(encoding="utf-8")
    for text in ("layers.0.W", "layers.2.b", "layers.0: Linear(2→4)", "loss"):
        assert text in f and text in b
    assert "\\lgrad " not in f and "\\lgrad " in b and "‖g‖" in b
    # same options, same file, byte for byte
    again = tmp_path / "again.dot"
    run("--out", str(again), "--sizes", "2,4,1", "--batch", "4", "--seed", "0", "--backward")
    assert again.read_bytes() == backward.read_bytes()


def test_options_reach_the_drawing(tmp_path):
    out = tmp_path / "g.dot"
    result = run("--out", str(out), "--backward", "--no-data", "--no-grad", "--no-groups")
    assert result.exit_code == 0, result.output
    source = out.read_text(encoding="utf-8")
    assert "\\ldata " not in source and "\\lgrad " not in source and "‖g‖" not in source
    assert "\\lshape (" in source and "subgraph cluster" not in source and "nodes not shown" not in source
    assert run("--out", str(out), "--backward", "--max-nodes", "5").exit_code == 0
    source = out.read_text(encoding="utf-8")
    assert "nodes not shown (max_nodes=5)" in source and "\\lgrad " in source


def test_without_dot_writes_the_dot_file_and_prints_the_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    out = tmp_path / "g.png"
    result = run("--out", str(out), *CLASSIC)
    assert result.exit_code == 0, result.output
    assert not out.exists() and (tmp_path / "g.dot").exists()
    assert result.stdout == f"wrote {tmp_path / 'g.dot'}\n"
    hint = result.stderr.strip()
    assert "\n" not in hint and "apt-get install graphviz" in hint and "dot -Tpng" in hint


@pytest.mark.parametrize("args, phrase", [
    (["--expr", "__import__('os').system('echo hi')"], "'__import__' is not allowed"),
    (["--expr", "a.__class__", "--value", "a=1"], "'__class__' is not allowed"),
    (["--expr", "[x for x in a]", "--value", "a=1"], "list comprehension is not allowed"),
    (["--expr", "(lambda: a)()", "--value", "a=1"], "lambda is not allowed"),
    (["--expr", "a + x", "--value", "a=1"], "unknown name 'x'"),
    (["--expr", "a +", "--value", "a=1"], "cannot parse"),
    (["--expr", "a", "--value", "a=1", "--value", "b=2"], "does not use: b"),
    (["--expr", "a", "--value", "a"], "write NAME=NUMBER"),
    (["--expr", "a", "--value", "a=two"], "write NAME=NUMBER"),
    (["--expr", "a", "--value", "a=1", "--value", "a=2"], "'a' is given twice"),
    (["--expr", "a * 2", "--value", "a=1,2", "--backward"], "needs a single number"),
    (["--expr", "2 * 3", "--backward"], "no gradient"),
    (["--expr", "a", "--value", "a=1", "--sizes", "2,3"], "--sizes is for the MLP demo"),
    (["--value", "a=1"], "--value gives a value to a name in --expr"),
    (["--sizes", "2"], "at least two layer sizes"),
    (["--sizes", "2,x,1"], "at least two layer sizes"),
    (["--sizes", "2,0,1"], "at least two layer sizes"),
    (["--batch", "0"], "--batch"),
    (["--max-nodes", "0"], "--max-nodes"),
    (["--rankdir", "UP"], "--rankdir"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, args, phrase):
    assert phrase in error_line(run("--out", str(tmp_path / "g.svg"), *args))
    assert list(tmp_path.iterdir()) == []


def test_bad_output_paths(tmp_path):
    assert "end the file name in .svg" in error_line(run("--out", str(tmp_path / "g.jpg")))
    (tmp_path / "afile").write_text("")
    assert "cannot create the folder" in error_line(run("--out", str(tmp_path / "afile" / "g.svg")))
    assert "Missing option '--out'" in error_line(run())


def test_missing_folders_are_created_as_edu_train_creates_its_out(tmp_path):
    out = tmp_path / "new" / "deeper" / "g.dot"
    result = run("--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n" and "digraph" in out.read_text(encoding="utf-8")


def test_bad_usage_creates_no_folder(tmp_path):
    error_line(run("--out", str(tmp_path / "new" / "g.svg"), "--sizes", "2"))
    assert list(tmp_path.iterdir()) == []
