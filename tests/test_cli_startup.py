"""A signal while `edu` is still loading is one line and 128 + the signal's number, never a traceback.

Real signals sent to real processes started the three ways `edu` starts: the console script (written
here as pip writes it, from pyproject's entry point; tests/test_cli_entry.py runs the installed wheel's),
``python -m tinygrad_edu`` and ``python cli.py``. One set of tests catches the process while it imports
NumPy (a sitecustomize on the child's path holds that import until the signal comes); another sends
the signal at fixed delays after the start and accepts only the outcomes tinygrad_edu_launcher's
docstring names.
"""
import ast
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import tinygrad_edu_launcher as launcher

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "tinygrad_edu_launcher.py"
STOPPED = launcher.STOPPED_WHILE_STARTING + "\n"
ENTRY_POINT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["edu"]

# Python imports sitecustomize while `site` runs, before any code of the program: this one makes the
# first `import numpy` say so on stdout and wait there (the signal ends the wait).
HOLD_NUMPY = '''
import os, sys, time

class HoldNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            os.write(1, b"importing numpy\\n")
            time.sleep(30)
        return None

sys.meta_path.insert(0, HoldNumpy())
'''
HOLD_SITE = 'import os, time\nos.write(1, b"in site\\n")\ntime.sleep(30)\n'   # stuck in Python's own start-up


