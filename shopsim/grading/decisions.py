"""Decisions graded by simulation: a trainee's plan run on seeds they have not seen.

A decision exercise asks for a plan (:mod:`shopsim.plans`: steps and reorder rules, as data).
:func:`evaluate_plan` runs it on each grading seed, beside doing nothing and beside the
instructor's reference (a plan, or a policy of :mod:`shopsim.policies` by name), all on the
same seeds (common random numbers), and scores how much of the reference's gain over doing
nothing the plan captured.

Per seed, with ``m`` the objective (net profit over the run unless the exercise says otherwise)::

    share = (m_plan - m_nothing) / max(m_reference - m_nothing, floor)

where ``floor`` is 2 % of ``|m_nothing|`` or 100 (yuan, or the objective's unit), so a
reference that barely beats doing nothing does not make shares explode. A seed on which the
plan breaks one of the exercise's limits (``at_least``, ``at_most``) scores a share of 0.
The plan's share is the mean over seeds, each clipped to [-1, 1.5]. Where the floor is above
the reference's own gain, the reference itself captures less than 100 %; a check's bar is then
never above the reference's own share (:meth:`DecisionResult.bar`). :attr:`DecisionResult.notes`
says what happened in words an operator uses: the stock-outs, paid traffic against its
break-even, discounts and refunds, and the result against both yardsticks. Runs are cached
per (plan, scenario, seed, days) in the process, so checks that grade the same plan at
several thresholds run it once; with ``$SHOPSIM_RUN_CACHE`` set (:data:`RUN_CACHE_ENV`, a
trusted folder: a test session sets it) they are also kept there for other processes.

A stock-out costs more than the sales it loses (shoppers who find a listing sold out go to a rival
and the listing's rank falls), so a festival plan can be graded on ``"net_profit_less_lost:30"``:
net profit less 30 yuan per unit of demand lost to stock-outs (:func:`lost_units`, an estimate
from the inventory and daily tables; :data:`PENALISED` names the form).

An objective may also be one own SKU's, written ``"kind:SKU"`` (:data:`SKU_OBJECTIVES`, e.g.
``"sku_contribution:TEE-WAFFLE"``): a launch or a single product's decision is graded on that
product's own P&L (单品盈亏, :func:`sku_pnl`), which a month of the whole shop's profit would
drown in the noise of the other products.

Nothing of the trainee's runs here but their plan's numbers and names: the levers refuse a
bad value with a reason, which fails the decision with that reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import shopsim
from shopsim import plans, policies

#: What a decision can be scored on: name -> (what it means, how it is read from a finished run's
#: tables and its scenario).
OBJECTIVES: dict[str, tuple[str, Callable[[Any, shopsim.Scenario], float]]] = {
    "net_profit": ("net profit (yuan)", lambda t, sc: float(t["pnl"]["net_profit"].sum())),
    "contribution": ("contribution (yuan)", lambda t, sc: float(t["pnl"]["contribution"].sum())),
    "gmv": ("GMV (yuan)", lambda t, sc: float(t["daily"]["gmv"].sum())),
    "orders": ("paid orders", lambda t, sc: float(t["daily"]["orders"].sum())),
    "ad_spend": ("ad spend (yuan)",
                 lambda t, sc: float(t["pnl"][["ad_spend_search", "ad_spend_display"]].sum().sum())),
    "stockout_hours": ("hours out of stock, all SKUs", lambda t, sc: float(t["inventory"]["stockout_hours"].sum())),
    "refund_amount": ("refunds (yuan)", lambda t, sc: float(t["daily"]["refund_amount"].sum())),
    "customer_service": ("customer-service wages (yuan)", lambda t, sc: float(t["pnl"]["customer_service"].sum())),
    "crm_orders": ("orders paid in visits CRM messages brought",
                   lambda t, sc: float((t["orders"]["source"] == "crm").sum())),
    "crm_contribution": ("contribution of the CRM campaign (its own P&L, yuan)", lambda t, sc: crm_contribution(t, sc)),
    "lost_units": ("units of demand lost to stock-outs (estimate)", lambda t, sc: float(lost_units(t).sum())),
}
#: Net profit less a stated penalty per unit of demand lost to stock-outs: ``"net_profit_less_lost:YUAN"``.
PENALISED = "net_profit_less_lost"
#: Objectives of one own SKU, named ``"kind:SKU"``: kind -> what it means (``{sku}`` is filled in).
#: They are read from :func:`sku_pnl`'s column of the same name without the ``sku_`` prefix.
SKU_OBJECTIVES: dict[str, str] = {
    "sku_contribution": "contribution of {sku} (its own P&L, yuan)",
    "sku_gmv": "GMV of {sku} (yuan)",
    "sku_units": "units of {sku} sold",
}
#: Clip of one seed's share of the reference's gain.
SHARE_RANGE = (-1.0, 1.5)
_FLOOR_SHARE, _FLOOR = 0.02, 100.0

_RUNS: dict[tuple[str, str, int, int | None], Any] = {}
#: A folder where runs are also kept for other processes (one JSON file per run, named by a digest of
#: the run's key and of shopsim's code): a test session sets it so that a master's run, the grading of
#: its submissions and the story tests share their runs. Unset (the default), runs are kept per process.
#: Only trusted processes may write there: a trainee's code never sees it.
RUN_CACHE_ENV = "SHOPSIM_RUN_CACHE"


class Measured(dict):
    """A run's objectives by name; a penalised objective (``"net_profit_less_lost:30"``) is worked out when asked."""

    def __missing__(self, key: str) -> float:
        kind, colon, yuan = key.partition(":")
        if kind != PENALISED or not colon:
            raise KeyError(key)
        return self["net_profit"] - _penalty(yuan) * self["lost_units"]


