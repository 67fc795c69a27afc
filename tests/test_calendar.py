"""Simulated time: Asia/Shanghai timestamps, day boundaries, the hour and weekday shapes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopsim import calendar
from shopsim.calendar import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.date(2026, 3, 2))  # a Monday


def test_timestamps_are_asia_shanghai_and_hour_zero_is_local_midnight(clock):
    ts = clock.timestamps(np.array([0, 3600 * 20 + 61, 86_399, 86_400]))
    assert str(ts.tz) == "Asia/Shanghai"
    assert list(ts) == [pd.Timestamp("2026-03-02 00:00:00", tz="Asia/Shanghai"),
                        pd.Timestamp("2026-03-02 20:01:01", tz="Asia/Shanghai"),
                        pd.Timestamp("2026-03-02 23:59:59", tz="Asia/Shanghai"),
                        pd.Timestamp("2026-03-03 00:00:00", tz="Asia/Shanghai")]
    assert ts[0].tz_convert("UTC") == pd.Timestamp("2026-03-01 16:00", tz="UTC")


def test_a_year_of_midnights_stays_at_midnight(clock):
    """China keeps UTC+8 all year: no day boundary drifts with the seasons."""
    days = np.arange(366)
    ts = clock.timestamps(days * 86_400)
    assert (ts.hour == 0).all() and (ts.minute == 0).all()
    assert list(ts.date) == [d.date() for d in clock.dates(days)]


def test_dates_and_day_numbers(clock):
    assert clock.date(0) == dt.date(2026, 3, 2)
    assert clock.date(30) == dt.date(2026, 4, 1)
    assert clock.day_of("2026-04-01") == 30
    assert clock.day_of(dt.date(2026, 3, 1)) == -1
    dates = clock.dates(np.array([0, 1, 29]))
    assert dates.tz is None
    assert list(dates) == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-03"), pd.Timestamp("2026-03-31")]
    assert [clock.weekday(d) for d in range(7)] == [0, 1, 2, 3, 4, 5, 6]


def test_shapes_are_normalised_to_mean_one():
    clock = Clock(dt.date(2026, 3, 2), hour_shape=tuple(range(1, 25)), weekday_shape=(2,) * 7)
    assert clock.hour_weights.mean() == pytest.approx(1.0)
    assert clock.weekday_weights == pytest.approx(np.ones(7))
    assert clock.traffic_weight(0, 23) == pytest.approx(24 / 12.5)
    assert clock.traffic_weight(0, 0) < clock.traffic_weight(0, 1)


def test_traffic_weight_is_hour_times_weekday(clock):
    saturday = 5
    assert clock.traffic_weight(saturday, 21) == pytest.approx(clock.hour_weights[21] * clock.weekday_weights[5])
    assert clock.traffic_weight(saturday, 21) > clock.traffic_weight(0, 21), "weekends are busier"


def test_default_hour_shape_has_the_chinese_mobile_day():
    shape = np.array(calendar.DEFAULT_HOUR_SHAPE)
    assert len(shape) == 24 and len(calendar.DEFAULT_WEEKDAY_SHAPE) == 7
    assert int(shape.argmax()) in (20, 21, 22), "evening peak"
    assert int(shape.argmin()) in (3, 4, 5, 6), "night trough"
    assert shape[12] > shape[10] and shape[12] > shape[14], "lunch bump"
