"""Domain checks for graded exercises, shared by lesson notebooks, pytest and batch grading.

Each check returns quietly when the answer is right and raises :class:`CheckFailed` with
feedback in operator terms when it is not. The feedback never states the expected value.
Checks called without an expected value test form and sense (public checks); called with
one, they test the value (hidden checks)::

    from shopsim.grading import checks as ck
    ck.rate(conversion, name="conversion")                      # a share between 0 and 1
    ck.rate(conversion, expected, name="conversion",            # the right share, +-1 %
            mistakes=feedback.kpi_mistakes("conversion_rate", daily))
    ck.number(aov, expected, name="aov", unit="yuan")
    ck.frame(best_days, expected_table, name="best_days")       # any row order, any dtype
    ck.choice(answer_q4, "b", options="abcd", name="answer_q4")

Tolerances are relative (``rel=0.01`` is 1 %). Unanswered placeholders (``...``, ``None``),
wrong types, NaN and empty tables each get their own message.

Inside :func:`recording`, every value check (one given an expected value) is also written
down with its arguments and whether it passed; ``course build`` records the hidden checks
this way on the master's own solution to make the sealed answer key of practice lessons
(:mod:`shopsim.grading.answer_key`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from shopsim.grading import feedback

#: Placeholder returned by :func:`answer` for a name the trainee never defined.
MISSING = object()

_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")

UNANSWERED, WRONG_TYPE, FORMAT, WRONG_VALUE, ERROR = "unanswered", "wrong_type", "format", "wrong_value", "error"


class CheckFailed(AssertionError):
    """An answer is not right yet. ``kind`` says why; the message says what to look at.

    kind is one of ``unanswered``, ``wrong_type``, ``format`` (e.g. a percentage where a share
    is wanted), ``wrong_value`` and ``error`` (the trainee's code raised).
    """

    def __init__(self, message: str, kind: str = WRONG_VALUE) -> None:
        super().__init__(message)
        self.kind = kind


def _close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=max(rel * 1e-9, 1e-12))


def _close_any(x: float, expected: float | Sequence[float], rel: float) -> bool:
    """Whether ``x`` is within ``rel`` of the expected value (or of any one of several accepted values)."""
    return any(_close(x, float(e), rel) for e in _accepted(expected))


def _accepted(expected: float | Sequence[float]) -> list[float]:
    if isinstance(expected, str) or not isinstance(expected, Iterable):
        return [float(expected)]
    return [float(e) for e in expected]


@dataclass(frozen=True)
class Recorded:
    """One value check seen inside :func:`recording`: its kind, its arguments, whether it passed."""

    kind: str
    arguments: dict[str, Any]
    passed: bool


_RECORDER: contextvars.ContextVar[list[Recorded] | None] = contextvars.ContextVar("shopsim_checks", default=None)
_F = TypeVar("_F", bound=Callable[..., Any])


@contextlib.contextmanager
def recording() -> Iterator[list[Recorded]]:
    """Write down every value check called inside the block (checks still run as usual)."""
    calls: list[Recorded] = []
    token = _RECORDER.set(calls)
    try:
        yield calls
    finally:
        _RECORDER.reset(token)


def _recorded(kind: str, expected: str) -> Callable[[_F], _F]:
    """Record calls of a check that give ``expected`` (checks it calls itself are not recorded)."""
    def decorate(func: _F) -> _F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls = _RECORDER.get()
            if calls is None:
                return func(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            token = _RECORDER.set(None)
            passed = False
            try:
                out = func(*args, **kwargs)
                passed = True
                return out
            finally:
                _RECORDER.reset(token)
                if bound.arguments.get(expected) is not None:
                    calls.append(Recorded(kind, dict(bound.arguments), passed))
        return wrapper  # type: ignore[return-value]
    return decorate


def answer(env: Mapping[str, Any], name: str) -> Any:
    """The value the trainee gave ``name`` in ``env`` (a notebook's globals).

    Raises :class:`CheckFailed` (unanswered) if the name was never defined, which happens
    when its cell was not run or raised an error.
    """
    if name not in env:
        raise CheckFailed(f"`{name}` is not defined yet: run the cell where you set it "
                          "(if that cell shows an error, fix the error first).", UNANSWERED)
    return env[name]


def answered(value: Any, name: str) -> Any:
    """Fail with "not answered yet" if ``value`` is still a placeholder; return it otherwise."""
    if value is MISSING:
        raise CheckFailed(f"`{name}` is not defined yet: run the cell where you set it.", UNANSWERED)
    if feedback.is_unanswered(value):
        also = " (if that cell shows an error, fix the error first)" if value is None else ""
        raise CheckFailed(f"`{name}` is not answered yet: it is {feedback.describe(value)}. "
                          f"Replace the `...` with your answer and run the cell{also}.", UNANSWERED)
    return value


def _scalar(value: Any, name: str) -> float:
    """The trainee's answer as a float, or a clear message on why it is not one number."""
    answered(value, name)
    if isinstance(value, pd.Series | pd.DataFrame | np.ndarray) and np.size(value) == 1:
        raise CheckFailed(f"`{name}` should be a single number, but it is {feedback.describe(value)} holding one "
                          "value; take the number itself (for example with `.item()`).", WRONG_TYPE)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise CheckFailed(f"`{name}` should be a single number, but it is {feedback.describe(value)}.", WRONG_TYPE)
    x = float(value)
    if math.isnan(x):
        raise CheckFailed(f"`{name}` is NaN (not a number). That usually comes from dividing by zero or from "
                          "a missing value in the columns you used; check them.", WRONG_VALUE)
    if math.isinf(x):
        raise CheckFailed(f"`{name}` is infinite: something was divided by zero; check the denominator.", WRONG_VALUE)
    return x


@_recorded("number", "expected")
def number(value: Any, expected: float | Sequence[float] | None = None, *, name: str, rel: float = 0.01, unit: str = "",
           between: tuple[float, float] | None = None, whole: bool = False,
           mistakes: Mapping[str, float] | None = None, hint: str | None = None) -> None:
    """Check one number: an amount (yuan), a count, a ratio.

    Parameters
    ----------
    value:
        The trainee's answer.
    expected:
        The right value, or a list of values that all count as right (e.g. two days a reader
        cannot tell apart); ``None`` checks form and sense only.
    name:
        The variable's name as the trainee sees it.
    rel:
        Relative tolerance (0.01 = within 1 % of ``expected``).
    unit:
        Unit for messages, e.g. ``"yuan"`` or ``"orders"``.
    between:
        Plausible range ``(low, high)``; outside it the answer makes no sense for the business.
    whole:
        The answer is a count and must be a whole number.
    mistakes:
        hint -> the value a known mistake gives; a match is answered with that hint.
    hint:
        What to reread when the value is wrong (e.g. :func:`feedback.definition`).
    """
    x = _scalar(value, name)
    unit_s = f" {unit}" if unit else ""
    if whole and x != int(x):
        raise CheckFailed(f"`{name}` is a count of{unit_s or ' things'} and should be a whole number, "
                          f"but it is {feedback.format_number(x)}.", WRONG_TYPE)
    if between is not None and not between[0] <= x <= between[1]:
        raise CheckFailed(f"`{name}` = {feedback.format_number(x)}{unit_s} is not plausible here: it should lie "
                          f"between {between[0]:g} and {between[1]:g}{unit_s}. Check which columns you used.",
                          WRONG_VALUE)
    if expected is None or _close_any(x, expected, rel):
        return
    _wrong(x, expected, name, rel, mistakes, hint)


def wrong_value_message(name: str, shown: str, known: str | None, hint: str | None) -> str:
    """The message for a wrong value: the known mistake's hint if it matched, else the general hint."""
    if known:
        return f"`{name}` = {shown} is not right yet: {known}."
    return f"`{name}` = {shown} is not right yet.{' ' + hint if hint else ''}"


def _wrong(x: float, expected: float | Sequence[float], name: str, rel: float,
           mistakes: Mapping[str, float] | None, hint: str | None) -> None:
    known = None
    for e in _accepted(expected):
        known = known or feedback.matching_mistake(x, e, mistakes, rel, _close)
    raise CheckFailed(wrong_value_message(name, feedback.format_number(x), known, hint), WRONG_VALUE)


def percent_message(name: str, x: float) -> str:
    """The message for a rate given as a percentage (2.3 where 0.023 is meant)."""
    return (f"`{name}` = {feedback.format_number(x)} looks like a percentage. Give the rate as a share of 1 "
            "instead (2.3 % is written 0.023).")


def not_a_rate_message(name: str, x: float) -> str:
    """The message for a rate outside 0..1 that is not a percentage either."""
    return (f"`{name}` = {feedback.format_number(x)} cannot be a rate: a rate is a share between 0 and 1. "
            "Check that you divide the part by the whole, not the other way round.")


@_recorded("rate", "expected")
def rate(value: Any, expected: float | None = None, *, name: str, rel: float = 0.01, percent: str = "hint",
         mistakes: Mapping[str, float] | None = None, hint: str | None = None) -> None:
    """Check a rate (conversion, bounce, ...) given as a share of 1, e.g. 0.023 for 2.3 %.

    An answer given as a percentage (2.3) is recognised: with ``percent="hint"`` (default) it
    fails with a hint to give the share, with ``percent="accept"`` it counts as right.
    Other parameters as in :func:`number`.
    """
    if percent not in ("hint", "accept"):
        raise ValueError(f"percent must be 'hint' or 'accept', not {percent!r}")
    x = _scalar(value, name)
    looks_percent = 1 < x <= 100 if expected is None else (
        not _close(x, float(expected), rel) and _close(x, 100 * float(expected), rel))
    if looks_percent and percent == "accept":
        x = x / 100
    elif looks_percent:
        raise CheckFailed(percent_message(name, x), FORMAT)
    if not 0 <= x <= 1:
        raise CheckFailed(not_a_rate_message(name, x), WRONG_VALUE)
    if expected is None or _close(x, float(expected), rel):
        return
    _wrong(x, float(expected), name, rel, mistakes, hint)


def columns(value: Any, required: Iterable[str], *, name: str) -> pd.DataFrame:
    """Check that ``value`` is a non-empty DataFrame with the ``required`` columns; return it."""
    answered(value, name)
    if isinstance(value, pd.Series):
        raise CheckFailed(f"`{name}` should be a table (DataFrame) but it is {feedback.describe(value)}; "
                          "turn it into a table, for example with `.reset_index()`.", WRONG_TYPE)
    if not isinstance(value, pd.DataFrame):
        raise CheckFailed(f"`{name}` should be a table (DataFrame), but it is {feedback.describe(value)}.",
                          WRONG_TYPE)
    frame_ = _index_as_columns(value, required)
    missing = [c for c in required if c not in frame_.columns]
    if missing:
        raise CheckFailed(f"`{name}` is missing the column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(map(repr, missing))}; it has {list(value.columns)}.", WRONG_TYPE)
    if frame_.empty:
        raise CheckFailed(f"`{name}` is an empty table (no rows). Check the filter you applied.", WRONG_VALUE)
    return frame_


def _index_as_columns(df: pd.DataFrame, wanted: Iterable[str]) -> pd.DataFrame:
    """Move named index levels that are wanted columns back into the columns (e.g. after groupby)."""
    names = [n for n in df.index.names if n is not None and n in set(wanted) and n not in df.columns]
    return df.reset_index(level=names) if names else df


def kind_of(col: pd.Series) -> str:
    """How a column's values compare: ``bool``, ``number``, ``datetime`` or ``text``."""
    if pd.api.types.is_bool_dtype(col):
        return "bool"
    if pd.api.types.is_numeric_dtype(col):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(col):
        return "datetime"
    return "text"


def comparable(col: pd.Series, kind: str) -> pd.Series:
    """``col`` converted to ``kind`` (see :func:`kind_of`), so that dtype does not matter."""
    if kind == "bool":
        return col
    if kind == "number":
        return pd.to_numeric(col, errors="coerce").astype(float)
    if kind == "datetime":
        out = pd.to_datetime(col, errors="coerce")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        return out.astype("datetime64[ns]")
    return col.astype(str)


def _comparable(col: pd.Series, like: pd.Series) -> pd.Series:
    """``col`` converted to the kind of ``like`` (numbers, dates, text), so dtype does not matter."""
    return comparable(col, kind_of(like))


def _equal(a: pd.Series, b: pd.Series, rel: float) -> np.ndarray:
    """Element-wise equality of two aligned columns: numbers within ``rel``, NaN equals NaN."""
    if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        both_nan = np.isnan(x) & np.isnan(y)
        with np.errstate(invalid="ignore"):
            near = np.abs(x - y) <= np.maximum(rel * np.abs(y), 1e-9)
        return both_nan | near
    if pd.api.types.is_datetime64_any_dtype(b):
        b = b.astype("datetime64[ns]")
    x, y = a.astype(object).to_numpy(), b.astype(object).to_numpy()
    return np.array([(pd.isna(p) and pd.isna(q)) or p == q for p, q in zip(x, y, strict=True)], dtype=bool)


@_recorded("frame", "expected")
def frame(value: Any, expected: pd.DataFrame, *, name: str, rel: float = 1e-6, check_row_order: bool = False,
          check_dtype: bool = False, sort_by: list[str] | None = None,
          mistakes: Mapping[str, pd.DataFrame] | None = None, hint: str | None = None) -> None:
    """Check a table against ``expected`` on its columns (extra columns are allowed).

    Row order matters only with ``check_row_order``; dtypes only with ``check_dtype`` (then
    ``int`` vs ``float``, text vs category and the like count as different). Without row order
    both tables are sorted by ``sort_by`` (default: every expected column). Numbers compare
    within ``rel``. Named index levels that are expected columns count as columns.
    """
    cols = list(expected.columns)
    got = columns(value, cols, name=name)
    if len(got) != len(expected):
        _known_frame_mistake(value, name, rel, check_row_order, sort_by, mistakes)
        raise CheckFailed(rows_message(name, len(got), len(expected)), WRONG_VALUE)
    if check_dtype:
        for c in cols:
            if got[c].dtype != expected[c].dtype:
                raise CheckFailed(f"column {c!r} of `{name}` holds {got[c].dtype} values; this exercise asks "
                                  f"for {expected[c].dtype}.", WRONG_TYPE)
    got = pd.DataFrame({c: _comparable(got[c], expected[c]) for c in cols})
    exp = pd.DataFrame({c: _comparable(expected[c], expected[c]) for c in cols})
    if not check_row_order:
        keys = sort_by or cols
        got = got.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
        exp = exp.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    else:
        got, exp = got.reset_index(drop=True), exp.reset_index(drop=True)
    problems = _column_problems(got, exp, rel)
    if not problems:
        return
    _known_frame_mistake(value, name, rel, check_row_order, sort_by, mistakes)
    c, bad = problems[0]
    order = "" if check_row_order else " (row order does not matter)"
    extra = f" {hint}" if hint else ""
    raise CheckFailed(f"`{name}` is not right yet: column {c!r} differs from the answer in {bad} of {len(exp)} "
                      f"row{'s' if len(exp) != 1 else ''}{order}.{extra}", WRONG_VALUE)


def rows_message(name: str, got: int, expected: int) -> str:
    """The message for a table with the wrong number of rows."""
    return (f"`{name}` has {got} row{'s' if got != 1 else ''}, but the answer has {expected}. "
            "Check the filter or the grouping.")


def _known_frame_mistake(value: Any, name: str, rel: float, check_row_order: bool, sort_by: list[str] | None,
                         mistakes: Mapping[str, pd.DataFrame] | None) -> None:
    """Raise the hint of the first known mistake the table matches (a wrong filter changes the row count too)."""
    for known, wrong in (mistakes or {}).items():
        try:
            frame(value, wrong, name=name, rel=rel, check_row_order=check_row_order, sort_by=sort_by)
        except CheckFailed:
            continue
        raise CheckFailed(f"`{name}` is not right yet: {known}.", WRONG_VALUE)


def _column_problems(got: pd.DataFrame, exp: pd.DataFrame, rel: float) -> list[tuple[str, int]]:
    out = []
    for c in exp.columns:
        ok = _equal(got[c], exp[c], rel)
        if not ok.all():
            out.append((c, int((~ok).sum())))
    return out


@_recorded("series", "expected")
def series(value: Any, expected: pd.Series, *, name: str, rel: float = 1e-6, check_order: bool = False,
           check_index: bool = True, hint: str | None = None) -> None:
    """Check a Series against ``expected``, matched by index label (order only with ``check_order``).

    With ``check_index=False`` the values are compared by position (after sorting both when
    order does not matter). The Series' name and dtype never matter.
    """
    answered(value, name)
    if isinstance(value, pd.DataFrame) and value.shape[1] == 1:
        value = value.iloc[:, 0]
    if not isinstance(value, pd.Series):
        raise CheckFailed(f"`{name}` should be a Series (one column of values), but it is "
                          f"{feedback.describe(value)}.", WRONG_TYPE)
    if value.empty:
        raise CheckFailed(f"`{name}` is empty (no values). Check the filter you applied.", WRONG_VALUE)
    if len(value) != len(expected):
        raise CheckFailed(f"`{name}` has {len(value)} values, but the answer has {len(expected)}.", WRONG_VALUE)
    got = _comparable(value, expected)
    exp = _comparable(expected, expected)
    if check_index:
        missing = exp.index.difference(got.index)
        if len(missing):
            raise CheckFailed(f"`{name}` has no value for {len(missing)} of the expected labels "
                              f"(for example {missing[0]!r}). Check what the index holds.", WRONG_VALUE)
        got = got.reindex(exp.index) if not check_order else got
    elif not check_order:
        got = got.sort_values(kind="stable")
        exp = exp.sort_values(kind="stable")
    ok = _equal(got.reset_index(drop=True), exp.reset_index(drop=True), rel)
    if check_order and check_index and not (got.index == exp.index).all():
        raise CheckFailed(f"`{name}` has the right labels in the wrong order; this exercise asks for a "
                          "particular order (reread the question).", WRONG_VALUE)
    if not ok.all():
        extra = f" {hint}" if hint else ""
        raise CheckFailed(f"`{name}` is not right yet: {int((~ok).sum())} of {len(exp)} values differ from the "
                          f"answer.{extra}", WRONG_VALUE)


def normalise_choice(value: Any) -> str:
    """An option as compared: "(B)", "b)" and " b " are all "b"; text options lower-cased."""
    return str(value).strip().strip("().").strip().lower()


def _letters(options: Iterable[str]) -> bool:
    return all(len(normalise_choice(k)) == 1 for k in options)


def option_of(value: Any, options: Iterable[str] | Mapping[str, str], name: str) -> str:
    """The option ``value`` names (normalised), or :class:`CheckFailed` saying what is allowed."""
    answered(value, name)
    labels = {normalise_choice(k): normalise_choice(k) for k in options}
    if isinstance(options, Mapping):
        labels.update({normalise_choice(v): normalise_choice(k) for k, v in options.items()})
    letters = _letters(options)
    shown = ", ".join(normalise_choice(k) if letters else repr(str(k)) for k in options)
    what = "the letter of one option" if letters else "one of the options, as text"
    if not isinstance(value, str):
        raise CheckFailed(f"`{name}` should be {what} (one of {shown}) in quotes, but it is "
                          f"{feedback.describe(value)}.", WRONG_TYPE)
    got = labels.get(normalise_choice(value))
    if got is None:
        raise CheckFailed(f"`{name}` = {value!r} is not one of the options; answer with one of {shown}.", WRONG_TYPE)
    return got


def choice_message(name: str, value: Any, extra: str) -> str:
    """The message for a wrong option, with the hint for that option (or the general hint)."""
    return f"`{name}` = {value!r} is not the best answer.{' ' + extra if extra else ''}"


@_recorded("choice", "answer_")
def choice(value: Any, answer_: str | Iterable[str] | None = None, *, options: Iterable[str] | Mapping[str, str],
           name: str, hints: Mapping[str, str] | None = None, hint: str | None = None) -> None:
    """Check a multiple-choice answer given as an option letter ("b", "B", "(b)", "b)").

    ``options`` are the letters (``"abcd"``), a mapping letter -> option text (then the
    option's text is accepted too) or a list of text options (a keyword, a SKU). ``answer_``
    is the right option, or several options that all count as right. ``hints`` maps a wrong
    option to what to reconsider; ``hint`` is said for a wrong option without its own hint.
    """
    got = option_of(value, options, name)
    if answer_ is None:
        return
    right = {normalise_choice(answer_)} if isinstance(answer_, str) else {normalise_choice(a) for a in answer_}
    if got in right:
        return
    own = {normalise_choice(k): v for k, v in (hints or {}).items()}
    raise CheckFailed(choice_message(name, value, own.get(got) or hint or ""), WRONG_VALUE)


def day_of(value: Any, name: str) -> pd.Timestamp:
    """The calendar day ``value`` names ("2026-03-05", a date, a Timestamp), or a clear message."""
    answered(value, name)
    when = pd.NaT
    if isinstance(value, str) and value.strip() and not _YEAR.search(value):
        raise CheckFailed(f"`{name}` = {value!r} has no year, so it cannot be read as a date; write the full date "
                          "in quotes, like \"2026-03-05\".", WRONG_TYPE)
    if not isinstance(value, bool | int | float | np.number):
        try:
            when = pd.Timestamp(value)
        except (TypeError, ValueError, OverflowError):
            when = pd.NaT
    if pd.isna(when):
        raise CheckFailed(f"`{name}` should be a date in quotes, like \"2026-03-05\", but it is "
                          f"{feedback.describe(value)}.", WRONG_TYPE)
    return (when.tz_localize(None) if when.tzinfo else when).normalize()


@_recorded("day", "expected")
def day(value: Any, expected: Any = None, *, name: str, mistakes: Mapping[str, Any] | None = None,
        hint: str | None = None) -> None:
    """Check a calendar day ("2026-03-20"); the time of day and the time zone are ignored.

    ``mistakes`` maps a hint to the day a known mistake gives.
    """
    got = day_of(value, name)
    if expected is None or got == day_of(expected, "expected"):
        return
    known = next((h for h, d in (mistakes or {}).items() if got == day_of(d, "mistake")), None)
    raise CheckFailed(wrong_value_message(name, repr(value), known, hint), WRONG_VALUE)


def call(func: Any, *args: Any, name: str, **kwargs: Any) -> Any:
    """Call the trainee's function ``func(*args, **kwargs)`` and return its result.

    An unanswered or non-callable ``func`` fails with its own message; an exception raised
    inside the trainee's code fails with the exception's type and message (kind ``error``).
    """
    answered(func, name)
    if not callable(func):
        raise CheckFailed(f"`{name}` should be a function (def {name}(...): ...), but it is "
                          f"{feedback.describe(func)}.", WRONG_TYPE)
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # the trainee's code: any error becomes feedback
        given = ", ".join(feedback.describe(a) for a in args) or "no arguments"
        raise CheckFailed(f"your function `{name}` raised {type(exc).__name__}: {exc} (it was given {given}). "
                          "Run it yourself on the same input to see where.", ERROR) from None


def decision_message(name: str, result: Any, pass_share: float, where: str) -> str:
    """Feedback on a plan that fell short: its share against the bar, and what happened.

    The share is rounded down to a whole percent, so a plan just short of the bar never reads
    as reaching it ("captured 50 % ... asks for 50 %"). Where the reference plan itself captures
    less than ``pass_share`` (its gain is below the formula's floor), the bar is the reference's
    own share, and the message says so.
    """
    from shopsim.grading.decisions import percent_down

    bar = result.bar(pass_share)
    asks = (f"this part asks for {pass_share:.0%}" if bar >= pass_share else
            f"this part asks for what the reference plan itself captures there, {percent_down(bar)}")
    return (f"`{name}` captured {percent_down(result.share)} of the reference plan's gain over doing nothing {where}; "
            f"{asks}. " + " ".join(result.notes))


@_recorded("decision", "reference")
def decision(value: Any, reference: Any = None, *, name: str, scenario: str, seeds: Sequence[int] = (),
             days: int | None = None, objective: str = "net_profit", at_least: Mapping[str, float] | None = None,
             at_most: Mapping[str, float] | None = None, pass_share: float = 0.5,
             practice_seeds: Sequence[int] = (1,)) -> Any:
    """Check a plan (:mod:`shopsim.plans`); with a ``reference``, grade it by simulation.

    Without ``reference`` only the plan's form is checked (steps, levers, days), running
    nothing. With one, the plan runs on the grading ``seeds`` against doing nothing and the
    reference (:func:`shopsim.grading.decisions.evaluate_plan`) and fails unless its share of
    the reference's gain reaches ``pass_share`` (or the reference's own share, when that is
    lower: :meth:`~shopsim.grading.decisions.DecisionResult.bar`). Give several hidden cases with rising
    ``pass_share`` for partial credit: the runs are cached, so the plan runs once.
    ``practice_seeds`` (seeds the lesson shows) are what the practice copy's instant feedback
    runs on; the grading seeds are never written into the student copy.
    """
    from shopsim import plans
    from shopsim.grading import decisions

    answered(value, name)
    if set(map(int, practice_seeds)) & set(map(int, seeds)):
        raise ValueError(f"the decision check of {name!r} practises on grading seeds "
                         f"{sorted(set(map(int, practice_seeds)) & set(map(int, seeds)))}; keep them apart")
    sc = decisions._scenario(scenario)
    try:
        plans.check(value, days or sc.days, decisions.own_skus(sc))
        if reference is None:
            return None
        result = decisions.evaluate_plan(value, sc, seeds, reference=reference, days=days, objective=objective,
                                         at_least=at_least, at_most=at_most)
    except plans.PlanError as exc:
        raise CheckFailed(f"`{name}`: {exc}", FORMAT) from None
    if result.share < result.bar(pass_share):
        raise CheckFailed(decision_message(name, result, pass_share, "on seeds you have not seen"), WRONG_VALUE)
    return result


def capstone_message(name: str, result: Any, at_least: float, where: str) -> str:
    """Feedback on a capstone policy below a bar: its score, why per seed, and how it failed if it did."""
    if result.status != "ok":
        return f"`{name}` did not finish {where}: {result.reason}. A policy that fails scores 0."
    seeds = "; ".join(f"month {i + 1}: profit {row.profit:,.0f} yuan, {row.why}"
                      for i, row in enumerate(result.table.itertuples()))
    return (f"`{name}` scored {math.floor(result.score * 10) / 10:.1f} of 100 {where}; this part asks for "
            f"{at_least:g}. {seeds}.")


@_recorded("capstone", "at_least")
def capstone(value: Any, at_least: float | None = None, *, name: str, scenario: str, seeds: Sequence[int] = (),
             days: int | None = None, practice_seeds: Sequence[int] = (1,), timeout: float = 60.0) -> Any:
    """Check a capstone policy given as source text defining ``policy(view)``; with ``at_least``, grade it.

    Without ``at_least`` only the form is checked (text that compiles and defines a function
    ``policy``), running nothing. With it, the policy runs in the sandbox on the grading
    ``seeds`` (:func:`shopsim.grading.capstone.evaluate_policy`, cached per policy text) and
    fails unless its score (0 to 100) reaches ``at_least``; give several hidden cases with
    rising bars for partial credit. ``practice_seeds`` are what the practice copy runs on.
    """
    from shopsim.grading import capstone as capstone_mod

    answered(value, name)
    if set(map(int, practice_seeds)) & set(map(int, seeds)):
        raise ValueError(f"the capstone check of {name!r} practises on grading seeds; keep them apart")
    capstone_mod.check_source(value, name)
    if at_least is None:
        return None
    result = capstone_mod.evaluate_cached(value, scenario, tuple(map(int, seeds)), days, timeout)
    if result.score < at_least:
        raise CheckFailed(capstone_message(name, result, at_least, "on seeds you have not seen"), WRONG_VALUE)
    return result
