"""exercises/README.md says what the workbook holds and what `edu check` prints: both are checked here."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tinygrad_edu.course import runner
from tinygrad_edu.course.manifest import load

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "exercises" / "README.md").read_text(encoding="utf-8")


def test_the_table_lists_every_exercise_in_order_with_its_file_and_a_chapter_that_exists():
    rows = [line.split(" | ") for line in README.splitlines() if re.match(r"^\| \d+\.\d+ \|", line)]
    assert [(r[0].strip("| "), r[1], r[2].strip("`"), r[3].strip("`")) for r in rows] == \
        [(e.id, e.title, e.file, e.name) for e in load()]
    for row in rows:
        link = re.search(r"\]\(\.\./tutorials/([^)]+)\)", row[4]).group(1)
        assert (ROOT / "tutorials" / link).is_file(), link


def test_the_feedback_example_is_what_edu_check_prints_for_that_mistake(tmp_path):
    example = re.search(r"```text\n(✗ 2\.8 .*?)```", README, re.S).group(1).rstrip("\n")
    assert "`g * (out * out - 1)`" in README
    wb = tmp_path / "wb"
    wb.mkdir()
    for path in (ROOT / "exercises").glob("*.py"):
        shutil.copy(path, wb / path.name)
    source = (wb / "ex02_ops.py").read_text(encoding="utf-8")
    assert "return g * (1 - out * out)" in source
    (wb / "ex02_ops.py").write_text(source.replace("return g * (1 - out * out)", "return g * (out * out - 1)"),
                                    encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", "2.8", "--workbook", str(wb)],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    printed = proc.stdout[proc.stdout.index("✗ 2.8 tanh"):].split("\n\nNext:")[0]
    assert printed == example


def test_the_time_limit_the_readme_states_is_the_default():
    assert f"timed out\" after {runner.CHECK_TIMEOUT:g} s" in README


def test_the_milestone_paragraph_states_its_bar():
    from tinygrad_edu.course.milestone import PASS_ACCURACY
    assert f"reaches: {PASS_ACCURACY:.0%} or more passes" in README
