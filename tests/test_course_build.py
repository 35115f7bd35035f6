"""`edu course build --student DIR`: one source, two editions, and the proof that no solution leaks.

The real repository is built once per module (``built``); the marker rules, --force and the command
line use a small copy of the source (``mini_source``) so that each build takes milliseconds.
"""
import ast
import difflib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu.course import checking, edition
from tinygrad_edu.course.edition import EditionError, EditionUsageError, build_student, find_leaks
from tinygrad_edu.course.manifest import Exercise, load
from tinygrad_edu.course.workbook import Workbook, stub_message

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load()
TUTORIALS = ROOT / "tutorials"
_spec = importlib.util.spec_from_file_location("tutorials_build_edition", TUTORIALS / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build  # dataclasses look their module up there
_spec.loader.exec_module(build)
CHAPTERS = build.chapters(TUTORIALS)
WORKBOOK_FILES = sorted(p for p in (ROOT / "exercises").glob("*.py"))


def _count_markers(paths, marker):
    return sum(line.strip() == marker for p in paths for line in p.read_text(encoding="utf-8").splitlines())


SOLVED_FILES = [p for p in WORKBOOK_FILES if _count_markers([p], "# BEGIN SOLUTION")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The student edition of this repository, built once: (report, folder)."""
    dest = tmp_path_factory.mktemp("edition") / "student"
    return build_student(ROOT, dest), dest


@pytest.fixture
def mini_source(tmp_path):
    """A small instructor's edition: the real manifest and workbook, one chapter, a README."""
    src = tmp_path / "src"
    (src / "tinygrad_edu" / "course").mkdir(parents=True)
    shutil.copy(ROOT / edition.MANIFEST_PATH, src / edition.MANIFEST_PATH)
    shutil.copytree(ROOT / "exercises", src / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    (src / "tutorials").mkdir()
    shutil.copy(CHAPTERS[0], src / "tutorials" / CHAPTERS[0].name)
    (src / "README.md").write_text("# A course\n")
    return src


# ----- the markers ------------------------------------------------------------------------------

DEMO_EXERCISES = [
    Exercise("1.1", "doubling", "ex_demo.py", "double", "x:y", 2, "h"),
    Exercise("1.2", 'a "quoted" class', "ex_demo.py", "Counter", "x:y", 2, "h"),
]

DEMO = '''\
"""A demo workbook file."""
import numpy as np

HELPER = 2


def double(x, careful=False):
    """Exercise 1.1: doubling."""
    if careful:
        # BEGIN SOLUTION
        x = np.asarray(x)
        # END SOLUTION
    # BEGIN SOLUTION
    return HELPER * x   # why: the helper says how much
    # END SOLUTION


class Counter:
    """Exercise 1.2."""

    def __init__(self):
        self.n = 0

    def step(self):
        # BEGIN SOLUTION
        self.n += 1
        # END SOLUTION

    def reset(self):
        # BEGIN SOLUTION
        self.n = 0
        # END SOLUTION
'''


def test_each_solution_becomes_its_exercises_stub_at_the_markers_indentation():
    student = edition.strip_python(DEMO, "exercises/ex_demo.py", DEMO_EXERCISES)
    expected = DEMO
    for block in ("        # BEGIN SOLUTION\n        x = np.asarray(x)\n        # END SOLUTION\n",
                  "    # BEGIN SOLUTION\n    return HELPER * x   # why: the helper says how much\n"
                  "    # END SOLUTION\n"):
        indent = block[:len(block) - len(block.lstrip())]
        expected = expected.replace(block, indent + 'raise NotImplementedError("exercise 1.1: doubling")\n')
    for body in ("self.n += 1", "self.n = 0"):
        expected = expected.replace(f"        # BEGIN SOLUTION\n        {body}\n        # END SOLUTION\n",
                                    "        raise NotImplementedError('exercise 1.2: a \"quoted\" class')\n")
    assert student == expected
    namespace = {}
    exec(compile(student, "ex_demo.py", "exec"), namespace)
    for call, exercise in ((lambda: namespace["double"](3), DEMO_EXERCISES[0]),
                           (lambda: namespace["Counter"]().step(), DEMO_EXERCISES[1])):
        with pytest.raises(NotImplementedError) as caught:
            call()
        assert str(caught.value) == stub_message(exercise)
    assert namespace["HELPER"] == 2                       # code outside the blocks is the instructor's


def test_line_endings_and_everything_outside_the_blocks_are_kept():
    crlf = DEMO.replace("\n", "\r\n")
    student = edition.strip_python(crlf, "exercises/ex_demo.py", DEMO_EXERCISES)
    assert student == edition.strip_python(DEMO, "exercises/ex_demo.py", DEMO_EXERCISES).replace("\n", "\r\n")


CHAPTER = """\
# Chapter 1: Demo

### Exercise 1: add

Add them.

<!-- BEGIN SOLUTION -->
<details>
<summary>Solution</summary>

```python
assert 1 + 1 == 2
```

</details>
<!-- END SOLUTION -->

Write `<!-- BEGIN SOLUTION -->` around a fold, as in:

````markdown
<!-- BEGIN SOLUTION -->
<details>
<!-- END SOLUTION -->
````

- a list item:

  <!-- BEGIN SOLUTION -->
  the answer is 2
  <!-- END SOLUTION -->
"""


def test_a_chapters_solution_folds_become_one_line_and_markers_shown_as_code_stay():
    student = edition.strip_markdown(CHAPTER, "tutorials/01-demo.md")
    start = CHAPTER.index("<!-- BEGIN SOLUTION -->\n<details>")
    end = CHAPTER.index("<!-- END SOLUTION -->\n") + len("<!-- END SOLUTION -->\n")
    listed = "  <!-- BEGIN SOLUTION -->\n  the answer is 2\n  <!-- END SOLUTION -->\n"
    expected = (CHAPTER[:start] + edition.SOLUTION_REMOVED + "\n" + CHAPTER[end:]).replace(
        listed, "  " + edition.SOLUTION_REMOVED + "\n")
    assert student == expected
    assert "````markdown\n<!-- BEGIN SOLUTION -->\n<details>\n<!-- END SOLUTION -->\n````" in student


def _py(body: str) -> str:
    return textwrap.dedent(body)


PYTHON_ERRORS = {
    "end without begin": (_py("""\
        def double(x):
            return 2 * x
            # END SOLUTION
        """), 3, "without a '# BEGIN SOLUTION' before it"),
    "begin never closed": (_py("""\
        def double(x):
            # BEGIN SOLUTION
            return 2 * x
        """), 2, "is never closed; add '# END SOLUTION'"),
    "nested begin": (_py("""\
        def double(x):
            # BEGIN SOLUTION
            y = 2 * x
            # BEGIN SOLUTION
            return y
            # END SOLUTION
        """), 4, "inside the block opened at line 2 (blocks do not nest)"),
    "marker in a string": (_py('''\
        def double(x):
            """Solutions sit between lines such as
            # BEGIN SOLUTION
            """
        '''), 3, "a solution marker inside a string"),
    "trailing text": (_py("""\
        def double(x):
            # BEGIN SOLUTION for 1.1
            return 2 * x
            # END SOLUTION
        """), 2, "is not a solution marker; remove the text after it"),
    "after code": (_py("""\
        def double(x):
            y = 2  # BEGIN SOLUTION
            return y * x
            # END SOLUTION
        """), 2, "after code on the same line"),
    "another spelling": (_py("""\
        def double(x):
            ## begin solution
            return 2 * x
            # END SOLUTION
        """), 2, "is not a solution marker; write exactly '# BEGIN SOLUTION'"),
    "outside any function": (_py("""\
        # BEGIN SOLUTION
        FACTOR = 2
        # END SOLUTION
        def double(x):
            # BEGIN SOLUTION
            return FACTOR * x
            # END SOLUTION
        """), 1, "outside any function or class"),
    "unknown exercise": (_py("""\
        def triple(x):
            # BEGIN SOLUTION
            return 3 * x
            # END SOLUTION
        def double(x):
            # BEGIN SOLUTION
            return 2 * x
            # END SOLUTION
        """), 2, "a solution block in triple, which is not an exercise of ex_demo.py in manifest.toml"),
    "empty solution": (_py("""\
        def double(x):
            # BEGIN SOLUTION
            # (write it here)

            # END SOLUTION
        """), 2, "an empty solution"),
    "end indented differently": (_py("""\
        def double(x):
            # BEGIN SOLUTION
            return 2 * x
        # END SOLUTION
        """), 4, "indented differently from its '# BEGIN SOLUTION' (line 2)"),
    "no block for an exercise": (_py("""\
        def double(x):
            return 2 * x
        """), 1, "exercise 1.1 (double) has no solution block"),
    "not whole statements": (_py("""\
        def double(x):
            return (
                # BEGIN SOLUTION
                2 * x
                # END SOLUTION
            )
        """), 3, "would not compile"),
}


@pytest.mark.parametrize("case", PYTHON_ERRORS, ids=str)
def test_a_malformed_workbook_marker_is_an_error_naming_file_and_line(case):
    text, line, message = PYTHON_ERRORS[case]
    with pytest.raises(EditionError) as caught:
        edition.strip_python(text, "exercises/ex_demo.py", DEMO_EXERCISES[:1])
    assert str(caught.value).startswith(f"exercises/ex_demo.py:{line}: "), str(caught.value)
    assert message in str(caught.value) and "\n" not in str(caught.value) and "; " in str(caught.value)


def test_a_manifest_exercise_missing_from_its_file_is_an_error():
    with pytest.raises(EditionError, match=r"^exercises/ex_demo.py: manifest.toml's exercise 1.2 is Counter, "
                                           r"which this file does not define"):
        edition.strip_python("def double(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n",
                             "exercises/ex_demo.py", DEMO_EXERCISES)


MARKDOWN_ERRORS = {
    "end without begin": ("Text.\n\n<!-- END SOLUTION -->\n", 3, "without a '<!-- BEGIN SOLUTION -->'"),
    "begin never closed": ("<!-- BEGIN SOLUTION -->\n<details>\n</details>\n", 1, "is never closed"),
    "nested begin": ("<!-- BEGIN SOLUTION -->\na\n<!-- BEGIN SOLUTION -->\nb\n<!-- END SOLUTION -->\n", 3,
                     "(blocks do not nest)"),
    "trailing text": ("<!-- BEGIN SOLUTION --> (exercise 1)\na\n<!-- END SOLUTION -->\n", 1,
                      "remove the text after it"),
    "inside a line": ("See <!-- BEGIN SOLUTION --> here.\na\n<!-- END SOLUTION -->\n", 1,
                      "is not a solution marker; write exactly '<!-- BEGIN SOLUTION -->' alone on its line"),
    "another spelling": ("<!--BEGIN SOLUTION-->\na\n<!-- END SOLUTION -->\n", 1, "is not a solution marker"),
    "empty solution": ("x\n\n<!-- BEGIN SOLUTION -->\n\n<!-- a note -->\n<!-- END SOLUTION -->\n", 3,
                       "an empty solution"),
}


@pytest.mark.parametrize("case", MARKDOWN_ERRORS, ids=str)
def test_a_malformed_chapter_marker_is_an_error_naming_file_and_line(case):
    text, line, message = MARKDOWN_ERRORS[case]
    with pytest.raises(EditionError) as caught:
        edition.strip_markdown(text, "tutorials/01-demo.md")
    assert str(caught.value).startswith(f"tutorials/01-demo.md:{line}: "), str(caught.value)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_marker_comment_in_python_outside_the_workbook_is_an_error(mini_source, tmp_path):
    (mini_source / "tutorials" / "helper.py").write_text("def f():\n    # BEGIN SOLUTION\n    return 1\n"
                                                          "    # END SOLUTION\n")
    with pytest.raises(EditionError, match=r"^tutorials/helper.py:2: a solution marker outside exercises/"):
        build_student(mini_source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_every_fold_of_every_chapter_is_one_marked_solution_block():
    for path in CHAPTERS:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        blocks = edition.markdown_blocks(text, path.name)
        assert len(blocks) == sum(line == "<details>" for line in lines) >= 2, path.name
        for block in blocks:
            inside = lines[block.begin:block.end - 1]
            assert inside[0] == "<details>" and inside[1] == "<summary>Solution</summary>", (path.name, block)
            assert inside[-1] == "</details>" and inside.count("<details>") == 1, (path.name, block)


def test_the_notebooks_show_no_marker(tmp_path):
    for path in CHAPTERS:
        text = path.read_text(encoding="utf-8")
        cells = [(c.cell_type, c.source) for c in build.notebook(text, "01").cells]
        unmarked = "\n".join(line for line in text.split("\n") if line not in edition.MARKDOWN_MARKERS)
        assert cells == [(c.cell_type, c.source) for c in build.notebook(unmarked, "01").cells], path.name
        assert not any("SOLUTION -->" in source for _, source in cells), path.name


# ----- the real edition -----------------------------------------------------------------------------

def _enclosing(tree, line):
    names = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
             and node.lineno <= line]
    return names[-1]


def test_the_workbook_solutions_are_stubs_at_their_indentation_and_every_file_compiles(built):
    report, dest = built
    by_name = {(e.file, e.name): e for e in EXERCISES}
    stubs = 0
    for source in SOLVED_FILES:
        instructor = source.read_text(encoding="utf-8").splitlines()
        student = (dest / "exercises" / source.name).read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(instructor))
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, instructor, student, autojunk=False).get_opcodes():
            if tag == "equal":
                continue
            assert tag == "replace" and j2 - j1 == 1, (source.name, instructor[i1:i2], student[j1:j2])
            begin, end, stub = instructor[i1], instructor[i2 - 1], student[j1]
            assert begin.strip() == "# BEGIN SOLUTION" and end.strip() == "# END SOLUTION", (source.name, i1)
            indent = begin[:len(begin) - len(begin.lstrip())]
            exercise = by_name[(source.name, _enclosing(tree, i1 + 1))]
            assert stub == f'{indent}raise NotImplementedError("{stub_message(exercise)}")'
            stubs += 1
    assert stubs == _count_markers(WORKBOOK_FILES, "# BEGIN SOLUTION") == sum(report.workbook.values()) >= 1
    for path in dest.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)


