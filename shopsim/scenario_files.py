"""Scenario files: reading YAML safely, ``extends`` chains, ``--set`` overrides, and where each value came from.

A scenario file is text an instructor (or anyone) wrote, so it is read defensively:

- at most :data:`MAX_BYTES` of UTF-8 text;
- the raw text is checked for runaway bracket nesting *before* the YAML parser sees it, and
  the parser's event stream is checked for nesting deeper than :data:`MAX_DEPTH`, more than
  :data:`MAX_ALIASES` aliases and aliases expanding past :data:`MAX_NODES` values, *before*
  anything is built from it (deep nesting crashes libyaml; an alias bomb eats memory);
- every failure of the parser or of a YAML tag (``!!float abc``) becomes one
  :class:`~shopsim.errors.ScenarioError` with its line; dates stay text for the schema to check.

``extends:`` names a bundled scenario or a ``.yaml`` file *relative to the extending file*,
inside the folder of the file being loaded (or a ``root`` the caller gives); chains are
followed iteratively up to :data:`MAX_EXTENDS` files. Each merged value remembers the file
(and path in that file) it came from, so a problem is reported against the file that holds
it, with that file's own list indices; values set by ``--set`` are reported against the
override.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from shopsim.errors import ScenarioError, shown

MAX_BYTES = 2_000_000  # a bundled scenario is about 20 kB
MAX_DEPTH = 40  # nesting levels; a scenario needs 7
MAX_BRACKETS = 20_000  # [ and { in the raw text
MAX_ALIASES = 200
MAX_NODES = 500_000  # values after aliases are expanded
MAX_EXTENDS = 16  # files in one extends chain
MAX_OVERRIDE_PARTS = 12  # names in one --set path
SUFFIXES = (".yaml", ".yml")
#: Lists merged item by item on this id when a file extends another (other lists replace).
MERGE_KEYS = {"skus": "sku", "keywords": "keyword", "rivals": "shop", "offers": "sku"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_INDEX = re.compile(r"^[0-9]{1,9}$")

Where = tuple[Any, ...]  # a path into plain data: mapping keys and list indices


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml when available), with dates kept as text and tag errors located."""


def _located(construct: Any) -> Any:
    def run(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError):
            tag = str(node.tag).rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {shown(getattr(node, 'value', ''))} as {tag}", node.start_mark) from None
    return run


for _tag, _construct in list(_Loader.yaml_constructors.items()):
    _Loader.add_constructor(_tag, _located(_construct))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


class _TooBig(Exception):
    """The text is beyond one of the reading limits (the message says which)."""


def preset_dir() -> Path:
    """The folder of the bundled scenarios."""
    return Path(str(resources.files("shopsim") / "scenarios"))


def presets() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


