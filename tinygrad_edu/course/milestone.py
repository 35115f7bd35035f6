"""The milestone: train moons with the student's own engine, layers and optimizer, to ≥ 97% test accuracy.

    result = run("exercises")              # checks the parts it needs first, then trains
    print(result.message)                  # one line: passed, not passed, or what to finish first
    result.passed                          # test accuracy >= PASS_ACCURACY

The network is the one `edu train` trains by default (moons, an MLP 2-16-16-2 with ReLU,
momentum, 30 epochs of minibatches of 32), built from the student's parts:

  - every op the network uses runs the student's backward (``add_backward``, ``matmul_backward``,
    ``relu_backward``, ``cross_entropy_backward``, ... with their ``unbroadcast``); the forward
    values are the engine's, so only the gradients can be the student's;
  - ``loss.backward()`` is the student's ``backward``, which walks their ``topological_order``;
  - ``optimizer.zero_grad()`` is the student's ``zero_grad`` on the last graph;
  - the model is their ``MLP`` of their ``Linear`` layers, and the optimizer their ``Momentum``.

``student_engine(workbook)`` does the patching: a context manager that swaps the student's
parts into the engine in this process only, and puts everything back on the way out, also when
the training raises. ``edu train --use-exercises`` trains any ``edu train`` configuration inside it.

Before training, every exercise the run needs must pass its checks (``checking.run_exercise``);
otherwise the milestone says which ones to finish first and trains nothing. ``edu check
--milestone`` has just run the checks, so it passes what it found as ``statuses``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from .. import experiments as ex
from .. import nn, ops, optim
from ..tensor import Tensor, no_grad
from ..train import History, TrainingDiverged
from .checking import CheckTimeout, run_exercise, time_limit
from .manifest import Exercise, load
from .workbook import Workbook, WorkbookImportError, stub_of, where_in_workbook

PASS_ACCURACY = 0.97     # the milestone's bar: test accuracy on moons
TRAIN_TIMEOUT = 120.0    # seconds the milestone's training may take: far more than correct parts need

# The engine's ops with a backward exercise: op name -> (the workbook function, the helpers it calls).
OP_EXERCISES = {
    "add": ("add_backward", ("unbroadcast",)), "mul": ("mul_backward", ("unbroadcast",)),
    "div": ("div_backward", ("unbroadcast",)), "pow": ("pow_backward", ("unbroadcast",)),
    "exp": ("exp_backward", ()), "log": ("log_backward", ()), "tanh": ("tanh_backward", ()),
    "relu": ("relu_backward", ()), "sum": ("sum_backward", ()), "mean": ("mean_backward", ()),
    "max": ("max_backward", ()), "matmul": ("matmul_backward", ()),
    "cross_entropy": ("cross_entropy_backward", ()),
}
ENGINE_PARTS = ("topological_order", "backward", "zero_grad")
LAYER_PARTS = ("Linear", "MLP")
MLP_ACTIVATIONS = ("relu", "tanh")       # the workbook's MLP takes these two
_MISSING = object()


class MilestoneError(Exception):
    """The workbook or the manifest lacks a part the run needs (the message names it)."""


class NotReady(Exception):
    """The run needs exercises that do not pass yet; `blocked` lists (exercise, status), the message names them."""

    def __init__(self, blocked: list):
        self.blocked = blocked
        super().__init__(finish_first(blocked))


class StudentCodeError(Exception):
    """The student's code raised during training (a case their checks did not reach); the message says where."""


def finish_first(blocked: list) -> str:
    """'finish these exercises first: 2.16 the backward loop (not attempted), 6.1 ... (failed)'."""
    words = {"not_attempted": "not attempted", "import_error": "does not import", "timeout": "timed out",
             "missing": "not in this workbook", "unchecked": "no checks found"}
    items = ", ".join(f"{e.id} {e.title} ({words.get(status, status)})" for e, status in blocked)
    return f"finish {'this exercise' if len(blocked) == 1 else 'these exercises'} first: {items}"


# ----- the student's ops ---------------------------------------------------------------------------

