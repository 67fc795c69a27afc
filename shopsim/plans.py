"""An operator's plan written as data: what to do on which day, and standing reorder rules.

A lesson's decision exercise asks the trainee for a *plan*, not code: a list of steps that the
simulator carries out each morning through the same levers a policy uses. Because a plan is
data (numbers and names), it can be checked before anything runs, graded on seeds the trainee
has not seen without running any of the trainee's code, and shown back as a table.

Two kinds of step, each a dict:

``{"day": 0, "lever": "set_price", "sku": "TEE-CLASSIC", "price": 69}``
    On the morning of ``day`` (0 = the first day), pull one lever with these keyword
    arguments (the lever's own argument names: see ``OperatorView.LEVERS`` and
    ``docs/levers``). Steps of the same day run in the order written.

``{"rule": "reorder_point", "sku": "TEE-CLASSIC", "reorder_point": 300, "order_qty": 800}``
    A standing reorder rule (订货点法): every morning from ``from_day`` (default 0), when the
    SKU's stock on hand plus units already on order is at or below ``reorder_point`` units,
    order ``order_qty`` units. One rule per SKU.

:func:`check` reads a plan and raises one :class:`PlanError` naming the first bad step and what
is allowed; :func:`policy` turns a checked plan into a policy ``f(view)``.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsim.errors import ShopsimError
from shopsim.operator import MAX_REORDER, Levers, OperatorView

#: Most steps a plan may hold (a month's plan needs a few dozen at most).
MAX_STEPS = 200
#: Longest run a plan is checked for when the run's length is not known yet (a saved plan), days.
MAX_DAYS = 3660
#: Standing rules a plan may hold, and their names.
RULES = ("reorder_point",)
_RULE_FIELDS = {"reorder_point": ("sku", "reorder_point", "order_qty", "from_day")}


class PlanError(ShopsimError, ValueError):
    """A plan cannot be carried out as written: which step, what is wrong, what is allowed."""


@dataclass(frozen=True)
class Step:
    """One lever pulled on one morning: ``day`` (0-based), the lever's name, its keyword arguments."""

    day: int
    lever: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class ReorderRule:
    """Order ``order_qty`` units when stock on hand plus on order is at or below ``reorder_point``."""

    sku: str
    reorder_point: int
    order_qty: int
    from_day: int = 0


@dataclass(frozen=True)
class Plan:
    """A checked plan: its one-off steps in the order they run, and its standing rules."""

    steps: tuple[Step, ...]
    rules: tuple[ReorderRule, ...]

    def canonical(self) -> str:
        """The plan as canonical JSON text (same plan, same text), for caching and fingerprints."""
        return canonical(self)


def _where(i: int) -> str:
    return f"plan step {i + 1}"


def _whole(value: Any, what: str, low: int, high: int) -> int:
    """A whole number between ``low`` and ``high`` (a float like 3.0 is fine), or PlanError."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or float(value) != int(value) or not low <= int(value) <= high:
        raise PlanError(f"{what} must be a whole number from {low:,} to {high:,}, not {value!r}")
    return int(value)


def _plain(value: Any, what: str) -> Any:
    """Check that an argument is plain data (numbers, text, true/false, lists of those)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, what) for v in value]
    raise PlanError(f"{what} must be a number, a text, true/false or a list of those, "
                    f"not a {type(value).__name__}")


def _lever_step(i: int, raw: Mapping[str, Any], days: int) -> Step:
    where = _where(i)
    lever = raw.get("lever")
    if lever not in OperatorView.LEVERS:
        raise PlanError(f"{where}: 'lever' must be one of {', '.join(OperatorView.LEVERS)}, not {lever!r}")
    day = _whole(raw.get("day"), f"{where}: 'day'", 0, days - 1)
    arguments = {k: v for k, v in raw.items() if k not in ("day", "lever")}
    params = [p for p in inspect.signature(getattr(Levers, lever)).parameters.values() if p.name != "self"]
    names = [p.name for p in params]
    unknown = sorted(set(arguments) - set(names))
    if unknown:
        raise PlanError(f"{where}: {lever} has no argument {unknown[0]!r}; its arguments are {', '.join(names)}")
    missing = [p.name for p in params if p.default is inspect.Parameter.empty and p.name not in arguments]
    if missing:
        raise PlanError(f"{where}: {lever} needs {', '.join(repr(m) for m in missing)} "
                        f"(its arguments are {', '.join(names)})")
    return Step(day, lever, {k: _plain(v, f"{where}: {k!r}") for k, v in arguments.items()})


def _rule(i: int, raw: Mapping[str, Any], days: int) -> ReorderRule:
    where, kind = _where(i), raw.get("rule")
    if kind not in RULES:
        raise PlanError(f"{where}: 'rule' must be one of {', '.join(RULES)}, not {kind!r}")
    unknown = sorted(set(raw) - {"rule", *_RULE_FIELDS[kind]})
    if unknown:
        raise PlanError(f"{where}: a {kind} rule has no field {unknown[0]!r}; "
                        f"its fields are {', '.join(_RULE_FIELDS[kind])}")
    sku = raw.get("sku")
    if not isinstance(sku, str):
        raise PlanError(f"{where}: a {kind} rule needs 'sku', the code of an own SKU, not {sku!r}")
    return ReorderRule(sku, _whole(raw.get("reorder_point"), f"{where}: 'reorder_point'", 0, MAX_REORDER),
                       _whole(raw.get("order_qty"), f"{where}: 'order_qty'", 1, MAX_REORDER),
                       _whole(raw.get("from_day", 0), f"{where}: 'from_day'", 0, days - 1))


