"""Capstone evaluation: a trainee's policy against the reference policies over several seeds.

The simulation always runs here, in the trusted process. The trainee's policy runs in its
own sandboxed process (:mod:`~shopsim.grading.sandbox`, :mod:`~shopsim.grading.policy_host`):
each morning it receives a read-only snapshot of what an operator sees and returns a list of
actions, which the simulator applies through the levers, refusing bad ones with a recorded
reason (a refused action does not fail the seed). No object of the simulator is reachable
from the policy, so it cannot change costs, stock or the books. A policy that loops forever,
exits or crashes costs at most ``timeout`` seconds per seed; the report names the seed, the
simulated day and the traceback. The reference policies are looked up by name in
:mod:`shopsim.policies` (those that exist are used) and run once per (scenario, seed, days)
per process (:func:`reference_profit`). :func:`evaluate_seed` is one sandboxed run, for
callers that spread seeds over workers.

Score (0 to 100): on each seed the trainee's net profit is placed between the reference
policies' profits on the same seed (:mod:`~shopsim.grading.capstone_scale`): 0 points at
``do_nothing``'s profit, 60 at ``rule_based``'s, 100 at ``tuned``'s, straight lines between,
capped at 0 and 100. The score is the mean over seeds. A policy that raises, runs too long or
ends the process scores 0, with the reason.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import html
import inspect
import json
import os
import pickle
import select
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import shopsim
from shopsim import policies
from shopsim.errors import ShopsimError
from shopsim.grading import capstone_scale, policy_host, sandbox
from shopsim.operator import OperatorView

if TYPE_CHECKING:
    from distributed import Client

REFERENCES: tuple[str, ...] = ("do_nothing", "rule_based", "tuned")
#: Seconds the seed server may take to end a seed's processes and empty its folders after the last morning.
END_GRACE = 10.0
#: What the sandboxed policy process runs: policy_host's file, loaded without the shopsim package.
HOST_MAIN = policy_host.BOOT


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate_policy`.

    ``table`` has one row per seed: ``seed``, ``profit`` (the trainee's net profit, yuan),
    one column of net profit per reference policy (yuan), ``points`` (0 to 100) and ``why``
    (where the profit falls between the references, and the points that gives).
    ``refusals`` lists the actions the simulator refused (seed, day, action, reason);
    ``report`` names the seed and day a failing policy failed on, with its traceback.
    """

    table: pd.DataFrame
    score: float
    status: str
    reason: str
    references: tuple[str, ...]
    refusals: pd.DataFrame = dataclasses.field(default_factory=lambda: pd.DataFrame(
        columns=["seed", "day", "action", "reason"]))
    report: str = ""

    def __repr__(self) -> str:
        head = f"capstone score {self.score:.1f} / 100 ({self.status}{': ' + self.reason if self.reason else ''})"
        return "\n".join([head, self.scale(), self.table.to_string(index=False, float_format=lambda x: f"{x:,.2f}")])

    def _repr_html_(self) -> str:
        head = html.escape(f"capstone score {self.score:.1f} / 100 ({self.status}"
                           f"{': ' + self.reason if self.reason else ''})")
        return (f"<p><strong>{head}</strong><br>{html.escape(self.scale())}</p>"
                + self.table.to_html(index=False, float_format=lambda x: f"{x:,.2f}"))

    def scale(self) -> str:
        """How the points are given, in one sentence (the anchors of the references used)."""
        marks = ", ".join(f"{capstone_scale.ANCHORS[n]:g} at {n}'s profit" for n in self.references
                          if n in capstone_scale.ANCHORS)
        return (f"Points per seed (net profit of the month, yuan, against the references on the same seed): "
                f"{marks}, straight lines between, 0 to 100; the score is the mean over seeds.")


class _PolicyFailed(Exception):
    """The sandboxed policy raised, ended, or ran out of time (``status``, ``reason``, ``detail``)."""

    def __init__(self, status: str, reason: str, detail: str = "") -> None:
        super().__init__(status, reason, detail)  # SimPy re-raises a copy made from the args
        self.status, self.reason, self.detail = status, reason, detail


