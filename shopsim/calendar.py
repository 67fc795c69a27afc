"""Simulated time and the shapes of shopping time.

The engine counts time in hours since midnight (Asia/Shanghai) of the scenario's first day.
This module turns that into timestamps and dates and holds the default hour-of-day and
day-of-week traffic shapes of Chinese mobile shopping.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

import numpy as np

from shopsim._lazy import lazy

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

TIMEZONE = "Asia/Shanghai"
HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600
_UTC_OFFSET_SECONDS = 8 * SECONDS_PER_HOUR  # China has kept UTC+8 all year since 1991

#: Relative traffic by hour of day (00:00-23:00): a trough at 03-06, a lunch bump at 12-13,
#: the evening peak at 20-22. Normalised to a mean of 1 where it is used.
DEFAULT_HOUR_SHAPE: tuple[float, ...] = (
    0.85, 0.55, 0.32, 0.2, 0.16, 0.16, 0.26, 0.5, 0.8, 0.95, 1.0, 1.05,
    1.25, 1.2, 1.0, 0.98, 1.0, 1.05, 1.12, 1.35, 1.7, 1.85, 1.65, 1.25,
)  # fmt: skip

#: Relative traffic by day of week, Monday first: a little more at the weekend.
DEFAULT_WEEKDAY_SHAPE: tuple[float, ...] = (0.95, 0.95, 0.97, 0.98, 1.0, 1.08, 1.07)


#: New Year's Day of the Chinese (lunar) calendar, 春节: the holiday week runs from New Year's Eve.
SPRING_FESTIVAL: dict[int, dt.date] = {
    2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26),
}

#: The platform's sales festivals a scenario can name without a date: (month, day) of the main
#: day and the settings that differ from a Double 11 (the schema's defaults).
PLATFORM_FESTIVALS: dict[str, dict[str, object]] = {
    "double11": {},
    "618": {"presale_days": 10, "main_day_traffic": 4.5, "presale_traffic": 1.25, "main_day_intent": 0.6,
            "slump_days": 5, "slump_traffic": 0.8, "min_discount": 0.1, "venue_visits": 70.0},
    "38": {"presale_days": 3, "main_day_traffic": 2.0, "presale_traffic": 1.1, "presale_purchase_factor": 0.8,
           "deposit_share": 0.1, "main_day_intent": 0.3, "slump_days": 2, "slump_traffic": 0.9,
           "min_discount": 0.1, "enrolment_fee": 800.0, "venue_visits": 30.0},
    "99": {"presale_days": 4, "main_day_traffic": 2.5, "presale_traffic": 1.15, "presale_purchase_factor": 0.75,
           "deposit_share": 0.15, "main_day_intent": 0.4, "slump_days": 3, "slump_traffic": 0.85,
           "min_discount": 0.1, "enrolment_fee": 1000.0, "venue_visits": 40.0},
}
_FESTIVAL_DAY = {"double11": (11, 11), "618": (6, 18), "38": (3, 8), "99": (9, 9)}


def next_platform_day(name: str, start: dt.date) -> dt.date:
    """The main day of platform festival ``name`` on or after ``start``."""
    month, day = _FESTIVAL_DAY[name]
    this_year = dt.date(start.year, month, day)
    return this_year if this_year >= start else dt.date(start.year + 1, month, day)


def season_factor(curve: tuple[float, ...], when: dt.date) -> float:
    """Demand multiplier of a 12-month curve on a date, interpolated between the middles of months."""
    position = when.month - 1 + (when.day - 1) / 30.5 - 0.5  # 0.0 = the middle of January
    low = int(np.floor(position))
    frac = position - low
    return float(curve[low % 12] * (1 - frac) + curve[(low + 1) % 12] * frac)


class Clock:
    """Converts simulated hours to dates and timestamps for one scenario.

    Parameters
    ----------
    start:
        The first simulated day (midnight, Asia/Shanghai, is hour 0).
    hour_shape, weekday_shape:
        Relative traffic weights (24 and 7 values); normalised here to mean 1.
    """

    def __init__(
        self,
        start: dt.date,
        hour_shape: tuple[float, ...] = DEFAULT_HOUR_SHAPE,
        weekday_shape: tuple[float, ...] = DEFAULT_WEEKDAY_SHAPE,
    ) -> None:
        self.start = start
        start_utc = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
        #: Unix seconds of hour 0 (midnight local time of the first day).
        self.epoch_seconds = int(start_utc.timestamp()) - _UTC_OFFSET_SECONDS
        hours = np.asarray(hour_shape, dtype=float)
        days = np.asarray(weekday_shape, dtype=float)
        self.hour_weights = hours / hours.mean()
        self.weekday_weights = days / days.mean()

    def date(self, day: int) -> dt.date:
        """The calendar date of simulated day ``day`` (0 = the first day)."""
        return self.start + dt.timedelta(days=int(day))

    def day_of(self, when: dt.date | str) -> int:
        """The simulated day index of a date (may be negative or past the end)."""
        if isinstance(when, str):
            when = dt.date.fromisoformat(when.strip()[:10])
        elif isinstance(when, dt.datetime):
            when = when.date()
        return (when - self.start).days

    def weekday(self, day: int) -> int:
        """Day of week of simulated day ``day``, Monday = 0."""
        return self.date(day).weekday()

    def traffic_weight(self, day: int, hour: int) -> float:
        """Relative traffic of one hour: hour-of-day weight x day-of-week weight."""
        return float(self.hour_weights[hour] * self.weekday_weights[self.weekday(day)])

    def timestamps(self, seconds: np.ndarray) -> pd.DatetimeIndex:
        """Timestamps (Asia/Shanghai) for seconds since hour 0."""
        # Unix nanoseconds, built in place in one int64 array (a sessions table's ``ts`` has
        # millions of rows): pandas reads int64 data given a tz-aware dtype as UTC instants and
        # wraps it without a copy or a localisation pass.
        nanos = np.asarray(seconds).astype(np.int64)
        nanos += self.epoch_seconds
        nanos *= 1_000_000_000
        return pd.DatetimeIndex(nanos, dtype=_local_dtype(), copy=False)

    def dates(self, days: np.ndarray) -> pd.DatetimeIndex:
        """Midnight-normalised dates (naive, local calendar days) for day indices."""
        base = np.datetime64(self.start, "D")
        return pd.DatetimeIndex((base + np.asarray(days, dtype="int64")).astype("datetime64[ns]"))


@functools.cache
def _local_dtype() -> pd.DatetimeTZDtype:
    """The timestamps' dtype: nanoseconds, Asia/Shanghai (made once)."""
    return pd.DatetimeTZDtype("ns", TIMEZONE)


