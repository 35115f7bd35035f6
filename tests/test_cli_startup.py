"""A signal while `edu` is still loading is one line and 128 + the signal's number, never a traceback."""
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.cli import _startup

ROOT = Path(__file__).resolve().parents[1]

# Stand in for a slow import: the start-up handler is installed, then the process waits for the signal.
WAIT_WHILE_STARTING = """
import sys, time
sys.path.insert(0, {root!r})
import tinygrad_edu.cli._startup   # what `edu` imports first
print("loading", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_loading_is_one_line_and_its_exit_status(tmp_path, signum):
    proc = subprocess.Popen([sys.executable, "-c", WAIT_WHILE_STARTING.format(root=str(ROOT))], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "loading\n"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert err == "edu: stopped while starting; nothing was run or written\n"


def test_main_hands_the_signals_back_before_the_command_runs():
    _startup.install()
    _startup.restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_main_restores_the_defaults_before_running_the_command(monkeypatch):
    import tinygrad_edu.cli as edu
    seen = {}
    monkeypatch.setattr(edu, "cli", lambda **kwargs: seen.update(sigint=signal.getsignal(signal.SIGINT)))
    _startup.install()
    edu.main()
    assert seen["sigint"] is signal.default_int_handler
