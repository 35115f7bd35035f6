"""How `edu` is started and installed: the console script, `python -m tinygrad_edu` and `python cli.py`
all start in tinygrad_edu_launcher and reach tinygrad_edu.cli, a file called cli.py in the user's folder
cannot take its place, and the wheel carries the command, its launcher and the licence (installed into
a fresh environment, its `edu` runs, and a Ctrl-C while it loads is one line)."""
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from test_cli_startup import HOLD_NUMPY, STOPPED, stop_when_it_says

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def python(*args, cwd):
    """Run this interpreter with the checkout first on the path (as an editable install puts it)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def shadowing_folder(tmp_path) -> Path:
    """A student's folder with a cli.py of their own, as in `echo 'print(1)' > cli.py`."""
    (tmp_path / "cli.py").write_text("print(1)\nraise SystemExit('the cli.py of the working folder ran')\n")
    return tmp_path


def test_the_console_script_starts_in_the_launcher_beside_the_package():
    """Beside it, so that the start-up handlers come before tinygrad_edu/__init__ (NumPy): tests/test_cli_startup.py."""
    assert PYPROJECT["project"]["scripts"] == {"edu": "tinygrad_edu_launcher:main"}
    assert PYPROJECT["tool"]["setuptools"]["py-modules"] == ["tinygrad_edu_launcher"]   # no top-level `cli` installed


def test_python_m_tinygrad_edu_is_not_shadowed_by_a_cli_py_in_the_working_folder(tmp_path):
    done = python("-m", "tinygrad_edu", "--help", cwd=shadowing_folder(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: edu [OPTIONS] COMMAND") and "train" in done.stdout
    assert done.stderr == ""


def test_the_console_script_target_is_not_shadowed_either(tmp_path):
    """What pip's `edu` script runs, with the working folder on sys.path (`python -c` puts it first)."""
    module, function = PYPROJECT["project"]["scripts"]["edu"].split(":")
    done = python("-c", f"import sys; from {module} import {function}; sys.exit({function}())", "optimizers", "sgd",
                  cwd=shadowing_folder(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sgd  (SGD)") and "edu train uses lr=0.1" in done.stdout


def test_python_cli_py_in_a_checkout_is_a_short_shim(tmp_path):
    code = [line for line in (ROOT / "cli.py").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith('"""')]
    assert len(code) <= 3 and code[0] == "from tinygrad_edu_launcher import main"
    done = python(str(ROOT / "cli.py"), "--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("edu, version "), done.stderr


def test_bad_usage_through_the_real_process_exits_2_without_a_traceback(tmp_path):
    done = python("-m", "tinygrad_edu", "train", "--epochs", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "Error: Invalid value for '--epochs': epochs = 0: use an integer >= 1"
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


def test_the_wheel_has_the_licence_and_the_command_and_builds_without_deprecation_warnings(tmp_path):
    """Built offline with the installed setuptools, from a copy (the checkout gets no build/ folder)."""
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]        # SPDX licence strings need 77
    assert PYPROJECT["project"]["license"] == "MIT" and PYPROJECT["project"]["license-files"] == ["LICENSE"]
    source = tmp_path / "src"
    launchers = [f"{module}.py" for module in PYPROJECT["tool"]["setuptools"]["py-modules"]]
    for name in ("pyproject.toml", "README.md", "LICENSE", *launchers):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "tinygrad_edu", source / "tinygrad_edu", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "-v", "-w", str(tmp_path / "dist")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Deprecat" not in done.stdout + done.stderr
    with zipfile.ZipFile(next((tmp_path / "dist").glob("tinygrad_edu-*.whl"))) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        licence = wheel.read(f"{info}/licenses/LICENSE").decode()
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "edu = tinygrad_edu_launcher:main" in entry_points.splitlines()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 tinygrad_edu contributors\n")
    assert licence == (ROOT / "LICENSE").read_text()
    assert "cli.py" not in names and {"tinygrad_edu_launcher.py", "tinygrad_edu/cli/__init__.py",
                                      "tinygrad_edu/cli/train.py", "tinygrad_edu/datasets/digits.npz"} <= set(names)
    installed_edu_runs_and_a_ctrl_c_while_it_loads_is_one_line(next((tmp_path / "dist").glob("*.whl")), tmp_path)


def installed_edu_runs_and_a_ctrl_c_while_it_loads_is_one_line(wheel: Path, tmp_path: Path):
    """`pip install` of the wheel (not editable) into a fresh environment, used from a folder of its own."""
    venv, home = tmp_path / "venv", tmp_path / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python, edu = venv / "bin" / "python", venv / "bin" / "edu"
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    env = dict(os.environ, PYTHONPATH="")
    run = subprocess.run([str(edu), "optimizers", "sgd"], cwd=home, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith("sgd  (SGD)") and run.stderr == "", run.stderr
    where = subprocess.run([str(python), "-c", "import tinygrad_edu, tinygrad_edu_launcher as l; "
                            "print(tinygrad_edu.__file__); print(l.__file__)"], cwd=home, env=env,
                           capture_output=True, text=True, timeout=60)
    paths = where.stdout.split()                                        # the wheel's copies, not the checkout's
    assert len(paths) == 2 and all(Path(path).is_relative_to(venv) for path in paths), where
    (home / "hook").mkdir()
    (home / "hook" / "sitecustomize.py").write_text(HOLD_NUMPY)
    for command in ([str(edu), "optimizers"], [str(python), "-m", "tinygrad_edu", "optimizers"]):
        proc = subprocess.Popen(command, cwd=home, env=dict(env, PYTHONPATH=str(home / "hook")),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert stop_when_it_says(proc, "importing numpy\n", signal.SIGINT) == (130, STOPPED), command
