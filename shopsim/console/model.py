"""The operator console's model: plain Python, no widgets.

It holds one :class:`~shopsim.simulation.Simulation`, the values typed into each lever's
form, and the outcome of the last press of each button. It answers what the console shows:
the header, yesterday's KPI tiles with their change against the day before, the feed of
what happened, the morning checklist, and the charts' data as DataFrames.

Drive it as an operator drives the console::

    m = ConsoleModel("baseline", seed=7)
    m.run_day()                          # the "run one day" button
    m.tiles()                            # yesterday's UV, conversion, AOV, GMV, ad spend, ROAS, net profit
    m.set("set_price", "price", 65)      # type into a lever's form ...
    m.apply("set_price")                 # ... and press its button: a Result, never an exception

Every KPI comes from the ``daily`` table (:mod:`shopsim.reports` defines them once); the
feed comes from the ``events`` table. Tables are read once per change of the simulation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopsim.console import feed as feed_mod
from shopsim.console import levers
from shopsim.errors import ShopsimError
from shopsim.operator import OperatorView
from shopsim.records import DAY_VISITS
from shopsim.reports import local_date, sales_per_day, traffic_by_source
from shopsim.scenario import Scenario
from shopsim.simulation import Simulation

log = logging.getLogger(__name__)
WEEK = 7


@dataclasses.dataclass(frozen=True)
class Result:
    """What pressing a button did: ``ok`` and a message in plain words (never a traceback)."""

    ok: bool
    message: str


@dataclasses.dataclass(frozen=True)
class Tile:
    """A KPI of yesterday: its value, how it changed against the day before, and whether that is good.

    ``tone`` is ``good``, ``bad``, ``flat``, ``neutral`` (no better direction, e.g. ad spend)
    or ``none`` (nothing to compare yet)."""

    key: str
    label: str
    value: float | None
    text: str
    change: float | None
    change_text: str
    tone: str


# key, label, how the value reads, how the change is measured, better direction (+1 up, -1 down, 0 neither)
_TILES = (
    ("uv", "UV 访客数", "count", "relative", 1),
    ("conversion_rate", "Conversion 转化率", "percent", "points", 1),
    ("aov", "AOV 客单价", "yuan", "relative", 1),
    ("gmv", "GMV 成交额", "yuan", "relative", 1),
    ("ad_spend", "Ad spend 推广花费", "yuan", "relative", 0),
    ("roas", "ROAS 投入产出比", "ratio", "difference", 1),
    ("net_profit", "Net profit 净利润", "yuan", "yuan", 1),
)


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


def _show(x: Any, how: str) -> str:
    if _missing(x):
        return "–"
    if how == "count":
        return f"{x:,.0f}"
    if how == "percent":
        return f"{x:.2%}"
    if how == "ratio":
        return f"{x:.2f}"
    return f"-¥{-x:,.0f}" if x < 0 else f"¥{x:,.0f}"


def _tile(key: str, label: str, how: str, change: str, better: int, now: Any, before: Any) -> Tile:
    now = None if _missing(now) else float(now)
    before = None if _missing(before) else float(before)
    if now is None or before is None:
        return Tile(key, label, now, _show(now, how), None, "", "none")
    if change == "relative":
        if before == 0:
            return Tile(key, label, now, _show(now, how), None, "no change" if now == 0 else "new", "neutral")
        delta = now / before - 1
        text, flat = f"{delta:+.1%}", abs(delta) < 0.0005
    elif change == "points":
        delta = now - before
        text, flat = f"{delta * 100:+.2f} pt", abs(delta) < 0.00005
    elif change == "difference":
        delta = now - before
        text, flat = f"{delta:+.2f}", abs(delta) < 0.005
    else:
        delta = now - before
        text, flat = ("+" if delta >= 0 else "-") + f"¥{abs(delta):,.0f}", abs(delta) < 0.5
    tone = "flat" if flat else "neutral" if better == 0 else "good" if delta * better > 0 else "bad"
    return Tile(key, label, now, _show(now, how), delta, f"{text} vs day before", tone)


class ConsoleModel:
    """The console's state and actions (see the module docstring).

    Parameters
    ----------
    scenario:
        A :class:`~shopsim.scenario.Scenario`, a bundled scenario name or a YAML path.
    seed:
        The simulation's seed (required: the same seed and actions give the same shop).
    """

    def __init__(self, scenario: Scenario | str | Path, seed: int) -> None:
        self.sim = Simulation(scenario, seed=seed)
        self.view = OperatorView(self.sim)
        self.values: dict[str, dict[str, Any]] = levers.defaults(self.sim)
        self.results: dict[str, Result | None] = dict.fromkeys(self.values)
        self.last_run: Result | None = None
        self.version = 0  # changes whenever anything the console shows may have changed
        self._since_day = 0  # the feed shows events from the start of the last run
        self._cache: dict[str, tuple[Any, Any]] = {}
        self.actions: list[dict[str, Any]] = []  # every lever applied, as plan steps (shopsim.plans)

    # -- what a user does ------------------------------------------------------------------
    def set(self, lever: str, field: str, value: Any) -> None:
        """Type ``value`` into ``field`` of ``lever``'s form (nothing happens until :meth:`apply`)."""
        form = self.form(lever)
        if field not in {f.name for f in form.fields}:
            raise KeyError(f"the {lever} form has no field {field!r}; it has "
                           f"{', '.join(f.name for f in form.fields)}")
        self.values[lever][field] = value
        follow = levers.FOLLOW.get((lever, field))
        if follow is not None:
            self.values[lever].update({k: v for k, v in follow(self.sim, value).items() if v is not None})

    def apply(self, lever: str) -> Result:
        """Press ``lever``'s button: call the lever with the form's values.

        A bad value gives ``Result(ok=False)`` with the lever's own explanation, and the
        simulation stays exactly as it was."""
        form = self.form(lever)
        try:
            args = levers.arguments(form, self.values[lever])
            day = self.sim.current_day
            getattr(self.sim, lever)(**args)
        except ShopsimError as exc:
            result = Result(False, f"Not done: {exc}. Nothing changed.")
        except Exception as exc:  # a bug, not a bad value: still no traceback in the console
            log.exception("console: %s failed", lever)
            result = Result(False, f"Not done: the simulator failed ({type(exc).__name__}: {exc}).")
        else:
            event = self.sim.tables["events"].iloc[-1]
            target = "" if event["target"] in feed_mod.GENERIC_TARGETS else f" {event['target']}"
            result = Result(True, f"Done: {form.title}{target}: {event['detail']}.")
            self.actions.append({"day": day, "lever": lever, **_plain_arguments(args)})
        self.results[lever] = result
        self.version += 1
        return result

    def plan(self) -> list[dict[str, Any]]:
        """The levers applied so far as a plan (:mod:`shopsim.plans`): one step per applied action.

        ``shopsim.plans.policy(shopsim.plans.check(plan, days))`` replays it: the same scenario,
        seed and plan give the same tables as this console's run.
        """
        return [dict(step) for step in self.actions]

    def save_plan(self, path: str | Path) -> Path:
        """Write :meth:`plan` to ``path`` as JSON (read it back with :func:`shopsim.plans.load`)."""
        import json

        out = Path(path)
        out.write_text(json.dumps(self.plan(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return out

    def run(self, days: int) -> Result:
        """Press a run button: simulate ``days`` more days (1 for "run one day", 7 for "run a week")."""
        first = self.sim.current_day
        try:
            self.sim.run(days)
        except ShopsimError as exc:
            self.last_run = Result(False, f"Not run: {exc}.")
        except Exception as exc:
            log.exception("console: run failed")
            self.last_run = Result(False, f"The simulation stopped: {type(exc).__name__}: {exc}.")
        else:
            self._since_day = first
            daily = self.daily()
            ran = daily[daily["date"] >= pd.Timestamp(self.sim.clock.date(first))]
            span = (f"{ran['date'].iloc[0]:%a %m-%d}" if len(ran) == 1 else
                    f"{len(ran)} days, {ran['date'].iloc[0]:%m-%d} to {ran['date'].iloc[-1]:%m-%d}")
            self.last_run = Result(True, f"Ran {span}: GMV {_show(ran['gmv'].sum(), 'yuan')}, "
                                   f"net profit {_show(ran['net_profit'].sum(), 'yuan')}.")
        self.version += 1
        return self.last_run

    def run_day(self) -> Result:
        """The "run one day" button."""
        return self.run(1)

    def run_week(self) -> Result:
        """The "run a week" button."""
        return self.run(WEEK)

    # -- what the console shows ------------------------------------------------------------
    def forms(self) -> dict[str, levers.Form]:
        """Every lever's form, with choices as they stand now (keyed by lever name)."""
        hit = self._cache.get("forms")
        if hit is not None and hit[0] == self.version:
            return hit[1]
        found = levers.forms(self.sim)
        self._cache["forms"] = (self.version, found)
        for key, form in found.items():  # a choice that went away (an answered review) falls back to the first
            for f in form.fields:
                allowed = [v for _, v in f.options]
                if f.kind == "choice" and not any(_same(self.values[key].get(f.name), v) for v in allowed):
                    self.values[key][f.name] = allowed[0]
        return found

    def form(self, lever: str) -> levers.Form:
        """One lever's form."""
        found = self.forms()
        if lever not in found:
            raise KeyError(f"no lever {lever!r}; the console's levers are {', '.join(found)}")
        return found[lever]

    def header(self) -> str:
        """One line: the shop, the scenario and seed, and which morning it is."""
        sim = self.sim
        day = sim.current_day
        planned = sim.scenario.days
        of = f"day {day + 1} of {planned}" if day < planned else f"day {day + 1} ({planned} planned)"
        return (f"{sim.scenario.shop.name} · {sim.scenario.name} (seed {sim.seed}) · "
                f"morning of {sim.today:%a %Y-%m-%d}, {of}")

    def daily(self) -> pd.DataFrame:
        """The daily report (日报) so far (read once per simulated day)."""
        return self._cached("daily", self.sim.days_run, lambda: self.sim.tables["daily"])

    def yesterday(self) -> pd.Series | None:
        """The last finished day's row of the daily report (None before the first day)."""
        daily = self.daily()
        return None if daily.empty else daily.iloc[-1]

    def tiles(self) -> list[Tile]:
        """Yesterday's KPIs, each with its change against the day before."""
        daily = self.daily()
        now = daily.iloc[-1] if len(daily) else None
        before = daily.iloc[-2] if len(daily) > 1 else None
        return [_tile(key, label, how, change, better, None if now is None else now[key],
                      None if before is None else before[key])
                for key, label, how, change, better in _TILES]

    def events_since_last_run(self) -> pd.DataFrame:
        """Rows of the ``events`` table from the start of the last run (and this morning's actions)."""
        def window() -> pd.DataFrame:
            events = self.sim.tables["events"]
            start = self.sim.clock.timestamps(np.array([self._since_day * 86_400]))[0]
            return events[events["ts"] >= start]
        return self._cached("window", self.version, window)

    def feed(self, limit: int = 80) -> list[feed_mod.FeedItem]:
        """What happened since the last run began, newest first."""
        return feed_mod.feed_items(self.events_since_last_run(), limit)

    def checklist(self) -> list[feed_mod.Check]:
        """The morning checklist (budget, stock, bad reviews, rivals, festivals, profit)."""
        def build() -> list[feed_mod.Check]:
            return feed_mod.checklist(window=self.events_since_last_run(), reviews=self.sim.tables["reviews"],
                                      stock=self.stock(), festivals=self.view.festivals(),
                                      bids=self.view.keyword_bids(), today=self.sim.today,
                                      yesterday=self.yesterday(), campaign=self.view.campaign(),
                                      quality=self.view.quality_scores())
        return self._cached("checklist", self.version, build)

    def service_panel(self) -> dict[str, Any]:
        """The service panel (客服): the last day's queue by hour (inquiries, the share answered
        before the shopper gave up, average first response in seconds, agents on duty), its
        inquiries, 询单转化率, first response and complaints, the open refund requests and disputes."""
        def build() -> dict[str, Any]:
            desk = self.view.service()
            service = self.sim.tables["service"]
            last = service[local_date(service["ts"]) == local_date(service["ts"]).max()] if len(service) else service
            hour = last["ts"].dt.hour
            by_hour = pd.DataFrame({
                "inquiries": last.groupby(hour).size(),
                "answered_share": last.groupby(hour)["answered"].mean(),
                "first_response_s": last.groupby(hour)["first_response_s"].mean().astype(float),
            }).reindex(range(24)).rename_axis("hour")
            by_hour["inquiries"] = by_hour["inquiries"].fillna(0).astype(np.int64)
            by_hour["agents"] = desk["rota"]
            return {"by_hour": by_hour.reset_index(), "yesterday": desk["yesterday"], "rota": desk["rota"],
                    "open_refunds": desk["open_refunds"], "open_disputes": desk["open_disputes"]}
        return self._cached("service", self.version, build)

    # -- chart data ------------------------------------------------------------------------
    def gmv_profit(self) -> pd.DataFrame:
        """GMV and net profit by day, yuan."""
        return _columns(self.daily(), ("date", "gmv", "net_profit"))

    def conversion(self) -> pd.DataFrame:
        """Conversion rate (buyers / UV) by day."""
        return _columns(self.daily(), ("date", "conversion_rate"))

    def traffic_by_source(self) -> pd.DataFrame:
        """Visits by traffic source and day: one row per day, one column per source seen."""
        return self._cached("traffic", self.sim.days_run, self._count_traffic)

    def _count_traffic(self) -> pd.DataFrame:
        book = self.sim.records.day_book(columns=DAY_VISITS)
        return traffic_by_source({c: v for c, v in book.items() if c not in DAY_VISITS or v.any()})

    def stock(self) -> pd.DataFrame:
        """Stock per SKU now: on hand, on order, lead time, days of cover at the last 7 days' sales
        (inf when nothing sold), and hours it was sold out yesterday."""
        def build() -> pd.DataFrame:
            view = self.view
            skus = view.skus
            inv = self.sim.tables["inventory"]
            per_day = np.zeros(len(skus))
            out_hours = np.zeros(len(skus))
            if len(inv):
                dates = inv["date"].to_numpy()
                code = inv["sku"].cat.codes.to_numpy()
                where = pd.Index(inv["sku"].cat.categories).get_indexer(skus)
                last = dates == dates.max()
                size = len(inv["sku"].cat.categories)
                rate = sales_per_day(inv, 7)
                per_day = np.array([rate.get(s, 0.0) for s in skus])
                out_hours = np.bincount(code[last], weights=inv["stockout_hours"].to_numpy()[last],
                                        minlength=size)[where]
            on_hand = np.array(list(view.stock().values()), dtype=np.int64)
            with np.errstate(divide="ignore"):
                cover = np.where(per_day > 0, on_hand / np.where(per_day > 0, per_day, 1), np.inf)
            return pd.DataFrame({"sku": skus, "on_hand": on_hand,
                                 "on_order": np.array(list(view.on_order().values()), dtype=np.int64),
                                 "lead_time_days": np.array(list(view.lead_times().values()), dtype=np.int64),
                                 "days_of_cover": cover, "stockout_hours": out_hours})
        return self._cached("stock", self.version, build)

    # -- helpers ---------------------------------------------------------------------------
    def _cached(self, name: str, key: Any, build: Callable[[], Any]) -> Any:
        hit = self._cache.get(name)
        if hit is None or hit[0] != key:
            hit = self._cache[name] = (key, build())
        return hit[1]

    @property
    def today(self) -> dt.date:
        """The date of the morning the console is at."""
        return self.sim.today


def _plain_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """A lever's arguments as plain JSON data (numpy numbers become Python numbers, tuples lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return {k: plain(v) for k, v in args.items()}


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Some columns of a frame, as a new frame on the same arrays (``frame[list]`` looks the names
    up through pandas' indexers, several times slower on the console's small frames)."""
    return pd.DataFrame({name: frame[name] for name in names}, copy=False)


def _same(a: Any, b: Any) -> bool:
    """Equal, and not merely because True == 1 or 0 == False."""
    return isinstance(a, bool) == isinstance(b, bool) and isinstance(a, str) == isinstance(b, str) and a == b
