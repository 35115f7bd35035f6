"""The student's workbook, loaded so that each exercise is checked on its own.

    wb = Workbook("exercises")              # the folder with ex01_derivatives.py, ex02_ops.py, ...
    with wb.checking("2.8"):                # every other exercise is replaced by its reference
        tanh_backward = wb.student()        # the student's own tanh_backward

The adapter is one rule: while exercise X is checked, every *other* exercise's name in every
workbook module is bound to its reference (the engine's answer with the same interface). So
``mul_backward`` calling ``unbroadcast`` gets the reference ``unbroadcast``, an MLP's forward
gets the reference ``Linear``: one broken or missing exercise never changes another's result.

A stub raises ``NotImplementedError("exercise 2.8: ...")``; the checks report that as "not
attempted" (see ``not_attempted``). A workbook file that does not import makes its exercises
"does not import", with the line to fix, and leaves the other files' exercises alone.
"""
from __future__ import annotations

import ast
import contextlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType

from .manifest import Exercise, load

STUB_PREFIX = "exercise "


class WorkbookImportError(Exception):
    """A workbook file raised while being imported; the message names the file and the line."""


class DependsOnStub(Exception):
    """A check reached another exercise's stub: the adapter failed to isolate them (a bug in the checks)."""


def stub_message(exercise: Exercise) -> str:
    """What a stub raises: 'exercise 2.8: tanh's backward' (the student edition writes it)."""
    return f"{STUB_PREFIX}{exercise.id}: {exercise.title}"


def not_attempted(exc: BaseException, exercise_id: str) -> bool:
    """Whether `exc` is this exercise's stub being reached."""
    return isinstance(exc, NotImplementedError) and str(exc).startswith(f"{STUB_PREFIX}{exercise_id}:")


def stub_of(exc: BaseException) -> str | None:
    """The exercise id of a stub's NotImplementedError, or None."""
    text = str(exc) if isinstance(exc, NotImplementedError) else ""
    if text.startswith(STUB_PREFIX) and ":" in text:
        return text[len(STUB_PREFIX):text.index(":")]
    return None


def where_in_workbook(exc: BaseException, folder: Path | None) -> str:
    """' (ex02_ops.py line 12)': the last line of the workbook folder that the error passed through, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if folder is not None and Path(f.filename).parent == folder]
    return f" ({Path(frames[-1].filename).name} line {frames[-1].lineno})" if frames else ""


def _import_error_line(exc: BaseException, path: Path) -> str:
    """'ex02_ops.py line 12: SyntaxError: invalid syntax' for the failing line in the file itself."""
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) and exc.filename == str(path) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
        line = frames[-1].lineno if frames else None
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{path.name}{f' line {line}' if line else ''}: {type(exc).__name__}: {first}".rstrip(": ")


def _is_stub_body(body: list, exercise_id: str) -> bool:
    """[docstring,] raise NotImplementedError("exercise ID: ...") and nothing else."""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or not isinstance(body[0].exc, ast.Call):
        return False
    call = body[0].exc
    return (isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
            and call.args[0].value.startswith(f"{STUB_PREFIX}{exercise_id}:"))


def _globals_of(obj) -> dict | None:
    """The global namespace a function, or a class's methods, look names up in."""
    if inspect.isfunction(obj):
        return obj.__globals__
    if inspect.isclass(obj):
        for value in vars(obj).values():
            if inspect.isfunction(value):
                return value.__globals__
    return None


