"""The milestone: moons trained with the workbook's own parts, the checks it runs first, and
`edu train --use-exercises`; plus the numbers and claims of the engine and layer exercises' texts.

The workbook is a temporary copy of exercises/ (the instructor's solutions), changed where a test
needs a part wrong or unfinished.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygrad_edu import Tensor, experiments, ops, optim
from tinygrad_edu.cli import cli
from tinygrad_edu.course import checking, milestone
from tinygrad_edu.course.checks import test_ex02_engine
from tinygrad_edu.course.manifest import Exercise, by_id, load
from tinygrad_edu.course.workbook import Workbook

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = load()

# ----- a copy of the workbook ---------------------------------------------------------------------------

ALL_PASSED = {e.id: "passed" for e in EXERCISES}         # statuses as edu check reports them


def make_workbook(folder: Path, changes: dict | None = None) -> Path:
    """A copy of exercises/ in `folder`; `changes` maps a file to [(old, new)] replacements."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "exercises").glob("ex*.py")):
        shutil.copy(path, folder / path.name)
    for file, edits in (changes or {}).items():
        text = (folder / file).read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, (file, old)
            text = text.replace(old, new)
        (folder / file).write_text(text, encoding="utf-8")
    return folder


def _append(path: Path, text: str) -> None:
    """Add code at the end of a workbook file (a function defined again there replaces the first one)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n\n" + text)


@pytest.fixture
def folder(tmp_path):
    return make_workbook(tmp_path / "workbook")


@pytest.fixture
def checks_pass(monkeypatch):
    """For the tests of what the CLI does after the checks: every check passes without running (they are slow)."""
    monkeypatch.setattr(milestone, "run_exercise",
                        lambda wb, i, timeout=20.0: [checking.Result(i, "skipped", "passed")])


def engine_state() -> tuple:
    """Everything student_engine patches: Tensor's attributes and the optimizer base class's."""
    return dict(vars(Tensor)), dict(vars(optim.Optimizer))


# ----- the milestone ---------------------------------------------------------------------------------

def test_the_milestone_checks_the_parts_it_needs_then_trains_moons_past_97_percent(folder, monkeypatch):
    checked = []
    real = milestone.run_exercise
    monkeypatch.setattr(milestone, "run_exercise",
                        lambda wb, i, timeout=20.0: checked.append(i) or real(wb, i, timeout))
    result = milestone.run(folder)
    assert result.passed and result.blocked == [] and result.test_accuracy >= milestone.PASS_ACCURACY == 0.97
    assert result.message == (f"Milestone passed: your engine, layers and optimizer trained moons to "
                              f"{100 * result.test_accuracy:.1f}% test accuracy (≥ 97% needed).")
    names = {e.id: e.name for e in EXERCISES}
    needed = {"topological_order", "backward", "zero_grad", "Linear", "MLP", "Momentum", "unbroadcast",
              "add_backward", "matmul_backward", "relu_backward", "cross_entropy_backward"}
    assert {names[i] for i in checked} == needed and len(checked) == len(needed)
    # the default run of edu train, on the engine's own parts, reaches the same accuracy
    engine = experiments.fit_run(experiments.build(experiments.RunConfig()))
    assert engine.test_accuracy[-1] == result.test_accuracy
    assert result.history.steps == engine.steps == 360
    np.testing.assert_allclose(result.history.loss, engine.loss, rtol=1e-10)   # round-off apart


def test_the_milestones_run_is_edu_trains_default_one():
    """milestone.py's docstring: moons, an MLP 2-16-16-2 with ReLU, momentum, 30 epochs of minibatches of 32."""
    run = experiments.build(experiments.RunConfig())
    c = run.config
    assert (c.dataset, run.model.sizes, c.activation, c.optimizer, c.epochs, c.batch_size) == \
        ("moons", [2, 16, 16, 2], "relu", "momentum", 30, 32)