def check(plan: Any, days: int, skus: Sequence[str] | None = None) -> Plan:
    """Read a plan (a list of step dicts, or a :class:`Plan`) for a run of ``days`` days.

    Checks the form of every step without running anything: a known lever with its own
    argument names, a day inside the run, plain values, at most :data:`MAX_STEPS` steps and
    one reorder rule per SKU (``skus``, when given, are the shop's own SKU codes). The
    levers check their values again when the step runs.

    Raises
    ------
    PlanError
        On the first step that is wrong, with what is allowed.
    """
    if isinstance(plan, Plan):
        return plan
    if isinstance(plan, Mapping) or not isinstance(plan, list | tuple):
        raise PlanError("a plan must be a list of steps (dicts like {'day': 0, 'lever': 'set_price', "
                        f"'sku': ..., 'price': ...}}), not a {type(plan).__name__}")
    if len(plan) > MAX_STEPS:
        raise PlanError(f"a plan holds at most {MAX_STEPS} steps, not {len(plan)}")
    steps, rules = [], []
    for i, raw in enumerate(plan):
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise PlanError(f"{_where(i)} must be a dict with 'day' and 'lever' (or 'rule'), not {raw!r:.80}")
        if "rule" in raw:
            rules.append(_rule(i, raw, days))
        elif "lever" in raw:
            steps.append(_lever_step(i, raw, days))
            sku = steps[-1].arguments.get("sku")
            if skus is not None and sku is not None and sku not in skus:
                raise PlanError(f"{_where(i)}: {sku!r} is not an own SKU; the shop's SKUs are {', '.join(skus)}")
        else:
            raise PlanError(f"{_where(i)} needs 'lever' (with 'day') or 'rule'; it has {', '.join(raw) or 'nothing'}")
    seen = [r.sku for r in rules]
    for rule in rules:
        if skus is not None and rule.sku not in skus:
            raise PlanError(f"a reorder rule names {rule.sku!r}, which is not an own SKU: {', '.join(skus)}")
        if seen.count(rule.sku) > 1:
            raise PlanError(f"{rule.sku} has {seen.count(rule.sku)} reorder rules; give it one")
    order = sorted(range(len(steps)), key=lambda k: steps[k].day)  # stable: same-day steps keep their order
    return Plan(tuple(steps[k] for k in order), tuple(rules))


def load(path: str | Path) -> list[dict[str, Any]]:
    """A plan saved as JSON (e.g. by the console's ``save_plan``): the list of steps, unchecked.

    Raises
    ------
    PlanError
        When the file is not JSON or does not hold a list of steps.
    """
    try:
        steps = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanError(f"cannot read a plan from {str(path)!r}: {exc}") from None
    if not isinstance(steps, list):
        raise PlanError(f"{str(path)!r} holds a {type(steps).__name__}, not a list of plan steps")
    return steps


def canonical(plan: Plan) -> str:
    """Canonical JSON text of a checked plan."""
    body = {"steps": [[s.day, s.lever, dict(sorted(s.arguments.items()))] for s in plan.steps],
            "rules": [[r.sku, r.reorder_point, r.order_qty, r.from_day] for r in plan.rules]}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def policy(plan: Plan, refusals: list[tuple[int, str, str]] | None = None) -> Callable[[OperatorView], None]:
    """A policy ``f(view)`` that carries out ``plan`` each morning.

    A step the lever refuses is written to ``refusals`` as (day, step, reason) when a list is
    given; otherwise its :class:`~shopsim.errors.ShopsimError` propagates and stops the run.
    """
    by_day: dict[int, list[Step]] = {}
    for step in plan.steps:
        by_day.setdefault(step.day, []).append(step)

    def carry_out(view: OperatorView) -> None:
        for step in by_day.get(view.day, []):
            _pull(view, step, refusals)
        if plan.rules:
            stock, on_order = view.stock(), view.on_order()
            for rule in plan.rules:
                if view.day >= rule.from_day and stock[rule.sku] + on_order[rule.sku] <= rule.reorder_point:
                    _pull(view, Step(view.day, "reorder", {"sku": rule.sku, "qty": rule.order_qty}), refusals)
    return carry_out


def describe(step: Step) -> str:
    """A step as an operator reads it: ``day 3: set_price(sku='TEE-CLASSIC', price=69)``."""
    args = ", ".join(f"{k}={v!r}" for k, v in step.arguments.items())
    return f"day {step.day}: {step.lever}({args})"


def _pull(view: OperatorView, step: Step, refusals: list[tuple[int, str, str]] | None) -> None:
    try:
        getattr(view, step.lever)(**step.arguments)
    except ShopsimError as exc:
        if refusals is None:
            raise PlanError(f"{describe(step)} was refused: {exc}") from None
        refusals.append((step.day, describe(step), str(exc)))
