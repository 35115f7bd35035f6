"""The course file (exercises/course.toml): what is graded, for how many points, and what a release holds.

    course = load_course()                       # the instructor's exercises/course.toml
    for graded in course.exercises:              # in the manifest's order
        print(graded.id, graded.points, graded.hidden_points)
    course.max_points, course.parts, course.classroom_timeout

The file, at the workbook's root:

    name = "Autograd from scratch"

    [grading]
    exercises = "all"      # every exercise in the manifest, or a list of ids and chapters: ["2.8", "5"]
    points = 2             # what passing an exercise's checks earns (the checks `edu check` runs)
    hidden_points = 1      # what passing them again, on the student's own inputs, earns (edu grade's hidden checks)

    [[exercise]]           # an exercise worth more or less than the defaults
    id = "2.8"
    points = 3

    [release]
    parts = ["README.md", "exercises", "tinygrad_edu"]   # what the student edition holds

    [classroom]
    timeout = 5            # minutes GitHub Classroom gives each exercise's test
    python = "3.11"        # the Python the classroom's runners install

Every mistake in it is one line naming the file, the entry and the fix; ``load_course`` reports
them all at once (``CourseError.problems``). The exercises come from the manifest, so an id that
the manifest does not know is a mistake, never a silently ungraded exercise.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .manifest import Exercise, load

COURSE_FILE = Path(__file__).resolve().parents[2] / "exercises" / "course.toml"   # the instructor's, in a checkout

# What the student edition holds when the course file does not say: the paths `edu course build --student`
# copies (the workbook and the chapters with their solutions removed, everything else as it is).
DEFAULT_PARTS = ("README.md", "LICENSE", "pyproject.toml", "cli.py", "tinygrad_edu_launcher.py", ".gitignore", "docs",
                 "tutorials", "exercises", "tinygrad_edu")
# Never part of a release: the mutants are near-solutions, .git is the instructor's history.
FORBIDDEN_PARTS = ("exercises/mutants", ".git")

DEFAULT_POINTS = 1
DEFAULT_HIDDEN_POINTS = 0
DEFAULT_CLASSROOM_TIMEOUT = 5        # minutes (GitHub Classroom's unit)
MAX_CLASSROOM_TIMEOUT = 360          # GitHub's limit for one test: 6 hours
DEFAULT_PYTHON = "3.11"

_KEYS = {"": ("name", "grading", "exercise", "release", "classroom"),
         "[grading]": ("exercises", "points", "hidden_points"),
         "[[exercise]]": ("id", "points", "hidden_points"),
         "[release]": ("parts",),
         "[classroom]": ("timeout", "python")}


class CourseError(ValueError):
    """The course file has mistakes: one line each (``problems``), naming the file, the entry and the fix."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class GradedExercise:
    exercise: Exercise
    points: float              # earned when every visible check passes
    hidden_points: float       # earned when the visible checks and then every hidden check pass

    @property
    def id(self) -> str:
        return self.exercise.id

    @property
    def max_points(self) -> float:
        return self.points + self.hidden_points


@dataclass(frozen=True)
class Course:
    name: str
    exercises: tuple           # GradedExercise, in the manifest's order
    parts: tuple = DEFAULT_PARTS
    classroom_timeout: float = DEFAULT_CLASSROOM_TIMEOUT
    python: str = DEFAULT_PYTHON
    path: Path | None = None

    @property
    def max_points(self) -> float:
        return sum(g.max_points for g in self.exercises)

    @property
    def has_hidden_checks(self) -> bool:
        return any(g.hidden_points > 0 for g in self.exercises)

    def graded(self, exercise_id: str) -> GradedExercise:
        return next(g for g in self.exercises if g.id == exercise_id)


def format_points(value: float) -> str:
    """2 for 2.0, 1.5 for 1.5: points as a teacher writes them (six significant digits at most)."""
    return f"{value:.6g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ids_list(ids: list[str], limit: int = 8) -> str:
    return ", ".join(ids[:limit]) + (", …" if len(ids) > limit else "")


