"""The naive peer: the shop's funnel as one SimPy process per visitor (the model the engine must beat).

docs/architecture.md: shoppers are not one SimPy process each in the engine; this module is the
straightforward model that does make them one process each, kept so the speed-up can be
measured (``bench_vs_naive.py``). It is a fair peer, written the way a careful developer
would write a per-visitor model, with no sleeps and no needless work:

* **Same market.** :func:`market_from_engine` builds a real ``shopsim.Simulation`` of the
  scenario, runs one day and takes that day's traffic groups (``sim._groups``, a
  :class:`shopsim.shoppers.Groups`): arrival rate per group per hour at traffic weight 1,
  ``bounce[group, device]``, ``cart[group, new/returning buyer]``, ``checkout[group]``, the
  group's source, keyword and landing SKU, and the landing split of returning buyers. It also
  takes the clock's hour-of-day and day-of-week weights, the phone share, the mean extra
  pages, the customer base (followers, past buyers, how likely a searcher is already known)
  and how many past buyers came back that day. The market is then frozen: no ranking,
  stock, rival or review dynamics (the engine does all of those on top, so the comparison
  flatters the naive peer).
* **Arrivals.** One SimPy process generates arrivals as a Poisson process whose rate is
  piecewise constant per hour (sum of the group rates x the hour's traffic weight, plus the
  returning buyers spread by the hour shape): exponential gaps, restarted at each hour
  boundary (memoryless, so exact). Each arrival picks its group by ``bisect`` on the
  cumulative rates and starts ``env.process(visitor(...))``.
* **The visitor process** draws its customer (a follower for a direct visit, a past buyer
  for a returning one, a known customer with the engine's chance or a new id for a
  searcher) and its device, then walks the funnel with its own timeouts: landing (page
  load), bounce or browse (``pages - 1`` further pages in one browsing timeout), deciding,
  cart, checkout. Every decision is one Python-level call on a ``numpy.random.Generator``
  (``random()``, ``exponential()``, ``poisson()``) against the engine's probability for its
  group. A paid visit gets the next order id and makes the customer a buyer.
* **Records.** Each visitor appends one tuple when its process ends; :meth:`NaiveFunnel.table`
  turns them into the same ``sessions`` DataFrame as the engine (sorted by arrival time, same
  columns and dtypes: tz-aware ``ts``, categoricals, nullable ``order_id``).

Visitors still on the site when the last day ends are run to completion, so every arrival
becomes a row, as in the engine. Model time is in seconds.

Run on its own for a quick look: ``.venv/bin/python benchmarks/naive_funnel.py [--days 1]``
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import _common as c
import numpy as np
import pandas as pd
import simpy

from shopsim.calendar import Clock
from shopsim.records import categorical, nullable_int
from shopsim.scenario import DEVICES, SOURCES

# Mean durations of the funnel steps, seconds (they only place events in time).
LANDING_S = 4.0
PAGE_S = 35.0
DECIDE_S = 20.0
CART_S = 60.0
CHECKOUT_S = 90.0
_DIRECT, _RETURNING = SOURCES.index("direct"), SOURCES.index("returning")


@dataclass
class Market:
    """One day's market, taken from the engine and frozen (plain Python lists for speed)."""

    source: list[int]
    keyword: list[int]
    offer: list[int]
    rate: list[float]            # sessions per hour at traffic weight 1, returning buyers included
    bounce: list[list[float]]    # [group][0 phone, 1 PC]
    cart: list[list[float]]      # [group][0 new, 1 returning buyer]
    checkout: list[float]
    clock: Clock
    mobile_share: float
    extra_pages: float           # mean further pages (Poisson) after the second one
    p_known: float               # chance a searcher is already a known customer
    n_customers: int
    followers: list[int]
    buyers: list[int]
    keywords: list[str]
    skus: list[str]
    engine_sessions_day0: int


def market_from_engine(scenario: str = "baseline", seed: int = 7) -> Market:
    """Run the real engine for one day of ``scenario`` and take its market (see module doc)."""
    import shopsim

    sim = shopsim.Simulation(scenario, seed=seed)
    sim.run(days=1)
    g = sim._groups
    assert g is not None
    s = sim.tables["sessions"]
    returning_per_day = int((s["source"] == "returning").sum())
    rate = g.rate.astype(float).copy()
    share = np.diff(g.landing_cdf, prepend=0.0) / g.landing_cdf[-1]
    rate[g.returning_group] += returning_per_day / 24.0 * share
    cust, sc = sim.customers, sim.scenario
    return Market(
        source=g.source.tolist(), keyword=g.keyword.tolist(), offer=g.offer.tolist(), rate=rate.tolist(),
        bounce=g.bounce.tolist(), cart=g.cart.tolist(), checkout=g.checkout.tolist(), clock=sim.clock,
        mobile_share=sc.traffic.mobile_share, extra_pages=max(sc.shoppers.extra_pages - 1.0, 0.0),
        p_known=min(1.0, cust.size / sc.customers.market_size), n_customers=cust.size,
        followers=cust.followers.view.tolist(), buyers=np.sort(cust.buyer.view).tolist(),
        keywords=list(sim.records.keywords), skus=list(sim.records.skus), engine_sessions_day0=len(s),
    )