def _penalty(text: str) -> float:
    """The yuan per lost unit of a penalised objective's name; ValueError unless a number from 0 to 10,000."""
    try:
        yuan = float(text)
    except ValueError:
        yuan = float("nan")
    if not 0 <= yuan <= 10_000:
        raise ValueError(f"{PENALISED}:{text} needs yuan per lost unit from 0 to 10,000 after the colon, "
                         f"e.g. '{PENALISED}:30'")
    return yuan


def lost_units(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Units of demand each own SKU lost to stock-outs over a run (an estimate), by SKU.

    A SKU's sales rate while in stock (units per hour, with each day's hours weighted by the
    shop's visits that day against the run's average, so a festival day counts for its crowd)
    times its sold-out hours, weighted the same way. It ignores the hour of the day a SKU sold
    out and the shoppers who bought another product instead, and a SKU sold out for the whole
    run (no rate to read) counts 0.
    """
    inventory = tables["inventory"]
    visits = tables["daily"].set_index("date")["sessions"].astype(float)
    weight = inventory["date"].map(visits / max(float(visits.mean()), 1.0)).fillna(1.0).to_numpy()
    out = inventory["stockout_hours"].to_numpy(dtype=float)
    sku = inventory["sku"].astype(str).to_numpy()
    frame = pd.DataFrame({"sku": sku, "sold": inventory["sold"].to_numpy(dtype=float),
                          "open": (24.0 - out) * weight, "out": out * weight})
    per_sku = frame.groupby("sku", sort=False)[["sold", "open", "out"]].sum()
    rate = (per_sku["sold"] / per_sku["open"].where(per_sku["open"] > 0)).fillna(0.0)
    return (rate * per_sku["out"]).rename("lost_units")


@dataclass(frozen=True)
class DecisionResult:
    """How a plan did on each seed.

    ``table`` has one row per seed: ``seed``, ``plan``, ``nothing`` and ``reference`` (the
    objective, e.g. net profit in yuan), ``share`` (of the reference's gain over doing
    nothing) and ``within_limits``. ``share`` is the mean share; ``notes`` say what happened
    on the first seed; ``refusals`` are steps the levers refused (day, step, reason).
    """

    objective: str
    table: pd.DataFrame
    share: float
    notes: tuple[str, ...]
    refusals: tuple[tuple[int, str, str], ...] = ()
    limits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reference_share(self) -> float:
        """The reference plan's own share on these seeds: 1, or less where its gain over doing
        nothing falls below the floor of the module's formula."""
        t = self.table
        shares = [seed_share(r, n, r) for n, r in zip(t["nothing"], t["reference"], strict=True)]
        return float(np.mean(shares)) if shares else 1.0

    def bar(self, pass_share: float) -> float:
        """The share a check asks for: ``pass_share``, but never more than the reference itself
        captures on these seeds (a plan as good as the reference passes), and never below 0 (a
        plan that does worse than doing nothing never passes)."""
        return min(pass_share, max(self.reference_share, 0.0))

    def __repr__(self) -> str:
        return (f"share of the reference's gain: {self.share:.0%}\n" + "\n".join(self.notes) + "\n"
                + self.table.to_string(index=False, float_format=lambda x: f"{x:,.2f}"))


