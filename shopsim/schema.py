"""A small typed-schema layer for scenario files: field specs, parsing, problems with paths.

Scenario classes are frozen dataclasses whose fields carry a :func:`spec` (documentation,
unit, allowed range). :func:`parse` turns plain data (from YAML) into those classes and
collects *every* problem with its field path instead of stopping at the first;
:func:`reference` renders the same specs as the Markdown reference in ``docs/scenarios.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import types
import typing
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from shopsim.errors import shown

_MISSING = dataclasses.MISSING
#: The calendar days a scenario may use: real dates in this range (the simulator's clock,
#: Asia/Shanghai at UTC+8, and the tables' timestamps are exact over it).
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
#: Days are calendar days in this timezone; a date-time with another offset is read in it.
TIMEZONE = ZoneInfo("Asia/Shanghai")
_DATE_LIKE = re.compile(r"^\s*\d{1,4}-\d{1,2}-\d{1,2}\s*$")


def spec(
    default: Any = _MISSING,
    *,
    doc: str,
    unit: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    length: int | None = None,
    min_items: int | None = None,
    keys: tuple[str, ...] | None = None,
) -> Any:
    """Declare a scenario field: its default, meaning, unit and allowed values.

    ``min``/``max`` bound numbers (and every value of a number mapping or tuple);
    ``choices`` lists the allowed strings; ``length`` fixes a tuple's length; ``min_items``
    sets the fewest items of a list; ``keys`` lists the allowed keys of a mapping.
    """
    meta = {"doc": doc, "unit": unit, "min": min, "max": max, "choices": choices,
            "length": length, "min_items": min_items, "keys": keys}
    if isinstance(default, (list, dict)):
        frozen = tuple(default) if isinstance(default, list) else types.MappingProxyType(default)
        return dataclasses.field(default_factory=lambda: frozen, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return f"{_type_name(args[0])} or null"
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (dict, Mapping):
        return f"mapping of text to {_type_name(typing.get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return {str: "text", int: "whole number", float: "number", bool: "true/false",
            dt.date: f"date (YYYY-MM-DD, {FIRST_DATE} to {LAST_DATE})"}.get(tp, str(tp))


def _range_text(meta: Mapping[str, Any]) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}"
    if lo is not None:
        return f"at least {lo:g}"
    if hi is not None:
        return f"at most {hi:g}"
    return ""


class _Parser:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(top)'}: {message}")

    def value(self, tp: Any, data: Any, path: str, meta: Mapping[str, Any]) -> Any:
        origin = typing.get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            if data is None:
                return None
            inner = [a for a in typing.get_args(tp) if a is not type(None)][0]
            return self.value(inner, data, path, meta)
        if dataclasses.is_dataclass(tp):
            return self.record(tp, data, path)
        if origin is tuple:
            return self.sequence(typing.get_args(tp)[0], data, path, meta)
        if origin in (dict, Mapping):
            return self.mapping(typing.get_args(tp)[1], data, path, meta)
        return self.scalar(tp, data, path, meta)

    def scalar(self, tp: Any, data: Any, path: str, meta: Mapping[str, Any]) -> Any:
        want = _type_name(tp)
        if tp is bool:
            if not isinstance(data, bool):
                return self.fail(path, f"{shown(data)} is not {want}")
            return data
        if tp in (int, float):
            return self.number(tp, data, path, meta)
        if tp is dt.date:
            return self.date(data, path)
        if tp is str:
            if not isinstance(data, str) or not data.strip():
                return self.fail(path, f"{shown(data)} is not a non-empty text{_quote_hint(data)}")
            choices = meta.get("choices")
            if choices and data not in choices:
                return self.fail(path, f"{shown(data)} is not allowed; choose one of {', '.join(choices)}")
            return data
        raise TypeError(f"schema: unsupported field type {tp!r} at {path}")

    def number(self, tp: type, data: Any, path: str, meta: Mapping[str, Any]) -> Any:
        want = _type_name(tp)
        ok = isinstance(data, int) and not isinstance(data, bool)
        if tp is float:
            ok = ok or isinstance(data, float)
        if not ok:
            whole = " (no decimals)" if tp is int and isinstance(data, float) else ""
            return self.fail(path, f"{shown(data)} is not a {want}{whole}")
        if data != data:  # NaN
            return self.fail(path, f"NaN is not allowed; give a {want}")
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and data < lo) or (hi is not None and data > hi):
            unit = f" {meta['unit']}" if meta.get("unit") else ""
            return self.fail(path, f"{shown(data)} is out of range; allowed {_range_text(meta)}{unit}")
        return tp(data)

    def date(self, data: Any, path: str) -> Any:
        """A real calendar day from FIRST_DATE to LAST_DATE (a date-time is read in Asia/Shanghai)."""
        allowed = f"write YYYY-MM-DD, a real day from {FIRST_DATE} to {LAST_DATE}"
        if isinstance(data, str) and _DATE_LIKE.match(data):
            try:
                y, m, d = (int(x) for x in data.strip().split("-"))
                data = dt.date(y, m, d)
            except ValueError:
                return self.fail(path, f"{shown(data)} is not a real calendar day; {allowed}")
        elif isinstance(data, dt.datetime):
            data = (data.astimezone(TIMEZONE) if data.tzinfo is not None else data).date()
        if not isinstance(data, dt.date):
            return self.fail(path, f"{shown(data)} is not a date; {allowed} (days are Asia/Shanghai "
                                   "calendar days; no time or timezone)")
        if not FIRST_DATE <= data <= LAST_DATE:
            return self.fail(path, f"{data} is outside the supported dates; {allowed}")
        return data

    def sequence(self, item: Any, data: Any, path: str, meta: Mapping[str, Any]) -> Any:
        if not isinstance(data, (list, tuple)):
            return self.fail(path, f"expected a list of {_type_name(item)}, got {type(data).__name__}")
        length, fewest = meta.get("length"), meta.get("min_items")
        if length is not None and len(data) != length:
            return self.fail(path, f"has {len(data)} values; exactly {length} are needed")
        if fewest is not None and len(data) < fewest:
            return self.fail(path, f"has {len(data)} items; at least {fewest} are needed")
        item_meta = meta if not dataclasses.is_dataclass(item) else {}
        return tuple(self.value(item, v, f"{path}[{i}]", item_meta) for i, v in enumerate(data))

    def mapping(self, value_tp: Any, data: Any, path: str, meta: Mapping[str, Any]) -> Any:
        if not isinstance(data, Mapping):
            return self.fail(path, f"expected a mapping, got {type(data).__name__}")
        allowed = meta.get("keys")
        out = {}
        for key, v in data.items():
            if not isinstance(key, str):
                self.fail(path, f"key {shown(key)} is not text{_quote_hint(key)}")
                continue
            if allowed and key not in allowed:
                self.fail(field_path(path, key), f"unknown key; allowed: {', '.join(allowed)}")
                continue
            out[key] = self.value(value_tp, v, field_path(path, key), meta)
        return types.MappingProxyType(out)

    def record(self, cls: type, data: Any, path: str) -> Any:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            return self.fail(path, f"expected a mapping of {cls.__name__} fields, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = _hints(cls)
        before = len(self.problems)
        for key in data:
            if key not in fields:
                self.fail(field_path(path, str(key)), f"unknown key; allowed: {', '.join(fields)}")
        values = {}
        for name, field in fields.items():
            sub = field_path(path, name)
            if name in data:
                values[name] = self.value(hints[name], data[name], sub, field.metadata)
                values[name] = _fill_mapping(field, values[name])
            elif field.default is _MISSING and field.default_factory is _MISSING:
                self.fail(sub, f"is required ({_type_name(hints[name])}: {field.metadata['doc']})")
        if len(self.problems) > before:
            return None  # something in this record (however deep) is wrong: build nothing
        try:
            return cls(**values)
        except TypeError:
            return None


def _quote_hint(data: Any) -> str:
    """A hint for YAML that read a name as a number, a date or true/false (``name: 618``)."""
    if isinstance(data, bool):
        return "; YAML reads yes/no/on/off/true/false as true/false: put text in quotes ('yes')"
    if isinstance(data, (int, float, dt.date)):
        kind = "a date" if isinstance(data, dt.date) else "a number"
        return f"; YAML read {shown(data)} as {kind}: put it in quotes ('{shown(data)}') to use it as text"
    return ""


def _fill_mapping(field: dataclasses.Field, value: Any) -> Any:
    """A mapping with a fixed key set keeps the defaults of the keys it does not name."""
    if not isinstance(value, Mapping) or field.default_factory is _MISSING:
        return value
    default = field.default_factory()
    if not isinstance(default, Mapping) or not field.metadata.get("keys"):
        return value
    return types.MappingProxyType({**default, **value})


def _optional(tp: Any) -> bool:
    return type(None) in typing.get_args(tp)


def field_path(path: str, name: str) -> str:
    """``path.name``, with a long ``name`` (a key a user wrote) cut to 40 characters."""
    name = name if len(name) <= 40 else name[:37] + "..."  # a key a user wrote, echoed short
    return f"{path}.{name}" if path else name


def parse(cls: type, data: Any) -> tuple[Any, list[str]]:
    """Build ``cls`` from plain data; return ``(object or None, problems)``."""
    parser = _Parser()
    obj = parser.record(cls, data, "")
    return obj, parser.problems


def reference(cls: type, title: str | None = None, _seen: set | None = None) -> str:
    """Markdown reference tables for ``cls`` and every record type it contains."""
    seen = _seen if _seen is not None else set()
    seen.add(cls)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    lines = [f"### `{title or cls.__name__}`", "", doc, "",
             "| key | type | default | allowed | unit | meaning |",
             "| --- | --- | --- | --- | --- | --- |"]
    nested = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        meta = f.metadata
        if f.default is not _MISSING:
            default = _show(f.default)
        elif f.default_factory is not _MISSING:
            default = _show(f.default_factory())
        else:
            default = "required"
        allowed = ", ".join(meta.get("choices") or meta.get("keys") or ()) or _range_text(meta)
        if meta.get("length"):
            allowed = f"{meta['length']} values " + allowed
        lines.append(f"| `{f.name}` | {_type_name(tp)} | {default} | {allowed} | "
                     f"{meta.get('unit', '')} | {meta.get('doc', '')} |")
        for inner in _records_in(tp):
            if inner not in seen:
                nested.append(inner)
                seen.add(inner)
    parts = ["\n".join(lines)]
    parts += [reference(inner, _seen=seen) for inner in nested]
    return "\n\n".join(parts)


def _plain(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        return "(" + ", ".join(f"{f.name} {_plain(getattr(value, f.name))}" for f in dataclasses.fields(value)) + ")"
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _records_in(tp: Any) -> list[type]:
    if dataclasses.is_dataclass(tp):
        return [tp]
    out = []
    for arg in typing.get_args(tp):
        out += _records_in(arg)
    return out


def _show(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        return "see below"
    if isinstance(value, (tuple, list)):
        if not value:
            return "`[]`"
        if all(isinstance(v, (int, float)) for v in value):
            return "`[" + ", ".join(f"{v:g}" for v in value) + "]`"
        return "see below"
    if isinstance(value, Mapping):
        return "`{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}`" if value else "`{}`"
    if value == "":
        return '`""`'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"
