"""What an instructor gets from grading the fixture cohort: reports, LMS CSV, history, late work, statistics."""

import csv
import os
import shutil
from pathlib import Path

import pytest

from shopsim.grading import cli, report
from shopsim.grading.gradebook import FORMULA_STARTS, Gradebook, safe_cell

FIXTURE = Path(__file__).parent / "fixtures" / "course"
SUBMISSIONS = FIXTURE / "submissions"
DUE = "2026-04-01T18:00"  # Beijing time: 10:00 UTC


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The fixture submissions plus one trainee whose name a spreadsheet would read as a formula."""
    root = tmp_path_factory.mktemp("cohort")
    subs = root / "submissions"
    shutil.copytree(SUBMISSIONS, subs)
    shutil.copy(SUBMISSIONS / "correct.ipynb", subs / "=HYPERLINK(1).ipynb")
    for path in subs.glob("*.ipynb"):  # handed in 09:00 UTC (on time), the wrong one at 11:00 UTC (late)
        stamp = 1775034000 + (7200 if path.stem == "wrong" else 0)
        os.utime(path, (stamp, stamp))
    (root / "times.csv").write_text("trainee,submitted_at\nblank,2026-04-01T17:59\n", encoding="utf-8")
    book = root / "grades.db"
    args = ["grade", "ex-daily-report", *sorted(map(str, subs.glob("*.ipynb"))), "--course", str(FIXTURE),
            "--gradebook", str(book), "--lms", str(root / "lms.csv"), "--due", DUE, "--times", str(root / "times.csv"),
            "--timeout", "25", "--jobs", "2", "--no-progress"]
    code = cli.main(args)
    return root, book, code


def test_grading_writes_one_offline_html_report_per_trainee(cohort):
    root, _, code = cohort
    assert code == 0
    reports = {p.stem: p.read_text(encoding="utf-8") for p in (root / "reports" / "ex-daily-report").glob("*.html")}
    assert set(reports) >= {"correct", "wrong", "blank", "hanging", "tampered", "broken"}
    wrong = reports["wrong"]
    assert "0 of 7 points" in wrong and "looks like a percentage" in wrong and "not per unit sold" in wrong
    assert 'class="late"' in wrong and "http" not in wrong and "<script" not in wrong  # self-contained, offline
    assert "7 of 7 points" in reports["correct"] and 'class="late"' not in reports["correct"]


def test_the_lms_csv_is_wide_and_formula_safe(cohort):
    root, _, _ = cohort
    with (root / "lms.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    assert header == ["trainee", "conversion", "aov", "best_days", "cause", "total", "max_points", "status",
                      "submitted_at", "late"]
    by = {r["trainee"]: r for r in rows}
    assert "'=HYPERLINK(1)" in by and "=HYPERLINK(1)" not in by
    assert by["correct"]["total"] == "7.0" and by["wrong"]["late"] == "yes" and by["correct"]["late"] == "no"
    assert by["blank"]["submitted_at"] == "2026-04-01T09:59:00+00:00" and by["blank"]["late"] == "no"  # from times


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start):
    assert safe_cell(start + "1+1") == "'" + start + "1+1" and safe_cell(-3.0) == -3.0 and safe_cell("ok") == "ok"


def test_statistics_name_the_most_common_wrong_answers_and_their_hint(cohort):
    _, book, _ = cohort
    stats = report.statistics(Gradebook(book), "ex-daily-report").set_index("question")
    assert list(stats.index) == ["conversion", "aov", "best_days", "cause"]
    # right for conversion: correct, tampered, the formula-named copy of correct, and hanging, exiting and
    # crashing (graded on the answers they gave before they stopped); 9 trainees in all
    assert stats.loc["conversion", "trainees"] == 9 and stats.loc["conversion", "share_right"] == pytest.approx(6 / 9)
    answers = {(a, h) for a, h, _ in stats.loc["aov", "common_wrong"]}
    assert any("not per unit sold" in h for _, h in answers)
    text = report.statistics_text(report.statistics(Gradebook(book), "ex-daily-report"))
    assert "conversion: mean" in text and "x " in text
    assert report.plot_statistics(report.statistics(Gradebook(book), "ex-daily-report")).axes


def test_gradebook_commands_work_without_regrading(cohort, tmp_path, capsys):
    root, book, _ = cohort
    work = tmp_path / "grades.db"
    shutil.copy(book, work)
    assert cli.main(["gradebook", "--gradebook", str(work), "export", str(tmp_path / "w.csv")]) == 0
    assert cli.main(["gradebook", "--gradebook", str(work), "export", str(tmp_path / "l.csv"), "--long"]) == 0
    assert len((tmp_path / "l.csv").read_text(encoding="utf-8").splitlines()) == 1 + 9 * 4
    assert cli.main(["gradebook", "--gradebook", str(work), "stats", "ex-daily-report"]) == 0
    assert "share" not in capsys.readouterr().err
    assert cli.main(["gradebook", "--gradebook", str(work), "report", "ex-daily-report", "--out",
                     str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "correct.html").is_file()
    assert cli.main(["gradebook", "--gradebook", str(work), "remove", "blank"]) == 0
    assert "blank" not in {g.trainee for g in Gradebook(work).rows()}
    assert "blank" in {g.trainee for g in Gradebook(work).history()}  # history is kept
    assert cli.main(["gradebook", "--gradebook", str(work), "remove", "blank", "--with-history"]) == 2  # none left
    capsys.readouterr()
    assert cli.main(["gradebook", "--gradebook", str(tmp_path / "none.db"), "history"]) == 2
    assert "no gradebook" in capsys.readouterr().err


def test_regrading_keeps_the_history(cohort, tmp_path, capsys):
    _, book, _ = cohort
    work = tmp_path / "grades.db"
    shutil.copy(book, work)
    args = ["grade", "ex-daily-report", str(SUBMISSIONS / "correct.ipynb"), "--course", str(FIXTURE),
            "--gradebook", str(work), "--reports", str(tmp_path / "r"), "--no-progress"]
    assert cli.main(args) == 0
    capsys.readouterr()
    assert cli.main(["gradebook", "--gradebook", str(work), "history", "--trainee", "correct"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "correct" in line]
    assert len(lines) == 2 and all(line.endswith("7/7") for line in lines)
    assert "Graded 2 times" in (tmp_path / "r" / "correct.html").read_text(encoding="utf-8")


def test_a_bad_deadline_is_one_clear_error(tmp_path, capsys):
    args = ["grade", "ex-daily-report", str(SUBMISSIONS / "correct.ipynb"), "--course", str(FIXTURE),
            "--gradebook", str(tmp_path / "g.db"), "--due", "next friday", "--no-progress"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "--due 'next friday' is not a date and time" in err and err.count("\n") == 1
