"""Run the tutorial chapters; re-record their printed outputs and rebuild their figures.

    python tutorials/build.py              # every chapter: rewrite outputs, redraw figures
    python tutorials/build.py 01 05        # only the chapters whose file name starts with 01 or 05
    python tutorials/build.py --check      # change nothing; exit 1 if a recorded output is stale

A chapter is a Markdown file ``tutorials/NN-name.md``. Its ```python blocks are run in
order, in one namespace, with the working directory set to ``tutorials/`` (so that
``figures/...`` is where the chapter's images live). What a block prints is recorded in
the ```text block right after it; the build rewrites those blocks, and the test suite
(tests/test_tutorials.py) checks that they still match what the code prints.

The test suite imports this file for ``chapters``, ``parse``, ``run`` and ``normalise``;
it needs nothing but the standard library (and matplotlib, if a chapter draws).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tinygrad_edu.io import atomic_write_text

HERE = Path(__file__).resolve().parent
CHAPTER_GLOB = "[0-9][0-9]-*.md"
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\((figures/[^)\s]+)\)")


@dataclass
class Block:
    """One ```python block of a chapter, and the ```text block recorded after it (if any)."""
    code: str
    line: int                     # 1-based line of the block's first code line in the .md file
    solution: bool                # inside <details>...</details>: an exercise's solution
    fence_end: int                # 0-based index of the closing ``` of the code block
    recorded: Optional[str] = None  # text of the recorded output block, None if there is none
    recorded_end: Optional[int] = None  # 0-based index of the closing ``` of the output block
    output: Optional[str] = field(default=None, repr=False)  # what the block printed (after run())


class ChapterError(RuntimeError):
    """A code block of a chapter raised; the message names the file and the line."""


def chapters(directory: Path = HERE) -> list:
    """Every chapter file, in order: tutorials/01-....md, 02-..., ..."""
    return sorted(Path(directory).glob(CHAPTER_GLOB))


def normalise(text: Optional[str]) -> str:
    """Output as compared: trailing spaces and blank lines at either end do not count."""
    lines = [ln.rstrip() for ln in (text or "").splitlines()]
    return "\n".join(lines).strip("\n")


def parse(text: str) -> list:
    """The chapter's ```python blocks, in order, with their recorded ```text outputs."""
    lines = text.splitlines()
    blocks, depth, i = [], 0, 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            depth += lines[i].count("<details") - lines[i].count("</details>")
            i += 1
            continue
        lang, start = m.group(1), i
        i += 1
        while i < len(lines) and not FENCE.match(lines[i]):
            i += 1
        if i == len(lines):
            raise ValueError(f"line {start + 1}: a ``` block is never closed; add a line with ``` after it")
        if lang == "python":
            block = Block("\n".join(lines[start + 1:i]) + "\n", start + 2, depth > 0, i)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and FENCE.match(lines[j]) and FENCE.match(lines[j]).group(1) == "text":
                k = j + 1
                while k < len(lines) and not FENCE.match(lines[k]):
                    k += 1
                block.recorded, block.recorded_end = "\n".join(lines[j + 1:k]), k
                i = k
            blocks.append(block)
        i += 1
    return blocks


@contextlib.contextmanager
def _working_directory(path: Path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run(path: Path, workdir: Path = HERE) -> list:
    """Run every python block of chapter `path` in order, in one namespace, in `workdir`.

    Figures the chapter saves under ``figures/`` land in ``workdir/figures``. Each
    block's printed stdout is stored in ``block.output``. Warnings are errors (other than
    deprecation warnings from libraries): a chapter that expects one catches it itself.
    Raises ChapterError naming the file and line of the block that failed.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    if "matplotlib" in sys.modules:
        import matplotlib
        matplotlib.use("Agg")
    path, workdir = Path(path).resolve(), Path(workdir)
    (workdir / "figures").mkdir(parents=True, exist_ok=True)
    blocks = parse(path.read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__"}
    with _working_directory(workdir), warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("default", DeprecationWarning)
        warnings.simplefilter("default", PendingDeprecationWarning)
        try:
            for block in blocks:
                # Pad with blank lines so that a traceback names the line in the .md file.
                code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
                out = io.StringIO()
                try:
                    with contextlib.redirect_stdout(out):
                        exec(code, namespace)
                except Exception as exc:
                    raise ChapterError(_describe_failure(path, block, exc)) from exc
                block.output = out.getvalue()
        finally:
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    return blocks


def _describe_failure(path: Path, block: Block, exc: BaseException) -> str:
    """'01-x.md, line 57 (block at line 50): AssertionError: ...' plus the failing line of the chapter."""
    line, tb = None, exc.__traceback__
    while tb is not None:                      # the innermost frame that runs the chapter's own code
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f"line {line} (block at line {block.line})" if line else f"block at line {block.line}"
    message = f"{path.name}, {where}: {type(exc).__name__}: {exc}"
    if line:
        message += "\n    " + path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    return message


def rewrite(text: str, blocks: list) -> str:
    """The chapter with every block's recorded output replaced by what it printed."""
    lines = text.splitlines()
    new, i = [], 0
    for block in blocks:
        new.extend(lines[i:block.fence_end + 1])
        i = block.fence_end + 1 if block.recorded_end is None else block.recorded_end + 1
        printed = normalise(block.output)
        if printed:
            new.extend(["", "```text", *printed.split("\n"), "```"])
    new.extend(lines[i:])
    return "\n".join(new) + "\n"


def stale(blocks: list) -> list:
    """The blocks whose recorded output differs from what they printed."""
    return [b for b in blocks if normalise(b.recorded) != normalise(b.output)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="chapter number prefixes, e.g. 01 05 (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if an output is stale")
    args = parser.parse_args(argv)
    paths = [p for p in chapters() if not args.only or any(p.name.startswith(o) for o in args.only)]
    if not paths:
        parser.error(f"no chapter matches {args.only}; chapters are {[p.name for p in chapters()]}")
    failed = False
    for path in paths:
        started = time.perf_counter()
        text = path.read_text(encoding="utf-8")
        try:
            blocks = run(path, HERE)
        except ChapterError as exc:
            print(f"FAIL  {exc}")
            failed = True
            continue
        seconds = time.perf_counter() - started
        changed = stale(blocks)
        if args.check:
            status = "ok   " if not changed else "STALE"
            failed |= bool(changed)
        else:
            new_text = rewrite(text, blocks)
            if new_text != text:
                atomic_write_text(path, new_text)
            status = "ok   " if not changed else "wrote"
        where = ", ".join(f"line {b.line}" for b in changed)
        print(f"{status} {path.name:32s} {seconds:5.1f} s  {len(blocks)} blocks"
              + (f"  (outputs changed at {where})" if changed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