def test_the_same_seed_gives_the_same_run_bit_for_bit(folder):
    first = milestone.run(folder, statuses=ALL_PASSED)
    second = milestone.run(folder, statuses=ALL_PASSED, seed=0)
    assert first.passed
    for name in first.history.STEP_FIELDS + first.history.EPOCH_FIELDS:      # every number recorded, NaN = NaN
        assert np.array_equal(getattr(first.history, name), getattr(second.history, name), equal_nan=True), name
    other = milestone.run(folder, statuses=ALL_PASSED, seed=1)
    assert other.history.loss != first.history.loss


COUNTER = '''

import collections as _collections
CALLS = _collections.Counter()


def _counted(name, fn):
    def counted(*args, **kwargs):
        CALLS[name] += 1
        return fn(*args, **kwargs)
    return counted
'''


def _counting(functions: list, methods: list) -> str:
    """What to append to a workbook file so that it counts the calls of its functions and methods in CALLS."""
    lines = [COUNTER]
    lines += [f"{name} = _counted({name!r}, {name})\n" for name in functions]
    lines += [f"{cls}.{method} = _counted('{cls}.{method}', {cls}.{method})\n" for cls, method in methods]
    return "".join(lines)


def test_every_part_that_trains_is_the_students(tmp_path):
    """Each part is called as often as the run needs it: the engine's own never stands in for it."""
    folder = make_workbook(tmp_path / "wb")
    counted = {"ex02_engine.py": (["topological_order", "backward", "zero_grad"], []),
               "ex04_mlp.py": ([], [("Linear", "forward"), ("MLP", "forward")]),
               "ex02_ops.py": (["unbroadcast", "add_backward", "relu_backward"], []),
               "ex02_reductions.py": (["matmul_backward", "cross_entropy_backward"], []),
               "ex06_momentum.py": ([], [("Momentum", "update")])}
    for file, (functions, methods) in counted.items():
        _append(folder / file, _counting(functions, methods))
    wb = Workbook(folder)
    outcome = milestone.train_run(wb, experiments.build(experiments.RunConfig()), check=False)
    calls = {}
    for file in counted:
        calls.update(wb.module(file).CALLS)
    steps, evaluations = outcome.history.steps, 2 * len(outcome.history.epoch)   # train and test set each time
    assert steps == 360 and outcome.history.test_accuracy[-1] >= 0.97
    forwards = steps + evaluations + 1                     # + the one that describes the run's ops
    assert calls["backward"] == steps
    assert calls["zero_grad"] == steps - 1                 # the first step has no graph to clear yet
    assert calls["topological_order"] == calls["backward"] + calls["zero_grad"]     # each walks the graph once
    assert calls["MLP.forward"] == forwards and calls["Linear.forward"] == 3 * forwards
    assert calls["matmul_backward"] == calls["add_backward"] == 3 * steps        # three layers
    assert calls["unbroadcast"] == 2 * calls["add_backward"]
    assert calls["relu_backward"] == 2 * steps and calls["cross_entropy_backward"] == steps
    assert calls["Momentum.update"] == 6 * steps           # W and b of three layers
    assert outcome.parts == ("your parts: MLP and Linear, Momentum, topological_order, backward, zero_grad; "
                             "the backward of add, cross_entropy, matmul, relu")


def test_a_wrong_part_that_the_checks_were_told_passed_fails_the_milestone(tmp_path):
    folder = make_workbook(tmp_path / "wb")
    _append(folder / "ex02_ops.py", "def relu_backward(g, a, out):\n    return g * 0.0\n")    # no gradient through
    result = milestone.run(folder, statuses=ALL_PASSED)
    assert not result.passed and result.test_accuracy < 0.97
    assert result.message == (f"Milestone not passed: moons reached {100 * result.test_accuracy:.1f}% test accuracy, "
                              f"below the 97% needed; every part passes its checks, so look at how they work "
                              f"together (edu train --use-exercises).")


STUB_BACKWARD = ("    # BEGIN SOLUTION\n    root.grad = np.ones_like(root.data)",
                 "    raise NotImplementedError('exercise 2.16: the backward loop')\n    root.grad = np.ones_like(root.data)")
NO_BIAS = ("        return x @ self.W + self.b\n", "        return x @ self.W\n")


