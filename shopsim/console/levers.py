"""The console's lever forms: one form per lever (docs/architecture.md, levers), as plain data.

A form is what an operator fills in before pressing a lever's button: a few fields (a SKU
to pick, a price to type ...) and the lever it calls. The view draws a widget per field; the
model keeps the values and calls the lever. Choices that depend on the shop's state (the
unanswered reviews, the dates a discount may start) are rebuilt from the simulation each
time the forms are read.

Field kinds: ``choice`` (pick one of ``options``, pairs of label and value), ``number``
(any number), ``whole`` (a whole number) and ``text``. In a choice, the value ``""`` stands
for "not given" (the lever's default, e.g. "the most relevant SKU"); it becomes ``None``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from shopsim.ads import AUDIENCES, PREMIUM_AUDIENCES
from shopsim.customers import SEGMENTS
from shopsim.errors import ActionError
from shopsim.operator import OperatorView
from shopsim.reviews import NEGATIVE_STARS
from shopsim.scenario import LISTING_WORK, REFUSE_CHOICES, SERVICE_TOPICS
from shopsim.simulation import Simulation

#: The tabs the forms are grouped in, in order.
GROUPS = ("Products", "Paid traffic", "Promotions", "Customers", "Service")
NOT_GIVEN = ""  # a choice's "not given" value (the lever's own default)


@dataclasses.dataclass(frozen=True)
class Field:
    """One input of a form: ``name`` is the lever's argument it feeds."""

    name: str
    label: str
    kind: str  # "choice", "number", "whole" or "text"
    help: str = ""
    options: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class Form:
    """A lever's form: what it is called, where it sits, its fields and its button."""

    key: str  # the lever (a method of Simulation)
    title: str
    group: str
    button: str
    what: str  # one sentence on what the lever does
    fields: tuple[Field, ...]


def _skus(sim: Any) -> tuple[tuple[str, str], ...]:
    return tuple((f"{c} ({p:g} yuan)", c) for c, p in OperatorView(sim).prices().items())


def _start_days(sim: Any) -> tuple[tuple[str, Any], ...]:
    today = sim.current_day
    days = [(f"today ({sim.clock.date(today):%a %m-%d})", NOT_GIVEN)]
    days += [(f"{sim.clock.date(d):%a %m-%d}", d) for d in range(today + 1, today + 31)]
    return tuple(days)


def _start_hours(sim: Any) -> tuple[tuple[str, Any], ...]:
    tomorrow = sim.clock.date(sim.current_day + 1)
    return ((f"now ({sim.clock.date(sim.current_day):%m-%d} 00:00)", NOT_GIVEN),
            *((f"{tomorrow:%m-%d} {h:02d}:00", h) for h in range(24)))


def _keywords(sim: Any) -> tuple[tuple[str, str], ...]:
    return tuple((f"{k} ({n:,.0f} searches/day)", k) for k, n in OperatorView(sim).keywords().items())


def _festivals(sim: Any) -> tuple[tuple[str, str], ...]:
    found = OperatorView(sim).festivals()
    if not found:
        return (("no festival in this scenario", NOT_GIVEN),)
    return tuple((f"{f['name']} (main day {f['main_day']:%m-%d}, at least {f['min_discount']:.0%} off)", f["name"])
                 for f in found)


def open_reviews(sim: Any) -> Any:
    """Published reviews not yet answered, negative ones (差评) first, newest first."""
    reviews = sim.tables["reviews"]
    return reviews.iloc[_open_rows(reviews)]


def _open_rows(reviews: Any) -> np.ndarray:
    """Row positions of the unanswered reviews in a ``reviews`` table, negative ones first, newest first."""
    rows = np.flatnonzero(~reviews["replied"].to_numpy(dtype=bool))
    later = (reviews["rating"].to_numpy()[rows] > NEGATIVE_STARS).astype(np.int64)
    return rows[np.argsort(later * 10**12 - reviews["review_id"].to_numpy()[rows], kind="stable")]


