"""Hypothesis strategies for fuzzing the `edu` command line: hostile numbers, strings, names and paths.

A command line is built from a dict {option: strategy}: each example picks some of the options,
gives each a value, and sometimes adds an unknown option or a stray argument.
"""
import os
import stat
import traceback
from pathlib import Path

from hypothesis import strategies as st

# Numbers as a user may type them: negative, zero, huge, not numbers at all, floats for ints.
EDGE_NUMBERS = ["-1", "0", "-0", "1", "2", "0.5", "1.5", "1e9", "1e12", "1000000000", "1000000000000", "1e308",
                "-1e308", "1e-320", "nan", "-nan", "inf", "-inf", "", " ", "x", "1,2", "0x10", "1_000", "١", "10" * 30]
numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(-10 ** 13, 10 ** 13).map(str),
                    st.floats().map(repr))

# Strings: empty, long, unicode, commas, control characters, things that look like options.
EDGE_TEXT = ["", " ", ",", ",,", "a" * 300, "μ∇≈😀", "a,b", "-x", "--", "none", "all", "\t", "é,ü", "nul\x00"]
texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=12))


def name_like(known):
    """A known name, a near miss of one, or something else entirely."""
    known = list(known)
    near = st.sampled_from(known).map(lambda n: n[:-1] or "x")
    shouted = st.sampled_from(known).map(str.upper)
    return st.one_of(st.sampled_from(known), near, shouted, texts)


def comma_list(element, max_size=4):
    return st.lists(element, max_size=max_size).map(",".join)


# Places a file may be asked to go (resolved inside the workspace made by `make_workspace`).
PATH_KINDS = ["new.png", "new.svg", "new.dot", "sub/new.png", "folder", "folder.png", "fifo", "fifo.png",
              "readonly/x.png", "existing.png", "existing.svg", "existing.dot", "afile/x.png", "x" * 300 + ".png",
              "y" * 300, "a.pdf", "a.jpg", "", ".", "/dev/full", "/dev/null", "nul\x00.png", "sp ace/é.svg"]
paths = st.one_of(st.sampled_from(PATH_KINDS), texts)


def make_workspace(root: Path) -> Path:
    """A folder with what hostile paths point at: a folder, a FIFO, a read-only folder, existing files."""
    (root / "folder").mkdir()
    (root / "folder.png").mkdir()
    os.mkfifo(root / "fifo")
    os.mkfifo(root / "fifo.png")
    (root / "readonly").mkdir()
    (root / "readonly").chmod(stat.S_IRUSR | stat.S_IXUSR)
    for name in ("existing.png", "existing.svg", "existing.dot", "afile"):
        (root / name).write_text("made by the user\n")
    return root


@st.composite
def command_lines(draw, options: dict, flags=(), extra=None):
    """Arguments for one command: some options, at most two of them hostile, some flags, maybe junk.

    `options` maps each option to (valid values, hostile values): with the others valid, a hostile
    value reaches the code that handles it instead of being refused by the first bad option.
    """
    names = draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=len(options))) if options else []
    hostile = set(draw(st.lists(st.sampled_from(names), unique=True, max_size=2))) if names else set()
    args = []
    for name in names:
        valid, bad = options[name]
        args += [name, draw(bad if name in hostile else valid)]
    if flags:
        args += draw(st.lists(st.sampled_from(list(flags)), unique=True, max_size=len(flags)))
    if extra is not None:
        for item in draw(st.lists(extra, max_size=2)):
            args += item if isinstance(item, list) else [item]
    if draw(st.integers(0, 19)) == 0:
        args.append(draw(st.sampled_from(["--nosuch", "stray", "--out", "-h"])))
    return args


def problems(result, command: str, allow_diverged: bool) -> list:
    """Everything wrong with one CliRunner result: a traceback, a wrong status, not exactly one Error: line."""
    found = []
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        last = traceback.format_exception(exc)[-1].strip()
        found.append(f"traceback: {last}")
        return found
    if result.exit_code not in (0, 1, 2):
        found.append(f"exit status {result.exit_code}")
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    if result.exit_code == 2 and len(errors) != 1:
        found.append(f"exit 2 with {len(errors)} 'Error:' lines")
    if result.exit_code == 1 and not (allow_diverged and "diverged" in result.output):
        found.append(f"exit 1 that is not a diverged run: {result.output.strip().splitlines()[-1:]}")
    if "Traceback (most recent call last)" in result.output:
        found.append("a traceback in the output")
    return found