@dataclass(frozen=True)
class SeedRun:
    """One run of a trainee's policy: ``profit`` (yuan, NaN when it failed), how it ended, refusals.

    ``day`` is the simulated day the run failed on (``None`` when it did not), ``detail`` the
    policy's traceback or its last output; ``refusals`` lists (day, action, reason) of the
    actions the simulator refused.
    """

    seed: int
    profit: float
    status: str
    reason: str
    day: int | None = None
    detail: str = ""
    refusals: tuple[tuple[int, str, str], ...] = ()


class _SeedEnded(Exception):
    """The seed process ended: ``code`` is its exit code (negative for a signal), None when the server is gone."""

    def __init__(self, code: int | None) -> None:
        super().__init__(code)
        self.code = code


class _Host:
    """The sandboxed seed server of one policy (:mod:`~shopsim.grading.policy_host`) and the frames exchanged.

    One host serves every seed of the policy in turn (:meth:`start_seed`, the mornings,
    :meth:`end_seed`); each seed runs in a fresh process forked by the server, and ``deadline``
    (a :func:`time.monotonic` time) bounds every wait for it.
    """

    def __init__(self, box: sandbox.Sandbox, payload: tuple[str, Any], deadline: float) -> None:
        import shopsim as package

        self.box, self.deadline, self.buffer = box, deadline, b""
        self.control, ours = os.pipe()  # the server's control pipe: how each seed process ended
        scratch = [str(box.inside), *(("/tmp", "/dev/shm") if box.sandboxed else ())]
        env = {"PYTHONPATH": str(Path(package.__file__).resolve().parents[1]), "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1", policy_host.CONTROL_FD: str(ours),
               policy_host.SCRATCH: os.pathsep.join(scratch), policy_host.LEVERS: ",".join(OperatorView.LEVERS)}
        argv = [sys.executable, "-c", HOST_MAIN, str(Path(policy_host.__file__).resolve())]
        try:
            self.proc = box.start(argv, env, stdin=subprocess.PIPE, pass_fds=(ours,))
        except BaseException:
            os.close(self.control)
            raise
        finally:
            os.close(ours)
        self.errors = sandbox._Capped(self.proc.stderr, box.limits.output_kb * 1024)
        self.send(pickle.dumps(payload))

    def send(self, body: bytes) -> None:
        try:
            self.proc.stdin.write(struct.pack(">I", len(body)) + body)  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            pass  # the host has ended: the next read says how

    def start_seed(self, seed: int, deadline: float) -> None:
        """Ask the server for a fresh seed process; its mornings must end by ``deadline``."""
        self.deadline = deadline
        self.send(pickle.dumps(("seed", int(seed))))

    def morning(self, view: OperatorView) -> None:
        """Wake the policy for the view's day, with the small reads it will likely make."""
        self.send(pickle.dumps(("morning", int(view.day), policy_host.morning_reads(view))))

    def end_seed(self) -> int | None:
        """End the seed process and return its exit code, once the server has cleaned up after it.

        The policy has answered its last morning by then, so the wait is the deadline or
        :data:`END_GRACE` seconds, whichever is later (TimeoutError after that).
        """
        self.send(pickle.dumps(("end",)))
        self.deadline = max(self.deadline, time.monotonic() + END_GRACE)
        code = self._ended(wait=True)
        out = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while select.select([out], [], [], 0)[0] and os.read(out, 1 << 20):
            pass  # whatever the seed's processes wrote after their last frame is not the next seed's
        self.buffer = b""
        return code

    def _ended(self, wait: bool = False) -> int | None:
        """The exit code the server reports on the control pipe (None when the server is gone)."""
        if wait and not select.select([self.control], [], [], max(self.deadline - time.monotonic(), 0))[0]:
            raise TimeoutError
        try:
            message = json.loads(policy_host.receive(self.control, 1024))
        except (EOFError, OSError, ValueError):
            return None
        code = message.get("ended") if isinstance(message, dict) else None
        return code if isinstance(code, int) else None

    def _read(self, size: int) -> bytes:
        out = self.proc.stdout.fileno()  # type: ignore[union-attr]
        while len(self.buffer) < size:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([out, self.control], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(out, 1 << 20) if out in ready else b""
            if not chunk:  # the seed process ended before its frame was complete (its frames come first)
                raise _SeedEnded(self._ended())
            self.buffer += chunk
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def receive(self) -> dict[str, Any]:
        size = struct.unpack(">I", self._read(4))[0]
        if size > policy_host.MAX_MESSAGE:
            raise ValueError(f"the policy sent a message of {size} bytes")
        message = json.loads(self._read(size))
        if not isinstance(message, dict):
            raise ValueError("the policy sent something other than actions")
        return message

    def close(self) -> str:
        """End the host (and all it started); return the end of what it printed."""
        self.box.stop(self.proc)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]
        with contextlib.suppress(OSError):
            os.close(self.control)
        return self.errors.text(1.0)[-2000:]


