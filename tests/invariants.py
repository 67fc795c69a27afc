"""Invariants every simulation run must satisfy, as one reusable check.

``check_invariants(sim)`` asserts the data contract (docs/data-dictionary.md: required columns and dtypes)
and the bookkeeping that must add up on any run, whatever the scenario, seed or actions:
stock never negative and carried from day to day, no sale beyond stock, units in the
inventory table equal to the order lines, refunds tied to their order lines and restocked
units to the inventory, every yuan of the P&L traced to the orders, the refunds and the
booked costs, every order tied to its session, and a consistent funnel per session.

It collects every broken invariant and raises one ``AssertionError`` listing them all, so a
failing run says everything that is wrong at once. ``assert_same_tables(a, b)`` compares two
runs table by table (reproducibility and "an error left the simulation untouched" tests).

Import it from a test module as ``from invariants import check_invariants``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandas.testing as pdt

import shopsim

#: docs/data-dictionary.md: the columns each table must have (more are welcome).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("session_id", "ts", "customer_id", "is_new_customer", "device", "source", "keyword",
                 "landing_sku", "bounced", "added_to_cart", "ordered", "order_id"),
    "orders": ("order_id", "ts", "customer_id", "session_id", "source", "items", "gross_amount",
               "discount_amount", "paid_amount", "promotion_id", "coupon_id"),
    "order_items": ("order_id", "sku", "qty", "unit_list_price", "unit_paid_price", "unit_cost"),
    "refunds": ("refund_id", "order_id", "sku", "qty", "requested_ts", "completed_ts", "kind", "reason", "amount",
                "restocked"),
    "ads": ("ts", "channel", "keyword", "bid", "impressions", "clicks", "spend", "avg_position", "orders",
            "revenue"),
    "inventory": ("date", "sku", "on_hand_start", "received", "sold", "on_hand_end", "stockout_hours",
                  "on_order"),
    "reviews": ("review_id", "ts", "order_id", "sku", "rating", "tags", "replied"),
    "rankings": ("date", "keyword", "shop", "sku", "organic_position"),
    "market": ("date", "shop", "sku", "price", "on_promotion", "displayed_sales", "rating", "ad_presence"),
    "events": ("ts", "actor", "kind", "target", "detail"),
    "daily": ("date", "pv", "uv", "orders", "buyers", "units", "gmv", "conversion_rate", "aov", "bounce_rate",
              "add_to_cart_rate", "cart_abandonment_rate", "ad_spend", "roas", "new_customers",
              "returning_customers", "gross_profit", "net_profit", "avg_order_value", "submitted_orders",
              "refund_amount", "refund_rate", "net_gmv", "contribution", "dsr", "dsr_description", "dsr_service",
              "dsr_logistics", "inquiries", "inquiry_conversion_rate", "first_response_s", "complaints",
              "dispute_rate", "refund_approval_hours"),
    "service": ("inquiry_id", "ts", "customer_id", "session_id", "sku", "topic", "first_response_s", "answered",
                "ordered", "complaint"),
    "disputes": ("dispute_id", "refund_id", "opened_ts", "closed_ts", "outcome"),
    "pnl": ("date", "revenue", "cogs", "ad_spend_search", "ad_spend_display", "affiliate_commission",
            "platform_fee", "shipping", "promotion_cost", "crm_cost", "holding_cost", "net_profit",
            "refunds", "returned_cogs", "packaging", "payment_fee", "return_shipping", "return_insurance",
            "staff", "rent", "software", "write_offs", "affiliate_service_fee", "contribution", "customer_service"),
}

#: Columns that must be categoricals wherever they appear.
CATEGORICAL = ("sku", "landing_sku", "source", "device", "keyword", "shop", "channel", "actor", "topic", "outcome")
#: Columns that are flags.
BOOLEAN = ("is_new_customer", "bounced", "added_to_cart", "order_submitted", "ordered", "replied", "on_promotion",
           "ad_presence", "restocked", "insured", "answered", "complaint")
#: pnl columns that are not costs (returned_cogs is a credit: goods that came back).
PNL_NOT_COSTS = ("date", "gross_sales", "discounts", "revenue", "returned_cogs", "contribution", "net_profit")
FIXED = ("staff", "customer_service", "rent", "software")
SALARIED = ("staff", "rent", "software")  # the scenario's fixed_costs, the same every day
CENT = 0.01 + 1e-6  # yuan: tables round money to the fen
#: A scenario's ``returns`` with no refunds at all, so no unit comes back on the shelf (for
#: tests that count stock exactly).
NO_RETURNS = {"fit_rate": 0, "fit_rate_by_category": {}, "quality_rate": 0, "description_rate": 0, "impulse_rate": 0,
              "discount_effect": 0, "festival_effect": 0, "late_rate": 0}


def local_day(ts: pd.Series) -> pd.Series:
    """Calendar day (naive midnight, Asia/Shanghai) of tz-aware timestamps."""
    return ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()


def without_second_visits(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions without the visits of buyers who came back the same day after paying (they
    exist because of a purchase, so a lever that changes purchases changes them too; every
    other shopper arrives the same way in same-seed runs). Index reset."""
    day = local_day(sessions["ts"])
    paid = sessions.loc[sessions["ordered"]].groupby([day[sessions["ordered"]], "customer_id"])["ts"].min()
    first = pd.Series(list(zip(day, sessions["customer_id"], strict=True)), index=sessions.index).map(paid)
    second = (sessions["source"] == "returning") & first.notna() & (sessions["ts"] > first)
    return sessions.loc[~second].reset_index(drop=True)


