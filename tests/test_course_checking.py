"""The checks draw the same inputs wherever they run: whatever numbers the student's files hold, and
however tinygrad_edu is installed (an editable install makes its modules "local" to hypothesis)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

ROOT = Path(__file__).resolve().parents[1]

# Draws 30 inputs with the checks' settings and strategies, after importing the module `consts` from
# the folder given, if any: a local module, as a student's workbook file is.
PROBE = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from hypothesis import given
    from tinygrad_edu.course.checking import CHECK_SETTINGS
    from tinygrad_edu.course.strategies import arrays, floats
    if len(sys.argv) > 2:
        sys.path.insert(0, sys.argv[2])
        import consts
    drawn = []

    @CHECK_SETTINGS
    @given(a=arrays(), x=floats(0.1, 3.0))
    def check(a, x):
        drawn.append([a.tolist(), x])

    check()
    print(json.dumps(drawn))
""")


def _draws(*folders) -> list:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), *map(str, folders)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_students_literal_numbers_do_not_change_the_inputs_the_checks_draw(tmp_path):
    # numbers in the strategies' ranges: hypothesis would otherwise draw them now and then
    (tmp_path / "consts.py").write_text("EPS = 1e-3\nSTEP = 0.4375\nLIMIT = -3.3125\nSCALE = 2.71875\nN = 3\n")
    plain, with_constants = _draws(), _draws(tmp_path)
    assert len(plain) == 30
    assert with_constants == plain
