"""One source, two editions: the student edition is the instructor's with every solution taken out.

    from tinygrad_edu.course.edition import build_student, find_leaks
    report = build_student(".", "student")      # writes the folder student/ (never over someone's folder)
    print(report.summary())                     # "wrote student: 31 solutions removed from 10 ..."
    assert find_leaks(".", "student") == []     # the proof (build_student runs it before it writes DEST)

This repository is the instructor's edition. A solution sits between two marker lines, nbgrader's
delimiters ``BEGIN SOLUTION`` / ``END SOLUTION``, written in each language's comment syntax:

* in the workbook (``exercises/*.py``), ``# BEGIN SOLUTION`` and ``# END SOLUTION`` comment lines
  inside the exercise's top-level function or class (its ``name`` in manifest.toml). The student
  edition replaces the block, markers included, by one line at the BEGIN marker's indentation:
  ``raise NotImplementedError("exercise 2.8: tanh's backward")``, the id and title from the manifest,
  which is what ``edu check`` reports as "not attempted";
* in Markdown (the chapters ``tutorials/NN-*.md``, and any other ``.md``), the lines
  ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` around an exercise's
  ``<details><summary>Solution</summary>`` fold: HTML comments, so that GitHub and Jupyter render
  nothing for them, and the instructor's chapter reads as before. The student edition replaces the
  block by the line ``SOLUTION_REMOVED``.

What a marker is, exactly (anything else that looks like one is an error, never a guess):
a marker is alone on its line (indentation and trailing spaces aside) and spelled exactly as above.
A marker comment with text after it (``# BEGIN SOLUTION for 2.8``), after code on its line, in
another case or with other ``#``s, is an error; so is one inside a Python string (a workbook file
has no reason to spell a marker in a string, and a line-based tool would take it for a real one).
In Markdown, marker text inside a fenced code block or an inline code span is text, shown as
written: that is how the chapters' conventions and the teachers' guide show the markers. Blocks do
not nest, each BEGIN has its END (at the same indentation in Python), and a solution is never empty.
Every error is one line, ``path:line: what is wrong; the fix`` (``path:`` alone when it is about the
whole file), an ``EditionError`` (a ValueError).

What goes into the student edition (``INCLUDED``): README.md, LICENSE, pyproject.toml, cli.py,
tinygrad_edu_launcher.py (where `edu` starts), .gitignore (it keeps caches and built notebooks out of the students' commits), docs/, tutorials/
(chapters stripped, no built notebooks), exercises/ (stripped, without exercises/mutants/, which are
near-solutions), and tinygrad_edu/, the engine, unchanged: it is the readable reference by design.
Never: the instructor's tests/ (their proofs need the solutions; the edition gets one generated
tests/test_workbook.py instead, workbook_tests.py), bench/, .git, .ci, caches, ``*.ipynb``, egg-info
(``EXCLUDED``). Every other file is copied byte for byte.

The proof, ``find_leaks``: a solution line, normalised (stripped, comments removed, whitespace
collapsed), must not appear in a file of the student edition more often than it appears outside
the solution blocks of the instructor's same file. It covers every file of the edition except those
under tinygrad_edu/ (the engine repeats some solutions' lines on purpose; it is the reference).

Writing is atomic: the edition is built in a temporary folder beside DEST, proven, then renamed to
DEST. An existing non-empty DEST is refused; with ``force`` it is replaced only when it is a
previous build left as that build wrote it (its stamp file, ``STAMP``, lists every file and its
SHA-256): a folder someone made or added to is never replaced.

Later parts of a release (a classroom's autograding configuration, a CI workflow, chosen by a
course file) are functions of a ``Staging`` folder, added to ``PARTS`` and named in ``parts=``.
"""
from __future__ import annotations

import ast
import contextlib
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from ..io import atomic_write_bytes, describe_os_error
from .classroom import classroom_files
from .coursefile import Course, CourseError, load_course
from .manifest import Exercise, ManifestError, load
from .workbook import stub_message