def test_every_exercise_of_the_built_workbook_is_not_attempted(built):
    _, dest = built
    for exercise in EXERCISES:
        results = checking.run_exercise(Workbook(dest / "exercises", EXERCISES), exercise.id)
        assert len(results) == exercise.checks
        assert [r.status for r in results] == ["not_attempted"] * exercise.checks, [r.message for r in results]


def test_no_solution_line_remains_and_the_report_counts_what_was_removed(built):
    report, dest = built
    assert find_leaks(ROOT, dest) == []
    chapters = _count_markers(CHAPTERS, "<details>")                 # every fold is a solution
    workbook = _count_markers(WORKBOOK_FILES, "# BEGIN SOLUTION")
    assert len(report.chapters) == len(CHAPTERS) == 10
    assert report.summary(shown_as="DIR") == (
        f"wrote DIR: {workbook} solution{'s' * (workbook != 1)} removed from {len(SOLVED_FILES)} workbook "
        f"file{'s' * (len(SOLVED_FILES) != 1)} and {chapters} from 10 chapters; no solution line remains")
    for chapter in CHAPTERS:
        text = (dest / "tutorials" / chapter.name).read_text(encoding="utf-8")
        assert "<details" not in text and "SOLUTION -->" not in text
        assert text.count(edition.SOLUTION_REMOVED) == report.removed[f"tutorials/{chapter.name}"] == \
            _count_markers([chapter], "<details>")


