"""No interrupt loses a run: real signals sent to a real `edu` process (python -m tinygrad_edu), and
signals raised inside the command at the moments that used to lose it (building, saving, plotting)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygrad_edu import experiments
from tinygrad_edu.cli import cli

ROOT = Path(__file__).resolve().parents[1]
# Long enough to be stopped half-way (1500 training samples, 47 steps per epoch, 188 steps), short enough to resume quickly.
LONG = ["--samples", "2000", "--epochs", "4", "--batch-size", "32", "--hidden", "8"]
TIMEOUT = 60


def edu(*args, cwd):
    """Start `python -m tinygrad_edu ARGS` with this checkout first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-m", "tinygrad_edu", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def started_training(proc):
    """Wait for the two lines `edu train` prints just before its first step."""
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    assert lines[1], f"edu ended before training: {proc.communicate(timeout=TIMEOUT)}"
    return lines


def finish(proc):
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


def arrays(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def same_run(a: Path, b: Path):
    """Two run folders hold the same weights, optimizer state, history and metrics, bit for bit."""
    x, y = arrays(a / "model.npz"), arrays(b / "model.npz")
    assert x.keys() == y.keys()
    for key in x:
        if key != "meta":
            assert np.array_equal(x[key], y[key]), key
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The LONG run, never interrupted."""
    folder = tmp_path_factory.mktemp("whole")
    code, out, err = finish(edu("train", *LONG, "--out", folder / "run", cwd=folder))
    assert code == 0, err
    return folder / "run"


def resume(folder, cwd):
    code, out, err = finish(edu("train", "--resume", folder, cwd=cwd))
    assert code == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("gaps", [[0.02], [0.001] * 20, [0.005] * 100], ids=["twice-20ms", "burst", "through-the-save"])
def test_repeated_ctrl_c_still_saves_a_resumable_checkpoint(tmp_path, whole, gaps):
    proc = edu("train", *LONG, "--out", tmp_path / "run", "--checkpoint-every", "0", cwd=tmp_path)
    started_training(proc)
    proc.send_signal(signal.SIGINT)
    for gap in gaps:                  # more Ctrl-C while it finishes the step and saves
        time.sleep(gap)
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err and "Aborted" not in err
    assert "saved a checkpoint in" in err
    resume(tmp_path / "run", tmp_path)
    same_run(whole, tmp_path / "run")


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_save_say_so_and_exit_with_their_status(tmp_path, whole, signum, status):
    proc = edu("train", *LONG, "--out", tmp_path / "run", cwd=tmp_path)
    started_training(proc)
    proc.send_signal(signum)
    code, out, err = finish(proc)
    assert code == status, err
    name = signal.Signals(signum).name
    assert err.startswith(f"{name}: interrupted after step ") and "saved a checkpoint in" in err
    assert len(err.strip().splitlines()) == 2          # what happened, how to resume
    resume(tmp_path / "run", tmp_path)
    same_run(whole, tmp_path / "run")


def test_sigkill_after_a_periodic_checkpoint_resumes_to_the_same_bits(tmp_path, whole):
    proc = edu("train", *LONG, "--out", tmp_path / "run", "--checkpoint-every", "40", cwd=tmp_path)
    started_training(proc)
    deadline = time.monotonic() + TIMEOUT
    while not (tmp_path / "run" / "model.npz").exists():
        assert time.monotonic() < deadline and proc.poll() is None, "no periodic checkpoint was written"
        time.sleep(0.005)
    proc.kill()
    finish(proc)
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "run" / ".edu-train.lock").exists()     # left by the killed run; resume takes it over
    resume(tmp_path / "run", tmp_path)
    same_run(whole, tmp_path / "run")
    assert not (tmp_path / "run" / ".edu-train.lock").exists()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    first = edu("train", *LONG[:2], "--epochs", "1000", "--out", tmp_path / "run", cwd=tmp_path)   # runs until stopped
    started_training(first)
    code, out, err = finish(edu("train", *LONG, "--out", tmp_path / "run", "--force", cwd=tmp_path))
    assert code == 2 and "Traceback" not in err
    assert f"another edu train (pid {first.pid}) is writing a run there" in err
    code, out, err = finish(edu("train", "--resume", tmp_path / "run", cwd=tmp_path))
    assert code == 2 and f"(pid {first.pid})" in err
    assert first.poll() is None, "the first run ended too soon for this test"
    first.send_signal(signal.SIGINT)
    code, out, err = finish(first)                            # the first run was not disturbed
    assert code == 130 and "saved a checkpoint" in err
    saved = experiments.ckpt_io.load_checkpoint(tmp_path / "run" / "model.npz")
    assert 0 < saved.meta["steps"] < saved.meta["total_steps"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "metrics.csv", "model.npz"]


def test_interrupted_compare_prints_a_partial_table_and_exits_130(tmp_path):
    proc = edu("compare", *LONG[:2], "--epochs", "1000", "--optimizers", "sgd,momentum", "--out", tmp_path / "cmp", cwd=tmp_path)
    deadline = time.monotonic() + TIMEOUT
    while not (tmp_path / "cmp").exists():        # the folder is made just before training starts
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err
    assert "the table above is partial" in err and "nothing was written" in err
    assert " during sgd (interrupted after step" in err or " during momentum (interrupted after step" in err
    assert out.splitlines()[-1].split()[-2] == "interrupted"         # that optimizer's row ends so
    assert list((tmp_path / "cmp").iterdir()) == []


# ----- signals at the moments that used to lose a run (raised inside the command, in this process) -----

@pytest.fixture(autouse=True)
def handlers_back():
    """`edu` ignores signals once it is exiting because of one; give this process its handlers back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


SMALL = ["--samples", "160", "--epochs", "3"]


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_the_final_save_and_plot_finishes_them_and_exits_130(tmp_path, monkeypatch):
    real = experiments.save_figure

    def save_figure(fig, path):
        ctrl_c()
        return real(fig, path)
    monkeypatch.setattr(experiments, "save_figure", save_figure)
    result = run("train", *SMALL, "--out", tmp_path / "run")
    assert result.exit_code == 130
    assert "Aborted" not in result.output
    assert "stopped by SIGINT after the run had finished; it was saved in" in result.output
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "loss.png", "metrics.csv",
                                                                   "model.npz"]
    assert "already finished" in run("train", "--resume", tmp_path / "run").output