PY_BEGIN, PY_END = "# BEGIN SOLUTION", "# END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
MARKDOWN_MARKERS = (MD_BEGIN, MD_END)
SOLUTION_REMOVED = "*The solution is in the instructor's edition.*"
STAMP = ".edu-edition.json"
MANIFEST_PATH = "tinygrad_edu/course/manifest.toml"
WORKBOOK = "exercises"
COURSE_PATH = "exercises/course.toml"   # the course: points, and the release's parts (coursefile.py)
ENGINE = "tinygrad_edu"                 # copied as it is, and not covered by the leak proof
CHAPTER = re.compile(r"^tutorials/[0-9][0-9]-[^/]*\.md$")

INCLUDED = ("README.md", "LICENSE", "pyproject.toml", "cli.py", "tinygrad_edu_launcher.py", ".gitignore",
            "docs", "tutorials", "exercises", "tinygrad_edu")
# Matched against each file or folder name, and against its path from the root.
EXCLUDED = ("__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".git", ".DS_Store",
            "*.egg-info", "*.pyc", "*.ipynb", "build", "dist", "exercises/mutants", "tutorials/figures/*.dot", STAMP)
# What running the edition leaves behind (bytecode, test caches): a rebuild with --force may delete it.
CACHES = ("__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", "*.pyc")