def tables_of(sim: shopsim.Simulation) -> dict[str, pd.DataFrame]:
    """Every table of a run, built once."""
    return {name: sim.tables[name] for name in shopsim.TABLES}


# -- the checks --------------------------------------------------------------------------------
def _columns(t, sim, fail):
    for name, cols in REQUIRED_COLUMNS.items():
        if name not in t:
            fail(f"table {name} is missing")
            continue
        missing = [c for c in cols if c not in t[name].columns]
        if missing:
            fail(f"{name}: required columns missing: {missing}")


def _dtypes(t, sim, fail):
    for name, frame in t.items():
        for col in frame.columns:
            dtype = frame[col].dtype
            if col == "ts" and not (isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "Asia/Shanghai"):
                fail(f"{name}.ts is {dtype}, not a tz-aware Asia/Shanghai timestamp")
            if col == "date" and not pd.api.types.is_datetime64_dtype(dtype):
                fail(f"{name}.date is {dtype}, not a datetime64 date")
            if col in CATEGORICAL and not isinstance(dtype, pd.CategoricalDtype):
                fail(f"{name}.{col} is {dtype}, not categorical")
            if col in BOOLEAN and not pd.api.types.is_bool_dtype(dtype):
                fail(f"{name}.{col} is {dtype}, not bool")
    for name in ("sessions", "reviews"):
        if str(t[name]["order_id"].dtype) != "Int64":
            fail(f"{name}.order_id is {t[name]['order_id'].dtype}, not nullable Int64")
    for name, col in (("orders", "order_id"), ("order_items", "order_id"), ("order_items", "qty"),
                      ("sessions", "session_id"), ("sessions", "customer_id"), ("orders", "session_id"),
                      ("inventory", "on_hand_start"), ("inventory", "on_hand_end"), ("inventory", "sold")):
        if not pd.api.types.is_integer_dtype(t[name][col].dtype):
            fail(f"{name}.{col} is {t[name][col].dtype}, not an integer")


def _time_window(t, sim, fail):
    start = pd.Timestamp(sim.scenario.start, tz="Asia/Shanghai")
    end = start + pd.Timedelta(days=sim.days_run)
    for name in ("sessions", "orders", "reviews", "events"):
        ts = t[name]["ts"]
        late = ts.max() > end if name == "events" else ts.max() >= end  # operator acts at `end` between runs
        if len(ts) and (ts.min() < start or late):
            fail(f"{name}.ts runs from {ts.min()} to {ts.max()}, outside the simulated days {start} - {end}")
    if not t["sessions"]["ts"].is_monotonic_increasing:
        fail("sessions are not in time order")
    if not t["events"]["ts"].is_monotonic_increasing:
        fail("events are not in time order")
    dates = pd.date_range(sim.scenario.start, periods=sim.days_run, freq="D")
    for name in ("daily", "pnl"):
        if list(t[name]["date"]) != list(dates):
            fail(f"{name} has dates {list(t[name]['date'])[:3]}..., not one row per simulated day")


