"""Find an optimizer class by its command-line name, by "package.module:Class", or by entry point.

    optim.get("momentum")              # a built-in, by its cli_name
    optim.get("mypkg.opt:SignSGD")     # any importable class (the current directory is searched)
    optim.get("my_optimizers.py:Lion") # a class in a Python file
    optim.get("lion")                  # a class another package exposes in the entry-point
                                       # group "tinygrad_edu.optimizers"

Register your own class with ``@optim.register`` to give it a short name.

Only the first form loads no code. The others run Python code (a file, a module, an installed
package), so they are loaded only when the user names them: a run folder's config.json is
data, and `edu train --resume DIR` resolves a saved name with ``registered`` alone, never with
``get`` (see tinygrad_edu.experiments.resume).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path

from .base import Optimizer, closest

ENTRY_POINT_GROUP = "tinygrad_edu.optimizers"

_registry: dict[str, type] = {}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def register(cls=None, *, name: str | None = None):
    """Register an Optimizer subclass under `name` (default: its ``cli_name``). Usable as a decorator."""
    def add(c):
        if not (isinstance(c, type) and issubclass(c, Optimizer)):
            raise TypeError(f"register: {c!r} is not a subclass of tinygrad_edu.optim.Optimizer")
        key = _normalise(name or c.cli_name or c.__name__)
        old = _registry.get(key)
        if old is not None and (old.__module__, old.__qualname__) != (c.__module__, c.__qualname__):
            raise ValueError(f"register: the name {key!r} is already taken by {old.__module__}.{old.__qualname__}; "
                             f"pass register(cls, name='another-name')")
        if not c.cli_name:
            c.cli_name = key
        _registry[key] = c
        return c
    return add if cls is None else add(cls)


def _entry_points() -> dict:
    return {_normalise(ep.name): ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Command-line names: built-ins and registered classes first, then entry points."""
    result = list(_registry)
    result += [n for n in _entry_points() if n not in _registry]
    return result


def registered(name: str):
    """The built-in or registered class called `name`, or None; never imports or runs anything."""
    if not isinstance(name, str) or ":" in name:
        return None
    key = _normalise(name)
    if key in _registry:
        return _registry[key]
    by_class = {c.__name__.lower(): c for c in _registry.values()}
    return by_class.get(key.replace("-", ""))


def code_file(name_or_path: str):
    """The Python file an optimizer outside the registry comes from, found without running it (or None).

    'file.py:Class' → that file; 'package.module:Class' → the module's file (its parent
    packages are imported, as for any import); an entry-point name → its module's file.
    """
    text = str(name_or_path).strip()
    if ":" not in text:
        entry_points = _entry_points()
        if _normalise(text) not in entry_points:
            return None
        text = entry_points[_normalise(text)].value
    module_name = text.rpartition(":")[0].strip()
    if module_name.endswith(".py"):
        return Path(module_name).resolve() if Path(module_name).is_file() else None
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:      # a bad name, or a parent package that fails to import: `get` reports it
        return None
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)
    origin = getattr(spec, "origin", None)
    return Path(origin).resolve() if origin and Path(origin).is_file() else None


def get(name_or_path: str) -> type:
    """The Optimizer class for a CLI name, a "package.module:Class" path, or an entry-point name."""
    if isinstance(name_or_path, type) and issubclass(name_or_path, Optimizer):
        return name_or_path
    text = str(name_or_path).strip()
    if ":" in text:
        return _import(text)
    key = _normalise(text)
    if key in _registry:
        return _registry[key]
    by_class = {c.__name__.lower(): c for c in _registry.values()}
    if key.replace("-", "") in by_class:
        return by_class[key.replace("-", "")]
    entry_points = _entry_points()
    if key in entry_points:
        try:
            cls = entry_points[key].load()
        except Exception as exc:
            raise ValueError(f"optimizer {text!r}: loading entry point {entry_points[key].value!r} failed: "
                             f"{type(exc).__name__}: {exc}") from None
        return _check_class(cls, f"entry point {text!r} ({entry_points[key].value})")
    known = names()
    raise ValueError(f"unknown optimizer {text!r}{closest(key, known)}; choose one of {', '.join(known)}, "
                     f"or pass 'package.module:Class'")


def create(name_or_path: str, params, **hyperparameters) -> Optimizer:
    """Shortcut: ``get(name)(params, **hyperparameters)``."""
    return get(name_or_path)(params, **hyperparameters)


_file_modules: dict = {}   # resolved path of a 'file.py:Class' file → the module it made


def _import(path: str) -> type:
    module_name, _, attr = path.rpartition(":")
    if not module_name or not attr:
        raise ValueError(f"optimizer {path!r}: expected 'package.module:Class' or 'file.py:Class'")
    if module_name.endswith(".py"):
        file = Path(module_name)
        if not file.is_file():
            raise ValueError(f"optimizer {path!r}: no such file {module_name}")
        module = _file_modules.get(file.resolve())
        if module is None:  # run each file once per process, as `import` does for modules
            spec = importlib.util.spec_from_file_location(file.stem, file)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                raise ValueError(f"optimizer {path!r}: running {module_name} failed: {type(exc).__name__}: {exc}") from None
            _file_modules[file.resolve()] = module
    else:
        # Like `python -m`, look in the current directory too (a console script does not).
        cwd = os.getcwd()
        added = cwd not in sys.path
        if added:
            sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise ValueError(f"optimizer {path!r}: cannot import module {module_name!r} ({exc}); "
                             f"check the spelling and that it is on PYTHONPATH or in the current directory") from None
        except Exception as exc:
            raise ValueError(f"optimizer {path!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
        finally:
            if added and cwd in sys.path:
                sys.path.remove(cwd)
    if not hasattr(module, attr):
        public = [n for n in vars(module) if not n.startswith("_")]
        raise ValueError(f"optimizer {path!r}: module {module_name!r} has no attribute {attr!r}{closest(attr, public)}")
    return _check_class(getattr(module, attr), repr(path))


def _check_class(obj, what: str) -> type:
    if not (isinstance(obj, type) and issubclass(obj, Optimizer)):
        kind = type(obj).__name__ if not isinstance(obj, type) else f"class {obj.__name__}"
        raise ValueError(f"optimizer {what} is a {kind}, not a subclass of tinygrad_edu.optim.Optimizer")
    return obj
