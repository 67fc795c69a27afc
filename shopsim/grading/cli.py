"""The ``grade`` and ``course`` subcommands of ``shopsim`` (also runnable on their own).

::

    shopsim course build [--course DIR] [--check]
    shopsim grade LESSON SUBMISSION.ipynb... [--gradebook grades.db] [--csv grades.csv]
                  [--jobs N | --scheduler ADDRESS] [--timeout S] [--course DIR] [--no-progress]

``shopsim.cli`` adds them with :func:`register`; ``python -m shopsim.grading.cli ...`` runs
them without it. Every error is one line on stderr and exit code 2, never a traceback;
``course build --check`` exits 1 when a student copy is out of sync and names it.
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
from shopsim.grading.batch import FAILED, BatchError, Outcome, grade_batch
from shopsim.grading.build import BuildError, Course, build_course, build_lesson
from shopsim.grading.gradebook import Gradebook, GradebookError

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
    root = Path(args.course) if args.course else default_course()
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


def _summary(outcomes: list[Outcome]) -> str:
    width = max((len(o.submission.trainee) for o in outcomes), default=7)
    lines = [f"{'trainee':<{width}}  {'points':>9}  status       reason"]
    for o in outcomes:
        pts = f"{o.points:g}/{o.max_points:g}"
        lines.append(f"{o.submission.trainee:<{width}}  {pts:>9}  {o.status:<11}  {o.reason}".rstrip())
    failed = sum(o.status in FAILED for o in outcomes)
    lines.append(f"{len(outcomes)} submission{'s' if len(outcomes) != 1 else ''} graded"
                 + (f", {failed} could not be run to the end (scored 0)" if failed else ""))
    return "\n".join(lines)


def _grade(args: argparse.Namespace) -> int:
    course = Course(Path(args.course) if args.course else default_course())
    master = course.master(args.lesson)
    book = Gradebook(Path(args.gradebook))
    lesson = build_lesson(master)
    from tqdm import tqdm

    with contextlib.ExitStack() as stack:
        client = None
        if args.scheduler is not None:
            from shopsim.cluster import connect

            client = stack.enter_context(connect(args.scheduler))
        bar = stack.enter_context(tqdm(total=len(args.submissions), unit="notebook", desc=f"grading {lesson.name}",
                                       file=sys.stderr, disable=args.no_progress, leave=False))
        outcomes = grade_batch(lesson, [Path(p) for p in args.submissions], book, jobs=args.jobs,
                               timeout=args.timeout, on_done=lambda _: bar.update(1), client=client)
    print(_summary(outcomes))
    print(f"gradebook: {_shown(book.path)}")
    if args.csv:
        rows = book.export_csv(Path(args.csv))
        print(f"csv: {_shown(Path(args.csv))} ({rows} rows)")
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
    b.set_defaults(func=_guarded("course build", _course_build))

    g = subparsers.add_parser("grade", help="grade a lesson's submissions into a gradebook")
    g.add_argument("lesson", help="lesson name or unique prefix (e.g. 01), or a path to a master notebook")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb", help="trainees' notebooks")
    g.add_argument("--gradebook", default="grades.db", help="SQLite gradebook file (default grades.db)")
    g.add_argument("--csv", help="also export the whole gradebook to this CSV file")
    g.add_argument("--jobs", type=_positive(int), default=2, help="submissions graded at a time (default 2)")
    g.add_argument("--timeout", type=_positive(float), default=120.0,
                   help="seconds allowed per submission (default 120)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a Dask cluster: its scheduler's tcp://host:port (default: --jobs processes here)")
    g.add_argument("--course", help="course folder with source/ (default: ./course)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    g.set_defaults(func=_guarded("grade", _grade))


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