def _stock(t, sim, fail):
    inv = t["inventory"]
    n_own = len(sim.scenario.skus)
    if len(inv) != n_own * sim.days_run:
        fail(f"inventory has {len(inv)} rows, not {n_own} SKUs x {sim.days_run} days")
    for col in ("on_hand_start", "received", "sold", "returned", "lost", "on_hand_end", "on_order"):
        if col in inv and (inv[col] < 0).any():
            fail(f"inventory.{col} is negative: {inv.loc[inv[col] < 0].head(3).to_dict('records')}")
    balance = inv["on_hand_start"] + inv["received"] + inv["returned"] - inv["sold"] - inv["lost"] - inv["on_hand_end"]
    if (balance != 0).any():
        fail(f"inventory: on_hand_end != start + received + returned - sold - lost on {int((balance != 0).sum())} rows")
    if (inv["sold"] > inv["on_hand_start"] + inv["received"] + inv["returned"]).any():
        fail("inventory: sold more units than were on hand and received that day")
    for sku, rows in inv.groupby("sku", observed=True):
        rows = rows.sort_values("date")
        if (rows["on_hand_start"].to_numpy()[1:] != rows["on_hand_end"].to_numpy()[:-1]).any():
            fail(f"inventory {sku}: a day's on_hand_start is not the day before's on_hand_end")
        first = sim.scenario.sku(str(sku)).initial_stock
        if len(rows) and rows["on_hand_start"].iloc[0] != first:
            fail(f"inventory {sku}: first on_hand_start {rows['on_hand_start'].iloc[0]} != initial_stock {first}")
    hours = inv["stockout_hours"]
    if ((hours < 0) | (hours > 24 + 1e-9)).any():
        fail("inventory.stockout_hours outside 0-24")
    if ((inv["on_hand_end"] > 0) & (inv["received"] == 0) & (inv["returned"] == 0) & (hours >= 24)).any():
        fail("inventory: a SKU counted sold out all day yet ended the day with stock and no arrival or return")


def _units_match_lines(t, sim, fail):
    lines = t["order_items"].merge(t["orders"][["order_id", "ts"]], on="order_id", how="left")
    if lines["ts"].isna().any():
        fail("order_items has lines whose order is not in orders")
        return
    if (lines["qty"] <= 0).any():
        fail("order_items has a line of zero or fewer units")
    sold = lines.groupby([local_day(lines["ts"]), lines["sku"].astype(str)])["qty"].sum()
    inv = t["inventory"]
    booked = pd.Series(inv["sold"].to_numpy(), index=pd.MultiIndex.from_arrays([inv["date"], inv["sku"].astype(str)]))
    both = pd.concat([booked.rename("inventory"), sold.rename("lines")], axis=1).fillna(0)
    diff = both[both["inventory"] != both["lines"]]
    if len(diff):
        fail(f"inventory.sold != order_items qty per SKU and day on {len(diff)} rows, e.g. "
             f"{diff.head(3).reset_index().to_dict('records')}")