def test_a_part_not_done_yet_is_named_and_nothing_trains(tmp_path, monkeypatch):
    folder = make_workbook(tmp_path / "wb", {"ex02_engine.py": [STUB_BACKWARD], "ex04_mlp.py": [NO_BIAS]})
    monkeypatch.setattr(experiments, "fit_run", lambda *a, **k: pytest.fail("nothing may train"))
    known = {i: s for i, s in ALL_PASSED.items() if i not in ("2.16", "4.1")}
    result = milestone.run(folder, statuses=known)
    exercises = by_id()
    assert not result.passed and result.history is None and result.test_accuracy is None
    assert [(e.id, status) for e, status in result.blocked] == [("2.16", "not_attempted"), ("4.1", "failed")]
    assert result.message == (f"Milestone not started: finish these exercises first: 2.16 {exercises['2.16'].title} "
                              f"(not attempted), 4.1 {exercises['4.1'].title} (failed)")


def test_statuses_already_known_are_not_checked_again(folder, monkeypatch):
    monkeypatch.setattr(milestone, "run_exercise", lambda *a, **k: pytest.fail("no check may run"))
    result = milestone.run(folder, statuses={**ALL_PASSED, "2.17": "failed"})
    assert [(e.id, s) for e, s in result.blocked] == [("2.17", "failed")]
    assert result.message.endswith(f"finish this exercise first: 2.17 {by_id()['2.17'].title} (failed)")


def test_a_workbook_without_a_part_or_that_does_not_import_is_one_line(tmp_path):
    folder = make_workbook(tmp_path / "wb")
    (folder / "ex04_mlp.py").write_text("import numpy as np\n\ndef oops(:\n", encoding="utf-8")
    result = milestone.run(folder, statuses=ALL_PASSED)
    assert not result.passed and result.message.startswith("Milestone not started: ex04_mlp.py line 3: SyntaxError")
    (folder / "ex04_mlp.py").unlink()
    result = milestone.run(folder, statuses=ALL_PASSED)
    assert result.message == (f"Milestone not started: ex04_mlp.py is missing from {folder.resolve()}; restore it "
                              f"from the student edition")


def test_a_broken_file_the_run_does_not_need_does_not_stop_it(folder):
    unneeded = Exercise(id="9.99", title="an exercise the milestone does not use", file="ex09_unneeded.py",
                        name="unneeded", reference="tinygrad_edu.ops:unbroadcast", checks=1, hint="")
    (folder / "ex09_unneeded.py").write_text("def unneeded(:\n", encoding="utf-8")
    result = milestone.run(folder, exercises=EXERCISES + [unneeded], statuses=ALL_PASSED)
    assert result.passed, result.message


def test_the_engine_is_put_back_after_the_run_also_when_it_raises(folder):
    before = engine_state()
    wb = Workbook(folder)
    with pytest.raises(RuntimeError, match="stopped inside"):
        with milestone.student_engine(wb) as parts:
            assert Tensor.__add__ is not ops.add and "add" in parts.ops
            raise RuntimeError("stopped inside")
    assert engine_state() == before and Tensor.__add__ is ops.add
    assert Tensor.backward.__module__ == "tinygrad_edu.tensor"
    milestone.run(folder, statuses=ALL_PASSED)
    assert engine_state() == before


def test_the_students_code_raising_during_training_names_the_line_and_the_engine_is_put_back(tmp_path):
    folder = make_workbook(tmp_path / "wb")
    _append(folder / "ex02_ops.py", "def relu_backward(g, a, out):\n    if a.shape[0] > 8:\n"
                                    "        raise ValueError('too big')\n    return g * (a > 0)\n")
    before = engine_state()
    result = milestone.run(folder, statuses=ALL_PASSED)
    line = next(i for i, text in enumerate((folder / "ex02_ops.py").read_text().splitlines(), 1) if "too big" in text)
    assert result.message == f"Milestone not passed: training stopped: your code raised ValueError: too big " \
                             f"(ex02_ops.py line {line})"
    assert engine_state() == before


def test_a_training_that_takes_too_long_is_stopped(folder):
    _append(folder / "ex02_ops.py", "import time\n\n\ndef relu_backward(g, a, out):\n    time.sleep(0.05)\n"
                                    "    return g * (a > 0)\n")
    result = milestone.run(folder, statuses=ALL_PASSED, timeout=0.5)
    assert result.message == ("Milestone not passed: the training was still running after 0.5 s; is one of your "
                              "parts very slow (a Python loop over the elements)?")


