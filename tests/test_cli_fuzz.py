"""A fuzz of every option of every `edu` command: no input gives a traceback or exit 1 for bad usage.

Property, for every command line hypothesis makes: the command ends with status 0, 1 (only for a
run that diverged, which train and compare document) or 2 (bad usage, with exactly one "Error:"
line), and never with an exception other than click's SystemExit. Two layers:

- parsing: the heavy library calls (the ablation, the landscape walks, figures) are replaced by
  cheap stand-ins that also check that only values inside the commands' bounds reach the library,
  so huge numbers are fuzzed without running them;
- execution: the real library, with the step counts kept small.

Commands run in-process through click's CliRunner, in a fresh folder holding a sub-folder, FIFOs,
a read-only folder and files a user made (tests/_cli_strategies.make_workspace).
"""
import contextlib
import tempfile
from pathlib import Path

import matplotlib.figure
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _cli_strategies import (comma_list, command_lines, make_workspace, name_like, numbers, paths, problems,
                             texts)
from tinygrad_edu import ablation, landscape, optim
from tinygrad_edu.cli import ablate as ablate_cli
from tinygrad_edu.cli import cli
from tinygrad_edu.io import atomic_write_text
from tinygrad_edu.viz import Rendered, draw_graph, draw_scalar_graph

FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

FORMS = list(ablation.FORMS) + ["all"]
FUNCTIONS = landscape.landscape_names()
OPTIMIZERS = optim.names()
small_ints = st.integers(1, 4).map(str)
over_limit = st.sampled_from([str(ablate_cli.MAX_STEPS + 1), "1000000000", "1000000000000", "10" * 30])
bad_ints = st.sampled_from(["0", "-1", "1.5", "1e9", "nan", "", "x", "inf"])
momenta = st.one_of(comma_list(st.sampled_from(["0", "0.5", "0.9", "1", "1.0", "1.01", "2", "2.5", "-1", "nan",
                                                "inf", "1e308", "x", ""]), max_size=3), texts)
optimizer_lists = st.one_of(comma_list(name_like(OPTIMIZERS), max_size=3),
                            st.sampled_from(["x.py:Foo", "os:path", "tinygrad_edu.optim:SGD", "nosuch.mod:X",
                                             "tinygrad_edu.optim:Optimizer", ":", "a:b:c"]))
starts = st.one_of(comma_list(numbers, max_size=3), st.sampled_from(["1e308,1e308", "1e6,1e6", "-1e6,1000001",
                                                                     "0,0", "1.5,0"]))
expressions = st.one_of(
    st.sampled_from(["(a*b + c).tanh()", "e = a*b; L = e + c", "a", "a +", "(w @ x).sum()", "a.__class__",
                     "__import__('os')", "a ** 1e308", "a / 0", "(a * 0).log()", "a.exp().exp().exp()",
                     "(" * 200 + "a" + ")" * 200, " + ".join("a" for _ in range(30)), "a.sum(axis=5)",
                     "a.reshape(3, 3)", "a[10]", "a.max()", "a.softmax()", "L = a; L = b"]),
    texts)
value_items = st.one_of(
    st.tuples(st.sampled_from(["a", "b", "c", "w", "x", "", "é", "a b"]), st.sampled_from(["=", "", "=="]),
              st.one_of(numbers, comma_list(numbers, max_size=3))).map("".join),
    texts)


@pytest.fixture
def workspace(monkeypatch):
    """A fresh folder per example (hypothesis reuses the fixture), made the working directory."""
    stack = contextlib.ExitStack()

    def fresh() -> Path:
        stack.close()
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="edu-fuzz-")))
        monkeypatch.chdir(folder)
        return make_workspace(folder)
    yield fresh
    stack.close()


def check(args, allow_diverged=False):
    result = CliRunner().invoke(cli, args)
    found = problems(result, args[0], allow_diverged)
    assert not found, f"edu {' '.join(map(repr, args))}: {found}\n{result.output[-2000:]}"
    return result


# ----- stand-ins for the heavy library calls (the parsing layer) ---------------------------------

@pytest.fixture(scope="module")
def tiny_results():
    """Real results of tiny runs, returned by the stand-ins whatever they are asked."""
    return {"ablation": ablation.run_experiment(["lr-inside", "pytorch"], [0.9], k=2, steps=2),
            "landscape": landscape.run_trajectories(landscape.get_landscape("ravine"), ["sgd"], steps=3)}


class Calls(list):
    def __repr__(self):
        return f"<{len(self)} library calls>"


