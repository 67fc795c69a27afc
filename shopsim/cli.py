"""The ``shopsim`` command: list, validate and run scenarios (and, via plug-ins, grading).

Errors are one readable message on stderr and a non-zero exit (2 for bad input), never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from shopsim import reports
from shopsim.errors import ScenarioError, ShopsimError
from shopsim.export import TableFiles
from shopsim.scenario import bundled, load_scenario
from shopsim.simulation import TABLES, Simulation

#: A run expected to take longer than this (seconds) shows a progress bar on stderr.
_PROGRESS_FROM_SECONDS = 2.0
#: The commands of this module; any other needs the plug-ins (grading, console, sweep) loaded.
_CORE_COMMANDS = ("scenarios", "validate", "run", "dataset")


def _scenarios(args: argparse.Namespace) -> int:
    for name, description in bundled().items():
        print(f"{name:<22} {description}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file, args.set, root=args.root)
    print(f"{args.file}: valid ({len(sc.skus)} SKUs, {len(sc.keywords)} keywords, "
          f"{len(sc.rivals)} rivals, {sc.days} days from {sc.start})")
    return 0


def _run(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario, args.set, root=args.root)
    days = sc.days if args.days is None else args.days
    if args.out is not None:
        _check_out(Path(args.out), args.force)
    sim = Simulation(sc, seed=args.seed)
    files = TableFiles(sim, Path(args.out), args.format) if args.out is not None else None
    _run_with_progress(sim, days)
    if files is not None:
        files.finish()
    book = sim.records.day_book()
    pnl = reports.pnl_columns(book, sc.shop, sc.returns.insurance_premium)
    daily = reports.daily_columns(book, pnl)
    print(f"scenario {sc.name}, seed {args.seed}, {days} days from {sc.start}\n")
    print("Daily report (日报)")
    print(_daily_text(daily))
    print()
    print(reports.summary(daily, pnl, *sim.records.run_people()))
    if args.out is not None:
        print(f"\ntables written to {args.out}/ ({args.format}): {', '.join(TABLES)}")
    return 0


def _run_with_progress(sim: Simulation, days: int) -> None:
    """Run day by day; once the run looks longer than ``_PROGRESS_FROM_SECONDS``, show a tqdm bar."""
    started, bar = time.perf_counter(), None
    for done in range(1, days + 1):
        sim.run(1)
        if bar is not None:
            bar.update(1)
        elif done < days and (time.perf_counter() - started) * days / done > _PROGRESS_FROM_SECONDS:
            from tqdm import tqdm

            bar = tqdm(total=days, initial=done, unit="day", desc="simulating", file=sys.stderr, leave=False)
    if bar is not None:
        bar.close()


def _daily_text(daily: Mapping[str, Any]) -> str:
    """The daily report's main columns as a right-aligned text table (one line per day)."""
    def money(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:,.0f}"

    def share(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.2%}"

    formats = {"uv": str, "pv": str, "orders": str, "gmv": money, "conversion_rate": share, "aov": money,
               "bounce_rate": share, "net_profit": money}
    shown = {"date": [str(d) for d in np.asarray(daily["date"]).astype("datetime64[D]")]}
    shown.update({c: [how(v.item()) for v in np.asarray(daily[c])] for c, how in formats.items()})
    widths = {c: max(len(c), *(len(v) for v in values)) for c, values in shown.items()}
    lines = [" ".join(c.rjust(widths[c]) for c in shown)]
    lines += [" ".join(shown[c][i].rjust(widths[c]) for c in shown) for i in range(len(shown["date"]))]
    return "\n".join(lines)


def _check_out(out: Path, force: bool) -> None:
    """``--out`` must be a new or empty folder, unless ``--force`` (then its table files are replaced)."""
    if out.exists() and not out.is_dir():
        raise ShopsimError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ShopsimError(f"--out {out} is not empty; choose a new folder, or add --force to replace "
                           "the table files in it")