def _apply(view: Any, action: Any, refusals: list[tuple[int, str, str]]) -> Any:
    """Apply one action through the levers; refuse (and record) a bad one. Returns the lever's result."""
    day = view.day
    shown = json.dumps(action)[:200] if _jsonable(action) else repr(action)[:200]
    if (not isinstance(action, list) or len(action) != 3 or action[0] not in OperatorView.LEVERS
            or not isinstance(action[1], list) or not isinstance(action[2], dict)):
        refusals.append((day, shown, f"not an action: [lever, args, kwargs] with a lever of "
                                     f"{', '.join(OperatorView.LEVERS)}"))
        return None
    name, args, kwargs = action
    try:
        return getattr(view, name)(*args, **kwargs)
    except (ShopsimError, TypeError, ValueError, KeyError, IndexError) as exc:
        refusals.append((day, shown, f"{type(exc).__name__}: {exc}"[:300]))
        return None


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def policy_payload(policy: Callable[..., Any] | str) -> tuple[str, Any]:
    """What the sandbox receives of a policy: source text, or the function pickled by value.

    The modules the policy's code comes from (:func:`_own_modules`: a trainee's file, the
    module of a ``functools.partial``'s function, of a bound method or of a callable object)
    travel by value, so the sandbox needs no import of them; the standard library, installed
    packages and ``shopsim`` travel by reference (they are mounted in the sandbox).
    """
    if isinstance(policy, str):
        return "source", policy
    import cloudpickle

    modules = _own_modules(policy)
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return "pickle", cloudpickle.dumps(policy)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


def _own_modules(policy: Any) -> list[ModuleType]:
    """The imported modules, outside Python's installation and ``shopsim``, that ``policy``'s code lives in."""
    installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found: dict[str, ModuleType] = {}
    todo, seen = [policy], set()
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, functools.partial):
            todo += [item.func, *item.args, *item.keywords.values()]
            continue
        if inspect.ismethod(item):
            todo += [item.__func__, item.__self__]
            continue
        if not (inspect.isfunction(item) or inspect.isclass(item)):
            if not callable(item):
                continue
            item = type(item)  # a callable object: its class's module
        module = sys.modules.get(getattr(item, "__module__", None) or "")
        if module is None or module.__name__ == "__main__" or module.__name__.split(".")[0] == "shopsim":
            continue
        where = getattr(module, "__file__", None)
        if where is None or any(root in Path(where).resolve().parents for root in installed):
            continue  # built in, the standard library or an installed package: present in the sandbox
        found[module.__name__] = module
    return list(found.values())


def evaluate_seed(policy: Callable[..., Any] | str | tuple[str, Any], scenario: shopsim.Scenario, seed: int,
                  days: int | None, *, timeout: float = 60.0, limits: sandbox.Limits | None = None,
                  unsafe: bool = False) -> SeedRun:
    """Run ``policy`` in a sandboxed process on one seed (:func:`evaluate_seeds` with one seed)."""
    return evaluate_seeds(policy, scenario, [seed], days, timeout=timeout, limits=limits, unsafe=unsafe)[0]


