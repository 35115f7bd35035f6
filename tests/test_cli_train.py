"""`edu train`, `edu compare`, `edu optimizers`: outputs, files, resume, and every bad input."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygrad_edu.cli import cli
from tinygrad_edu import data, experiments, landscape, optim, train

SMALL = ["--samples", "160", "--epochs", "3"]
ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def arrays(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


# ----- edu train ------------------------------------------------------------------------------

def test_default_run_reaches_97_percent():
    result = run("train")
    assert result.exit_code == 0, result.output
    accuracy = float(re.search(r"test\s+loss [\d.]+\s+accuracy ([\d.]+)%", result.output).group(1))
    assert accuracy >= 97.0
    assert "finished: 360 steps, 30 epochs" in result.output          # ⌈375 / 32⌉ = 12 steps per epoch
    assert "Momentum(lr=0.05, momentum=0.9)" in result.output


def test_out_writes_metrics_config_model_and_plot(tmp_path):
    out = tmp_path / "run"
    result = run("train", *SMALL, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "loss.png", "metrics.csv", "model.npz"]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 1 + 3 * 4 and rows[-1]["test_accuracy"] != ""
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["optimizer"] == "momentum" and record["result"]["stopped"] == "finished"
    assert record["result"]["test_loss"] == float(rows[-1]["test_loss"])
    saved = arrays(out / "model.npz")
    assert "model/layers.0.W" in saved and "optimizer/state.0.momentum_buffer" in saved
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_optimizer_options_come_from_the_optimizer():
    adam = run("train", "--optimizer", "adam", "--help").output
    assert "--betas" in adam and "--amsgrad / --no-amsgrad" in adam and "0 <= beta1 < 1" in adam
    assert not re.search(r"^\s+--momentum", adam, re.M)           # only in the examples, not as an option
    momentum = run("train", "--help").output
    assert "--momentum" in momentum and "0 <= momentum < 1" in momentum
    sgd = run("train", "--optimizer=sgd", "--help").output
    assert "--nesterov / --no-nesterov" in sgd and "--dampening" in sgd


def test_optimizer_hyperparameters_reach_the_optimizer():
    result = run("train", *SMALL, "--optimizer", "sgd", "--lr", "0.2", "--momentum", "0.8", "--nesterov",
                 "--schedule", "cosine")
    assert result.exit_code == 0, result.output
    assert "SGD(lr=0.2, momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True)" in result.output
    result = run("train", *SMALL, "--optimizer", "adam", "--betas", "0.8,0.99")
    assert "betas=(0.8, 0.99)" in result.output and result.exit_code == 0


def test_optimizer_from_a_module_path(tmp_path, monkeypatch):
    (tmp_path / "my_optimizers.py").write_text(
        "import numpy as np\n"
        "from tinygrad_edu.optim import Optimizer\n"
        "from tinygrad_edu.optim.base import learning_rate, unit_interval\n"
        "class SignSGD(Optimizer):\n"
        "    cli_name = 'my-sign-sgd'\n"
        "    formula = 'w <- w - lr*sign(g)'\n"
        "    hyper = (learning_rate(), unit_interval('shrink', 'unused knob'))\n"
        "    def __init__(self, params, lr=0.01, shrink=0.5):\n"
        "        super().__init__(params, lr=lr, shrink=shrink)\n"
        "    def update(self, w, g, state):\n"
        "        w -= self.lr * np.sign(g)\n")
    monkeypatch.chdir(tmp_path)
    assert "--shrink" in run("train", "--optimizer", "my_optimizers:SignSGD", "--help").output
    result = run("train", *SMALL, "--optimizer", "my_optimizers:SignSGD", "--shrink", "0.25")
    assert result.exit_code == 0, result.output
    assert "SignSGD(lr=0.01, shrink=0.25)" in result.output


def test_own_csv_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    lines = ["a,b,c,label"] + [f"{r[0]},{r[1]},{r[2]},{t}" for r, t in zip(X, y)]
    (tmp_path / "mine.csv").write_text("\n".join(lines) + "\n")
    result = run("train", "--data", tmp_path / "mine.csv", "--epochs", "20")
    assert result.exit_code == 0, result.output
    assert "mine.csv: 90 train + 30 test samples, 3 features, 2 classes" in result.output
    assert float(re.search(r"test\s+loss [\d.]+\s+accuracy ([\d.]+)%", result.output).group(1)) > 85


def test_digits_and_regression():
    result = run("train", "--dataset", "digits", "--samples", "300", "--epochs", "2", "--hidden", "32")
    assert result.exit_code == 0 and "64 features, 10 classes" in result.output
    result = run("train", "--dataset", "sine", *SMALL)
    assert result.exit_code == 0 and "mse loss" in result.output
    assert "accuracy" not in result.output.split("finished")[1]          # no accuracy for regression


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "adamm"], r"unknown optimizer 'adamm' \(did you mean 'adam'"),
    (["--dataset", "moon"], r"unknown dataset 'moon'; did you mean 'moons'\?"),
    (["--lr", "0"], r"lr=0.0 is out of range; use lr > 0"),
    (["--lr", "-0.1"], r"use lr > 0"),
    (["--momentum", "1.5"], r"momentum=1.5 is out of range; use 0 <= momentum < 1"),
    (["--optimizer", "ema-momentum", "--beta", "1"], r"beta=1.0 is out of range"),
    (["--optimizer", "adam", "--betas", "0.9,1.5"], r"out of range; use 0 <= beta1 < 1"),
    (["--optimizer", "heavy-ball", "--lr", "0.1"], r"heavy-ball has no learning rate; its step is set by --mass"),
    (["--hidden", "16,x"], r"hidden layer sizes '16,x' are not a comma-separated list of positive integers"),
    (["--hidden", "16,,16"], r"not a comma-separated list"),
    (["--hidden", "0"], r"not a comma-separated list"),
    (["--epochs", "0"], r"epochs = 0: use an integer >= 1"),
    (["--batch-size", "0"], r"batch size = 0: use an integer >= 1"),
    (["--activation", "relux"], r"unknown activation 'relux'; did you mean 'relu'\?"),
    (["--loss", "mse"], r"loss mse is for regression"),
    (["--loss", "hinge", "--dataset", "spiral"], r"needs two classes, but spiral has 3"),
    (["--schedule", "cosin"], r"unknown schedule 'cosin' \(did you mean 'cosine'\?\)"),
    (["--samples", "2"], r"n=2 samples is too few"),
    (["--noise", "-1"], r"noise=-1.0 must be a finite number >= 0"),
    (["--data", "/no/such/file.csv"], r"file\.csv: no such file; check the path"),
    (["--data", "x.csv", "--dataset", "moons"], r"give either --dataset or --data FILE, not both"),
    (["--optimizer", "sgd", "--nesterov"], r"nesterov=True needs momentum > 0"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run("train", *args)
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1 and re.search(message, error_lines[0]), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,4\n", r"bad\.csv, line 2: 2 values, but the first data row has 3"),
    ("1,2,0\n3,abc,1\n", r"bad\.csv, line 2, column 2: text 'abc' where a number belongs"),
    ("1,2,0\n3,NaN,1\n", r"bad\.csv, line 2, column 2: missing value \('NaN'\)"),
])
def test_bad_csv_names_file_line_and_fix(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    result = run("train", "--data", tmp_path / "bad.csv")
    assert result.exit_code == 2 and re.search(message, result.output) and "Traceback" not in result.output


def test_unreadable_data_and_unwritable_out(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00binary")
    result = run("train", "--data", tmp_path / "bin.csv")
    assert result.exit_code == 2 and "not a text file" in result.output
    (tmp_path / "afile").write_text("")
    result = run("train", *SMALL, "--out", tmp_path / "afile" / "run")
    assert result.exit_code == 2 and "cannot write to" in result.output and "choose a folder" in result.output
    result = run("train", *SMALL, "--out", tmp_path / "afile")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_divergence_stops_with_the_step_and_a_smaller_lr(tmp_path):
    result = run("train", "--dataset", "sine", "--lr", "5", "--epochs", "50", "--out", tmp_path / "d")
    assert result.exit_code == 1
    message = re.search(r"Error: loss ([\d.e+]+) at step (\d+) is more than 100× its first value ([\d.]+): training "
                        r"diverged; use a smaller learning rate \(lr=5 now, try 0\.5\)", result.output)
    assert message, result.output
    assert float(message.group(1)) > 100 * float(message.group(3))
    rows = list(csv.DictReader((tmp_path / "d" / "metrics.csv").open()))
    assert int(rows[-1]["step"]) == int(message.group(2)) - 1            # metrics up to the bad step are kept
    assert float(rows[0]["train_loss"]) == pytest.approx(float(message.group(3)), rel=1e-2)   # "its first value"
    assert json.loads((tmp_path / "d" / "config.json").read_text())["result"]["stopped"] == "diverged"


def test_a_huge_learning_rate_is_reported_as_divergence_by_the_real_command(tmp_path):
    """The run that used to end with exit 0 at chance accuracy (train loss 1.5e5), saying nothing."""
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--optimizer", "sgd", "--lr", "1e6",
                           "--out", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Error: loss 1.73e+16 at step 2 is more than 100× its first value 0.75: training diverged; use a smaller "
        "learning rate (lr=1e+06 now, try 100000)"]
    assert re.search(r"^diverged: 1 step, 0 epochs, [\d.]+ s; the losses below are from before training$", done.stdout,
                     re.M), done.stdout
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["0", "1"]                       # the one step that was taken, kept


def test_counts_are_singular_when_one():
    result = run("train", "--samples", "40", "--epochs", "1", "--batch-size", "30")
    assert result.exit_code == 0, result.output
    assert "; 1 epoch × 1 step of 30\n" in result.output and "finished: 1 step, 1 epoch, " in result.output
    result = run("train", "--samples", "40", "--epochs", "2", "--batch-size", "10")
    assert "; 2 epochs × 3 steps of 10\n" in result.output and "finished: 6 steps, 2 epochs, " in result.output


def test_normal_use_warns_nothing(tmp_path):
    """pyproject makes our warnings errors: a long run's plot and a diverged run's plot raise none."""
    assert run("train", "--samples", "40", "--epochs", "61", "--out", tmp_path / "long").exit_code == 0
    assert run("train", "--optimizer", "sgd", "--lr", "1e6", "--out", tmp_path / "diverged").exit_code == 1
    assert (tmp_path / "long" / "loss.png").exists() and (tmp_path / "diverged" / "loss.png").exists()


# ----- --out, --force ------------------------------------------------------------------------------

def test_out_refuses_to_overwrite_a_run_unless_forced(tmp_path):
    out = tmp_path / "run"
    assert run("train", *SMALL, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run("train", *SMALL, "--seed", "1", "--out", out)
    assert result.exit_code == 2
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert error_lines == [f"Error: Invalid value for '--out': {out} already holds a run (config.json, metrics.csv, "
                           f"model.npz, loss.png); continue it with `edu train --resume {out}`, or replace it with "
                           f"--force"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before          # nothing touched
    forced = run("train", *SMALL, "--seed", "1", "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "config.json").read_text())["config"]["seed"] == 1
    assert (out / "model.npz").read_bytes() != before["model.npz"]
    assert run("train", "--resume", out, "--force").exit_code == 2             # --resume takes no settings


def test_an_empty_folder_or_other_files_are_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    assert run("train", *SMALL, "--out", tmp_path / "empty").exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes")
    assert run("train", *SMALL, "--out", tmp_path / "mine").exit_code == 0
    (tmp_path / "mine" / "metrics.csv").unlink()
    (tmp_path / "mine" / "config.json").unlink()
    assert run("train", *SMALL, "--out", tmp_path / "mine").exit_code == 2   # model.npz and loss.png are a run
    assert run("train", *SMALL, "--out", tmp_path / "mine", "--force").exit_code == 0
    assert (tmp_path / "mine" / "notes.txt").read_text() == "my notes"        # --force replaces only a run's files


# ----- Ctrl-C and --resume ---------------------------------------------------------------------------

@pytest.fixture
def interrupt_at(monkeypatch):
    """Make the next `edu train` stop as if Ctrl-C were pressed after step k."""
    real = experiments.fit_run

    def arm(k):
        def fit_run(run, history=None, on_step=None):
            def step(h):
                if on_step:
                    on_step(h)
                if h.steps == k:
                    raise KeyboardInterrupt
            monkeypatch.setattr(experiments, "fit_run", real)            # only the first run is interrupted
            return real(run, history, on_step=step)
        monkeypatch.setattr(experiments, "fit_run", fit_run)
    return arm


@pytest.mark.parametrize("extra", [[], ["--optimizer", "adam", "--schedule", "warmup:10:cosine"]],
                         ids=["momentum", "adam-warmup-cosine"])
def test_interrupted_run_resumes_to_the_same_bits(tmp_path, interrupt_at, extra):
    args = ["train", "--samples", "200", "--epochs", "6", *extra]
    whole = run(*args, "--out", tmp_path / "whole")
    assert whole.exit_code == 0
    interrupt_at(17)
    stopped = run(*args, "--out", tmp_path / "cut")
    assert stopped.exit_code == 130
    assert "interrupted after step 17 (epoch 4, batch 2 of 5); saved a checkpoint in" in stopped.output
    assert f"resume with: edu train --resume {tmp_path / 'cut'}" in stopped.output
    assert "loss.png" not in {p.name for p in (tmp_path / "cut").iterdir()}
    resumed = run("train", "--resume", tmp_path / "cut")
    assert resumed.exit_code == 0, resumed.output
    a, b = arrays(tmp_path / "whole" / "model.npz"), arrays(tmp_path / "cut" / "model.npz")
    assert a.keys() == b.keys()
    for key in a:                               # weights, optimizer and schedule state, history: all equal
        assert np.array_equal(a[key], b[key]), key
    assert (tmp_path / "whole" / "metrics.csv").read_text() == (tmp_path / "cut" / "metrics.csv").read_text()


def test_force_leaves_no_file_of_the_replaced_run(tmp_path, interrupt_at):
    assert run("train", *SMALL, "--out", tmp_path / "run").exit_code == 0
    interrupt_at(2)
    assert run("train", *SMALL, "--out", tmp_path / "run", "--force").exit_code == 130
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "metrics.csv", "model.npz"]
    assert run("train", "--resume", tmp_path / "run").exit_code == 0       # the checkpoint is the new run's


def test_interrupt_without_out_saves_under_runs(tmp_path, monkeypatch, interrupt_at):
    monkeypatch.chdir(tmp_path)
    interrupt_at(3)
    result = run("train", *SMALL)
    assert result.exit_code == 130
    folder = re.search(r"resume with: edu train --resume (\S+)", result.output).group(1)
    assert folder.startswith("runs/moons-momentum-")
    assert run("train", "--resume", folder).exit_code == 0


def test_resume_errors(tmp_path):
    assert run("train", *SMALL, "--out", tmp_path / "done").exit_code == 0
    result = run("train", "--resume", tmp_path / "done")
    assert result.exit_code == 2 and "already finished" in result.output
    result = run("train", "--resume", tmp_path / "done", "--lr", "0.1")
    assert result.exit_code == 2 and "leave out --lr" in result.output
    result = run("train", "--resume", tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such folder" in result.output
    (tmp_path / "done" / "model.npz").write_bytes(b"garbage")
    result = run("train", "--resume", tmp_path / "done")
    assert result.exit_code == 2 and "not an .npz archive" in result.output and "Traceback" not in result.output


# ----- edu compare, edu optimizers --------------------------------------------------------------------

def test_compare_table_and_figure(tmp_path):
    result = run("compare", "--optimizers", "sgd,momentum,nesterov,adam", *SMALL, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    table = [line.split() for line in result.output.splitlines()]
    assert [r[0] for r in table if r and r[0] in ("sgd", "momentum", "nesterov", "adam")] == \
        ["sgd", "momentum", "nesterov", "adam"]
    assert "steps to loss 0.1" in result.output
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader((tmp_path / "compare.csv").open()))
    assert [r["optimizer"] for r in rows] == ["sgd", "momentum", "nesterov", "adam"]
    first = {name: list(csv.DictReader((tmp_path / f"metrics-{name}.csv").open()))[0]["train_loss"]
             for name in ("sgd", "momentum", "nesterov", "adam")}
    assert len(set(first.values())) == 1                       # same data, same initial weights
    files = ["compare.png", "compare.csv"] + [f"metrics-{n}.csv" for n in ("sgd", "momentum", "nesterov", "adam")]
    assert f"wrote {', '.join(str(tmp_path / f) for f in files)}\n" in result.output


def test_compare_marks_a_diverged_optimizer_runs_the_others_and_exits_1(tmp_path, monkeypatch):
    (tmp_path / "overshooting.py").write_text(
        "from tinygrad_edu.optim import Optimizer\n"
        "from tinygrad_edu.optim.base import learning_rate\n"
        "class Overshoot(Optimizer):\n"
        "    cli_name = 'overshoot'\n"
        "    formula = 'w <- w - 1e6·lr·g'\n"
        "    hyper = (learning_rate(),)\n"
        "    def __init__(self, params, lr=0.1):\n"
        "        super().__init__(params, lr=lr)\n"
        "    def update(self, w, g, state):\n"
        "        w -= 1e6 * self.lr * g\n")
    monkeypatch.chdir(tmp_path)
    result = run("compare", "--optimizers", "sgd,overshooting:Overshoot,adam", *SMALL, "--out", "cmp")
    assert result.exit_code == 1, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()}
    assert "diverged at step 2" in rows["overshooting:Overshoot"]
    for name in ("sgd", "adam"):                                                  # the others still ran
        assert "finished" in rows[name] and "diverged" not in rows[name]
    assert result.stderr.startswith("Error: overshooting:Overshoot: loss ") and "at step 2 is more than 100×" in \
        result.stderr and "use a smaller learning rate (lr=0.1 now, try 0.01)" in result.stderr
    table = {r["optimizer"]: r for r in csv.DictReader((tmp_path / "cmp" / "compare.csv").open())}
    assert table["overshooting:Overshoot"]["end"] == "diverged at step 2" and table["adam"]["end"] == "finished"
    metrics = list(csv.DictReader((tmp_path / "cmp" / "metrics-overshooting-Overshoot.csv").open()))
    assert [r["step"] for r in metrics] == ["0", "1"]
    assert "exit status is then 1" in " ".join(run("compare", "--help").output.split())


def test_compare_bad_input():
    for args, message in ((["--optimizers", "sgd,adamm"], "unknown optimizer 'adamm'"),
                          (["--optimizers", "sgd,sgd"], "listed twice"),
                          (["--lr", "0"], "lr=0.0 must be > 0"),
                          (["--hidden", "a"], "comma-separated list")):
        result = run("compare", *args)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_optimizers_lists_every_optimizer_with_its_formula():
    result = run("optimizers")
    assert result.exit_code == 0
    for name in optim.names():
        cls = optim.get(name)
        assert cls.formula in result.output and f"{cls.cli_name}  ({cls.__name__})" in result.output
    assert "edu train uses lr=0.05" in result.output
    one = run("optimizers", "adam")
    assert one.exit_code == 0 and "--betas" in one.output and "momentum  (Momentum)" not in one.output
    assert run("optimizers", "nope").exit_code == 2


def test_installed_edu_command(tmp_path):
    """The console script itself (CliRunner covers the rest): the default run, as a user types it."""
    # pip puts console scripts beside the interpreter; look there first (no shim rehash needed)
    edu = shutil.which("edu", path=os.path.dirname(sys.executable)) or shutil.which("edu") \
        or pytest.fail("the `edu` command is not installed; run `pip install -e .`")
    done = subprocess.run([edu, "train"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "finished: 360 steps, 30 epochs" in done.stdout and "Traceback" not in done.stderr
    assert float(re.search(r"test\s+loss [\d.]+\s+accuracy ([\d.]+)%", done.stdout).group(1)) >= 97.0
    assert list(tmp_path.iterdir()) == []              # no --out: nothing written


def test_the_numbers_in_the_help_texts(tmp_path):
    help_train = " ".join(run("train", "--help").output.split())
    assert "more than 100 times its first value" in help_train and train.DIVERGE_FACTOR == 100
    assert "e.g. 500 for moons" in help_train and data.get_dataset("moons").describe().startswith(
        "moons: 375 train + 125 test samples")
    assert "moons, momentum: >= 97% test accuracy" in help_train          # test_default_run_reaches_97_percent
    help_compare = " ".join(run("compare", "--help").output.split())
    assert "(default 0.1; 0.01 for regression)" in help_compare
    regression = run("compare", "--dataset", "sine", "--samples", "40", "--epochs", "1", "--optimizers", "sgd",
                     "--out", tmp_path)
    assert regression.exit_code == 0 and "steps to loss 0.01" in regression.output
    help_landscape = " ".join(run("landscape", "--help").output.split())
    steps = ", ".join(str(landscape.get_landscape(n).steps) for n in landscape.landscape_names())
    assert f"(default: the landscape's own: {steps})" in help_landscape and steps == "80, 150, 1000, 120"


@pytest.mark.parametrize("command", ["train", "compare"])
def test_a_negative_seed_names_the_option_and_its_range(tmp_path, command):
    result = run(command, "--seed", "-1", "--epochs", "1")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "'--seed'" in errors[0] and "-1 is not in the range x>=0" in errors[0]


@pytest.fixture
def classes25(tmp_path):
    """A CSV whose labels are 25 whole numbers: past the automatic rule's 20 classes."""
    rng = np.random.default_rng(0)
    path = tmp_path / "classes25.csv"
    np.savetxt(path, np.column_stack([rng.standard_normal((300, 2)), np.arange(300) % 25]), delimiter=",")
    return path