def _scenario(scenario: shopsim.Scenario | str) -> shopsim.Scenario:
    return scenario if isinstance(scenario, shopsim.Scenario) else shopsim.load_scenario(scenario)


def _key(sc: shopsim.Scenario) -> str:
    return hashlib.sha256(repr(sc).encode()).hexdigest()


def _measure(tables: Any, sc: shopsim.Scenario) -> Measured:
    measured = Measured({name: read(tables, sc) for name, (_, read) in OBJECTIVES.items()})
    per_sku = sku_pnl(tables, sc).set_index("sku")
    for kind in SKU_OBJECTIVES:
        measured.update({f"{kind}:{sku}": float(v) for sku, v in per_sku[kind.removeprefix("sku_")].items()})
    return measured


def label(objective: str) -> str:
    """What an objective means, in words (``"net_profit"`` -> ``"net profit (yuan)"``)."""
    if objective in OBJECTIVES:
        return OBJECTIVES[objective][0]
    kind, _, sku = objective.partition(":")
    if kind == PENALISED:
        return f"net profit less {_penalty(sku):g} yuan per unit lost to stock-outs (yuan)"
    return SKU_OBJECTIVES[kind].format(sku=sku)


def sku_pnl(tables: Mapping[str, pd.DataFrame], scenario: shopsim.Scenario) -> pd.DataFrame:
    """Each own SKU's own P&L over a run (单品盈亏), one row per own SKU.

    Columns: ``sku``; ``units`` sold (paid order lines, before refunds); ``gmv``, yuan paid for
    its order lines; ``contribution``, yuan: gmv - its cost of goods - platform and payment fees
    on it - its share of each order's packaging, free shipping and return insurance (by its
    share of the order's paid amount) - its refunds (money back and return couriers the shop
    paid; restocked units come back at cost, the others are written off) - its ads (paid
    search, display, affiliate commission and the affiliate service fee) - listing work and
    flash-sale slots ordered for it. Not counted: holding cost, and what its sales took from
    (or brought to) the shop's other products.
    """
    shop, own = scenario.shop, own_skus(scenario)
    orders, lines = tables["orders"], tables["order_items"]
    lines = lines.merge(orders[["order_id", "paid_amount", "buyer_shipping", "insured"]], on="order_id", how="left")
    paid = lines["qty"] * lines["unit_paid_price"]
    per_order = (shop.packaging_per_order + shop.shipping_cost_per_order * (lines["buyer_shipping"] == 0)
                 + scenario.returns.insurance_premium * lines["insured"].astype(float))
    order_share = (paid / lines["paid_amount"].where(lines["paid_amount"] > 0)).fillna(0.0)
    line_cost = (lines["qty"] * lines["unit_cost"] + paid * (shop.platform_fee_rate + shop.payment_fee_rate)
                 + order_share * per_order)
    sku = lines["sku"].astype(str)
    refunds = tables["refunds"]
    refund_cost = (refunds["amount"] + refunds["return_shipping"]
                   - refunds["goods_cost"] * refunds["restocked"].astype(float))
    ads = tables["ads"]
    ad_cost = ads["spend"] * np.where(ads["channel"] == "affiliate", 1 + shop.affiliate_service_fee_rate, 1.0)
    events = tables["events"]
    ordered = events[events["actor"] == "operator"]
    listing = ordered[ordered["kind"] == "improve_listing"]
    work = listing["detail"].str.split(":").str[0].map(
        {kind: w.cost for kind, w in scenario.listing_work.items()}).fillna(0.0)
    flash = pd.Series(np.where(ordered["kind"] == "flash_sale", scenario.promotions.flash_sale_fee, 0.0),
                      index=ordered.index)

    def by_sku(values: pd.Series, codes: pd.Series) -> pd.Series:
        return values.groupby(codes.astype(str).to_numpy()).sum().reindex(own, fill_value=0.0)

    gmv = by_sku(paid, sku)
    contribution = (gmv - by_sku(line_cost, sku) - by_sku(refund_cost, refunds["sku"])
                    - by_sku(ad_cost, ads["sku"]) - by_sku(work, listing["target"])
                    - by_sku(flash, ordered["target"]))
    return pd.DataFrame({"sku": own, "units": by_sku(lines["qty"], sku).astype(int).to_numpy(),
                         "gmv": gmv.round(2).to_numpy(), "contribution": contribution.round(2).to_numpy()})