def _orders(t, sim, fail):
    orders, items, sessions = t["orders"], t["order_items"], t["sessions"]
    if not orders["order_id"].is_unique:
        fail("orders.order_id is not unique")
    lines = items.assign(gross=items["qty"] * items["unit_list_price"], paid=items["qty"] * items["unit_paid_price"])
    per_order = lines.groupby("order_id").agg(gross=("gross", "sum"), paid=("paid", "sum"), units=("qty", "sum"))
    o = orders.set_index("order_id")
    missing = o.index.difference(per_order.index)
    if len(missing):
        fail(f"{len(missing)} orders have no order lines, e.g. {list(missing[:3])}")
    per_order = per_order.reindex(o.index, fill_value=0)
    if ((o["gross_amount"] - per_order["gross"]).abs() > CENT).any():
        fail("orders.gross_amount != sum(qty x unit_list_price) of its lines")
    if ((o["paid_amount"] - per_order["paid"]).abs() > CENT).any():
        fail("orders.paid_amount != sum(qty x unit_paid_price) of its lines")
    if ((o["gross_amount"] - o["discount_amount"] - o["paid_amount"]).abs() > CENT).any():
        fail("orders: gross_amount - discount_amount != paid_amount")
    if (o["items"] != per_order["units"]).any():
        fail("orders.items != units in its lines")
    if (items["unit_paid_price"] > items["unit_list_price"] + 1e-9).any():
        fail("order_items: paid above the list price")
    s = sessions.set_index("session_id")
    known = orders["session_id"].isin(s.index)
    if not known.all():
        fail(f"{int((~known).sum())} orders point to sessions that do not exist")
        return
    own = s.loc[orders["session_id"]]
    if not own["ordered"].all():
        fail("an order's session is not marked ordered")
    if (own["order_id"].to_numpy(dtype="int64", na_value=-1) != orders["order_id"].to_numpy()).any():
        fail("an order's session carries a different order_id")
    if (own["customer_id"].to_numpy() != orders["customer_id"].to_numpy()).any():
        fail("an order's customer differs from its session's customer")
    if (own["source"].astype(str).to_numpy() != orders["source"].astype(str).to_numpy()).any():
        fail("an order's source differs from its session's source")
    if (own["ts"].to_numpy() > orders["ts"].to_numpy()).any():
        fail("an order is paid before its session started")
    if int(sessions["ordered"].sum()) != len(orders):
        fail(f"{int(sessions['ordered'].sum())} sessions ordered but there are {len(orders)} orders")


def _funnel(t, sim, fail):
    s = t["sessions"]
    if list(s["session_id"]) != list(range(1, len(s) + 1)):
        fail("session_id is not 1..n in order")
    if (s["ordered"] & ~s["order_submitted"]).any():
        fail("a session paid without submitting an order")
    if ((s["added_to_cart"] | s["order_submitted"]) & s["bounced"]).any():
        fail("a bounced session added to cart or submitted an order")
    if "page_views" in s:
        if (s["bounced"] & (s["page_views"] != 1)).any():
            fail("a bounced session has page_views != 1")
        if (~s["bounced"] & (s["page_views"] < 2)).any():
            fail("a session that did not bounce has fewer than 2 page views")
    if (s["order_id"].notna() != s["ordered"]).any():
        fail("sessions.order_id is set exactly when ordered must hold")
    own = set(sku.sku for sku in sim.scenario.skus)
    if not set(s["landing_sku"].dropna().astype(str)) <= own:
        fail("a session landed on a SKU that is not the shop's")
    if s["landing_sku"].isna().any():
        fail("a session has no landing SKU")
    search = s["source"].isin(["search", "paid_search"])
    if s.loc[search, "keyword"].isna().any() or s.loc[~search, "keyword"].notna().any():
        fail("keyword must be set exactly on search and paid-search sessions")


