"""Columnar recorders and the tables they become.

During a run, each slice appends numpy arrays to per-table buffers (no pandas in the hot
loop). Tables are built once, on demand, with proper dtypes: tz-aware timestamps
(Asia/Shanghai), categoricals for codes, nullable integers where a value may be missing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from shopsim.calendar import Clock
from shopsim.scenario import DEVICES, SOURCES

_SECONDS_PER_DAY = 86_400


class Buffer:
    """Append-only columns: lists of array chunks, concatenated (and kept so) on read."""

    def __init__(self, *columns: str) -> None:
        self.columns = columns
        self._chunks: dict[str, list[np.ndarray]] = {c: [] for c in columns}
        self.rows = 0

    def append(self, **arrays: Any) -> None:
        """Append equal-length arrays, one per column (scalars are broadcast)."""
        n = next((len(a) for a in arrays.values() if np.ndim(a)), 1)
        chunks = self._chunks
        for c in self.columns:
            a = arrays[c]
            chunks[c].append(a if np.ndim(a) else np.full(n, a))
        self.rows += n

    def column(self, name: str) -> np.ndarray:
        """One whole column as a single array."""
        chunks = self._chunks[name]
        if len(chunks) != 1:
            whole = np.concatenate(chunks) if chunks else np.empty(0)
            self._chunks[name] = [whole]
        return self._chunks[name][0]


def categorical(codes: np.ndarray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    """A categorical from integer codes (-1 = missing) without copying strings."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int16), categories=list(categories))


