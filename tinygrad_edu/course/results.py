"""One check's outcome, as results.json stores it (kept apart from checking.py, so that reading
results, as `edu check` does in its own process, needs neither pytest nor hypothesis)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

CHECKS_FOLDER = Path(__file__).with_name("checks")
STATUSES = ("passed", "failed", "not_attempted", "import_error", "timeout", "error")


@dataclass
class Result:
    """One check's outcome, as stored in results.json and shown by `edu check`."""
    exercise: str
    check: str                      # the check's docstring, first line
    status: str                     # one of STATUSES
    message: str = ""
    kind: str = ""
    hint: str = ""
    expected: str | None = None
    got: str | None = None
    max_diff: float | None = None
    inputs: dict = field(default_factory=dict)
    diagnosis: str = ""
    traceback: str = ""

    def to_dict(self) -> dict:
        return asdict(self)
