"""The chapters as Jupyter notebooks: built by `tutorials/build.py --notebooks`, run through a real kernel.

Every chapter is written as a notebook and executed top to bottom ("Run All") by nbclient in an
ipykernel, in a temporary folder: no errors, nothing on stderr, exactly one image output for each
figure the chapter shows (the very file it saved) and one for each explorer, and the solutions,
folded in Markdown cells, are never run. The display helpers behind it (`viz.plots.show`,
`Rendered`, the figures of `viz.plots`) are tested here without a kernel.
"""
import asyncio
import base64
import importlib.util
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tinygrad_edu import Tensor, nn, optim  # noqa: E402
from tinygrad_edu.data import get_dataset  # noqa: E402
from tinygrad_edu.train import fit  # noqa: E402
from tinygrad_edu.viz import plots, render_graph  # noqa: E402
from tinygrad_edu.viz.graph import Rendered  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
_spec = importlib.util.spec_from_file_location("tutorials_build_nb", TUTORIALS / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build  # dataclasses look their module up there
_spec.loader.exec_module(build)

CHAPTERS = build.chapters(TUTORIALS)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_TYPES = ("image/png", "image/svg+xml")
EXPLORER_CALL = re.compile(r"\bexplore\.(landscape|ablation|stability)\(")
KERNELS_AT_ONCE = 2           # one per core: more only makes each chapter slower
# The budgets (10 s a chapter, 60 s for all on 2 cores) are checked on the kernels' CPU time, which a busy
# machine does not inflate as it does the wall-clock time (that is only guarded, generously).
CPU_SECONDS_PER_NOTEBOOK = 10
CPU_SECONDS_FOR_ALL = 60
WALL_SECONDS_PER_NOTEBOOK = 120
CPU_CELL = "cpu-seconds"      # appended to the executed copies: the kernel prints the CPU time it used


def _marker_registered(name: str) -> bool:
    config = getattr(pytest.mark, "_config", None)     # pytest's own config, once a session runs
    return config is not None and any(line.split(":")[0].strip() == name for line in config.getini("markers"))


# The kernel runs take most of this file's time: marked `slow` (select with -m slow, skip with -m "not slow")
# where pyproject.toml registers the marker; an unregistered marker would be a warning, which is an error here.
slow = pytest.mark.slow if _marker_registered("slow") else (lambda test: test)


# ----- the notebook a chapter becomes --------------------------------------------------------------

DEMO = """# Chapter 1: Demo

What you will do.

> **Run it yourself:** this chapter is also a notebook, for Jupyter, Colab or Binder: see [Running the chapters](README.md#running-the-chapters).

```python
x = 2
print(x * 3)
```

```text
6
```

![A figure](figures/01-demo.png)

## A section

```bash
edu train --optimizer sgd
```

## Exercises

### Exercise 1: triple

<details>
<summary>Solution</summary>

```python
assert 3 * x == 6
```

```text
stale
```

</details>

Next: nothing.
"""


def test_a_chapter_becomes_markdown_and_code_cells_without_its_recorded_outputs():
    nb = build.notebook(DEMO, "01")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "markdown", "code", "markdown", "markdown", "markdown", "markdown", "markdown"]
    assert [c.id for c in nb.cells] == [f"01-{n}" for n in range(1, 9)]        # the same ids every build
    assert nb.cells[0].source == "# Chapter 1: Demo\n\nWhat you will do."
    assert nb.cells[1].source == build.RUN_ANYWHERE                            # the pointer line became the note
    assert nb.cells[2].source == "x = 2\nprint(x * 3)" and nb.cells[2].outputs == []
    sources = "\n".join(c.source for c in nb.cells)
    assert "```text\n6\n```" not in sources                                    # the recorded output: the cell prints it
    assert "figures/01-demo.png" not in sources                                # the figure: the cell shows it
    assert nb.cells[3].source == "## A section\n\n```bash\nedu train --optimizer sgd\n```"
    assert nb.cells[5].source == "### Exercise 1: triple"
    fold = nb.cells[6].source                                                  # the solution: one folded cell
    assert fold.startswith("<details>\n<summary>Solution</summary>") and fold.endswith("</details>")
    assert "```python\nassert 3 * x == 6\n```" in fold and "```text\nstale\n```" in fold
    assert nb.cells[7].source == "Next: nothing."
    assert nb.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nb)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_code_cells_are_the_chapter_blocks_and_solutions_stay_folded(path):
    text = path.read_text(encoding="utf-8")
    nb = build.notebook(text, path.stem[:2])
    blocks = build.parse(text)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == [b.code.strip("\n") for b in blocks if not b.solution]
    folds = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("<details>")]
    solutions = [b for b in blocks if b.solution]
    assert solutions and len(folds) == len(re.findall(r"^<details>", text, re.M))
    for block in solutions:
        assert sum(block.code.strip("\n") in fold for fold in folds) == 1, f"{path.name}, line {block.line}"
    assert text.count(build.RUN_ANYWHERE_LINE) == 1, f"{path.name} lacks the run-anywhere line"
    assert sum(c.source == build.RUN_ANYWHERE for c in nb.cells) == 1
    shown = [c.source for c in nb.cells if c.cell_type == "markdown" and "](figures/" in c.source]
    assert not shown, f"{path.name}: a figure would be shown twice in the notebook"


