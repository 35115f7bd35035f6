"""Time `edu grade` on synthetic submissions (the goal of issue #14: one full submission under 8 s of CPU,
100 submissions under 8 minutes on 2 cores).

    python bench/bench_grade.py [SUBMISSIONS] [--jobs N]

Each submission is the workbook filled exercise by exercise with the instructor's solution, the stub
of the student edition, or one of the exercise's mutants (exercises/mutants/), drawn from a seed:
half the exercises solved, a fifth left as stubs, the rest wrong in one of the ways the mutants
are. `edu grade` runs as a real process; its CPU time is read from the operating system
(getrusage of the children, which includes every check's process). The numbers are measured,
on this machine, in this run: nothing here asserts a time.

The same module makes submissions for tests/test_grade.py (``submission_files``).
"""
from __future__ import annotations

import argparse
import ast
import inspect
import os
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinygrad_edu.course import mutants as mutant_registry  # noqa: E402
from tinygrad_edu.course.coursefile import load_course  # noqa: E402
from tinygrad_edu.course.manifest import load  # noqa: E402
from tinygrad_edu.course.workbook import stub_message  # noqa: E402

WORKBOOK = ROOT / "exercises"
SHARES = {"reference": 0.5, "stub": 0.2, "mutant": 0.3}
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"


def _top_level(tree: ast.Module, name: str):
    return next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)


def _span(node) -> tuple:
    """(first line, last line), 1-based, decorators included."""
    return min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno


def _definition_span(tree: ast.Module, node, lines: list[str]) -> tuple:
    """The span of a top-level definition with the indented comments after its last statement (an END marker)."""
    first, last = _span(node)
    following = [_span(n)[0] for n in tree.body if n.lineno > node.end_lineno]
    limit = min(following) - 1 if following else len(lines)
    while limit > last and not lines[limit - 1].startswith((" ", "\t")):
        limit -= 1
    return first, limit


def stubbed(lines: list[str], exercise) -> list[str]:
    """`lines` (a definition's) with every solution block replaced by the exercise's stub, at its indentation."""
    out, inside = [], False
    for line in lines:
        if line.strip() == BEGIN:
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({stub_message(exercise)!r})\n")
            inside = True
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return out


def mutant_source(m) -> str:
    """The mutant's definition, without its @mutant decorator, after the imports of its module."""
    path = Path(inspect.getsourcefile(m.obj))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    line = int(m.source.rsplit(":", 1)[1])
    node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                and _span(n)[0] <= line <= n.end_lineno)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    imports = [ast.get_source_segment("".join(lines), n) + "\n" for n in tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom)) and not (isinstance(n, ast.ImportFrom)
                                                                      and n.module == "tinygrad_edu.course.mutants")]
    return "".join(imports) + textwrap.dedent("".join(lines[node.lineno - 1:node.end_lineno]))


def submission_files(choices: dict, workbook: Path = WORKBOOK) -> dict:
    """{file name: text} of a workbook whose exercise ID is filled as choices[ID] says: "reference" (the
    instructor's solution), "stub" (the student edition's), a Mutant, or any other string: the code that
    replaces the solution block, at its indentation, where "{solution}" stands for the solution itself.
    Exercises not in `choices` are stubs."""
    exercises = load()
    files = {}
    for file in sorted({e.file for e in exercises}):
        text = (workbook / file).read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        tree = ast.parse(text)
        edits = []
        for e in (e for e in exercises if e.file == file):
            first, last = _definition_span(tree, _top_level(tree, e.name), lines)
            choice = choices.get(e.id, "stub")
            part = lines[first - 1:last]
            if choice == "reference":
                continue
            if choice == "stub":
                new = stubbed(part, e)
            elif isinstance(choice, str):
                new = _with_body(part, choice)
            else:
                new = [mutant_source(choice)]
            edits.append((first, last, new))
        for first, last, new in sorted(edits, reverse=True):
            lines[first - 1:last] = new
        files[file] = "".join(lines)
    return files


def _with_body(lines: list[str], body: str) -> list[str]:
    """`lines` with each solution block replaced by `body` at its indentation ("{solution}" in it: the solution)."""
    out, block, indent = [], None, ""
    for line in lines:
        if line.strip() == BEGIN:
            indent, block = line[:len(line) - len(line.lstrip())], []
        elif line.strip() == END:
            text = body.replace("{solution}", textwrap.dedent("".join(block)).rstrip("\n"))
            out.extend(indent + b + "\n" for b in text.splitlines())
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    return out


def write_submission(folder: Path, files: dict) -> Path:
    (folder / "exercises").mkdir(parents=True)
    for name, text in files.items():
        (folder / "exercises" / name).write_text(text, encoding="utf-8")
    return folder


def random_choices(seed: int) -> dict:
    """Exercise id -> reference, stub or one of its mutants, drawn with SHARES."""
    rng = random.Random(seed)
    by_exercise = {}
    for m in mutant_registry.collect(WORKBOOK / "mutants"):
        by_exercise.setdefault(m.exercise, []).append(m)
    choices = {}
    for e in load():
        kind = rng.choices(list(SHARES), weights=list(SHARES.values()))[0]
        if kind == "mutant":
            choices[e.id] = rng.choice(by_exercise[e.id])      # every exercise has mutants (tests/test_exercises.py)
        else:
            choices[e.id] = kind
    return choices


def _grade(submissions: list[Path], out: Path, jobs: int) -> tuple:
    """(wall seconds, CPU seconds of edu grade and everything it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = dict(os.environ, EDU_COURSE_SECRET="benchmark-secret-0123456789")
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "grade", *map(str, submissions), "--out", str(out),
                           "--jobs", str(jobs)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"edu grade failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(count: int = 100, jobs: int = 2) -> None:
    course = load_course()
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = Path(tmp)
        full = write_submission(tmp / "full" / "reference", submission_files({e.id: "reference" for e in load()}))
        wall, cpu = _grade([full], tmp / "graded-full", 1)
        print(f"one full submission ({len(course.exercises)} exercises, every one solved): {cpu:.1f} s of CPU, "
              f"{wall:.1f} s wall (goal: under 8 s of CPU)")
        submissions = [write_submission(tmp / "batch" / f"s{i:03d}", submission_files(random_choices(i)))
                       for i in range(count)]
        wall, cpu = _grade(submissions, tmp / "graded", jobs)
        print(f"{count} mixed submissions with --jobs {jobs}: {wall / 60:.1f} min wall, {wall / count:.2f} s wall "
              f"and {cpu / count:.2f} s of CPU per submission (goal for 100 on 2 cores: under 8 min)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    main(args.count, args.jobs)