def _numpy_quiet():
    """inf and nan at an op's edge points are results, as in the engine's own ops: no NumPy warnings."""
    return np.errstate(all="ignore")


def _grads(values) -> tuple:
    return tuple(None if v is None else np.asarray(v) for v in values)


def _binary_op(name: str, engine_op, backward, with_out: bool = False):
    """(a, b) ↦ the engine's forward, whose backward is the student's ``backward(g, a, b[, out]) -> (ga, gb)``."""
    def op(a, b):
        a, b = ops._operands(a, b)
        with no_grad():
            out = engine_op(a, b)._data        # the engine's forward: its values and its shape errors

        def local_backward(g):
            with _numpy_quiet():
                return _grads(backward(g, a._data, b._data, out) if with_out else backward(g, a._data, b._data))
        return Tensor.from_op(out, (a, b), name, local_backward)
    op.__name__ = op.__qualname__ = name
    return op


def _unary_op(name: str, engine_op, backward):
    """a ↦ the engine's forward, whose backward is the student's ``backward(g, a, out) -> ga``."""
    def op(a):
        with no_grad():
            out = engine_op(a)._data

        def local_backward(g):
            with _numpy_quiet():
                return _grads((backward(g, a._data, out),))
        return Tensor.from_op(out, (a,), name, local_backward)
    op.__name__ = op.__qualname__ = name
    return op


def _reduction_op(name: str, engine_op, backward, with_out: bool = False):
    """a.sum/mean/max(axis, keepdims) by the engine; its backward is the student's
    ``backward(g, a[, out], axis, keepdims)``."""
    def op(a, axis=None, keepdims=False):
        with no_grad():
            out = engine_op(a, axis, keepdims)._data

        def local_backward(g):
            with _numpy_quiet():
                return _grads((backward(g, a._data, out, axis, keepdims) if with_out else
                               backward(g, a._data, axis, keepdims),))
        return Tensor.from_op(out, (a,), name, local_backward)
    op.__name__ = op.__qualname__ = name
    return op


def _cross_entropy_op(backward):
    """nn.cross_entropy's forward (and its checks of the labels), the student's ``backward(g, logits, targets)``."""
    def cross_entropy(logits, labels):
        logits = logits if isinstance(logits, Tensor) else Tensor(logits)
        with no_grad():
            out = nn.cross_entropy(logits, labels)._data
        targets = np.asarray(labels._data if isinstance(labels, Tensor) else labels).reshape(-1).astype(np.intp)

        def local_backward(g):
            with _numpy_quiet():
                return _grads((backward(g, logits._data, targets),))
        return Tensor.from_op(out, (logits,), "cross_entropy", local_backward)
    return cross_entropy


def _reversed(op):
    return lambda self, other: op(other, self)


# Where each op lives on Tensor, and how the student's backward is wrapped into an op.
_TENSOR_OPS = {
    "add": (("__add__", "__radd__"), lambda bw: _binary_op("add", ops.add, bw)),
    "mul": (("__mul__", "__rmul__"), lambda bw: _binary_op("mul", ops.mul, bw)),
    "div": (("__truediv__", "__rtruediv__"), lambda bw: _binary_op("div", ops.div, bw)),
    "pow": (("__pow__", "__rpow__"), lambda bw: _binary_op("pow", ops.pow, bw, with_out=True)),
    "matmul": (("__matmul__", "__rmatmul__"), lambda bw: _binary_op("matmul", ops.matmul, bw)),
    "exp": (("exp",), lambda bw: _unary_op("exp", ops.exp, bw)),
    "log": (("log",), lambda bw: _unary_op("log", ops.log, bw)),
    "tanh": (("tanh",), lambda bw: _unary_op("tanh", ops.tanh, bw)),
    "relu": (("relu",), lambda bw: _unary_op("relu", ops.relu, bw)),
    "sum": (("sum",), lambda bw: _reduction_op("sum", ops.sum, bw)),
    "mean": (("mean",), lambda bw: _reduction_op("mean", ops.mean, bw)),
    "max": (("max",), lambda bw: _reduction_op("max", ops.max, bw, with_out=True)),
}


