"""Every tutorial chapter runs, prints what it says it prints, draws its figures and checks its exercises.

Each chapter (tutorials/NN-*.md) is run block by block in one namespace by tutorials/build.py,
in a temporary directory, so the figures it saves go there and the repository is not touched.
If a recorded output is stale, re-record it with `python tutorials/build.py NN` and read the diff.
"""
import difflib
import importlib.util
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
_spec = importlib.util.spec_from_file_location("tutorials_build", TUTORIALS / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build  # dataclasses look their module up there
_spec.loader.exec_module(build)

CHAPTERS = build.chapters(TUTORIALS)
SECONDS_PER_CHAPTER = 20  # generous guard; the budget is about 5 s per chapter, 60 s for all ten


def test_there_are_chapters():
    assert CHAPTERS, f"no chapter files {build.CHAPTER_GLOB} in {TUTORIALS}"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Run each chapter once (in its own temporary directory) and share the result between tests."""
    cache = {}

    def get(path):
        if path not in cache:
            workdir = tmp_path_factory.mktemp(path.stem)
            started = time.perf_counter()
            blocks = build.run(path, workdir)
            cache[path] = (blocks, workdir, time.perf_counter() - started)
        return cache[path]
    return get


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_and_prints_what_it_records(path, ran):
    blocks, _, seconds = ran(path)
    assert blocks, f"{path.name} has no ```python block"
    for block in build.stale(blocks):
        diff = "\n".join(difflib.unified_diff(build.normalise(block.recorded).splitlines(),
                                              build.normalise(block.output).splitlines(),
                                              "recorded", "printed now", lineterm=""))
        pytest.fail(f"{path.name}, block at line {block.line}: the recorded output is stale "
                    f"(re-record with `python tutorials/build.py {path.name[:2]}` and check the diff):\n{diff}")
    assert seconds < SECONDS_PER_CHAPTER, f"{path.name} took {seconds:.1f} s; keep a chapter to a few seconds"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_makes_every_figure_it_shows(path, ran):
    _, workdir, _ = ran(path)
    for figure in build.IMAGE.findall(path.read_text(encoding="utf-8")):
        if figure.endswith(".svg") and shutil.which("dot") is None:
            pytest.skip("Graphviz's `dot` is not installed, so compute graphs are written as .dot files")
        assert (workdir / figure).is_file(), f"{path.name} shows {figure} but its code does not write it"
        assert (TUTORIALS / figure).is_file(), (f"{path.name} shows {figure}, which is not in tutorials/; "
                                                f"run `python tutorials/build.py {path.name[:2]}`")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_draws_the_committed_figures(path, ran):
    """The figures in tutorials/figures/ are what the chapter's code draws now (up to anti-aliasing)."""
    _, workdir, _ = ran(path)
    drawn = build.drawn_figures(workdir)
    not_comparable = []
    for figure in drawn:
        comparison = build.compare_figure(figure, TUTORIALS / "figures" / figure.name)
        if comparison.status == "not comparable":
            not_comparable.append(f"{figure.name}: {comparison.reason}")
        assert comparison.status != "differs", (f"{path.name} draws figures/{figure.name} differently from the "
                                                f"committed one ({comparison.reason}); run "
                                                f"`python tutorials/build.py {path.name[:2]}` and look at it")
    if not_comparable:
        pytest.skip("drawn by another version than the committed figures: " + "; ".join(not_comparable))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_checked_exercises(path, ran):
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^## Exercises\s*$", text, re.M), f"{path.name} has no '## Exercises' section"
    exercises = re.findall(r"^### Exercise \d+", text.split("## Exercises", 1)[1], re.M)
    assert 2 <= len(exercises) <= 3, f"{path.name} has {len(exercises)} exercises; write two or three"
    blocks, _, _ = ran(path)  # the solutions ran (and their asserts held) in the chapter's namespace
    solutions = [b for b in blocks if b.solution]
    assert len(solutions) >= len(exercises), (f"{path.name}: {len(exercises)} exercises but {len(solutions)} "
                                              f"solution blocks inside <details>")
    for block in solutions:
        assert "assert" in block.code, f"{path.name}, line {block.line}: a solution must assert its answer"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_listed_in_the_table_of_contents(path):
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    assert f"({path.name})" in readme, f"tutorials/README.md does not link {path.name}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_as_a_notebook_with_the_same_code(path):
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(path)
    cells = [c.source.strip("\n") for c in notebook.cells if c.cell_type == "code"]
    blocks = [b.code.strip("\n") for b in build.parse(path.read_text(encoding="utf-8"))]
    assert cells == blocks, f"jupytext sees different code cells in {path.name} than the test runner"


def test_runner_records_outputs_and_names_the_failing_line(tmp_path):
    chapter = tmp_path / "99-demo.md"
    chapter.write_text("# Demo\n\n```python\nx = 2\nprint(x * 3)\n```\n\nText.\n\n"
                       "```python\ny = x + 1\n```\n\n```text\nstale\n```\n\n"
                       "<details>\n<summary>Solution</summary>\n\n```python\nassert y == 3\n```\n\n</details>\n",
                       encoding="utf-8")
    blocks = build.run(chapter, tmp_path)
    assert [b.output for b in blocks] == ["6\n", "", ""]
    assert [b.solution for b in blocks] == [False, False, True]
    assert build.stale(blocks) == blocks[:2]
    rewritten = build.rewrite(chapter.read_text(encoding="utf-8"), blocks)
    assert "```text\n6\n```" in rewritten and "stale" not in rewritten
    chapter.write_text(rewritten, encoding="utf-8")
    assert build.stale(build.run(chapter, tmp_path)) == []

    chapter.write_text("# Broken\n\n```python\nx = 1\n```\n\n```python\n\n1 / 0\n```\n", encoding="utf-8")
    with pytest.raises(build.ChapterError, match=r"99-demo.md, line 9 \(block at line 8\): ZeroDivisionError(.|\n)*1 / 0"):
        build.run(chapter, tmp_path)


def _snapshot(directory):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(Path(directory).rglob("*")) if p.is_file()}


