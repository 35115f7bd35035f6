"""Time `edu grade` on synthetic submissions (the grading goals: one full submission under 8 s of CPU,
100 submissions under 8 minutes on 2 cores), against `edu check` on the full one in the same run.

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


def _definition_span(siblings: list, node, lines: list[str]) -> tuple:
    """The span of a definition among its `siblings` (a module's or a class's body), with the comments indented
    under it after its last statement (an END SOLUTION marker)."""
    first, last = _span(node)
    indent = len(lines[node.lineno - 1]) - len(lines[node.lineno - 1].lstrip())
    following = [_span(n)[0] for n in siblings if n.lineno > node.end_lineno]
    limit = min(following) - 1 if following else len(lines)
    while limit > last and (not lines[limit - 1].strip() or
                            len(lines[limit - 1]) - len(lines[limit - 1].lstrip()) <= indent):
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


def _mutant_decorator(node):
    """The (exercise, kind, why) of a definition's @mutant(...) decorator, or None."""
    for d in node.decorator_list:
        if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "mutant" and d.args:
            keywords = {k.arg: ast.literal_eval(k.value) for k in d.keywords}
            return ast.literal_eval(d.args[0]), keywords.get("kind"), keywords.get("why")
    return None


def _mutant_node(m) -> tuple:
    """(the mutants file's text, its syntax tree, the mutant's definition): the one whose @mutant(...) says
    the mutant's exercise, kind and why."""
    for path in sorted((WORKBOOK / "mutants").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and \
                    _mutant_decorator(node) == (m.exercise, m.kind, m.why):
                return text, tree, node
    raise LookupError(f"no @mutant({m.exercise!r}, kind={m.kind!r}, why={m.why!r}) in {WORKBOOK / 'mutants'}")


def _module_context(text: str, tree: ast.Module) -> list[str]:
    """What a mutant may use from its file: the imports and the helpers (definitions that are not mutants,
    constants), without the mutants' own import and the instructor's workbook (`given`)."""
    context = []
    for n in tree.body:
        source = ast.get_source_segment(text, n)
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            if getattr(n, "module", None) not in ("tinygrad_edu.course.mutants", "tinygrad_edu.course.workbook"):
                context.append(source + "\n")
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)) and _mutant_decorator(n) is None:
            context.append("\n\n" + "".join(text.splitlines(keepends=True)[_span(n)[0] - 1:n.end_lineno]) + "\n\n")
        elif isinstance(n, (ast.Assign, ast.AnnAssign)) and "Workbook" not in source:
            context.append(source + "\n")
    return context


def mutant_lines(m, given: list[str], given_node) -> list[str]:
    """What replaces the workbook's definition `given` (its lines; `given_node` its node) by mutant `m`:
    the mutants file's imports and helpers, then the mutant without its @mutant decorator. A mutant class written as a
    subclass of the workbook's (``class SGD(given.SGD)``) becomes the workbook's class with the mutant's
    methods in place of its own."""
    text, tree, node = _mutant_node(m)
    lines = text.splitlines(keepends=True)
    imports = _module_context(text, tree)
    subclass = isinstance(node, ast.ClassDef) and any(ast.unparse(b).startswith("given.") for b in node.bases)
    if not subclass:
        return imports + [textwrap.dedent("".join(lines[node.lineno - 1:node.end_lineno]))]
    offset = _span(given_node)[0]
    merged = list(given)
    methods = {n.name: n for n in given_node.body if isinstance(n, ast.FunctionDef)}
    added = []
    for item in node.body:
        if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):      # the mutant's docstring
            continue
        source = "".join(lines[_span(item)[0] - 1:item.end_lineno])
        if isinstance(item, ast.FunctionDef) and item.name in methods:
            first, last = _definition_span(given_node.body, methods[item.name], [*[""] * (offset - 1), *given])
            merged[first - offset:last - offset + 1] = [source] + [None] * (last - first)
        else:
            added.append(source)
    merged = [line for line in merged if line is not None]
    while merged and not merged[-1].strip():
        merged.pop()
    return imports + merged + added


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
            node = _top_level(tree, e.name)
            first, last = _definition_span(tree.body, node, lines)
            choice = choices.get(e.id, "stub")
            part = lines[first - 1:last]
            if choice == "reference":
                continue
            if choice == "stub":
                new = stubbed(part, e)
            elif isinstance(choice, str):
                new = _with_body(part, choice)
            else:
                new = mutant_lines(choice, part, node)
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


def _check_cpu(workbook: Path) -> float:
    """CPU seconds of `edu check` (every exercise, visible checks only) on `workbook`: the reference."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "--workbook", str(workbook)],
                          capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"edu check failed on the solved workbook (exit {proc.returncode}): {proc.stdout[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(count: int = 100, jobs: int = 2) -> None:
    course = load_course()
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = Path(tmp)
        full = write_submission(tmp / "full" / "reference", submission_files({e.id: "reference" for e in load()}))
        reference = _check_cpu(full / "exercises")
        wall, cpu = _grade([full], tmp / "graded-full", 1)
        print(f"one full submission ({len(course.exercises)} exercises, every one solved): {cpu:.1f} s of CPU, "
              f"{wall:.1f} s wall (goal: under 8 s of CPU); {cpu / reference:.2f}x the {reference:.1f} s of CPU of "
              f"edu check on it in this run (the visible checks alone, in one process)")
        if count == 0:
            return
        submissions = [write_submission(tmp / "batch" / f"s{i:03d}", submission_files(random_choices(i)))
                       for i in range(count)]
        wall, cpu = _grade(submissions, tmp / "graded", jobs)
        print(f"{count} mixed submissions with --jobs {jobs}: {wall / 60:.1f} min wall, {wall / count:.2f} s wall "
              f"and {cpu / count:.2f} s of CPU per submission (goal for 100 on 2 cores: under 8 min); their CPU "
              f"time over {jobs} cores is {cpu / jobs / 60:.1f} min (the wall time when nothing else runs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=100, help="mixed submissions (0: the full one only)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    main(args.count, args.jobs)