def evaluate_seeds(policy: Callable[..., Any] | str | tuple[str, Any], scenario: shopsim.Scenario,
                   seeds: Sequence[int], days: int | None, *, timeout: float = 60.0,
                   limits: sandbox.Limits | None = None, unsafe: bool = False) -> list[SeedRun]:
    """Run ``policy`` on each seed in turn, all in one sandbox; the simulations stay in this process.

    ``policy`` is a function, source text, or the payload :func:`policy_payload` made of one
    (what a cluster worker receives: it needs no import of the trainee's module).

    The sandbox starts once; each seed runs in a fresh process of it that loads the policy
    anew, and what a seed leaves behind (processes, files) is removed before the next
    (:mod:`~shopsim.grading.policy_host`), so each seed's result is the one it gets alone.
    Each morning the policy gets a snapshot (:class:`~shopsim.grading.policy_host.PolicyView`)
    and returns actions that the simulator applies, refusing bad ones with a reason. A policy
    that raises, ends its process or runs past ``timeout`` seconds on one seed (the first
    seed's time includes the sandbox's start-up) fails that seed, with the day and the
    traceback, and the seeds after it are not run.

    Returns
    -------
    list of SeedRun
        One per seed run, in the order of ``seeds``; the last is the failed seed, if any.
    """
    payload = policy if isinstance(policy, tuple) else policy_payload(policy)
    runs: list[SeedRun] = []
    with sandbox.workspace("policy") as work:
        box = sandbox.Sandbox(work, limits=limits or sandbox.Limits(), unsafe=unsafe)
        deadline = time.monotonic() + timeout
        host = _Host(box, payload, deadline)
        try:
            for seed in seeds:
                runs.append(_run_seed(host, scenario, int(seed), days, timeout, deadline))
                if runs[-1].status != "ok":
                    break
                deadline = time.monotonic() + timeout
        finally:
            output = host.close()
    if runs and runs[-1].status != "ok" and not runs[-1].detail:
        runs[-1] = dataclasses.replace(runs[-1], detail=output)
    return runs


def _run_seed(host: _Host, scenario: shopsim.Scenario, seed: int, days: int | None, timeout: float,
              deadline: float) -> SeedRun:
    """One seed: a fresh seed process of ``host`` answers each morning of the simulation here."""
    refusals: list[tuple[int, str, str]] = []
    state = {"day": 0}

    def proxy(view: OperatorView) -> None:
        state["day"] = view.day
        host.morning(view)
        acts = reads = 0
        while True:
            message = _next_message(host, timeout)
            if "read" in message:
                reads += 1
                if reads > policy_host.MAX_READS:
                    raise _PolicyFailed("error", f"the policy read more than {policy_host.MAX_READS} "
                                        "times in one morning")
                try:
                    answer = policy_host.read(view, str(message["read"]), str(message.get("name", "")))
                except (KeyError, TypeError):
                    answer = None
                host.send(pickle.dumps(answer))
            elif "act" in message:
                acts += 1
                if acts > policy_host.MAX_ACTIONS:
                    refusals.append((view.day, "another action", f"at most {policy_host.MAX_ACTIONS} a day"))
                    host.send(pickle.dumps(None))
                    continue
                host.send(pickle.dumps(_apply(view, message["act"], refusals)))
            elif "error" in message:
                text = str(message["error"])[-4000:]
                last = text.strip().splitlines()[-1] if text.strip() else "an error"
                raise _PolicyFailed("error", f"the policy raised {last}", text)
            else:
                return

    host.start_seed(seed, deadline)
    try:
        sim = shopsim.simulate(scenario, days=days, seed=seed, policy=proxy)
        _end_seed(host, timeout)
    except _PolicyFailed as failed:
        return SeedRun(seed, np.nan, failed.status, f"seed {seed}, day {state['day']}: {failed.reason}",
                       state["day"], failed.detail, tuple(refusals))
    return SeedRun(seed, float(sim.tables["pnl"]["net_profit"].sum()), "ok", "", None, "", tuple(refusals))


def _next_message(host: _Host, timeout: float) -> dict[str, Any]:
    """The policy's next message this morning, or :class:`_PolicyFailed` saying how it stopped."""
    try:
        return host.receive()
    except TimeoutError:
        raise _PolicyFailed("timeout", f"still running after {timeout:g} s (an endless loop?)") from None
    except _SeedEnded as ended:
        raise _PolicyFailed("crashed", f"the policy ended the process ({_how(ended.code)})") from None
    except (ValueError, json.JSONDecodeError, RecursionError) as exc:
        raise _PolicyFailed("error", f"the policy broke the protocol ({exc})") from None


