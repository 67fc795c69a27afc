"""Graded questions: otter's exception-based test files, parsed and run without importing otter.

``otter assign`` stores each question's tests as a small Python file (in a notebook's
metadata under ``otter.tests``, public tests only in the student copy, every test in the
autograder copy)::

    from otter.test_files import test_case
    name = "conversion"
    points = 2
    @test_case(points=None, hidden=False)
    def test_conversion_is_a_rate(conversion): ...

This module reads that format and runs the cases against a notebook's globals, so the
notebook's checks, the progress summary and the batch grader give the same verdicts without
otter's three-second import.

Form and value. Public cases check an answer's *form* (a share between 0 and 1, a table
with these columns) and are worth 0 points; hidden cases and the sealed practice case
(:data:`VALUE_CASE`, see :mod:`shopsim.grading.answer_key`) check the *value* and share the
question's points (otter's rule: ``points: 2`` is shared equally, ``points: [0, 2]`` or
``@test_case(points=...)`` set them per case, and the form cases' share moves to the value
cases). A value case runs only when every form case passed, so a trainee reads one message
at a time, and an answer of the wrong form scores 0.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shopsim.grading import checks

_OTTER_IMPORT = re.compile(r"^from otter\.test_files import test_case\s*$", re.MULTILINE)
_CHECK_CALL = re.compile(r"""\.check\(\s*["']([^"']+)["']\s*\)""")

#: Name of the test case ``course build`` adds to a practice lesson's public tests: the
#: value check against the sealed answer key.
VALUE_CASE = "value check"
#: Kind of a case that did not run because a form case failed first.
GATED = "gated"
#: Kind of a case that failed by itself (a missing file, a broken import): the instructor's problem.
CHECK_ERROR = "check_error"
_INSTRUCTOR_ERRORS = (OSError, ImportError)
#: The sentence a check error's feedback ends with.
INSTRUCTOR_NOTE = "This is a problem for your instructor, not a fault of your answer."


class TestFormatError(ValueError):
    """A test file that is not in otter's exception-based format."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Case:
    """One test case of a question. ``points`` are resolved (never None)."""

    name: str
    func: Callable[..., Any]
    hidden: bool
    points: float

    @property
    def checks_value(self) -> bool:
        """A value case (hidden, or the sealed practice check), as opposed to a form case."""
        return self.hidden or self.name == VALUE_CASE


@dataclass(frozen=True)
class Question:
    """A graded question: its name, its test cases and the points it is worth."""

    name: str
    cases: tuple[Case, ...]
    total: float = 0.0

    @property
    def possible(self) -> float:
        """Points available for this question (all of them on its value cases)."""
        return self.total


@dataclass(frozen=True)
class CaseResult:
    """The verdict of one case: passed, or the feedback message and its kind."""

    case: str
    hidden: bool
    passed: bool
    points: float
    message: str = ""
    kind: str = ""


