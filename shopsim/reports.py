"""KPI definitions (the one place they live), the daily report (日报) and the P&L.

Lessons, the console and grading all call these, so each KPI means one thing everywhere, as
生意参谋 defines it:

- a period's UV (访客数) counts each visitor once, however many days they came: the distinct
  ``customer_id`` of its sessions, never the sum of the daily UVs (:func:`unique_visitors`);
- paying buyers (支付买家数) likewise count each customer once per period (:func:`paying_buyers`);
- conversion rate (转化率) = paying buyers / UV;
- AOV (客单价) = paid amount / paying buyers; the per-order figure is the average order value
  (笔单价, paid amount / orders).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from shopsim._lazy import lazy
from shopsim.scenario import Shop

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

#: P&L cost lines that vary with the business, in the order they are subtracted (all in yuan);
#: revenue + returned_cogs - these = contribution.
VARIABLE_COSTS = ("refunds", "cogs", "ad_spend_search", "ad_spend_display", "affiliate_commission",
                  "affiliate_service_fee", "platform_fee", "payment_fee", "shipping", "packaging",
                  "return_shipping", "return_insurance", "promotion_cost", "crm_cost", "holding_cost",
                  "listing_cost", "write_offs")
#: The shop's fixed costs per day (scenario ``shop.fixed_costs``, and the customer-service agents
#: on the rota): contribution - these = net profit.
FIXED_COSTS = ("staff", "customer_service", "rent", "software")
#: Every P&L cost line.
COST_LINES = VARIABLE_COSTS + FIXED_COSTS


def _ratio(num, den):
    """num / den as floats, NaN where den is 0 (a KPI of an empty day is undefined)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def unique_visitors(sessions: pd.DataFrame) -> int:
    """UV (访客数) of a period = the different visitors among its sessions: each counted once, however
    many days they came (so a month's UV is below the sum of its daily UVs)."""
    return int(sessions["customer_id"].nunique())


def paying_buyers(orders: pd.DataFrame) -> int:
    """Paying buyers (支付买家数) of a period = the different customers among its paid orders
    (two orders, one buyer)."""
    return int(orders["customer_id"].nunique())


def conversion_rate(buyers, uv):
    """Conversion rate (转化率) = paying buyers / unique visitors (UV), both counted over the same period."""
    return _ratio(buyers, uv)


def aov(revenue, buyers):
    """AOV (客单价) = paid amount (yuan) / paying buyers, as 生意参谋 defines it."""
    return _ratio(revenue, buyers)


def avg_order_value(revenue, orders):
    """Average order value (笔单价) = paid amount (yuan) / orders."""
    return _ratio(revenue, orders)


def refund_rate(refunded, gmv):
    """Refund rate (退款率, by amount) = refunded amount (yuan) / GMV of the same period."""
    return _ratio(refunded, gmv)


def inquiry_conversion_rate(ordered_inquiries, inquiries):
    """Inquiry conversion (询单转化率) = inquiries whose shopper paid in that session / inquiries."""
    return _ratio(ordered_inquiries, inquiries)


def bounce_rate(bounced_sessions, sessions):
    """Bounce rate (跳失率) = one-page sessions / sessions."""
    return _ratio(bounced_sessions, sessions)


def add_to_cart_rate(carted_sessions, sessions):
    """Add-to-cart rate = sessions with a cart add / sessions."""
    return _ratio(carted_sessions, sessions)


def cart_abandonment_rate(carted_orders, carted_sessions):
    """Cart abandonment = 1 - paid orders from sessions with a cart add / sessions with a cart add
    (buy-now orders skip the cart, so they are not counted)."""
    return 1.0 - _ratio(carted_orders, carted_sessions)


def roas(revenue, ad_spend):
    """Return on ad spend (投入产出比) = ad-attributed revenue / ad spend."""
    return _ratio(revenue, ad_spend)


def local_date(ts: pd.Series) -> pd.Series:
    """Calendar date (naive, Asia/Shanghai) of tz-aware timestamps."""
    return ts.dt.tz_localize(None).dt.normalize()


def pnl(days: Mapping[str, Any], shop: Shop, insurance_premium: float) -> pd.DataFrame:
    """Profit and loss per day (the ``pnl`` table); see :func:`pnl_columns`."""
    return pd.DataFrame(pnl_columns(days, shop, insurance_premium))