def console_script(folder: Path) -> Path:
    """The script pip writes for pyproject's `edu` entry point (pip's template, with this interpreter)."""
    module, function = ENTRY_POINT.split(":")
    script = folder / "edu"
    script.write_text(f"#!{sys.executable}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n"
                      f"from {module} import {function}\n"
                      "if __name__ == '__main__':\n"
                      "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                      f"    sys.exit({function}())\n")
    script.chmod(0o755)
    return script


def ways_to_start(folder: Path) -> dict:
    return {"edu": [str(console_script(folder))],
            "python -m tinygrad_edu": [sys.executable, "-m", "tinygrad_edu"],
            "python cli.py": [sys.executable, str(ROOT / "cli.py")]}


def start(command, cwd: Path, sitecustomize: str | None = None) -> subprocess.Popen:
    """Run the command with this checkout on the path (and, if given, a sitecustomize ahead of it)."""
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    if sitecustomize is not None:
        (cwd / "hook").mkdir(exist_ok=True)
        (cwd / "hook" / "sitecustomize.py").write_text(sitecustomize)
        path.insert(0, str(cwd / "hook"))
    return subprocess.Popen(command, cwd=cwd, env=dict(os.environ, PYTHONPATH=os.pathsep.join(path)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_when_it_says(proc: subprocess.Popen, line: str, signum: int):
    try:
        said = proc.stdout.readline()
        assert said == line, (said, proc.communicate(timeout=30))
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, err


@pytest.mark.parametrize("way", ["edu", "python -m tinygrad_edu", "python cli.py"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_while_numpy_loads_is_one_line_and_its_exit_status(tmp_path, way, signum):
    proc = start(ways_to_start(tmp_path)[way] + ["optimizers"], tmp_path, sitecustomize=HOLD_NUMPY)
    assert stop_when_it_says(proc, "importing numpy\n", signum) == (128 + signum, STOPPED)


def frames(err: str) -> list:
    """(path, line, function) of each frame of a traceback, outermost first."""
    return [(Path(path), int(line), function)
            for path, line, function in re.findall(r'File "([^"]+)", line (\d+), in (\S+)', err)]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


def line_of_install_in_main() -> int:
    main = next(node for node in ast.parse(LAUNCHER.read_text(encoding="utf-8")).body
                if isinstance(node, ast.FunctionDef) and node.name == "main")
    first = main.body[1]                                   # after the docstring
    assert isinstance(first, ast.Expr) and ast.unparse(first) == "install()"
    return first.lineno


def before_the_handlers(err: str) -> bool:
    """Whether a traceback is Python's own start-up: no frame of ours, or none past the code the
    launcher's docstring lists as running before install()."""
    ours = [(path, line, function) for path, line, function in frames(err) if path.is_relative_to(ROOT)]
    if not ours:
        return True
    path, line, function = ours[-1]                       # how far our code had got
    if path == LAUNCHER:
        return (function in ("<module>", "python_m_module", "install_for_python_m", "install")
                or (function == "main" and line == line_of_install_in_main()))
    if path == ROOT / "tinygrad_edu" / "__init__.py":
        return function == "<module>" and line <= line_of(path, "install_for_python_m()")
    return path == ROOT / "cli.py"


def test_python_s_own_start_up_is_python_s_and_none_of_its_traceback_is_ours(tmp_path):
    """What the launcher's docstring leaves to Python: a Ctrl-C while `site` runs (here: in a sitecustomize)."""
    proc = start(ways_to_start(tmp_path)["edu"] + ["optimizers"], tmp_path, sitecustomize=HOLD_SITE)
    code, err = stop_when_it_says(proc, "in site\n", signal.SIGINT)
    assert code != 0 and "Fatal Python error: init_import_site" in err and err.rstrip().endswith("KeyboardInterrupt")
    assert frames(err) and before_the_handlers(err)


def test_what_counts_as_python_s_own_start_up():
    def frame(path, line, function):
        return f'Traceback (most recent call last):\n  File "{path}", line {line}, in {function}\n'
    install_line = line_of_install_in_main()
    assert before_the_handlers(frame("<frozen importlib._bootstrap>", 1, "_find_and_load"))
    assert before_the_handlers(frame(LAUNCHER, 3, "<module>") + frame(LAUNCHER, install_line, "main"))
    assert not before_the_handlers(frame(LAUNCHER, install_line + 1, "main"))
    assert not before_the_handlers(frame(ROOT / "tinygrad_edu" / "gradcheck.py", 2, "<module>"))
    init = ROOT / "tinygrad_edu" / "__init__.py"
    assert before_the_handlers(frame(init, line_of(init, "install_for_python_m()"), "<module>"))
    assert not before_the_handlers(frame(init, line_of(init, "from .gradcheck import"), "<module>"))


def outcome(code: int, out: str, err: str, signum: int) -> str:
    """Which of the allowed outcomes this is; anything else fails the test."""
    if code == -signum and err == "":
        return "ended by the signal"              # Python's default action: before Python's own handler, or SIGTERM
    if (code, err) == (128 + signum, STOPPED):
        return "stopped while starting"
    assert "Traceback" not in err or before_the_handlers(err), err
    if "Traceback" in err:
        return "in Python's own start-up"
    # after main() handed the signals back: the command's own stop (tests/test_signals.py checks its
    # words), or, before the command has taken the signals, click's one line for a KeyboardInterrupt
    assert code == 128 + signum or (signum == signal.SIGINT and code == 1 and err.strip() == "Aborted!"), (code, err)
    return "stopped by the command"


TRAIN = ["train", "--epochs", "200", "--out", "run"]       # runs for seconds: the signal comes before it ends


def later(delays_ms, seen: dict):
    """The delays given, then (on a machine so busy that Python's own start-up outlasted them all)
    longer ones, each half as long again, until a signal has come after Python's start-up."""
    yield from delays_ms
    delay = max(delays_ms)
    while not {"stopped while starting", "stopped by the command"} & set(seen.values()) and delay < 10_000:
        delay = int(delay * 1.5)
        yield delay


@pytest.mark.parametrize("way, signum, delays_ms", [
    ("edu", signal.SIGINT, range(0, 151, 10)),
    ("edu", signal.SIGTERM, range(0, 151, 30)),
    ("python -m tinygrad_edu", signal.SIGINT, range(0, 151, 30)),
    ("python cli.py", signal.SIGINT, range(0, 151, 30)),
], ids=["edu-SIGINT", "edu-SIGTERM", "python-m-SIGINT", "cli.py-SIGINT"])
def test_a_signal_at_any_moment_of_the_start_is_one_honest_outcome(tmp_path, way, signum, delays_ms):
    seen = {}
    for delay in later(delays_ms, seen):
        folder = tmp_path / f"after-{delay}ms"
        folder.mkdir()
        proc = start(ways_to_start(folder)[way] + TRAIN, folder)
        try:
            time.sleep(delay / 1000)
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        seen[delay] = outcome(proc.returncode, out, err, signum)
    assert "stopped while starting" in seen.values(), seen


@pytest.fixture
def handlers_kept():
    """Put this process's signal handlers back after a test that runs the launcher in it."""
    kept = {signum: signal.getsignal(signum) for signum in launcher.STARTUP_SIGNALS}
    yield
    for signum, handler in kept.items():
        signal.signal(signum, handler)


def test_main_hands_the_signals_back_before_the_command_runs(monkeypatch, handlers_kept):
    import tinygrad_edu.cli
    seen = {}

    def command(**kwargs):
        seen.update({signum: signal.getsignal(signum) for signum in launcher.STARTUP_SIGNALS}, kwargs=kwargs)

    monkeypatch.setattr(tinygrad_edu.cli, "cli", command)
    launcher.install()
    assert signal.getsignal(signal.SIGINT) is launcher._stop_while_starting
    launcher.main()
    assert seen.pop("kwargs") == {"prog_name": "edu"}
    assert seen == {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL,
                    signal.SIGHUP: signal.SIG_DFL}


def test_a_ctrl_c_between_the_hand_back_and_click_is_one_line_too(monkeypatch, capsys, handlers_kept):
    import tinygrad_edu.cli

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tinygrad_edu.cli, "cli", interrupted)
    with pytest.raises(SystemExit) as stop:
        launcher.main()
    assert stop.value.code == 130 and capsys.readouterr().err == "edu: stopped by Ctrl-C\n"


def test_the_launcher_imports_nothing_but_os_signal_and_sys(tmp_path):
    """So nothing of the package, and nothing slow, runs before the handlers."""
    done = subprocess.run([sys.executable, "-c", "import sys; before = set(sys.modules); import tinygrad_edu_launcher; "
                           "print(' '.join(sorted(set(sys.modules) - before)))"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) <= {"tinygrad_edu_launcher", "os", "signal", "sys"}
    assert "tinygrad_edu_launcher" in done.stdout.split()


LIBRARY_USER = """import signal, sys
import {imports}
print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
"""


@pytest.mark.parametrize("run", [["-c", LIBRARY_USER.format(imports="tinygrad_edu, tinygrad_edu.cli")],
                                 ["-m", "course"], ["-m", "course.lesson"], ["-m", "course", "--data", "tinygrad_edu.csv"]])
def test_a_program_that_imports_tinygrad_edu_keeps_python_s_signals(tmp_path, run):
    """A script, or a package of the user's run with -m whose __init__ imports tinygrad_edu (the last
    one with the package's name among its arguments, so the launcher itself has to tell)."""
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "__init__.py").write_text("import tinygrad_edu\n")
    (tmp_path / "course" / "__main__.py").write_text(LIBRARY_USER.format(imports="course"))
    (tmp_path / "course" / "lesson.py").write_text(LIBRARY_USER.format(imports="course"))
    done = subprocess.run([sys.executable, *run], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert (done.returncode, done.stdout, done.stderr) == (0, "True True\n", "")


PRINT_MODULE = "import tinygrad_edu_launcher\nprint(tinygrad_edu_launcher.python_m_module())\n"


@pytest.mark.parametrize("command_line, module", [
    (["-m", "probe", "train", "-m", "x"], "probe"),
    (["-mprobe"], "probe"),
    (["-Bmprobe", "--epochs", "3"], "probe"),
    (["-B", "-m", "probe"], "probe"),
    (["-X", "dev", "-W", "ignore", "-m", "probe.__main__", "a"], "probe.__main__"),
])
def test_the_launcher_reads_which_module_python_m_runs(tmp_path, command_line, module):
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "__init__.py").write_text(PRINT_MODULE)
    (tmp_path / "probe" / "__main__.py").write_text(PRINT_MODULE)
    done = subprocess.run([sys.executable, *command_line], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{module}\nNone\n"      # while -m looks for it, then (running) no longer
    assert launcher.python_m_module() is None      # pytest was not started with -m's search under way
