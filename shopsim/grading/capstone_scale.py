"""The capstone's scale: a seed's net profit turned into points (0 to 100) between reference anchors.

Each reference policy is an anchor: doing nothing (``do_nothing``) is worth 0 points, the
sensible rule-based operator (``rule_based``) 60, the tuned operator (``tuned``) 100. On each
seed, the trainee's net profit is placed on the line through the anchors' profits on that same
seed (common random numbers): matching ``do_nothing`` earns 0, matching ``rule_based`` 60,
halfway between them 30, matching ``tuned`` 100; less than ``do_nothing`` earns 0, more than
``tuned`` is capped at 100. The score is the mean over seeds.

Why this shape: doing nothing runs the shop as it was handed over, so it should earn (almost)
nothing; ``rule_based`` is what a careful operator does with plain rules, a pass (60); the
tuned operator shows how much more the same rules earn with better settings, the top of the
scale. The scale is per seed because months differ by more than policies do.

When an anchor's profit is not above the one below it on a seed (the rules lost money against
doing nothing on that month), it is lifted to a small gap (:func:`min_gap`) above it, so the
line keeps rising and a profit between them still earns the points in between. Without a
higher anchor (only ``do_nothing`` given), the line rises by 100 points over the width
``max(|do_nothing|, 1 yuan)``: doubling doing nothing's profit earns 100. Without ``tuned``,
the line above ``rule_based`` keeps the slope of the segment below it, capped at 100.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Points each reference policy's profit is worth on a seed.
ANCHORS: dict[str, float] = {"do_nothing": 0.0, "rule_based": 60.0, "tuned": 100.0}
#: Most points a seed can earn.
TOP = 100.0


def min_gap(base: float) -> float:
    """Smallest rise (yuan) between two anchors' profits: 1 % of the lower one, at least 100 yuan."""
    return max(100.0, 0.01 * abs(base))


def anchors(references: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """The anchors of one seed, lowest first: (name, profit in yuan, points), profits made rising."""
    found = sorted(((ANCHORS[n], n, float(p)) for n, p in references.items() if n in ANCHORS))
    out: list[tuple[str, float, float]] = []
    for points, name, profit in found:
        if out and profit < out[-1][1] + min_gap(out[-1][1]):
            profit = out[-1][1] + min_gap(out[-1][1])
        out.append((name, profit, points))
    return out


def _named(anchor: tuple[str, float, float], references: Mapping[str, float]) -> str:
    """An anchor as the why reads it: its profit, and where it was placed when it was lifted."""
    name, placed, pts = anchor
    earned = float(references[name])
    if abs(placed - earned) < 0.5:
        return f"{name} ({placed:,.0f} yuan, {pts:g})"
    return f"{name} ({earned:,.0f} yuan, below the anchor under it, so placed at {placed:,.0f}; {pts:g})"


def points(profit: float, references: Mapping[str, float]) -> float:
    """Points (0 to 100) of a seed's net ``profit`` (yuan) against the references' profits there."""
    line = anchors(references)
    if not line or not np.isfinite(profit):
        return 0.0
    xs = [p for _, p, _ in line]
    ys = [pts for _, _, pts in line]
    if len(line) == 1:
        xs.append(xs[0] + max(abs(xs[0]), 1.0))
        ys.append(ys[0] + TOP)
    elif ys[-1] < TOP:  # no top anchor: keep the last segment's slope up to the cap
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        xs.append(xs[-1] + (TOP - ys[-1]) / slope)
        ys.append(TOP)
    return float(np.clip(np.interp(profit, xs, ys), 0.0, TOP))


def why(profit: float, references: Mapping[str, float]) -> str:
    """One line saying where a seed's profit falls between the anchors and what it earned."""
    line = anchors(references)
    if not np.isfinite(profit):
        return "no profit: the policy failed on this seed (see the reason)"
    got = points(profit, references)
    below = [a for a in line if a[1] <= profit]
    above = [a for a in line if a[1] > profit]
    if not below:
        return f"below {_named(line[0], references)}: {got:.1f} points"
    low = below[-1]
    if not above:
        return f"at or above {_named(low, references)}: {got:.1f} points"
    high = above[0]
    return (f"between {_named(low, references)} and {_named(high, references)}: "
            f"{low[2]:g} + {high[2] - low[2]:g} x {(profit - low[1]) / (high[1] - low[1]):.2f} = {got:.1f} points")