def test_the_parts_a_run_needs_follow_its_graph(folder):
    wb = Workbook(folder)
    names = {e.id: e.name for e in EXERCISES}

    def needed(**settings):
        run = experiments.build(experiments.RunConfig(**settings))
        return {names[e.id] for e in milestone.needed_exercises(wb, run)}
    engine_and_layers = {"topological_order", "backward", "zero_grad", "Linear", "MLP"}
    assert needed() == engine_and_layers | {"Momentum", "unbroadcast", "add_backward", "matmul_backward",
                                            "relu_backward", "cross_entropy_backward"}
    # mse is (pred − y)² averaged: sub (no exercise), mul and mean; tanh between the layers; Adam is the engine's here
    assert needed(dataset="sine", activation="tanh", optimizer="adam") == engine_and_layers | {
        "unbroadcast", "add_backward", "matmul_backward", "tanh_backward", "mul_backward", "mean_backward"}


# ----- edu train --use-exercises ---------------------------------------------------------------------------

def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_edu_train_use_exercises_trains_with_the_students_parts(folder, checks_pass):
    result = invoke("train", "--use-exercises", folder, "--epochs", 3)
    assert result.exit_code == 0, result.output
    assert "finished: 36 steps, 3 epochs" in result.output and "Momentum(lr=0.05, momentum=0.9)" in result.output
    assert result.output.rstrip().endswith("trained with your parts: MLP and Linear, Momentum, topological_order, "
                                           "backward, zero_grad; the backward of add, cross_entropy, matmul, relu")
    engine = invoke("train", "--epochs", 3)
    accuracy = re.compile(r"test\s+loss [\d.]+\s+accuracy ([\d.]+)%")
    assert accuracy.search(result.output).group(1) == accuracy.search(engine.output).group(1)


def test_edu_train_use_exercises_says_which_parts_are_the_engines(folder, checks_pass):
    result = invoke("train", "--use-exercises", folder, "--epochs", 1, "--dataset", "sine", "--activation", "tanh",
                    "--optimizer", "adam")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("trained with your parts: MLP and Linear, the engine's Adam, "
                                           "topological_order, backward, zero_grad; the backward of add, matmul, "
                                           "mean, mul, tanh; the engine's backward of sub")