def _reviews(sim: Any) -> tuple[tuple[str, Any], ...]:
    reviews = sim.tables["reviews"]
    rows = _open_rows(reviews)[:200]
    if not len(rows):
        return (("no unanswered reviews", NOT_GIVEN),)
    ids = reviews["review_id"].to_numpy()[rows]
    seconds = np.array([sim.reviews.ts[i - 1] for i in ids.tolist()], dtype=np.int64)  # the book behind the table
    days = np.datetime64(sim.clock.start, "D") + seconds // 86_400
    month_day = [d[5:] for d in np.datetime_as_string(days, unit="D").tolist()]
    sku = reviews["sku"]
    names = np.asarray(sku.cat.categories, dtype=object)[sku.cat.codes.to_numpy()[rows]]
    return tuple((f"#{rid} {name} {stars}★ {when}: {tags}", rid) for rid, name, stars, when, tags
                 in zip(ids.tolist(), names.tolist(), reviews["rating"].to_numpy()[rows].tolist(), month_day,
                        reviews["tags"].array[rows].tolist(), strict=True))


def _named(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Choices for codes such as ``past_buyers``: shown as "past buyers"."""
    return tuple((c.replace("_", " "), c) for c in codes)


def forms(sim: Any) -> dict[str, Form]:
    """Every lever's form, with choices as they are in ``sim`` now (keyed by lever name)."""
    skus = _skus(sim)
    best = (("best match", NOT_GIVEN), *skus)
    work = sim.scenario.listing_work
    f = Field
    return {form.key: form for form in (
        Form("set_price", "Price (定价)", "Products", "Set price", "The list price of a SKU.",
             (f("sku", "SKU", "choice", options=skus), f("price", "price", "number", "yuan per unit"))),
        Form("discount", "Discount (单品折扣)", "Products", "Start discount",
             "Take a share off a SKU's list price for some days.",
             (f("sku", "SKU", "choice", options=skus),
              f("share_off", "share off", "number", "0.2 = 20 % off (0.01 to 0.9)"),
              f("days", "days", "whole", "1 to 90"), f("start_day", "from", "choice", options=_start_days(sim)))),
        Form("reorder", "Reorder stock (补货)", "Products", "Reorder", "Order units from the supplier; they "
             "arrive after the SKU's lead time.",
             (f("sku", "SKU", "choice", options=skus), f("qty", "units", "whole", "1 to 1,000,000"))),
        Form("improve_listing", "Listing work (标题/主图/详情页)", "Products", "Order work",
             "New title, main image or detail page: costs now, raises clicks and conversion when live.",
             (f("sku", "SKU", "choice", options=skus),
              f("kind", "work", "choice", options=tuple(
                  (f"{k.replace('_', ' ')} ({work[k].cost:g} yuan, live in {work[k].days} days)", k)
                  for k in LISTING_WORK)))),
        Form("set_keyword_bid", "Keyword bid (直通车)", "Paid traffic", "Set bid",
             "Bid per click on a keyword; 0 stops bidding. Runs while the daily budget lasts.",
             (f("keyword", "keyword", "choice", options=_keywords(sim)),
              f("bid", "bid", "number", "yuan per click (0 to 99)"), f("sku", "ad shows", "choice", options=best))),
        Form("set_ad_budget", "Search budget (日限额)", "Paid traffic", "Set budget",
             "Paid search's daily budget; it refills at midnight.",
             (f("daily_budget", "per day", "number", "yuan"),)),
        Form("set_ads_active", "Search campaign (计划开关)", "Paid traffic", "Switch",
             "Pause or resume paid search without losing the bids.",
             (f("active", "campaign", "choice", options=(("on", True), ("off", False))),)),
        Form("set_bid_schedule", "Bid schedule (分时折扣)", "Paid traffic", "Set schedule",
             "Share of a keyword's bid by hour; hours not named bid 100 %, 0 shows no ad.",
             (f("keyword", "keyword", "choice", options=_keywords(sim)),
              f("shares_by_hour", "hours", "text", "hours:share, e.g. 0-7:0, 20-22:1.5"))),
        Form("set_audience_premium", "Audience premium (人群溢价)", "Paid traffic", "Set premium",
             "Raise every search bid for the shop's own past visitors, past buyers or followers; 0 removes it.",
             (f("audience", "audience", "choice", options=_named(PREMIUM_AUDIENCES)),
              f("share", "premium", "number", "0.3 = +30 % on the bid"))),
        Form("set_display", "Display ads (钻展)", "Paid traffic", "Buy display",
             "Banners for an audience, paid per thousand impressions; 0 stops.",
             (f("audience", "audience", "choice", options=_named(AUDIENCES)),
              f("cpm_bid", "CPM bid", "number", "yuan per 1000 impressions"),
              f("daily_budget", "per day", "number", "yuan"),
              f("sku", "banner leads to", "choice", options=(("best seller", NOT_GIVEN), *skus)))),
        Form("set_affiliate_commission", "Affiliates (淘宝客)", "Paid traffic", "Set commission",
             "Commission offered to affiliates on a SKU's sales; 0 stops.",
             (f("sku", "SKU", "choice", options=skus),
              f("rate", "commission", "number", "0.1 = 10 % of the paid price"))),
        Form("issue_coupon", "Store coupon (店铺券)", "Promotions", "Issue coupons",
             "Money off orders above a threshold, for the first buyers who use one.",
             (f("amount", "amount off", "number", "yuan"), f("threshold", "on orders from", "number", "yuan"),
              f("quantity", "coupons", "whole"), f("days", "days", "whole", "1 to 90"))),
        Form("spend_and_save", "Spend and save (满减)", "Promotions", "Start 满减",
             "Money off orders by tier, e.g. 20 off 199 and 40 off 299.",
             (f("tiers", "tiers", "text", "threshold:amount, e.g. 199:20, 299:40"), f("days", "days", "whole"))),
        Form("flash_sale", "Flash sale (秒杀)", "Promotions", "Book flash sale",
             "A capped number of units at a low price for some hours; the platform charges a slot fee.",
             (f("sku", "SKU", "choice", options=skus), f("price", "price", "number", "yuan, below the list price"),
              f("cap", "units", "whole"), f("hours", "hours", "whole", "1 to 72"),
              f("start_hour", "starts", "choice", options=_start_hours(sim)))),
        Form("set_free_shipping_threshold", "Free shipping (包邮)", "Promotions", "Set threshold",
             "Orders from this amount ship free; 0 = every order ships free.",
             (f("threshold", "free from", "number", "yuan"),)),
        Form("set_return_insurance", "Return insurance (运费险)", "Promotions", "Switch",
             "Insure every order's return courier: a premium per order, buyers pay a little more readily.",
             (f("on", "insurance", "choice", options=(("on", True), ("off", False))),)),
        Form("enrol_festival", "Festival enrolment (大促报名)", "Promotions", "Enrol",
             "Join a festival's venue: store-wide discount on the main day, an enrolment fee, venue traffic.",
             (f("name", "festival", "choice", options=_festivals(sim)),
              f("discount_share", "store-wide discount", "number", "0.2 = 20 % off"))),
        Form("reply_to_review", "Reply to a review (回复评价)", "Customers", "Reply",
             "Answer a review; an answered negative review hurts conversion less.",
             (f("review_id", "review", "choice", options=_reviews(sim)),)),
        Form("send_crm", "CRM message (客户营销)", "Customers", "Send",
             "Message a customer segment, optionally with a coupon valid only in visits from the message.",
             (f("segment", "segment", "choice", options=_named(SEGMENTS)),
              f("coupon_amount", "coupon", "number", "yuan off (0 = no coupon)"),
              f("coupon_threshold", "on orders from", "number", "yuan"),
              f("coupon_days", "coupon valid", "whole", "days"))),
        Form("set_service", "Customer-service rota (客服排班)", "Service", "Set rota",
             "Agents on duty by hour; hours not named have none. Each agent-hour is paid.",
             (f("agents_by_hour", "agents", "text", "hours:agents, e.g. 9-17:3, 18-23:2"),)),
        Form("set_service_script", "Prepared answers (快捷短语)", "Service", "Switch",
             "Ready answers for one kind of question: agents answer it faster.",
             (f("topic", "topic", "choice", options=_named(SERVICE_TOPICS)),
              f("on", "answers", "choice", options=(("on", True), ("off", False))))),
        Form("set_refund_policy", "Refund policy (售后)", "Service", "Set policy",
             "Approve small refunds at once; agents review the rest and refuse what the rule says.",
             (f("auto_approve_under", "approve at once under", "number", "yuan"),
              f("refuse", "refuse", "choice", options=_named(REFUSE_CHOICES)))),
    )}


def defaults(sim: Any) -> dict[str, dict[str, Any]]:
    """A sensible starting value for every field of every form."""
    view = OperatorView(sim)
    prices = view.prices()
    sku = next(iter(prices))
    fest = next(iter(view.festivals()), None)
    return {
        "set_price": {"sku": sku, "price": prices[sku]},
        "discount": {"sku": sku, "share_off": 0.2, "days": 3, "start_day": NOT_GIVEN},
        "reorder": {"sku": sku, "qty": 200},
        "improve_listing": {"sku": sku, "kind": LISTING_WORK[0]},
        "set_keyword_bid": {"keyword": next(iter(view.keywords())), "bid": 1.0, "sku": NOT_GIVEN},
        "set_ad_budget": {"daily_budget": 300.0},
        "set_ads_active": {"active": True},
        "set_bid_schedule": {"keyword": next(iter(view.keywords())), "shares_by_hour": "0-7:0.5, 20-22:1.3"},
        "set_audience_premium": {"audience": PREMIUM_AUDIENCES[1], "share": 0.3},
        "set_display": {"audience": AUDIENCES[0], "cpm_bid": 20.0, "daily_budget": 200.0, "sku": NOT_GIVEN},
        "set_affiliate_commission": {"sku": sku, "rate": 0.1},
        "issue_coupon": {"amount": 10.0, "threshold": 99.0, "quantity": 500, "days": 7},
        "spend_and_save": {"tiers": "199:20, 299:40", "days": 7},
        "flash_sale": {"sku": sku, "price": flash_price(prices[sku]), "cap": 100, "hours": 4, "start_hour": NOT_GIVEN},
        "set_free_shipping_threshold": {"threshold": 99.0},
        "set_return_insurance": {"on": True},
        "enrol_festival": {"name": fest["name"] if fest else NOT_GIVEN,
                           "discount_share": fest["min_discount"] if fest else 0.2},
        "reply_to_review": {"review_id": NOT_GIVEN},
        "send_crm": {"segment": SEGMENTS[0], "coupon_amount": 0.0, "coupon_threshold": 0.0, "coupon_days": 7},
        "set_service": {"agents_by_hour": rota_text(view.service()["rota"])},
        "set_service_script": {"topic": SERVICE_TOPICS[-1], "on": True},
        "set_refund_policy": {"auto_approve_under": float(view.service()["auto_approve_under"]),
                              "refuse": view.service()["refuse"]},
    }


def flash_price(list_price: float) -> float:
    """A starting flash-sale price: 20 % under the list price, in whole yuan."""
    return float(max(round(list_price * 0.8), 1))


def _follow_price(sim: Any, sku: Any) -> dict[str, Any]:
    return {"price": OperatorView(sim).prices().get(sku) if isinstance(sku, str) else None}


def _follow_flash_price(sim: Any, sku: Any) -> dict[str, Any]:
    price = OperatorView(sim).prices().get(sku) if isinstance(sku, str) else None
    return {"price": None if price is None else flash_price(price)}


def _follow_festival(sim: Any, name: Any) -> dict[str, Any]:
    found = [f["min_discount"] for f in OperatorView(sim).festivals() if isinstance(name, str) and f["name"] == name]
    return {"discount_share": found[0] if found else None}


#: When a field changes, other fields that follow it: (form, field) -> f(sim, new value) -> {field: value}
#: (a value of None leaves the field as it is; whatever was typed, a follower never fails).
FOLLOW: Mapping[tuple[str, str], Callable[[Any, Any], dict[str, Any]]] = {
    ("set_price", "sku"): _follow_price,
    ("flash_sale", "sku"): _follow_flash_price,
    ("enrol_festival", "name"): _follow_festival,
}

_TIER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:：]\s*(\d+(?:\.\d+)?)\s*$")