def _money(t, sim, fail):
    shop = sim.scenario.shop
    pnl = t["pnl"].set_index("date")
    orders, items = t["orders"], t["order_items"]
    dates = pnl.index
    by_day = orders.groupby(local_day(orders["ts"]))
    revenue = by_day["paid_amount"].sum().reindex(dates, fill_value=0.0)
    if ((pnl["revenue"] - revenue).abs() > CENT).any():
        fail(f"pnl.revenue != sum of orders.paid_amount per day: {(pnl['revenue'] - revenue).abs().max():.4f}")
    lines = items.merge(orders[["order_id", "ts"]], on="order_id")
    cogs = (lines["qty"] * lines["unit_cost"]).groupby(local_day(lines["ts"])).sum().reindex(dates, fill_value=0.0)
    if ((pnl["cogs"] - cogs).abs() > CENT).any():
        fail("pnl.cogs != sum(qty x unit_cost) of the day's order lines")
    cost_of = {s.sku: s.cost for s in sim.scenario.skus}
    if (items["unit_cost"] != items["sku"].astype(str).map(cost_of)).any():
        fail("order_items.unit_cost differs from the SKU's cost")
    fee = revenue * shop.platform_fee_rate
    if ((pnl["platform_fee"] - fee).abs() > CENT).any():
        fail("pnl.platform_fee != revenue x platform_fee_rate")
    shop_ships = (orders["buyer_shipping"] == 0).groupby(local_day(orders["ts"])).sum().reindex(dates, fill_value=0)
    if ((pnl["shipping"] - shop_ships * shop.shipping_cost_per_order).abs() > CENT).any():
        fail("pnl.shipping != orders shipped free x shipping_cost_per_order")
    if (orders["buyer_shipping"] < 0).any():
        fail("a buyer's shipping charge is negative")
    inv = t["inventory"]
    held = (inv["on_hand_end"] * inv["sku"].astype(str).map(cost_of).astype(float)).groupby(inv["date"]).sum()
    holding = held.reindex(dates, fill_value=0.0) * shop.holding_cost_rate
    if ((pnl["holding_cost"] - holding).abs() > CENT).any():
        fail("pnl.holding_cost != end-of-day stock at cost x holding_cost_rate")
    costs = [c for c in pnl.columns if c not in PNL_NOT_COSTS]
    if (pnl[costs + ["returned_cogs"]] < -1e-9).any().any():
        fail("a P&L cost line is negative")
    variable = [c for c in costs if c not in FIXED]
    contribution = pnl["revenue"] + pnl["returned_cogs"] - pnl[variable].sum(axis=1)
    if ((pnl["contribution"] - contribution).abs() > CENT).any():
        fail(f"pnl.contribution != revenue + returned_cogs - every variable cost line ({variable})")
    if ((pnl["net_profit"] - (pnl["contribution"] - pnl[list(FIXED)].sum(axis=1))).abs() > CENT).any():
        fail("pnl.net_profit != contribution - staff - customer_service - rent - software")
    for item in SALARIED:
        if ((pnl[item] - getattr(shop.fixed_costs, item)).abs() > CENT).any():
            fail(f"pnl.{item} is not the scenario's {item} cost on every day")
    for line, expected in (("payment_fee", revenue * shop.payment_fee_rate),
                           ("packaging", by_day.size().reindex(dates, fill_value=0) * shop.packaging_per_order),
                           ("affiliate_service_fee", pnl["affiliate_commission"] * shop.affiliate_service_fee_rate),
                           ("return_insurance", orders["insured"].groupby(local_day(orders["ts"])).sum()
                            .reindex(dates, fill_value=0) * sim.scenario.returns.insurance_premium)):
        if ((pnl[line] - expected).abs() > CENT).any():
            fail(f"pnl.{line} does not follow from the orders and the scenario's rate")
    refunds = t["refunds"]
    done = refunds.groupby(local_day(refunds["completed_ts"]))
    for line, column in (("refunds", "amount"), ("returned_cogs", "goods_cost"),
                         ("return_shipping", "return_shipping")):
        if ((pnl[line] - done[column].sum().reindex(dates, fill_value=0.0)).abs() > CENT).any():
            fail(f"pnl.{line} != refunds.{column} of the refunds completed that day")
    lost = (inv["lost"] * inv["sku"].astype(str).map(cost_of).astype(float)).groupby(inv["date"]).sum()
    scrapped = refunds.loc[~refunds["restocked"]].groupby(local_day(refunds.loc[~refunds["restocked"], "completed_ts"]))
    write_offs = lost.reindex(dates, fill_value=0.0) + scrapped["goods_cost"].sum().reindex(dates, fill_value=0.0)
    if ((pnl["write_offs"] - write_offs).abs() > 2 * CENT).any():
        fail("pnl.write_offs != lost units and unsellable returned units, at cost")
    booked = t["costs"].groupby(["date", "item"])["amount"].sum()
    for (date, item), amount in booked.items():
        if item not in pnl.columns:
            fail(f"booked cost {item!r} has no P&L line")
        elif abs(pnl.loc[date, item] - amount) > CENT:
            fail(f"pnl.{item} on {date:%Y-%m-%d} is {pnl.loc[date, item]}, booked {amount}")
    daily = t["daily"].set_index("date")
    if ((daily["gmv"] - pnl["revenue"]).abs() > CENT).any():
        fail("daily.gmv != pnl.revenue")
    if ((daily["net_profit"] - pnl["net_profit"]).abs() > CENT).any():
        fail("daily.net_profit != pnl.net_profit")
    if ((daily["refund_amount"] - pnl["refunds"]).abs() > CENT).any() or (
            (daily["net_gmv"] - (daily["gmv"] - daily["refund_amount"])).abs() > CENT).any():
        fail("daily.refund_amount != pnl.refunds, or net_gmv != gmv - refund_amount")
    if (daily["buyers"] > daily["orders"]).any() or (daily["orders"] > daily["submitted_orders"]).any():
        fail("daily: more buyers than orders, or more paid orders than submitted ones")
    if (daily["orders"] != by_day.size().reindex(dates, fill_value=0)).any():
        fail("daily.orders != orders per day")
    if "followers" in daily and (daily["followers"].diff().dropna() < 0).any():
        fail("daily.followers fell: nobody unfollows in this engine")
    dims = daily[["dsr_description", "dsr_service", "dsr_logistics"]]
    if not dims.stack().between(1, 5).all() or not daily["dsr"].between(1, 5).all():
        fail("daily.dsr or one of its dimensions outside 1-5 stars")
    if ((daily["dsr"] - dims.mean(axis=1)).abs() > 0.001 + 1e-9).any():
        fail("daily.dsr != the mean of description, service and logistics")
    if (daily["dispute_rate"] < 0).any() or (daily["refund_approval_hours"].dropna() < 0).any():
        fail("daily.dispute_rate or refund_approval_hours is negative")


