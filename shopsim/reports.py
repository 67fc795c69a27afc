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

import numpy as np
import pandas as pd

from shopsim.scenario import Shop

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


def pnl(orders: pd.DataFrame, order_items: pd.DataFrame, costs: pd.DataFrame, ads: pd.DataFrame,
        shop: Shop, dates: pd.DatetimeIndex, refunds: pd.DataFrame, insurance_premium: float) -> pd.DataFrame:
    """Profit and loss per day: every yuan from orders, refunds, ads and booked costs.

    Each line is booked on the day it falls: sales on the day paid, refunds (and the cost of
    the goods that came back, ``returned_cogs``, a credit) on the day refunded, fixed costs
    every day. revenue is what buyers paid after discounts; contribution = revenue +
    returned_cogs - every variable cost; net_profit = contribution - staff, rent, software.
    """
    out = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    day = local_date(orders["ts"])
    by_day = orders.groupby(day)
    out["gross_sales"] = by_day["gross_amount"].sum()
    out["discounts"] = by_day["discount_amount"].sum()
    out["revenue"] = by_day["paid_amount"].sum()
    lines = order_items.merge(orders[["order_id", "ts"]], on="order_id", how="left")
    out["cogs"] = (lines["qty"] * lines["unit_cost"]).groupby(local_date(lines["ts"])).sum()
    spend = ads.groupby([local_date(ads["ts"]), "channel"], observed=True)["spend"].sum().unstack()
    for channel, column in (("paid_search", "ad_spend_search"), ("display", "ad_spend_display"),
                            ("affiliate", "affiliate_commission")):
        out[column] = spend.get(channel, 0.0)
    out["affiliate_service_fee"] = out["affiliate_commission"].fillna(0.0) * shop.affiliate_service_fee_rate
    out["platform_fee"] = out["revenue"] * shop.platform_fee_rate
    out["payment_fee"] = out["revenue"] * shop.payment_fee_rate
    shop_pays = (orders["buyer_shipping"] == 0).groupby(day).sum()
    out["shipping"] = shop_pays * shop.shipping_cost_per_order
    out["packaging"] = by_day.size() * shop.packaging_per_order
    refunded = refunds.groupby(local_date(refunds["completed_ts"]))
    out["refunds"] = refunded["amount"].sum()
    out["returned_cogs"] = refunded["goods_cost"].sum()
    out["return_shipping"] = refunded["return_shipping"].sum()
    out["return_insurance"] = orders["insured"].groupby(day).sum() * insurance_premium
    booked = costs.pivot_table(index="date", columns="item", values="amount", aggfunc="sum")
    for column in ("promotion_cost", "crm_cost", "holding_cost", "listing_cost", "write_offs", *FIXED_COSTS):
        out[column] = booked.get(column, 0.0)
    out = out.fillna(0.0).round(2)
    out = out[["gross_sales", "discounts", "revenue", "returned_cogs", *VARIABLE_COSTS, *FIXED_COSTS]]
    out.insert(len(out.columns) - len(FIXED_COSTS), "contribution",
               (out["revenue"] + out["returned_cogs"] - out[list(VARIABLE_COSTS)].sum(axis=1)).round(2))
    out["net_profit"] = (out["contribution"] - out[list(FIXED_COSTS)].sum(axis=1)).round(2)
    return out.reset_index()


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


