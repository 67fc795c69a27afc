"""The sealed answer key: value feedback in a practice lesson without the answers in the notebook.

A practice lesson's student copy checks the *value* of an answer as soon as the trainee
runs ``grader.check("q")``, with the same typical-mistake hints as the instructor's hidden
checks, yet the expected values are not written in it. ``course build`` does this:

1. it runs the master (the solution) in a separate process, then each hidden check with
   :func:`shopsim.grading.checks.recording` on, which writes down every value check the
   hidden test calls (``checks.number``, ``rate``, ``frame``, ``series``, ``choice``,
   ``day``) with its expected value, tolerance, known mistakes and hints;
2. it *seals* each one (:func:`seal`): numbers, table columns, options and days become
   salted, slow hashes (PBKDF2-SHA256) of their normalised form, and the mistakes' values
   likewise, each next to its hint (hints are words, never numbers);
3. the student copy gets one more public test case per question, :data:`~shopsim.grading.questions.VALUE_CASE`,
   which calls :func:`verify` with the sealed key.

Tolerance bands. A number is normalised to the cell of a logarithmic grid whose width is
twice the check's relative tolerance, on two grids offset by half a cell; an answer counts
as right when it falls in the expected value's cell on either grid. So an answer within
``rel`` of the expected value is always accepted and one further than about ``2 * rel`` is
never accepted. Table columns are hashed cell by cell on the same two grids.

What this does not protect. The hash hides a value, not a small set of candidates: a
determined trainee who writes a loop over plausible numbers (or simply tries the four
options of a multiple-choice question) will find the answer. The grade is not affected
(grading runs the instructor's own hidden checks); the sealed key only keeps the answers
from being *read* in the notebook.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopsim.grading import checks, feedback, questions

#: PBKDF2 iterations per hash: slow enough to make trying every number tedious, fast enough
#: that a check answers at once.
ITERATIONS = 2_000
_ZERO = 1e-12
_ARGUMENT_NAMES = {"choice": "answer_"}


class KeyError_(ValueError):  # noqa: N801 - KeyError is taken by the builtin
    """The answer key cannot be made: a hidden check fails on the solution, or checks no value."""


def salt_for(lesson: str, question: str, index: int) -> str:
    """A salt per lesson, question and check (deterministic, so builds are reproducible)."""
    return hashlib.sha256(f"shopsim\0{lesson}\0{question}\0{index}".encode()).hexdigest()[:32]


def _hash(salt: str, token: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", token.encode(), bytes.fromhex(salt), ITERATIONS).hex()[:24]


def number_tokens(x: float, rel: float) -> tuple[str, str]:
    """``x`` as its cell on the two offset logarithmic grids of width ``2 * rel`` (exact if ``rel`` is 0)."""
    if math.isnan(x):
        return "nan", "nan"
    if abs(x) < _ZERO:
        return "0", "0"
    if rel <= 0:
        text = repr(float(x))
        return text, text
    width = 2 * math.log1p(rel)
    at = math.log(abs(x)) / width
    sign = "-" if x < 0 else "+"
    return f"{sign}{math.floor(at)}", f"{sign}{math.floor(at + 0.5)}"


def _pair(salt: str, tokens: tuple[str, str]) -> list[str]:
    return [_hash(salt, "A" + tokens[0]), _hash(salt, "B" + tokens[1])]


def _matches(got: list[str], sealed: list[str]) -> bool:
    return got[0] == sealed[0] or got[1] == sealed[1]


def _column_tokens(col: pd.Series, kind: str, rel: float, grid: int) -> list[str]:
    if kind == "number":
        return [number_tokens(float(v), rel)[grid] for v in col.to_numpy(dtype=float)]
    if kind == "datetime":
        return ["NaT" if pd.isna(v) else pd.Timestamp(v).isoformat() for v in col]
    return ["<NA>" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in col]


def _frame_hashes(table: pd.DataFrame, kinds: Mapping[str, str], rel: float, order: bool,
                  sort_by: list[str] | None, salt: str) -> list[dict[str, str]]:
    """Per grid, column -> hash of the column's normalised cells (rows sorted unless order matters)."""
    out = []
    for grid in (0, 1):
        tokens = pd.DataFrame({c: _column_tokens(checks.comparable(table[c], k), k, rel, grid)
                               for c, k in kinds.items()})
        if not order:
            tokens = tokens.sort_values(sort_by or list(kinds), kind="stable").reset_index(drop=True)
        out.append({c: _hash(salt, f"{'AB'[grid]}{c}\x1f" + "\x1f".join(tokens[c])) for c in kinds})
    return out