def test_ctrl_c_during_the_checkpoint_save_is_deferred(tmp_path, monkeypatch):
    real = experiments.ckpt_io.save_checkpoint
    calls = []

    def save_checkpoint(*args, **kwargs):
        ctrl_c()                                 # the "second Ctrl-C", in the middle of the save
        calls.append(1)
        return real(*args, **kwargs)

    def stop_at_step_5(run_, history=None, on_step=None):
        def step(h):
            if h.steps == 5:
                ctrl_c()                         # the first Ctrl-C
        return fit_run(run_, history, on_step=step)
    fit_run = experiments.fit_run
    monkeypatch.setattr(experiments.ckpt_io, "save_checkpoint", save_checkpoint)
    monkeypatch.setattr(experiments, "fit_run", stop_at_step_5)
    result = run("train", *SMALL, "--out", tmp_path / "run", "--checkpoint-every", "0")
    assert result.exit_code == 130 and calls == [1]
    assert "interrupted after step 5" in result.output
    monkeypatch.undo()
    assert run("train", "--resume", tmp_path / "run").exit_code == 0


def test_ctrl_c_before_training_starts_is_one_line_and_130(tmp_path, monkeypatch):
    real = experiments.build

    def build(*args, **kwargs):
        ctrl_c()
        return real(*args, **kwargs)
    monkeypatch.setattr(experiments, "build", build)
    result = run("train", *SMALL)
    assert result.exit_code == 130
    assert result.output == "Error: stopped by SIGINT before training started; nothing was trained\n"


def test_fit_alone_still_stops_at_once_on_a_second_ctrl_c():
    """In a notebook or script (no `edu` around it) the second Ctrl-C is Python's usual KeyboardInterrupt."""
    from tinygrad_edu.train import deferred_signals
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals() as caught:
            ctrl_c()
            assert caught.signum == signal.SIGINT and caught.count == 1
            ctrl_c()
            time.sleep(0.1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_periodic_checkpoints_land_in_a_new_runs_folder_without_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", *SMALL, "--checkpoint-every", "4")      # 12 steps: checkpoints after 4 and 8
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("moons-momentum-")
    assert f"wrote {Path('runs') / folder.name / 'model.npz'}" in result.output
    assert "finished: 12 steps" in result.output and "already finished" in run("train", "--resume", folder).output
    assert run("train", *SMALL).exit_code == 0 and len(list((tmp_path / "runs").iterdir())) == 1   # 12 < 500


def test_default_folders_are_unique_within_one_second(tmp_path):
    config = experiments.RunConfig()
    folders = {experiments.new_run_dir(config, root=tmp_path) for _ in range(5)}
    assert len(folders) == 5 and all(f.is_dir() and f.name.startswith("moons-momentum-") for f in folders)
