"""The trainee's progress summary and the question format it runs (otter's exception-based tests)."""

import json
from pathlib import Path

import pytest

import shopsim
from shopsim.grading import progress, questions

STUDENT = Path(__file__).parent / "fixtures" / "course" / "lessons" / "ex-daily-report.ipynb"


@pytest.fixture(scope="module")
def tables():
    return shopsim.simulate("baseline", days=7, seed=7).tables


@pytest.fixture
def answers(tables) -> dict:
    daily, buyers = tables["daily"], tables["orders"]["customer_id"].nunique()
    return {"daily": daily, "conversion": buyers / tables["sessions"]["customer_id"].nunique(),
            "aov": daily["gmv"].sum() / buyers, "best_days": daily.nlargest(3, "gmv")[["date", "gmv"]],
            "cause": "c"}


def test_blank_lesson_shows_every_exercise_not_answered():
    p = progress(STUDENT, {"conversion": ..., "aov": ..., "best_days": None})
    assert list(p.table["exercise"]) == ["conversion", "aov", "best_days", "cause"]  # notebook order
    assert list(p.table["status"]) == ["not answered"] * 4
    assert (p.points, p.possible) == (0, 7)
    assert "0 of 4 exercises right" in repr(p) and "0 of 7 points" in repr(p)


def test_answered_lesson_passes_its_public_checks(answers):
    p = progress(STUDENT, answers)
    assert list(p.table["status"]) == ["passed"] * 4 and (p.points, p.possible) == (7, 7)
    assert "<table>" in p._repr_html_() and "✔" in p._repr_html_()


def test_wrong_answers_get_feedback_and_partial_points(answers):
    right = answers["conversion"]
    answers.update(conversion=2.5, cause="z", best_days=answers["best_days"][["date"]])
    p = progress(STUDENT, answers)
    table = p.table.set_index("exercise")
    assert table.loc["aov", "status"] == "passed" and p.points == 2
    assert "percentage" in table.loc["conversion", "feedback"]
    assert "not one of the options" in table.loc["cause", "feedback"]
    assert "'gmv'" in table.loc["best_days", "feedback"]
    assert "percentage" in repr(p)
    answers.update(conversion=right * 1.5, cause="a")
    table = progress(STUDENT, answers).table.set_index("exercise")
    assert "not right yet" in table.loc["conversion", "feedback"] and table.loc["conversion", "points"] == 0
    assert "which factor of the formula did not move" in table.loc["cause", "feedback"]


def test_progress_reads_the_callers_globals_and_grader():
    class Grader:  # what otter.Notebook keeps: the notebook's path
        _notebook = str(STUDENT)

    namespace = {"progress": progress, "grader": Grader(), "conversion": 0.02, "aov": ..., "best_days": ...,
                 "cause": ...}
    exec("result = progress()", namespace)  # as a notebook cell would call it
    row = namespace["result"].table.set_index("exercise").loc["conversion"]
    assert row["status"] == "needs work" and "not right yet" in row["feedback"]  # a rate, but not the right one


def test_progress_without_a_notebook_says_what_it_needs(tmp_path):
    with pytest.raises(ValueError, match="grader"):
        progress(None, {})
    with pytest.raises(FileNotFoundError, match="cannot find the lesson notebook"):
        progress(tmp_path / "nope.ipynb", {})
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot read the checks"):
        progress(bad, {})


def test_an_exception_inside_a_check_is_feedback_not_a_crash():
    source = ("from otter.test_files import test_case\nname = 'q'\npoints = 3\n"
              "@test_case(points=None, hidden=False)\ndef test_a(x):\n    return 1 / x\n"
              "@test_case(points=2, hidden=True)\ndef test_b(env):\n    assert env['x'] > 5, 'too small'\n")
    q = questions.parse(source)
    assert [c.points for c in q.cases] == [0.0, 3.0] and q.possible == 3  # form is worth 0: its point moves
    result = questions.run(q, {"x": 0})
    assert not result.passed and result.points == 0 and result.status == "needs work"
    assert "ZeroDivisionError" in result.feedback and "too small" not in result.feedback  # the form gates
    assert [c.kind for c in result.cases] == ["error", questions.GATED]
    assert "too small" in questions.run(q, {"x": 1}).feedback
    assert questions.run(q, {"x": 10}).points == 3
    public_only = questions.run(q, {"x": 1}, include_hidden=False)
    assert (public_only.points, public_only.possible, public_only.passed) == (0, 3, True)


def test_a_check_that_fails_by_itself_is_the_instructors_problem():
    source = ("name = 'q'\npoints = 1\n@test_case(hidden=True)\ndef test_a(x):\n"
              "    open('a-file-the-lesson-forgot.csv')\n")
    result = questions.run(questions.parse(source), {"x": 1})
    assert result.status == "check error" and "instructor" in result.feedback
    assert result.cases[0].kind == questions.CHECK_ERROR


@pytest.mark.parametrize("total, declared, resolved", [
    (None, [None, None], [0.5, 0.5]), (4, [None, 1, None], [1.5, 1, 1.5]), ([1, 2], [None, None], [1, 2]),
    (None, [2, None], [2, 0]),
])
def test_points_follow_otters_rules(total, declared, resolved):
    assert questions._resolve_points(total, declared) == resolved


def test_malformed_test_files_are_reported():
    with pytest.raises(questions.TestFormatError, match="does not set `name`"):
        questions.parse("x = 1")
    with pytest.raises(questions.TestFormatError, match="does not run"):
        questions.parse("name = 'q'\n1/0")
    with pytest.raises(questions.TestFormatError, match="more points"):
        questions.parse("name='q'\npoints=1\n@test_case(points=2)\ndef t(): pass\n")
    nb = json.loads(STUDENT.read_text(encoding="utf-8"))
    nb["metadata"]["otter"]["tests"] = ["not", "a", "mapping"]
    with pytest.raises(questions.TestFormatError, match="not a mapping"):
        questions.from_notebook(nb)


def test_a_renamed_copy_of_the_lesson_still_finds_its_checks(tmp_path):
    from shopsim.grading import Grader

    (tmp_path / "Copy of ex-daily-report.ipynb").write_text(STUDENT.read_text(encoding="utf-8"), encoding="utf-8")
    checked = Grader(tmp_path / "ex-daily-report.ipynb").check("cause", {"cause": "c"})
    assert checked.result.passed
