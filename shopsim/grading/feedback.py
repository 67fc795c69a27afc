"""Feedback in operator terms: what a trainee's answer is, what a KPI means, typical mistakes.

Nothing here ever states an expected value. Messages describe the trainee's own answer
("a DataFrame with 7 rows"), the definition of the KPI (taken from :mod:`shopsim.reports`,
the one place KPIs are defined) and, when the answer matches a known mistake, what that
mistake is ("conversion counts buyers over visitors (UV), not over page views (PV)").
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from shopsim import reports
from shopsim.grading.answers import Unreadable

_CHECK = re.compile(r"""\.check\(\s*["']([^"']+)["']\s*\)""")

#: KPI name -> the function in :mod:`shopsim.reports` that defines it.
KPI_DEFINITIONS: dict[str, Callable[..., Any]] = {
    "conversion_rate": reports.conversion_rate,
    "aov": reports.aov,
    "avg_order_value": reports.avg_order_value,
    "bounce_rate": reports.bounce_rate,
    "add_to_cart_rate": reports.add_to_cart_rate,
    "cart_abandonment_rate": reports.cart_abandonment_rate,
    "roas": reports.roas,
}


def definition(kpi: str) -> str:
    """The one-line definition of ``kpi`` as :mod:`shopsim.reports` documents it.

    >>> definition("conversion_rate")
    'Conversion rate (转化率) = buyers / unique visitors.'
    """
    if kpi not in KPI_DEFINITIONS:
        raise KeyError(f"no KPI {kpi!r}; known KPIs: {', '.join(KPI_DEFINITIONS)}")
    doc = KPI_DEFINITIONS[kpi].__doc__ or ""
    return doc.strip().splitlines()[0]


def is_unanswered(value: Any) -> bool:
    """Whether ``value`` is a placeholder left by the student copy (``...`` or ``None``)."""
    return value is Ellipsis or value is None


def describe(value: Any) -> str:
    """A short description of a trainee's answer that names its kind and size, for messages."""
    if value is Ellipsis:
        return "still `...` (the placeholder)"
    if isinstance(value, Unreadable):
        return value.what
    if value is None:
        return "None (nothing)"
    if isinstance(value, bool | np.bool_):
        return f"the yes/no value {bool(value)}"
    if isinstance(value, numbers.Number):
        return f"the number {format_number(value)}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame with {len(value)} row{'s' if len(value) != 1 else ''} and columns {list(value.columns)}"
    if isinstance(value, pd.Series):
        return f"a Series of {len(value)} value{'s' if len(value) != 1 else ''}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if callable(value):
        return f"a function ({getattr(value, '__name__', type(value).__name__)})"
    if isinstance(value, list | tuple | set | dict):
        return f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__} object"


def format_number(value: Any) -> str:
    """A trainee's number, shown as they gave it (no rounding that could hide a mistake)."""
    x = float(value)
    if math.isnan(x):
        return "NaN"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x)}"
    return f"{x:.6g}"


def _total(daily: pd.DataFrame, column: str) -> float:
    if column not in daily.columns:
        raise KeyError(f"the daily report has no column {column!r}")
    return float(pd.to_numeric(daily[column], errors="coerce").sum())


def _safe_ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def kpi_mistakes(kpi: str, daily: pd.DataFrame, uv: float | None = None,
                 buyers: float | None = None) -> dict[str, float]:
    """Typical wrong answers for a KPI over the days of ``daily``, each with the hint it deserves.

    Parameters
    ----------
    kpi:
        One of ``conversion_rate``, ``aov``, ``avg_order_value`` or ``roas``.
    daily:
        Rows of the daily report (日报) the exercise is about; KPIs are taken over the period.
    uv, buyers:
        The period's UV and paying buyers, each person counted once
        (:func:`shopsim.reports.unique_visitors` of its sessions,
        :func:`shopsim.reports.paying_buyers` of its orders). Needed for ``conversion_rate`` and
        ``aov`` when ``daily`` has more than one day: a period's UV is not the sum of the daily
        UVs, so summing them is one of the mistakes listed.

    Returns
    -------
    dict
        hint (operator terms, no numbers) -> the value a trainee who made that mistake gets.
        Pass it as ``mistakes=`` to :func:`shopsim.grading.checks.rate` or ``number``.

    Raises
    ------
    ValueError
        For a period of several days without its ``uv`` and ``buyers``.
    """
    t = {c: _total(daily, c) for c in ("pv", "uv", "sessions", "orders", "buyers", "units", "gmv")
         if c in daily.columns}
    if kpi in ("conversion_rate", "aov"):
        uv, buyers = _period_people(daily, t, uv, buyers)
    if kpi == "conversion_rate":
        out = {
            "conversion counts buyers over visitors (UV), not over page views (PV)": _safe_ratio(buyers, t["pv"]),
            "conversion counts buyers over visitors (UV), not over sessions": _safe_ratio(buyers, t["sessions"]),
            "conversion counts buyers (people), not orders": _safe_ratio(t["orders"], uv),
        }
        if len(daily) > 1:
            out["averaging the daily rates weighs a quiet day like a busy one; use the period's totals"] = float(
                daily["conversion_rate"].mean())
            out[_SUMMED_PEOPLE] = _safe_ratio(t["buyers"], t["uv"])
        return out
    if kpi == "aov":
        out = {
            "AOV (客单价) is the paid amount per paying buyer, not per order (that is 笔单价)":
                _safe_ratio(t["gmv"], t["orders"]),
            "AOV is per paying buyer, not per unit sold": _safe_ratio(t["gmv"], t["units"]),
            "AOV is per paying buyer, not per visitor (that is revenue per UV)": _safe_ratio(t["gmv"], uv),
        }
        if len(daily) > 1:
            out[_SUMMED_PEOPLE] = _safe_ratio(t["gmv"], t["buyers"])
        return out
    if kpi == "avg_order_value":
        return {
            "the average order value (笔单价) is per order, not per buyer (that is 客单价)":
                _safe_ratio(t["gmv"], t["buyers"] if buyers is None else buyers),
            "the average order value is per order, not per unit sold": _safe_ratio(t["gmv"], t["units"]),
        }
    if kpi == "roas":
        spend = _total(daily, "ad_spend")
        revenue = float((daily["roas"].fillna(0.0) * daily["ad_spend"]).sum())
        return {"ROAS is ad revenue over ad spend, not spend over revenue": _safe_ratio(spend, revenue)}
    raise KeyError(f"no list of mistakes for {kpi!r}; known: conversion_rate, aov, avg_order_value, roas")


