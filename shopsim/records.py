"""Columnar recorders and the tables they become.

During a run, each slice appends numpy arrays to per-table buffers (no pandas in the hot
loop). Tables are built once, on demand, with proper dtypes: tz-aware timestamps
(Asia/Shanghai), categoricals for codes, nullable integers where a value may be missing.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from shopsim import _arrays as arrays
from shopsim._lazy import lazy
from shopsim.calendar import Clock
from shopsim.customers import Growable
from shopsim.scenario import DEVICES, SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

_SECONDS_PER_DAY = 86_400


class Buffer:
    """Append-only columns of one table.

    Parameters
    ----------
    *columns:
        Column names, kept in the dtype they are appended in.
    dtypes:
        Column name -> numpy dtype for columns stored compactly (appended arrays are cast).
    keep:
        Columns whose released rows are kept (small keys other tables look rows up by, read
        whole with :meth:`whole_column`).

    A column of a declared dtype is one array that grows fourfold (each append is copied
    in; a read is a view, so building a table from millions of rows copies and joins
    nothing). The other columns are lists of the appended arrays, joined when read whole.

    ``rows`` counts every row ever appended; rows can be read by absolute row number
    (:meth:`column` with ``rows``) and let go once written elsewhere (:meth:`release`), so a
    long run streaming its tables to files holds only the rows not yet written.
    """

    def __init__(self, *columns: str, dtypes: Mapping[str, DTypeLike] | None = None,
                 keep: tuple[str, ...] = ()) -> None:
        self.dtypes = {c: np.dtype(t) for c, t in (dtypes or {}).items()}
        self.columns = (*columns, *(c for c in self.dtypes if c not in columns))
        self._kept: dict[str, list[np.ndarray]] = {c: [] for c in keep}  # released rows of ``keep``
        # the declared columns' arrays (row ``first`` at 0, rows - first filled, the rest spare)
        self._grown: dict[str, np.ndarray] = {c: np.empty(0, t) for c, t in self.dtypes.items()}
        self._chunks: dict[str, list[np.ndarray]] = {c: [] for c in self.columns if c not in self._grown}
        self._starts: list[int] = []  # the first row of each chunk (every chunked column is chunked alike)
        self.rows = 0
        #: Rows before this one were released (written out and dropped from memory).
        self.first = 0
        #: Rows are written out and released as the run goes: no room is made for the rest of the run.
        self.streamed = False

    def append(self, **arrays: Any) -> None:
        """Append equal-length arrays, one per column (scalars are broadcast)."""
        n = 1  # the length of the first array given (1 if all are scalars)
        for a in arrays.values():
            if isinstance(a, (int, float)):
                continue
            if a.ndim if isinstance(a, np.ndarray) else np.ndim(a):
                n = len(a)
                break
        if n == 0:
            return
        grown, chunks = self._grown, self._chunks
        held = self.rows - self.first
        if grown and held + n > self._capacity:
            self._reserve(held + n)
        for c, column in grown.items():  # copied in, cast to the column's dtype (a scalar is broadcast)
            a = arrays[c]
            if isinstance(a, np.ndarray):
                column[held: held + n] = a
            elif n == 1 and isinstance(a, (int, float, np.generic)):
                column[held] = a  # one row of numbers (the day book): the same cast, fewer steps
            else:
                column[held: held + n] = np.asarray(a, dtype=column.dtype)
        for c, pieces in chunks.items():
            a = arrays[c]
            if not isinstance(a, np.ndarray) or not a.ndim:
                a = np.asarray(a)
                if not a.ndim:
                    a = a.reshape(1).repeat(n)  # n copies (as np.full(n, a), without its Python overhead)
            pieces.append(a)
        if chunks:
            self._starts.append(self.rows)
        self.rows += n

    def column(self, name: str, rows: slice | None = None) -> np.ndarray:
        """One column as a single array: every row held, or the absolute rows ``rows`` (a view
        for a column of a declared dtype: read it, do not write to it)."""
        column = self._grown.get(name)
        if column is not None:
            held = column[: self.rows - self.first]
            if rows is None:
                return held
            lo = max(rows.start or 0, self.first) - self.first
            hi = (self.rows if rows.stop is None else min(rows.stop, self.rows)) - self.first
            return held[lo: max(hi, lo)]
        if rows is None or (rows.start or 0) <= self.first and (rows.stop is None or rows.stop >= self.rows):
            self._consolidate()
            chunks = self._chunks[name]
            return chunks[0] if chunks else np.empty(0)
        starts, chunks = self._starts, self._chunks[name]
        lo = max(rows.start or 0, self.first)
        hi = self.rows if rows.stop is None else min(rows.stop, self.rows)
        if hi <= lo:
            return np.empty(0, chunks[0].dtype if chunks else None)
        first, last = bisect.bisect_right(starts, lo) - 1, bisect.bisect_left(starts, hi)
        pieces = chunks[first:last]
        if len(pieces) == 1:
            return pieces[0][lo - starts[first]: hi - starts[first]]
        pieces[0] = pieces[0][lo - starts[first]:]
        pieces[-1] = pieces[-1][: hi - starts[last - 1]]
        return np.concatenate(pieces)

    def _consolidate(self) -> None:
        """Join every chunked column's chunks into one (and keep them so: later reads are free)."""
        if len(self._starts) > 1:
            for c, chunks in self._chunks.items():
                self._chunks[c] = [np.concatenate(chunks)]
            self._starts = [self.first]

    def whole_column(self, name: str) -> np.ndarray:
        """A kept column (``keep``) over every row ever appended, released ones included."""
        return np.concatenate([*self._kept[name], self.column(name)])

    def release(self) -> None:
        """Drop every row held (they were written out), but the ``keep`` columns; ``rows`` keeps counting."""
        for c, kept in self._kept.items():
            kept.append(self.column(c).copy() if c in self._grown else self.column(c))
        for c in self._chunks:
            self._chunks[c] = []
        for c, column in self._grown.items():
            self._grown[c] = np.empty(0, column.dtype)
        self._starts = []
        self.first = self.rows

    @property
    def _capacity(self) -> int:
        """Rows the declared columns' arrays hold before they must grow."""
        return len(next(iter(self._grown.values())))

    def expect(self, more: int) -> None:
        """Make room now for ``more`` rows past those held, in one step, if the declared columns
        would otherwise have to grow (and copy what they hold) to take them. The room at least
        doubles each time, so an expectation that creeps up a little every day copies the rows
        a few times, not every day."""
        held = self.rows - self.first
        if self._grown and held + more > self._capacity:
            self._reserve(held + more, factor=2)

    def _reserve(self, rows: int, factor: int = 4) -> None:
        """Grow the declared columns' arrays to hold at least ``rows`` rows (and ``factor`` times
        what they hold room for: :func:`shopsim._arrays.grown`)."""
        held = self.rows - self.first
        for c, column in self._grown.items():
            self._grown[c] = arrays.grown(column, held, rows, factor)


