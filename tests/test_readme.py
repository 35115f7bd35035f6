"""The README stays true: its Python examples run, and CI runs the test command it gives."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        exec(compile(block, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["(2, 16)", "1.0", "-8.0 6.0 -4.0 -2.0 4.0"]
    assert (tmp_path / "L.svg").exists() or (tmp_path / "L.dot").exists()


def test_the_two_setup_commands_and_ci_agree():
    commands = re.findall(r"```bash\n(.*?)```", README, re.S)[0]
    lines = [line for line in commands.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 2
    assert lines[0].endswith("edu train --optimizer momentum")
    test_command = lines[1].split("&&")[-1].strip()
    assert test_command == "python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^\s*{re.escape(test_command)}\s*$", ci, re.M), "CI must run the README's test command"
    assert "apt-get install" in ci and 'pip install' in ci and '".[dev]"' in ci


@pytest.mark.parametrize("path", ["tutorials/README.md", "docs/CONTRIBUTING.md", "bench/bench_step.py", "cli.py"])
def test_files_the_readme_points_to_exist(path):
    assert path.split("/")[-1] in README or path in README
    assert (ROOT / path).exists()


def test_counts_the_readme_states():
    from tinygrad_edu import optim
    built_in = [n for n in optim.names() if optim.get(n).__module__.startswith("tinygrad_edu.optim")]
    assert "ten optimizers" in README and len(built_in) == 10   # other tests register their own
    assert "ten tutorial chapters" in README and len(list((ROOT / "tutorials").glob("[0-9][0-9]-*.md"))) == 10
