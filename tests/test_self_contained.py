"""The project stands alone: no file name or number of a document outside the repository appears in it.

The project was started from a handful of documents (Q&A threads, an article, lecture notes) that a
student who clones the repository does not have. Where a chapter or docstring discusses one of
their claims it restates the claim in its own words, with its formula ("a popular Q&A answer says
..."); it never names the file (``000_59b0...txt``), its folder, or its number used as a name
("003's constants", "the answer in 000").
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".md", ".py", ".txt", ".toml", ".cfg", ".json", ".rst", ".yml", ".yaml"}
PATTERNS = {
    "a source file name": re.compile(r"\b00[0-4]_"),
    "the sources' folder": re.compile(r"shared/seeds"),
    # 000 … 004 on their own: not part of a number (0.001, 10,000, 1000, 1e-004) or of a longer word.
    "a document number used as a name": re.compile(r"(?<![\w.,+\-−])00[0-4](?!\w)(?![.,]\d)"),
}
AREAS = ["tutorials", "docs", "cli.py", "tinygrad_edu_launcher.py", "README.md", "tinygrad_edu", "tests", "bench",
         "exercises"]


def _files(area):
    path = ROOT / area
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
                  and p != Path(__file__).resolve())   # this file spells the patterns out, to test them


def _hits(text):
    return [(what, m.group(0)) for what, pattern in PATTERNS.items() for m in pattern.finditer(text)]


def test_the_patterns_catch_each_way_of_naming_a_source_and_spare_numbers():
    for text in ("see `000_0123456789abcdef.txt`", "the mapping in `003_…`", "(`../shared/seeds/`)",
                 "003's constants", "the answer in 000 says", "The question (000):", "the notes in 004."):
        assert _hits(text), text
    for text in ("lr = 0.001", "10,000 steps", "x = 1.000", "1000 × the loss", "0.004", "1e-004", "x004 = 1",
                 "a 2004 paper", "step 100,004", "f'{x:.3f}'"):
        assert not _hits(text), text


@pytest.mark.parametrize("area", AREAS)
def test_no_source_document_is_named(area):
    files = _files(area)
    assert files, f"nothing to check in {area}"
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{number}: {what} ({text!r}) in: {line.strip()[:120]}"
                      for what, text in _hits(line)]
    assert not found, ("documents outside the repository are named; restate the claim in your own words "
                       "instead:\n" + "\n".join(found))