def test_the_run_anywhere_note_says_what_to_install():
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    install = '%pip install "tinygrad_edu[explore] @ git+<repo-url>"'
    assert "\n## Running the chapters\n" in readme                          # the anchor the chapters link to
    assert install in readme and install in build.RUN_ANYWHERE
    for text in (readme, build.RUN_ANYWHERE):
        assert "graphviz" in text and "Colab" in text and "Binder" in text


# ----- writing them ----------------------------------------------------------------------------------

def _demo_folder(directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "01-demo.md").write_text(DEMO, encoding="utf-8")
    return directory


def test_notebooks_are_written_once_and_a_run_or_edited_one_is_kept(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")
    folder = _demo_folder(tmp_path / "tutorials")
    target = folder / "01-demo.ipynb"
    assert build.main(["--notebooks"], directory=folder) == 0
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["tinygrad_edu"]["built_from"] == "01-demo.md"
    first = target.read_bytes()
    assert build.main(["--notebooks"], directory=folder) == 0                 # the same notebook: same bytes
    assert target.read_bytes() == first and "unchanged" in capsys.readouterr().out

    (folder / "01-demo.md").write_text(DEMO.replace("x * 3", "x * 4"), encoding="utf-8")
    assert build.main(["--notebooks"], directory=folder) == 0                 # untouched build product: replaced
    assert "print(x * 4)" in target.read_text(encoding="utf-8")

    nb = nbformat.read(target, as_version=4)                                   # the student runs a cell ...
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="8\n")]
    nbformat.write(nb, target)
    ran = target.read_bytes()
    (folder / "01-demo.md").write_text(DEMO, encoding="utf-8")
    capsys.readouterr()
    assert build.main(["--notebooks"], directory=folder) == 1                 # ... so the build keeps it
    assert target.read_bytes() == ran
    assert "pass --force to replace it" in capsys.readouterr().out
    (folder / "01-demo.ipynb").write_text("my own notes", encoding="utf-8")    # not even a notebook: kept too
    assert build.main(["--notebooks"], directory=folder) == 1
    assert target.read_text(encoding="utf-8") == "my own notes"
    assert build.main(["--notebooks", "--force"], directory=folder) == 0
    assert target.read_bytes() == first

    elsewhere = tmp_path / "mine"
    assert build.main(["01", "--notebooks", str(elsewhere)], directory=folder) == 0
    assert (elsewhere / "01-demo.ipynb").read_bytes() == first
    assert not (folder / "figures").exists()                                  # --notebooks runs nothing


@pytest.mark.parametrize("argv, message", [
    (["--notebooks", "01"], "--notebooks takes a folder, not a chapter number"),
    (["--force"], "--force only applies to --notebooks"),
    (["--check", "--notebooks"], "--check and --notebooks do different things"),
])
def test_bad_notebook_options_are_one_line_usage_errors(tmp_path, capsys, argv, message):
    folder = _demo_folder(tmp_path / "tutorials")
    with pytest.raises(SystemExit) as exit_:
        build.main(argv, directory=folder)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not list(folder.glob("*.ipynb"))


# ----- what a notebook displays ----------------------------------------------------------------------

@pytest.fixture
def fake_kernel(monkeypatch):
    """We are in a Jupyter kernel; what would be displayed is collected."""
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(plots, "in_kernel", lambda: True)
    monkeypatch.setattr(display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    return shown


def _line_figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4])
    return fig


