"""Time `edu check` on the instructor's workbook (the goals of issue #13: the whole workbook in under
20 s on 2 cores, one exercise in under 3 s).

    python bench/bench_check.py [REPEATS]

Each measurement is the whole command as a student runs it (`python cli.py check ...` in a new
process: Python's start-up, the imports, pytest's collection, every check), from the exercises/
folder; the best of REPEATS runs (default 3) is reported. The one-exercise time is the slowest
exercise's best time.
"""
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinygrad_edu.course.manifest import load  # noqa: E402

WHOLE_GOAL, ONE_GOAL = 20.0, 3.0


def timed(args, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *args], cwd=ROOT / "exercises",
                              capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"edu check {' '.join(args)} failed on the instructor's workbook:\n{proc.stdout}")
    return best


def main(repeats: int = 3) -> None:
    exercises = load()
    whole = timed([], repeats)
    each = {e.id: timed([e.id], repeats) for e in exercises}
    slowest = max(each, key=each.get)
    print(f"edu check, all {len(exercises)} exercises: {whole:.2f} s (goal: under {WHOLE_GOAL:g} s) "
          f"{'met' if whole < WHOLE_GOAL else 'NOT met'}")
    print(f"edu check ID, slowest exercise {slowest}: {each[slowest]:.2f} s; median "
          f"{sorted(each.values())[len(each) // 2]:.2f} s (goal: under {ONE_GOAL:g} s) "
          f"{'met' if each[slowest] < ONE_GOAL else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