# ----- the student's parts, swapped into the engine ---------------------------------------------------

def _by_name(exercises) -> dict:
    """Exercise name -> Exercise (the first one of that name, in manifest order)."""
    found = {}
    for e in exercises:
        found.setdefault(e.name, e)
    return found


@dataclass
class Parts:
    """The student's parts inside `student_engine`, and what they replaced (for the summary)."""
    workbook: Workbook
    objects: dict = field(default_factory=dict)        # name -> the student's object
    ops: list = field(default_factory=list)            # the engine ops whose backward is the student's
    last_root: Optional[Tensor] = None                 # the graph the next zero_grad clears
    own_optimizer: bool = False                        # adopt() found the student's optimizer class
    own_loss: bool = False                             # adopt() gave the loss the student's backward

    def has(self, name: str) -> bool:
        return name in self.objects

    def get(self, name: str):
        if name not in self.objects:
            raise MilestoneError(f"the workbook in {self.workbook.folder} has no {name}")
        return self.objects[name]

    def backward(self, root: Tensor, gradient=None) -> None:
        """Tensor.backward inside student_engine: the student's backward loop on a scalar loss."""
        if gradient is not None:
            raise TypeError("backward(gradient=...): your backward seeds ∂root/∂root = 1 itself; call it on a "
                            "scalar loss, without a gradient")
        self.last_root = root
        self.get("backward")(root)

    def zero_grad(self, optimizer) -> None:
        """Optimizer.zero_grad inside student_engine: the student's zero_grad on the graph of the last backward."""
        root, self.last_root = self.last_root, None
        if root is not None:
            self.get("zero_grad")(root)

    def loss_fn(self, loss):
        """The training Loss with the student's cross-entropy backward, when it is that loss."""
        self.own_loss = loss.fn is nn.cross_entropy and self.has("cross_entropy_backward")
        if self.own_loss:
            return dataclasses.replace(loss, fn=_cross_entropy_op(self.get("cross_entropy_backward")))
        return loss

    def optimizer_class(self, engine_cls):
        """The student's class for the engine's optimizer class (same cli_name), or None."""
        for e in self.workbook.exercises.values():
            if e.name in self.objects and e.reference.endswith(":" + engine_cls.__name__):
                try:
                    reference = e.load_reference()
                except (ImportError, AttributeError):
                    continue
                if reference is engine_cls:
                    return self.objects[e.name]
        return None

    def adopt(self, run: ex.Run) -> ex.Run:
        """`run` (made by experiments.build) with the student's MLP, optimizer and loss; same data and settings.

        The student's MLP(sizes, activation, seed) draws its weights as nn.MLP does for ReLU (He); the
        optimizer gets the run's hyperparameters. A ConfigError names what the student's parts cannot do.
        """
        c = run.config
        sizes = list(run.model.sizes)
        check_settings(run)
        model = self.get("MLP")(sizes, activation=c.activation, seed=c.seed)
        engine_cls = type(run.optimizer)
        cls = self.optimizer_class(engine_cls)
        self.own_optimizer = cls is not None
        hyper = {h.name: getattr(run.optimizer, h.name) for h in engine_cls.hyper}
        optimizer = (cls or engine_cls)(model.parameters(), **hyper)
        schedule = optim.schedules.parse(c.schedule, optimizer, run.total_steps) if c.schedule else None
        return dataclasses.replace(run, model=model, optimizer=optimizer, schedule=schedule,
                                   loss=self.loss_fn(run.loss))

    def describe(self, run: ex.Run) -> str:
        """Which parts of an adopted run are the student's, in one line (the ops: those its graph uses)."""
        optimizer = type(run.optimizer).__name__
        mine = ["MLP and Linear", optimizer if self.own_optimizer else f"the engine's {optimizer}",
                "topological_order, backward, zero_grad"]
        used = ops_used(run.model, run.loss, run.data)
        own = sorted(used & (set(self.ops) | ({"cross_entropy"} if self.own_loss else set())))
        engine = sorted(used - set(own))
        line = f"your parts: {', '.join(mine)}; the backward of {', '.join(own) or 'no op'}"
        return line + (f"; the engine's backward of {', '.join(engine)}" if engine else "")