class _Reader:
    """Collects one line per mistake while the file is read."""

    def __init__(self, path: Path, manifest: list[Exercise]):
        self.file = path.name
        self.manifest = manifest
        self.ids = [e.id for e in manifest]
        self.problems: list[str] = []

    def problem(self, entry: str, text: str) -> None:
        self.problems.append(f"{self.file}: {entry}: {text}")

    def known_keys(self, table, section: str, entry: str) -> None:
        for key in table:
            if key not in _KEYS[section]:
                self.problem(entry, f"unknown key {key!r}; the keys of {section or 'the top level'} are "
                                    f"{', '.join(_KEYS[section])}")

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, f"must be a table [{key}]; write it as a [{key}] section")
            return {}
        self.known_keys(value, f"[{key}]", f"[{key}]")
        return value

    def points(self, table: dict, key: str, entry: str, default: float) -> float:
        value = table.get(key, default)
        if not _is_number(value) or not math.isfinite(value):
            self.problem(entry, f"{key} = {value!r} is not a number; write a number of points ≥ 0, e.g. {key} = 2")
            return default
        if value < 0:
            self.problem(entry, f"{key} = {value!r} is negative; points are ≥ 0 (0 for none)")
            return default
        return value

    def selection(self, grading: dict) -> list[str]:
        """The ids grading.exercises selects, in manifest order."""
        chosen = grading.get("exercises", "all")
        if chosen == "all":
            return list(self.ids)
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen) or not chosen:
            self.problem("[grading] exercises", f"{chosen!r} must be \"all\" or a list of exercise ids and "
                                                f"chapters, e.g. [\"2.8\", \"5\"]")
            return list(self.ids)
        selected = set()
        for word in chosen:
            matches = [e.id for e in self.manifest if e.id == word or (word.isdigit() and e.chapter == int(word))]
            if not matches:
                self.problem("[grading] exercises", f"unknown exercise {word!r}; the manifest's exercises are "
                                                    f"{_ids_list(self.ids)} (edu check lists them)")
            if selected & set(matches):
                self.problem("[grading] exercises", f"{word!r} selects exercises already listed; give each once")
            selected.update(matches)
        return [i for i in self.ids if i in selected]

    def parts(self, release: dict) -> tuple:
        parts = release.get("parts", list(DEFAULT_PARTS))
        if not isinstance(parts, list) or not parts:
            self.problem("[release] parts", f"{parts!r} must be a list of paths, e.g. [\"README.md\", \"exercises\"]")
            return DEFAULT_PARTS
        seen = []
        for part in parts:
            entry = f"[release] parts: {part!r}"
            if not isinstance(part, str) or not part.strip():
                self.problem(entry, "a part is a non-empty path relative to the repository, e.g. \"docs\"")
                continue
            pure = PurePosixPath(part)
            if "\\" in part or pure.is_absolute() or re.match(r"^[A-Za-z]:", part):
                self.problem(entry, "must be relative to the repository and use /, e.g. \"docs/TEACHING.md\"")
            elif ".." in pure.parts or "." in part.split("/"):
                self.problem(entry, "must stay inside the repository: remove the '..' or '.'")
            elif any(pure == PurePosixPath(f) or PurePosixPath(f) in pure.parents for f in FORBIDDEN_PARTS):
                self.problem(entry, "would put the mutants (near-solutions) or .git into the students' edition; "
                                    "remove it")
            elif str(pure) in seen:
                self.problem(entry, "is listed twice; list each part once")
            else:
                seen.append(str(pure))
        if "exercises" not in seen and not any(s.startswith("exercises/") for s in seen):
            self.problem("[release] parts", "has no \"exercises\": the student edition needs its workbook; add it")
        return tuple(seen)

    def classroom(self, classroom: dict) -> tuple:
        timeout = classroom.get("timeout", DEFAULT_CLASSROOM_TIMEOUT)
        if not _is_number(timeout) or not 0 < timeout <= MAX_CLASSROOM_TIMEOUT:
            self.problem("[classroom] timeout", f"{timeout!r} must be a number of minutes in (0, "
                                                f"{MAX_CLASSROOM_TIMEOUT}] (GitHub's limit), e.g. timeout = 5")
            timeout = DEFAULT_CLASSROOM_TIMEOUT
        python = classroom.get("python", DEFAULT_PYTHON)
        if not isinstance(python, str) or not re.fullmatch(r"3\.\d{1,2}", python):
            self.problem("[classroom] python", f"{python!r} must be a Python version such as \"3.11\"")
            python = DEFAULT_PYTHON
        return timeout, python