def test_edu_train_use_exercises_finds_the_workbook_in_the_working_folder(folder, checks_pass, monkeypatch):
    monkeypatch.chdir(folder.parent)              # its exercises/ is not there, folder "workbook" is
    (folder.parent / "exercises").mkdir()
    for path in folder.iterdir():
        shutil.copy(path, folder.parent / "exercises" / path.name)
    result = invoke("train", "--use-exercises", "--epochs", 1)
    assert result.exit_code == 0 and "trained with your parts" in result.output, result.output
    monkeypatch.chdir(folder)
    assert invoke("train", "--epochs", 1, "--use-exercises").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--out", "runs/x"], "--use-exercises trains in memory and saves nothing; leave out --out"),
    (["--resume", "runs/x"], "--use-exercises trains in memory and saves nothing; leave out --resume"),
    (["--checkpoint-every", "5"], "leave out --checkpoint-every"),
    (["--activation", "sigmoid"], "--activation sigmoid: your MLP takes relu or tanh"),
    (["--epochs", "0"], "epochs = 0: use an integer >= 1"),
])
def test_edu_train_use_exercises_bad_usage_is_one_line(folder, checks_pass, args, message):
    result = invoke("train", "--use-exercises", folder, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output


def test_edu_train_use_exercises_without_a_workbook_is_a_usage_error(tmp_path, checks_pass):
    result = invoke("train", "--use-exercises", tmp_path)
    assert result.exit_code == 2 and f"--use-exercises: no workbook in {tmp_path}" in result.output


def test_edu_train_use_exercises_names_the_exercises_to_finish_first(tmp_path):
    folder = make_workbook(tmp_path / "wb", {"ex02_engine.py": [STUB_BACKWARD]})
    result = invoke("train", "--use-exercises", folder)
    assert result.exit_code == 1, result.output
    assert f"Error: finish this exercise first: 2.16 {by_id()['2.16'].title} (not attempted); edu check shows what " \
           f"each one needs" in result.output
    assert "finished" not in result.output and "Traceback" not in result.output


def test_edu_train_use_exercises_as_a_process_exits_2_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--use-exercises", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"Error: --use-exercises: no workbook in {tmp_path} (nor in " \
                                                   f"its exercises folder); give the folder that holds your workbook"


# ----- what the exercises' texts say ---------------------------------------------------------------------

def test_the_numbers_in_the_engine_exercises_texts_are_the_checks():
    exercises = by_id()
    text = (ROOT / "exercises" / "ex02_engine.py").read_text(encoding="utf-8")
    assert test_ex02_engine.DEPTH == 100_000
    assert "a graph can be 100,000 ops deep" in text
    assert "this chain is 100,000 ops deep" in exercises["2.15"].hints["recursion"]
    assert test_ex02_engine.DEPTH > 10 * sys.getrecursionlimit()       # far beyond the recursion limit
    assert test_ex02_engine.test_topological_order_of_a_100000_op_chain.__doc__.startswith(
        "topological_order handles a chain of 100,000 ops")


def test_zero_grads_are_a_gradient_and_none_is_not():
    """2.17's hint: an optimizer skips a parameter whose .grad is None, while momentum moves one with zeros."""
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Momentum([w], lr=0.1, momentum=0.9)
    w.grad = np.array([1.0, 1.0])
    opt.step()                                         # m = 0.1, w = 0.9, 1.9
    w.grad = None
    opt.step()
    assert np.array_equal(w.data, [0.9, 1.9])          # skipped
    w.grad = np.zeros(2)
    opt.step()                                         # m = 0.09: still moving
    np.testing.assert_allclose(w.data, [0.81, 1.81])


def test_stale_gradients_of_op_results_are_added_to_by_the_next_backward():
    """2.17's docstring: clearing only the leaves leaves the op results' .grad behind, and backward adds to it."""
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = x * x
    loss = y.sum()
    loss.backward()
    first = y.grad.copy()
    x.grad = None                                      # the leaves only
    loss.backward()
    assert np.array_equal(y.grad, 2 * first) and np.array_equal(x.grad, 2 * x.data)


@pytest.mark.parametrize("exercise_id", ["2.15", "2.16", "2.17", "4.1", "4.2"])
def test_each_exercise_says_its_id_and_title_first(exercise_id):
    exercise = by_id()[exercise_id]
    obj = getattr(Workbook(ROOT / "exercises").module(exercise.file), exercise.name)
    assert obj.__doc__.splitlines()[0] == f"Exercise {exercise.id}: {exercise.title}."


def test_edu_train_use_exercises_reports_a_divergence_an_error_and_a_stop(folder, checks_pass, monkeypatch):
    diverged = invoke("train", "--use-exercises", folder, "--lr", "1000", "--epochs", 1)
    assert diverged.exit_code == 1 and "training diverged; use a smaller learning rate" in diverged.output
    _append(folder / "ex02_ops.py", "def relu_backward(g, a, out):\n    raise ValueError('too big')\n")
    line = len((folder / "ex02_ops.py").read_text().splitlines())
    failed = invoke("train", "--use-exercises", folder, "--epochs", 1)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert f"Error: training stopped: your code raised ValueError: too big (ex02_ops.py line {line})" in failed.output

    def stop_at_step_5(history):
        if history.steps == 5:
            raise KeyboardInterrupt           # as Ctrl-C does, at a step boundary
    monkeypatch.setattr("tinygrad_edu.cli.train.Progress.update", lambda self, history: stop_at_step_5(history))
    (folder / "ex02_ops.py").write_text((ROOT / "exercises" / "ex02_ops.py").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    stopped = invoke("train", "--use-exercises", folder, "--epochs", 1)
    assert stopped.exit_code == 130
    assert "interrupted after step 5 (epoch 1, batch 5 of 12); nothing was saved (--use-exercises trains in " \
           "memory)" in stopped.output
