"""What an instructor takes away from a graded cohort: reports, an LMS export, statistics.

Everything here reads the gradebook only, so it works without re-grading:

- :func:`trainee_report` / :func:`write_reports`: one HTML page per trainee and lesson with
  each exercise's points, the feedback and its hints; self-contained (inline style, no
  scripts, no links out), so it opens offline and can be mailed.
- :func:`wide_table` / :func:`export_wide_csv`: one row per trainee, one column per
  question, a total, the submission time and the late flag, the shape LMS grade imports
  take; text cells that a spreadsheet would read as a formula are neutralised.
- :func:`statistics` / :func:`plot_statistics`: per question, the mean points, the share of
  trainees who got it right, and the most common wrong answers with the hint they got.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from shopsim.grading.gradebook import Grade, Gradebook, GradebookError, Handed, write_csv

_WRONG = re.compile(r"^`(?P<name>[^`]+)` = (?P<answer>.+?) is not (?:right yet|the best answer)[.:]?\s*(?P<hint>.*)$",
                    re.DOTALL)
_UNANSWERED = re.compile(r"is not (answered|defined) yet")
#: Zone in which deadlines without a zone are read (the course's stores run on Beijing time).
COURSE_ZONE = "Asia/Shanghai"


def parse_time(text: str, *, what: str = "time") -> dt.datetime:
    """An ISO 8601 time (``2026-04-01T18:00``, a date, or with a zone) as UTC; no zone means Beijing time."""
    try:
        stamp = pd.Timestamp(text)
    except (TypeError, ValueError) as exc:
        raise GradebookError(f"{what} {text!r} is not a date and time; write it like 2026-04-01T18:00 "
                             f"(Beijing time) or 2026-04-01T10:00Z ({exc})") from None
    if pd.isna(stamp):
        raise GradebookError(f"{what} is empty; write it like 2026-04-01T18:00")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(COURSE_ZONE)
    return stamp.tz_convert("UTC").to_pydatetime()


def iso(moment: dt.datetime) -> str:
    """A UTC moment as ISO 8601 with seconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def handed_in(trainee: str, lesson: str, submitted: dt.datetime, digest: str, due: dt.datetime | None) -> Handed:
    """The submission record: when, the deadline, and whether it was late."""
    return Handed(trainee, lesson, iso(submitted), iso(due) if due else "", bool(due and submitted > due), digest)


def file_time(path: Path) -> dt.datetime:
    """When a submission file was last written (its modification time), in UTC."""
    return dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.UTC)


def read_times(path: Path) -> dict[str, dt.datetime]:
    """Submission times from a CSV with the columns ``trainee`` and ``submitted_at`` (e.g. an LMS roster)."""
    try:
        table = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as exc:
        raise GradebookError(f"cannot read the submission times in {path}: {exc}") from None
    missing = {"trainee", "submitted_at"} - set(table.columns)
    if missing:
        raise GradebookError(f"{path} needs the columns trainee and submitted_at; it has {', '.join(table.columns)}")
    return {str(r.trainee).strip(): parse_time(str(r.submitted_at), what=f"{path}: submitted_at of {r.trainee}")
            for r in table.itertuples() if isinstance(r.submitted_at, str) and r.submitted_at.strip()}


def _lesson_rows(book: Gradebook, lesson: str | None) -> list[Grade]:
    rows = book.rows(lesson)
    if not rows:
        known = sorted({g.lesson for g in book.rows()})
        raise GradebookError(f"the gradebook has no grades{' for ' + repr(lesson) if lesson else ''}; "
                             f"lessons in it: {', '.join(known) or 'none yet'}")
    return rows


def _questions(book: Gradebook, rows: Sequence[Grade]) -> list[tuple[str, str]]:
    """(lesson, question) of ``rows`` in the notebook's order (the order they were recorded in)."""
    current = {(g.lesson, g.question) for g in rows}
    lessons = sorted({g.lesson for g in rows})
    seen = [(g.lesson, g.question) for lesson in lessons for g in book.history(lesson)]
    return list(dict.fromkeys(k for k in seen if k in current))