def _patch(stack: contextlib.ExitStack, owner, name: str, value) -> None:
    """Set owner.name = value until the stack closes, then put back exactly what was there."""
    saved = owner.__dict__.get(name, _MISSING)

    def restore():
        if saved is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, saved)
    setattr(owner, name, value)
    stack.callback(restore)


def student_objects(workbook: Workbook, names, required=()) -> dict:
    """name -> the student's object, for each name the workbook defines.

    A file that does not import raises WorkbookImportError for a `required` name and is skipped
    otherwise: an unfinished file the run does not need must not stop it (check_ready names the
    ones it needs).
    """
    by_name = _by_name(workbook.exercises.values())
    found = {}
    for name in names:
        exercise = by_name.get(name)
        if exercise is None:
            continue
        try:
            module = workbook.module(exercise.file)
        except WorkbookImportError:
            if name in required:
                raise
            continue
        value = getattr(module, exercise.name, _MISSING)
        if value is not _MISSING:
            found[name] = value
    return found


@contextlib.contextmanager
def student_engine(workbook) -> Iterator[Parts]:
    """Inside the block the engine runs on the student's parts (in this process only); restored after, always.

    Patched: Tensor's ops that have a backward exercise (+ * / ** @ exp log tanh relu sum mean max),
    each with the engine's forward and the student's backward; Tensor.backward (the student's
    backward loop); Optimizer.zero_grad (the student's zero_grad on the last graph). The workbook's
    own globals are left as they are: the student's functions call each other (backward calls
    their topological_order, add_backward their unbroadcast).
    """
    workbook = workbook if isinstance(workbook, Workbook) else Workbook(workbook)
    names = [*ENGINE_PARTS, *LAYER_PARTS, *(fn for fn, _ in OP_EXERCISES.values()), "unbroadcast"]
    names += [e.name for e in workbook.exercises.values()]          # the optimizers, looked up later
    parts = Parts(workbook, student_objects(workbook, names, required=ENGINE_PARTS + LAYER_PARTS))
    missing = [name for name in ENGINE_PARTS + LAYER_PARTS if not parts.has(name)]
    if missing:
        raise MilestoneError(f"the workbook in {workbook.folder} has no {', '.join(missing)}; restore "
                             f"{'it' if len(missing) == 1 else 'them'} from the student edition")
    with contextlib.ExitStack() as stack:
        for op_name, (attrs, make) in _TENSOR_OPS.items():
            backward_name = OP_EXERCISES[op_name][0]
            if parts.has(backward_name):
                op = make(parts.get(backward_name))
                _patch(stack, Tensor, attrs[0], op)
                if len(attrs) > 1:
                    _patch(stack, Tensor, attrs[1], _reversed(op))
                parts.ops.append(op_name)
        _patch(stack, Tensor, "backward", lambda root, gradient=None: parts.backward(root, gradient))
        _patch(stack, optim.Optimizer, "zero_grad", lambda optimizer: parts.zero_grad(optimizer))
        yield parts


# ----- which exercises a run needs, and whether they pass ---------------------------------------------

def ops_used(model, loss, data) -> set:
    """The op names in the graph of one loss of `model` on a few training examples (the engine's ops)."""
    X, y = data.X_train[:4], loss.targets(data.y_train[:4])
    value = loss.fn(model(Tensor(X)), y)
    return {t.op for t in value.topological_order() if t.op}