def _whole(hashes: list[dict[str, str]]) -> list[str]:
    return [hashlib.sha256("\x1e".join(h[c] for c in sorted(h)).encode()).hexdigest()[:24] for h in hashes]


def _series_pair(value: pd.Series, kind: str, rel: float, order: bool, index: bool, salt: str) -> list[str]:
    out = []
    for grid in (0, 1):
        values = _column_tokens(checks.comparable(value, kind), kind, rel, grid)
        pairs = list(zip([str(i) for i in value.index] if index else [""] * len(values), values, strict=True))
        if not order:
            pairs.sort()
        out.append(_hash(salt, f"{'AB'[grid]}" + "\x1f".join(f"{i}={v}" for i, v in pairs)))
    return out


def seal(call: checks.Recorded, salt: str) -> dict[str, Any]:
    """The sealed form of one recorded value check: hashes, tolerances, hints; no values."""
    a, kind = call.arguments, call.kind
    spec: dict[str, Any] = {"kind": kind, "name": a["name"], "salt": salt}
    if kind in ("number", "rate"):
        rel = float(a["rel"])
        accepted = checks._accepted(a["expected"])
        spec.update(rel=rel, hint=a.get("hint"), right=[_pair(salt, number_tokens(e, rel)) for e in accepted],
                    mistakes=_number_mistakes(a.get("mistakes"), accepted, rel, salt))
        if kind == "number":
            spec.update(unit=a["unit"], between=a["between"], whole=a["whole"])
        else:
            spec.update(percent=a["percent"], percent_of=[_pair(salt, number_tokens(100 * e, rel)) for e in accepted])
        return spec
    if kind == "frame":
        expected: pd.DataFrame = a["expected"]
        kinds = {c: checks.kind_of(expected[c]) for c in expected.columns}
        rel, order, sort_by = float(a["rel"]), bool(a["check_row_order"]), a["sort_by"]
        right = _frame_hashes(expected, kinds, rel, order, sort_by, salt)
        mistakes = []
        for hint, wrong in (a.get("mistakes") or {}).items():
            wrong_kinds = {c: checks.kind_of(wrong[c]) for c in wrong.columns}
            mistakes.append([hint, list(wrong_kinds), len(wrong),
                             _whole(_frame_hashes(wrong, wrong_kinds, rel, order, sort_by, salt))])
        spec.update(columns=list(kinds), kinds=kinds, rows=len(expected), rel=rel, order=order, sort_by=sort_by,
                    dtypes={c: str(expected[c].dtype) for c in kinds} if a["check_dtype"] else None,
                    hint=a.get("hint"), right=right, mistakes=mistakes)
        return spec
    if kind == "series":
        expected_s: pd.Series = a["expected"]
        k = checks.kind_of(expected_s)
        spec.update(length=len(expected_s), value_kind=k, rel=float(a["rel"]), order=bool(a["check_order"]),
                    index=bool(a["check_index"]), hint=a.get("hint"),
                    right=_series_pair(expected_s, k, float(a["rel"]), bool(a["check_order"]),
                                       bool(a["check_index"]), salt))
        return spec
    if kind == "choice":
        answers = [a["answer_"]] if isinstance(a["answer_"], str) else list(a["answer_"])
        options = a["options"]
        spec.update(options=dict(options) if isinstance(options, Mapping) else list(options), hint=a.get("hint"),
                    right=[_hash(salt, checks.normalise_choice(x)) for x in answers],
                    hints=[[_hash(salt, checks.normalise_choice(k)), v] for k, v in (a.get("hints") or {}).items()])
        return spec
    if kind == "day":
        spec.update(hint=a.get("hint"), right=_hash(salt, checks.day_of(a["expected"], "expected").isoformat()),
                    mistakes=[[h, _hash(salt, checks.day_of(d, "mistake").isoformat())]
                              for h, d in (a.get("mistakes") or {}).items()])
        return spec
    if kind == "decision":
        return _seal_decision(spec, a)
    if kind == "capstone":
        return _seal_capstone(spec, a)
    raise KeyError_(f"cannot seal a {kind!r} check")