def _service(t, sim, fail):
    """Inquiries belong to their sessions; an answer in time has a first response; disputes tie
    to the refunds the platform ordered."""
    sv, sessions = t["service"], t["sessions"].set_index("session_id")
    if list(sv["inquiry_id"]) != list(range(1, len(sv) + 1)):
        fail("inquiry_id is not 1..n")
    if not sv["ts"].is_monotonic_increasing:
        fail("inquiries are not in time order")
    if not sv["session_id"].is_unique:
        fail("a session asked more than one question")
    known = sv["session_id"].isin(sessions.index)
    if not known.all():
        fail(f"{int((~known).sum())} inquiries point to sessions that do not exist")
        return
    s = sessions.loc[sv["session_id"]]
    if ((s["customer_id"].to_numpy() != sv["customer_id"].to_numpy()).any()
            or (s["ts"].to_numpy() != sv["ts"].to_numpy()).any()
            or (s["landing_sku"].astype(str).to_numpy() != sv["sku"].astype(str).to_numpy()).any()):
        fail("an inquiry's customer, time or SKU differs from its session's")
    if (s["ordered"].to_numpy() != sv["ordered"].to_numpy()).any():
        fail("an inquiry's ordered flag differs from its session's")
    if s["bounced"].any():
        fail("a shopper who bounced asked a question")
    if (sv["first_response_s"].dropna() < 0).any():
        fail("a first response before the question")
    if sv.loc[sv["answered"], "first_response_s"].isna().any():
        fail("an inquiry answered in time has no first response")
    if (sv["answered"] & sv["complaint"]).any():
        fail("a shopper answered in time complained")
    daily = t["daily"].set_index("date")
    per_day = sv.groupby(local_day(sv["ts"])).size().reindex(daily.index, fill_value=0)
    if (daily["inquiries"] != per_day).any():
        fail("daily.inquiries != inquiries per day")
    dp, refunds = t["disputes"], t["refunds"].set_index("refund_id")
    if list(dp["dispute_id"]) != list(range(1, len(dp) + 1)):
        fail("dispute_id is not 1..n")
    if (dp["closed_ts"] < dp["opened_ts"]).any():
        fail("a dispute closed before it opened")
    end = pd.Timestamp(sim.scenario.start, tz="Asia/Shanghai") + pd.Timedelta(days=sim.days_run)
    if (dp["closed_ts"] >= end).any():
        fail("a dispute closed after the last simulated day")
    if dp.loc[dp["outcome"] == "shop_won", "refund_id"].notna().any():
        fail("a dispute the shop won was refunded")
    if not dp["refund_id"].dropna().is_unique:
        fail("two disputes name the same refund")
    paid = dp.dropna(subset=["refund_id"])
    if not paid["refund_id"].isin(refunds.index).all():
        fail("a dispute names a refund that does not exist")
    elif len(paid):
        r = refunds.loc[paid["refund_id"].astype(int)]
        if ((r["order_id"].fillna(-1).to_numpy() != paid["order_id"].fillna(-1).to_numpy()).any()
                or (r["sku"].astype(str).to_numpy() != paid["sku"].astype(str).to_numpy()).any()):
            fail("a dispute's order line differs from its refund's")
        if (r["requested_ts"].to_numpy() > paid["opened_ts"].to_numpy()).any():
            fail("a dispute opened before its refund was requested")


