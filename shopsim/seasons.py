"""Seasons and the holiday calendar: category demand curves over the year, Chinese New Year.

A scenario names demand curves (12 monthly multipliers) in ``seasons``; each SKU, rival offer
and keyword follows one (its own ``season``, else the curve named like its category, else
flat). Every morning the day's multipliers scale the keywords' search volumes and the
listings' feed exposures, so linen sells in July and flannel in January.

Chinese New Year (春节, dates in :data:`shopsim.calendar.SPRING_FESTIVAL`): traffic falls in the
days before and through the holiday week, couriers stop for about a week, shoppers who see
"ships after the holiday" cart less, and orders placed while couriers stop ship when they
start again: late (late-delivery reviews follow).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from shopsim.calendar import SPRING_FESTIVAL, Clock, season_factor
from shopsim.catalog import Catalog
from shopsim.scenario import Scenario


class SeasonCalendar:
    """Per-day demand multipliers by listing and keyword, and the New Year holiday.

    Parameters
    ----------
    sc, clock, cat:
        The scenario, its clock and its catalogue.
    relevance:
        Keywords x listings relevance (a keyword without a season follows its most relevant own SKU).
    """

    def __init__(self, sc: Scenario, clock: Clock, cat: Catalog, relevance: np.ndarray) -> None:
        self.sc, self.clock = sc, clock
        names = list(sc.seasons)
        self.curves = np.array([sc.seasons[n] for n in names] + [[1.0] * 12], dtype=float)
        flat = len(names)

        def curve_of(season: str | None, category: str) -> int:
            if season is not None:
                return names.index(season)
            return names.index(category) if category in names else flat

        items = (*sc.skus, *(o for _, o in sc.rival_offers))
        self.offer_curve = np.array([curve_of(s.season, s.category) for s in items], dtype=np.int64)
        best_own = np.argmax(relevance[:, : cat.n_own], axis=1)
        self.keyword_curve = np.array([names.index(k.season) if k.season is not None else self.offer_curve[best_own[i]]
                                       for i, k in enumerate(sc.keywords)], dtype=np.int64)
        self.seasonal = bool(names)
        self._stops = self._logistics_stops()

    def _factors(self, day: int) -> np.ndarray:
        when = self.clock.date(day)
        return np.array([season_factor(tuple(c), when) for c in self.curves])

    def offer_factor(self, day: int) -> np.ndarray:
        """Demand multiplier of every listing on ``day`` (1 without seasons)."""
        return self._factors(day)[self.offer_curve] if self.seasonal else np.ones(len(self.offer_curve))

    def keyword_factor(self, day: int) -> np.ndarray:
        """Search-volume multiplier of every keyword on ``day`` (1 without seasons)."""
        return self._factors(day)[self.keyword_curve] if self.seasonal else np.ones(len(self.keyword_curve))

    # -- Chinese New Year ----------------------------------------------------------------------
    def _new_year(self, day: int) -> dt.date | None:
        when = self.clock.date(day)
        for year in (when.year, when.year + 1):
            if year in SPRING_FESTIVAL:
                first = SPRING_FESTIVAL[year]
                if -40 <= (when - first).days <= 40:
                    return first
        return None

    def _logistics_stops(self) -> list[tuple[int, int]]:
        """(first day couriers stop, first day they run again) of every New Year, as day numbers."""
        cfg = self.sc.spring_festival
        out = []
        for first in SPRING_FESTIVAL.values():
            day = self.clock.day_of(first)
            out.append((day - cfg.logistics_stop_before, day + cfg.logistics_stop_after + 1))
        return out

    def holiday_traffic(self, day: int) -> float:
        """Traffic multiplier of the New Year: ``traffic`` from New Year's Eve through 6 days after,
        half the dip in the ``days_before`` before."""
        first = self._new_year(day)
        if first is None:
            return 1.0
        cfg = self.sc.spring_festival
        since = (self.clock.date(day) - first).days
        if -1 <= since <= 6:
            return cfg.traffic
        if -1 - cfg.days_before <= since < -1:
            return 1.0 - (1.0 - cfg.traffic) / 2
        return 1.0

    def ships_from(self, day: int) -> int | None:
        """If couriers stop on ``day``, the day they run again; else None."""
        for stop, restart in self._stops:
            if stop <= day < restart:
                return restart
        return None