def crm_contribution(tables: Mapping[str, pd.DataFrame], scenario: shopsim.Scenario) -> float:
    """The CRM campaigns' own P&L over a run, yuan: what the orders paid in visits from CRM messages
    (``orders.source == "crm"``) leave after their cost of goods, fees, packaging, free shipping and
    refunds (as in :func:`sku_pnl`; coupons are already off what they paid), less every message sent
    (``pnl.crm_cost``). Not counted: what those buyers would have bought anyway through another door,
    and what the campaign changed in the rest of the shop (its same-seed twin tells that, over several
    runs)."""
    orders = tables["orders"]
    crm = orders[orders["source"] == "crm"]
    ids = crm["order_id"]
    refunds = tables["refunds"]
    only = {"orders": crm, "order_items": tables["order_items"][tables["order_items"]["order_id"].isin(ids)],
            "refunds": refunds[refunds["order_id"].isin(ids).fillna(False).astype(bool)],
            "ads": tables["ads"].iloc[0:0], "events": tables["events"].iloc[0:0]}
    return float(sku_pnl(only, scenario)["contribution"].sum() - tables["pnl"]["crm_cost"].sum())


def run_reference(reference: Any, scenario: shopsim.Scenario | str, seed: int, days: int | None) -> Measured:
    """Every objective of one run of a reference: a plan, or a policy name of :mod:`shopsim.policies`.

    Cached per (reference, scenario, seed, days) in this process (see :func:`_remembered`). A plan
    is the same run as a trainee's identical plan (:func:`run_plan`); a step it has refused raises
    :class:`~shopsim.plans.PlanError`.
    """
    sc = _scenario(scenario)
    if not isinstance(reference, str):
        measured, _, refused = run_plan(plans.check(reference, days or sc.days, own_skus(sc)), sc, seed, days)
        if refused:
            raise plans.PlanError(f"{refused[0][1]} was refused: {refused[0][2]}")
        return measured
    ref = getattr(policies, reference, None)
    if not callable(ref):
        raise ValueError(f"no policy {reference!r} in shopsim.policies")
    key = (f"policy:{reference}", _key(sc), int(seed), days)
    measured = _remembered(key, lambda: _measure(shopsim.simulate(sc, days=days, seed=int(seed),
                                                                  policy=ref).tables, sc))
    return Measured(measured)