def daily_report(sessions: pd.DataFrame, orders: pd.DataFrame, order_items: pd.DataFrame,
                 pnl_table: pd.DataFrame, ads: pd.DataFrame, dates: pd.DatetimeIndex,
                 shop_days: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The daily report (日报): one row per day of traffic, funnel, sales, refunds, customers, profit
    and customer service.

    ``shop_days`` holds the shop's end-of-day ``followers``, its three DSR scores
    (``dsr_description``, ``dsr_service``, ``dsr_logistics``, stars), ``dispute_rate`` and
    ``refund_approval_hours``, by date; ``service`` is the inquiries table. Refunds are those
    completed that day (from ``pnl_table``); ``dsr`` is the mean of the three scores.
    """
    index = pd.DatetimeIndex(dates, name="date")
    s_day = local_date(sessions["ts"])
    s = sessions.groupby(s_day)
    out = pd.DataFrame(index=index)
    out["pv"] = s["page_views"].sum()
    out["uv"] = s["customer_id"].nunique()
    out["sessions"] = s.size()
    o_day = local_date(orders["ts"])
    o = orders.groupby(o_day)
    out["submitted_orders"] = s["order_submitted"].sum()
    out["orders"] = o.size()
    out["buyers"] = o["customer_id"].nunique()
    submitters = sessions.loc[sessions["order_submitted"], "customer_id"].groupby(s_day[sessions["order_submitted"]])
    units = order_items.groupby("order_id")["qty"].sum()
    out["units"] = orders["order_id"].map(units).groupby(o_day).sum()
    out["gmv"] = o["paid_amount"].sum()
    out = out.fillna(0)
    for c in ("pv", "uv", "sessions", "submitted_orders", "orders", "buyers", "units"):
        out[c] = out[c].astype(np.int64)
    bounced = s["bounced"].sum().reindex(index, fill_value=0)
    carted = s["added_to_cart"].sum().reindex(index, fill_value=0)
    carted_paid = (sessions["added_to_cart"] & sessions["ordered"]).groupby(s_day).sum().reindex(index, fill_value=0)
    out["favourites"] = s["favourited"].sum().reindex(index, fill_value=0).astype(np.int64)
    out["conversion_rate"] = conversion_rate(out["buyers"], out["uv"])
    out["order_conversion_rate"] = conversion_rate(submitters.nunique().reindex(index, fill_value=0), out["uv"])
    out["aov"] = aov(out["gmv"], out["buyers"])
    out["avg_order_value"] = avg_order_value(out["gmv"], out["orders"])
    out["bounce_rate"] = bounce_rate(bounced, out["sessions"])
    out["add_to_cart_rate"] = add_to_cart_rate(carted, out["sessions"])
    out["cart_abandonment_rate"] = cart_abandonment_rate(carted_paid, carted)
    p = pnl_table.set_index("date").reindex(index)
    out["refund_amount"] = p["refunds"]
    out["refund_rate"] = refund_rate(p["refunds"], out["gmv"])
    out["net_gmv"] = (out["gmv"] - p["refunds"]).round(2)
    out["ad_spend"] = p[["ad_spend_search", "ad_spend_display", "affiliate_commission"]].sum(axis=1)
    ad_revenue = ads.groupby(local_date(ads["ts"]))["revenue"].sum().reindex(index, fill_value=0.0)
    out["roas"] = roas(ad_revenue, out["ad_spend"])
    is_new = orders["session_id"].map(sessions.set_index("session_id")["is_new_customer"]).astype(bool)
    new = orders.loc[is_new, "customer_id"].groupby(o_day[is_new]).nunique()
    out["new_customers"] = new.reindex(index, fill_value=0).astype(np.int64)
    out["returning_customers"] = out["buyers"] - out["new_customers"]
    out["followers"] = shop_days["followers"]
    dims = ["dsr_description", "dsr_service", "dsr_logistics"]
    out["dsr"] = shop_days[dims].mean(axis=1).round(3)
    for column in dims:
        out[column] = shop_days[column].round(3)
    out["gross_profit"] = (p["revenue"] - p["cogs"]).round(2)
    out["contribution"] = p["contribution"]
    out["net_profit"] = p["net_profit"]
    _service_columns(out, service, shop_days)
    return out.reset_index()


def _service_columns(out: pd.DataFrame, service: pd.DataFrame, shop_days: pd.DataFrame) -> None:
    """The day's inquiries, inquiry conversion, average first response (seconds, of the inquiries
    an agent replied to), complaints, dispute rate and refund approval time (hours)."""
    day = local_date(service["ts"])
    by_day = service.groupby(day)
    out["inquiries"] = by_day.size().reindex(out.index, fill_value=0).astype(np.int64)
    ordered = by_day["ordered"].sum().reindex(out.index, fill_value=0)
    out["inquiry_conversion_rate"] = inquiry_conversion_rate(ordered, out["inquiries"])
    out["first_response_s"] = by_day["first_response_s"].mean().reindex(out.index).astype(float).round(1)
    out["complaints"] = by_day["complaint"].sum().reindex(out.index, fill_value=0).astype(np.int64)
    out["dispute_rate"] = shop_days["dispute_rate"].round(5)
    out["refund_approval_hours"] = shop_days["refund_approval_hours"].round(2)


def summary(daily: pd.DataFrame, pnl_table: pd.DataFrame, sessions: pd.DataFrame, orders: pd.DataFrame) -> str:
    """A short text summary of a run: totals and KPIs an operator would quote, over the whole run
    (UV and buyers count each person once, see :func:`unique_visitors`)."""
    totals = pnl_table.drop(columns="date").sum()
    uv, buyers = unique_visitors(sessions), paying_buyers(orders)
    lines = [
        f"days {len(daily)}  |  UV {uv:,}  orders {len(orders):,}  buyers {buyers:,}"
        f"  GMV {daily['gmv'].sum():,.0f} yuan"
        f"  refunds {totals['refunds']:,.0f} yuan",
        f"conversion {float(conversion_rate(buyers, uv)):.2%}  AOV {float(aov(totals['revenue'], buyers)):.1f} yuan"
        f" per buyer  bounce {daily['bounce_rate'].mean():.1%}",
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


def period_totals(daily: pd.DataFrame, pnl_table: pd.DataFrame, ads: pd.DataFrame, sessions: pd.DataFrame,
                  orders: pd.DataFrame) -> dict[str, float]:
    """One run's totals and KPIs over all its days (the row a sweep writes per seed).

    Money in yuan; ``uv`` and ``buyers`` count each person once over the run
    (:func:`unique_visitors`, :func:`paying_buyers`); other counts are summed over days
    (``new_customers`` and ``returning_customers`` are buyer-days); rates use the one KPI
    definitions above on those totals; ``bounce_rate`` is the mean of the days'.
    """
    totals = pnl_table.drop(columns="date").sum()
    sums = {c: float(daily[c].sum()) for c in ("gmv", "orders", "units", "ad_spend", "new_customers",
                                               "returning_customers")}
    uv, buyers = float(unique_visitors(sessions)), float(paying_buyers(orders))
    return {
        "net_profit": float(totals["net_profit"]), "revenue": float(totals["revenue"]), "gmv": sums["gmv"],
        "orders": sums["orders"], "units": sums["units"], "uv": uv, "buyers": buyers,
        "conversion_rate": float(conversion_rate(buyers, uv)),
        "aov": float(aov(totals["revenue"], buyers)),
        "bounce_rate": float(daily["bounce_rate"].mean()),
        "ad_spend": sums["ad_spend"], "roas": float(roas(float(ads["revenue"].sum()), sums["ad_spend"])),
        "new_customers": sums["new_customers"], "returning_customers": sums["returning_customers"],
    }