def _seal_decision(spec: dict[str, Any], a: Mapping[str, Any]) -> dict[str, Any]:
    """A decision's practice key: its practice seeds with the yardsticks' results there, no grading seeds."""
    from shopsim.grading import decisions

    if not isinstance(a["scenario"], str):
        raise KeyError_(f"the decision check of {a['name']!r} names its scenario by an object; give a bundled "
                        "scenario's name or a support file's path, so the practice copy can run it")
    objective = a["objective"]
    yardsticks = {int(s): [decisions.run_reference("do_nothing", a["scenario"], s, a["days"])[objective],
                           decisions.run_reference(a["reference"], a["scenario"], s, a["days"])[objective]]
                  for s in a["practice_seeds"]}
    spec.update(scenario=a["scenario"], days=a["days"], objective=objective, at_least=a["at_least"],
                at_most=a["at_most"], pass_share=float(a["pass_share"]), practice=yardsticks)
    return spec


def _seal_capstone(spec: dict[str, Any], a: Mapping[str, Any]) -> dict[str, Any]:
    """A capstone's practice key: the references' profits on its practice seeds, no grading seeds."""
    from shopsim.grading import capstone

    if not isinstance(a["scenario"], str):
        raise KeyError_(f"the capstone check of {a['name']!r} names its scenario by an object; give a bundled "
                        "scenario's name or a support file's path")
    sc = shopsim_scenario(a["scenario"])
    practice = {int(s): capstone.reference_profits(sc, int(s), a["days"], capstone.REFERENCES)
                for s in a["practice_seeds"]}
    spec.update(scenario=a["scenario"], days=a["days"], at_least=float(a["at_least"]),
                timeout=float(a["timeout"]), practice=practice)
    return spec


def shopsim_scenario(name: str) -> Any:
    """The scenario a check names (a bundled name or a path)."""
    import shopsim

    return shopsim.load_scenario(name)


def _number_mistakes(mistakes: Mapping[str, Any] | None, accepted: list[float], rel: float,
                     salt: str) -> list[list[Any]]:
    """The sealed mistakes the grader would name (:func:`feedback.distinct_mistakes`), then the flipped sign."""
    out = [[hint, _pair(salt, number_tokens(w, rel))]
           for hint, w in feedback.distinct_mistakes(mistakes, accepted, rel, checks._close).items()]
    out += [[feedback.SIGN_HINT, _pair(salt, number_tokens(-e, rel))] for e in accepted if e != 0]
    return out


# --- verifying, in the trainee's notebook ---------------------------------------------------

def _lookup(env: Mapping[str, Any], name: str) -> Any:
    """The trainee's value of ``name``: a variable, or an expression over variables (``rows["orders"]``)."""
    if name.isidentifier():
        return env.get(name, checks.MISSING)
    try:
        return eval(name, {"__builtins__": {}}, dict(env))  # the expression a check names, in the trainee's notebook
    except Exception:  # not defined (yet): the cell was not run, or the key is missing
        return checks.MISSING