def run_plan(plan: plans.Plan, scenario: shopsim.Scenario | str, seed: int,
             days: int | None) -> tuple[Measured, list[str], list[tuple[int, str, str]]]:
    """One run of a checked plan: its objectives, notes on what happened, and refused steps."""
    sc = _scenario(scenario)
    key = ("run:" + plan.canonical(), _key(sc), int(seed), days)

    def run() -> tuple[Measured, list[str], list[tuple[int, str, str]]]:
        refusals: list[tuple[int, str, str]] = []
        sim = shopsim.simulate(sc, days=days, seed=int(seed), policy=plans.policy(plan, refusals))
        return _measure(sim.tables, sc), what_happened(sim.tables, sc), refusals

    measured, notes, refusals = _remembered(key, run)
    return Measured(measured), list(notes), [(int(day), str(step), str(why)) for day, step, why in refusals]


def _remembered(key: tuple[str, str, int, int | None], run: Callable[[], Any]) -> Any:
    """``run()``'s result for ``key``: once per process, and once per :data:`RUN_CACHE_ENV` folder when set.

    A result is plain data (objectives as floats, notes, refusals), so it is kept as JSON and
    comes back equal; a file is written whole or not at all (concurrent writers write the same).
    """
    if key in _RUNS:
        return _RUNS[key]
    folder = os.environ.get(RUN_CACHE_ENV)
    if not folder:
        _RUNS[key] = run()
        return _RUNS[key]
    from shopsim.grading import build  # the digest of shopsim's code and bundled scenarios

    name = hashlib.sha256(json.dumps([*key, build._source_digest()]).encode()).hexdigest()
    saved = Path(folder) / f"{name}.json"
    if saved.is_file():
        _RUNS[key] = json.loads(saved.read_text(encoding="utf-8"))
        return _RUNS[key]
    _RUNS[key] = run()
    saved.parent.mkdir(parents=True, exist_ok=True)
    partial = saved.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(_RUNS[key]), encoding="utf-8")
    partial.replace(saved)
    return _RUNS[key]


def what_happened(tables: Any, scenario: shopsim.Scenario | None = None) -> list[str]:
    """Sentences on a run: stock-outs, paid traffic against its break-even, discounts, refunds, and (when the
    run changed them) CRM messages with their own P&L (given the ``scenario``) and customer service."""
    notes = []
    inventory = tables["inventory"]
    out = inventory[inventory["stockout_hours"] > 0]
    for sku, rows in out.groupby("sku", observed=True):
        first = pd.Timestamp(rows["date"].min())
        notes.append(f"{sku} ran out of stock on {first:%Y-%m-%d} and was out for "
                     f"{rows['stockout_hours'].sum() / 24:.1f} days in all.")
    lost = float(lost_units(tables).sum()) if len(out) else 0.0
    if lost >= 1:
        notes.append(f"About {lost:,.0f} units of demand were lost to stock-outs (an estimate: each SKU's sales "
                     "rate while in stock times its hours sold out).")
    pnl = tables["pnl"]
    ad_cost = float(pnl[["ad_spend_search", "ad_spend_display"]].sum().sum())
    revenue = float(pnl["revenue"].sum())
    if ad_cost > 0 and revenue > 0:
        ads = tables["ads"]
        roas = float(ads["revenue"].sum()) / max(float(ads["spend"].sum()), 1e-9)
        margin = (float(pnl["contribution"].sum()) + ad_cost) / revenue
        even = 1 / margin if margin > 0 else float("inf")
        verdict = "above" if roas >= even else "below"
        notes.append(f"Ads cost {ad_cost:,.0f} yuan and returned {roas:.2f} yuan of sales per yuan (ROAS), "
                     f"{verdict} the break-even ROAS of {even:.2f} at this shop's margin before ads.")
    discounts = float(pnl["discounts"].sum()) + float(pnl["promotion_cost"].sum())
    gross = float(pnl["gross_sales"].sum())
    if discounts > 0 and gross > 0:
        notes.append(f"Discounts and promotions cost {discounts:,.0f} yuan, {discounts / gross:.1%} of gross sales.")
    refunds = float(tables["daily"]["refund_amount"].sum())
    gmv = float(tables["daily"]["gmv"].sum())
    if gmv > 0:
        notes.append(f"Refunds came to {refunds:,.0f} yuan, {refunds / gmv:.1%} of GMV.")
    return notes + _crm_and_service_notes(tables, scenario)