def categorical(codes: np.ndarray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    """A categorical from integer codes (-1 = missing) without copying strings.

    Integer codes go to pandas as they are (it narrows them to the categories' code width
    itself; int8 codes, as recorded, are used without a copy)."""
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iu":
        codes = codes.astype(np.int16)
    return pd.Categorical.from_codes(codes, dtype=_categories(tuple(categories)), validate=False)


@functools.lru_cache(maxsize=256)
def _categories(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of a set of names (made once: checking names is the slow part)."""
    return pd.CategoricalDtype(list(categories))


def nullable_int(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    """A pandas nullable Int64 array; ``missing`` marks the entries that are <NA>."""
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    return pd.arrays.IntegerArray(values, mask)


#: The three published DSR dimensions (daily columns, stars): description, service, logistics.
DSR_DIMENSIONS = ("dsr_description", "dsr_service", "dsr_logistics")
#: The day book's columns (one row per closed day): the aggregates ``daily`` and ``pnl`` are
#: computed from, so neither needs a session-level table. Counts are whole numbers; money in yuan.
DAY_COUNTS = ("pv", "uv", "sessions", "submitted_orders", "submitters", "bounced", "carted", "carted_paid",
              "favourites", "orders", "buyers", "new_buyers", "units", "shop_shipped", "insured", "followers",
              "run_new_visitors", "run_new_buyers", "inquiries", "inquiries_ordered", "replies", "complaints")
DAY_AMOUNTS = ("gross_sales", "discounts", "revenue", "cogs", "ad_spend_search", "ad_spend_display",
               "affiliate_commission", "ad_revenue", "refunds", "returned_cogs", "return_shipping", "dsr",
               "first_response_seconds", *DSR_DIMENSIONS, "dispute_rate", "refund_approval_hours")
#: Visits per traffic source (one day-book column per source of :data:`shopsim.scenario.SOURCES`).
DAY_VISITS = tuple(f"visits_{source}" for source in SOURCES)
#: Costs not tied to an order that the P&L shows (booked per day with :meth:`Recorder.cost`).
BOOKED_COSTS = ("promotion_cost", "crm_cost", "holding_cost", "listing_cost", "write_offs", "customer_service",
                "staff", "rent", "software")
_SPEND_COLUMNS = ("ad_spend_search", "ad_spend_display", "affiliate_commission")  # by ads channel code


class Recorder:
    """Everything a run writes down, table by table, and each closed day's aggregates.

    Session-level rows go to compact columnar buffers (seconds as int32, codes as int8/int16,
    flags as bool). When a day closes, :meth:`close_day` adds up that day's rows into one row
    of the day book (``days``), which the ``daily`` and ``pnl`` tables are computed from.

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
        i64, i32, i16, i8, f8 = np.int64, np.int32, np.int16, np.int8, np.float64
        self.sessions = Buffer(dtypes={
            "ts": i32, "customer_id": i64, "is_new_customer": bool, "device": i8, "source": i8, "keyword": i16,
            "landing_sku": i16, "bounced": bool, "added_to_cart": bool, "order_submitted": bool, "ordered": bool,
            "order_id": i64, "page_views": i16, "favourited": bool})
        self.orders = Buffer(dtypes={
            "order_id": i64, "ts": i32, "customer_id": i64, "session_id": i64, "source": i8, "items": i32,
            "gross_amount": f8, "discount_amount": f8, "paid_amount": f8, "promotion_id": i32, "coupon_id": i32,
            "buyer_shipping": f8, "insured": bool})
        self.order_items = Buffer(dtypes={"order_id": i64, "sku": i16, "qty": i32, "unit_list_price": f8,
                                          "unit_paid_price": f8, "unit_cost": f8})
        self.inventory = Buffer("day", "sku", "on_hand_start", "received", "sold", "returned", "lost",
                                "on_hand_end", "stockout_hours", "on_order")
        self.refunds = Buffer("order_id", "sku", "qty", "requested", "completed", "kind", "reason", "amount",
                              "restocked", "return_shipping", "goods_cost", "request", keep=("request",))
        self.service = Buffer("ts", "customer_id", "session_id", "sku", "topic", "first_response_s", "answered",
                              "ordered", "complaint")
        self.disputes = Buffer("request", "order_id", "sku", "amount", "reason", "opened", "closed", "outcome")
        self.rankings = Buffer("day", "keyword", "offer", "organic_position")
        self.market = Buffer("day", "offer", "price", "on_promotion", "displayed_sales", "rating",
                             "ad_presence", "in_stock")
        self.ads = Buffer("ts", "channel", "keyword", "audience", "sku", "bid", "quality_score", "impressions",
                          "clicks", "spend", "avg_position", "orders", "revenue")
        self.days = Buffer(dtypes={"day": i32, **dict.fromkeys(DAY_COUNTS, i64), **dict.fromkeys(DAY_VISITS, i64),
                                   **dict.fromkeys(DAY_AMOUNTS, f8), **dict.fromkeys(BOOKED_COSTS, f8)})
        self.events: list[tuple[int, str, str, str, str]] = []
        self.promotion_ids: list[str] = []  # the promotions' own list, shared (codes index it)
        self.costs: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.days_done = 0
        self._seen = {"visitors": Growable("bool"), "buyers": Growable("bool")}  # by customer id
        self._marks = {name: 0 for name in ("sessions", "orders", "order_items", "ads", "refunds", "service")}
        #: Called with the recorder after each day closes (e.g. to stream rows to files).
        self.on_close: list[Callable[[Recorder], None]] = []

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

    # -- closing a day ----------------------------------------------------------------------
    def close_day(self, day: int, followers: int, dsr: tuple[float, float, float], dispute_rate: float,
                  refund_approval_hours: float, days_left: int = 0) -> None:
        """Add up day ``day``'s rows (every row recorded since the last close) into the day book.

        ``followers``, the three DSR scores ``dsr`` (description, service, logistics; stars), the
        ``dispute_rate`` and the average ``refund_approval_hours`` are the shop's at the end of the
        day; the book's ``dsr`` is the mean of the three scores. ``days_left``: the days the run is
        expected to go on (the session-level buffers make room for them at once).
        """
        scores = [float(np.round(float(x), 3)) for x in dsr]
        row: dict[str, Any] = {"day": day, "followers": followers, **dict(zip(DSR_DIMENSIONS, scores, strict=True)),
                               "dsr": float(np.round(np.mean([float(x) for x in dsr]), 3)),
                               "dispute_rate": float(np.round(float(dispute_rate), 5)),
                               "refund_approval_hours": float(np.round(float(refund_approval_hours), 2))}
        row.update(self._day_sessions_and_orders())
        row.update(self._day_service())
        ads = self.ads
        channel = ads.column("channel", self._rows("ads")).astype(np.int64)
        spend = ads.column("spend", self._rows("ads")).astype(float)
        for code, name in enumerate(_SPEND_COLUMNS):
            row[name] = math.fsum(spend[channel == code])
        row["ad_revenue"] = math.fsum(ads.column("revenue", self._rows("ads")).astype(float))
        refunds, rows = self.refunds, self._rows("refunds")
        row["refunds"] = math.fsum(refunds.column("amount", rows).astype(float))
        row["returned_cogs"] = math.fsum(np.round(refunds.column("goods_cost", rows).astype(float), 2))
        row["return_shipping"] = math.fsum(refunds.column("return_shipping", rows).astype(float))
        booked = self.costs.get(day, {})
        row.update({item: round(booked.get(item, 0.0), 2) for item in BOOKED_COSTS})
        self.days.append(**row)
        for name in self._marks:
            self._marks[name] = getattr(self, name).rows
        self.days_done = day + 1
        if days_left:
            self._make_room(days_left)
        for hook in self.on_close:
            hook(self)

    def _make_room(self, days_left: int) -> None:
        """Room in the session-level buffers for ``days_left`` more days at the pace so far, and a
        quarter more: a year's sessions are then copied once or twice as their arrays grow, not
        a dozen times (the room is only address space until rows are written to it)."""
        for buffer in (self.sessions, self.orders, self.order_items):
            if not buffer.streamed:
                buffer.expect(int(1.25 * days_left * buffer.rows / self.days_done))

    def day_book(self, rows: slice = slice(None), columns: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Rows of the day book as arrays (all closed days by default; only ``columns`` if given),
        with each day's ``date`` (datetime64, the local calendar day)."""
        book = {c: self.days.column(c, rows) for c in (columns or self.days.columns)}
        book["day"] = self.days.column("day", rows)
        book["date"] = (np.datetime64(self.clock.start, "D") + book["day"].astype(np.int64)).astype("datetime64[ns]")
        return book

    def _rows(self, name: str) -> slice:
        """The rows of buffer ``name`` recorded since the last close (the day being closed)."""
        return slice(self._marks[name], getattr(self, name).rows)

    def _day_sessions_and_orders(self) -> dict[str, Any]:
        """The day's traffic, funnel and sales counts and amounts."""
        s, rows = self.sessions, self._rows("sessions")
        col = functools.partial(s.column, rows=rows)
        customer, submitted, carted = col("customer_id"), col("order_submitted"), col("added_to_cart")
        visitors = arrays.unique(customer)
        out: dict[str, Any] = {
            "pv": int(col("page_views").sum(dtype=np.int64)), "uv": len(visitors), "sessions": len(customer),
            "submitted_orders": int(submitted.sum()), "submitters": _distinct(customer[submitted]),
            "bounced": int(col("bounced").sum()), "carted": int(carted.sum()),
            "carted_paid": int((carted & col("ordered")).sum()), "favourites": int(col("favourited").sum()),
            "run_new_visitors": self._first_seen("visitors", visitors)}
        out.update(zip(DAY_VISITS, np.bincount(col("source"), minlength=len(SOURCES)).tolist(), strict=True))
        o, rows = self.orders, self._rows("orders")
        buyer = o.column("customer_id", rows)
        is_new = col("is_new_customer")[o.column("session_id", rows) - 1 - self._marks["sessions"]]
        paid = o.column("paid_amount", rows)
        buyers = arrays.unique(buyer)
        out.update({
            "orders": len(buyer), "buyers": len(buyers), "new_buyers": _distinct(buyer[is_new]),
            "run_new_buyers": self._first_seen("buyers", buyers),
            "gross_sales": math.fsum(o.column("gross_amount", rows)), "discounts": math.fsum(
                o.column("discount_amount", rows)), "revenue": math.fsum(paid),
            "shop_shipped": int((o.column("buyer_shipping", rows) == 0).sum()),
            "insured": int(o.column("insured", rows).sum())})
        items, rows = self.order_items, self._rows("order_items")
        qty = items.column("qty", rows).astype(np.int64)
        out["units"] = int(qty.sum())
        out["cogs"] = math.fsum(qty * items.column("unit_cost", rows))
        return out

    def _day_service(self) -> dict[str, Any]:
        """The day's inquiries, those whose shopper paid, first replies and their seconds, complaints."""
        col = functools.partial(self.service.column, rows=self._rows("service"))
        first = col("first_response_s").astype(np.int64)
        replied = first >= 0
        return {"inquiries": len(first), "inquiries_ordered": int(col("ordered").sum()),
                "replies": int(replied.sum()), "first_response_seconds": float(first[replied].sum()),
                "complaints": int(col("complaint").sum())}

    def _first_seen(self, who: str, customers: np.ndarray) -> int:
        """How many of ``customers`` (distinct ids, ascending) are seen by the run for the first
        time as ``who`` (visitors or buyers), and remember them: summed over days, the run's
        distinct count."""
        seen = self._seen[who]
        if len(customers):
            seen.grow(max(int(customers[-1]) + 1 - seen.size, 0), fill=False)
        new = customers[~seen.view[customers]]
        seen.view[new] = True
        return len(new)

    def run_people(self) -> tuple[int, int]:
        """The run's UV (访客数) and paying buyers (支付买家数) over all closed days: each person
        counted once, however many days they came or bought."""
        return (int(self.days.column("run_new_visitors").sum()), int(self.days.column("run_new_buyers").sum()))

    # -- tables (``rows``: the absolute rows to build, all held rows by default) -----------
    def sessions_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per own-shop visit."""
        b = self.sessions
        col = functools.partial(b.column, rows=rows)
        order_id = col("order_id")
        first = max(rows.start or 0, b.first)
        return pd.DataFrame({
            "session_id": np.arange(first + 1, first + len(order_id) + 1, dtype=np.int64),
            "ts": self.clock.timestamps(col("ts")),
            "customer_id": col("customer_id").astype(np.int64, copy=False),
            "is_new_customer": col("is_new_customer"),
            "device": categorical(col("device"), DEVICES),
            "source": categorical(col("source"), SOURCES),
            "keyword": categorical(col("keyword"), self.keywords),
            "landing_sku": categorical(col("landing_sku"), self.skus),
            "bounced": col("bounced"),
            "added_to_cart": col("added_to_cart"),
            "order_submitted": col("order_submitted"),
            "ordered": col("ordered"),
            "order_id": nullable_int(order_id, order_id < 0),
            "page_views": col("page_views").astype(np.int16, copy=False),
            "favourited": col("favourited"),
        }, copy=False)

    def orders_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per paid order."""
        col = functools.partial(self.orders.column, rows=rows)
        return pd.DataFrame({
            "order_id": col("order_id").astype(np.int64),
            "ts": self.clock.timestamps(col("ts")),
            "customer_id": col("customer_id").astype(np.int64),
            "session_id": col("session_id").astype(np.int64),
            "source": categorical(col("source"), SOURCES),
            "items": col("items").astype(np.int64),
            "gross_amount": col("gross_amount").astype(float),
            "discount_amount": col("discount_amount").astype(float),
            "paid_amount": col("paid_amount").astype(float),
            "promotion_id": _ids(col("promotion_id"), self.promotion_ids),
            "coupon_id": _ids(col("coupon_id"), self.promotion_ids),
            "buyer_shipping": col("buyer_shipping").astype(float),
            "insured": col("insured").astype(bool),
        }, copy=False)

    def order_items_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per order line."""
        col = functools.partial(self.order_items.column, rows=rows)
        return pd.DataFrame({
            "order_id": col("order_id").astype(np.int64),
            "sku": categorical(col("sku"), self.skus),
            "qty": col("qty").astype(np.int64),
            "unit_list_price": col("unit_list_price").astype(float),
            "unit_paid_price": col("unit_paid_price").astype(float),
            "unit_cost": col("unit_cost").astype(float),
        }, copy=False)

    def inventory_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per own SKU per day."""
        col = functools.partial(self.inventory.column, rows=rows)
        cols = {"date": self.clock.dates(col("day")), "sku": categorical(col("sku"), self.skus)}
        for c in ("on_hand_start", "received", "sold", "returned", "lost", "on_hand_end"):
            cols[c] = col(c).astype(np.int64)
        cols["stockout_hours"] = np.round(col("stockout_hours").astype(float), 3)
        cols["on_order"] = col("on_order").astype(np.int64)
        return pd.DataFrame(cols)

    def refunds_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per refunded order line (completed refunds), in completion order."""
        from shopsim.refunds import KINDS, REASONS

        b = self.refunds
        col = functools.partial(b.column, rows=rows)
        order_id = col("order_id").astype(np.int64)
        first = max(rows.start or 0, b.first)
        return pd.DataFrame({
            "refund_id": np.arange(first + 1, first + len(order_id) + 1, dtype=np.int64),
            "order_id": nullable_int(order_id, order_id < 0),
            "sku": categorical(col("sku"), self.skus),
            "qty": col("qty").astype(np.int64),
            "requested_ts": self.clock.timestamps(col("requested").astype(np.int64)),
            "completed_ts": self.clock.timestamps(col("completed").astype(np.int64)),
            "kind": categorical(col("kind"), KINDS),
            "reason": categorical(col("reason"), REASONS),
            "amount": col("amount").astype(float),
            "restocked": col("restocked").astype(bool),
            "return_shipping": col("return_shipping").astype(float),
            "goods_cost": np.round(col("goods_cost").astype(float), 2),
        })

    def service_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per pre-purchase inquiry (询单), in time order."""
        from shopsim.scenario import SERVICE_TOPICS

        b = self.service
        col = functools.partial(b.column, rows=rows)
        first_response = col("first_response_s").astype(np.int64)
        first = max(rows.start or 0, b.first)
        return pd.DataFrame({
            "inquiry_id": np.arange(first + 1, first + len(first_response) + 1, dtype=np.int64),
            "ts": self.clock.timestamps(col("ts").astype(np.int64)),
            "customer_id": col("customer_id").astype(np.int64),
            "session_id": col("session_id").astype(np.int64),
            "sku": categorical(col("sku"), self.skus),
            "topic": categorical(col("topic"), SERVICE_TOPICS),
            "first_response_s": nullable_int(first_response, first_response < 0),
            "answered": col("answered").astype(bool),
            "ordered": col("ordered").astype(bool),
            "complaint": col("complaint").astype(bool),
        })

    def disputes_table(self) -> pd.DataFrame:
        """One row per dispute the platform has ruled on, in the order they closed.

        Built whole, never in streamed chunks (a small table): a buyer who wins a dispute is
        refunded days after the ruling, so a dispute's ``refund_id`` is only known later.
        """
        from shopsim.aftersales import OUTCOMES
        from shopsim.refunds import REASONS

        b = self.disputes
        col = b.column
        # a dispute may be about a refund already written out and released by streaming
        refund_id, found = _rows_of(self.refunds.whole_column("request").astype(np.int64),
                                    col("request").astype(np.int64))
        order_id = col("order_id").astype(np.int64)
        return pd.DataFrame({
            "dispute_id": np.arange(1, len(order_id) + 1, dtype=np.int64),
            "refund_id": nullable_int(refund_id, ~found),
            "order_id": nullable_int(order_id, order_id < 0),
            "sku": categorical(col("sku"), self.skus),
            "reason": categorical(col("reason"), REASONS),
            "amount": col("amount").astype(float),
            "opened_ts": self.clock.timestamps(col("opened").astype(np.int64)),
            "closed_ts": self.clock.timestamps(col("closed").astype(np.int64)),
            "outcome": categorical(col("outcome"), OUTCOMES),
        })

    def rankings_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per keyword, listing and day: the organic position that morning."""
        col = functools.partial(self.rankings.column, rows=rows)
        offer = col("offer").astype(np.int64)
        return pd.DataFrame({
            "date": self.clock.dates(col("day")),
            "keyword": categorical(col("keyword"), self.keywords),
            "shop": categorical(_shop_codes(offer, self.shops), sorted(set(self.shops))),
            "sku": categorical(offer, self.skus),
            "organic_position": col("organic_position").astype(np.int64),
        })

    def market_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per rival offer per day: what an operator sees that morning."""
        col = functools.partial(self.market.column, rows=rows)
        offer = col("offer").astype(np.int64)
        return pd.DataFrame({
            "date": self.clock.dates(col("day")),
            "shop": categorical(_shop_codes(offer, self.shops), sorted(set(self.shops))),
            "sku": categorical(offer, self.skus),
            "price": col("price").astype(float),
            "on_promotion": col("on_promotion").astype(bool),
            "displayed_sales": col("displayed_sales").astype(np.int64),
            "rating": col("rating").astype(float),
            "ad_presence": col("ad_presence").astype(bool),
            "in_stock": col("in_stock").astype(bool),
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

    def ads_table(self, rows: slice = slice(None)) -> pd.DataFrame:
        """One row per channel, keyword / audience / SKU and hour with ad activity."""
        from shopsim.ads import ALL_AUDIENCES, CHANNELS

        col = functools.partial(self.ads.column, rows=rows)
        qs = col("quality_score").astype(float)
        return pd.DataFrame({
            "ts": self.clock.timestamps(col("ts").astype(np.int64)),
            "channel": categorical(col("channel"), CHANNELS),
            "keyword": categorical(col("keyword"), self.keywords),
            "audience": categorical(col("audience"), ALL_AUDIENCES),
            "sku": categorical(col("sku"), self.skus),
            "bid": col("bid").astype(float),
            "quality_score": nullable_int(np.nan_to_num(qs), np.isnan(qs)),
            "impressions": col("impressions").astype(np.int64),
            "clicks": col("clicks").astype(np.int64),
            "spend": col("spend").astype(float),
            "avg_position": col("avg_position").astype(float),
            "orders": col("orders").astype(np.int64),
            "revenue": col("revenue").astype(float),
        })


def _rows_of(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based row of each ``wanted`` key among ``keys`` (unique), and whether it is there."""
    if not len(keys):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    found = keys[order][at] == wanted
    return np.where(found, order[at] + 1, 0), found


def _distinct(values: np.ndarray) -> int:
    """How many different values (e.g. customers) an array holds."""
    return arrays.count_distinct(values)


def _ids(codes: np.ndarray, ids: list[str]) -> pd.arrays.StringArray:
    """Promotion ids (nullable strings) from their integer codes (-1 = none)."""
    names = np.array([*ids, None], dtype=object)
    return pd.array(names[np.asarray(codes, dtype=np.int64)], dtype="string")


def _shop_codes(offer: np.ndarray, shops: list[str]) -> np.ndarray:
    names = sorted(set(shops))
    lookup = np.array([names.index(s) for s in shops], dtype=np.int16)
    return lookup[offer]
