"""The gradebook: one SQLite table of grades, written in transactions, exported to CSV.

One row per trainee x lesson x question::

    trainee, lesson, question, points, max_points, graded_at (UTC, ISO 8601),
    submission_hash (sha256 of the submitted file), status, reason, feedback,
    flags (what an instructor should look at: metadata naming another trainee, byte- or
    near-identical submissions; ``; ``-separated), sandbox (``bwrap``, or ``none
    (--unsafe-no-sandbox)`` when the notebook ran unconfined; empty when it did not run)

Only the grading process opens the gradebook: submissions run in sandboxes that cannot see it.
A gradebook made before ``flags`` and ``sandbox`` existed gets the two columns on opening.

Recording a submission replaces every row of that trainee and lesson in one transaction, so
re-grading never duplicates rows and an interrupted batch never leaves half a submission.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    trainee TEXT NOT NULL,
    lesson TEXT NOT NULL,
    question TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    graded_at TEXT NOT NULL,
    submission_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    feedback TEXT NOT NULL DEFAULT '',
    flags TEXT NOT NULL DEFAULT '',
    sandbox TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (trainee, lesson, question)
)
"""


class GradebookError(RuntimeError):
    """The gradebook file cannot be opened, or is not a shopsim gradebook."""


@dataclass(frozen=True)
class Grade:
    """One row of the gradebook (points in the lesson's points, not percent)."""

    trainee: str
    lesson: str
    question: str
    points: float
    max_points: float
    graded_at: str
    submission_hash: str
    status: str
    reason: str = ""
    feedback: str = ""
    flags: str = ""
    sandbox: str = ""


COLUMNS = tuple(f.name for f in fields(Grade))


class Gradebook:
    """A gradebook file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise GradebookError(f"{self.path} is a folder; give a file name for the gradebook, e.g. grades.db")
        if not self.path.parent.is_dir():
            raise GradebookError(f"cannot create the gradebook {self.path}: folder {self.path.parent} does not exist")
        try:
            with self._connect() as conn:
                conn.execute(SCHEMA)
                have = [r[1] for r in conn.execute("PRAGMA table_info(grades)")]
                if tuple(have) == COLUMNS[: len(have)] and len(have) >= COLUMNS.index("feedback") + 1:
                    for name in COLUMNS[len(have):]:  # an older gradebook: add the new columns
                        conn.execute(f"ALTER TABLE grades ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")
                    have = list(COLUMNS)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{self.path} is not a shopsim gradebook (SQLite said: {exc})") from None
        if tuple(have) != COLUMNS:
            raise GradebookError(f"{self.path} has a grades table with other columns ({', '.join(have)}); "
                                 "use a new gradebook file")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        finally:
            conn.close()

    def record(self, grades: Iterable[Grade]) -> None:
        """Replace the rows of each (trainee, lesson) in ``grades`` by ``grades``, atomically."""
        rows = list(grades)
        with self._connect() as conn:
            for trainee, lesson in dict.fromkeys((g.trainee, g.lesson) for g in rows):
                conn.execute("DELETE FROM grades WHERE trainee = ? AND lesson = ?", (trainee, lesson))
            conn.executemany(f"INSERT INTO grades ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             [astuple(g) for g in rows])

    def rows(self, lesson: str | None = None) -> list[Grade]:
        """Every row (of one lesson), sorted by lesson, trainee and question."""
        where, args = ("WHERE lesson = ?", (lesson,)) if lesson is not None else ("", ())
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM grades {where} "
                               "ORDER BY lesson, trainee, question", args)
            return [Grade(*r) for r in cur.fetchall()]

    def export_csv(self, path: Path) -> int:
        """Write every row to ``path`` as CSV (header first); return the number of rows."""
        rows = self.rows()
        try:
            with Path(path).open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(COLUMNS)
                writer.writerows(astuple(g) for g in rows)
        except OSError as exc:
            raise GradebookError(f"cannot write {path}: {exc.strerror or exc}") from None
        return len(rows)