def wide_table(book: Gradebook, lesson: str | None = None) -> pd.DataFrame:
    """One row per trainee: a column of points per question, ``total``, ``max_points``, ``status``,
    ``submitted_at``, ``late``. With several lessons, columns are named ``lesson:question``."""
    rows = _lesson_rows(book, lesson)
    several = len({g.lesson for g in rows}) > 1
    column = (lambda g: f"{g.lesson}:{g.question}") if several else (lambda g: g.question)
    order = [f"{ls}:{q}" if several else q for ls, q in _questions(book, rows)]
    handed = {(h.trainee, h.lesson): h for h in book.submissions(lesson)}
    table: dict[str, dict[str, Any]] = {}
    for g in rows:
        row = table.setdefault(g.trainee, {"trainee": g.trainee, "total": 0.0, "max_points": 0.0, "status": set(),
                                           "submitted_at": set(), "late": False})
        row[column(g)] = g.points
        row["total"] += g.points
        row["max_points"] += g.max_points
        row["status"].add(g.status)
        h = handed.get((g.trainee, g.lesson))
        if h is not None:
            row["submitted_at"].add(h.submitted_at)
            row["late"] = row["late"] or h.late
    out = pd.DataFrame(list(table.values()))
    out["status"] = out["status"].map(lambda s: ", ".join(sorted(s)))
    out["submitted_at"] = out["submitted_at"].map(lambda s: max(s) if s else "")
    return out[["trainee", *order, "total", "max_points", "status", "submitted_at", "late"]].sort_values(
        "trainee").reset_index(drop=True)


def export_wide_csv(book: Gradebook, path: Path, lesson: str | None = None) -> int:
    """Write :func:`wide_table` to ``path`` (formula-safe); return the number of trainees."""
    table = wide_table(book, lesson)
    table["late"] = table["late"].map(lambda x: "yes" if x else "no")
    write_csv(path, table.columns, table.itertuples(index=False, name=None))
    return len(table)


def wrong_answer(feedback: str) -> tuple[str, str]:
    """(the answer, the hint) of a wrong-value feedback message; ("", message) for other messages."""
    first = feedback.strip().splitlines()[0] if feedback.strip() else ""
    match = _WRONG.match(first)
    if not match:
        return "", first
    return match["answer"], match["hint"].rstrip(".")


def statistics(book: Gradebook, lesson: str, *, top: int = 3) -> pd.DataFrame:
    """Per question: ``max_points``, ``mean`` points, ``share_right``, ``trainees``, ``no_answer`` (left
    blank, or the run never got there), and ``common_wrong``: the ``top`` most common wrong answers
    as (answer, hint, count), most common first (form problems count, with their message)."""
    rows = _lesson_rows(book, lesson)
    out = []
    for _, q in _questions(book, rows):
        these = [g for g in rows if g.question == q]
        missed = [g for g in these if g.points < g.max_points]
        blank = [g for g in missed if not g.feedback or _UNANSWERED.search(g.feedback)]
        wrong = Counter(wrong_answer(g.feedback) for g in missed if g not in blank)
        out.append({"question": q, "max_points": these[0].max_points,
                    "mean": sum(g.points for g in these) / len(these),
                    "share_right": sum(g.points >= g.max_points for g in these) / len(these),
                    "trainees": len(these), "no_answer": len(blank),
                    "common_wrong": [(a, h, n) for (a, h), n in wrong.most_common(top)]})
    return pd.DataFrame(out)


def statistics_text(stats: pd.DataFrame) -> str:
    """The statistics as plain text for a terminal."""
    lines = []
    for r in stats.itertuples():
        lines.append(f"{r.question}: mean {r.mean:.2f} of {r.max_points:g}, right {r.share_right:.0%} "
                     f"of {r.trainees}, no answer {r.no_answer}")
        for answer, hint, n in r.common_wrong:
            lines.append(f"    {n} x {answer}: {hint}" if answer else f"    {n} x {hint}")
    return "\n".join(lines)


def plot_statistics(stats: pd.DataFrame) -> Any:
    """A bar chart of the share of trainees right per question (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(stats)))
    ax.barh(stats["question"], stats["share_right"], color="#2b6cb0")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of trainees right")
    for y, share in enumerate(stats["share_right"]):
        ax.text(min(share + 0.02, 0.9), y, f"{share:.0%}", va="center")
    fig.tight_layout()
    return fig


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#1a202c}"
          "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #cbd5e0;padding:.4rem .5rem;"
          "text-align:left;vertical-align:top}.ok{color:#1a7f37}.no{color:#b35900}.late{color:#b00020}"
          ".muted{color:#4a5568}")


def trainee_report(book: Gradebook, lesson: str, trainee: str) -> str:
    """One trainee's feedback report for a lesson, as a self-contained HTML page."""
    order = [q for _, q in _questions(book, book.rows(lesson))]
    rows = sorted((g for g in book.rows(lesson) if g.trainee == trainee), key=lambda g: order.index(g.question))
    if not rows:
        raise GradebookError(f"no grades for trainee {trainee!r} in lesson {lesson!r}")
    handed = next((h for h in book.submissions(lesson) if h.trainee == trainee), None)
    earlier = {g.graded_at for g in book.history(lesson, trainee)} - {rows[0].graded_at}
    total, possible = sum(g.points for g in rows), sum(g.max_points for g in rows)
    e = html.escape
    when = ""
    if handed is not None:
        late = ' <strong class="late">late</strong>' if handed.late else ""
        due = f" (due {e(handed.due)})" if handed.due else ""
        when = f"<p>Handed in {e(handed.submitted_at)}{due}{late}.</p>"
    body = "".join(
        f"<tr><td><code>{e(g.question)}</code></td><td class=\"{'ok' if g.points >= g.max_points else 'no'}\">"
        f"{g.points:g} / {g.max_points:g}</td><td>{'right' if g.points >= g.max_points else 'not yet'}</td>"
        f"<td>{e(g.feedback).replace(chr(10), '<br>') or '<span class=muted>no remarks</span>'}</td></tr>"
        for g in rows)
    reason = f"<p class=\"muted\">Grading note: {e(rows[0].reason)}</p>" if rows[0].reason else ""
    again = f"<p class=\"muted\">Graded {len(earlier) + 1} times; this is the latest grading.</p>" if earlier else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(lesson)}: {e(trainee)}"
            f"</title><style>{_STYLE}</style></head><body><h1>{e(lesson)}</h1><h2>{e(trainee)}: {total:g} of "
            f"{possible:g} points</h2>{when}<p class=\"muted\">Graded {e(rows[0].graded_at)} (status "
            f"{e(rows[0].status)}).</p>{reason}{again}<table><thead><tr><th>exercise</th><th>points</th>"
            f"<th>verdict</th><th>feedback and hints</th></tr></thead><tbody>{body}</tbody></table></body></html>\n")


