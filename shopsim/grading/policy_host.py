"""The sandboxed side of a capstone run: calls the trainee's policy on snapshots, returns its actions.

Usage (internal; :mod:`shopsim.grading.capstone` starts it in a sandbox, loading this file by
its path, :data:`BOOT`, so that the server does not import the simulator)::

    python -c "$BOOT" /path/to/shopsim/grading/policy_host.py

The trusted grader owns the simulation. Each simulated morning it wakes the policy, and the
policy reads a read-only snapshot of what an operator sees (:class:`PolicyView`: date, day,
SKUs, stock, prices, tables ...; each read is answered with a copy of the data) and acts by
sending actions, as JSON ``[lever, args, kwargs]``; the grader applies each through the
levers or refuses it with a recorded reason. Nothing of the simulator exists in this
process, so a policy can change nothing but the actions it asks for.

One sandbox serves all the seeds of one policy (its start-up, mostly importing pandas for a
policy that may read tables, is paid once: :func:`_preload`). This process, the *seed server*
(:func:`main`), never runs the trainee's code: for each seed it forks a fresh *seed process*
that loads the policy from its payload and serves that seed's mornings, so every seed starts
from the same state, as if it had its own sandbox. When the seed process ends, the server kills
every process it left behind (the server is their subreaper), empties the scratch folders (the
work folder, and the private ``/tmp`` and ``/dev/shm`` of the sandbox) and tells the grader how
the seed process ended on a control pipe that the seed process does not hold, so a policy cannot
forge the end of a seed. The server is not dumpable: a seed process (same user) cannot trace it
or open its files.

Protocol, one message per frame (4-byte big-endian length, then the body). Grader -> host
bodies are pickles (trusted data, read here) on stdin: first the policy's payload (read by
the server), then per seed ``("seed", n)`` (read by the server), ``("morning", day, reads)``
(:func:`morning_reads`) and the answers to reads (read by the seed process), and ``("end",)``,
which ends the seed process.
Seed process -> grader bodies are JSON on stdout (``{"read": what, "name": table}``,
``{"act": [lever, args, kwargs]}``, ``{"done": true}``, ``{"error": traceback}``). Server ->
grader bodies are JSON on the control pipe (``{"ended": exit code}``, negative for a
signal). The policy's own prints go to stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
import shutil
import signal
import struct
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the server and its seed processes run without the simulator (see BOOT)
    from shopsim.operator import OperatorView

#: Actions one morning may take; the rest are refused by the grader.
MAX_ACTIONS = 500
#: Reads one morning may make (a policy reading in a loop is stopped, not served forever).
MAX_READS = 5_000
#: Largest JSON message the grader reads from the host, bytes.
MAX_MESSAGE = 4 * 1024 * 1024
#: Environment variables the grader sets for the server: the control pipe's descriptor, the
#: scratch folders emptied after each seed (separated by ``os.pathsep``), and the levers' names
#: (:data:`shopsim.operator.OperatorView.LEVERS`, separated by commas).
CONTROL_FD, SCRATCH, LEVERS = "SHOPSIM_CONTROL_FD", "SHOPSIM_SCRATCH", "SHOPSIM_LEVERS"
#: What the sandboxed server runs (``python -c BOOT PATH``, PATH being this file): this module
#: loaded from its file under its own name, without importing the ``shopsim`` package (the
#: simulator, which a policy's seeds do not need; a policy that imports shopsim still can).
BOOT = ("import importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('shopsim.grading.policy_host', sys.argv[1]); "
        "host = sys.modules[spec.name] = importlib.util.module_from_spec(spec); "
        "spec.loader.exec_module(host); sys.exit(host.main())")


def send(fd: int, body: bytes) -> None:
    """Write one frame to the file descriptor ``fd``."""
    data = memoryview(struct.pack(">I", len(body)) + body)
    while data:
        data = data[os.write(fd, data):]


def _exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, limit: int | None = None) -> bytes:
    """Read one frame from ``fd``, never a byte more (EOFError at the end; ValueError over ``limit``).

    Reading no further than the frame lets the server and a seed process take turns on one pipe.
    """
    size = struct.unpack(">I", _exactly(fd, 4))[0]
    if limit is not None and size > limit:
        raise ValueError(f"a message of {size} bytes (at most {limit})")
    return _exactly(fd, size)


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

    Every read is answered by the grader with data (a copy, never a live object): the small
    reads come with the morning's wake-up (:func:`morning_reads`), the tables when asked, and
    after an action every read is asked again. Every lever call is sent to the grader, which
    applies it to the simulation or refuses it with a recorded reason. A lever returns what the
    real one returns (a promotion's id ...), or ``None`` when the action was refused.
    """

    def __init__(self, ask: Any, known: Mapping[str, Any] | None = None) -> None:
        self._ask = ask
        self._cache: dict[tuple[str, str], Any] = {(what, ""): value for what, value in (known or {}).items()}

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
        if name in _levers():
            def lever(*args: Any, **kwargs: Any) -> Any:
                self._cache.clear()  # an action may change what the next read shows
                return self._ask({"act": [name, _plain(list(args)), _plain(kwargs)]})
            lever.__name__ = name
            return lever
        raise AttributeError(f"a policy has no {name!r}; it can read date, day, tables, skus, stock(), "
                             "on_order(), lead_times(), prices(), keywords(), keyword_bids(), quality_scores(), "
                             f"campaign(), festivals(), service() and use {', '.join(_levers())}")


