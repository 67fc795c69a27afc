"""The sandboxed side of a capstone run: calls the trainee's policy on snapshots, returns its actions.

Usage (internal; :mod:`shopsim.grading.capstone` starts it in a sandbox)::

    python -m shopsim.grading.policy_host

The trusted grader owns the simulation. Each simulated morning it wakes this process, and
the policy reads a read-only snapshot of what an operator sees (:class:`PolicyView`: date,
day, SKUs, stock, prices, tables ...; each read is answered with a copy of the data) and
acts by sending actions, as JSON ``[lever, args, kwargs]``; the grader applies each through
the levers or refuses it with a recorded reason. Nothing of the simulator exists in this
process, so a policy can change nothing but the actions it asks for.

Protocol on stdin/stdout, one message per frame (4-byte big-endian length, then the body):
grader -> host bodies are pickles (trusted data, read here), host -> grader bodies are JSON
(``{"read": what, "name": table}``, ``{"act": [lever, args, kwargs]}``, ``{"done": true}``,
``{"error": traceback}``). The policy's own prints go to stderr.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from shopsim.operator import OperatorView

#: Actions one morning may take; the rest are refused by the grader.
MAX_ACTIONS = 500
#: Reads one morning may make (a policy reading in a loop is stopped, not served forever).
MAX_READS = 5_000
#: Largest JSON message the grader reads from the host, bytes.
MAX_MESSAGE = 4 * 1024 * 1024


def send(stream: BinaryIO, body: bytes) -> None:
    """Write one frame."""
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def receive(stream: BinaryIO, limit: int | None = None) -> bytes:
    """Read one frame (EOFError at the end; ValueError when it is larger than ``limit``)."""
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError("the other side closed the pipe")
    size = struct.unpack(">I", head)[0]
    if limit is not None and size > limit:
        raise ValueError(f"a message of {size} bytes (at most {limit})")
    body = stream.read(size)
    if len(body) < size:
        raise EOFError("the other side closed the pipe")
    return body


def _plain(value: Any) -> Any:
    """An action's argument as JSON data (numpy numbers and tuples included)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(getattr(value, "ndim", None), int) and value.ndim > 0:  # a numpy array: its values
        return _plain(value.tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item())
    return repr(value)


class _Tables(Mapping[str, Any]):
    """``view.tables``: a table is asked of the grader when read (kept until the next action)."""

    def __init__(self, view: PolicyView) -> None:
        self._view = view

    def __getitem__(self, name: str) -> Any:
        names = self._view._read("table_names")
        if name not in names:
            raise KeyError(f"no table {name!r}; tables: {', '.join(names)}")
        return self._view._read("table", name).copy()

    def __iter__(self) -> Iterator[str]:
        return iter(self._view._read("table_names"))

    def __len__(self) -> int:
        return len(self._view._read("table_names"))


