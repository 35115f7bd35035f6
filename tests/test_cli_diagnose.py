"""`edu diagnose`: exit 0 when correct, 1 when a bug is found, 2 on bad usage."""
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from tinygrad_edu.cli import cli

ROOT = Path(__file__).resolve().parents[1]

FILE = textwrap.dedent('''
    import numpy as np
    from tinygrad_edu import Tensor
    from tinygrad_edu.optim import Optimizer, learning_rate, unit_interval

    def cube(a):
        return Tensor.from_op(a.data ** 3, (a,), "cube", lambda g: (2 * a.data ** 2 * g,))

    def buggy():
        return cube(Tensor([1.0, 2.0], requires_grad=True)).sum()

    def fine():
        return (Tensor([1.0, 2.0], requires_grad=True) ** 3).sum()

    class MyMomentum(Optimizer):
        hyper = (learning_rate(), unit_interval("momentum", "mu"))
        def __init__(self, params, lr=0.01, momentum=0.9):
            super().__init__(params, lr=lr, momentum=momentum)
        def update(self, w, g, state):
            v = self.buffer(state, "v", w)
            v[:] = self.momentum * v + g
            w -= self.lr * v

    not_callable = 3
''')


def _file(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(FILE)
    return path


def test_a_bug_found_exits_1_and_names_the_op(tmp_path):
    path = _file(tmp_path)
    result = CliRunner().invoke(cli, ["diagnose", f"{path}:buggy", "--draw", str(tmp_path / "bug.dot")])
    assert result.exit_code == 1, result.output
    assert "op 'cube'" in result.output and "0.6667 times" in result.output
    assert "#ff5252" in (tmp_path / "bug.dot").read_text()


def test_correct_exits_0(tmp_path):
    result = CliRunner().invoke(cli, ["diagnose", f"{_file(tmp_path)}:fine"])
    assert result.exit_code == 0 and "correct backward" in result.output


def test_identify_an_optimizer(tmp_path):
    path = _file(tmp_path)
    result = CliRunner().invoke(cli, ["diagnose", f"{path}:MyMomentum"])
    assert result.exit_code == 0 and "PyTorch's form" in result.output
    result = CliRunner().invoke(cli, ["diagnose", f"{path}:MyMomentum", "--asked", "momentum"])
    assert result.exit_code == 1 and "departs from it at step 13" in result.output


def test_bad_usage_exits_2_in_one_line(tmp_path):
    path = _file(tmp_path)
    for args, words in [([f"{path}"], "FILE.py:NAME"), ([f"{tmp_path}/nope.py:f"], "no such file"),
                        ([f"{path}:missing"], "has no 'missing'"), ([f"{path}:not_callable"], "is a int"),
                        ([f"{path}:MyMomentum", "--asked", "momentun"], "not a registered"),
                        ([f"{path}:fine", "--asked", "sgd"], "--asked is for")]:
        result = CliRunner().invoke(cli, ["diagnose", *args])
        assert result.exit_code == 2 and words in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_as_a_real_process(tmp_path):
    path = _file(tmp_path)
    run = subprocess.run([sys.executable, "-m", "tinygrad_edu", "diagnose", f"{path}:buggy"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "op 'cube'" in run.stdout and not run.stderr
    run = subprocess.run([sys.executable, "-m", "tinygrad_edu", "diagnose", "nothing"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "FILE.py:NAME" in run.stderr
