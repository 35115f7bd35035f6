"""Checkpoints: everything needed to stop training and carry on later, in one .npz file.

A checkpoint holds flat name → array dictionaries, each under its own prefix:

    model/<name>       the model's parameters        (model.state_dict())
    optimizer/<name>   the optimizer's state         (velocities, step count, lr, ...)
    schedule/<name>    the learning-rate schedule's state
    extra/<name>       anything else the caller needs (e.g. the training history so far)
    meta               a JSON text: where training stopped, the run's settings, ...

It is written atomically (a crash leaves the old file or the new one, never half of one), with
its entries in a fixed order ("format", "meta", then the rest sorted by name), and read with
allow_pickle=False: a checkpoint can hold numbers and text, never code.

>>> save_checkpoint("model.npz", model, optimizer, meta={"epoch": 3})
>>> ckpt = load_checkpoint("model.npz")
>>> ckpt.restore(model, optimizer)          # same weights and optimizer state as when saved
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from .io import atomic_save_npz, load_npz, regular_file

FORMAT = "tinygrad_edu checkpoint v1"
SECTIONS = ("model", "optimizer", "schedule", "extra")

__all__ = ["save_checkpoint", "load_checkpoint", "Checkpoint", "CheckpointError", "FORMAT"]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit what it is loaded into (one-line message)."""


def _state(obj) -> dict:
    if obj is None:
        return {}
    return obj.state_dict() if hasattr(obj, "state_dict") else dict(obj)


def save_checkpoint(path, model=None, optimizer=None, schedule=None, meta: Optional[Mapping] = None,
                    extra: Optional[Mapping] = None) -> Path:
    """Write model, optimizer and schedule state (objects with state_dict(), or plain dicts) to `path`.

    Values must be arrays or numbers/strings; a Python number is restored as a Python number.
    meta must be JSON-serialisable.
    """
    arrays, scalars = {}, []
    for section, obj in zip(SECTIONS, (model, optimizer, schedule, extra)):
        for name, value in _state(obj).items():
            key = f"{section}/{name}"
            try:
                array = np.asarray(value)
            except ValueError:               # e.g. a list of arrays of different shapes
                array = np.empty(0, dtype=object)
            if array.dtype == object:
                raise CheckpointError(f"save_checkpoint: {key} is a {type(value).__name__}, which cannot be stored "
                                      f"without pickle; store arrays, numbers or strings")
            if array.ndim == 0 and not isinstance(value, np.ndarray):
                scalars.append(key)          # restore it as the Python value it was, not a 0-d array
            arrays[key] = array
    try:
        meta_text = json.dumps({"meta": dict(meta or {}), "scalars": sorted(scalars)}, sort_keys=True,
                               allow_nan=True)
    except TypeError as exc:
        raise CheckpointError(f"save_checkpoint: meta must hold only JSON values (numbers, strings, lists, "
                              f"dicts): {exc}") from None
    # Entries in a fixed order (sorted by name), whatever order the states were built in: the same
    # run writes the same archive, byte for byte, whether or not it was resumed on the way.
    arrays = {"format": np.array(FORMAT), "meta": np.array(meta_text), **dict(sorted(arrays.items()))}
    path = Path(path)
    try:
        return atomic_save_npz(path, arrays)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write the checkpoint ({exc.strerror or exc}); "
                              f"check that the folder exists and is writable") from None


@dataclass
class Checkpoint:
    """The contents of a checkpoint file: one flat dict per section, and the meta data."""
    path: Path
    model: dict = field(default_factory=dict)
    optimizer: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def restore(self, model=None, optimizer=None, schedule=None) -> None:
        """Load the saved states into `model`, `optimizer` and `schedule` (each optional)."""
        if model is not None:
            _check_model_fits(self.path, self.model, {n: p.data for n, p in model.named_parameters()})
            model.load_state_dict(self.model)
        for name, obj, state in (("optimizer", optimizer, self.optimizer), ("schedule", schedule, self.schedule)):
            if obj is None:
                continue
            try:
                obj.load_state_dict(state)
            except (KeyError, ValueError, TypeError) as exc:
                raise CheckpointError(f"{self.path}: its {name} state does not fit this {type(obj).__name__} "
                                      f"({type(exc).__name__}: {exc}); resume with the settings it was saved with"
                                      ) from None


def _check_model_fits(path, saved: dict, current: dict) -> None:
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    if missing or unexpected:
        what = (f"missing {', '.join(missing)}" if missing else "") + \
               ("; " if missing and unexpected else "") + \
               (f"unexpected {', '.join(unexpected)}" if unexpected else "")
        raise CheckpointError(f"{path}: its model parameters do not match this model ({what}); "
                              f"build the model with the layer sizes the checkpoint was saved with")
    for k, v in current.items():
        if np.shape(saved[k]) != np.shape(v):
            raise CheckpointError(f"{path}: parameter {k} has shape {np.shape(saved[k])} in the checkpoint but "
                                  f"{np.shape(v)} in this model; build the model with the checkpoint's layer sizes")


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by save_checkpoint; any damage is a one-line CheckpointError."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.npz"
    try:
        with open(regular_file(path), "rb") as f:   # regular_file first: open() would wait on a FIFO
            if f.read(4) != b"PK\x03\x04":       # every .npz is a zip archive
                raise CheckpointError(f"{path}: not a checkpoint (not an .npz archive: it may be corrupt, truncated "
                                      f"or another kind of file); give a model.npz written by `edu train --out DIR`")
        arrays = load_npz(path)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint; check the path (a run folder holds model.npz)") from None
    except (ValueError, OSError) as exc:
        raise CheckpointError(str(exc).splitlines()[0]) from None
    fmt = arrays.pop("format", None)
    meta_array = arrays.pop("meta", None)
    if fmt is None or meta_array is None or fmt.dtype.kind != "U" or str(fmt) != FORMAT:
        raise CheckpointError(f"{path}: not a tinygrad_edu checkpoint (no '{FORMAT}' marker); "
                              f"give a model.npz written by `edu train --out DIR` or save_checkpoint")
    try:
        header = json.loads(str(meta_array))
        scalars = set(header["scalars"])
        meta = header["meta"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: its meta data is damaged ({exc}); the file is corrupt, "
                              f"train again or use another checkpoint") from None
    ckpt = Checkpoint(path=path, meta=meta)
    for key, value in arrays.items():
        section, sep, name = key.partition("/")
        if not sep or section not in SECTIONS:
            raise CheckpointError(f"{path}: unexpected entry {key!r}; the file is not a tinygrad_edu checkpoint "
                                  f"or is damaged")
        getattr(ckpt, section)[name] = value.item() if key in scalars else value
    return ckpt
