"""A run folder is data, not a program: resuming runs no code the folder names, refuses every tampered
file with one line, and an interrupted-then-resumed run writes the same files as an uninterrupted one."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygrad_edu import experiments
from tinygrad_edu.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--samples", "160", "--epochs", "3"]      # 120 training samples: 4 steps per epoch, 12 steps


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def edu(*args, cwd):
    """`python -m tinygrad_edu ARGS` in a fresh process (a file it ran before cannot hide in a cache)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def interrupt_at(monkeypatch):
    """Make the next `edu train` stop as if Ctrl-C were pressed after step k."""
    real = experiments.fit_run

    def arm(k):
        def fit_run(run_, history=None, on_step=None):
            def step(h):
                if on_step:
                    on_step(h)
                if h.steps == k:
                    raise KeyboardInterrupt
            monkeypatch.setattr(experiments, "fit_run", real)
            return real(run_, history, on_step=step)
        monkeypatch.setattr(experiments, "fit_run", fit_run)
    return arm


def read_npz(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def rewrite_meta(folder: Path, change):
    """Apply change(meta dict) to model.npz's meta data (as a tamperer would, keeping the file readable)."""
    arrays = read_npz(folder / "model.npz")
    header = json.loads(str(arrays["meta"]))
    header["meta"] = change(header["meta"])
    arrays["meta"] = np.array(json.dumps(header))
    np.savez(folder / "model.npz", **arrays)


def rewrite_arrays(folder: Path, change):
    arrays = read_npz(folder / "model.npz")
    change(arrays)
    np.savez(folder / "model.npz", **arrays)


def rewrite_config(folder: Path, change):
    record = json.loads((folder / "config.json").read_text())
    change(record)
    (folder / "config.json").write_text(json.dumps(record))


def set_setting(name, value):
    """Change one setting in config.json and in model.npz alike, so the two still agree."""
    def change(folder):
        rewrite_config(folder, lambda r: r["config"].__setitem__(name, value))
        rewrite_meta(folder, lambda m: {**m, "config": {**m["config"], name: value}})
    return change


# ----- 1. nothing a run folder names is run ---------------------------------------------------------------

EVIL = ("import pathlib\n"
        "pathlib.Path(__file__).with_name('MARKER').write_text('this code ran')\n"
        "import numpy as np\n"
        "from tinygrad_edu.optim import Optimizer\n"
        "from tinygrad_edu.optim.base import learning_rate\n"
        "class Sign(Optimizer):\n"
        "    cli_name = 'sign'\n"
        "    formula = 'w <- w - lr*sign(g)'\n"
        "    hyper = (learning_rate(),)\n"
        "    def __init__(self, params, lr=0.01):\n"
        "        super().__init__(params, lr=lr)\n"
        "    def update(self, w, g, state):\n"
        "        w -= self.lr * np.sign(g)\n")


@pytest.fixture
def code_run(tmp_path, monkeypatch, interrupt_at):
    """An interrupted run made with an optimizer from a file; then the marker its code writes is removed."""
    def make(spec):
        monkeypatch.chdir(tmp_path)
        (tmp_path / "evil.py").write_text(EVIL)
        (tmp_path / "evilmod.py").write_text(EVIL)
        interrupt_at(5)
        result = run("train", *SMALL, "--optimizer", spec, "--out", tmp_path / "run")
        assert result.exit_code == 130, result.output
        assert f"resume with: edu train --resume {tmp_path / 'run'} --optimizer {spec}" in result.output
        (tmp_path / "MARKER").unlink()
        return tmp_path
    return make


@pytest.mark.parametrize("spec", ["evil.py:Sign", "evilmod:Sign"])
def test_resume_runs_no_code_the_folder_names(code_run, spec):
    cwd = code_run(spec)
    for args in (["--resume", "run"], ["--resume", "run", "--help"]):
        done = edu("train", *args, cwd=cwd)
        assert not (cwd / "MARKER").exists(), args
        assert "Traceback" not in done.stderr
    refused = edu("train", "--resume", "run", cwd=cwd)
    assert refused.returncode == 2
    assert f"its optimizer '{spec}' is code from outside tinygrad_edu, which is never run because a run folder " \
           f"names it; if you trust that code, name it yourself: edu train --resume run --optimizer {spec}" \
           in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("Error: Invalid value for '--resume'")  # one line

    with open(cwd / f"{spec.split(':')[0].removesuffix('.py')}.py", "a") as f:
        f.write("# changed after the run started\n")
    changed = edu("train", "--resume", "run", "--optimizer", spec, cwd=cwd)
    assert changed.returncode == 2 and "is not the code this run was made with (its SHA-256" in changed.stderr
    assert not (cwd / "MARKER").exists()                       # hashed before it ran

    other = edu("train", "--resume", "run", "--optimizer", "momentum", cwd=cwd)
    assert other.returncode == 2 and f"was made with {spec}; name that one" in other.stderr


def test_the_user_naming_the_same_file_resumes_it_to_the_same_bits(code_run, tmp_path):
    cwd = code_run("evil.py:Sign")
    whole = run("train", *SMALL, "--optimizer", "evil.py:Sign", "--out", cwd / "whole")
    assert whole.exit_code == 0
    (cwd / "MARKER").unlink(missing_ok=True)          # (this process ran the file once already)
    done = edu("train", "--resume", "run", "--optimizer", "evil.py:Sign", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert (cwd / "MARKER").exists()                            # the user's own choice to run it
    a, b = read_npz(cwd / "whole" / "model.npz"), read_npz(cwd / "run" / "model.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a if k != "meta")


@pytest.mark.parametrize("spec", ["evil.py:Sign", "evilmod:Sign"])
@pytest.mark.parametrize("where", ["config.json", "both"])
def test_a_tampered_folder_naming_code_runs_none(tmp_path, interrupt_at, spec, where):
    (tmp_path / "evil.py").write_text(EVIL)
    (tmp_path / "evilmod.py").write_text(EVIL)
    interrupt_at(5)
    assert run("train", *SMALL, "--out", tmp_path / "run").exit_code == 130
    rewrite_config(tmp_path / "run", lambda r: r["config"].__setitem__("optimizer", spec))
    if where == "both":
        rewrite_meta(tmp_path / "run", lambda m: {**m, "config": {**m["config"], "optimizer": spec}})
    for args in (["--resume", "run"], ["--resume", "run", "--help"]):
        done = edu("train", *args, cwd=tmp_path)
        assert done.returncode == (0 if "--help" in args else 2) and "Traceback" not in done.stderr
    assert not (tmp_path / "MARKER").exists()


def test_a_built_in_optimizer_resumes_by_name_and_help_lists_its_options(tmp_path, interrupt_at):
    interrupt_at(5)
    assert run("train", *SMALL, "--optimizer", "adam", "--out", tmp_path / "run").exit_code == 130
    assert "--betas" in run("train", "--resume", tmp_path / "run", "--help").output
    assert run("train", "--resume", tmp_path / "run", "--optimizer", "sgd").exit_code == 2
    assert run("train", "--resume", tmp_path / "run", "--optimizer", "Adam").exit_code == 0


# ----- 5. tampered files: one line, exit 2 ------------------------------------------------------------------

def config_is_a_folder(folder):
    (folder / "config.json").unlink()
    (folder / "config.json").mkdir()


def history_entry(name, change):
    def tamper(folder):
        rewrite_arrays(folder, lambda a: a.__setitem__(f"extra/history.{name}", change(a[f"extra/history.{name}"])))
    return tamper


TAMPERED = {
    "config.json a folder": config_is_a_folder,
    "config.json not JSON": lambda f: (f / "config.json").write_text("{"),
    "config.json a list": lambda f: (f / "config.json").write_text("[]"),
    "seed 1.5": set_setting("seed", 1.5),
    "seed zero": set_setting("seed", "zero"),
    "seed -1": set_setting("seed", -1),
    "activation 3": set_setting("activation", 3),
    "data_file 7": set_setting("data_file", 7),
    "task 3": set_setting("task", 3),
    "task unknown": set_setting("task", "clustering"),
    "batch_size changed": set_setting("batch_size", 16),
    "epochs text": set_setting("epochs", "3"),
    "hidden 0": set_setting("hidden", [0]),
    "lr negative": set_setting("lr", -1.0),
    "hyper a list": set_setting("hyper", [1]),
    "steps_per_epoch 7": history_entry("steps_per_epoch", lambda v: np.array(7)),
    "steps_per_epoch 0": history_entry("steps_per_epoch", lambda v: np.array(0)),
    "2-D history": history_entry("loss", lambda v: v.reshape(1, -1)),
    "history lengths differ": history_entry("grad_norm", lambda v: v[:-1]),
    "meta a list": lambda f: rewrite_meta(f, lambda m: [m]),
    "meta steps text": lambda f: rewrite_meta(f, lambda m: {**m, "steps": "5"}),
    "config.json ahead of model.npz": lambda f: rewrite_config(f, lambda r: r.__setitem__("checkpoint_step", 9)),
}


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """A momentum run stopped after step 5 (of 12), made once and copied for each case."""
    folder = tmp_path_factory.mktemp("interrupted") / "run"
    with pytest.MonkeyPatch.context() as mp:
        real = experiments.fit_run

        def fit_run(run_, history=None, on_step=None):
            def step(h):
                if h.steps == 5:
                    raise KeyboardInterrupt
            return real(run_, history, on_step=step)
        mp.setattr(experiments, "fit_run", fit_run)
        assert run("train", *SMALL, "--out", folder).exit_code == 130
    return folder


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_run_is_refused_in_one_line(tmp_path, interrupted_run, case):
    folder = tmp_path / "run"
    shutil.copytree(interrupted_run, folder)
    assert run("train", "--resume", folder, "--help").exit_code == 0
    TAMPERED[case](folder)
    result = CliRunner().invoke(cli, ["train", "--resume", str(folder)])
    assert result.exit_code == 2, (case, result.output, result.exception)
    error = result.output.strip().splitlines()[-1]
    assert error.startswith(f"Error: Invalid value for '--resume': --resume {folder}: "), error
    assert error.endswith(("start a new run", "the files were changed by hand", "or start a new run")), error


def test_the_untampered_copy_resumes(tmp_path, interrupted_run):
    shutil.copytree(interrupted_run, tmp_path / "run")
    assert run("train", "--resume", tmp_path / "run").exit_code == 0


def test_a_folder_killed_before_its_first_checkpoint_says_how_to_start_again(tmp_path):
    assert run("train", *SMALL, "--out", tmp_path / "run").exit_code == 0
    (tmp_path / "run" / "model.npz").unlink()
    result = run("train", "--resume", tmp_path / "run")
    assert result.exit_code == 2
    assert "it holds no model.npz (the run was stopped before its first checkpoint); start it again with " \
           f"--out {tmp_path / 'run'} --force" in result.output


@pytest.mark.parametrize("option", ["--out", "--resume"])
def test_an_empty_folder_name_is_refused(tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    result = run("train", *SMALL, option, "") if option == "--out" else run("train", option, "")
    assert result.exit_code == 2
    assert f"{option} '': an empty name would mean the working folder; give a folder name" in result.output
    assert list(tmp_path.iterdir()) == []


def test_optimizers_names_its_own_argument():
    result = run("optimizers", "nosuch")
    assert result.exit_code == 2
    assert "Invalid value for NAMES: unknown optimizer 'nosuch'" in result.output and "--optimizer" not in result.output


# ----- 6. byte for byte ---------------------------------------------------------------------------------

def test_a_resumed_adam_run_writes_the_same_bytes_as_an_uninterrupted_one(tmp_path, interrupt_at):
    args = ["train", "--samples", "200", "--epochs", "4", "--optimizer", "adam", "--schedule", "warmup:5:cosine"]
    assert run(*args, "--out", tmp_path / "whole").exit_code == 0
    interrupt_at(7)
    assert run(*args, "--out", tmp_path / "cut").exit_code == 130
    assert run("train", "--resume", tmp_path / "cut").exit_code == 0
    with zipfile.ZipFile(tmp_path / "whole" / "model.npz") as a, zipfile.ZipFile(tmp_path / "cut" / "model.npz") as b:
        assert a.namelist() == b.namelist()
        assert a.namelist()[:2] == ["format.npy", "meta.npy"] and a.namelist()[2:] == sorted(a.namelist()[2:])
        for x, y in zip(a.infolist(), b.infolist()):
            assert (x.CRC, x.compress_size, a.read(x)) == (y.CRC, y.compress_size, b.read(y)), x.filename
    for name in ("model.npz", "metrics.csv"):          # and so the files themselves, byte for byte
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "cut" / name).read_bytes(), name


def test_config_json_records_the_blas_and_the_checkpoint_step(tmp_path):
    assert run("train", *SMALL, "--out", tmp_path / "run").exit_code == 0
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["checkpoint_step"] == 12 == record["result"]["steps"]
    blas = record["blas"]
    assert set(blas) == {"library", "version", "threads", "source"}
    assert isinstance(blas["library"], str) and blas["library"]
    assert blas["source"] in ("threadpoolctl", "numpy")
    if blas["source"] == "threadpoolctl":
        from threadpoolctl import threadpool_info
        assert blas["threads"] == next(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas") >= 1


def test_the_readme_and_help_state_what_the_code_does():
    """The numbers of the README's paragraph on interrupts and --help (the statuses are checked for real
    in test_signals.py)."""
    import signal
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "exit with 128 + the signal's number (130, 143, 129)" in readme
    assert [128 + s for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == [130, 143, 129]
    assert "saves one every 500 steps (`--checkpoint-every`)" in readme and experiments.CHECKPOINT_EVERY == 500
    help_text = " ".join(run("train", "--help").output.split())
    assert "--checkpoint-every STEPS" in help_text and "[default: 500; x>=0]" in help_text
    assert "130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP" in help_text
    assert "resumes only if you name it again with --resume" in help_text and "(SHA-256)" in help_text