def _demo_tutorials(directory, title):
    """A one-chapter tutorials folder whose chapter prints a line and draws a figure with `title`."""
    (directory / "figures").mkdir(parents=True, exist_ok=True)
    chapter = directory / "01-demo.md"
    chapter.write_text(
        "# Chapter 1: Demo\n\n```python\nfrom pathlib import Path\nimport matplotlib.pyplot as plt\n"
        "FIGURES = Path('figures')\nFIGURES.mkdir(exist_ok=True)\nfig, ax = plt.subplots(figsize=(3, 2))\n"
        f"ax.plot([0, 1, 2], [0, 1, 4])\nax.set_title({title!r})\nfig.savefig(FIGURES / '01-demo.png', dpi=50)\n"
        "plt.close(fig)\nprint('drawn')\n```\n\n```text\nstale\n```\n\n![A demo](figures/01-demo.png)\n",
        encoding="utf-8")
    return chapter


def test_check_writes_nothing_and_a_build_writes_only_what_changed(tmp_path, capsys):
    chapter = _demo_tutorials(tmp_path, "first")
    assert build.main([], directory=tmp_path) == 0                  # records the output, draws the figure
    assert "```text\ndrawn\n```" in chapter.read_text(encoding="utf-8")
    figure = tmp_path / "figures" / "01-demo.png"
    assert figure.is_file()
    before = _snapshot(tmp_path)
    assert build.main([], directory=tmp_path) == 0                  # nothing changed: nothing written
    assert build.main(["--check"], directory=tmp_path) == 0
    assert _snapshot(tmp_path) == before

    _demo_tutorials(tmp_path, "second")                             # the code now draws another title ...
    text = chapter.read_text(encoding="utf-8").replace("```text\nstale\n```", "```text\ndrawn\n```")
    chapter.write_text(text.replace("print('drawn')", "print('changed')"), encoding="utf-8")  # ... and prints more
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert build.main(["--check"], directory=tmp_path) == 1
    out = capsys.readouterr().out
    assert "STALE" in out and "would redraw figures/01-demo.png" in out
    assert _snapshot(tmp_path) == before                            # --check wrote nothing
    assert build.main([], directory=tmp_path) == 0
    assert build.main(["--check"], directory=tmp_path) == 0
    assert "```text\nchanged\n```" in chapter.read_text(encoding="utf-8")


def test_check_of_a_real_chapter_leaves_the_repository_alone():
    before = _snapshot(TUTORIALS)
    assert build.main(["--check", "01"]) == 0
    assert _snapshot(TUTORIALS) == before


def _draw(path, shift=0.0, title="a title", software=None):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [0 + shift, 1 + shift, 4 + shift])
    ax.set_title(title)
    fig.savefig(path, dpi=60, metadata={} if software is None else {"Software": software})
    return path


def test_figures_are_compared_by_pixels_up_to_anti_aliasing(tmp_path):
    reference = _draw(tmp_path / "a.png")
    assert build.compare_figure(_draw(tmp_path / "b.png"), reference).status == "same"
    nudged = _draw(tmp_path / "c.png", shift=1e-3)           # round-off in the data: a line moves a little
    assert nudged.read_bytes() != reference.read_bytes()
    assert build.compare_figure(nudged, reference).status == "same"
    retitled = build.compare_figure(_draw(tmp_path / "d.png", title="another title"), reference)
    assert retitled.status == "differs" and "pixels differ" in retitled.reason
    assert build.compare_figure(_draw(tmp_path / "e.png", shift=0.3), reference).status == "differs"
    other = build.compare_figure(_draw(tmp_path / "f.png", software="Matplotlib version0.1"), reference)
    assert other.status == "not comparable" and "Matplotlib version0.1" in other.reason
    assert build.compare_figure(reference, tmp_path / "missing.png").status == "differs"