class FestivalCalendar:
    """Which festival phase each simulated day is in, and what that does to traffic.

    Phases: ``presale`` (the ``presale_days`` before the main day), ``main`` (the main day),
    ``slump`` (``slump_days`` after it), or None. ``festivals`` are the scenario's
    :class:`~shopsim.scenario.Festival` records.
    """

    def __init__(self, clock: Clock, festivals: tuple) -> None:
        self.clock = clock
        self.festivals = festivals
        self._main = [clock.day_of(f.main_day) for f in festivals]

    def phase(self, day: int) -> tuple[object, str] | None:
        """(festival, phase name) for a day, or None on an ordinary day."""
        for fest, main in zip(self.festivals, self._main, strict=True):
            if day == main:
                return fest, "main"
            if main - fest.presale_days <= day < main:
                return fest, "presale"
            if main < day <= main + fest.slump_days:
                return fest, "slump"
        return None

    def traffic_factor(self, day: int, hour: int) -> float:
        """Traffic multiplier of one hour (1 on ordinary days)."""
        found = self.phase(day)
        if found is None:
            return 1.0
        fest, name = found
        if name == "presale":
            return fest.presale_traffic
        if name == "main":
            shape = np.asarray(fest.main_day_hour_shape, dtype=float)
            return fest.main_day_traffic * float(shape[hour] / shape.mean()) / float(self.clock.hour_weights[hour])
        since = day - self._main[self.festivals.index(fest)]
        return fest.slump_traffic + (1 - fest.slump_traffic) * (since - 1) / max(fest.slump_days, 1)