class NaiveFunnel:
    """One SimPy process per visitor over the frozen ``market``; ``run(days)`` then ``table()``."""

    def __init__(self, market: Market, seed: int = 7) -> None:
        self.m = market
        self.rng = np.random.default_rng(seed)
        self.env = simpy.Environment()
        self.records: list[tuple] = []
        self.cum_rate = list(np.cumsum(market.rate))
        self.total_rate = self.cum_rate[-1]
        self.next_customer = market.n_customers
        self.buyer_set = set(market.buyers)
        self.buyer_list = list(market.buyers)
        self.next_order = 1

    def run(self, days: int) -> NaiveFunnel:
        """Simulate ``days`` days of arrivals and let the last visitors finish."""
        self.env.process(self._arrivals(days))
        self.env.run()
        return self

    def _arrivals(self, days: int) -> Iterator[simpy.Event]:
        env, rng, m = self.env, self.rng, self.m
        for day in range(days):
            for hour in range(24):
                end = (day * 24 + hour + 1) * 3600.0
                rate = self.total_rate * m.clock.traffic_weight(day, hour) / 3600.0
                if rate <= 0:
                    yield env.timeout(end - env.now)
                    continue
                while True:
                    gap = rng.exponential(1.0 / rate)
                    if env.now + gap >= end:
                        yield env.timeout(end - env.now)  # memoryless: start afresh next hour
                        break
                    yield env.timeout(gap)
                    group = bisect.bisect_right(self.cum_rate, rng.random() * self.total_rate)
                    env.process(self._visitor(min(group, len(self.cum_rate) - 1), env.now))

    def _customer(self, source: int) -> int:
        rng, m = self.rng, self.m
        if source == _DIRECT and m.followers:
            return m.followers[int(rng.random() * len(m.followers))]
        if source == _RETURNING and self.buyer_list:
            return self.buyer_list[int(rng.random() * len(self.buyer_list))]
        if rng.random() < m.p_known:
            return int(rng.random() * self.next_customer)
        self.next_customer += 1
        return self.next_customer - 1

    def _visitor(self, g: int, arrived: float) -> Iterator[simpy.Event]:
        env, rng, m = self.env, self.rng, self.m
        customer = self._customer(m.source[g])
        was_buyer = customer in self.buyer_set
        pc = rng.random() >= m.mobile_share
        yield env.timeout(rng.exponential(LANDING_S))
        cart = ordered = False
        order_id = -1
        bounced = rng.random() < m.bounce[g][pc]
        if bounced:
            pages = 1
        else:
            pages = 2 + int(rng.poisson(m.extra_pages))
            yield env.timeout(rng.exponential(PAGE_S * (pages - 1)))
            yield env.timeout(rng.exponential(DECIDE_S))
            cart = rng.random() < m.cart[g][was_buyer]
            if cart:
                yield env.timeout(rng.exponential(CART_S))
                ordered = rng.random() < m.checkout[g]
                if ordered:
                    yield env.timeout(rng.exponential(CHECKOUT_S))
                    order_id = self.next_order
                    self.next_order += 1
                    if customer not in self.buyer_set:
                        self.buyer_set.add(customer)
                        self.buyer_list.append(customer)
        self.records.append((int(arrived), customer, not was_buyer, pc, m.source[g], m.keyword[g], m.offer[g],
                             bounced, cart, ordered, order_id, pages))

    def table(self) -> pd.DataFrame:
        """The sessions table, as the engine makes it (same columns and dtypes)."""
        rows = sorted(self.records, key=lambda r: r[0])
        n = len(rows)
        cols = list(zip(*rows, strict=True)) if rows else [()] * 12
        ts, cust, new, pc, src, kw, sku, bounced, cart, ordered, order_id, pages = (
            np.array(col) if n else np.empty(0, dtype=np.int64) for col in cols)
        order_id = order_id.astype(np.int64)
        return pd.DataFrame({
            "session_id": np.arange(1, n + 1, dtype=np.int64),
            "ts": self.m.clock.timestamps(ts.astype(np.int64)),
            "customer_id": cust.astype(np.int64),
            "is_new_customer": new.astype(bool),
            "device": categorical(pc.astype(np.int8), DEVICES),
            "source": categorical(src, SOURCES),
            "keyword": categorical(kw, self.m.keywords),
            "landing_sku": categorical(sku, self.m.skus),
            "bounced": bounced.astype(bool),
            "added_to_cart": cart.astype(bool),
            "ordered": ordered.astype(bool),
            "order_id": nullable_int(order_id, order_id < 0),
            "page_views": pages.astype(np.int16),
        })


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=1, help="days to simulate (default 1)")
    p.add_argument("--scenario", default="baseline", help="bundled scenario or YAML path (default baseline)")
    args = p.parse_args(argv)
    market = market_from_engine(args.scenario, args.seed)
    t0 = c.clock()
    table = NaiveFunnel(market, args.seed).run(args.days).table()
    t = c.clock() - t0
    print(f"naive funnel: {args.scenario!r}, {args.days} day(s): {len(table):,} sessions in {t:.2f} s "
          f"= {len(table) / t:,.0f} sessions/s (engine's day 0: {market.engine_sessions_day0:,} sessions)")
    print(table.head())
    return 0


if __name__ == "__main__":
    sys.exit(main())