def nullable_int(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """A pandas nullable Int64 array; ``missing`` marks the entries that are <NA>."""
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    return pd.arrays.IntegerArray(values, mask)


class Recorder:
    """Everything a run writes down, table by table.

    Parameters
    ----------
    clock:
        Turns seconds and day numbers into timestamps and dates.
    skus, keywords, shops:
        The names behind the codes stored in the buffers.
    """

    def __init__(self, clock: Clock, skus: list[str], keywords: list[str], shops: list[str]) -> None:
        self.clock = clock
        self.skus, self.keywords, self.shops = skus, keywords, shops
        self.sessions = Buffer("ts", "customer_id", "is_new_customer", "device", "source", "keyword",
                               "landing_sku", "bounced", "added_to_cart", "order_submitted", "ordered", "order_id",
                               "page_views", "favourited")
        self.orders = Buffer("order_id", "ts", "customer_id", "session_id", "source", "items",
                             "gross_amount", "discount_amount", "paid_amount", "promotion_id", "coupon_id",
                             "buyer_shipping", "insured")
        self.order_items = Buffer("order_id", "sku", "qty", "unit_list_price", "unit_paid_price", "unit_cost")
        self.inventory = Buffer("day", "sku", "on_hand_start", "received", "sold", "returned", "lost",
                                "on_hand_end", "stockout_hours", "on_order")
        self.refunds = Buffer("order_id", "sku", "qty", "requested", "completed", "kind", "reason", "amount",
                              "restocked", "return_shipping", "goods_cost", "request")
        self.service = Buffer("ts", "customer_id", "session_id", "sku", "topic", "first_response_s", "answered",
                              "ordered", "complaint")
        self.disputes = Buffer("request", "order_id", "sku", "amount", "reason", "opened", "closed", "outcome")
        self.rankings = Buffer("day", "keyword", "offer", "organic_position")
        self.market = Buffer("day", "offer", "price", "on_promotion", "displayed_sales", "rating",
                             "ad_presence", "in_stock")
        self.shop_days = Buffer("day", "followers", "dsr_description", "dsr_service", "dsr_logistics",
                                "dispute_rate", "refund_approval_hours")
        self.ads = Buffer("ts", "channel", "keyword", "audience", "sku", "bid", "quality_score", "impressions",
                          "clicks", "spend", "avg_position", "orders", "revenue")
        self.events: list[tuple[int, str, str, str, str]] = []
        self.promotion_ids: list[str] = []  # the promotions' own list, shared (codes index it)
        self.costs: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.days_done = 0

    @property
    def session_count(self) -> int:
        """Sessions recorded so far."""
        return self.sessions.rows

    def event(self, second: float, actor: str, kind: str, target: str = "", detail: str = "") -> None:
        """Write one row to the events table (``second`` since hour 0)."""
        self.events.append((int(second), actor, kind, target, detail))

    def cost(self, day: int, item: str, amount: float) -> None:
        """Book a cost that is not tied to an order (yuan) on a day's P&L line ``item``."""
        self.costs[day][item] += amount

    # -- tables ---------------------------------------------------------------------------
    def sessions_table(self) -> pd.DataFrame:
        """One row per own-shop visit."""
        b = self.sessions
        order_id = b.column("order_id")
        return pd.DataFrame({
            "session_id": np.arange(1, b.rows + 1, dtype=np.int64),
            "ts": self.clock.timestamps(b.column("ts")),
            "customer_id": np.asarray(b.column("customer_id"), dtype=np.int64),
            "is_new_customer": np.asarray(b.column("is_new_customer"), dtype=bool),
            "device": categorical(b.column("device"), DEVICES),
            "source": categorical(b.column("source"), SOURCES),
            "keyword": categorical(b.column("keyword"), self.keywords),
            "landing_sku": categorical(b.column("landing_sku"), self.skus),
            "bounced": np.asarray(b.column("bounced"), dtype=bool),
            "added_to_cart": np.asarray(b.column("added_to_cart"), dtype=bool),
            "order_submitted": np.asarray(b.column("order_submitted"), dtype=bool),
            "ordered": np.asarray(b.column("ordered"), dtype=bool),
            "order_id": nullable_int(order_id, order_id < 0),
            "page_views": b.column("page_views").astype(np.int16),
            "favourited": b.column("favourited"),
        }, copy=False)

    def orders_table(self) -> pd.DataFrame:
        """One row per paid order."""
        b = self.orders
        return pd.DataFrame({
            "order_id": b.column("order_id").astype(np.int64),
            "ts": self.clock.timestamps(b.column("ts")),
            "customer_id": b.column("customer_id").astype(np.int64),
            "session_id": b.column("session_id").astype(np.int64),
            "source": categorical(b.column("source"), SOURCES),
            "items": b.column("items").astype(np.int64),
            "gross_amount": b.column("gross_amount").astype(float),
            "discount_amount": b.column("discount_amount").astype(float),
            "paid_amount": b.column("paid_amount").astype(float),
            "promotion_id": _ids(b.column("promotion_id"), self.promotion_ids),
            "coupon_id": _ids(b.column("coupon_id"), self.promotion_ids),
            "buyer_shipping": b.column("buyer_shipping").astype(float),
            "insured": b.column("insured").astype(bool),
        }, copy=False)

    def order_items_table(self) -> pd.DataFrame:
        """One row per order line."""
        b = self.order_items
        return pd.DataFrame({
            "order_id": b.column("order_id").astype(np.int64),
            "sku": categorical(b.column("sku"), self.skus),
            "qty": b.column("qty").astype(np.int64),
            "unit_list_price": b.column("unit_list_price").astype(float),
            "unit_paid_price": b.column("unit_paid_price").astype(float),
            "unit_cost": b.column("unit_cost").astype(float),
        }, copy=False)

    def inventory_table(self) -> pd.DataFrame:
        """One row per own SKU per day."""
        b = self.inventory
        cols = {"date": self.clock.dates(b.column("day")),
                "sku": categorical(b.column("sku"), self.skus)}
        for c in ("on_hand_start", "received", "sold", "returned", "lost", "on_hand_end"):
            cols[c] = b.column(c).astype(np.int64)
        cols["stockout_hours"] = np.round(b.column("stockout_hours").astype(float), 3)
        cols["on_order"] = b.column("on_order").astype(np.int64)
        return pd.DataFrame(cols)

    def refunds_table(self) -> pd.DataFrame:
        """One row per refunded order line (completed refunds), in completion order."""
        from shopsim.refunds import KINDS, REASONS

        b = self.refunds
        order_id = b.column("order_id").astype(np.int64)
        return pd.DataFrame({
            "refund_id": np.arange(1, b.rows + 1, dtype=np.int64),
            "order_id": nullable_int(order_id, order_id < 0),
            "sku": categorical(b.column("sku"), self.skus),
            "qty": b.column("qty").astype(np.int64),
            "requested_ts": self.clock.timestamps(b.column("requested").astype(np.int64)),
            "completed_ts": self.clock.timestamps(b.column("completed").astype(np.int64)),
            "kind": categorical(b.column("kind"), KINDS),
            "reason": categorical(b.column("reason"), REASONS),
            "amount": b.column("amount").astype(float),
            "restocked": b.column("restocked").astype(bool),
            "return_shipping": b.column("return_shipping").astype(float),
            "goods_cost": np.round(b.column("goods_cost").astype(float), 2),
        })

    def service_table(self) -> pd.DataFrame:
        """One row per pre-purchase inquiry (询单), in time order."""
        from shopsim.scenario import SERVICE_TOPICS

        b = self.service
        first = b.column("first_response_s").astype(np.int64)
        return pd.DataFrame({
            "inquiry_id": np.arange(1, b.rows + 1, dtype=np.int64),
            "ts": self.clock.timestamps(b.column("ts").astype(np.int64)),
            "customer_id": b.column("customer_id").astype(np.int64),
            "session_id": b.column("session_id").astype(np.int64),
            "sku": categorical(b.column("sku"), self.skus),
            "topic": categorical(b.column("topic"), SERVICE_TOPICS),
            "first_response_s": nullable_int(first, first < 0),
            "answered": b.column("answered").astype(bool),
            "ordered": b.column("ordered").astype(bool),
            "complaint": b.column("complaint").astype(bool),
        })

    def disputes_table(self) -> pd.DataFrame:
        """One row per dispute the platform has ruled on, in the order they closed."""
        from shopsim.aftersales import OUTCOMES
        from shopsim.refunds import REASONS

        b = self.disputes
        refund_id, found = _rows_of(self.refunds.column("request").astype(np.int64),
                                    b.column("request").astype(np.int64))
        order_id = b.column("order_id").astype(np.int64)
        return pd.DataFrame({
            "dispute_id": np.arange(1, b.rows + 1, dtype=np.int64),
            "refund_id": nullable_int(refund_id, ~found),
            "order_id": nullable_int(order_id, order_id < 0),
            "sku": categorical(b.column("sku"), self.skus),
            "reason": categorical(b.column("reason"), REASONS),
            "amount": b.column("amount").astype(float),
            "opened_ts": self.clock.timestamps(b.column("opened").astype(np.int64)),
            "closed_ts": self.clock.timestamps(b.column("closed").astype(np.int64)),
            "outcome": categorical(b.column("outcome"), OUTCOMES),
        })

    def rankings_table(self) -> pd.DataFrame:
        """One row per keyword, listing and day: the organic position that morning."""
        b = self.rankings
        offer = b.column("offer").astype(np.int64)
        return pd.DataFrame({
            "date": self.clock.dates(b.column("day")),
            "keyword": categorical(b.column("keyword"), self.keywords),
            "shop": categorical(_shop_codes(offer, self.shops), sorted(set(self.shops))),
            "sku": categorical(offer, self.skus),
            "organic_position": b.column("organic_position").astype(np.int64),
        })

    def market_table(self) -> pd.DataFrame:
        """One row per rival offer per day: what an operator sees that morning."""
        b = self.market
        offer = b.column("offer").astype(np.int64)
        return pd.DataFrame({
            "date": self.clock.dates(b.column("day")),
            "shop": categorical(_shop_codes(offer, self.shops), sorted(set(self.shops))),
            "sku": categorical(offer, self.skus),
            "price": b.column("price").astype(float),
            "on_promotion": b.column("on_promotion").astype(bool),
            "displayed_sales": b.column("displayed_sales").astype(np.int64),
            "rating": b.column("rating").astype(float),
            "ad_presence": b.column("ad_presence").astype(bool),
            "in_stock": b.column("in_stock").astype(bool),
        })

    def events_table(self) -> pd.DataFrame:
        """One row per thing that happened (operator actions, rival moves, system events)."""
        rows = sorted(self.events, key=lambda r: r[0])
        secs = np.array([r[0] for r in rows], dtype=np.int64)
        return pd.DataFrame({
            "ts": self.clock.timestamps(secs),
            "actor": pd.Categorical([r[1] for r in rows],
                                    categories=["operator", "competitor", "platform", "system"]),
            "kind": pd.array([r[2] for r in rows], dtype="string"),
            "target": pd.array([r[3] for r in rows], dtype="string"),
            "detail": pd.array([r[4] for r in rows], dtype="string"),
        })

    def costs_table(self) -> pd.DataFrame:
        """One row per simulated day and cost item not tied to an order (holding, listing work ...).

        A cost the operator incurs between runs belongs to the next day and shows once it runs."""
        rows = [(day, item, amount) for day, items in sorted(self.costs.items()) if day < self.days_done
                for item, amount in sorted(items.items())]
        return pd.DataFrame({
            "date": self.clock.dates(np.array([r[0] for r in rows], dtype=np.int64)),
            "item": pd.array([r[1] for r in rows], dtype="string"),
            "amount": np.array([round(r[2], 2) for r in rows], dtype=float),
        })

    def ads_table(self) -> pd.DataFrame:
        """One row per channel, keyword / audience / SKU and hour with ad activity."""
        from shopsim.ads import ALL_AUDIENCES, CHANNELS

        b = self.ads
        qs = b.column("quality_score").astype(float)
        return pd.DataFrame({
            "ts": self.clock.timestamps(b.column("ts").astype(np.int64)),
            "channel": categorical(b.column("channel"), CHANNELS),
            "keyword": categorical(b.column("keyword"), self.keywords),
            "audience": categorical(b.column("audience"), ALL_AUDIENCES),
            "sku": categorical(b.column("sku"), self.skus),
            "bid": b.column("bid").astype(float),
            "quality_score": nullable_int(np.nan_to_num(qs), np.isnan(qs)),
            "impressions": b.column("impressions").astype(np.int64),
            "clicks": b.column("clicks").astype(np.int64),
            "spend": b.column("spend").astype(float),
            "avg_position": b.column("avg_position").astype(float),
            "orders": b.column("orders").astype(np.int64),
            "revenue": b.column("revenue").astype(float),
        })


def _rows_of(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based row of each ``wanted`` key among ``keys`` (unique), and whether it is there."""
    if not len(keys):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    found = keys[order][at] == wanted
    return np.where(found, order[at] + 1, 0), found


def _ids(codes: np.ndarray, ids: list[str]) -> pd.arrays.StringArray:
    """Promotion ids (nullable strings) from their integer codes (-1 = none)."""
    names = np.array([*ids, None], dtype=object)
    return pd.array(names[np.asarray(codes, dtype=np.int64)], dtype="string")


def _shop_codes(offer: np.ndarray, shops: list[str]) -> np.ndarray:
    names = sorted(set(shops))
    lookup = np.array([names.index(s) for s in shops], dtype=np.int16)
    return lookup[offer]