def _reviews(t, sim, fail):
    r, orders, items = t["reviews"], t["orders"], t["order_items"]
    if list(r["review_id"]) != list(range(1, len(r) + 1)):
        fail("review_id is not 1..n")
    if not r["rating"].between(1, 5).all():
        fail("a rating is outside 1-5 stars")
    tied = r[r["order_id"].notna()]
    lines = set(zip(items["order_id"], items["sku"].astype(str), strict=True))
    if not all((int(o), str(s)) in lines for o, s in zip(tied["order_id"], tied["sku"], strict=True)):
        fail("a review names an order line (order, SKU) that does not exist")
    paid = tied.merge(orders[["order_id", "ts"]].astype({"order_id": "Int64"}), on="order_id",
                      suffixes=("", "_order"))
    if (paid["ts"] < paid["ts_order"]).any():
        fail("a review was written before its order was paid")
    if r["replied"].sum() != int((t["events"]["kind"] == "reply_to_review").sum()):
        fail("replied reviews and reply_to_review events disagree")


def _refunds(t, sim, fail):
    r, items, orders, inv = t["refunds"], t["order_items"], t["orders"], t["inventory"]
    if list(r["refund_id"]) != list(range(1, len(r) + 1)):
        fail("refund_id is not 1..n")
    if not all(isinstance(r[c].dtype, pd.CategoricalDtype) for c in ("kind", "reason")):
        fail("refunds.kind and refunds.reason must be categoricals")
    end = pd.Timestamp(sim.scenario.start, tz="Asia/Shanghai") + pd.Timedelta(days=sim.days_run)
    if len(r) and r["completed_ts"].max() >= end:
        fail("a refund completed after the last simulated day")
    if (r["completed_ts"] < r["requested_ts"]).any():
        fail("a refund completed before it was requested")
    if (r["qty"] <= 0).any() or (r["amount"] < 0).any():
        fail("a refund of no units or a negative amount")
    tied = r[r["order_id"].notna()]
    if tied.duplicated(["order_id", "sku"]).any():
        fail("an order line was refunded twice")
    lines = tied.astype({"order_id": "int64"}).merge(
        items.astype({"sku": str}), on=["order_id", "sku"], how="left", suffixes=("", "_line"),
        validate="one_to_one") if len(tied) else tied.assign(qty_line=[], unit_paid_price=[])
    if lines["qty_line"].isna().any():
        fail("a refund names an order line (order, SKU) that does not exist")
    else:
        if (lines["qty"] > lines["qty_line"]).any():
            fail("a refund returns more units than its order line had")
        if ((lines["amount"] - lines["qty"] * lines["unit_paid_price"]).abs() > CENT).any():
            fail("a refund's amount != units x the price paid for them")
    paid = tied.merge(orders[["order_id", "ts"]].astype({"order_id": "Int64"}), on="order_id")
    if (paid["requested_ts"] < paid["ts"]).any():
        fail("a refund was requested before its order was paid")
    early = r["kind"] == "refund_only"
    if (~r.loc[early, "restocked"]).any() or (r.loc[early, "return_shipping"] > 0).any():
        fail("a refund before shipping lost its units or paid a return courier")
    back = r[r["restocked"]].groupby([local_day(r.loc[r["restocked"], "completed_ts"]),
                                      r.loc[r["restocked"], "sku"].astype(str)])["qty"].sum()
    booked = pd.Series(inv["returned"].to_numpy(),
                       index=pd.MultiIndex.from_arrays([inv["date"], inv["sku"].astype(str)]))
    both = pd.concat([booked.rename("inventory"), back.rename("refunds")], axis=1).fillna(0)
    if (both["inventory"] != both["refunds"]).any():
        fail("inventory.returned != restocked refund units per SKU and day")