_SUMMED_PEOPLE = ("a period's UV and buyers count each person once; adding up the daily figures counts "
                  "someone who came (or bought) on three days three times")


def _period_people(daily: pd.DataFrame, totals: Mapping[str, float], uv: float | None,
                   buyers: float | None) -> tuple[float, float]:
    """The period's UV and paying buyers: given, or (one day) the day's own."""
    if uv is not None and buyers is not None:
        return float(uv), float(buyers)
    if len(daily) <= 1:
        return totals["uv"], totals["buyers"]
    raise ValueError(f"the daily report has {len(daily)} days: give the period's uv and buyers, each person "
                     "counted once (uv=reports.unique_visitors(sessions), buyers=reports.paying_buyers(orders))")


def place(nb: Mapping[str, Any], number: int) -> str:
    """Where cell ``number`` (1-based, every cell counted) of a notebook is, in words a trainee can find.

    JupyterLab shows no cell numbers, and counting would include the text cells, so the place
    is named by the exercise: "in your answer to exercise `aov`", or "in code cell 4 (before
    exercise `aov`)" for a cell that is not an answer, counting code cells only.
    """
    cells = [c for c in nb.get("cells", []) if isinstance(c, Mapping)]
    if not 1 <= number <= len(cells):
        return f"in cell {number}"

    def checked(cell: Mapping[str, Any]) -> str | None:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        found = _CHECK.search(src) if cell.get("cell_type") == "code" else None
        return found.group(1) if found else None

    code = sum(1 for c in cells[:number] if c.get("cell_type") == "code")
    later = [c for c in cells[number:] if c.get("cell_type") == "code"]
    if later and checked(later[0]):
        return f"in your answer to exercise `{checked(later[0])}`"
    upcoming = next((checked(c) for c in later if checked(c)), None)
    where = f"before exercise `{upcoming}`" if upcoming else "after the last exercise"
    return f"in code cell {code} ({where}, counting cells with code only)"


#: The hint for a number whose size is right and whose sign is not.
SIGN_HINT = ("its size is right but its sign is the other way round: a fall is a negative number and a rise a "
             "positive one (new / old - 1)")


def distinct_mistakes(mistakes: Mapping[str, Any] | None, accepted: list[float], rel: float,
                      close: Callable[[float, float, float], bool]) -> dict[str, float]:
    """The known mistakes that can be told apart: hint -> value.

    A "mistake" that gives the right answer (one of ``accepted``) is no mistake, and two mistakes
    whose values lie within ``rel`` of each other are dropped both: an answer near them could be
    either, and naming the wrong one would misread the trainee (the general hint is given instead).
    """
    values: dict[str, float] = {}
    for hint, wrong in (mistakes or {}).items():
        try:
            w = float(wrong)
        except (TypeError, ValueError):
            continue
        if not math.isnan(w) and not any(close(w, e, rel) for e in accepted):
            values[hint] = w
    return {h: w for h, w in values.items()
            if not any(close(w, other, 2 * rel) for g, other in values.items() if g != h)}


def matching_mistake(value: float, expected: float | None, mistakes: Mapping[str, Any] | None, rel: float,
                     close: Callable[[float, float, float], bool]) -> str | None:
    """The hint of the mistake ``value`` matches, among those that can be told apart; else the sign hint
    when ``value`` is the answer with its sign flipped."""
    accepted = [] if expected is None else [float(expected)]
    for hint, w in distinct_mistakes(mistakes, accepted, rel, close).items():
        if close(value, w, rel):
            return hint
    if expected is not None and value != 0 and close(-value, float(expected), rel):
        return SIGN_HINT
    return None