def _end_seed(host: _Host, timeout: float) -> None:
    """End the seed process after its last morning; a seed that cannot be ended fails."""
    try:
        code = host.end_seed()
    except TimeoutError:
        raise _PolicyFailed("timeout", f"what the policy started still ran after {timeout:g} s") from None
    if code != 0:
        raise _PolicyFailed("crashed", f"the policy ended the process ({_how(code)})")


def _how(code: int | None) -> str:
    return f"exit code {code}" if code is not None else "the sandbox's seed server is gone"


_REFERENCE_CACHE: dict[tuple[str, int, int | None, str], float] = {}


def reference_profit(name: str, scenario: shopsim.Scenario, seed: int, days: int | None) -> float:
    """Net profit (yuan) of a reference policy, run once per (scenario, seed, days) and cached."""
    key = (hashlib.sha256(repr(scenario).encode()).hexdigest(), int(seed), days, name)
    if key not in _REFERENCE_CACHE:
        ref = getattr(policies, name)
        _REFERENCE_CACHE[key] = float(shopsim.simulate(scenario, days=days, seed=int(seed), policy=ref)
                                      .tables["pnl"]["net_profit"].sum())
    return _REFERENCE_CACHE[key]


def reference_profits(scenario: shopsim.Scenario, seed: int, days: int | None,
                      references: Sequence[str]) -> dict[str, float]:
    """Net profit (yuan) of each reference policy that exists on one seed (:func:`reference_profit`)."""
    return {name: reference_profit(name, scenario, int(seed), days) for name in _reference_policies(references)}


