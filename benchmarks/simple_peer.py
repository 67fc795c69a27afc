"""The second naive peer: a plain per-visitor SimPy funnel with Python's ``random`` (written apart from the engine).

Independent of ``shopsim``'s traffic groups and of ``naive_funnel.py``: the harder yardstick,
because it does the least a per-visitor model can do. What it simulates:

* **Arrivals.** One SimPy process makes a Poisson stream of visitors whose rate is constant
  within each hour of the day (``visitors_per_hour``, 24 values: the engine's own average
  sessions per hour of day, so both models see the same number of visitors). Gaps are
  ``random.expovariate``; at an hour boundary the stream restarts with the next rate
  (memoryless, so exact).
* **One process per visitor** (``env.process``), a fixed three-step funnel with a SimPy
  timeout before each step: land and bounce (chance ``bounce``), browse and add to the cart
  (chance ``cart`` of those who stayed), check out and pay (chance ``order`` of the carts).
  A phone or a PC (chance ``mobile``). Each decision is one ``random.random()``.
* **Records.** Each visitor appends one tuple; :meth:`SimplePeer.table` builds a sessions
  DataFrame (``session_id``, tz-aware ``ts``, ``device``, ``bounced``, ``added_to_cart``,
  ``ordered``), sorted by arrival.

Run on its own: ``.venv/bin/python benchmarks/simple_peer.py [--days 1]``
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import _common as c
import numpy as np
import pandas as pd
import simpy

#: Mean seconds before each funnel step (they only place events in time).
STEP_SECONDS = (5.0, 40.0, 60.0)
_EPOCH = pd.Timestamp("2026-03-02", tz="Asia/Shanghai")


@dataclass(frozen=True)
class Funnel:
    """Visitors per hour of day (24 values) and the three step chances."""

    visitors_per_hour: tuple[float, ...]
    bounce: float
    cart: float
    order: float
    mobile: float


def funnel_of(sessions: pd.DataFrame, days: int) -> Funnel:
    """The arrival shape and step chances of an engine's ``sessions`` table (so both models
    simulate the same visitors)."""
    hour = sessions["ts"].dt.hour.to_numpy()
    per_hour = np.bincount(hour, minlength=24) / days
    stayed = ~sessions["bounced"]
    carted = sessions["added_to_cart"] | sessions["ordered"]
    return Funnel(tuple(float(x) for x in per_hour), float(sessions["bounced"].mean()),
                  float(carted[stayed].mean()), float(sessions["ordered"][carted].mean()),
                  float((sessions["device"] == "mobile").mean()))


class SimplePeer:
    """One SimPy process per visitor; Python's ``random`` seeded once."""

    def __init__(self, funnel: Funnel, seed: int) -> None:
        self.f = funnel
        self.random = random.Random(seed)
        self.env = simpy.Environment()
        self.rows: list[tuple[int, float, bool, bool, bool, bool]] = []
        self._next = 0

    def run(self, days: int) -> SimplePeer:
        self.env.process(self._arrivals(days))
        self.env.run()  # every visitor finishes
        return self

    def _arrivals(self, days: int) -> Iterator[simpy.Event]:
        r, env = self.random, self.env
        for hour in range(days * 24):
            end = (hour + 1) * 3600.0
            rate = self.f.visitors_per_hour[hour % 24] / 3600.0
            while rate > 0:
                gap = r.expovariate(rate)
                if env.now + gap >= end:
                    break
                yield env.timeout(gap)
                self._next += 1
                env.process(self._visit(self._next, env.now))
            if env.now < end:
                yield env.timeout(end - env.now)

    def _visit(self, sid: int, arrived: float) -> Iterator[simpy.Event]:
        r, f, env = self.random, self.f, self.env
        mobile = r.random() < f.mobile
        yield env.timeout(r.expovariate(1 / STEP_SECONDS[0]))
        if r.random() < f.bounce:
            self.rows.append((sid, arrived, mobile, True, False, False))
            return
        yield env.timeout(r.expovariate(1 / STEP_SECONDS[1]))
        if r.random() >= f.cart:
            self.rows.append((sid, arrived, mobile, False, False, False))
            return
        yield env.timeout(r.expovariate(1 / STEP_SECONDS[2]))
        self.rows.append((sid, arrived, mobile, False, True, r.random() < f.order))

    def table(self) -> pd.DataFrame:
        rows: Sequence = sorted(self.rows)
        sid, ts, mobile, bounced, carted, ordered = (np.array(col) for col in zip(*rows, strict=True))
        return pd.DataFrame({
            "session_id": sid.astype(np.int64),
            "ts": _EPOCH + pd.to_timedelta(ts.astype(np.int64), unit="s"),
            "device": pd.Categorical(np.where(mobile, "mobile", "pc"), categories=["mobile", "pc"]),
            "bounced": bounced.astype(bool), "added_to_cart": carted.astype(bool), "ordered": ordered.astype(bool),
        })


def main(argv: list[str] | None = None) -> int:
    p = c.parser(__doc__)
    p.add_argument("--days", type=int, default=1)
    args = p.parse_args(argv)
    f = Funnel(tuple([180.0] * 24), 0.45, 0.15, 0.3, 0.93)
    t0 = c.clock()
    table = SimplePeer(f, args.seed).run(args.days).table()
    took = c.clock() - t0
    shares = f"bounced {table['bounced'].mean():.1%}, carted {table['added_to_cart'].mean():.1%}"
    print(f"{len(table):,} sessions in {took:.2f} s ({len(table) / took:,.0f} /s); {shares}, "
          f"ordered {table['ordered'].mean():.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
