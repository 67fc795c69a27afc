"""The capstone leaderboard: batch grading keeps each trainee's capstone result; the gradebook ranks a cohort."""

import pandas as pd
import pytest

from shopsim.grading import batch, capstone, cli, report
from shopsim.grading.gradebook import CapstoneResult, Grade, Gradebook, GradebookError

LESSON = "11-capstone"


def _grades(trainee, points):
    return [Grade(trainee, LESSON, "capstone_policy", points, 10.0, "2026-04-30T10:00:00+00:00", "h", "graded"),
            Grade(trainee, LESSON, "month_report", 3.0, 3.0, "2026-04-30T10:00:00+00:00", "h", "graded")]


def _result(trainee, score, profit, status="ok"):
    return CapstoneResult(trainee, LESSON, "capstone_april", "201,202,203", score, profit, status,
                          "" if status == "ok" else "seed 201, day 3: the policy raised KeyError", "2026-04-30T10:00")


@pytest.fixture
def book(tmp_path):
    book = Gradebook(tmp_path / "grades.db")
    cohort = [("li", 7, 72.5, 98_000.0, "ok"), ("wang", 10, 91.0, 104_000.0, "ok"), ("zhao", 0, 0.0, None, "error"),
              ("chen", 7, 72.5, 97_000.0, "ok"), ("sun", 7, 72.5, 97_000.0, "ok")]
    for trainee, pts, score, profit, status in cohort:
        book.record(_grades(trainee, pts), [_result(trainee, score, profit, status)])
    return book


def test_the_leaderboard_ranks_by_score_then_profit_and_ties_share_a_rank(book):
    table = report.leaderboard(book, LESSON)
    assert list(table["trainee"]) == ["wang", "li", "chen", "sun", "zhao"]
    assert list(table["rank"]) == [1, 2, 3, 3, 5]
    assert list(table["lesson_points"]) == [13, 10, 10, 10, 3] and (table["max_points"] == 13).all()
    assert pd.isna(table.loc[4, "mean_profit"]) and table.loc[4, "status"] == "error"


def test_a_regrade_replaces_the_capstone_row_and_remove_deletes_it(book):
    book.record(_grades("li", 10), [_result("li", 95.0, 106_000.0)])
    assert report.leaderboard(book, LESSON)["trainee"].iloc[0] == "li"
    book.record(_grades("li", 0))  # graded again without a capstone result: the old one goes
    assert "li" not in set(report.leaderboard(book, LESSON)["trainee"])
    book.remove("wang", LESSON)
    assert [c.trainee for c in book.capstone(LESSON)] == ["chen", "sun", "zhao"]


def test_the_command_prints_the_ranking_by_prefix_and_writes_csv(book, tmp_path, capsys):
    out = tmp_path / "board.csv"
    assert cli.main(["gradebook", "--gradebook", str(book.path), "leaderboard", "11", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["rank", "trainee", "score", "mean"]
    assert lines[2].split()[:4] == ["1", "wang", "91.0", "104,000"]
    assert "zhao" in lines[-2] and "-" in lines[-2].split() and "60 = rule_based" in lines[-1]
    assert list(pd.read_csv(out)["trainee"]) == ["wang", "li", "chen", "sun", "zhao"]


def test_an_unknown_lesson_is_one_line_and_exit_2(book, capsys):
    assert cli.main(["gradebook", "--gradebook", str(book.path), "leaderboard", "07"]) == 2
    assert "lessons with a capstone: 11-capstone" in capsys.readouterr().err
    with pytest.raises(GradebookError, match="no capstone results"):
        report.leaderboard(book, "12")


def test_batch_grading_keeps_the_capstone_evaluation_the_checks_made(monkeypatch):
    table = pd.DataFrame({"seed": [201, 202], "profit": [90_000.0, 110_000.0], "do_nothing": [50_000.0, 60_000.0],
                          "points": [70.0, 80.0], "why": ["", ""]})
    evaluation = capstone.Evaluation(table, 75.0, "ok", "", ("do_nothing",))
    monkeypatch.setattr(capstone, "evaluate_policy", lambda *a, **k: evaluation)
    monkeypatch.setattr(capstone, "_EVALUATION_CACHE", {})
    with capstone.collecting() as seen:
        capstone.evaluate_cached("def policy(view):\n    pass\n", "capstone_april", (201, 202), None, 60.0)
    assert seen == [("capstone_april", (201, 202), evaluation)]
    sub = batch.Submission(path=__import__("pathlib").Path("li.ipynb"), trainee="li", digest="h", notebook={})
    lesson = type("L", (), {"name": LESSON})()
    [row] = batch._capstone_result(sub, lesson, "now", {batch._CAPSTONE: seen[-1]})
    assert (row.score, row.mean_profit, row.seeds, row.status) == (75.0, 100_000.0, "201,202", "ok")
    assert batch._capstone_result(sub, lesson, "now", {batch._CAPSTONE: None}) == []