def _search_and_market(t, sim, fail):
    rk = t["rankings"]
    for (_, _), g in rk.groupby(["date", "keyword"], observed=True):
        if sorted(g["organic_position"]) != list(range(1, len(g) + 1)):
            fail("organic positions of a keyword on a day are not 1..n")
            break
    shown = sum(len(k.relevance) for k in sim.scenario.keywords)
    if len(rk) > shown * sim.days_run:
        fail("rankings has more rows than relevant listings x days")
    market, days = t["market"], sim.days_run
    last = pd.Timestamp(sim.scenario.start) + pd.Timedelta(days=days - 1)
    for _, offer in sim.scenario.rival_offers:  # a hidden offer shows from the morning after its listing
        dates = market.loc[market["sku"] == offer.sku, "date"]
        listed = days if not getattr(offer, "hidden", False) else (last - dates.min()).days + 1 if len(dates) else 0
        if len(dates) != listed or not dates.is_unique:
            fail(f"market has {len(dates)} rows of {offer.sku}, not one per day it was listed ({listed})")
    if (t["market"]["price"] <= 0).any():
        fail("a rival price is not positive")
    if not set(t["events"]["actor"].dropna()) <= {"operator", "competitor", "platform", "system"}:
        fail("an event has an unknown actor")
    if t["events"]["actor"].isna().any():
        fail("an event has no actor")


CHECKS: tuple[Callable, ...] = (_columns, _dtypes, _time_window, _stock, _units_match_lines, _orders, _funnel,
                                _money, _refunds, _reviews, _search_and_market, _service)


def check_invariants(sim: shopsim.Simulation) -> None:
    """Assert every invariant on a run's tables; one AssertionError lists all that are broken."""
    t = tables_of(sim)
    problems: list[str] = []
    for check in CHECKS:
        try:
            check(t, sim, problems.append)
        except (KeyError, AttributeError) as exc:  # a missing column breaks a check: report, keep going
            problems.append(f"{check.__name__}: could not check ({type(exc).__name__}: {exc})")
    assert not problems, f"{len(problems)} invariant(s) broken:\n  " + "\n  ".join(problems)


def assert_same_tables(a: shopsim.Simulation, b: shopsim.Simulation, names=shopsim.TABLES) -> None:
    """Every table of ``a`` equals ``b``'s exactly (values, dtypes, order)."""
    for name in names:
        try:
            pdt.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"table {name} differs: {exc}") from None


def fingerprint(sim: shopsim.Simulation) -> tuple:
    """A cheap summary of a simulation's state: prices, stock, listing quality, open work, events,
    the service rota, prepared answers and refund policy."""
    cat = sim.catalog
    return (tuple(np.round(cat.price, 6)), tuple(cat.stock), tuple(np.round(cat.listing_quality, 9)),
            tuple(sim.inventory.on_order()), len(sim.records.events), tuple(sim.reviews.replied),
            sim.env.now, sim.days_run, sim.return_insurance, tuple(sim.service.rota), tuple(sim.service.scripts),
            sim.aftersales.auto_approve_under, sim.aftersales.refuse)


def assert_rejected_and_untouched(call: Callable[[shopsim.Simulation], object], message: str,
                                  scenario: str = "baseline", seed: int = 2) -> None:
    """``call(sim)`` raises an ActionError matching ``message``, and a day run afterwards gives
    exactly the tables of a twin that never received the call."""
    import pytest

    sim, twin = shopsim.Simulation(scenario, seed=seed), shopsim.Simulation(scenario, seed=seed)
    with pytest.raises(shopsim.ActionError, match=message):
        call(sim)
    assert_same_tables(sim.run(1), twin.run(1))