def test_a_planted_solution_line_is_found(built, tmp_path):
    _, dest = built
    copy = tmp_path / "student"
    shutil.copytree(dest, copy)
    assert find_leaks(ROOT, copy) == []
    workbook_text = SOLVED_FILES[0].read_text(encoding="utf-8")
    block = edition.python_blocks(workbook_text, "x.py")[0]
    solution_line = workbook_text.splitlines()[block.begin]          # the first line after BEGIN
    chapter_text = CHAPTERS[0].read_text(encoding="utf-8")
    fold = edition.markdown_blocks(chapter_text, "x.md")[0]
    asserted = next(line for line in chapter_text.splitlines()[fold.begin:fold.end] if line.startswith("assert"))
    docs = copy / "docs" / "CONTRIBUTING.md"
    # A solution's line in the docs (its comment and indentation changed); and lines that say nothing
    # (a fence, a bracket), which a file may hold more often than the instructor's: not leaks.
    docs.write_text(docs.read_text(encoding="utf-8") + "```\n)\n\n    " + solution_line.strip() + "   # copied\n")
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + asserted + "\n")
    (copy / "exercises" / "mutants").mkdir()
    shutil.copy(ROOT / "exercises" / "mutants" / "ex02_ops.py", copy / "exercises" / "mutants" / "ex02_ops.py")
    leaks = find_leaks(ROOT, copy)
    docs_lines, readme_lines = len(docs.read_text().splitlines()), len(readme.read_text().splitlines())
    assert [(leak.path, leak.line) for leak in leaks] == [
        ("README.md", readme_lines), ("docs/CONTRIBUTING.md", docs_lines), ("exercises/mutants/ex02_ops.py", 0)]
    assert leaks[1].text == edition.normalise(solution_line) and leaks[1].origin == \
        f"exercises/{SOLVED_FILES[0].name}:{block.begin + 1}"
    asserted_line = chapter_text.splitlines().index(asserted, fold.begin) + 1
    assert leaks[0].origin == f"tutorials/{CHAPTERS[0].name}:{asserted_line}"