def parse_tiers(text: Any) -> list[tuple[float, float]]:
    """``"199:20, 299:40"`` -> ``[(199.0, 20.0), (299.0, 40.0)]`` (threshold, amount off)."""
    if not isinstance(text, str) or not text.strip():
        raise ActionError("write the tiers as threshold:amount pairs, e.g. 199:20, 299:40")
    pairs = []
    for part in re.split(r"[,，;]", text):
        if not part.strip():
            continue
        m = _TIER.match(part)
        if m is None:
            raise ActionError(f"cannot read the tier {part.strip()!r}; write threshold:amount in yuan, "
                              "e.g. 199:20, 299:40")
        pairs.append((float(m.group(1)), float(m.group(2))))
    return pairs


_HOURS = re.compile(r"^\s*(\d{1,2})\s*(?:-\s*(\d{1,2}))?\s*[:：]\s*(\d+(?:\.\d+)?)\s*$")


def parse_schedule(text: Any) -> list[float]:
    """``"0-7:0, 20-22:1.5"`` -> 24 shares of the bid, hours 00-23 (hours not named: 1)."""
    return _by_hour(text, 1.0, "share", "a share of the bid", "0-7:0, 20-22:1.5")


def parse_rota(text: Any) -> list[float]:
    """``"9-17:3, 18-23:2"`` -> 24 agents on duty, hours 00-23 (hours not named: 0); whole numbers
    come back as ``int`` (the lever refuses the rest with its own message)."""
    agents = _by_hour(text, 0.0, "agents", "a number of agents", "9-17:3, 18-23:2")
    return [int(v) if float(v).is_integer() else v for v in agents]