def _verify_number(spec: dict[str, Any], value: Any) -> None:
    name, rel = spec["name"], spec["rel"]
    if spec["kind"] == "number":
        checks.number(value, name=name, unit=spec["unit"], between=spec["between"], whole=spec["whole"])
    x = checks._scalar(value, name)
    got = _pair(spec["salt"], number_tokens(x, rel))
    if any(_matches(got, r) for r in spec["right"]):
        return
    if spec["kind"] == "rate":
        if any(_matches(got, r) for r in spec["percent_of"]):
            if spec["percent"] == "accept":
                return
            raise checks.CheckFailed(checks.percent_message(name, x), checks.FORMAT)
        if not 0 <= x <= 1:
            raise checks.CheckFailed(checks.not_a_rate_message(name, x), checks.WRONG_VALUE)
    known = next((h for h, sealed in spec["mistakes"] if _matches(got, sealed)), None)
    raise checks.CheckFailed(checks.wrong_value_message(name, feedback.format_number(x), known, spec["hint"]),
                             checks.WRONG_VALUE)


def _verify_frame(spec: dict[str, Any], value: Any) -> None:
    name = spec["name"]
    # rows are sorted by the columns in the expected table's order, as when sealed (the stored
    # mapping's keys come back alphabetical from the key's JSON)
    kinds = {c: spec["kinds"][c] for c in spec["columns"]}
    table = checks.columns(value, spec["columns"], name=name)
    for hint, cols, rows, sealed in spec["mistakes"]:
        if len(table) == rows and all(c in table.columns for c in cols):
            wrong_kinds = {c: kinds.get(c, "text") for c in cols}
            got = _whole(_frame_hashes(table, wrong_kinds, spec["rel"], spec["order"], spec["sort_by"] or cols,
                                       spec["salt"]))
            if _matches(got, sealed):
                raise checks.CheckFailed(f"`{name}` is not right yet: {hint}.", checks.WRONG_VALUE)
    if len(table) != spec["rows"]:
        raise checks.CheckFailed(checks.rows_message(name, len(table), spec["rows"]), checks.WRONG_VALUE)
    for c, dtype in (spec["dtypes"] or {}).items():
        if str(table[c].dtype) != dtype:
            raise checks.CheckFailed(f"column {c!r} of `{name}` holds {table[c].dtype} values; this exercise asks "
                                     f"for {dtype}.", checks.WRONG_TYPE)
    # rows sort by the columns in the answer's order (a list keeps it; the key's JSON sorts the kinds by name)
    got_hashes = _frame_hashes(table, kinds, spec["rel"], spec["order"], spec["sort_by"] or spec["columns"],
                               spec["salt"])
    differing = [c for c in spec["columns"]
                 if not _matches([got_hashes[0][c], got_hashes[1][c]], [spec["right"][0][c], spec["right"][1][c]])]
    if not differing:
        return
    order = "" if spec["order"] else " (row order does not matter)"
    extra = f" {spec['hint']}" if spec["hint"] else ""
    raise checks.CheckFailed(f"`{name}` is not right yet: column {differing[0]!r} differs from the answer{order}."
                             f"{extra}", checks.WRONG_VALUE)


def _verify_series(spec: dict[str, Any], value: Any) -> None:
    name = spec["name"]
    checks.answered(value, name)
    if isinstance(value, pd.DataFrame) and value.shape[1] == 1:
        value = value.iloc[:, 0]
    if not isinstance(value, pd.Series):
        raise checks.CheckFailed(f"`{name}` should be a Series (one column of values), but it is "
                                 f"{feedback.describe(value)}.", checks.WRONG_TYPE)
    if len(value) != spec["length"]:
        raise checks.CheckFailed(f"`{name}` has {len(value)} values, but the answer has {spec['length']}.",
                                 checks.WRONG_VALUE)
    got = _series_pair(value, spec["value_kind"], spec["rel"], spec["order"], spec["index"], spec["salt"])
    if not _matches(got, spec["right"]):
        extra = f" {spec['hint']}" if spec["hint"] else ""
        raise checks.CheckFailed(f"`{name}` is not right yet: its values (or labels) differ from the answer.{extra}",
                                 checks.WRONG_VALUE)


def _verify_choice(spec: dict[str, Any], value: Any) -> None:
    got = _hash(spec["salt"], checks.option_of(value, spec["options"], spec["name"]))
    if got in spec["right"]:
        return
    own = dict((h, text) for h, text in spec["hints"])
    raise checks.CheckFailed(checks.choice_message(spec["name"], value, own.get(got) or spec["hint"] or ""),
                             checks.WRONG_VALUE)