def non_negative(text: str) -> int:
    """argparse type: a whole number of 0 or more (one readable message otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def whole_in_range(low: int, high: int, what: str):
    """argparse type: a whole number from ``low`` to ``high`` (``what`` names it in the message)."""

    def parse(text: str) -> int:
        value = non_negative(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {low} to {high} {what}")
        return value

    return parse


_days = whole_in_range(1, 3660, "days")


def _dataset(args: argparse.Namespace) -> int:
    from shopsim import datasets

    writing = args.action == "build" and not args.check
    root = project_folder(args.root, "datasets", "dataset build") if writing or args.root else None
    chosen = args.names or datasets.names(root)
    if args.action == "list":
        for name in chosen:
            r = datasets.recipe(name, root)
            print(f"{name:<22} {r.description} (lessons: {r.lesson})")
        return 0
    if args.check:
        stale = {name: datasets.check(name, root) for name in chosen}
        for name, files in stale.items():
            print(f"{name}: {'differs: ' + ', '.join(files) if files else 'in sync'}")
        return 1 if any(stale.values()) else 0
    for name in chosen:
        print(f"{name}: written to {datasets.build(name, root=root)}")
    return 0


def project_folder(root: str | None, sub: str, command: str) -> Path:
    """The ``sub`` folder (``datasets``, ``course``) of the project a content-building command writes into:
    ``--root DIR``'s, else the current folder's; never the installed package's."""
    base = Path(root) if root is not None else Path.cwd()
    folder = base / sub
    if not folder.is_dir():
        where = f"--root {root}" if root is not None else f"the current folder ({base})"
        raise ShopsimError(f"{where} has no {sub}/ folder; run `shopsim {command}` in the project folder "
                           "or give --root PROJECT_FOLDER")
    return folder


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The argument parser of the ``shopsim`` command (``plugins``: with the grading, console
    and sweep commands)."""
    parser = argparse.ArgumentParser(prog="shopsim", description="Simulate an online shop and its market.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("scenarios", help="list the bundled scenarios with one-line summaries")
    p.set_defaults(func=_scenarios)
    p = sub.add_parser("validate", help="check a scenario file; exit 2 with one line per problem")
    p.add_argument("file", help="path to a scenario YAML file (or a bundled name)")
    _scenario_options(p)
    p.set_defaults(func=_validate)
    p = sub.add_parser("run", help="run a scenario, print the daily report and P&L, optionally write tables")
    p.add_argument("scenario", help="bundled scenario name or path to a YAML file")
    p.add_argument("--days", type=_days, help="days to simulate (default: the scenario's length)")
    p.add_argument("--seed", type=non_negative, default=1, help="random seed (default 1)")
    _scenario_options(p)
    p.add_argument("--out", help="new or empty folder to write one file per table into")
    p.add_argument("--force", action="store_true", help="write into a --out folder that is not empty")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="table file format (default csv)")
    p.set_defaults(func=_run)
    p = sub.add_parser("dataset", help="list the frozen datasets, or regenerate (build) or --check them")
    p.add_argument("action", choices=("list", "build"), help="list them, or build them from their recipes")
    p.add_argument("names", nargs="*", help="dataset names (default: all)")
    p.add_argument("--check", action="store_true", help="rebuild in a temporary folder and report differences")
    p.add_argument("--root", help="project folder holding datasets/ (default: the current folder; "
                                  "build writes there, never into the installed package)")
    p.set_defaults(func=_dataset)
    for plugin in _plugins() if plugins else ():
        plugin(sub)
    return parser


def _scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field before validation, e.g. --set skus.TEE-CLASSIC.price=65 "
                        "(repeatable)")
    p.add_argument("--root", help="folder that files named by extends: must stay in (default: the scenario "
                                  "file's folder)")


def _plugins() -> list:
    """Subcommands contributed by other parts of the package: ``grade`` and ``course`` (grading),
    ``console`` (the operator console served with Voila), ``sweep`` (policies over seeds on Dask)."""
    from shopsim import sweep_cli
    from shopsim.console import serve as console_serve
    from shopsim.grading import cli as grading_cli

    return [grading_cli.register, console_serve.register, sweep_cli.register]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``shopsim`` console script; returns the exit code."""
    with printable_output():
        given = sys.argv[1:] if argv is None else argv
        command = next((a for a in given if not a.startswith("-")), None)
        parser = build_parser(plugins=command not in _CORE_COMMANDS)  # the plug-ins import a lot
        args = parser.parse_args(argv)
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except ScenarioError as exc:
        for source, problem in exc.lines():
            print(f"{source}: {problem}", file=sys.stderr)
        return 2
    except ShopsimError as exc:
        print(f"shopsim {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("shopsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


#: Control characters a terminal would act on (colour, cursor moves, title changes), but not
#: newline and tab; carriage return too on stdout (the progress bar on stderr needs it).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_CR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class _Printable:
    """A text stream that drops control characters before passing text on (names and messages
    printed by the CLI come from scenario files, notebooks and trainees)."""

    def __init__(self, stream: object, pattern: re.Pattern[str]) -> None:
        self._stream = stream
        self._pattern = pattern

    def write(self, text: str) -> int:
        self._stream.write(self._pattern.sub("", text))  # type: ignore[attr-defined]
        return len(text)

    def flush(self) -> None:
        self._stream.flush()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextlib.contextmanager
def printable_output() -> Iterator[None]:
    """Strip control characters from everything printed to stdout and stderr inside the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(out, _CONTROL), _Printable(err, _CONTROL_KEEP_CR)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


if __name__ == "__main__":
    sys.exit(main())