def load_course(path: Path | str = COURSE_FILE, manifest: list[Exercise] | None = None) -> Course:
    """The course in `path`, checked against the manifest; CourseError lists every mistake, one line each."""
    path = Path(path)
    manifest = load() if manifest is None else manifest
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CourseError([f"{path}: cannot read the course file ({exc.strerror or exc}); give the path of "
                           f"course.toml (it sits in the workbook, exercises/course.toml)"]) from None
    except UnicodeDecodeError:
        raise CourseError([f"{path.name}: is not UTF-8 text; save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError([f"{path.name}: is not valid TOML ({exc}); fix that line"]) from None
    reader = _Reader(path, manifest)
    reader.known_keys(data, "", "top level")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        reader.problem("name", "the course needs a name: add name = \"...\" at the top")
        name = "course"
    grading = reader.table(data, "grading")
    default_points = reader.points(grading, "points", "[grading]", DEFAULT_POINTS)
    default_hidden = reader.points(grading, "hidden_points", "[grading]", DEFAULT_HIDDEN_POINTS)
    selected = reader.selection(grading)
    points = {i: (default_points, default_hidden) for i in selected}

    entries = data.get("exercise", [])
    if not isinstance(entries, list):
        reader.problem("exercise", "write each exercise as an [[exercise]] table with an id")
        entries = []
    first_seen: dict[str, int] = {}
    for n, entry in enumerate(entries, 1):
        label = f"[[exercise]] #{n}"
        if not isinstance(entry, dict):
            reader.problem(label, "must be a table with id = \"...\" and its points")
            continue
        exercise_id = entry.get("id")
        label += f" ({exercise_id})" if isinstance(exercise_id, str) else ""
        reader.known_keys(entry, "[[exercise]]", label)
        if not isinstance(exercise_id, str):
            reader.problem(label, "has no id; add id = \"2.8\" (an id from the manifest)")
            continue
        if exercise_id not in reader.ids:
            reader.problem(label, f"unknown exercise {exercise_id!r}; the manifest's exercises are "
                                  f"{_ids_list(reader.ids)} (edu check lists them)")
            continue
        if exercise_id in first_seen:
            reader.problem(label, f"id {exercise_id} is listed twice (also [[exercise]] #{first_seen[exercise_id]}); "
                                  f"keep one entry")
            continue
        first_seen[exercise_id] = n
        if exercise_id not in points:
            reader.problem(label, f"exercise {exercise_id} is not graded: add it to [grading] exercises, or remove "
                                  f"this entry")
            continue
        points[exercise_id] = (reader.points(entry, "points", label, default_points),
                               reader.points(entry, "hidden_points", label, default_hidden))

    parts = reader.parts(reader.table(data, "release"))
    timeout, python = reader.classroom(reader.table(data, "classroom"))
    by_id = {e.id: e for e in manifest}
    graded = tuple(GradedExercise(by_id[i], *points[i]) for i in selected)
    if graded and not reader.problems and sum(g.max_points for g in graded) == 0:
        reader.problem("[grading]", "no exercise is worth any points; give points = 1 or more")
    if reader.problems:
        raise CourseError(reader.problems)
    return Course(name.strip(), graded, parts, timeout, python, path)