# -- reading one file ----------------------------------------------------------------------------
def read(path: Path, source: str) -> dict[str, Any]:
    """Read one scenario (or recipe) file: a mapping, or one :class:`ScenarioError` saying why not."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError([f"the file has {size:,} bytes; a scenario file may have at most {MAX_BYTES:,}"],
                                source)
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([f"cannot read the file: {exc.strerror or type(exc).__name__}"], source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"byte {exc.start + 1} is not UTF-8 text; save the file as UTF-8"], source) from None
    data = parse_text(text, source)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError([f"the file must hold a mapping of scenario keys, not a {type(data).__name__}"],
                            source)
    return data


def parse_text(text: str, source: str) -> Any:
    """Plain data from YAML text, within the limits above (:class:`ScenarioError` otherwise)."""
    try:
        _check_raw(text)
        _check_events(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except _TooBig as exc:
        raise ScenarioError([str(exc)], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ScenarioError([f"{where}not valid YAML ({shown(str(problem), 120).strip(chr(39))})"],
                            source) from None
    except Exception as exc:  # anything else the parser may raise (a recursion, memory): still one error
        raise ScenarioError([f"cannot be read as YAML ({type(exc).__name__})"], source) from None


def _check_raw(text: str) -> None:
    """Reject runaway bracket nesting before libyaml sees the text (its composer recurses in C)."""
    if len(text) > MAX_BYTES:
        raise _TooBig(f"the text has {len(text):,} characters; at most {MAX_BYTES:,} are allowed")
    opened = text.count("[") + text.count("{")
    if opened > MAX_BRACKETS:
        raise _TooBig(f"{opened:,} opening brackets; a scenario has at most {MAX_BRACKETS:,}")
    depth = deepest = 0
    for ch in re.findall(r"[\[\]{}]", text):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise _TooBig(f"brackets nest {deepest} deep; at most {MAX_DEPTH} levels are allowed")


def _check_events(text: str) -> None:
    """Depth, alias count and expanded size from the parser's events, before any node is built."""
    stack: list[list[Any]] = []  # per open collection: [anchor, values before it, tallest child]
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)
    aliases = values = 0

    def child(height: int) -> None:
        if stack:
            stack[-1][2] = max(stack[-1][2], height)

    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if event.anchor not in sizes:
                raise _TooBig(f"line {line}: the alias *{shown(event.anchor)} refers to a value that contains it")
            n, height = sizes[event.anchor]
            values += n
            child(height)
            if len(stack) + height > MAX_DEPTH:
                raise _TooBig(f"line {line}: nesting deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.ScalarEvent):
            values += 1
            child(1)
            if event.anchor:
                sizes[event.anchor] = (1, 1)
        elif isinstance(event, yaml.CollectionStartEvent):
            values += 1
            stack.append([event.anchor, values, 0])
            if len(stack) > MAX_DEPTH:
                raise _TooBig(f"line {line}: nesting deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, first, tallest = stack.pop()
            child(tallest + 1)
            if anchor:
                sizes[anchor] = (values - first + 1, tallest + 1)
        if aliases > MAX_ALIASES:
            raise _TooBig(f"line {line}: more than {MAX_ALIASES} aliases (*name)")
        if values > MAX_NODES:
            raise _TooBig(f"line {line}: more than {MAX_NODES:,} values once aliases are expanded")


# -- extends ----------------------------------------------------------------------------------------
@dataclass
class Layered:
    """Merged scenario data and, for the parts that came from somewhere, where: merged path ->
    (source, path in that source, or None for a ``--set`` override)."""

    data: dict[str, Any]
    origin: dict[Where, tuple[str, Where | None]] = field(default_factory=dict)

    def place(self, at: Where, source: str, src: Where | None) -> None:
        """Record that everything under ``at`` now comes from ``source`` (at ``src`` there)."""
        for q in [q for q in self.origin if q[: len(at)] == at]:
            del self.origin[q]
        self.origin[at] = (source, src)

    def locate(self, problem: str, top: str) -> tuple[str, str]:
        """``(source, problem)`` with the problem's path rewritten into the source's own indices."""
        path_text, sep, message = problem.partition(": ")
        where = _parse_path(path_text) if sep else None
        if where is None:
            return top, problem
        for n in range(len(where), -1, -1):
            found = self.origin.get(where[:n])
            if found is not None:
                source, src = found
                if src is None:  # a --set override: keep the merged path, name the override
                    return source, problem
                return source, f"{format_path(src + where[n:])}: {message}"
        return top, problem


def format_path(where: Where) -> str:
    """``("skus", 1, "price")`` -> ``skus[1].price`` (``(top)`` for the empty path)."""
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _parse_path(text: str) -> Where | None:
    if text == "(top)":
        return ()
    parts: list[Any] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts) if format_path(tuple(parts)) == text else None


def resolve(name_or_path: str | Path, root: str | Path | None = None) -> tuple[Layered, str]:
    """Read a bundled scenario or a file and every file it extends; merge them, oldest first.

    Returns the merged data (with origins) and the name of the scenario's source.
    """
    path, source = _top(name_or_path)
    chain_top = source
    confine = Path(root).resolve() if root is not None else path.parent.resolve()
    chain: list[tuple[dict[str, Any], str]] = []
    seen: set[Path] = set()
    while True:
        identity = path.resolve()
        if identity in seen:
            raise ScenarioError([f"extends: loops back to {source} (a file cannot extend itself, even indirectly)"],
                                source)
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError([f"extends: a chain of more than {MAX_EXTENDS} files"], chain[0][1])
        seen.add(identity)
        data = read(path, source)
        parent = data.pop("extends", None)
        chain.append((data, source))
        if parent is None:
            break
        path, source = _parent(parent, path, source, confine)
    data, first = chain.pop()
    layered = Layered(data, {(): (first, ())})  # freshly read: nobody else holds it
    while chain:
        over, over_source = chain.pop()
        placed: list[tuple[Where, Where]] = []
        layered.data = merge(layered.data, over, placed=placed)
        for at, src in placed:
            layered.place(at, over_source, src)
    return layered, chain_top


def _top(name_or_path: str | Path) -> tuple[Path, str]:
    text = str(name_or_path)
    if _NAME.match(text):
        preset = preset_dir() / f"{text}.yaml"
        if preset.is_file():
            return preset, text
    path, source = Path(text), shown(text, 200)[1:-1]
    if not path.is_file():
        raise ScenarioError([f"no such file or bundled scenario; bundled: {', '.join(presets())}"], source)
    if path.suffix.lower() not in SUFFIXES:
        raise ScenarioError(["is not a .yaml or .yml file (a scenario file is YAML)"], source)
    return path, text


def _parent(text: Any, child: Path, child_source: str, confine: Path) -> tuple[Path, str]:
    """The file ``extends: text`` names, relative to ``child``'s folder and inside ``confine``."""
    def fail(why: str) -> ScenarioError:
        return ScenarioError([f"extends: {shown(text)} {why}"], child_source)

    if not isinstance(text, str) or not text.strip():
        raise fail("is not a scenario name or file; give a .yaml file path relative to this file or a bundled "
                   f"name: {', '.join(presets())}")
    if _NAME.match(text) and (preset_dir() / f"{text}.yaml").is_file():
        return preset_dir() / f"{text}.yaml", text
    path = Path(text)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", text):
        raise fail("is an absolute path; write the parent's path relative to this file")
    if path.suffix.lower() not in SUFFIXES:
        # what is allowed first: a long list of bundled names is cut at the end of the line
        raise fail(f"is neither a bundled scenario nor a .yaml file; bundled: {', '.join(presets())}")
    target = child.parent / path
    if not target.resolve().is_relative_to(confine):
        raise fail(f"is outside {confine}; parent files must sit in the folder of the scenario being "
                   "loaded or below it (load it with root=... / --root to allow a wider folder)")
    if not target.is_file():
        raise fail("names no such file (paths are relative to the extending file)")
    return target, str(target)


def merge(base: Any, over: Any, key: str = "", *, placed: list[tuple[Where, Where]] | None = None,
          at: Where = (), src: Where = ()) -> Any:
    """Deep-merge ``over`` onto ``base``: mappings merge, keyed lists merge by id, others replace.

    Lists of SKUs, keywords, rivals and rival offers merge item by item on their id
    (``sku``, ``keyword``, ``shop``): an item with a known id overrides that item, a new id
    is appended. Every other list (the timeline, shapes) replaces the parent's. Neither input
    is changed. ``placed`` (if given) receives ``(path in the result, path in over)`` for every
    part of ``over`` that replaced or added a value.
    """
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = (merge(base[k], v, k, placed=placed, at=at + (k,), src=src + (k,)) if k in base
                      else _fresh(v, placed, at + (k,), src + (k,)))
        return out
    id_key = MERGE_KEYS.get(key)
    if id_key and isinstance(base, list) and isinstance(over, list) and all(
            isinstance(i, dict) and isinstance(i.get(id_key), str) for i in base + over):
        out = [copy.deepcopy(i) for i in base]
        index = {i[id_key]: n for n, i in enumerate(out)}
        for j, item in enumerate(over):
            if item[id_key] in index:
                n = index[item[id_key]]
                out[n] = merge(out[n], item, placed=placed, at=at + (n,), src=src + (j,))
            else:
                index[item[id_key]] = len(out)
                out.append(_fresh(item, placed, at + (len(out),), src + (j,)))
        return out
    return _fresh(over, placed, at, src)


def _fresh(value: Any, placed: list[tuple[Where, Where]] | None, at: Where, src: Where) -> Any:
    if placed is not None:
        placed.append((at, src))
    return copy.deepcopy(value)


# -- overrides ----------------------------------------------------------------------------------------
def apply_overrides(layered: Layered, overrides: Iterable[str], source: str) -> None:
    """Apply ``path.to.field=VALUE`` strings to ``layered`` (in place); one :class:`ScenarioError`
    lists every override that cannot be applied, and then nothing is changed."""
    if isinstance(overrides, (str, bytes)) or not isinstance(overrides, Iterable):
        raise ScenarioError([f"overrides must be a list of 'path=VALUE' strings, not {shown(overrides)}"], source)
    overrides = list(overrides)
    if not overrides:
        return
    data = copy.deepcopy(layered.data)
    problems: list[str] = []
    placed: list[tuple[Where, str]] = []
    for text in overrides:
        if not isinstance(text, str):
            problems.append(f"--set {shown(text)}: write a text path.to.field=VALUE, e.g. skus.TEE-01.price=79")
            continue
        path_text, sep, value_text = text.partition("=")
        parts = [p.strip() for p in path_text.split(".")]
        label = f"--set {shown(path_text.strip(), 60)[1:-1]}"
        if not sep or not all(parts):
            problems.append(f"--set {shown(text, 60)}: write path.to.field=VALUE, e.g. skus.TEE-01.price=79")
            continue
        if len(parts) > MAX_OVERRIDE_PARTS:
            problems.append(f"{label}: a path has at most {MAX_OVERRIDE_PARTS} names")
            continue
        try:
            value = parse_text(value_text, label) if value_text.strip() else ""
        except ScenarioError as exc:
            if "not valid YAML" not in exc.problems[0]:
                problems.append(f"{label}: the value: {exc.problems[0]}")
                continue
            value = value_text  # not YAML: taken as text
        problem, where = _set_path(data, parts, value)
        if problem:
            problems.append(f"{label}: {problem}")
        else:
            placed.append((where, label))
    if problems:
        raise ScenarioError(problems, source)
    layered.data = data
    for where, label in placed:
        layered.place(where, label, None)


def _set_path(node: Any, parts: list[str], value: Any) -> tuple[str | None, Where]:
    where: list[Any] = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            found = _list_item(node, part)
            if found is None:
                return f"{shown(part)} is neither an index (0-{len(node) - 1}) nor an id in that list", ()
            where.append(found)
            if last:
                node[found] = value
                return None, tuple(where)
            node = node[found]
        elif isinstance(node, dict):
            where.append(part)
            if last:
                node[part] = value
                return None, tuple(where)
            node = node.setdefault(part, {})
        else:
            return f"{'.'.join(parts[:depth])} is a value, not a section", ()
    return None, tuple(where)


def _list_item(items: list[Any], part: str) -> int | None:
    if _INDEX.match(part):
        return int(part) if int(part) < len(items) else None
    for n, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("sku"), item.get("keyword"), item.get("shop")):
            return n
    return None
