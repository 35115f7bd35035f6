"""Time `diagnose` on a graph of 10,000 nodes (the goal of issue #12: under 10 s).

    python bench/bench_diagnose.py [NODES]

The graph is a chain y ← y·0.999 + 0.001 on a vector of 3, so every node is an op whose
backward is checked; the best of three runs is reported.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_edu import Tensor  # noqa: E402
from tinygrad_edu.diagnose import diagnose  # noqa: E402


def chain(nodes: int):
    def build():
        y = Tensor.randn(3, seed=0, requires_grad=True)
        for _ in range(nodes // 2):
            y = y * 0.999 + 0.001
        return y.sum()
    return build


def main(nodes: int = 10_000) -> None:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        report = diagnose(chain(nodes))
        best = min(best, time.perf_counter() - start)
    assert report.ok and report.nodes_checked == nodes + 1
    print(f"diagnose: {report.nodes_checked} nodes checked in {best:.2f} s (goal: under 10 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