def test_the_build_runs_the_proof_and_writes_nothing_when_a_solution_would_leak(mini_source, tmp_path, monkeypatch):
    real = edition.student_text

    def forgets_the_chapters(relative, text, exercises):   # a bug in the stripping: the proof must catch it
        return (text, 0) if relative.endswith(".md") else real(relative, text, exercises)
    monkeypatch.setattr(edition, "student_text", forgets_the_chapters)
    with pytest.raises(EditionError, match=r"^tutorials/01-[^:]*:\d+: the solution line .* is in the student "
                                           r"edition \(and \d+ more\); nothing was written"):
        build_student(mini_source, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]       # no DEST, no temporary folder


def test_the_edition_holds_the_listed_paths_and_every_other_file_byte_for_byte(built):
    report, dest = built
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == sorted(report.files + [edition.STAMP])
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, check=True).stdout     # what git holds or would add
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot list the repository's files")
    expected = sorted(set(f for f in listed.decode().split("\0") if f and (ROOT / f).is_file()
                      and f.split("/")[0] in edition.INCLUDED and not f.startswith("exercises/mutants/")
                      and not f.endswith(".ipynb")))
    generated = [".github/classroom/autograding.json", ".github/workflows/classroom.yml",   # written, not copied
                 "tests/test_workbook.py"]
    assert report.files == sorted(expected + generated)
    assert not any(f.startswith(("bench/", ".ci/")) for f in written)
    assert [f for f in written if f.startswith("tests/")] == ["tests/test_workbook.py"]   # none of the instructor's
    for relative in (f for f in report.files if f not in generated):
        source, copy = ROOT / relative, dest / relative
        assert (copy.stat().st_mode & 0o777) == (source.stat().st_mode & 0o777), relative
        if relative not in report.removed:
            assert copy.read_bytes() == source.read_bytes(), relative
    assert set(report.removed) == {f"exercises/{p.name}" for p in SOLVED_FILES} | \
        {f"tutorials/{p.name}" for p in CHAPTERS}