def check_arguments(policy: Callable[..., Any] | str, seeds: Sequence[int], timeout: float) -> list[int]:
    """The seeds as ints; TypeError/ValueError on a policy that is not callable, bad seeds or timeout."""
    if not callable(policy) and not isinstance(policy, str):
        raise TypeError(f"policy must be a function f(view), not {type(policy).__name__}")
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of whole numbers of 0 or more, not {seeds!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return [int(s) for s in seeds]


def score(seeds: Sequence[int], reference_rows: Sequence[dict[str, float]], runs: Sequence[SeedRun]) -> Evaluation:
    """The :class:`Evaluation` from each seed's reference profits and the trainee's runs, in seed order.

    The first run that is not ``ok`` decides the status; the seeds after it count as not run
    (profit NaN, their refusals dropped), whether they were run or not, so the result does
    not depend on how many seeds ran at once (serially, or as tasks on a cluster).
    """
    refs = tuple(reference_rows[0]) if reference_rows else ()
    rows, status, reason, report = [], "ok", "", ""
    refusals: list[tuple[int, int, str, str]] = []
    for i, seed in enumerate(seeds):
        row: dict[str, Any] = {"seed": int(seed), "profit": np.nan, **reference_rows[i]}
        if status == "ok" and i < len(runs):
            run = runs[i]
            status, row["profit"], reason = run.status, run.profit, run.reason
            refusals += [(int(seed), *r) for r in run.refusals]
            if run.status != "ok":
                report = f"seed {seed}, day {run.day}:\n{run.detail}".strip()
        rows.append(row)
    table = pd.DataFrame(rows, columns=["seed", "profit", *refs])
    if status == "ok":
        table["points"] = [round(capstone_scale.points(r["profit"], {n: r[n] for n in refs}), 2) for r in rows]
        table["why"] = [capstone_scale.why(r["profit"], {n: r[n] for n in refs}) for r in rows]
        total = round(float(table["points"].mean()), 2)
    else:
        table["points"] = 0.0
        table["why"] = f"0 points on every seed: the policy failed ({reason})"
        total = 0.0
    return Evaluation(table, total, status, reason, refs,
                      pd.DataFrame(refusals, columns=["seed", "day", "action", "reason"]), report)


def _reference_policies(names: Iterable[str]) -> dict[str, Callable[..., Any]]:
    found = {n: getattr(policies, n) for n in names if callable(getattr(policies, n, None))}
    if not found:
        raise ValueError(f"none of the reference policies {', '.join(names)} exists in shopsim.policies")
    return found


def evaluate_policy(policy: Callable[..., Any] | str, scenario: shopsim.Scenario | str | Path = "baseline",
                    seeds: Sequence[int] = (1, 2, 3), *, days: int | None = None, timeout: float = 60.0,
                    references: Sequence[str] = REFERENCES, limits: sandbox.Limits | None = None,
                    unsafe: bool = False, client: Client | None = None) -> Evaluation:
    """Simulate ``policy`` on ``scenario`` for each seed and score it against the references.

    Parameters
    ----------
    policy:
        The trainee's ``f(view)``, called each simulated morning in a sandboxed process, or
        source text defining ``policy(view)``.
    scenario:
        A scenario, a bundled scenario's name or a YAML path.
    seeds:
        The seeds to run (the same seeds for every policy: common random numbers).
    days:
        Days per run; default the scenario's own length.
    timeout:
        Seconds allowed for one run of the trainee's policy (one seed).
    references:
        Names of reference policies in :mod:`shopsim.policies`; missing ones are skipped. The
        scale (:mod:`~shopsim.grading.capstone_scale`) anchors ``do_nothing``, ``rule_based``
        and ``tuned``; other names are run and shown but earn no points of their own.
    limits:
        Resource limits of the policy's sandbox.
    unsafe:
        Run the policy without a sandbox where ``bwrap`` is missing (else that is refused).
    client:
        A ``dask.distributed`` client: every seed (the trainee's sandboxed run and the reference
        runs) becomes a task on its workers, each run sandboxed on its worker; the result equals
        the run here. None runs here, one seed after another. For a whole cohort,
        :func:`shopsim.grading.distributed.evaluate_cohort` also shares the reference runs.

    Returns
    -------
    Evaluation
        The per-seed profit table (yuan), the score (0 to 100), a status (``ok``, ``error``,
        ``timeout`` or ``crashed``) and the reason when it is not ``ok``.
    """
    seeds = check_arguments(policy, seeds, timeout)
    sc = scenario if isinstance(scenario, shopsim.Scenario) else shopsim.load_scenario(scenario)
    _reference_policies(references)  # fails early when none exists
    if client is not None:
        from shopsim.grading.distributed import evaluate_cohort

        return evaluate_cohort({"policy": policy}, sc, seeds, days=days, timeout=timeout, references=references,
                               limits=limits, unsafe=unsafe, client=client)["policy"]
    reference_rows = [reference_profits(sc, seed, days, references) for seed in seeds]
    runs = evaluate_seeds(policy, sc, seeds, days, timeout=timeout, limits=limits, unsafe=unsafe)
    return score(seeds, reference_rows, runs)


def policy_source(policy: Callable[..., Any]) -> str:
    """The source text a policy function travels as when graded: its cell (or file), definitions only.

    Helpers, constants and imports written in the same notebook cell as the policy come along
    (the cell's imports, function and class definitions and assignments); what is defined in
    other cells does not, nor the cell's other statements (a line that calls
    ``policy_source`` or ``evaluate_policy``, a bare expression). When the function is not called
    ``policy``, a line ``policy = NAME`` is added.

    Raises
    ------
    TypeError
        When ``policy`` is not a function written in Python.
    """
    import ast
    import linecache

    if not inspect.isfunction(policy):
        raise TypeError(f"give the policy function itself (def policy(view): ...), not {type(policy).__name__}")
    where = inspect.getsourcefile(policy) or policy.__code__.co_filename
    text = "".join(linecache.getlines(where))
    try:
        tree = ast.parse(text)
    except SyntaxError:  # a cell with IPython magics: the function alone
        tree = None
    if tree is None or not text.strip():
        text = textwrap.dedent(inspect.getsource(policy))
    else:
        kept = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
        parts = [ast.get_source_segment(text, node, padded=True) or "" for node in tree.body
                 if isinstance(node, kept)]
        text = "\n\n".join(p for p in parts if "policy_source" not in p and "evaluate_policy" not in p) + "\n"
    if policy.__name__ != "policy":
        text += f"\n\npolicy = {policy.__name__}\n"
    return text


def check_source(value: Any, name: str) -> None:
    """Check that ``value`` is source text defining ``policy``; :class:`~shopsim.grading.checks.CheckFailed` if not."""
    import ast

    from shopsim.grading import checks

    if not isinstance(value, str):
        raise checks.CheckFailed(f"`{name}` should be the policy's source text, made with "
                                 f"`shopsim.grading.capstone.policy_source(policy)`, not a "
                                 f"{type(value).__name__}.", checks.WRONG_TYPE)
    try:
        tree = ast.parse(value)
    except SyntaxError as exc:
        raise checks.CheckFailed(f"`{name}` is not Python that runs: {exc.msg} on its line {exc.lineno}.",
                                 checks.FORMAT) from None
    for node in ast.walk(tree):
        imported = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        named = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) and node.module == "shopsim" else []
        if any(m.startswith("shopsim.policies") for m in imported) or "policies" in named:
            raise checks.CheckFailed(f"`{name}` imports shopsim.policies: the reference operators are the yardsticks "
                                     "your policy is graded against; write your own rules.", checks.FORMAT)
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    names |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    if "policy" not in names:
        raise checks.CheckFailed(f"`{name}` defines no function `policy(view)`; write `def policy(view): ...` "
                                 "in the cell and pass that function to policy_source.", checks.FORMAT)
    if any(_empty_body(n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "policy"):
        raise checks.CheckFailed(f"`{name}` is not answered yet: the body of `policy(view)` is still `...`. "
                                 "Write your operator's morning there and run the cell.", checks.UNANSWERED)


def _empty_body(function: Any) -> bool:
    """Whether a function's body is only a docstring and ``...`` or ``pass`` (the starter left as it was)."""
    import ast

    body = [n for n in function.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                             and isinstance(n.value.value, str))]
    return all(isinstance(n, ast.Pass) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                                           and n.value.value is Ellipsis) for n in body)