def _crm_and_service_notes(tables: Any, scenario: shopsim.Scenario | None) -> list[str]:
    """What CRM messages and customer service did, when the run's operator touched them."""
    notes = []
    pnl, orders = tables["pnl"], tables["orders"]
    cost = float(pnl["crm_cost"].sum())
    if cost > 0:
        crm = orders[orders["source"] == "crm"]
        visits = int((tables["sessions"]["source"] == "crm").sum())
        own = (f"; the campaign's own P&L (their margin less messages): {crm_contribution(tables, scenario):,.0f} yuan"
               if scenario is not None else "")
        notes.append(f"CRM messages cost {cost:,.0f} yuan and brought {visits:,} visits and {len(crm):,} orders paying "
                     f"{crm['paid_amount'].sum():,.0f} yuan after {crm['discount_amount'].sum():,.0f} yuan of "
                     f"coupons{own}.")
    events = tables["events"]
    touched = events[(events["actor"] == "operator")
                     & events["kind"].isin(["set_service", "set_service_script", "set_refund_policy"])]
    service = tables["service"]
    if len(touched) and len(service):
        notes.append(f"Customer service: {len(service):,} inquiries, {service['answered'].mean():.0%} answered in "
                     f"time, {service['ordered'].mean():.0%} converted (询单转化率); agents' wages "
                     f"{float(pnl['customer_service'].sum()):,.0f} yuan; {int(tables['daily']['complaints'].sum()):,} "
                     f"complaints; {len(tables['disputes']):,} disputes ruled.")
    return notes


def _limits_broken(measured: Mapping[str, float], at_least: Mapping[str, float],
                   at_most: Mapping[str, float]) -> list[str]:
    broken = [f"{label(k)} was {measured[k]:,.0f}, below the required {v:,.0f}"
              for k, v in at_least.items() if measured[k] < v]
    return broken + [f"{label(k)} was {measured[k]:,.0f}, above the allowed {v:,.0f}"
                     for k, v in at_most.items() if measured[k] > v]


def check_objectives(objective: str, at_least: Mapping[str, float] | None,
                     at_most: Mapping[str, float] | None) -> tuple[dict[str, float], dict[str, float]]:
    """The limits as plain dicts; ValueError on an unknown objective or limit.

    A SKU's objective (``"sku_contribution:TEE-WAFFLE"``) is checked for its kind here and for
    its SKU against the scenario by :func:`evaluate_plan`.
    """
    limits = {**(at_least or {}), **(at_most or {})}
    for name in [objective, *limits]:
        kind, colon, sku = name.partition(":")
        if kind == PENALISED and colon:
            _penalty(sku)
        elif name not in OBJECTIVES and not (colon and kind in SKU_OBJECTIVES and sku):
            raise ValueError(f"unknown objective {name!r}; choose from {', '.join(OBJECTIVES)}, "
                             f"{', '.join(SKU_OBJECTIVES)} of one SKU as 'sku_contribution:SKU', or "
                             f"'{PENALISED}:YUAN' (net profit less YUAN per unit lost to stock-outs)")
    return ({k: float(v) for k, v in (at_least or {}).items()}, {k: float(v) for k, v in (at_most or {}).items()})


def percent_down(share: float) -> str:
    """A share as a whole percent rounded down (0.4996 -> "49%"), so a share just below a bar never reads as it."""
    return f"{math.floor(share * 100 + 1e-9):.0f}%"