def needed_exercises(workbook: Workbook, run: ex.Run, probe: bool = True) -> list:
    """The exercises training `run` with the student's parts needs, in manifest order.

    The engine's three parts, the layers, the optimizer's exercise (when the workbook has one for
    the run's optimizer), and the backward of every op in the graph of the network. With `probe`,
    the graph is the student's network run once on the engine's ops (call it only once the layers
    pass their checks: their forward then ends); else, or when it does not run, the ops of a
    network as the workbook describes it: matmul and add per layer, the activation, the loss.
    """
    by_name = _by_name(workbook.exercises.values())
    config = run.config
    names = [*ENGINE_PARTS, *LAYER_PARTS]
    engine_cls = type(run.optimizer)
    names += [e.name for e in workbook.exercises.values() if e.reference.endswith(":" + engine_cls.__name__)
              and _loads_to(e, engine_cls)]
    ops_in_graph = ops_used(run.model, run.loss, run.data) - {"linear"} | {"matmul", "add"}   # linear: x @ W + b
    if probe:
        try:
            mlp = workbook.module(by_name["MLP"].file).MLP
            ops_in_graph = ops_used(mlp(list(run.model.sizes), activation=config.activation, seed=config.seed),
                                    run.loss, run.data)
        except Exception:  # noqa: BLE001  (a student's code may raise anything; the checks say what)
            pass
    for op in sorted(ops_in_graph & set(OP_EXERCISES)):
        backward_name, helpers = OP_EXERCISES[op]
        names += [backward_name, *helpers]
    missing = [name for name in names if name not in by_name]
    if missing:
        raise MilestoneError(f"the manifest has no exercise for {', '.join(dict.fromkeys(missing))}")
    wanted = {by_name[name].id for name in names}
    return [e for e in workbook.exercises.values() if e.id in wanted]


def _loads_to(exercise: Exercise, cls) -> bool:
    try:
        return exercise.load_reference() is cls
    except (ImportError, AttributeError):
        return False


def exercise_status(results: list) -> str:
    """One exercise's status from its checks' Results: passed only when every check passed."""
    statuses = {r.status for r in results}
    if not results:
        return "unchecked"
    if statuses == {"passed"}:
        return "passed"
    for status in ("import_error", "timeout"):
        if status in statuses:
            return status
    return "not_attempted" if statuses <= {"passed", "not_attempted"} else "failed"


def blocked_exercises(workbook: Workbook, needed: list, statuses: Optional[dict] = None,
                      timeout: Optional[float] = 20.0) -> list:
    """[(exercise, status)] of the needed exercises that do not pass (statuses already known are not rerun)."""
    blocked = []
    for e in needed:
        status = (statuses or {}).get(e.id)
        if status is None:
            status = exercise_status(run_exercise(workbook, e.id, timeout=timeout))
        if status != "passed":
            blocked.append((e, status))
    return blocked


# ----- training ----------------------------------------------------------------------------------------

@dataclass
class StudentRun:
    """A run trained with the student's parts."""
    run: ex.Run
    history: History
    parts: str            # which parts were the student's (one line)
    seconds: float


def check_settings(run: ex.Run) -> None:
    """ConfigError (naming the option) for settings the student's parts cannot train: the MLP's activation."""
    if run.config.activation not in MLP_ACTIVATIONS:
        raise ex.ConfigError(f"--activation {run.config.activation}: your MLP takes {' or '.join(MLP_ACTIVATIONS)}; "
                             f"choose one of them with --use-exercises", "--activation")


def check_ready(workbook: Workbook, run: ex.Run, statuses: Optional[dict] = None) -> None:
    """NotReady unless every exercise training `run` needs passes its checks (`statuses` already known are kept).

    ConfigError first if the student's parts cannot train these settings at all (check_settings).
    The layers are checked before their forward runs to find the ops of the graph (needed_exercises).
    """
    check_settings(run)
    first = needed_exercises(workbook, run, probe=False)
    blocked = blocked_exercises(workbook, first, statuses)
    done = {e.id for e in first}
    if not {e.id for e in first if e.name in LAYER_PARTS} & {e.id for e, _ in blocked}:
        blocked += blocked_exercises(workbook, [e for e in needed_exercises(workbook, run) if e.id not in done],
                                     statuses)
    if blocked:
        order = [e.id for e in workbook.exercises.values()]
        raise NotReady(sorted(blocked, key=lambda item: order.index(item[0].id)))