class Workbook:
    """A workbook folder, its modules imported on first use (each Workbook imports them afresh).

    `overrides` maps an exercise id to an object that replaces the student's (the tests put mutants
    and stubs in this way, without writing files).
    """

    def __init__(self, folder, exercises: list[Exercise] | None = None, overrides: dict | None = None):
        self.folder = Path(folder).resolve()
        self.exercises = {e.id: e for e in (exercises if exercises is not None else load())}
        self.overrides = dict(overrides or {})
        self._modules: dict[str, ModuleType] = {}
        self._errors: dict[str, str] = {}
        self._current: Exercise | None = None

    # ----- importing ---------------------------------------------------------------
    def module(self, file: str) -> ModuleType:
        """The workbook file as a module (imported once); WorkbookImportError if it does not import."""
        if file in self._errors:
            raise WorkbookImportError(self._errors[file])
        if file not in self._modules:
            path = self.folder / file
            if not path.is_file():
                self._errors[file] = f"{file} is missing from {self.folder}; restore it from the student edition"
                raise WorkbookImportError(self._errors[file])
            name = f"_workbook_{abs(hash(str(self.folder)))}_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module          # dataclasses and pickling-free introspection need it
            try:
                spec.loader.exec_module(module)
            except BaseException as exc:        # noqa: BLE001  (a student's file may raise anything, even SystemExit)
                del sys.modules[name]
                self._errors[file] = _import_error_line(exc, path)
                raise WorkbookImportError(self._errors[file]) from None
            self._modules[file] = module
        return self._modules[file]

    # ----- checking one exercise ------------------------------------------------------
    @contextlib.contextmanager
    def checking(self, exercise_id: str):
        """Within this block, `student()` is exercise `exercise_id` and every other exercise is its reference."""
        exercise = self.exercises[exercise_id]
        own = self.module(exercise.file)
        # The names to bind: in every workbook module, and in the module an override (a mutant) was written in.
        namespaces = [vars(m) for m in self._modules.values()]
        override_globals = _globals_of(self.overrides.get(exercise_id))
        if override_globals is not None and all(ns is not override_globals for ns in namespaces):
            namespaces.append(override_globals)
        saved = []
        for other in self.exercises.values():
            for ns in namespaces:
                if other.name not in ns:
                    continue
                if other.id == exercise_id:
                    if ns is not vars(own):
                        continue
                    replacement = self.overrides.get(other.id, ns[other.name])
                else:
                    replacement = other.load_reference()
                saved.append((ns, other.name, ns[other.name]))
                ns[other.name] = replacement
        previous, self._current = self._current, exercise
        try:
            yield self
        finally:
            self._current = previous
            for ns, name, value in reversed(saved):
                ns[name] = value

    def is_stub(self, exercise_id: str) -> bool:
        """Whether the exercise is still its stub (a function, or a method of its class, whose whole body is the
        stub's raise), read from the source without running it: checking a stub then costs nothing, where
        hypothesis would spend seconds trying to shrink its NotImplementedError."""
        if exercise_id in self.overrides:
            return False
        exercise = self.exercises[exercise_id]
        self.module(exercise.file)                      # a file that does not import says so first
        try:
            tree = ast.parse((self.folder / exercise.file).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return False
        definitions = [node for node in tree.body if getattr(node, "name", None) == exercise.name]
        if not definitions:
            return False
        node = definitions[-1]
        functions = [node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
            [n for n in getattr(node, "body", []) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return any(_is_stub_body(fn.body, exercise.id) for fn in functions)

    @property
    def exercise(self) -> Exercise:
        if self._current is None:
            raise RuntimeError("Workbook.student() is only available inside `with workbook.checking(id):`")
        return self._current

    def student(self):
        """The student's object for the exercise being checked (a function or a class)."""
        exercise = self.exercise
        if exercise.id in self.overrides:
            return self.overrides[exercise.id]
        module = self.module(exercise.file)
        try:
            return getattr(module, exercise.name)
        except AttributeError:
            raise WorkbookImportError(f"{exercise.file} has no {exercise.name}; restore its stub from the "
                                      f"student edition") from None

    def reference(self, exercise_id: str | None = None):
        """The reference of an exercise (default: the one being checked)."""
        exercise = self.exercises[exercise_id] if exercise_id else self.exercise
        return exercise.load_reference()