def _verify_day(spec: dict[str, Any], value: Any) -> None:
    got = _hash(spec["salt"], checks.day_of(value, spec["name"]).isoformat())
    if got == spec["right"]:
        return
    known = next((h for h, sealed in spec["mistakes"] if sealed == got), None)
    raise checks.CheckFailed(checks.wrong_value_message(spec["name"], repr(value), known, spec["hint"]),
                             checks.WRONG_VALUE)


def _verify_decision(spec: dict[str, Any], value: Any) -> None:
    from shopsim import plans
    from shopsim.grading import decisions

    practice = {int(s): tuple(v) for s, v in spec["practice"].items()}
    try:
        result = decisions.evaluate_plan(value, spec["scenario"], sorted(practice), reference=None,
                                         days=spec["days"], objective=spec["objective"], at_least=spec["at_least"],
                                         at_most=spec["at_most"], yardsticks=practice)
    except plans.PlanError as exc:
        raise checks.CheckFailed(f"`{spec['name']}`: {exc}", checks.FORMAT) from None
    if result.share < result.bar(spec["pass_share"]):
        raise checks.CheckFailed(checks.decision_message(spec["name"], result, spec["pass_share"],
                                                         "on the practice seed"), checks.WRONG_VALUE)


def _verify_capstone(spec: dict[str, Any], value: Any) -> None:
    from shopsim.grading import capstone

    capstone.check_source(value, spec["name"])
    seeds = sorted(int(s) for s in spec["practice"])
    sc = shopsim_scenario(spec["scenario"])
    runs = capstone.evaluate_seeds(value, sc, seeds, spec["days"], timeout=spec["timeout"])
    result = capstone.score(seeds, [spec["practice"][str(s)] if str(s) in spec["practice"] else spec["practice"][s]
                                    for s in seeds], runs)
    if result.score < spec["at_least"]:
        raise checks.CheckFailed(checks.capstone_message(spec["name"], result, spec["at_least"],
                                                         "on the practice seed"), checks.WRONG_VALUE)


_VERIFY = {"number": _verify_number, "rate": _verify_number, "frame": _verify_frame, "series": _verify_series,
           "choice": _verify_choice, "day": _verify_day, "decision": _verify_decision,
           "capstone": _verify_capstone}


def verify(env: Mapping[str, Any], key: str | list[dict[str, Any]]) -> None:
    """Check the trainee's answers in ``env`` against a question's sealed key (JSON or parsed).

    Raises :class:`~shopsim.grading.checks.CheckFailed` with the first problem, in the same
    words as the instructor's hidden checks; returns quietly when every value is right.
    """
    specs = json.loads(key) if isinstance(key, str) else key
    for spec in specs:
        _VERIFY[spec["kind"]](spec, _lookup(env, spec["name"]))


def value_case(key: list[dict[str, Any]]) -> str:
    """The test case (otter's format) a practice student copy gets for one question."""
    text = json.dumps(key, sort_keys=True, ensure_ascii=False)
    return (f"@test_case(name={questions.VALUE_CASE!r}, points=None, hidden=False)\n"
            "def test_value(env):\n"
            "    from shopsim.grading import answer_key\n"
            f"    answer_key.verify(env, {text!r})\n")


# --- recording, in a process of its own during ``course build`` ------------------------------

def _fingerprint(call: checks.Recorded, value: Any) -> str:
    """A hash of ``value`` as the recorded check would see it (to confirm ``name`` names it)."""
    if call.kind == "capstone":
        return value if isinstance(value, str) else f"not policy text: {feedback.describe(value)}"
    if call.kind == "decision":
        from shopsim import plans

        try:
            return plans.check(value, 10_000).canonical()
        except plans.PlanError as exc:
            return f"not a plan: {exc}"
    probe = checks.Recorded(call.kind, {**call.arguments, _ARGUMENT_NAMES.get(call.kind, "expected"): value,
                                        "mistakes": None}, True)
    try:
        return json.dumps(seal(probe, "00")["right"], sort_keys=True)
    except Exception:  # the value is not of the kind the check compares: it cannot be the same
        return f"not comparable: {feedback.describe(value)}"