def seed_share(plan: float, nothing: float, reference: float) -> float:
    """One seed's share of the reference's gain over doing nothing (see the module's formula)."""
    gain = max(reference - nothing, _FLOOR_SHARE * abs(nothing), _FLOOR)
    return float(np.clip((plan - nothing) / gain, *SHARE_RANGE))


def evaluate_plan(plan: Any, scenario: shopsim.Scenario | str, seeds: Sequence[int], *, reference: Any,
                  days: int | None = None, objective: str = "net_profit",
                  at_least: Mapping[str, float] | None = None, at_most: Mapping[str, float] | None = None,
                  yardsticks: Mapping[int, tuple[float, float]] | None = None) -> DecisionResult:
    """Run ``plan`` on each seed and score it against doing nothing and the reference.

    Parameters
    ----------
    plan:
        The trainee's plan (:mod:`shopsim.plans`).
    scenario:
        A scenario, or a bundled scenario's name.
    seeds:
        Grading seeds (ones the lesson has not shown).
    reference:
        The instructor's plan, or the name of a policy in :mod:`shopsim.policies`.
    days:
        Days per run (default the scenario's length).
    objective:
        What is maximised, a key of :data:`OBJECTIVES` (net profit by default), or one own SKU's
        objective, ``"kind:SKU"`` with a kind of :data:`SKU_OBJECTIVES`, or net profit less a
        penalty per unit lost to stock-outs, ``"net_profit_less_lost:YUAN"`` (:func:`lost_units`).
    at_least, at_most:
        Limits per seed on other objectives, e.g. ``at_least={"orders": 600}``; a seed that
        breaks one scores 0.
    yardsticks:
        Per seed, (doing nothing, reference) objective values already known (a sealed practice
        key), instead of running them.

    Raises
    ------
    PlanError
        When the plan is not a plan, or a lever refuses one of its steps.
    """
    at_least, at_most = check_objectives(objective, at_least, at_most)
    sc = _scenario(scenario)
    for name in [objective, *at_least, *at_most]:
        if ":" in name and not name.startswith(PENALISED) and name.partition(":")[2] not in own_skus(sc):
            raise ValueError(f"objective {name!r} names no own SKU of {sc.name}; its SKUs are "
                             f"{', '.join(own_skus(sc))}")
    checked = plans.check(plan, days or sc.days, own_skus(sc))
    rows, first_notes, refusals = [], None, []
    for seed in seeds:
        measured, notes, refused = run_plan(checked, sc, seed, days)
        if refused:
            day, step, reason = refused[0]
            raise plans.PlanError(f"{step} was refused: {reason}")
        if yardsticks is not None:
            nothing, ref = yardsticks[int(seed)]
        else:
            nothing = run_reference("do_nothing", sc, seed, days)[objective]
            ref = run_reference(reference, sc, seed, days)[objective]
        broken = _limits_broken(measured, at_least, at_most)
        share = 0.0 if broken else seed_share(measured[objective], nothing, ref)
        rows.append({"seed": int(seed), "plan": measured[objective], "nothing": nothing, "reference": ref,
                     "share": share, "within_limits": not broken})
        if first_notes is None:
            first_notes = [*(f"Seed {seed}: {b}." for b in broken), *notes]
        refusals += refused
    table = pd.DataFrame(rows, columns=["seed", "plan", "nothing", "reference", "share", "within_limits"])
    share = float(table["share"].mean())
    summary = (f"Your plan's {label(objective)}: {table['plan'].mean():,.0f} a run on average, against "
               f"{table['nothing'].mean():,.0f} doing nothing and {table['reference'].mean():,.0f} for the "
               f"reference plan: {percent_down(share)} of the reference's gain.")
    return DecisionResult(objective, table, share, (summary, *(first_notes or [])), tuple(refusals),
                          {"at_least": at_least, "at_most": at_most})


def own_skus(sc: shopsim.Scenario) -> list[str]:
    """The scenario's own SKU codes."""
    return [s.sku for s in sc.skus]
