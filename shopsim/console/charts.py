"""The console's four charts as inline SVG: GMV and net profit by day, visits by traffic
source, conversion rate, and stock per SKU, from :class:`~shopsim.console.model.ConsoleModel`'s
DataFrames.

Why SVG and not matplotlib: a console step has 150 ms for a simulated day *and* the refresh,
and redrawing a 2 x 2 matplotlib figure into a PNG takes 150-200 ms on the course machines
(text layout of the ticks dominates), while these SVG strings take a few milliseconds. They
need nothing but the browser, scale crisply, and are deterministic for the same data.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

#: Colours per traffic source (the order of shopsim.scenario.SOURCES).
SOURCE_COLOURS = {"search": "#4c78a8", "direct": "#72b7b2", "returning": "#54a24b", "paid_search": "#f58518",
                  "display": "#e45756", "affiliate": "#b279a2", "crm": "#eeca3b", "venue": "#9d755d"}
W, H = 340, 200  # one chart, px
_L, _R, _T, _B = 46, 18, 36, 22  # margins: left (y labels), right, top (title, legend), bottom (x labels)
_EMPTY = "run a day to see this chart"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(low: float, high: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2 or 5 x 10^k) covering ``low`` to ``high``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(low / step) * step
    count = math.ceil((high - first) / step - 1e-9)
    return [round(first + i * step, 10) for i in range(count + 1)]


def yuan(x: float) -> str:
    """A tick in yuan: 12k, 800, -2k."""
    return f"{x / 1000:,.0f}k" if abs(x) >= 10_000 else f"{x / 1000:,.1f}k" if abs(x) >= 1000 else f"{x:,.0f}"


def count(x: float) -> str:
    """A tick of a count: 4.2k, 800."""
    return f"{x / 1000:,.1f}k" if abs(x) >= 1000 else f"{x:,.0f}"


def percent(x: float) -> str:
    """A tick of a rate: 2.5%."""
    return f"{x:.1%}"


class _Frame:
    """Scales and the common parts (title, axes, ticks, legend) of one chart."""

    def __init__(self, title: str, n: int, low: float, high: float, fmt: Callable[[float], str]) -> None:
        self.n = n
        self.ticks = nice_ticks(min(low, 0.0), high)
        self.low, self.high = self.ticks[0], self.ticks[-1]
        self.parts = [f'<text x="4" y="14" font-size="12" font-weight="600">{_esc(title)}</text>']
        for t in self.ticks:
            y = self.y(t)
            self.parts.append(f'<line x1="{_L}" x2="{W - _R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                              f'<text x="{_L - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" '
                              f'fill="#57606a">{_esc(fmt(t))}</text>')

    def x(self, i: float) -> float:
        return _L + (W - _L - _R) * (0.5 if self.n <= 1 else i / (self.n - 1))

    def y(self, v: float) -> float:
        return _T + (H - _T - _B) * (1 - (v - self.low) / ((self.high - self.low) or 1.0))

    def days(self, dates: Sequence[pd.Timestamp]) -> None:
        step = max(math.ceil(len(dates) / 6), 1)
        for i in range(0, len(dates), step):
            self.parts.append(f'<text x="{self.x(i):.1f}" y="{H - 6}" font-size="9" text-anchor="middle" '
                              f'fill="#57606a">{dates[i]:%m-%d}</text>')

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        x = 4
        for name, colour in items:
            self.parts.append(f'<rect x="{x}" y="21" width="8" height="8" fill="{colour}"/>'
                              f'<text x="{x + 11}" y="29" font-size="9">{_esc(name)}</text>')
            x += 22 + 5.6 * len(name)

    def svg(self, css_class: str) -> str:
        return (f'<svg class="shopsim-svg {css_class}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
                f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">{"".join(self.parts)}</svg>')


def _empty(title: str, css_class: str) -> str:
    f = _Frame(title, 0, 0.0, 1.0, lambda _v: "")
    f.parts = f.parts[:1] + [f'<text x="{W / 2}" y="{H / 2}" font-size="11" fill="#8c959f" '
                             f'text-anchor="middle">{_EMPTY}</text>']
    return f.svg(css_class)


def _path(f: _Frame, values: np.ndarray) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{f.x(i):.1f},{f.y(v):.1f}" for i, v in enumerate(values)
                    if math.isfinite(v))


def lines(title: str, dates: Sequence[pd.Timestamp], series: Sequence[tuple[str, np.ndarray, str]],
          fmt: Callable[[float], str], css_class: str) -> str:
    """Line chart of one or more series by day, with dots on each day."""
    if not len(dates):
        return _empty(title, css_class)
    finite = np.concatenate([s[1][np.isfinite(s[1])] for s in series] + [np.zeros(1)])
    f = _Frame(title, len(dates), float(finite.min()), float(finite.max()), fmt)
    f.days(dates)
    if f.low < 0:
        f.parts.append(f'<line x1="{_L}" x2="{W - _R}" y1="{f.y(0):.1f}" y2="{f.y(0):.1f}" stroke="#57606a"/>')
    for _name, values, colour in series:
        f.parts.append(f'<path d="{_path(f, values)}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        f.parts.extend(f'<circle cx="{f.x(i):.1f}" cy="{f.y(v):.1f}" r="2" fill="{colour}"/>'
                       for i, v in enumerate(values) if math.isfinite(v))
    if len(series) > 1:
        f.legend([(name, colour) for name, _v, colour in series])
    return f.svg(css_class)


def stacked(title: str, dates: Sequence[pd.Timestamp], series: Sequence[tuple[str, np.ndarray, str]],
            fmt: Callable[[float], str], css_class: str) -> str:
    """Stacked areas by day (bottom series first)."""
    if not len(dates) or not series:
        return _empty(title, css_class)
    tops = np.cumsum(np.vstack([s[1] for s in series]).astype(float), axis=0)
    f = _Frame(title, len(dates), 0.0, float(tops[-1].max()), fmt)
    f.days(dates)
    below = np.zeros(len(dates))
    for (_name, _v, colour), top in zip(series, tops, strict=True):
        if len(dates) == 1:  # one day: a bar
            x = f.x(0)
            f.parts.append(f'<rect x="{x - 20:.1f}" y="{f.y(top[0]):.1f}" width="40" '
                           f'height="{f.y(below[0]) - f.y(top[0]):.1f}" fill="{colour}"/>')
        else:
            up = " ".join(f"L{f.x(i):.1f},{f.y(v):.1f}" for i, v in enumerate(top))
            down = " ".join(f"L{f.x(i):.1f},{f.y(v):.1f}" for i, v in reversed(list(enumerate(below))))
            f.parts.append(f'<path d="M{up[1:]} {down} Z" fill="{colour}" fill-opacity="0.85"/>')
        below = top
    f.legend([(name, colour) for name, _v, colour in series])
    return f.svg(css_class)


def stock_bars(data: pd.DataFrame, css_class: str = "shopsim-chart-stock") -> str:
    """Horizontal bars per SKU: on hand (red when sold out, or when it covers less than its lead time
    and nothing is on order: the stock check's rule), then on order."""
    title = "Stock per SKU (units)"
    n = len(data)
    height = max(H, _T + 14 * n + 8)
    top = float((data["on_hand"] + data["on_order"]).max()) if n else 0.0
    ticks = nice_ticks(0.0, max(top, 1.0), 3)
    left, width = 84, W - 84 - _R

    def x(v: float) -> float:
        return left + width * v / ticks[-1]

    parts = [f'<text x="4" y="14" font-size="12" font-weight="600">{_esc(title)}</text>']
    keys = (("on hand", "#4c78a8", 4), ("sold out / low", "#e45756", 64), ("on order", "#bab0ac", 150))
    for name, colour, lx in keys:
        parts.append(f'<rect x="{lx}" y="21" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{lx + 11}" y="29" font-size="9">{name}</text>')
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_T}" y2="{height - 14}" stroke="#e5e7eb"/>'
                     f'<text x="{x(t):.1f}" y="{height - 4}" font-size="9" text-anchor="middle" '
                     f'fill="#57606a">{_esc(count(t))}</text>')
    rows = zip(*(data[c].tolist() for c in ("sku", "on_hand", "on_order", "days_of_cover", "lead_time_days")),
               strict=True)
    for i, (sku, on_hand, on_order, cover, lead) in enumerate(rows):
        y = _T + 14 * i
        low = on_hand == 0 or (cover < lead and on_order == 0)
        colour = "#e45756" if low else "#4c78a8"
        parts.append(f'<text x="{left - 4}" y="{y + 9}" font-size="9" text-anchor="end">{_esc(sku)}</text>'
                     f'<rect x="{left}" y="{y + 2}" width="{x(on_hand) - left:.1f}" height="10" fill="{colour}">'
                     f'<title>{_esc(sku)}: {on_hand} on hand, {on_order} on order</title></rect>')
        if on_hand == 0:
            parts.append(f'<text x="{left + 3}" y="{y + 10}" font-size="9" fill="#cf222e">sold out</text>')
        if on_order:
            parts.append(f'<rect x="{x(on_hand):.1f}" y="{y + 2}" width="{x(on_order) - left:.1f}" '
                         f'height="10" fill="#bab0ac"/>')
    return (f'<svg class="shopsim-svg {css_class}" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">{"".join(parts)}</svg>')


def panel(gmv_profit: pd.DataFrame, traffic: pd.DataFrame, conversion: pd.DataFrame, stock: pd.DataFrame) -> str:
    """The four charts, as HTML (inline SVG), from the model's DataFrames."""
    dates = list(gmv_profit["date"])
    money = lines("GMV and net profit by day (yuan)", dates,
                  [("GMV", gmv_profit["gmv"].to_numpy(float), "#4c78a8"),
                   ("net profit", gmv_profit["net_profit"].to_numpy(float), "#54a24b")], yuan, "shopsim-chart-gmv")
    sources = [c for c in traffic.columns if c != "date"]
    visits = stacked("Visits by traffic source", list(traffic["date"]),
                     [(s.replace("_", " "), traffic[s].to_numpy(float), SOURCE_COLOURS.get(s, "#8c959f"))
                      for s in sources], count, "shopsim-chart-traffic")
    conv = lines("Conversion rate (buyers / UV)", list(conversion["date"]),
                 [("conversion", conversion["conversion_rate"].to_numpy(float), "#f58518")], percent,
                 "shopsim-chart-conversion")
    return (f'<div class="shopsim-charts">{money}{visits}{conv}{stock_bars(stock)}</div>')