@functools.cache
def _levers() -> tuple[str, ...]:
    """The levers' names: from the grader in the sandbox (:data:`LEVERS`), else :class:`OperatorView`'s."""
    if os.environ.get(LEVERS):
        return tuple(os.environ[LEVERS].split(","))
    from shopsim.operator import OperatorView

    return OperatorView.LEVERS


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


def morning_reads(view: OperatorView) -> dict[str, Any]:
    """Every read but the tables, sent with each morning's wake-up (they take well under a millisecond).

    A policy then asks the grader only for tables and after its own actions, which saves a
    round trip between two processes per read (most of a cheap policy's cost in the sandbox).
    """
    return {what: read(view, what) for what in READS if what != "table"}


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


def _serve_seed(payload: tuple[str, Any], protocol: int) -> int:
    """In a seed process: load the policy afresh and serve mornings until the grader says ``end``."""

    def ask(message: dict[str, Any]) -> Any:
        send(protocol, json.dumps(message).encode())
        return pickle.loads(receive(0))  # data from the trusted grader

    try:
        policy = load_policy(*payload)
    except Exception:
        send(protocol, json.dumps({"error": traceback.format_exc(limit=-8)[-4000:]}).encode())
        return 1
    while True:
        message = pickle.loads(receive(0))  # ("morning", day, morning reads) or ("end",)
        if message[0] == "end":
            return 0
        try:
            policy(PolicyView(ask, message[2]))
        except BaseException:
            send(protocol, json.dumps({"error": traceback.format_exc(limit=-8)[-4000:]}).encode())
            return 1
        send(protocol, json.dumps({"done": True}).encode())


def _harden() -> None:
    """Make this server untraceable by its seed processes and the subreaper of all they start (Linux)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/PID/fd or mem of this process
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans of a seed become our children


def _descendants() -> list[int]:
    """Processes below this one (from ``/proc``; orphans are ours, being the subreaper)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            parent[int(stat.parent.name)] = int(text[text.rindex(")") + 2:].split()[1])
    found, frontier = [], [os.getpid()]
    while frontier:
        below = [pid for pid, ppid in parent.items() if ppid in frontier]
        found += below
        frontier = below
    return found


def _end_leftovers() -> None:
    """Kill every process a seed left behind and reap them all."""
    for _ in range(100):
        left = _descendants()
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        if not left:
            return
    raise RuntimeError("processes left by the policy could not be ended")


def _empty(folders: Sequence[str]) -> None:
    """Remove what a seed wrote in the scratch folders (the folders themselves stay)."""
    for folder in folders:
        for entry in Path(folder).iterdir() if Path(folder).is_dir() else ():
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    for inner, _, _ in os.walk(entry):
                        with contextlib.suppress(OSError):
                            os.chmod(inner, 0o700)  # a folder the policy made unreadable
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()


def _exit_code(status: int) -> int:
    """A wait status as :mod:`subprocess` reports it: the exit code, or minus the signal."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _preload(payload: tuple[str, Any]) -> None:
    """Import in the server what every seed process would otherwise import anew.

    pandas (0.6 s of CPU, most of a sandbox's start-up) when the policy may read tables (they
    arrive as DataFrames) or use numpy or pandas itself (:func:`wants_pandas`), cloudpickle for
    a pickled policy, and ``shopsim`` (the simulator) only when the policy's payload names it (a
    plan's policy imports ``shopsim.plans``). Nothing of the payload runs here; a payload that
    is not (kind, text or bytes) fails in the seed process, as it would without this.
    """
    kind, data = payload if isinstance(payload, tuple) and len(payload) == 2 else ("", "")
    text = data.encode("utf-8", "replace") if isinstance(data, str) else data if isinstance(data, bytes) else b""
    if wants_pandas(text):
        import pandas  # noqa: F401
    if kind == "pickle":
        import cloudpickle  # noqa: F401
    if b"shopsim" in text:
        import shopsim  # noqa: F401


#: Words in a policy's payload (its source, or the names its pickled code uses) that say it may
#: read a table or use numpy or pandas.
_PANDAS_WORDS = (b"tables", b"pandas", b"numpy")


def wants_pandas(payload: bytes) -> bool:
    """Whether a policy's payload names tables, pandas or numpy, so its seed processes should
    find pandas imported. A policy that reads a table without naming it (``getattr(view, name)``)
    still gets it: its seed process imports pandas when the first table arrives, at that seed's cost."""
    return any(word in payload for word in _PANDAS_WORDS)


def main() -> int:
    """Serve the seeds the grader asks for, each in a fresh seed process, until it closes stdin."""
    control = int(os.environ[CONTROL_FD])
    scratch = [f for f in os.environ.get(SCRATCH, "").split(os.pathsep) if f]
    _harden()
    protocol = os.dup(1)
    os.dup2(2, 1)  # the policy's prints go to stderr, never into the protocol
    payload = pickle.loads(receive(0))  # (kind, data), loaded only in each seed process
    _preload(payload)
    while True:
        try:
            pickle.loads(receive(0))  # ("seed", n)
        except EOFError:
            return 0
        pid = os.fork()
        if pid == 0:  # the seed process: only it runs the trainee's code
            os.close(control)
            code = 1
            try:
                code = _serve_seed(payload, protocol)
            finally:
                os._exit(code)
        code = _exit_code(os.waitpid(pid, 0)[1])
        _end_leftovers()
        _empty(scratch)
        send(control, json.dumps({"ended": code}).encode())


if __name__ == "__main__":
    sys.exit(main())
