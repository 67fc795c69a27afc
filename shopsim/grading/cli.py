"""The ``grade`` and ``course`` subcommands of ``shopsim`` (also runnable on their own).

::

    shopsim course build [--course DIR] [--check]
    shopsim grade LESSON SUBMISSION.ipynb... [--gradebook grades.db] [--csv grades.csv]
                  [--lms wide.csv] [--reports DIR] [--due TIME] [--times times.csv]
                  [--jobs N | --scheduler ADDRESS] [--timeout S] [--course DIR] [--no-progress]
                  [--roster roster.csv] [--memory-mb M] [--unsafe-no-sandbox]
    shopsim gradebook export FILE.csv [--lesson L] [--long]     (wide: one row per trainee)
    shopsim gradebook history [--lesson L] [--trainee T]
    shopsim gradebook remove TRAINEE [--lesson L] [--with-history]
    shopsim gradebook report LESSON [--out DIR]                 (HTML per trainee)
    shopsim gradebook stats LESSON

``shopsim.cli`` adds them with :func:`register`; ``python -m shopsim.grading.cli ...`` runs
them without it. Every error is one line on stderr and exit code 2, never a traceback;
``course build --check`` exits 1 when a student copy is out of sync and names it; ``grade``
exits 3 when a check failed by itself (a problem of the lesson, not of the trainees).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsim.errors import ShopsimError
from shopsim.grading import report, sandbox
from shopsim.grading.batch import FAILED, BatchError, Outcome, grade_batch, read_roster
from shopsim.grading.build import BuildError, Course, build_course, build_lesson
from shopsim.grading.gradebook import Gradebook, GradebookError
from shopsim.grading.questions import INSTRUCTOR_NOTE

_EXPECTED = (BuildError, BatchError, GradebookError, ShopsimError, OSError)


def default_course() -> Path:
    """``./course`` when it exists, else the course folder next to the installed package."""
    here = Path.cwd() / "course"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "course"


def _shown(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _guarded(name: str, handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _EXPECTED as exc:
            text = str(exc) if not isinstance(exc, OSError) or not exc.strerror else f"{exc.filename}: {exc.strerror}"
            print(f"shopsim {name}: {text}", file=sys.stderr)
            return 2
    return run


def _course_build(args: argparse.Namespace) -> int:
    if args.course:
        root = Path(args.course)
    elif args.check and args.root is None:
        root = default_course()
    else:  # writing: only into a project's course/ folder, never the installed package's
        from shopsim.cli import project_folder

        try:
            root = project_folder(args.root, "course", "course build")
        except ShopsimError as exc:
            raise BuildError(str(exc)) from None
    report = build_course(root, check=args.check)
    for orphan in report.orphans:
        print(f"{_shown(orphan)}: student copy without a master in {_shown(root / 'source')}")
    if args.check:
        for path in report.differing:
            state = "missing" if not path.exists() else "differs from its master"
            print(f"{_shown(path)}: {state}; run `shopsim course build`")
        if report.in_sync:
            print(f"{len(Course(root).masters())} student cop{'y' if len(Course(root).masters()) == 1 else 'ies'} "
                  "in sync with their masters")
            return 0
        return 1
    for path in report.written:
        print(f"wrote {_shown(path)}")
    if not report.written:
        print("student copies already up to date")
    return 0


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value
    return parse


def _summary(outcomes: list[Outcome], unsafe: bool) -> str:
    width = max((len(o.submission.trainee) for o in outcomes), default=7)
    lines = [f"{'trainee':<{width}}  {'points':>9}  status       reason"]
    for o in outcomes:
        pts = f"{o.points:g}/{o.max_points:g}"
        lines.append(f"{o.submission.trainee:<{width}}  {pts:>9}  {o.status:<11}  {o.reason}".rstrip())
        lines += [f"{'':<{width}}  {'':>9}  flag         {flag}" for flag in o.flags]
    failed = sum(o.status in FAILED for o in outcomes)
    lines.append(f"{len(outcomes)} submission{'s' if len(outcomes) != 1 else ''} graded"
                 + (f", {failed} could not be run to the end (graded on the answers given before; "
                    "invalid ones score 0)" if failed else ""))
    flagged = sum(bool(o.flags) for o in outcomes)
    if flagged:
        lines.append(f"{flagged} submission{'s' if flagged != 1 else ''} flagged for a look")
    if unsafe and not sandbox.available()[0]:
        lines.append("WARNING: --unsafe-no-sandbox: notebooks ran WITHOUT a sandbox (recorded with each grade); "
                     f"{sandbox.available()[1]}")
    return "\n".join(lines)


def _grade(args: argparse.Namespace) -> int:
    course = Course(Path(args.course) if args.course else default_course())
    master = course.master(args.lesson)
    book = Gradebook(Path(args.gradebook))
    roster = read_roster(Path(args.roster)) if args.roster else None
    due = report.parse_time(args.due, what="--due") if args.due else None
    times = report.read_times(Path(args.times)) if args.times else {}
    lesson = build_lesson(master)
    from tqdm import tqdm

    def done(outcome: Outcome) -> None:
        sub = outcome.submission
        submitted = times.get(sub.trainee) or report.file_time(sub.path)
        book.record_submission(report.handed_in(sub.trainee, lesson.name, submitted, sub.digest, due))
        bar.update(1)

    with contextlib.ExitStack() as stack:
        client = None
        if args.scheduler is not None:
            from shopsim.cluster import connect

            client = stack.enter_context(connect(args.scheduler))
        bar = stack.enter_context(tqdm(total=len(args.submissions), unit="notebook", desc=f"grading {lesson.name}",
                                       file=sys.stderr, disable=args.no_progress, leave=False))
        outcomes = grade_batch(lesson, [Path(p) for p in args.submissions], book, jobs=args.jobs,
                               timeout=args.timeout, on_done=done, roster=roster,
                               limits=sandbox.Limits(memory_mb=args.memory_mb), unsafe=args.unsafe_no_sandbox,
                               client=client)
    print(_summary(outcomes, args.unsafe_no_sandbox))
    late = [h.trainee for h in book.submissions(lesson.name) if h.late and h.trainee in
            {o.submission.trainee for o in outcomes}]
    if late:
        print(f"late (after {report.iso(due) if due else 'the deadline'}): {', '.join(late)}")
    print(f"gradebook: {_shown(book.path)}")
    if args.csv:
        rows = book.export_csv(Path(args.csv))
        print(f"csv: {_shown(Path(args.csv))} ({rows} rows)")
    if args.lms:
        n = report.export_wide_csv(book, Path(args.lms), lesson.name)
        print(f"lms csv: {_shown(Path(args.lms))} ({n} trainees)")
    folder = Path(args.reports) if args.reports else book.path.parent / "reports" / lesson.name
    print(f"reports: {_shown(folder)} ({len(report.write_reports(book, lesson.name, folder))} trainees)")
    broken = sorted({g.question for o in outcomes for g in o.grades if INSTRUCTOR_NOTE in g.feedback})
    if broken:
        print(f"shopsim grade: the check of {', '.join(broken)} failed by itself (a missing file or module): "
              "fix the lesson and grade again; those questions' points say nothing about the trainees",
              file=sys.stderr)
        return 3
    return 0


def _book(args: argparse.Namespace) -> Gradebook:
    path = Path(args.gradebook)
    if not path.is_file():
        raise GradebookError(f"no gradebook {path}; grade a lesson first (shopsim grade ... --gradebook {path})")
    return Gradebook(path)


def _export(args: argparse.Namespace) -> int:
    book = _book(args)
    if args.long:
        n = book.export_csv(Path(args.file))
        print(f"wrote {_shown(Path(args.file))} ({n} rows, one per trainee x lesson x question)")
    else:
        n = report.export_wide_csv(book, Path(args.file), args.lesson)
        print(f"wrote {_shown(Path(args.file))} ({n} trainees, one column per question)")
    return 0


def _history(args: argparse.Namespace) -> int:
    rows = _book(args).history(args.lesson, args.trainee)
    if not rows:
        print("no grades recorded for that selection")
        return 0
    table: dict[tuple[str, str, str], list[float]] = {}
    for g in rows:
        pts = table.setdefault((g.graded_at, g.lesson, g.trainee), [0.0, 0.0])
        pts[0] += g.points
        pts[1] += g.max_points
    print(f"{'graded_at':<26}{'lesson':<22}{'trainee':<16}points")
    for (at, lesson, trainee), (pts, most) in table.items():
        print(f"{at:<26}{lesson:<22}{trainee:<16}{pts:g}/{most:g}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    n = _book(args).remove(args.trainee, args.lesson, with_history=args.with_history)
    if n == 0:
        raise GradebookError(f"no grades for trainee {args.trainee!r}{' in ' + args.lesson if args.lesson else ''}")
    kept = "" if args.with_history else " (their history is kept; --with-history removes it too)"
    print(f"removed {n} grade rows of {args.trainee}{kept}")
    return 0


def _report(args: argparse.Namespace) -> int:
    book = _book(args)
    folder = Path(args.out) if args.out else book.path.parent / "reports" / args.lesson
    paths = report.write_reports(book, args.lesson, folder)
    print(f"wrote {len(paths)} reports to {_shown(folder)}")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    table = report.leaderboard(_book(args), args.lesson)
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {_shown(Path(args.csv))} ({len(table)} trainees)")
    print(report.leaderboard_text(table))
    return 0


def _stats(args: argparse.Namespace) -> int:
    print(report.statistics_text(report.statistics(_book(args), args.lesson)))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``course`` and ``grade`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser("course", help="build the student notebooks from the lesson masters")
    course_sub = p.add_subparsers(dest="course_command", metavar="ACTION")
    course_sub.required = True
    b = course_sub.add_parser("build", help="regenerate course/lessons from course/source (otter assign)")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and name every student copy that differs from its master")
    b.add_argument("--course", help="course folder with source/ and lessons/ (default: ./course)")
    b.add_argument("--root", help="project folder holding course/ (default: the current folder; the "
                                  "build never writes into the installed package)")
    b.set_defaults(func=_guarded("course build", _course_build))

    g = subparsers.add_parser("grade", help="grade a lesson's submissions into a gradebook")
    g.add_argument("lesson", help="lesson name or unique prefix (e.g. 01), or a path to a master notebook")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb", help="trainees' notebooks")
    g.add_argument("--gradebook", default="grades.db", help="SQLite gradebook file (default grades.db)")
    g.add_argument("--csv", help="also export the whole gradebook to this CSV file (one row per question)")
    g.add_argument("--lms", metavar="FILE", help="also write this lesson's grades as a wide CSV for an LMS")
    g.add_argument("--reports", metavar="DIR", help="folder for the HTML reports (default: reports/LESSON "
                   "next to the gradebook)")
    g.add_argument("--due", metavar="TIME", help="deadline, e.g. 2026-04-01T18:00 (Beijing time unless a zone "
                   "is given); later submissions are flagged late")
    g.add_argument("--times", metavar="FILE", help="CSV with columns trainee, submitted_at (default: each "
                   "file's modification time)")
    g.add_argument("--jobs", type=_positive(int), default=2, help="submissions graded at a time (default 2)")
    g.add_argument("--timeout", type=_positive(float), default=120.0,
                   help="seconds allowed per submission (default 120)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a Dask cluster: its scheduler's tcp://host:port; each notebook runs in a sandbox "
                        "on a worker, which needs bwrap (default: --jobs sandboxes here)")
    g.add_argument("--course", help="course folder with source/ (default: ./course)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.add_argument("--roster", help="CSV with columns file,trainee naming each submission's trainee "
                   "(default: the trainee's name is taken from the file name)")
    g.add_argument("--memory-mb", type=_positive(int), default=sandbox.Limits().memory_mb,
                   help=f"memory (address space) per submission, MiB (default {sandbox.Limits().memory_mb})")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="where bubblewrap is missing, run notebooks without a sandbox anyway (they can read "
                        "and change your files); printed in the summary and stored with each grade")
    g.set_defaults(func=_guarded("grade", _grade))
    _register_gradebook(subparsers)


def _register_gradebook(subparsers: Any) -> None:
    p = subparsers.add_parser("gradebook", help="export, inspect or edit a gradebook without re-grading")
    p.add_argument("--gradebook", default="grades.db", help="SQLite gradebook file (default grades.db)")
    sub = p.add_subparsers(dest="gradebook_command", metavar="ACTION")
    sub.required = True
    e = sub.add_parser("export", help="write grades as CSV: one row per trainee (default) or per question")
    e.add_argument("file", help="CSV file to write")
    e.add_argument("--lesson", help="only this lesson (default: every lesson, columns lesson:question)")
    e.add_argument("--long", action="store_true", help="one row per trainee x lesson x question")
    e.set_defaults(func=_guarded("gradebook export", _export))
    h = sub.add_parser("history", help="every grading recorded, re-grades included")
    h.add_argument("--lesson")
    h.add_argument("--trainee")
    h.set_defaults(func=_guarded("gradebook history", _history))
    r = sub.add_parser("remove", help="delete a trainee's grades")
    r.add_argument("trainee")
    r.add_argument("--lesson", help="only this lesson")
    r.add_argument("--with-history", action="store_true", help="also delete the trainee's history")
    r.set_defaults(func=_guarded("gradebook remove", _remove))
    o = sub.add_parser("report", help="write one HTML feedback report per trainee")
    o.add_argument("lesson")
    o.add_argument("--out", metavar="DIR", help="folder (default: reports/LESSON next to the gradebook)")
    o.set_defaults(func=_guarded("gradebook report", _report))
    s = sub.add_parser("stats", help="per question: mean, share right, most common wrong answers")
    s.add_argument("lesson")
    s.set_defaults(func=_guarded("gradebook stats", _stats))
    lb = sub.add_parser("leaderboard", help="a cohort's capstone ranking: rank, trainee, score, mean profit")
    lb.add_argument("lesson", help="the capstone lesson's name or a unique prefix (e.g. 11)")
    lb.add_argument("--csv", metavar="FILE", help="also write the ranking as CSV")
    lb.set_defaults(func=_guarded("gradebook leaderboard", _leaderboard))


def main(argv: list[str] | None = None) -> int:
    """``python -m shopsim.grading.cli course build ...`` / ``... grade ...``."""
    parser = argparse.ArgumentParser(prog="shopsim", description="Course tooling: build lessons, grade a cohort.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("shopsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