def pnl_columns(days: Mapping[str, Any], shop: Shop, insurance_premium: float) -> dict[str, Any]:
    """Profit and loss per day: every yuan from orders, refunds, ads and booked costs.

    ``days`` is the day book (one row per closed day: ``date`` and the aggregates of
    :data:`shopsim.records.DAY_COUNTS`, ``DAY_AMOUNTS`` and ``BOOKED_COSTS``, as columns of
    a frame or arrays of a mapping). Each line is booked on the day it falls: sales on the day
    paid, refunds (and the cost of the goods that came back, ``returned_cogs``, a credit) on
    the day refunded, fixed costs every day. revenue is what buyers paid after discounts;
    contribution = revenue + returned_cogs - every variable cost; net_profit = contribution -
    staff, rent, software. Yuan, rounded to fen.
    """
    def col(name: str) -> np.ndarray:
        return np.asarray(days[name], dtype=float)

    lines = {c: col(c) for c in ("gross_sales", "discounts", "revenue", "returned_cogs", "refunds", "cogs",
                                 "ad_spend_search", "ad_spend_display", "affiliate_commission")}
    revenue = lines["revenue"]
    lines.update({
        "affiliate_service_fee": lines["affiliate_commission"] * shop.affiliate_service_fee_rate,
        "platform_fee": revenue * shop.platform_fee_rate, "payment_fee": revenue * shop.payment_fee_rate,
        "shipping": col("shop_shipped") * shop.shipping_cost_per_order,
        "packaging": col("orders") * shop.packaging_per_order,
        "return_shipping": col("return_shipping"), "return_insurance": col("insured") * insurance_premium})
    lines.update({c: col(c) for c in ("promotion_cost", "crm_cost", "holding_cost", "listing_cost", "write_offs",
                                      *FIXED_COSTS)})
    out = {"date": days["date"]}
    out.update({c: np.round(lines[c], 2) for c in ("gross_sales", "discounts", "revenue", "returned_cogs",
                                                    *VARIABLE_COSTS)})
    out["contribution"] = np.round(out["revenue"] + out["returned_cogs"] - _row_sum(out, VARIABLE_COSTS), 2)
    out.update({c: np.round(lines[c], 2) for c in FIXED_COSTS})
    out["net_profit"] = np.round(out["contribution"] - _row_sum(out, FIXED_COSTS), 2)
    return out


#: The columns of :func:`product_pnl`, in order (money in yuan).
PRODUCT_PNL_COLUMNS = ("sku", "units", "revenue", "cogs", "ad_spend", "refunds", "write_offs", "profit")


def product_pnl(order_items: pd.DataFrame, ads: pd.DataFrame, refunds: pd.DataFrame,
                inventory: pd.DataFrame) -> pd.DataFrame:
    """Profit and loss per product (单品盈亏) over the tables' period: one row per own SKU that sold.

    revenue = units x paid price; cogs = units x unit cost; ad_spend = paid search, display and
    affiliate spend on the SKU (``ads.sku``); refunds = money refunded on its lines minus the cost
    of the goods that went back on the shelf (``goods_cost`` of restocked lines: a refunded unit
    that comes back costs the shop only the margin); write_offs (报损) = units lost
    (``inventory.lost``) x unit cost; profit = revenue - cogs - ad_spend - refunds - write_offs.
    Shared costs (platform and payment fees, shipping, packaging, fixed costs) are left out, so
    the profits add up to more than the shop's net profit.
    """
    lines = order_items.assign(sku=order_items["sku"].astype(str))
    out = lines.assign(revenue=lines["qty"] * lines["unit_paid_price"], cogs=lines["qty"] * lines["unit_cost"]) \
        .groupby("sku")[["qty", "revenue", "cogs"]].sum().rename(columns={"qty": "units"})
    out["ad_spend"] = ads.assign(sku=ads["sku"].astype(str)).groupby("sku")["spend"].sum()
    back = refunds["goods_cost"].where(refunds["restocked"], 0.0)
    out["refunds"] = (refunds["amount"] - back).groupby(refunds["sku"].astype(str)).sum()
    unit_cost = lines.groupby("sku")["unit_cost"].mean()
    lost = inventory.assign(sku=inventory["sku"].astype(str)).groupby("sku")["lost"].sum()
    out["write_offs"] = lost.reindex(out.index, fill_value=0) * unit_cost
    out = out.fillna(0.0)
    out["profit"] = out["revenue"] - out["cogs"] - out["ad_spend"] - out["refunds"] - out["write_offs"]
    return out.round(2).reset_index()[list(PRODUCT_PNL_COLUMNS)]