@pytest.fixture
def stand_ins(monkeypatch, tiny_results):
    calls = Calls()

    def run_experiment(forms, momenta, k, steps, lr, seed):
        assert 1 <= k and 1 <= steps and k + steps <= ablate_cli.MAX_STEPS, (k, steps)
        assert 0 < lr < float("inf") and seed >= 0 and momenta and set(forms) <= set(ablation.FORMS)
        calls.append("ablate")
        return tiny_results["ablation"]

    def run_trajectories(fn, names, steps=None, start=None, lr=None, momentum=None):
        assert steps is None or 1 <= steps <= ablate_cli.MAX_STEPS, steps
        assert start is None or all(abs(x) <= ablate_cli.MAX_COORDINATE for x in start), start
        assert lr is None or 0 < lr < float("inf")
        for name in names:
            optim.get(name)
        calls.append("landscape")
        return tiny_results["landscape"]

    def render(root, path, scalar=False, quiet=False, **options):
        (draw_scalar_graph if scalar else draw_graph)(root, **options)   # the drawing is built for real
        calls.append("graph")
        return Rendered(atomic_write_text(path, "digraph {}\n"))

    empty_figure = lambda *a, **k: matplotlib.figure.Figure(figsize=(1, 1))     # noqa: E731
    monkeypatch.setattr(ablation, "run_experiment", run_experiment)
    monkeypatch.setattr(landscape, "run_trajectories", run_trajectories)
    monkeypatch.setattr(ablate_cli, "ablation_figure", empty_figure)
    monkeypatch.setattr(ablate_cli, "landscape_figure", empty_figure)
    monkeypatch.setattr("tinygrad_edu.cli.graph.render_graph", render)
    return calls


def pick(*values):
    return st.sampled_from(values)


lrs = pick("0.005", "0.01", "0.1", "1")
OUT_OK = pick("new.png", "new.svg", "sub/new.png", "folder")
ABLATE = {"--form": (pick("lr-inside", "pytorch", "ema", "all"), name_like(FORMS)),
          "--k": (small_ints, numbers), "--steps": (small_ints, numbers),
          "--momenta": (pick("0.9", "0.5,1.0", "1.01", "0,2"), momenta), "--lr": (lrs, numbers),
          "--seed": (pick("0", "1", "123456789"), numbers), "--out": (OUT_OK, paths)}
LANDSCAPE = {"--function": (pick(*FUNCTIONS), name_like(FUNCTIONS)),
             "--optimizers": (pick("sgd", "sgd,momentum", "adam,nesterov", *OPTIMIZERS), optimizer_lists),
             "--steps": (small_ints, numbers), "--lr": (lrs, numbers), "--momentum": (pick("0", "0.5", "0.99"), numbers),
             "--start": (pick("0,0", "1.5,0", "-1.2,1"), starts), "--out": (pick("new.png", "new.svg", "sub/x.png"), paths)}
GRAPH_FLAGS = ("--backward", "--scalar", "--no-data", "--no-grad", "--no-groups", "--force")
GRAPH = {"--out": (pick("g.svg", "g.dot", "sub/g.png", "g.pdf"), paths),
         "--expr": (pick("(a*b + c).tanh()", "e = a*b; L = e + c", "a", "(w @ x).sum()"), expressions),
         "--value": (pick("a=2", "b=-3", "c=10", "w=1,2", "x=3,-1"), value_items),
         "--sizes": (pick("2,4,1", "3,2", "1,1,1,1"), comma_list(numbers)),
         "--batch": (small_ints, numbers), "--seed": (pick("0", "7"), numbers),
         "--rankdir": (pick("LR", "TB", "RL", "BT"), name_like(["LR", "TB", "RL", "BT"])),
         "--max-nodes": (pick("1", "5", "200"), numbers),
         "--steps": (pick("b.html", "sub/b.html"), paths)}
VALUES = st.tuples(st.just("--value"), st.one_of(GRAPH["--value"][0], value_items)).map(list)


@settings(FUZZ, max_examples=60)
@given(args=command_lines(ABLATE, flags=("--force",)))
def test_fuzz_ablate_parsing(workspace, stand_ins, args):
    workspace()
    check(["ablate", *args])


@settings(FUZZ, max_examples=60)
@given(args=command_lines(LANDSCAPE, flags=("--force",)))
def test_fuzz_landscape_parsing(workspace, stand_ins, args):
    workspace()
    check(["landscape", *args])


@settings(FUZZ, max_examples=80)
@given(args=command_lines(GRAPH, flags=GRAPH_FLAGS, extra=VALUES))
def test_fuzz_graph_parsing(workspace, stand_ins, args):
    workspace()
    check(["graph", *args])