def write_reports(book: Gradebook, lesson: str, folder: Path) -> list[Path]:
    """Write every trainee's report for ``lesson`` to ``folder/TRAINEE.html``; return the paths."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradebookError(f"cannot create the report folder {folder}: {exc.strerror or exc}") from None
    out = []
    for trainee in sorted({g.trainee for g in _lesson_rows(book, lesson)}):
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', trainee)}.html"
        path.write_text(trainee_report(book, lesson, trainee), encoding="utf-8")
        out.append(path)
    return out


def _capstone_lesson(book: Gradebook, lesson: str) -> str:
    """The lesson a leaderboard is for: its exact name, or the one lesson with a capstone whose name starts so."""
    known = sorted({c.lesson for c in book.capstone()})
    if lesson in known:
        return lesson
    matches = [name for name in known if name.startswith(lesson)]
    if len(matches) == 1:
        return matches[0]
    raise GradebookError(f"no capstone results for {lesson!r} in the gradebook; lessons with a capstone: "
                         f"{', '.join(known) or 'none yet (grade the capstone lesson first)'}")


def leaderboard(book: Gradebook, lesson: str) -> pd.DataFrame:
    """A cohort's capstone ranking: ``rank``, ``trainee``, ``score`` (0-100), ``mean_profit`` (yuan),
    ``lesson_points`` and ``max_points`` (the whole lesson), ``status``, ``scenario``, ``seeds``.

    Ranked by score, then mean net profit (higher first); equal scores and profits share a rank.
    ``lesson`` is a lesson's name or a unique prefix of it (``11``).
    """
    name = _capstone_lesson(book, lesson)
    points: dict[str, list[float]] = {}
    for g in book.rows(name):
        pts = points.setdefault(g.trainee, [0.0, 0.0])
        pts[0] += g.points
        pts[1] += g.max_points
    table = pd.DataFrame([{"trainee": c.trainee, "score": c.score, "mean_profit": c.mean_profit,
                           "lesson_points": points.get(c.trainee, [0.0, 0.0])[0],
                           "max_points": points.get(c.trainee, [0.0, 0.0])[1], "status": c.status,
                           "scenario": c.scenario, "seeds": c.seeds} for c in book.capstone(name)])
    table = table.sort_values(["score", "mean_profit", "trainee"], ascending=[False, False, True],
                              na_position="last").reset_index(drop=True)
    key = list(zip(table["score"], table["mean_profit"].fillna(float("-inf")), strict=True))
    table.insert(0, "rank", [1 + key.index(k) for k in key])
    return table


def leaderboard_text(table: pd.DataFrame) -> str:
    """The leaderboard as plain text for a terminal: rank, trainee, score, mean profit, lesson points, status."""
    width = max([7, *(len(t) for t in table["trainee"])])
    lines = [f"{'rank':>4}  {'trainee':<{width}}  {'score':>6}  {'mean profit':>12}  {'lesson':>9}  status"]
    for r in table.itertuples():
        profit = "-" if pd.isna(r.mean_profit) else f"{r.mean_profit:,.0f}"
        lines.append(f"{r.rank:>4}  {r.trainee:<{width}}  {r.score:>6.1f}  {profit:>12}  "
                     f"{r.lesson_points:>4g}/{r.max_points:<4g}  {r.status}")
    if len(table):
        lines.append(f"scenario {table['scenario'].iloc[0]}, seeds {table['seeds'].iloc[0]}; score 0 = doing nothing, "
                     "60 = rule_based, 100 = tuned (per seed, averaged)")
    return "\n".join(lines)
