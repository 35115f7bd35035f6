"""The list of exercises (manifest.toml): ids, titles, where each lives, its reference, its checks.

    from tinygrad_edu.course.manifest import load
    for ex in load():
        print(ex.id, ex.title, ex.file, ex.name, ex.checks)

The manifest is the one place that says what the workbook contains. The student edition's stubs
take their id and title from it, ``edu check`` orders its table by it and refuses to run when
pytest collects another number of checks than it declares (nothing is skipped silently), and the
test suite proves every exercise against it.
"""
from __future__ import annotations

import importlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = Path(__file__).with_name("manifest.toml")
_ID = re.compile(r"^[1-9][0-9]?\.[1-9][0-9]?$")
_FIELDS = {"id": str, "title": str, "file": str, "name": str, "reference": str, "checks": int, "hint": str}


class ManifestError(ValueError):
    """manifest.toml is malformed: the message names the entry and the field."""


@dataclass(frozen=True)
class Exercise:
    id: str                 # "2.8"
    title: str              # "tanh's backward"
    file: str               # "ex02_ops.py", in the workbook folder
    name: str               # the top-level object the student writes
    reference: str          # "module:object", the engine's answer with the same interface
    checks: int             # how many checks pytest must collect for it
    hint: str               # the default hint
    hints: dict = field(default_factory=dict)   # kind of mistake -> hint

    @property
    def marker(self) -> str:
        """The pytest marker of its checks: "ex2_8" (`pytest -m ex2_8` runs them)."""
        return "ex" + self.id.replace(".", "_")

    @property
    def chapter(self) -> int:
        return int(self.id.split(".")[0])

    def hint_for(self, kind: str | None) -> str:
        """The hint meant for this kind of mistake, else the exercise's default hint."""
        return self.hints.get(kind, self.hint) if kind else self.hint

    def load_reference(self):
        """The reference object (imported on demand: the engine's, so there is no answer key)."""
        module, _, name = self.reference.partition(":")
        return getattr(importlib.import_module(module), name)


def _sort_key(exercise_id: str) -> tuple:
    chapter, number = exercise_id.split(".")
    return int(chapter), int(number)


def load(path: Path | str = MANIFEST) -> list[Exercise]:
    """Every exercise, in order (by chapter, then number); ManifestError on the first malformed entry."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}") from None
    entries = data.get("exercise", [])
    exercises, seen = [], {}
    for i, entry in enumerate(entries, 1):
        where = f"{path.name}: exercise #{i}" + (f" ({entry['id']})" if isinstance(entry.get("id"), str) else "")
        for key, kind in _FIELDS.items():
            if not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool):
                raise ManifestError(f"{where}: '{key}' must be a {kind.__name__}; add it")
        unknown = set(entry) - set(_FIELDS) - {"hints"}
        if unknown:
            raise ManifestError(f"{where}: unknown field {sorted(unknown)[0]!r}; the fields are "
                                f"{', '.join(_FIELDS)}, hints")
        if not _ID.match(entry["id"]):
            raise ManifestError(f"{where}: id {entry['id']!r} must be 'chapter.number', e.g. '2.8'")
        if entry["id"] in seen:
            raise ManifestError(f"{where}: id {entry['id']} is used twice (also exercise #{seen[entry['id']]})")
        if entry["checks"] < 1:
            raise ManifestError(f"{where}: checks = {entry['checks']}; an exercise needs at least one check")
        hints = entry.get("hints", {})
        if not isinstance(hints, dict) or not all(isinstance(v, str) for v in hints.values()):
            raise ManifestError(f"{where}: [exercise.hints] must map kinds of mistake to strings")
        seen[entry["id"]] = i
        exercises.append(Exercise(hints=dict(hints), **{k: entry[k] for k in _FIELDS}))
    return sorted(exercises, key=lambda e: _sort_key(e.id))


def by_id(path: Path | str = MANIFEST) -> dict[str, Exercise]:
    return {e.id: e for e in load(path)}