def test_the_edition_holds_every_module_its_pyproject_installs(built):
    # `pip install` of the student edition must give a working `edu`: the packages and top-level modules exist
    import tomllib
    _, dest = built
    project = tomllib.loads((dest / "pyproject.toml").read_text(encoding="utf-8"))
    for module in project["tool"]["setuptools"].get("py-modules", []):
        assert (dest / f"{module}.py").is_file(), module
    for script in project["project"]["scripts"].values():
        module = script.split(":")[0]
        assert (dest / f"{module}.py").is_file() or (dest / module.replace(".", "/")).is_dir(), script


def _pytest_in(folder: Path) -> subprocess.CompletedProcess:
    """The README's test command, `python -m pytest`, run in `folder` (its own pyproject's settings)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=folder, capture_output=True,
                          text=True, timeout=600, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


def test_the_editions_test_command_checks_the_workbook_skipping_what_is_not_attempted(built, tmp_path):
    _, dest = built
    fresh = _pytest_in(dest)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert f"{len(EXERCISES)} skipped" in fresh.stdout and "passed" not in fresh.stdout
    # one exercise solved (the instructor's file), one wrong: `/ 2 * h` for `/ (2 * h)`
    copy = tmp_path / "student"
    shutil.copytree(dest, copy)
    solved = ROOT / "exercises" / "ex01_derivatives.py"
    text = solved.read_text(encoding="utf-8")
    assert text.count("/ (2 * h)") == 1
    (copy / "exercises" / solved.name).write_text(text.replace("/ (2 * h)", "/ 2 * h"), encoding="utf-8")
    done = _pytest_in(copy)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"1 failed, 1 passed, {len(EXERCISES) - 2} skipped" in done.stdout
    assert "FAILED tests/test_workbook.py::test_exercise[1.1]" in done.stdout
    assert "hint:" in done.stdout and "Traceback" not in done.stdout


def test_the_editions_chapters_run_without_their_solutions_and_print_what_they_record(built, tmp_path):
    _, dest = built
    chapters = build.chapters(dest / "tutorials")
    assert [p.name for p in chapters] == [p.name for p in CHAPTERS]
    for path in chapters:
        blocks = build.run(path, tmp_path / path.stem)
        assert blocks and not any(b.solution for b in blocks), path.name
        assert build.stale(blocks) == [], f"{path.name}: a block prints otherwise without the solutions"


# ----- where the edition goes, and --force ----------------------------------------------------------

def test_force_replaces_only_an_earlier_build_left_as_it_was_written(mini_source, tmp_path):
    dest = tmp_path / "student"
    dest.mkdir()
    build_student(mini_source, dest)                                   # an empty folder is fine
    assert (dest / "README.md").read_text() == "# A course\n"
    with pytest.raises(EditionUsageError, match=r"already exists and is not empty; add --force"):
        build_student(mini_source, dest)
    (dest / "README.md").unlink()                                      # deleted: the build brings it back
    (dest / "exercises" / "__pycache__").mkdir()                       # caches may be replaced
    (dest / "exercises" / "__pycache__" / "ex02_ops.cpython-311.pyc").write_bytes(b"x")
    build_student(mini_source, dest, force=True)
    assert (dest / "README.md").is_file() and not (dest / "exercises" / "__pycache__").exists()
    for change, word in ((lambda: (dest / "notes.txt").write_text("mine"), "added"),
                         (lambda: (dest / "README.md").write_text("# Edited\n"), "changed")):
        change()
        before = sorted((p.relative_to(dest), p.read_bytes()) for p in dest.rglob("*") if p.is_file())
        with pytest.raises(EditionUsageError, match=rf"^{re.escape(str(dest))}/\S+ was {word} after the build"):
            build_student(mini_source, dest, force=True)
        assert sorted((p.relative_to(dest), p.read_bytes()) for p in dest.rglob("*") if p.is_file()) == before
        (dest / "notes.txt").unlink(missing_ok=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]     # no temporary folder left


def test_a_users_folder_is_never_replaced(mini_source, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    for force in (False, True):
        with pytest.raises(EditionUsageError, match="add --force" if not force else "was not written by"):
            build_student(mini_source, mine, force=force)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(EditionUsageError, match="exists and is not a folder"):
        build_student(mini_source, tmp_path / "a-file", force=True)
    for inside in (mini_source, tmp_path):
        with pytest.raises(EditionUsageError, match="holds the instructor's edition"):
            build_student(mini_source, inside, force=True)


def test_an_edition_inside_the_source_is_not_built_into_itself_nor_into_another(mini_source, tmp_path):
    dest = mini_source / "tutorials" / "student"
    build_student(mini_source, dest)
    report = build_student(mini_source, dest, force=True)
    assert not any(f.startswith("tutorials/student") for f in report.files)
    assert not (dest / "tutorials" / "student").exists()
    other = build_student(mini_source, tmp_path / "other")
    assert other.files == report.files
    with pytest.raises(EditionUsageError, match=r"is itself a student edition"):
        build_student(dest, mini_source / "again")


def test_two_builds_are_the_same_bytes(mini_source, tmp_path):
    def tree(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    first, second = build_student(mini_source, tmp_path / "a"), build_student(mini_source, tmp_path / "b")
    assert first.files == second.files and tree(tmp_path / "a") == tree(tmp_path / "b")


def test_a_manifest_exercise_whose_file_is_missing_is_an_error(mini_source, tmp_path):
    (mini_source / "exercises" / EXERCISES[0].file).unlink()
    with pytest.raises(EditionError, match=rf"exercise {EXERCISES[0].id} lives in exercises/{EXERCISES[0].file}, "
                                           rf"which does not exist"):
        build_student(mini_source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_source_is_found_upward_or_is_the_installed_checkout(mini_source, tmp_path):
    assert edition.find_source_root(mini_source / "tutorials") == mini_source.resolve()
    assert edition.find_source_root(tmp_path) == ROOT           # nothing around: this package's checkout


# ----- the command line ---------------------------------------------------------------------------

def test_the_command_writes_the_edition_and_prints_one_line(mini_source, tmp_path):
    dest = tmp_path / "student"
    result = CliRunner().invoke(cli, ["course", "build", "--student", str(dest), "--source", str(mini_source)])
    assert result.exit_code == 0, result.output
    workbook, folds = _count_markers(WORKBOOK_FILES, "# BEGIN SOLUTION"), _count_markers(CHAPTERS[:1], "<details>")
    assert result.output == (f"wrote {dest}: {workbook} solution{'s' * (workbook != 1)} removed from "
                             f"{len(SOLVED_FILES)} workbook file{'s' * (len(SOLVED_FILES) != 1)} and {folds} from "
                             f"1 chapter; no solution line remains\n")
    again = CliRunner().invoke(cli, ["course", "build", "--student", str(dest), "--source", str(mini_source),
                                     "--force"])
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("args, message", [
    ([], "Missing option '--student'"),
    (["--student", ""], "names no file"),
    (["--student", "{dest}", "--source", "{tmp}"], "is not the instructor's edition"),
    (["--student", "{mine}", "--source", "{src}"], "already exists and is not empty; add --force"),
    (["--student", "{mine}", "--source", "{src}", "--force"], "was not written by `edu course build`"),
])
def test_bad_usage_exits_2_with_one_line(mini_source, tmp_path, args, message):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    args = [a.format(dest=tmp_path / "out", tmp=tmp_path, mine=tmp_path / "mine", src=mini_source) for a in args]
    result = CliRunner().invoke(cli, ["course", "build", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_a_malformed_marker_exits_1_naming_file_and_line(mini_source, tmp_path):
    chapter = mini_source / "tutorials" / CHAPTERS[0].name
    lines = chapter.read_text(encoding="utf-8").split("\n")
    first_end = lines.index("<!-- END SOLUTION -->")
    del lines[first_end]
    chapter.write_text("\n".join(lines), encoding="utf-8")
    begins = [n for n, line in enumerate(lines, 1) if line == "<!-- BEGIN SOLUTION -->"]
    result = CliRunner().invoke(cli, ["course", "build", "--student", str(tmp_path / "out"),
                                      "--source", str(mini_source)])
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: tutorials/{chapter.name}:{begins[1]}: a '<!-- BEGIN SOLUTION -->' inside the "
                             f"block opened at line {begins[0]} (blocks do not nest); put '<!-- END SOLUTION -->' "
                             f"before this line\n")
    assert not (tmp_path / "out").exists()


def test_a_stop_signal_ends_the_build_through_its_cleanup(mini_source, tmp_path, monkeypatch):
    real = edition.write_sources

    def then_a_signal(staging):
        real(staging)
        os.kill(os.getpid(), signal.SIGTERM)               # as `kill` would, half-way through the build
    monkeypatch.setitem(edition.PARTS, "sources", then_a_signal)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(cli, ["course", "build", "--student", str(tmp_path / "out"),
                                      "--source", str(mini_source)])
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert result.output.startswith("edu course build: stopped by SIGTERM; ") and result.output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]       # no DEST, no temporary folder
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_installed_command_builds_from_the_repository_it_is_run_in(tmp_path):
    dest = tmp_path / "student"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}         # this checkout's package, run from a folder inside it
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "course", "build", "--student", str(dest)],
                          cwd=ROOT / "tutorials", capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {dest}: ") and done.stdout.endswith("; no solution line remains\n")
    assert done.stderr == "" and find_leaks(ROOT, dest) == []
    assert (dest / "exercises" / SOLVED_FILES[0].name).read_text() != SOLVED_FILES[0].read_text()


def test_the_edition_holds_the_classroom_files_for_every_exercise_with_its_points(built):
    import json
    from tinygrad_edu.course.coursefile import load_course
    report, dest = built
    course = load_course(ROOT / "exercises" / "course.toml")
    tests = json.loads((dest / ".github" / "classroom" / "autograding.json").read_text(encoding="utf-8"))["tests"]
    assert [(t["run"], t["points"]) for t in tests] == [(f"edu check {g.id}", g.points) for g in course.exercises]
    assert (dest / ".github" / "workflows" / "classroom.yml").is_file()
    assert ".github/classroom/autograding.json" in report.files