def _row_sum(columns: Mapping[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    """Per row, the sum of the named columns, added in order."""
    return np.stack([columns[c] for c in names]).sum(axis=0) if names else 0.0


def daily_report(days: Mapping[str, Any], pnl_table: Mapping[str, Any]) -> pd.DataFrame:
    """The daily report (日报, the ``daily`` table); see :func:`daily_columns`."""
    return pd.DataFrame(daily_columns(days, pnl_table))


def daily_columns(days: Mapping[str, Any], pnl_table: Mapping[str, Any]) -> dict[str, Any]:
    """The daily report (日报): one row per day of traffic, funnel, sales, refunds, customers, profit
    and customer service.

    ``days`` is the day book (see :func:`pnl`): per day the visits and page views, distinct
    visitors (``uv``), buyers and new buyers, funnel counts, orders, units and amounts, the
    day's inquiries (those whose shopper paid, first replies and their seconds, complaints), and
    the shop's end-of-day ``followers``, three DSR scores (``dsr_description``, ``dsr_service``,
    ``dsr_logistics``, stars; ``dsr`` is their mean), ``dispute_rate`` and
    ``refund_approval_hours``. ``pnl_table`` is :func:`pnl` of the same days (a frame or its
    columns); refunds are those completed that day.
    """
    from shopsim.records import DSR_DIMENSIONS

    def count(name: str) -> np.ndarray:
        return np.asarray(days[name], dtype=np.int64)

    out: dict[str, Any] = {"date": days["date"]}
    out.update({c: count(c) for c in ("pv", "uv", "sessions", "submitted_orders", "orders", "buyers", "units")})
    out["gmv"] = gmv = np.round(np.asarray(days["revenue"], dtype=float), 2)  # yuan, to the fen
    out["favourites"] = count("favourites")
    out["conversion_rate"] = conversion_rate(out["buyers"], out["uv"])
    out["order_conversion_rate"] = conversion_rate(count("submitters"), out["uv"])
    out["aov"] = aov(gmv, out["buyers"])
    out["avg_order_value"] = avg_order_value(gmv, out["orders"])
    out["bounce_rate"] = bounce_rate(count("bounced"), out["sessions"])
    out["add_to_cart_rate"] = add_to_cart_rate(count("carted"), out["sessions"])
    out["cart_abandonment_rate"] = cart_abandonment_rate(count("carted_paid"), count("carted"))
    p = {c: np.asarray(pnl_table[c]) for c in ("refunds", "revenue", "cogs", "contribution", "net_profit",
                                               "ad_spend_search", "ad_spend_display", "affiliate_commission")}
    out["refund_amount"] = p["refunds"]
    out["refund_rate"] = refund_rate(p["refunds"], gmv)
    out["net_gmv"] = np.round(gmv - p["refunds"], 2)
    out["ad_spend"] = _row_sum(p, ("ad_spend_search", "ad_spend_display", "affiliate_commission"))
    out["roas"] = roas(np.asarray(days["ad_revenue"], dtype=float), out["ad_spend"])
    out["new_customers"] = count("new_buyers")
    out["returning_customers"] = out["buyers"] - out["new_customers"]
    out["followers"] = count("followers")
    out["dsr"] = np.asarray(days["dsr"], dtype=float)
    out.update({c: np.asarray(days[c], dtype=float) for c in DSR_DIMENSIONS})
    out["gross_profit"] = np.round(p["revenue"] - p["cogs"], 2)
    out["contribution"] = p["contribution"]
    out["net_profit"] = p["net_profit"]
    out.update(_service_columns(days))
    return out


def _service_columns(days: Mapping[str, Any]) -> dict[str, Any]:
    """The day's inquiries, inquiry conversion, average first response (seconds, of the inquiries
    an agent replied to; NaN without one), complaints, dispute rate and refund approval time
    (hours), from the day book."""
    out: dict[str, Any] = {"inquiries": np.asarray(days["inquiries"], dtype=np.int64)}
    inquiries = out["inquiries"]
    out["inquiry_conversion_rate"] = inquiry_conversion_rate(np.asarray(days["inquiries_ordered"], dtype=np.int64),
                                                             inquiries)
    out["first_response_s"] = np.round(_ratio(days["first_response_seconds"], days["replies"]), 1)
    out["complaints"] = np.asarray(days["complaints"], dtype=np.int64)
    out["dispute_rate"] = np.asarray(days["dispute_rate"], dtype=float)
    out["refund_approval_hours"] = np.asarray(days["refund_approval_hours"], dtype=float)
    return out


def traffic_by_source(days: Mapping[str, Any]) -> pd.DataFrame:
    """Visits (sessions) per traffic source and day, from the day book: ``date`` and one column
    per source of :data:`shopsim.scenario.SOURCES` whose visits column ``days`` holds (in that
    order)."""
    from shopsim.records import DAY_VISITS

    return pd.DataFrame({"date": days["date"], **{c.removeprefix("visits_"): np.asarray(days[c], dtype=np.int64)
                                                  for c in DAY_VISITS if c in days}})


def sales_per_day(inventory: pd.DataFrame, days: int) -> dict[str, float]:
    """Units sold per day of each SKU over the last ``days`` days an ``inventory`` table covers
    (the sell rate a reorder is planned on); SKUs without rows in those days are left out."""
    if inventory.empty:
        return {}
    dates = inventory["date"].to_numpy()
    recent = dates > dates.max() - np.timedelta64(days, "D")
    sku = inventory["sku"]
    code = sku.cat.codes.to_numpy()[recent]
    size = len(sku.cat.categories)
    sold = np.bincount(code, weights=inventory["sold"].to_numpy()[recent], minlength=size)
    rows = np.bincount(code, minlength=size)
    return {name: float(sold[i] / rows[i]) for i, name in enumerate(sku.cat.categories) if rows[i]}


def summary(daily: Mapping[str, Any], pnl_table: Mapping[str, Any], uv: int, buyers: int) -> str:
    """A short text summary of a run: totals and KPIs an operator would quote, over the whole run.

    ``daily`` and ``pnl_table`` are the tables (or their columns as arrays); ``uv`` and ``buyers``
    are the run's UV and paying buyers, each person counted once (:func:`unique_visitors`,
    :func:`paying_buyers`, or ``Recorder.run_people``)."""
    totals = {c: float(np.sum(np.asarray(pnl_table[c], dtype=float)))
              for c in ("revenue", "returned_cogs", "refunds", "contribution", "net_profit", *COST_LINES)}
    orders = int(np.sum(np.asarray(daily["orders"])))
    bounce = np.asarray(daily["bounce_rate"], dtype=float)
    mean_bounce = float(np.nanmean(bounce)) if np.isfinite(bounce).any() else float("nan")
    lines = [
        f"days {len(daily['uv'])}  |  UV {uv:,}  orders {orders:,}  buyers {buyers:,}"
        f"  GMV {float(np.sum(daily['gmv'])):,.0f} yuan"
        f"  refunds {totals['refunds']:,.0f} yuan",
        f"conversion {float(conversion_rate(buyers, uv)):.2%}  AOV {float(aov(totals['revenue'], buyers)):.1f} yuan"
        f" per buyer  bounce {mean_bounce:.1%}",
        "P&L (yuan): revenue {:,.0f}  + returned_cogs {:,.0f}".format(totals["revenue"], totals["returned_cogs"])
        + "".join(f"  - {c} {totals[c]:,.0f}" for c in VARIABLE_COSTS if totals[c])
        + f"  = contribution {totals['contribution']:,.0f}"
        + "".join(f"  - {c} {totals[c]:,.0f}" for c in FIXED_COSTS if totals[c])
        + f"  = net profit {totals['net_profit']:,.0f}",
    ]
    return "\n".join(lines)


#: The columns of :func:`period_totals`, in order.
PERIOD_COLUMNS = ("net_profit", "revenue", "gmv", "orders", "units", "uv", "buyers", "conversion_rate", "aov",
                  "bounce_rate", "ad_spend", "roas", "new_customers", "returning_customers")


def period_totals(daily: pd.DataFrame, pnl_table: pd.DataFrame, ads: pd.DataFrame, uv: int,
                  buyers: int) -> dict[str, float]:
    """One run's totals and KPIs over all its days (the row a sweep writes per seed).

    Money in yuan; ``uv`` and ``buyers`` are the run's, each person counted once
    (:func:`unique_visitors`, :func:`paying_buyers`, or ``Recorder.run_people``); other counts are summed over days
    (``new_customers`` and ``returning_customers`` are buyer-days); rates use the one KPI
    definitions above on those totals; ``bounce_rate`` is the mean of the days'.
    """
    totals = pnl_table.drop(columns="date").sum()
    sums = {c: float(daily[c].sum()) for c in ("gmv", "orders", "units", "ad_spend", "new_customers",
                                               "returning_customers")}
    uv, buyers = float(uv), float(buyers)
    return {
        "net_profit": float(totals["net_profit"]), "revenue": float(totals["revenue"]), "gmv": sums["gmv"],
        "orders": sums["orders"], "units": sums["units"], "uv": uv, "buyers": buyers,
        "conversion_rate": float(conversion_rate(buyers, uv)),
        "aov": float(aov(totals["revenue"], buyers)),
        "bounce_rate": float(daily["bounce_rate"].mean()),
        "ad_spend": sums["ad_spend"], "roas": float(roas(float(ads["revenue"].sum()), sums["ad_spend"])),
        "new_customers": sums["new_customers"], "returning_customers": sums["returning_customers"],
    }