def expected_values(call: checks.Recorded) -> list[Any]:
    """The plain expected values of a recorded check (numbers, texts, days, a table's cells), for tests."""
    a = call.arguments
    if call.kind in ("decision", "capstone"):
        return []  # a plan's outcome depends on the trainee's plan: nothing fixed to hide
    if call.kind in ("number", "rate"):
        return checks._accepted(a["expected"])
    if call.kind == "choice":
        return [a["answer_"]] if isinstance(a["answer_"], str) else list(a["answer_"])
    if call.kind == "day":
        return [checks.day_of(a["expected"], "expected").strftime("%Y-%m-%d")]
    table = a["expected"].to_frame() if isinstance(a["expected"], pd.Series) else a["expected"]
    return [float(v) for c in table.columns if checks.kind_of(table[c]) == "number" for v in table[c].tolist()]


def record(env: Mapping[str, Any], lesson: str, tests: Mapping[str, str],
           reveal: dict[str, list[Any]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Run every hidden check on the solution in ``env`` and seal what it compares, per question.

    With ``reveal`` (a dict), the plain expected values are also put there per question (for
    the test that makes sure they are not in the student copy).

    Raises :class:`KeyError_` (the instructor's problem) when a hidden check fails on the
    solution, checks no value through :mod:`shopsim.grading.checks`, or names its answer
    with a ``name=`` that does not evaluate to the value it compared.
    """
    key: dict[str, list[dict[str, Any]]] = {}
    for qname, source in tests.items():
        question = questions.parse(source, f"question {qname}")
        calls: list[checks.Recorded] = []
        for case in question.cases:
            with checks.recording() as seen:
                result = questions.run_case(case, env)
            if not result.passed:
                raise KeyError_(f"question {qname}: the check {case.name!r} fails on the master's own solution "
                                f"({result.message or result.kind}); fix the master or its check")
            calls += [c for c in seen if c.passed] if case.hidden else []
        if not calls:
            raise KeyError_(f"question {qname}: its hidden checks compare no value with shopsim.grading.checks "
                            "(number, rate, frame, series, choice, day), so the practice copy cannot check the "
                            "value; use those checks with an expected value, or set `mode: exam`")
        for call in calls:
            passed = call.arguments["value"]
            if _fingerprint(call, passed) != _fingerprint(call, _lookup(env, call.arguments["name"])):
                raise KeyError_(f"question {qname}: a check is given name={call.arguments['name']!r}, but that "
                                "expression does not give the value it compares; name= must be what the trainee "
                                "wrote (a variable, or e.g. rows[\"orders\"])")
        key[qname] = [seal(c, salt_for(lesson, qname, i)) for i, c in enumerate(calls)]
        if reveal is not None:
            reveal[qname] = [v for c in calls for v in expected_values(c)]
    return key


def main(argv: list[str] | None = None) -> int:
    """``python -m shopsim.grading.answer_key JOB.json``: run a master and write its sealed key."""
    from shopsim.grading import runner

    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    workdir = Path(job["workdir"])
    os.chdir(workdir)
    nb = json.loads(Path(job["master"]).read_text(encoding="utf-8"))
    shell, errors = runner.run_cells(nb["cells"], set(), workdir, workdir / "at_cell")
    out: dict[str, Any]
    if errors:
        number, text = errors[0]
        out = {"error": f"cell {number} of the master raised {text}; the master must run top to bottom"}
    else:
        reveal: dict[str, list[Any]] | None = {} if job.get("reveal") else None
        try:
            out = {"key": record(shell.user_ns, job["lesson"], job["tests"], reveal)}
            if reveal is not None:
                out["expected"] = reveal
        except (KeyError_, questions.TestFormatError) as exc:
            out = {"error": str(exc)}
    Path(job["result"]).write_text(json.dumps(out, default=_plain), encoding="utf-8")
    return 0


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


if __name__ == "__main__":
    sys.exit(main())