def rota_text(rota: list[int]) -> str:
    """A rota as the form writes it: runs of hours with the same agents, e.g. ``9-17:3, 18-22:1``."""
    parts, start = [], 0
    for h in range(1, 25):
        if h == 24 or rota[h] != rota[start]:
            if rota[start]:
                parts.append(f"{start}-{h - 1}:{rota[start]}" if h - 1 > start else f"{start}:{rota[start]}")
            start = h
    return ", ".join(parts) or "0-23:0"


def _by_hour(text: Any, fill: float, label: str, what: str, example: str) -> list[float]:
    """24 values, hours 00-23, from ``hours:value`` pairs (hours not named: ``fill``)."""
    if not isinstance(text, str) or not text.strip():
        raise ActionError(f"write the hours as hours:{label}, e.g. {example}")
    values = [fill] * 24
    for part in re.split(r"[,，;]", text):
        if not part.strip():
            continue
        m = _HOURS.match(part)
        first = int(m.group(1)) if m else -1
        last = int(m.group(2) or first) if m else -1
        if m is None or not 0 <= first <= last <= 23:
            raise ActionError(f"cannot read {part.strip()!r}; write hours (0-23) and {what}, e.g. {example}")
        values[first: last + 1] = [float(m.group(3))] * (last - first + 1)
    return values


def arguments(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """The lever's keyword arguments from a form's values (``""`` choices become ``None``).

    A field left empty that the lever needs (a SKU, an audience ...) is an ActionError naming it."""
    args: dict[str, Any] = {}
    required = {name for name, p in inspect.signature(getattr(Simulation, form.key)).parameters.items()
                if p.default is inspect.Parameter.empty and name != "self"}
    for field in form.fields:
        value = values.get(field.name)
        if field.kind == "choice" and (value is None or isinstance(value, str) and value == NOT_GIVEN):
            if form.key == "reply_to_review":
                raise ActionError("choose a review to answer first (there are no unanswered reviews)")
            if form.key == "enrol_festival":
                raise ActionError("this scenario has no festival to enrol in")
            if field.name in required:
                raise ActionError(f"choose the {field.label} first")
            continue  # not given: the lever's own default
        if field.kind == "text" and form.key == "spend_and_save":
            value = parse_tiers(value)
        if field.kind == "text" and form.key == "set_bid_schedule":
            value = parse_schedule(value)
        if field.kind == "text" and form.key == "set_service":
            value = parse_rota(value)
        args[field.name] = value
    return args
