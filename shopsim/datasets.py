"""Frozen datasets the lessons load, and the builder that regenerates them byte for byte.

Each dataset is a folder ``datasets/<name>/`` holding:

- ``dataset.yaml``: the recipe: ``scenario`` (a bundled name), ``seed``, ``days`` (optional),
  ``tables`` (which tables to keep), ``lesson`` and ``description``, optional ``set``
  (``path=value`` scenario overrides) and optional ``actions``: operator levers pulled on a
  given morning (``{day: 0, lever: discount, args: {sku: SHIRT-FLANNEL, share_off: 0.3, days: 30}}``),
  so a dataset can hold what an operator did (a discount, a coupon) as well as what happened;
- one ``<table>.parquet`` per kept table (zstd-compressed, dtypes preserved);
- ``SHA256SUMS``: the checksum of every table file;
- ``README.md``: what the dataset is, its columns, which lesson uses it.

Lessons call :func:`load` (never a path). ``shopsim dataset build NAME`` regenerates a dataset
from its recipe; ``shopsim dataset build --check`` rebuilds every one in a temporary folder
and fails on any byte that differs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shopsim.errors import ShopsimError, shown
from shopsim.scenario import load_scenario
from shopsim.scenario_files import presets, read
from shopsim.simulation import TABLES, Simulation

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
_RECIPE_KEYS = {"scenario", "seed", "days", "tables", "lesson", "description", "set", "actions"}
#: Levers a recipe's ``actions`` may pull (promotions and prices: what a dataset needs to show).
ACTION_LEVERS = ("set_price", "discount", "flash_sale", "issue_coupon", "spend_and_save", "reorder",
                 "set_keyword_bid", "set_ad_budget", "set_affiliate_commission", "set_display")


def folder() -> Path:
    """Where the datasets live: ``$SHOPSIM_DATASETS`` or the project's ``datasets/`` folder."""
    env = os.environ.get("SHOPSIM_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "datasets"


@dataclass(frozen=True)
class Recipe:
    """How a dataset is made: which scenario, seed, days and tables."""

    name: str
    scenario: str
    seed: int
    days: int | None
    tables: tuple[str, ...]
    lesson: str
    description: str
    overrides: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Action:
    """One operator lever pulled by a recipe: ``lever(**args)`` on the morning of ``day`` (0 = the first day)."""

    day: int
    lever: str
    args: tuple[tuple[str, object], ...]


def names(root: Path | None = None) -> list[str]:
    """Names of every dataset (folders with a ``dataset.yaml``)."""
    root = root or folder()
    return sorted(p.parent.name for p in root.glob("*/dataset.yaml"))


def recipe(name: str, root: Path | None = None) -> Recipe:
    """Read and check a dataset's ``dataset.yaml`` (``name`` is a folder name inside the datasets folder)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ShopsimError(f"{shown(name)} is not a dataset name (letters, digits, _ and -); "
                           f"datasets are: {', '.join(names(root)) or 'none'}")
    path = (root or folder()) / name / "dataset.yaml"
    if not path.is_file():
        raise ShopsimError(f"no dataset {name!r}; datasets are: {', '.join(names(root)) or 'none'}")
    data = read(path, str(path))
    unknown = set(data) - _RECIPE_KEYS
    if unknown:
        raise ShopsimError(f"{path}: unknown keys {', '.join(sorted(unknown))}; "
                           f"allowed: {', '.join(sorted(_RECIPE_KEYS))}")
    tables = tuple(data.get("tables") or TABLES)
    bad = [t for t in tables if t not in TABLES]
    if bad or "scenario" not in data or not isinstance(data.get("seed"), int):
        raise ShopsimError(f"{path}: needs scenario, an integer seed and tables from {', '.join(TABLES)}"
                           + (f" (unknown: {', '.join(bad)})" if bad else ""))
    if data["scenario"] not in presets():
        raise ShopsimError(f"{path}: scenario {shown(data['scenario'])} is not a bundled scenario; "
                           f"bundled: {', '.join(presets())}")
    return Recipe(name, str(data["scenario"]), int(data["seed"]), data.get("days"), tables,
                  str(data.get("lesson", "")), str(data.get("description", "")), tuple(data.get("set") or ()),
                  _actions(data.get("actions"), path))


def _actions(raw: object, path: Path) -> tuple[Action, ...]:
    """The recipe's ``actions`` as :class:`Action` rows, in day order, or one error saying what is allowed."""
    if raw is None:
        return ()
    allowed = f"each action is {{day: N, lever: NAME, args: {{...}}}} with a lever from {', '.join(ACTION_LEVERS)}"
    if not isinstance(raw, list):
        raise ShopsimError(f"{path}: actions must be a list; {allowed}")
    out = []
    for i, item in enumerate(raw):
        ok = (isinstance(item, dict) and set(item) <= {"day", "lever", "args"} and isinstance(item.get("day"), int)
              and not isinstance(item.get("day"), bool) and item["day"] >= 0 and item.get("lever") in ACTION_LEVERS
              and isinstance(item.get("args", {}), dict))
        if not ok:
            raise ShopsimError(f"{path}: actions[{i}] = {shown(item)} is not an action; {allowed}")
        out.append(Action(item["day"], item["lever"], tuple(sorted(item.get("args", {}).items()))))
    return tuple(sorted(out, key=lambda a: a.day))


def run(r: Recipe) -> Simulation:
    """Simulate a recipe: its scenario and seed, with its actions pulled on their mornings."""
    sim = Simulation(load_scenario(r.scenario, r.overrides), seed=r.seed)
    days = r.days if r.days is not None else sim.scenario.days
    for action in r.actions:
        if action.day >= days:
            raise ShopsimError(f"dataset {r.name}: an action on day {action.day} never happens "
                               f"(the run has {days} days)")
        sim.run(action.day - sim.current_day)
        getattr(sim, action.lever)(**dict(action.args))
    return sim.run(days - sim.current_day)


def build(name: str, out: Path | None = None, root: Path | None = None) -> Path:
    """Run a dataset's recipe and write its tables and checksums into ``out`` (default: its folder)."""
    r = recipe(name, root)
    target = out or (root or folder()) / name
    target.mkdir(parents=True, exist_ok=True)
    sim = run(r)
    sums = []
    for table in r.tables:
        path = target / f"{table}.parquet"
        sim.tables[table].to_parquet(path, index=False, compression="zstd")
        sums.append(f"{_sha256(path)}  {path.name}")
    (target / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return target


def check(name: str, root: Path | None = None) -> list[str]:
    """Rebuild a dataset in a temporary folder; return the files that differ from the committed ones."""
    committed = (root or folder()) / name
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build(name, Path(tmp), root)
        want = (fresh / "SHA256SUMS").read_text(encoding="utf-8")
    have = (committed / "SHA256SUMS").read_text(encoding="utf-8") if (committed / "SHA256SUMS").is_file() else ""
    differ = sorted(set(want.splitlines()) ^ set(have.splitlines()))
    files = {line.split()[-1] for line in differ}
    files |= {f"{t}.parquet" for t in recipe(name, root).tables
              if not (committed / f"{t}.parquet").is_file()
              or f"{_sha256(committed / f'{t}.parquet')}  {t}.parquet" not in have}
    return sorted(files)


class Dataset(Mapping[str, pd.DataFrame]):
    """A loaded dataset: its tables by name (read on first access) and its recipe."""

    def __init__(self, name: str, root: Path | None = None) -> None:
        self.recipe = recipe(name, root)
        self._dir = (root or folder()) / name
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.recipe.tables:
            raise KeyError(f"dataset {self.recipe.name} has no table {table!r}; it has: "
                           f"{', '.join(self.recipe.tables)}")
        if table not in self._cache:
            self._cache[table] = pd.read_parquet(self._dir / f"{table}.parquet")
        return self._cache[table].copy()

    def __iter__(self) -> Iterator[str]:
        return iter(self.recipe.tables)

    def __len__(self) -> int:
        return len(self.recipe.tables)

    def __repr__(self) -> str:
        return f"<dataset {self.recipe.name}: {self.recipe.description} Tables: {', '.join(self.recipe.tables)}>"


def load(name: str) -> Dataset:
    """Load a shipped dataset by name: ``shopsim.datasets.load("baseline_month")["daily"]``."""
    return Dataset(name)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
