"""The gradebook: SQLite tables of grades, written in transactions, exported to CSV.

``grades``: the current grade, one row per trainee x lesson x question::

    trainee, lesson, question, points, max_points, graded_at (UTC, ISO 8601),
    submission_hash (sha256 of the submitted file), status, reason, feedback,
    flags (what an instructor should look at: metadata naming another trainee, byte- or
    near-identical submissions; ``; ``-separated), sandbox (``bwrap``, or ``none
    (--unsafe-no-sandbox)`` when the notebook ran unconfined; empty when it did not run)

Only the grading process opens the gradebook: submissions run in sandboxes that cannot see it.
A gradebook made before ``flags`` and ``sandbox`` existed gets the two columns on opening.

Recording a submission replaces every row of that trainee and lesson in one transaction, so
re-grading never duplicates rows and an interrupted batch never leaves half a submission.

``capstone``: one row per trainee x lesson whose checks graded a capstone policy: the
scenario, the seeds, the score (0-100), the mean net profit over the seeds (yuan), status and
reason; :func:`shopsim.grading.report.leaderboard` ranks a cohort by it.

``history``: every row ever recorded (same columns), so a re-grade keeps what the earlier
grading said. ``submissions``: one row per trainee x lesson with the time the work was
handed in (``submitted_at``, UTC ISO 8601, from the file or a list the instructor gives),
the deadline (``due``) and ``late`` (1 when handed in after it).
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


#: Every row ever recorded: the grades table's columns, without its key (a row per grading).
HISTORY = SCHEMA.replace("EXISTS grades", "EXISTS history").replace(
    ",\n    PRIMARY KEY (trainee, lesson, question)", "")
SUBMISSIONS = """
CREATE TABLE IF NOT EXISTS submissions (
    trainee TEXT NOT NULL,
    lesson TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    due TEXT NOT NULL DEFAULT '',
    late INTEGER NOT NULL DEFAULT 0,
    submission_hash TEXT NOT NULL,
    PRIMARY KEY (trainee, lesson)
)
"""


CAPSTONE = """
CREATE TABLE IF NOT EXISTS capstone (
    trainee TEXT NOT NULL,
    lesson TEXT NOT NULL,
    scenario TEXT NOT NULL,
    seeds TEXT NOT NULL,
    score REAL NOT NULL,
    mean_profit REAL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    graded_at TEXT NOT NULL,
    PRIMARY KEY (trainee, lesson)
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


@dataclass(frozen=True)
class CapstoneResult:
    """A trainee's capstone policy as graded: scenario, seeds (``"201,202,203"``), score (0-100),
    mean net profit over the seeds (yuan; None when the policy failed), status and reason."""

    trainee: str
    lesson: str
    scenario: str
    seeds: str
    score: float
    mean_profit: float | None
    status: str
    reason: str
    graded_at: str


CAPSTONE_COLUMNS = tuple(f.name for f in fields(CapstoneResult))


@dataclass(frozen=True)
class Handed:
    """When a trainee handed a lesson in: ``submitted_at`` and ``due`` (UTC ISO 8601, ``due`` may be empty)."""

    trainee: str
    lesson: str
    submitted_at: str
    due: str
    late: bool
    submission_hash: str


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
                conn.execute(HISTORY)
                conn.execute(SUBMISSIONS)
                conn.execute(CAPSTONE)
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

    def record(self, grades: Iterable[Grade], capstone: Iterable[CapstoneResult] = ()) -> None:
        """Replace the rows of each (trainee, lesson) in ``grades`` by ``grades``, atomically; keep them in history.

        ``capstone`` results of those submissions replace the trainees' earlier ones in the same
        transaction; a re-graded submission without one loses its old capstone row.
        """
        rows, results = list(grades), list(capstone)
        insert = f"({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        with self._connect() as conn:
            for trainee, lesson in dict.fromkeys([(g.trainee, g.lesson) for g in rows]
                                                 + [(c.trainee, c.lesson) for c in results]):
                conn.execute("DELETE FROM grades WHERE trainee = ? AND lesson = ?", (trainee, lesson))
                conn.execute("DELETE FROM capstone WHERE trainee = ? AND lesson = ?", (trainee, lesson))
            conn.executemany(f"INSERT INTO grades {insert}", [astuple(g) for g in rows])
            conn.executemany(f"INSERT INTO history {insert}", [astuple(g) for g in rows])
            conn.executemany(f"INSERT INTO capstone VALUES ({', '.join('?' * len(CAPSTONE_COLUMNS))})",
                             [astuple(c) for c in results])

    def capstone(self, lesson: str | None = None) -> list[CapstoneResult]:
        """Every trainee's current capstone result (of one lesson), sorted by lesson and trainee."""
        where, args = ("WHERE lesson = ?", (lesson,)) if lesson is not None else ("", ())
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(CAPSTONE_COLUMNS)} FROM capstone {where} ORDER BY lesson, trainee",
                               args)
            return [CapstoneResult(*r) for r in cur.fetchall()]

    def rows(self, lesson: str | None = None) -> list[Grade]:
        """Every current row (of one lesson), sorted by lesson, trainee and question."""
        return self._select("grades", lesson, None)

    def history(self, lesson: str | None = None, trainee: str | None = None) -> list[Grade]:
        """Every row ever recorded (of one lesson, one trainee), oldest grading first."""
        return self._select("history", lesson, trainee, order="graded_at, lesson, trainee, rowid")

    def _select(self, table: str, lesson: str | None, trainee: str | None,
                order: str = "lesson, trainee, question") -> list[Grade]:
        where = [(c, v) for c, v in (("lesson", lesson), ("trainee", trainee)) if v is not None]
        sql = " AND ".join(f"{c} = ?" for c, _ in where)
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} {'WHERE ' + sql if sql else ''} "
                               f"ORDER BY {order}", tuple(v for _, v in where))
            return [Grade(*r) for r in cur.fetchall()]

    def record_submission(self, handed: Handed) -> None:
        """Keep when ``handed.trainee`` handed ``handed.lesson`` in (replacing an earlier record)."""
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?)",
                         (handed.trainee, handed.lesson, handed.submitted_at, handed.due, int(handed.late),
                          handed.submission_hash))

    def submissions(self, lesson: str | None = None) -> list[Handed]:
        """When each trainee handed each lesson in (of one lesson), sorted by lesson and trainee."""
        where, args = ("WHERE lesson = ?", (lesson,)) if lesson is not None else ("", ())
        with self._connect() as conn:
            cur = conn.execute(f"SELECT trainee, lesson, submitted_at, due, late, submission_hash FROM submissions "
                               f"{where} ORDER BY lesson, trainee", args)
            return [Handed(t, ls, s, d, bool(late), h) for t, ls, s, d, late, h in cur.fetchall()]

    def remove(self, trainee: str, lesson: str | None = None, *, with_history: bool = False) -> int:
        """Delete a trainee's current grades (of one lesson); with ``with_history`` their history too.

        Returns the number of current grade rows removed.
        """
        where, args = ("trainee = ?" + (" AND lesson = ?" if lesson else ""),
                       (trainee, lesson) if lesson else (trainee,))
        with self._connect() as conn:
            removed = conn.execute(f"DELETE FROM grades WHERE {where}", args).rowcount
            conn.execute(f"DELETE FROM submissions WHERE {where}", args)
            conn.execute(f"DELETE FROM capstone WHERE {where}", args)
            if with_history:
                conn.execute(f"DELETE FROM history WHERE {where}", args)
        return int(removed)

    def export_csv(self, path: Path) -> int:
        """Write every row to ``path`` as CSV (header first, text made formula-safe); return the number of rows."""
        rows = self.rows()
        write_csv(path, COLUMNS, [astuple(g) for g in rows])
        return len(rows)


#: A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` for a CSV cell a spreadsheet or LMS opens: text that could start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a CSV file with every text cell made formula-safe (see :func:`safe_cell`)."""
    try:
        with Path(path).open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([safe_cell(h) for h in header])
            writer.writerows([safe_cell(v) for v in row] for row in rows)
    except OSError as exc:
        raise GradebookError(f"cannot write {path}: {exc.strerror or exc}") from None