def plan_policy_source(plan: Any) -> str:
    """Policy source text that plays ``plan`` (:mod:`shopsim.plans`, e.g. a console's saved plan) every month.

    The plan is checked first (:class:`~shopsim.plans.PlanError` names a bad step); the text
    holds the steps as JSON and replays them with :func:`shopsim.plans.policy`, refusals skipped.
    """
    from shopsim import plans

    steps = plan if isinstance(plan, list) else list(plan)
    plans.check(steps, plans.MAX_DAYS)
    text = json.dumps(steps, ensure_ascii=False)
    return ("import json\n\nfrom shopsim import plans\n\n"
            f"PLAN = plans.check(json.loads({text!r}), plans.MAX_DAYS)\n"
            "policy = plans.policy(PLAN, refusals=[])\n")


_EVALUATION_CACHE: dict[tuple[str, str, tuple[int, ...], int | None, float], Evaluation] = {}
_COLLECTED: contextvars.ContextVar[list[tuple[str, tuple[int, ...], Evaluation]] | None] = contextvars.ContextVar(
    "shopsim_capstone_collected", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[tuple[str, tuple[int, ...], Evaluation]]]:
    """Collect (scenario, seeds, :class:`Evaluation`) of every capstone check graded inside the block.

    Batch grading uses it to keep each trainee's capstone result in the gradebook (the leaderboard).
    """
    seen: list[tuple[str, tuple[int, ...], Evaluation]] = []
    token = _COLLECTED.set(seen)
    try:
        yield seen
    finally:
        _COLLECTED.reset(token)


def evaluate_cached(source: str, scenario: str, seeds: tuple[int, ...], days: int | None,
                    timeout: float) -> Evaluation:
    """:func:`evaluate_policy` of policy source text, once per (text, scenario, seeds, days) in a process."""
    key = (hashlib.sha256(source.encode()).hexdigest(), scenario, seeds, days, float(timeout))
    if key not in _EVALUATION_CACHE:
        _EVALUATION_CACHE[key] = evaluate_policy(source, scenario, seeds, days=days, timeout=timeout)
    seen = _COLLECTED.get()
    if seen is not None:
        seen.append((scenario, seeds, _EVALUATION_CACHE[key]))
    return _EVALUATION_CACHE[key]