@settings(FUZZ, max_examples=40)
@given(args=command_lines({}, extra=st.one_of(name_like(OPTIMIZERS), pick("x.py:Foo", "os:path", "--nosuch"))))
def test_fuzz_optimizers(workspace, args):
    workspace()
    check(["optimizers", *args])


# ----- the real library, small sizes (the execution layer) ---------------------------------------

real_steps = st.one_of(bad_ints, over_limit)
FAST_FORMS = pick("lr-inside", "pytorch")        # part 2 (the EMA form) alone takes over a second


@settings(FUZZ, max_examples=6)
@given(args=command_lines({**ABLATE, "--form": (FAST_FORMS, pick("nosuch", "", "EMA", "lr_inside")),
                           "--k": (small_ints, real_steps), "--steps": (small_ints, real_steps)},
                          flags=("--force",)))
def test_fuzz_ablate_runs(workspace, args):
    workspace()
    for option, default in (("--form", "lr-inside"), ("--k", "2"), ("--steps", "2")):
        if option not in args:
            args = [option, default, *args]
    check(["ablate", *args])


@settings(FUZZ, max_examples=10)
@given(args=command_lines({**LANDSCAPE, "--steps": (small_ints, real_steps)}, flags=("--force",)))
def test_fuzz_landscape_runs(workspace, args):
    workspace()
    if "--steps" not in args:
        args = ["--steps", "3", *args]
    check(["landscape", *args])


@settings(FUZZ, max_examples=40)
@given(args=command_lines({**GRAPH, "--sizes": (GRAPH["--sizes"][0], comma_list(pick("1", "2", "0", "x", "1025"))),
                           "--batch": (small_ints, bad_ints)}, flags=GRAPH_FLAGS, extra=VALUES))
def test_fuzz_graph_runs(workspace, args):
    workspace()
    check(["graph", *args])


# ----- train and compare -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["train", "--hidden", "1000000000000", "--epochs", "1", "--samples", "20"],
                                  ["train", "--data", "x" * 300 + ".csv", "--epochs", "1"],
                                  ["train", "--task", "regression", "--epochs", "1"]],
                         ids=["hidden-1e12", "data-name-300", "task-without-data"])
def test_what_the_fuzz_once_found_is_one_line(workspace, args):
    workspace()
    check(args)


tiny = pick("1", "2")
small_sizes = st.one_of(pick("none", "4", "3,2", "16,16"), comma_list(pick("0", "-1", "x", "1.5", "", "1e3")))
RUN_OPTIONS = {"--dataset": (pick("moons", "xor", "sine", "blobs"), name_like(["moons", "circles", "spiral", "xor",
                                                                               "blobs", "sine", "digits"])),
               "--samples": (pick("20", "40"), bad_ints), "--noise": (pick("0", "0.1"), numbers),
               "--hidden": (pick("4", "none", "3,2"), small_sizes),
               "--activation": (pick("relu", "tanh", "sigmoid"), name_like(["relu", "tanh", "sigmoid"])),
               "--loss": (pick("cross-entropy", "mse"), name_like(["cross-entropy", "bce", "hinge", "mse"])),
               "--epochs": (tiny, bad_ints), "--batch-size": (pick("8", "32"), numbers),
               "--seed": (pick("0", "3"), st.one_of(bad_ints, numbers)),
               "--data": (pick("folder"), paths),
               "--task": (pick("auto", "classification"), name_like(["auto", "classification", "regression"]))}
TRAIN = {**RUN_OPTIONS, "--optimizer": (pick("sgd", "adam", "momentum"), st.one_of(name_like(OPTIMIZERS),
                                                                                   pick("x.py:Foo", "os:path"))),
         "--lr": (pick("0.01", "0.1"), numbers), "--schedule": (pick("constant", "cosine", "step:5"), texts),
         "--out": (pick("run1", "sub/run2"), paths)}
COMPARE = {**RUN_OPTIONS, "--optimizers": (pick("sgd", "sgd,adam"), optimizer_lists),
           "--lr": (pick("0.01", "0.1"), numbers), "--target-loss": (pick("0.1", "0.5"), numbers),
           "--out": (pick("cmp", "sub/cmp"), paths)}


def run_fuzz_example(args):
    """One train/compare example, at small sizes."""
    for option, default in (("--epochs", "1"), ("--samples", "20")):
        if option not in args:
            args = [*args, option, default]
    return check(args, allow_diverged=True)


@settings(FUZZ, max_examples=20)
@given(args=command_lines(TRAIN))
def test_fuzz_train(workspace, args):
    workspace()
    run_fuzz_example(["train", *args])


@settings(FUZZ, max_examples=10)
@given(args=command_lines(COMPARE))
def test_fuzz_compare(workspace, args):
    workspace()
    run_fuzz_example(["compare", *args])