_PY_LIKE = re.compile(r"#+\s*(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
_MD_LIKE = re.compile(r"<!--\s*(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+).*?\1")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_COMMENT = re.compile(r"<!--.*?-->")
_ALNUM = re.compile(r"[^\W_]")


class EditionError(ValueError):
    """The instructor's edition cannot be split: a malformed marker, an unknown exercise, a leak."""


class EditionUsageError(EditionError):
    """DEST or the source folder cannot be used as given (the command line's bad usage, exit 2)."""


# ----- reading the blocks ------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """One solution block: its marker lines (1-based) and the BEGIN marker's indentation."""
    begin: int
    end: int
    indent: str


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its own line ending (only '\\n' ends a line, as in tokenize)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _pair(markers: list[tuple[int, str, str]], path, begin: str, end: str) -> list[Block]:
    """Blocks from (line, which, indentation) markers, in order; one-line errors for every misuse."""
    blocks, opened = [], None
    for line, which, indent in markers:
        if which == "BEGIN":
            if opened is not None:
                raise EditionError(f"{path}:{line}: a '{begin}' inside the block opened at line {opened[0]} "
                                   f"(blocks do not nest); put '{end}' before this line")
            opened = (line, indent)
        elif opened is None:
            raise EditionError(f"{path}:{line}: '{end}' without a '{begin}' before it; add '{begin}' where "
                               f"the solution starts, or remove this line")
        else:
            blocks.append(Block(opened[0], line, opened[1]))
            opened = None
    if opened is not None:
        raise EditionError(f"{path}:{opened[0]}: this '{begin}' is never closed; add '{end}' after the solution")
    return blocks


def _refuse_empty(blocks: list[Block], lines: list[str], path, is_content: Callable[[str], bool],
                  begin: str, end: str) -> None:
    for block in blocks:
        if not any(is_content(line) for line in lines[block.begin:block.end - 1]):
            raise EditionError(f"{path}:{block.begin}: an empty solution (nothing between '{begin}' and "
                               f"'{end}'); write the solution there, or remove both markers")


def python_blocks(text: str, path) -> list[Block]:
    """The solution blocks of a Python file, its markers checked (EditionError, path:line)."""
    lines = _lines(text)
    comments = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token
    except (tokenize.TokenError, SyntaxError) as exc:
        line = getattr(exc, "lineno", None) or (exc.args[1][0] if len(exc.args) > 1 else 1)
        raise EditionError(f"{path}:{line}: not readable as Python ({exc.args[0]}); fix the syntax") from None
    markers = []
    for number, line in enumerate(lines, 1):
        match = _PY_LIKE.search(line)
        if not match:
            continue
        token = comments.get(number)
        if token is None or not _PY_LIKE.search(token.string):
            raise EditionError(f"{path}:{number}: a solution marker inside a string; a marker is a comment line "
                               f"of its own, so spell this text another way (e.g. 'BEGIN' ' SOLUTION')")
        if line[:token.start[1]].strip():
            raise EditionError(f"{path}:{number}: a solution marker after code on the same line; put "
                               f"'{match.group(0)}' on a line of its own")
        comment = token.string.rstrip()
        which = match.group(1).upper()
        exact = PY_BEGIN if which == "BEGIN" else PY_END
        if comment != exact:
            fix = ("remove the text after it" if comment.startswith(exact)
                   else f"write exactly '{exact}' alone on its line")
            raise EditionError(f"{path}:{number}: {comment!r} is not a solution marker; {fix}")
        markers.append((number, which, line[:token.start[1]]))
    blocks = _pair(markers, path, PY_BEGIN, PY_END)
    for block in blocks:
        end_indent = lines[block.end - 1][:len(lines[block.end - 1]) - len(lines[block.end - 1].lstrip())]
        if end_indent != block.indent:
            raise EditionError(f"{path}:{block.end}: '{PY_END}' is indented differently from its '{PY_BEGIN}' "
                               f"(line {block.begin}); indent both markers like the solution's lines")

    def is_code(line: str) -> bool:
        return bool(line.strip()) and not line.lstrip().startswith("#")
    _refuse_empty(blocks, lines, path, is_code, PY_BEGIN, PY_END)
    return blocks


def _outside_code(line: str, fence: tuple | None) -> tuple[str, tuple | None, bool]:
    """(the line's text outside inline code spans, the fence open after it, whether the line is part of a fence)."""
    stripped = line.rstrip("\r\n")
    if fence is not None:
        closing = re.match(r"^ {0,3}(" + re.escape(fence[0]) + "{" + str(fence[1]) + r",})\s*$", stripped)
        return "", (None if closing else fence), True
    opening = _FENCE.match(stripped)
    if opening:
        return "", (opening.group(1)[0], len(opening.group(1))), True
    return _CODE_SPAN.sub("", stripped), None, False


def markdown_blocks(text: str, path) -> list[Block]:
    """The solution blocks of a Markdown file, its markers checked (EditionError, path:line)."""
    lines = _lines(text)
    markers, fence = [], None
    for number, line in enumerate(lines, 1):
        prose, fence, in_code = _outside_code(line, fence)
        match = None if in_code else _MD_LIKE.search(prose)
        if not match:
            continue
        which = match.group(1).upper()
        exact = MD_BEGIN if which == "BEGIN" else MD_END
        stripped = line.strip()
        if stripped != exact:
            fix = ("remove the text after it" if stripped.startswith(exact)
                   else f"write exactly '{exact}' alone on its line (or show it as `code`)")
            raise EditionError(f"{path}:{number}: {stripped[:60]!r} is not a solution marker; {fix}")
        markers.append((number, which, line[:len(line) - len(line.lstrip())]))
    blocks = _pair(markers, path, MD_BEGIN, MD_END)
    _refuse_empty(blocks, lines, path, lambda line: bool(_HTML_COMMENT.sub("", line).strip()), MD_BEGIN, MD_END)
    return blocks


# ----- stripping ----------------------------------------------------------------------------------

def _string_literal(text: str) -> str:
    """A Python literal for `text`, in double quotes when it can be ("exercise 2.8: tanh's backward")."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def _ending(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else ""


def _replace(lines: list[str], blocks: list[Block], replacement: Callable[[Block], str]) -> str:
    out, position = [], 0
    for block in blocks:
        out.extend(lines[position:block.begin - 1])
        ending = _ending(lines[block.end - 1]) or _ending(lines[block.begin - 1])
        out.append(block.indent + replacement(block) + ending)
        position = block.end
    out.extend(lines[position:])
    return "".join(out)


def _belongs(path, file: str) -> bool:
    """Whether the workbook file `file` ("ex02_ops.py") is `path` ("exercises/ex02_ops.py")."""
    want, have = PurePosixPath(file).parts, PurePosixPath(Path(path).as_posix()).parts
    return len(have) >= len(want) and have[len(have) - len(want):] == want


def strip_python(text: str, path, exercises: Iterable[Exercise]) -> str:
    """The student edition of workbook file `path`: each solution block replaced by its exercise's stub.

    `exercises` is the manifest (every exercise, or this file's); a block belongs to the exercise whose
    `name` is the top-level function or class around it, and becomes
    ``raise NotImplementedError("exercise ID: TITLE")`` at the BEGIN marker's indentation. Every
    exercise of this file must be defined in it and hold at least one block. EditionError otherwise.
    """
    return _strip_python(text, path, exercises)[0]


def _strip_python(text: str, path, exercises: Iterable[Exercise]) -> tuple[str, int]:
    mine = {e.name: e for e in exercises if _belongs(path, e.file)}
    blocks = python_blocks(text, path)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise EditionError(f"{path}:{exc.lineno}: not valid Python ({exc.msg}); fix the syntax") from None
    # Each top-level def or class: its first line (decorators too), its last statement's line, and the
    # line before the next top-level statement (an END marker after the last statement is still inside).
    starts = [min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) for node in tree.body]
    tops = {}
    for i, node in enumerate(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            until = starts[i + 1] - 1 if i + 1 < len(starts) else len(_lines(text))
            tops[node.name] = (starts[i], node.end_lineno, until)
    owner = {}
    for block in blocks:
        around = [name for name, (first, last, _) in tops.items() if first <= block.begin <= last]
        if not around:
            raise EditionError(f"{path}:{block.begin}: a solution block outside any function or class; move it "
                               f"into the exercise's function (the one manifest.toml names)")
        name = around[0]
        if not block.end <= tops[name][2]:
            raise EditionError(f"{path}:{block.begin}: this solution block starts in {name} and ends outside it "
                               f"(line {block.end}); end it inside {name}")
        if name not in mine:
            known = ", ".join(sorted(mine)) or "none"
            raise EditionError(f"{path}:{block.begin}: a solution block in {name}, which is not an exercise of "
                               f"{Path(path).name} in manifest.toml (its exercises here: {known}); add {name} to "
                               f"the manifest, or move the block into an exercise")
        owner[block] = mine[name]
    for name, exercise in mine.items():
        if name not in tops:
            raise EditionError(f"{path}: manifest.toml's exercise {exercise.id} is {name}, which this file does "
                               f"not define; define it here, or fix the exercise's file and name")
        if exercise not in owner.values():
            raise EditionError(f"{path}:{tops[name][0]}: exercise {exercise.id} ({name}) has no solution block; "
                               f"put its solution between '{PY_BEGIN}' and '{PY_END}' lines")
    student = _replace(_lines(text), blocks,
                       lambda b: f"raise NotImplementedError({_string_literal(stub_message(owner[b]))})")
    try:
        compile(student, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise EditionError(f"{path}:{exc.lineno}: the student edition would not compile ({exc.msg}); a solution "
                           f"block must hold whole statements") from None
    return student, len(blocks)


def strip_markdown(text: str, path) -> str:
    """The student edition of Markdown file `path`: each solution block replaced by ``SOLUTION_REMOVED``."""
    return _replace(_lines(text), markdown_blocks(text, path), lambda b: SOLUTION_REMOVED)


def _stray_python_marker(text: str, path) -> None:
    """A marker comment in a Python file that is not stripped (outside exercises/) is an error."""
    if not _PY_LIKE.search(text):
        return
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return
    for token in tokens:
        if token.type == tokenize.COMMENT and _PY_LIKE.search(token.string):
            raise EditionError(f"{path}:{token.start[0]}: a solution marker outside {WORKBOOK}/, where nothing is "
                               f"stripped; move the solution into the workbook, or into a chapter's fold")


# ----- which files -------------------------------------------------------------------------------

def _excluded(relative: str) -> bool:
    name = PurePosixPath(relative).name
    return any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(relative, pattern) for pattern in EXCLUDED)


def edition_files(source_root, skip: Iterable[Path] = (), included: Iterable[str] = INCLUDED) -> list[str]:
    """The files of `source_root` that go into the student edition, relative ("docs/CONTRIBUTING.md"), sorted.

    `included`: the top-level files and folders to take (the course file's release parts, else INCLUDED).
    Folders in `skip` (the edition being built, when it lies inside the source) and folders holding a
    ``STAMP`` (an earlier student edition) are left out.
    """
    root = Path(source_root)
    skip = {Path(p).resolve() for p in skip}
    found = []
    for top in included:
        path = root / top
        if path.is_symlink():
            raise EditionUsageError(f"{path}: a symbolic link; the student edition holds regular files only, "
                                    f"so replace it with the file or folder itself")
        if path.is_file():
            found.append(top)
            continue
        for folder, dirs, files in os.walk(path):
            folder = Path(folder)
            keep = []
            for d in sorted(dirs):
                relative = (folder / d).relative_to(root).as_posix()
                child = folder / d
                if _excluded(relative) or child.resolve() in skip or (child / STAMP).is_file():
                    continue
                if child.is_symlink():
                    raise EditionUsageError(f"{child}: a symbolic link; the student edition holds regular files "
                                            f"only, so replace it with the folder itself")
                keep.append(d)
            dirs[:] = keep
            for name in sorted(files):
                relative = (folder / name).relative_to(root).as_posix()
                if _excluded(relative):
                    continue
                if (folder / name).is_symlink() or not (folder / name).is_file():
                    raise EditionUsageError(f"{folder / name}: not a regular file (a link, a pipe, ...); the "
                                            f"student edition holds regular files only, so replace it with a file")
                found.append(relative)
    return sorted(found)


def _is_workbook_python(relative: str) -> bool:
    return relative.startswith(WORKBOOK + "/") and relative.endswith(".py")


def _covered(relative: str) -> bool:
    """Whether the leak proof reads this file of the edition (everything but the engine)."""
    return not relative.startswith(ENGINE + "/")


def solution_blocks(relative: str, text: str) -> list[Block]:
    """The solution blocks of an instructor's file, by its kind (workbook Python, Markdown, or none)."""
    if _is_workbook_python(relative):
        return python_blocks(text, relative)
    if relative.endswith(".md") and _covered(relative):
        return markdown_blocks(text, relative)
    return []


def student_text(relative: str, text: str, exercises: list[Exercise]) -> tuple[str, int]:
    """(the student edition of one text file, how many solutions were removed from it)."""
    if _is_workbook_python(relative):
        return _strip_python(text, relative, exercises)
    if relative.endswith(".md") and _covered(relative):
        blocks = markdown_blocks(text, relative)
        return _replace(_lines(text), blocks, lambda b: SOLUTION_REMOVED), len(blocks)
    if relative.endswith(".py") and _covered(relative):
        _stray_python_marker(text, relative)
    return text, 0


def _text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# ----- the proof ----------------------------------------------------------------------------------

def normalise(line: str) -> str:
    """A line as the leak proof compares it: HTML and '#' comments removed, whitespace collapsed, stripped."""
    line = _HTML_COMMENT.sub(" ", line)
    quote, cut = None, len(line)
    for i, char in enumerate(line):                 # the first '#' outside a quoted string starts a comment
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            cut = i
            break
    return " ".join(line[:cut].split())


@dataclass(frozen=True)
class Leak:
    """A solution line found in the student edition."""
    path: str           # in the student edition, relative
    line: int           # 1-based; 0 for a file that must not be there at all
    text: str           # the normalised line
    origin: str         # where it is a solution line in the instructor's edition ("exercises/ex02_ops.py:22")

    def __str__(self) -> str:
        if not self.line:
            return f"{self.path}: {self.text}"
        return (f"{self.path}:{self.line}: the solution line {self.text!r} (from {self.origin}) is in the "
                f"student edition")


def _split(relative: str, text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """(the normalised solution lines with their line numbers, the normalised lines outside any block)."""
    lines = _lines(text)
    inside = set()
    for block in solution_blocks(relative, text):
        inside.update(range(block.begin, block.end + 1))     # the marker lines normalise to nothing
    solution = [(n, normalise(lines[n - 1])) for n in sorted(inside)]
    outside = [normalise(line) for n, line in enumerate(lines, 1) if n not in inside]
    # A line without a letter or a digit (")", "```", "---") tells nothing about a solution.
    return [(n, s) for n, s in solution if _ALNUM.search(s)], [s for s in outside if s]


def find_leaks(source_root, dest) -> list[Leak]:
    """Every solution line of the instructor's edition that the student edition at `dest` still holds.

    A normalised line (``normalise``) of any solution block is a leak in a file of `dest` when it
    appears there more often than outside the solution blocks of the instructor's same file (a line
    the instructor also wrote outside a solution, such as ``import numpy as np``, may stay as often).
    Lines without a letter or a digit (a closing bracket, a code fence) say nothing and are not counted.
    Every text file of `dest` is read except those under tinygrad_edu/, the engine, which is the
    readable reference by design. A file under exercises/mutants/ (near-solutions) is a leak too.
    An empty list is the proof that no solution line remains.
    """
    source, dest = Path(source_root), Path(dest)
    solutions: dict[str, str] = {}
    outside: dict[str, Counter] = {}
    for relative in edition_files(source, skip=[dest]):
        if not _covered(relative):
            continue
        text = _text((source / relative).read_bytes())
        if text is None:
            continue
        lines, rest = _split(relative, text)
        for number, line in lines:
            solutions.setdefault(line, f"{relative}:{number}")
        outside[relative] = Counter(rest)
    leaks = []
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        relative = path.relative_to(dest).as_posix()
        if not _covered(relative):
            continue
        if fnmatch.fnmatch(relative, "exercises/mutants/*"):
            leaks.append(Leak(relative, 0, "a mutant file (a near-solution) is in the student edition", relative))
            continue
        text = _text(path.read_bytes())
        if text is None:
            continue
        allowed, seen = outside.get(relative, Counter()), Counter()
        for number, line in enumerate(_lines(text), 1):
            line = normalise(line)
            if line in solutions:
                seen[line] += 1
                if seen[line] > allowed[line]:
                    leaks.append(Leak(relative, number, line, solutions[line]))
    return leaks


# ----- building -----------------------------------------------------------------------------------

@dataclass
class BuildReport:
    """What a build wrote: every file (relative to `dest`) and how many solutions it removed from each."""
    dest: Path
    files: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)      # relative path -> solutions removed (> 0)

    @property
    def workbook(self) -> dict[str, int]:
        return {p: n for p, n in self.removed.items() if p.startswith(WORKBOOK + "/")}

    @property
    def chapters(self) -> dict[str, int]:
        return {p: n for p, n in self.removed.items() if CHAPTER.match(p)}

    @property
    def others(self) -> dict[str, int]:
        return {p: n for p, n in self.removed.items() if p not in self.workbook and p not in self.chapters}

    def summary(self, shown_as=None) -> str:
        """'wrote DIR: 31 solutions removed from 10 workbook files and 30 from 10 chapters; no solution line remains'

        DIR is `shown_as` (the folder as the user typed it), else `dest`.
        """
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"
        parts = [f"{count(sum(self.workbook.values()), 'solution')} removed from "
                 f"{count(len(self.workbook), 'workbook file')}",
                 f"{sum(self.chapters.values())} from {count(len(self.chapters), 'chapter')}"]
        if self.others:
            parts.append(f"{sum(self.others.values())} from {count(len(self.others), 'other file')}")
        removed = ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"wrote {self.dest if shown_as is None else shown_as}: {removed}; no solution line remains"


@dataclass
class Staging:
    """The student edition while it is built, in a temporary folder: what each part of a release writes into."""
    source: Path
    root: Path
    exercises: list[Exercise]
    report: BuildReport
    included: tuple = INCLUDED          # the top-level paths the sources part copies
    course: Course | None = None        # exercises/course.toml, when the source has one

    def write_bytes(self, relative: str, data: bytes, mode: int | None = None) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        if mode is not None:
            os.chmod(target, mode)
        self.report.files.append(relative)

    def write_text(self, relative: str, text: str) -> None:
        self.write_bytes(relative, text.encode("utf-8"))


def write_sources(staging: Staging) -> None:
    """The repository's files (``edition_files``): workbook and Markdown stripped, everything else as it is."""
    for relative in edition_files(staging.source, skip=[staging.root, staging.report.dest], included=staging.included):
        path = staging.source / relative
        data = path.read_bytes()
        text = _text(data)
        if text is None and (_is_workbook_python(relative) or relative.endswith(".md") and _covered(relative)):
            raise EditionError(f"{relative}: not UTF-8 text, so its solutions cannot be found; save it as UTF-8")
        if text is not None:
            student, removed = student_text(relative, text, staging.exercises)
            if removed:
                data = student.encode("utf-8")
                staging.report.removed[relative] = removed
        staging.write_bytes(relative, data, mode=path.stat().st_mode & 0o777)


def _workbook_files_exist(staging: Staging) -> None:
    for exercise in staging.exercises:
        if not (staging.source / WORKBOOK / exercise.file).is_file():
            raise EditionError(f"{MANIFEST_PATH}: exercise {exercise.id} lives in {WORKBOOK}/{exercise.file}, "
                               f"which does not exist; add the file, or fix the exercise's file")


# The parts of a release, in the order they are written; a course file will choose among them.
def write_classroom(staging: Staging) -> None:
    """The classroom's files (classroom.py): GitHub Classroom's autograding tests, one per exercise with its
    points, and the workflow that runs them on the students' repositories."""
    if staging.course is not None:
        for relative, text in classroom_files(staging.course).items():
            staging.write_text(relative, text)


# The student edition's tests/test_workbook.py: the fixture and the test of workbook_tests.py (which needs
# pytest, so it is not imported here: `edu train` runs without the course extra).
TEST_FILE = '''"""The workbook's exercises as tests (written by `edu course build --student`).

`python -m pytest` checks every exercise of exercises/ as `edu check` does: an exercise passes when
its checks pass, fails with edu check's feedback when one does not, and is skipped until you attempt
it. `edu check` tells the same, and which exercise to do next.
"""
from tinygrad_edu.course.workbook_tests import test_exercise, workbook_report  # noqa: F401  (pytest runs them)
'''


def write_tests(staging: Staging) -> None:
    """tests/test_workbook.py: the README's test command, `python -m pytest`, checks the workbook's exercises
    (workbook_tests.py); the instructor's tests/ stay out (they prove the checks with the solutions)."""
    staging.write_text("tests/test_workbook.py", TEST_FILE)


PARTS: dict[str, Callable[[Staging], None]] = {"sources": write_sources, "tests": write_tests,
                                               "classroom": write_classroom}


def is_instructor_edition(folder) -> bool:
    folder = Path(folder)
    return (folder / MANIFEST_PATH).is_file() and (folder / WORKBOOK).is_dir()


def find_source_root(start=None) -> Path:
    """The instructor's edition around `start` (default: the current folder), looking upward; else the
    checkout the installed package lives in. EditionUsageError when there is none."""
    start = Path(start or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        if is_instructor_edition(folder):
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if is_instructor_edition(checkout):
        return checkout
    raise EditionUsageError(f"no instructor's edition in {start} or above it (a folder with {WORKBOOK}/ and "
                            f"{MANIFEST_PATH}); run this in the repository, or pass --source ROOT")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_cache(relative: str) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in PurePosixPath(relative).parts for pattern in CACHES)


def _replaceable(dest: Path) -> None:
    """Refuse to replace `dest` unless it is a previous build, as that build wrote it (caches aside)."""
    stamp = dest / STAMP
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if not isinstance(recorded, dict):
        raise EditionUsageError(f"{dest} was not written by `edu course build` (it has no readable {STAMP}), so it "
                                f"is never replaced; choose another folder, or empty this one yourself")
    for path in sorted(dest.rglob("*")):
        relative = path.relative_to(dest).as_posix()
        if relative == STAMP or _is_cache(relative) or path.is_dir() and not path.is_symlink():
            continue
        if relative not in recorded or path.is_symlink() or not path.is_file() or _digest(path) != recorded[relative]:
            what = "added" if relative not in recorded else "changed"
            raise EditionUsageError(f"{dest / relative} was {what} after the build wrote {dest}, so {dest} is not "
                                    f"replaced; move your work elsewhere, or delete {dest} yourself")


def _check_places(source: Path, dest: Path, force: bool) -> None:
    if not is_instructor_edition(source):
        raise EditionUsageError(f"{source} is not the instructor's edition (no {WORKBOOK}/ and {MANIFEST_PATH}); "
                                f"give the repository's folder")
    if (source / STAMP).is_file():
        raise EditionUsageError(f"{source} is itself a student edition ({STAMP}); build from the instructor's "
                                f"repository")
    if dest == source or dest in source.parents:
        raise EditionUsageError(f"{dest} holds the instructor's edition {source}; choose a folder outside it")
    if dest.is_symlink() or dest.exists() and not dest.is_dir():
        raise EditionUsageError(f"{dest} exists and is not a folder (or is a link); choose a folder for the "
                                f"student edition")
    if dest == Path.cwd().resolve() and dest.is_dir():
        raise EditionUsageError(f"{dest} is the current folder, which the build would replace; name a new "
                                f"folder, e.g. --student student")
    if dest.is_dir() and any(dest.iterdir()):
        if not force:
            raise EditionUsageError(f"{dest} already exists and is not empty; add --force to replace an earlier "
                                    f"build, or choose another folder")
        _replaceable(dest)


def build_student(source_root, dest, force: bool = False, parts: Iterable[str] | None = None) -> BuildReport:
    """Write the student edition of `source_root` to `dest`; return what was written (``BuildReport``).

    Built in a temporary folder beside `dest`, proven by ``find_leaks`` (a leak is an EditionError and
    nothing is left at `dest`), stamped, then renamed into place. An existing non-empty `dest` is
    refused, and with `force` replaced only if it is an earlier build left as written (``_replaceable``).
    `parts` names the entries of ``PARTS`` to write (default: the sources, the workbook's tests, and the
    classroom's files when the source has a course file, whose release parts then say what the sources are).
    EditionUsageError for an unusable `dest` or source.
    """
    source = Path(source_root).resolve()
    dest = Path(os.path.abspath(dest))
    dest = dest.parent.resolve() / dest.name           # canonical, without following DEST itself if a link
    _check_places(source, dest, force)
    try:
        exercises = load(source / MANIFEST_PATH)
    except ManifestError as exc:
        raise EditionError(str(exc)) from None
    course_file = source / COURSE_PATH
    try:
        course = load_course(course_file, exercises) if course_file.is_file() else None
    except CourseError as exc:
        raise EditionError(str(exc)) from None
    if parts is None:
        parts = ("sources", "tests", "classroom") if course is not None else ("sources", "tests")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise EditionUsageError(f"unknown part {unknown[0]!r} of a release; the parts are {', '.join(PARTS)}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging_root = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    except OSError as exc:
        raise EditionUsageError(describe_os_error(exc, dest, "create")) from None
    report = BuildReport(dest)
    staging = Staging(source, staging_root, exercises, report, tuple(course.parts) if course else INCLUDED, course)
    try:
        os.chmod(staging_root, 0o777 & ~_umask())
        _workbook_files_exist(staging)
        for part in parts:
            PARTS[part](staging)
        report.files.sort()
        stamp = {"edition": "student", "built_by": "edu course build --student", "format": 1,
                 "files": {relative: _digest(staging_root / relative) for relative in report.files}}
        atomic_write_bytes(staging_root / STAMP, (json.dumps(stamp, indent=1, sort_keys=True) + "\n").encode())
        leaks = find_leaks(source, staging_root)
        if leaks:
            more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
            raise EditionError(f"{leaks[0]}{more}; nothing was written: fix the markers around that solution")
        _move_into_place(staging_root, dest)
    except OSError as exc:
        shutil.rmtree(staging_root, ignore_errors=True)
        reading = exc.filename is not None and Path(exc.filename).is_relative_to(source)
        raise EditionUsageError(describe_os_error(exc, exc.filename if reading else dest,
                                                  "read" if reading else "write")) from None
    except BaseException:
        shutil.rmtree(staging_root, ignore_errors=True)
        raise
    return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into_place(staging_root: Path, dest: Path) -> None:
    """Rename the finished edition to `dest`; an earlier build there is moved aside first, then deleted."""
    if dest.is_dir() and any(dest.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.rename(dest, old / dest.name)
        try:
            os.rename(staging_root, dest)
        except BaseException:
            os.rename(old / dest.name, dest)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            dest.rmdir()                      # an empty folder: rename() may not replace it everywhere
        os.rename(staging_root, dest)