def test_task_overrides_the_automatic_rule_for_a_data_file(classes25):
    from tinygrad_edu.data import MAX_AUTO_CLASSES
    assert MAX_AUTO_CLASSES == 20
    auto = run("train", "--data", classes25, "--epochs", "1", "--lr", "0.001")   # targets 0..24, unscaled
    assert auto.exit_code == 0 and "2 features, regression, 1 target" in auto.output and "mse loss" in auto.output
    told = run("train", "--data", classes25, "--epochs", "1", "--lr", "0.001", "--task", "classification")
    assert told.exit_code == 0 and "2 features, 25 classes" in told.output and "cross-entropy loss" in told.output


def test_task_is_for_data_files_and_states_the_rule_in_help():
    result = CliRunner().invoke(cli, ["train", "--task", "regression"])
    assert result.exit_code == 2 and "--task applies to a --data file" in result.output
    help_text = " ".join(run("train", "--help").output.split())
    assert "at most 20 distinct values make a classification problem" in help_text


def test_a_model_too_big_for_memory_is_refused_before_it_is_made():
    result = CliRunner().invoke(cli, ["train", "--hidden", "1000000000000", "--epochs", "1", "--samples", "20"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "'--hidden'" in error[0] and "146 TiB" in error[0] and "TINYGRAD_EDU_MAX_BYTES" in error[0]