def test_show_saves_displays_the_saved_image_once_and_closes(tmp_path, fake_kernel, capsys):
    fig = _line_figure()
    assert plots.show(fig, tmp_path / "a.png") is None
    saved = (tmp_path / "a.png").read_bytes()
    assert saved.startswith(PNG_MAGIC)
    assert fake_kernel == [({"image/png": saved}, True)]
    assert not plt.fignum_exists(fig.number)                      # closed: the inline backend shows it no more
    assert capsys.readouterr() == ("", "")
    other = _line_figure()
    plots.save_figure(other, tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes() == saved             # the same bytes as save_figure
    plots.show(other, tmp_path / "c.svg")
    assert fake_kernel[-1] == ({"image/svg+xml": (tmp_path / "c.svg").read_text(encoding="utf-8")}, True)
    plots.show(_line_figure())                                    # no path: shown, nothing saved
    assert fake_kernel[-1][0]["image/png"].startswith(PNG_MAGIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "c.svg"]
    plt.close("all")


def test_show_outside_a_kernel_only_saves_and_closes(tmp_path, capsys):
    fig = _line_figure()
    plots.show(fig, tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes().startswith(PNG_MAGIC)
    assert not plt.fignum_exists(fig.number)
    assert capsys.readouterr() == ("", "")
    with pytest.raises(ValueError, match=r"show: cannot save 'a\.jpg': .* end the name with \.png or \.svg"):
        plots.show(_line_figure(), tmp_path / "a.jpg")
    assert not (tmp_path / "a.jpg").exists()
    plt.close("all")


def _formatted(obj) -> dict:
    """The MIME bundle IPython (hence a notebook) makes of `obj` when it ends a cell."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    data, _ = interactiveshell.InteractiveShell.instance().display_formatter.format(obj)
    return data


def test_plot_helpers_display_as_png_not_as_figure_size_text():
    data = get_dataset("moons", n=40, seed=0)
    model = nn.MLP([2, 4, 2], seed=0)
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), data, epochs=2, batch_size=30, seed=0)
    for fig in (plots.training_curves(history), plots.comparison_curves({"a": history}), plots.new_figure()[0]):
        data = _formatted(fig)
        assert data["image/png"].startswith(PNG_MAGIC), data.get("text/plain")
        assert data["image/png"] == plots.figure_bytes(fig, ".png")
        assert isinstance(fig, plots.ShownFigure) and isinstance(fig, matplotlib.figure.Figure)


def test_rendered_graphs_display_as_the_file_they_wrote(tmp_path):
    a, b = Tensor(2.0, requires_grad=True, name="a"), Tensor(-3.0, requires_grad=True, name="b")
    loss = a * b + a
    loss.backward()
    dot = render_graph(loss, tmp_path / "g.dot", scalar=True)
    assert dot._repr_svg_() is None and dot._repr_png_() is None
    assert list(_formatted(dot)) == ["text/plain"] and "g.dot" in _formatted(dot)["text/plain"]
    missing = Rendered(tmp_path / "g.dot", hint="Graphviz's `dot` program was not found ...")
    assert list(_formatted(missing)) == ["text/plain"] and missing.hint in _formatted(missing)["text/plain"]
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed: no SVG or PNG to show")
    svg = render_graph(loss, tmp_path / "g.svg", scalar=True)
    assert svg._repr_svg_() == (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert svg._repr_svg_().lstrip().startswith("<?xml") and "<svg" in svg._repr_svg_()
    assert _formatted(svg)["image/svg+xml"] == svg._repr_svg_()
    png = render_graph(loss, tmp_path / "g.png", scalar=True)
    assert _formatted(png)["image/png"] == (tmp_path / "g.png").read_bytes()
    assert "image/svg+xml" not in _formatted(png)


# ----- every chapter, executed in a real kernel ------------------------------------------------------

def _kernel_env() -> dict:
    """The kernel imports this checkout's package, and picks matplotlib's backend as a student's would."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return env


async def _execute_all(jobs):
    from nbclient import NotebookClient
    gate = asyncio.Semaphore(KERNELS_AT_ONCE)
    env = _kernel_env()

    async def one(nb, workdir):
        async with gate:
            client = NotebookClient(nb, timeout=120, kernel_name="python3",
                                    resources={"metadata": {"path": str(workdir)}})
            started = time.perf_counter()
            try:
                await client.async_execute(env=env)
                error = None
            except Exception as exc:          # CellExecutionError, or a kernel that died: reported per chapter
                error = f"{type(exc).__name__}: {exc}"
            return nb, workdir, time.perf_counter() - started, error

    return await asyncio.gather(*(one(nb, workdir) for nb, workdir in jobs))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every chapter's notebook, run by nbclient (two kernels at a time), each in its own folder."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nbformat = pytest.importorskip("nbformat")
    jobs = []
    for path in CHAPTERS:
        workdir = tmp_path_factory.mktemp(f"nb-{path.stem[:2]}")
        nb = build.notebook(path.read_text(encoding="utf-8"), path.stem[:2])
        nb.cells.append(nbformat.v4.new_code_cell(
            "import resource\nprint(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))", id=CPU_CELL))
        jobs.append((nb, workdir))
    started = time.perf_counter()
    results = asyncio.run(_execute_all(jobs))
    total = time.perf_counter() - started
    return {path: result for path, result in zip(CHAPTERS, results)}, total


def _expected_images(path) -> list:
    """Per code cell of the chapter: the figure files it shows (the ![..](figures/..) lines after it),
    and "explorer" for a cell that ends with an explorer."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    blocks = [b for b in build.parse(text) if not b.solution]
    expected = []
    for i, block in enumerate(blocks):
        after = (block.recorded_end if block.recorded_end is not None else block.fence_end) + 1
        until = blocks[i + 1].line - 2 if i + 1 < len(blocks) else len(lines)
        shown = [build.IMAGE.search(ln).group(1) for ln in lines[after:until] if build.FIGURE_LINE.match(ln)]
        if EXPLORER_CALL.search(block.code):
            shown.append("explorer")
        expected.append(shown)
    return expected


@slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_as_a_notebook_with_its_figures_inline(path, executed):
    results, _ = executed
    nb, workdir, seconds, error = results[path]
    assert error is None, f"{path.name} fails as a notebook: {error}"
    code = [c for c in nb.cells if c.cell_type == "code" and c.id != CPU_CELL]
    assert all(c.execution_count is not None for c in code)               # Run All ran every code cell ...
    expected = _expected_images(path)
    assert len(expected) == len(code)
    assert not any("outputs" in c or "execution_count" in c for c in nb.cells if c.cell_type == "markdown")
    for cell, shown in zip(code, expected):
        stderr = [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name}, cell {cell.id} wrote to stderr: {stderr}"
        images = [o.data for o in cell.outputs if o.output_type in ("display_data", "execute_result")
                  and any(t in o.data for t in IMAGE_TYPES)]
        assert len(images) == len(shown), (f"{path.name}, cell {cell.id}: {len(images)} image outputs, "
                                           f"expected {len(shown)} ({shown})")
        for data, figure in zip(images, shown):
            if figure == "explorer":                       # the explorer's current figure, live or static
                assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
                assert "Explorer" in data["text/plain"]
            elif figure.endswith(".svg"):                  # a compute graph: the SVG the cell wrote
                assert data["image/svg+xml"] == (workdir / figure).read_text(encoding="utf-8")
            else:                                          # a plot: the PNG the cell wrote
                assert base64.b64decode(data["image/png"]) == (workdir / figure).read_bytes()
        texts = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert all(any(t in o.data for t in IMAGE_TYPES) for o in texts), \
            f"{path.name}, cell {cell.id} shows a value as text: {[o.data.get('text/plain') for o in texts]}"
    cpu = _cpu_seconds(nb)
    assert cpu < CPU_SECONDS_PER_NOTEBOOK, f"{path.name}: its kernel used {cpu:.1f} s of CPU time"
    assert seconds < WALL_SECONDS_PER_NOTEBOOK, f"{path.name} took {seconds:.1f} s as a notebook"


def _cpu_seconds(nb) -> float:
    cell = next(c for c in nb.cells if c.id == CPU_CELL)
    return float(cell.outputs[0].text)


@slow
def test_all_notebooks_run_in_time(executed):
    results, total = executed
    cpu = {path.stem[:2]: round(_cpu_seconds(r[0]), 1) for path, r in results.items() if r[3] is None}
    wall = {path.stem[:2]: round(r[2], 1) for path, r in results.items()}
    assert len(cpu) == len(CHAPTERS), "a notebook failed: see its own test"
    assert sum(cpu.values()) < CPU_SECONDS_FOR_ALL, (f"the kernels used {sum(cpu.values()):.0f} s of CPU time "
                                                     f"in all: {json.dumps(cpu)}")
    assert total < len(CHAPTERS) * WALL_SECONDS_PER_NOTEBOOK / KERNELS_AT_ONCE, \
        f"the notebooks took {total:.0f} s in all: {json.dumps(wall)}"
