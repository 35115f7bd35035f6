"""`edu graph`: files written on success, exit 2 with a one-line error on bad usage."""
import errno
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu.viz import graph as viz_graph

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
    assert run("--out", str(out), "--backward", "--max-nodes", "5", "--force").exit_code == 0
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
    assert "give --out FILE for a picture, or --steps FILE.html" in error_line(run())


def test_missing_folders_are_created_as_edu_train_creates_its_out(tmp_path):
    out = tmp_path / "new" / "deeper" / "g.dot"
    result = run("--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n" and "digraph" in out.read_text(encoding="utf-8")


def test_bad_usage_creates_no_folder(tmp_path):
    error_line(run("--out", str(tmp_path / "new" / "g.svg"), "--sizes", "2"))
    assert list(tmp_path.iterdir()) == []


# ----- writing safely: existing files, unwritable places, dot failures (issue #11) -----------------


SMALL = ["--expr", "(a*b + c).tanh()", "--value", "a=2", "--value", "b=-3", "--value", "c=10"]


def test_seed_names_the_option_and_its_range(tmp_path):
    line = error_line(run("--out", str(tmp_path / "g.dot"), "--seed", "-1"))
    assert "'--seed'" in line and "-1 is not in the range x>=0" in line


def test_an_existing_file_is_kept_without_force(tmp_path):
    out = tmp_path / "g.dot"
    out.write_text("made by the user")
    line = error_line(run("--out", str(out), *SMALL))
    assert f"{out} already exists; add --force to replace it" in line
    assert out.read_text() == "made by the user"
    result = run("--out", str(out), *SMALL, "--force")
    assert result.exit_code == 0, result.output
    assert "tanh" in out.read_text()
    assert "already exists" in error_line(run("--out", str(out), *SMALL))      # a file it wrote itself, too
    assert "refuses to overwrite" in " ".join(run("--help").output.split())


def test_without_dot_the_dot_file_it_would_write_is_guarded_too(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    (tmp_path / "g.dot").write_text("made by the user")
    assert "g.dot already exists" in error_line(run("--out", str(tmp_path / "g.png"), *SMALL))
    assert (tmp_path / "g.dot").read_text() == "made by the user"


@pytest.mark.parametrize("out, phrase", [
    ("folder.svg", "is a folder"),
    ("x" * 300 + ".svg", "File name too long"),
    ("", "names no file"),
    ("g\x00.svg", "names no file"),
])
def test_places_that_cannot_be_written(tmp_path, monkeypatch, out, phrase):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.svg").mkdir()
    line = error_line(run("--out", out, *SMALL))
    assert phrase in line and "--out" in line


@pytest.mark.parametrize("code, phrase", [(errno.EACCES, "permission denied; choose a place you can write to"),
                                         (errno.ENOSPC, "the disk is full; free some space or choose another disk")])
def test_write_errors_are_one_line(tmp_path, monkeypatch, code, phrase):
    def fail(path, data):
        raise OSError(code, os.strerror(code), str(path))
    monkeypatch.setattr(viz_graph, "atomic_write_text", fail)
    monkeypatch.setattr(viz_graph, "atomic_write_bytes", fail)
    for name in ("g.dot", "g.svg"):
        line = error_line(run("--out", str(tmp_path / name), *SMALL))
        assert f"cannot write {tmp_path / name}: {phrase}" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders (the test above simulates it)")
def test_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    assert "permission denied" in error_line(run("--out", str(folder / "g.dot"), *SMALL))


def test_full_disk(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    real = viz_graph.atomic_write_text

    def to_full_disk(path, text):
        with open("/dev/full", "w") as f:          # the write fails as on a full disk: ENOSPC
            f.write(text)
            f.flush()
        return real(path, text)
    viz_graph.atomic_write_text, saved = to_full_disk, viz_graph.atomic_write_text
    try:
        assert "the disk is full" in error_line(run("--out", str(tmp_path / "g.dot"), *SMALL))
    finally:
        viz_graph.atomic_write_text = saved
    assert list(tmp_path.iterdir()) == []


def _dot_run(outcome):
    """A stand-in for the subprocess.run that starts dot: it times out, or dot is killed."""
    def run_dot(cmd, **kwargs):
        if outcome == "timeout":
            raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])
        return subprocess.CompletedProcess(cmd, -9, b"", b"")
    return run_dot


@needs_dot
def test_a_slow_dot_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("tinygrad_edu.viz.graph.subprocess.run", _dot_run("timeout"))
    line = error_line(run("--out", str(tmp_path / "g.svg"), *SMALL))
    assert "Graphviz's dot did not finish laying out" in line and "within 60 s, so it was stopped" in line
    assert "--max-nodes" in line
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_a_killed_dot_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr("tinygrad_edu.viz.graph.subprocess.run", _dot_run("killed"))
    line = error_line(run("--out", str(tmp_path / "g.svg"), *SMALL))
    assert "Graphviz's dot was killed by SIGKILL" in line and "--max-nodes" in line
    assert list(tmp_path.iterdir()) == []


def test_a_bound_of_the_drawing_is_one_line(tmp_path, monkeypatch):
    class GraphTooLarge(ValueError):
        pass

    def render(*args, **kwargs):
        raise GraphTooLarge("render_graph: the graph has 401 nodes, more than 400\nsecond line")
    monkeypatch.setattr("tinygrad_edu.cli.graph.render_graph", render)
    result = run("--out", str(tmp_path / "g.svg"), *SMALL)
    assert "the graph has 401 nodes, more than 400" in error_line(result) and "second line" not in result.output


# ----- edu graph --steps: the backward stepper ------------------------------------------------------

def test_steps_writes_the_stepper_page_of_an_expression(tmp_path):
    page = tmp_path / "pages" / "reuse.html"                  # its folder is made, as for --out
    result = run("--steps", str(page), "--expr", "b = a + a; c = b + b", "--value", "a=1")
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {page}\n"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "2 + 2 = 4" in text    # the += on the re-used node b
    assert "http://" not in text and "https://" not in text             # one offline file


def test_steps_of_the_mlp_demo_and_force(tmp_path):
    page = tmp_path / "mlp.html"
    assert run("--steps", str(page), "--sizes", "2,3,1", "--batch", "2").exit_code == 0
    before = page.read_text()
    line = error_line(run("--steps", str(page), "--sizes", "2,3,1"))
    assert "already exists; add --force" in line and page.read_text() == before
    assert run("--steps", str(page), "--sizes", "2,3,1", "--seed", "1", "--force").exit_code == 0
    assert page.read_text() != before                             # another seed, other numbers


@pytest.mark.parametrize("args, needle", [
    ([], "give --out FILE for a picture, or --steps FILE.html"),
    (["--out", "g.svg", "--steps", "g.html"], "one of the two"),
    (["--steps", "g.svg"], "end the file name in .html"),
    (["--steps", ""], "end the file name in .html"),
    (["--steps", "g.html", "--backward"], "--backward is for pictures"),
    (["--steps", "g.html", "--expr", "a * 2", "--value", "a=1,2"], "gives one number"),
    (["--steps", "g.html", "--expr", "2 * 3"], "gives one number"),
])
def test_steps_bad_usage_is_one_line(tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    assert needle in error_line(run(*args))


def test_the_note_says_what_max_nodes_left_out(tmp_path):
    result = run("--out", str(tmp_path / "g.dot"), "--sizes", "2,30,30,1", "--max-nodes", "10")
    assert result.exit_code == 0
    assert "drew 10 of the graph's 24 nodes" in result.output        # (on stderr, which click's runner mixes in)