def train_run(workbook, run: ex.Run, on_step: Optional[Callable] = None, statuses: Optional[dict] = None,
              check: bool = True) -> StudentRun:
    """Train `run` (from experiments.build) with the student's parts; NotReady if a needed exercise does not pass.

    check=False trains without checking first (the caller has: check_ready). TrainingDiverged passes
    through (its history holds the metrics so far); the student's code raising during training is a
    StudentCodeError that names the workbook line.
    """
    workbook = workbook if isinstance(workbook, Workbook) else Workbook(workbook)
    if check:
        check_ready(workbook, run, statuses)
    started = time.perf_counter()
    with student_engine(workbook) as parts:
        student_run = parts.adopt(run)
        try:
            history = ex.fit_run(student_run, on_step=on_step)
        except (TrainingDiverged, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001  (the student's code, on a case the checks did not reach)
            stub = stub_of(exc)
            if stub is not None:
                raise StudentCodeError(f"training reached the stub of exercise {stub}: finish it first") from exc
            first = str(exc).splitlines()[0] if str(exc) else ""
            where = where_in_workbook(exc, workbook.folder)
            raise StudentCodeError(f"training stopped: your code raised {type(exc).__name__}"
                                   f"{': ' + first if first else ''}{where}") from exc
        description = parts.describe(student_run)
    return StudentRun(student_run, history, description, time.perf_counter() - started)


@dataclass
class MilestoneResult:
    """What the milestone found: passed (test accuracy >= PASS_ACCURACY), and one line that says so."""
    passed: bool
    message: str
    test_accuracy: Optional[float] = None
    blocked: list = field(default_factory=list)     # [(Exercise, status)] to finish first
    history: Optional[History] = None
    seconds: Optional[float] = None


def run(workbook_folder, *, seed: int = 0, statuses: Optional[dict] = None, exercises: Optional[list] = None,
        timeout: Optional[float] = TRAIN_TIMEOUT) -> MilestoneResult:
    """Check the parts the milestone needs, then train moons (edu train's default run) with them.

    statuses: exercise id -> status ("passed", "failed", "not_attempted", ...) already known, e.g. from
    the checks `edu check` has just run; the others are checked here. exercises: the manifest (default:
    the installed one). timeout: seconds the training may take (POSIX main thread; None: no limit).
    Same seed, same accuracy, bit for bit.
    """
    workbook = Workbook(workbook_folder, exercises if exercises is not None else load())
    run = ex.build(ex.RunConfig(seed=seed))
    try:
        check_ready(workbook, run, statuses)
        with time_limit(timeout):
            outcome = train_run(workbook, run, check=False)
    except CheckTimeout:
        return MilestoneResult(False, f"Milestone not passed: the training was still running after {timeout:g} s; "
                                      f"is one of your parts very slow (a Python loop over the elements)?")
    except NotReady as exc:
        return MilestoneResult(False, f"Milestone not started: {exc}", blocked=exc.blocked)
    except (WorkbookImportError, MilestoneError) as exc:
        return MilestoneResult(False, f"Milestone not started: {exc}")
    except StudentCodeError as exc:
        return MilestoneResult(False, f"Milestone not passed: {exc}")
    except TrainingDiverged as exc:
        return MilestoneResult(False, f"Milestone not passed: {exc}", history=exc.history)
    accuracy = outcome.history.test_accuracy[-1]
    passed = accuracy >= PASS_ACCURACY
    percent = f"{100 * accuracy:.1f}% test accuracy"
    if passed:
        message = (f"Milestone passed: your engine, layers and optimizer trained moons to {percent} "
                   f"(≥ {100 * PASS_ACCURACY:.0f}% needed).")
    else:
        message = (f"Milestone not passed: moons reached {percent}, below the {100 * PASS_ACCURACY:.0f}% needed; "
                   f"every part passes its checks, so look at how they work together (edu train --use-exercises).")
    return MilestoneResult(passed, message, accuracy, history=outcome.history, seconds=outcome.seconds)