@dataclass(frozen=True)
class QuestionResult:
    """A question's verdict: points earned out of ``possible`` and each case's feedback."""

    name: str
    points: float
    possible: float
    cases: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every case passed."""
        return all(c.passed for c in self.cases)

    @property
    def status(self) -> str:
        """``passed``, ``not answered``, ``check error`` (the instructor's problem) or ``needs work``."""
        if self.passed:
            return "passed"
        failed = [c.kind for c in self.cases if not c.passed]
        if checks.UNANSWERED in failed:
            return "not answered"
        if CHECK_ERROR in failed:
            return "check error"
        return "needs work"

    @property
    def feedback(self) -> str:
        """The failed cases' messages, one per line (no expected values: see :mod:`checks`)."""
        return "\n".join(dict.fromkeys(c.message for c in self.cases if not c.passed and c.message))


class _TestCase:
    """Stand-in for ``otter.test_files.test_case``: records the decorated function and options."""

    def __init__(self, name: str | None = None, points: float | None = None, hidden: bool = False,
                 success_message: str | None = None, failure_message: str | None = None) -> None:
        self.name, self.points, self.hidden = name, points, bool(hidden)
        self.func: Callable[..., Any] | None = None

    def __call__(self, func: Callable[..., Any]) -> _TestCase:
        self.func = func
        return self


def _value_points(points: list[float], value: list[bool]) -> list[float]:
    """Move the form cases' points to the value cases (shared equally); form cases get 0."""
    if not any(value):
        return [0.0 for _ in points]
    form = sum(p for p, v in zip(points, value, strict=True) if not v)
    share = form / sum(value)
    return [p + share if v else 0.0 for p, v in zip(points, value, strict=True)]


def _resolve_points(total: Any, declared: list[float | None]) -> list[float]:
    """Otter's rule: explicit case points stay; the rest share ``total`` (or 1 point) equally."""
    if isinstance(total, list):
        if len(total) != len(declared):
            raise TestFormatError("points list has a different length than the number of test cases")
        return [float(p) for p in total]
    fixed = sum(p for p in declared if p is not None)
    free = sum(1 for p in declared if p is None)
    if total is not None:
        if fixed > total:
            raise TestFormatError("more points in test cases than the question is worth")
        share = (total - fixed) / free if free else 0.0
    elif fixed == 0:
        share = 1.0 / free if free else 0.0
    else:
        share = 0.0
    return [float(p) if p is not None else share for p in declared]


def parse(source: str, origin: str = "<test>") -> Question:
    """Parse one exception-based test file (as stored by ``otter assign``) into a Question."""
    namespace: dict[str, Any] = {"test_case": _TestCase, "__name__": "shopsim_grading_test"}
    try:
        exec(compile(_OTTER_IMPORT.sub("", source), origin, "exec"), namespace)  # instructor-written tests
    except Exception as exc:
        raise TestFormatError(f"{origin}: the test file does not run: {type(exc).__name__}: {exc}") from exc
    name = namespace.get("name")
    if not isinstance(name, str):
        raise TestFormatError(f"{origin}: the test file does not set `name`")
    found = [v for v in namespace.values() if isinstance(v, _TestCase) and v.func is not None]
    points = _resolve_points(namespace.get("points"), [t.points for t in found])
    total = float(sum(points))
    points = _value_points(points, [t.hidden or t.name == VALUE_CASE for t in found])
    cases = tuple(Case(t.name or f"{name} - {i + 1}", t.func, t.hidden, p)
                  for i, (t, p) in enumerate(zip(found, points, strict=True)) if t.func is not None)
    return Question(name, cases, total)


def from_notebook(nb: Mapping[str, Any]) -> list[Question]:
    """The questions stored in a notebook's metadata, in the order the notebook checks them."""
    tests = nb.get("metadata", {}).get("otter", {}).get("tests", {})
    if not isinstance(tests, Mapping):
        raise TestFormatError("the notebook's otter.tests metadata is not a mapping of question -> test file")
    order: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            order += _CHECK_CALL.findall("".join(src) if isinstance(src, list) else src)
    ranked = sorted(tests, key=lambda q: (order.index(q) if q in order else len(order), q))
    return [parse(tests[q], f"test {q}") for q in ranked]


def _arguments(func: Callable[..., Any], env: Mapping[str, Any]) -> dict[str, Any]:
    params = inspect.signature(func).parameters
    return {p: (env if p == "env" else env.get(p, checks.MISSING)) for p in params}


def run_case(case: Case, env: Mapping[str, Any]) -> CaseResult:
    """Run one case against ``env``; whatever it raises becomes feedback, never an exception."""
    try:
        case.func(**_arguments(case.func, env))
    except checks.CheckFailed as exc:
        return CaseResult(case.name, case.hidden, False, 0.0, str(exc), exc.kind)
    except AssertionError as exc:
        return CaseResult(case.name, case.hidden, False, 0.0, str(exc) or "a check did not pass",
                          checks.WRONG_VALUE)
    except _INSTRUCTOR_ERRORS as exc:  # the check's own material is missing: not the trainee's doing
        return CaseResult(case.name, case.hidden, False, 0.0,
                          f"the check itself could not run ({type(exc).__name__}: {exc}). {INSTRUCTOR_NOTE}",
                          CHECK_ERROR)
    except (Exception, SystemExit) as exc:  # a hidden check tripping over an odd answer
        return CaseResult(case.name, case.hidden, False, 0.0,
                          f"the check could not run on this answer ({type(exc).__name__}: {exc}); "
                          "look at the kind of value the exercise asks for.", checks.ERROR)
    return CaseResult(case.name, case.hidden, True, case.points)


def run(question: Question, env: Mapping[str, Any], *, include_hidden: bool = True) -> QuestionResult:
    """Run a question's cases (public only with ``include_hidden=False``) against ``env``.

    Form cases run first; value cases run only if every form case passed (otherwise they
    count as failed with the kind :data:`GATED` and no message of their own).
    """
    cases = [c for c in question.cases if include_hidden or not c.hidden]
    form = {id(c): run_case(c, env) for c in cases if not c.checks_value}
    form_ok = all(r.passed for r in form.values())
    results = tuple(form[id(c)] if id(c) in form
                    else run_case(c, env) if form_ok
                    else CaseResult(c.name, c.hidden, False, 0.0, "", GATED)
                    for c in cases)
    return QuestionResult(question.name, float(sum(r.points for r in results)), question.possible, results)