class PolicyView:
    """What a policy sees in the sandbox: the reads and levers of :class:`~shopsim.operator.OperatorView`.

    Every read is answered by the grader with data (a copy, never a live object); every lever
    call is sent to the grader, which applies it to the simulation or refuses it with a
    recorded reason. A lever returns what the real one returns (a promotion's id ...), or
    ``None`` when the action was refused.
    """

    def __init__(self, ask: Any) -> None:
        self._ask = ask
        self._cache: dict[tuple[str, str], Any] = {}

    def _read(self, what: str, name: str = "") -> Any:
        if (what, name) not in self._cache:
            self._cache[(what, name)] = self._ask({"read": what, "name": name})
        return self._cache[(what, name)]

    date = property(lambda self: self._read("date"), doc="Today's date.")
    day = property(lambda self: self._read("day"), doc="Today's day number (0 = the first day).")
    skus = property(lambda self: list(self._read("skus")), doc="The shop's SKU codes.")
    tables = property(lambda self: _Tables(self), doc="The shop's tables up to now (copies).")

    def stock(self) -> dict[str, int]:
        """Units on hand now, per own SKU."""
        return dict(self._read("stock"))

    def on_order(self) -> dict[str, int]:
        """Units ordered and not yet arrived, per own SKU."""
        return dict(self._read("on_order"))

    def lead_times(self) -> dict[str, int]:
        """Supplier lead time per own SKU, days."""
        return dict(self._read("lead_times"))

    def keywords(self) -> dict[str, float]:
        """The niche's keywords and their ordinary daily searches."""
        return dict(self._read("keywords"))

    def keyword_bids(self) -> dict[str, float]:
        """The shop's current paid-search bid per keyword, yuan per click."""
        return dict(self._read("keyword_bids"))

    def quality_scores(self) -> dict[str, int]:
        """The shop's paid-search quality score (质量分, 1-10) per keyword."""
        return dict(self._read("quality_scores"))

    def campaign(self) -> dict[str, Any]:
        """The running bought traffic: bids, budget, on/off, bid schedules, audience premiums,
        display buys and affiliate commissions (see :meth:`OperatorView.campaign`)."""
        return dict(self._read("campaign"))

    def festivals(self) -> list[dict]:
        """Upcoming and past festivals: name, main_day, min_discount, enrolled."""
        return [dict(f) for f in self._read("festivals")]

    def prices(self) -> dict[str, float]:
        """Current list price per own SKU, yuan."""
        return dict(self._read("prices"))

    def service(self) -> dict[str, Any]:
        """Customer service: rota, prepared answers, refund policy, open refunds and disputes, and
        yesterday's figures (see :meth:`OperatorView.service`)."""
        return dict(self._read("service"))

    def __getattr__(self, name: str) -> Any:
        if name in OperatorView.LEVERS:
            def lever(*args: Any, **kwargs: Any) -> Any:
                self._cache.clear()  # an action may change what the next read shows
                return self._ask({"act": [name, _plain(list(args)), _plain(kwargs)]})
            lever.__name__ = name
            return lever
        raise AttributeError(f"a policy has no {name!r}; it can read date, day, tables, skus, stock(), "
                             "on_order(), lead_times(), prices(), keywords(), keyword_bids(), quality_scores(), "
                             f"campaign(), festivals(), service() and use {', '.join(OperatorView.LEVERS)}")


#: What a policy may read, answered by the grader from the real view (data only).
READS = ("date", "day", "skus", "stock", "on_order", "lead_times", "keywords", "keyword_bids", "quality_scores",
         "campaign", "festivals", "prices", "service", "table_names", "table")


def read(view: OperatorView, what: str, name: str = "") -> Any:
    """Answer a read of the sandboxed policy from the real view (in the grader); ``KeyError`` if unknown."""
    if what == "table_names":
        return list(view.tables)
    if what == "table":
        return view.tables[name]
    if what not in READS:
        raise KeyError(what)
    value = getattr(view, what)
    return value() if callable(value) else (list(value) if what == "skus" else value)


def load_policy(kind: str, payload: Any) -> Any:
    """The trainee's policy from a cloudpickle (made by the grader) or from source defining ``policy``."""
    if kind == "pickle":
        return pickle.loads(payload)  # made by the trusted grader from the trainee's function
    namespace: dict[str, Any] = {"__name__": "trainee_policy"}
    exec(compile(payload, "<policy>", "exec"), namespace)
    policy = namespace.get("policy")
    if not callable(policy):
        raise TypeError("the policy's source must define a function `policy(view)`")
    return policy


def main() -> int:
    """Serve one simulation's mornings until the grader closes stdin."""
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the policy's prints go to stderr, never into the protocol
    incoming = sys.stdin.buffer

    def ask(message: dict[str, Any]) -> Any:
        send(protocol, json.dumps(message).encode())
        return pickle.loads(receive(incoming))  # data from the trusted grader

    try:
        policy = load_policy(*pickle.loads(receive(incoming)))
    except Exception:
        send(protocol, json.dumps({"error": traceback.format_exc(limit=-8)}).encode())
        return 1
    while True:
        try:
            receive(incoming)  # a new morning
        except EOFError:
            return 0
        try:
            policy(PolicyView(ask))
        except BaseException:
            send(protocol, json.dumps({"error": traceback.format_exc(limit=-8)[-4000:]}).encode())
            return 1
        send(protocol, json.dumps({"done": True}).encode())


if __name__ == "__main__":
    sys.exit(main())
