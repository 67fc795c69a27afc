"""Batch grading of the sample submissions: every kind of notebook gets a row, none stops the batch."""

import csv
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from shopsim.grading import batch, build, cli
from shopsim.grading.gradebook import COLUMNS, Grade, Gradebook, GradebookError

FIXTURES = Path(__file__).parent / "fixtures"
MASTER = FIXTURES / "course" / "source" / "ex-daily-report.ipynb"
SUBMISSIONS = FIXTURES / "course" / "submissions"
TIMEOUT = 20.0  # seconds per submission: short, so the hanging sample costs little, but room on a busy machine


@pytest.fixture(scope="module")
def lesson() -> build.Lesson:
    return build.build_lesson(MASTER)


@pytest.fixture(scope="module")
def graded(lesson, tmp_path_factory):
    book = Gradebook(tmp_path_factory.mktemp("grades") / "grades.db")
    paths = sorted(SUBMISSIONS.glob("*.ipynb"))
    outcomes = batch.grade_batch(lesson, paths, book, jobs=2, timeout=TIMEOUT)
    return book, {o.submission.trainee: o for o in outcomes}


def test_the_sample_submissions_are_generated_from_the_example_lesson():
    spec = importlib.util.spec_from_file_location("make_submissions", FIXTURES / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.render().items():
        assert (SUBMISSIONS / name).read_text(encoding="utf-8") == text, f"regenerate {name}: see make_submissions.py"


def test_every_submission_gets_one_row_per_question(graded):
    book, outcomes = graded
    assert set(outcomes) == {"correct", "blank", "wrong", "hanging", "exiting", "crashing", "tampered", "broken"}
    rows = book.rows("ex-daily-report")
    assert len(rows) == 8 * 4
    assert {r.question for r in rows} == {"conversion", "aov", "best_days", "cause"}


@pytest.mark.parametrize("trainee, status, points, reason", [
    ("correct", "graded", 7, ""),
    ("blank", "graded", 0, ""),
    ("wrong", "cell_errors", 0, "(first in your answer to exercise `best_days`: KeyError: 'visitors')"),
    ("hanging", "timeout", 2, f"still running after {TIMEOUT:g} s in your answer to exercise `aov`"),
    ("exiting", "exited", 4, "exit code 3) in your answer to exercise `best_days`"),
    ("crashing", "crashed", 2, "SIGSEGV"),
    ("tampered", "tampered", 5, 'deleted the protected cell `grader.check("cause")`'),
    ("broken", "invalid", 0, "not a notebook"),
])
def test_status_points_and_reason(graded, trainee, status, points, reason):
    outcome = graded[1][trainee]
    assert (outcome.status, outcome.points, outcome.max_points) == (status, points, 7)
    assert reason in outcome.reason
    assert all(g.status == status and g.reason == outcome.reason for g in outcome.grades)


def test_feedback_is_recorded_in_operator_terms(graded):
    rows = {r.question: r for r in graded[0].rows() if r.trainee == "wrong"}
    assert "percentage" in rows["conversion"].feedback
    assert "not per unit sold" in rows["aov"].feedback
    assert "not defined" in rows["best_days"].feedback
    assert rows["cause"].points == 0  # a valid option (form, worth 0) but the wrong one (value)
    assert "percentage" in rows["conversion"].feedback and "not right" not in rows["conversion"].feedback  # gated
    blank = {r.question: r for r in graded[0].rows() if r.trainee == "blank"}
    assert all("not answered yet" in r.feedback for r in blank.values())


def test_tampered_notebooks_are_graded_with_the_trusted_checks(graded):
    outcome = graded[1]["tampered"]
    assert "edited the protected cell" in outcome.reason and "stored checks" in outcome.reason
    aov = next(g for g in outcome.grades if g.question == "aov")
    assert aov.points == 0  # its edited check cell set aov = 999: the hidden check still catches it


def test_regrading_replaces_rows_instead_of_duplicating_them(lesson, tmp_path):
    book = Gradebook(tmp_path / "grades.db")
    correct = SUBMISSIONS / "correct.ipynb"
    first = batch.grade_batch(lesson, [correct], book, jobs=1, timeout=60)[0]
    again = batch.grade_batch(lesson, [correct], book, jobs=1, timeout=60)[0]
    rows = book.rows()
    assert len(rows) == 4 and {r.submission_hash for r in rows} == {first.submission.digest}
    assert first.points == again.points == 7
    book.record([Grade("correct", "ex-daily-report", "aov", 0.0, 2.0, "2026-01-01T00:00:00+00:00", "x", "graded")])
    assert len(book.rows()) == 1  # a submission's rows are replaced as a whole
    assert book.export_csv(tmp_path / "g.csv") == 1
    with (tmp_path / "g.csv").open(encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS


def test_a_failed_transaction_leaves_the_previous_rows(tmp_path):
    book = Gradebook(tmp_path / "grades.db")
    row = Grade("li", "l1", "q1", 1.0, 1.0, "t", "h", "graded")
    book.record([row])
    with pytest.raises(sqlite3.IntegrityError):
        book.record([row, row])  # duplicate key: the whole replacement is rolled back
    assert book.rows() == [row]


def test_gradebook_errors_are_clear(tmp_path):
    not_db = tmp_path / "notes.db"
    not_db.write_text("shopping list: eggs, milk, a gradebook", encoding="utf-8")
    with pytest.raises(GradebookError, match="not a shopsim gradebook"):
        Gradebook(not_db)
    with pytest.raises(GradebookError, match="is a folder"):
        Gradebook(tmp_path)
    with pytest.raises(GradebookError, match="does not exist"):
        Gradebook(tmp_path / "missing" / "grades.db")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE grades (student TEXT)")
    with pytest.raises(GradebookError, match="other columns"):
        Gradebook(other)


@pytest.mark.parametrize("path, trainee", [
    ("cohort/zhang_wei.ipynb", "zhang_wei"),
    ("cohort/ex-daily-report_zhang_wei.ipynb", "zhang_wei"),
    ("cohort/zhang_wei-ex-daily-report.ipynb", "zhang_wei"),
    ("cohort/li_na/ex-daily-report.ipynb", "li_na"),
])
def test_trainee_identity_from_the_file_name(path, trainee):
    assert batch.trainee_of(Path(path), "ex-daily-report") == trainee


def test_trainee_identity_from_a_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("file,trainee\ns01.ipynb,zhang_wei\n", encoding="utf-8")
    names = batch.read_roster(roster)
    assert batch.trainee_of(Path("in/s01.ipynb"), "x", names) == "zhang_wei"
    with pytest.raises(batch.BatchError, match="not on the roster"):
        batch.trainee_of(Path("in/s02.ipynb"), "x", names)
    roster.write_text("name\nli\n", encoding="utf-8")
    with pytest.raises(batch.BatchError, match="file,trainee"):
        batch.read_roster(roster)


def test_bad_batches_are_refused_before_grading(lesson, tmp_path):
    book = Gradebook(tmp_path / "grades.db")
    with pytest.raises(batch.BatchError, match="no such submission file: .*nope.ipynb"):
        batch.grade_batch(lesson, [tmp_path / "nope.ipynb"], book)
    text = tmp_path / "answers.txt"
    text.write_text("42", encoding="utf-8")
    with pytest.raises(batch.BatchError, match="must be .ipynb notebooks"):
        batch.grade_batch(lesson, [text], book)
    (tmp_path / "a").mkdir()
    twin = tmp_path / "a" / "correct.ipynb"
    twin.write_bytes((SUBMISSIONS / "correct.ipynb").read_bytes())
    with pytest.raises(batch.BatchError, match="2 submissions belong to trainee 'correct'"):
        batch.grade_batch(lesson, [SUBMISSIONS / "correct.ipynb", twin], book)
    with pytest.raises(batch.BatchError, match="--jobs"):
        batch.grade_batch(lesson, [twin], book, jobs=0)
    assert book.rows() == []


def test_the_command_line_grades_and_exports(tmp_path):
    db, out = tmp_path / "grades.db", tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "shopsim.grading.cli", "grade", str(MASTER),
                          str(SUBMISSIONS / "correct.ipynb"), str(SUBMISSIONS / "broken.ipynb"), "--gradebook",
                          str(db), "--csv", str(out), "--jobs", "2", "--timeout", "60", "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "correct" in run.stdout and "7/7" in run.stdout and "invalid" in run.stdout
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"graded", "invalid"}


@pytest.mark.parametrize("argv, message", [
    (["grade", "nope", "x.ipynb"], "unknown lesson 'nope'"),
    (["grade", str(MASTER), "missing.ipynb"], "no such submission file: missing.ipynb"),
    (["grade", str(MASTER), str(MASTER), "--gradebook", "/no/such/dir/g.db"], "does not exist"),
])
def test_command_line_errors_are_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main([*argv[:1], "--course", str(FIXTURES / "course"), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_command_line_rejects_bad_numbers(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["grade", str(MASTER), "x.ipynb", "--jobs", "0"])
    assert info.value.code == 2 and "must be more than 0" in capsys.readouterr().err


def test_the_runner_reports_usage():
    run = subprocess.run([sys.executable, "-m", "shopsim.grading.runner"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "usage" in run.stderr


def test_students_protected_cells_are_found_by_source(lesson):
    nb = json.loads((SUBMISSIONS / "correct.ipynb").read_text(encoding="utf-8"))
    assert batch.tampering(nb, lesson) == []
    odd = {**nb, "metadata": {"otter": ["not", "a", "mapping"]}}
    assert batch.tampering(odd, lesson) == ["changed the notebook's stored checks (metadata)"]
    for cell in nb["cells"]:
        cell["id"] = "renumbered"  # an editor may renumber ids: sources still match
    assert batch.tampering(nb, lesson) == []


def test_the_runner_survives_magics_plots_and_exit(tmp_path):
    """Lesson cells with %matplotlib, plt.show(), exit() and sys.exit() are cells, not the end of grading."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom shopsim.grading import runner\n"
        "cells = [{'cell_type': 'code', 'source': s} for s in [\n"
        "    '%matplotlib inline\\nimport matplotlib.pyplot as plt\\nplt.plot([1, 2])\\nplt.show()',\n"
        "    'exit()', 'import sys\\nsys.exit(0)', 'x = 41 + 1', 'print(\"a\" * 100000)']]\n"
        "job = {'answers': 'answers', 'progress_file': 'at_cell', 'skip': [], 'names': ['x']}\n"
        "errors = runner.execute(cells, job, Path('.'))\n"
        "print(errors, Path('answers/x.json').read_text(), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip().splitlines()[-1] == """[(3, 'SystemExit: 0')] {"t": "int", "v": "42"}"""
    assert run.stdout == ""  # the notebook's output is swallowed, not passed to the grader's terminal


@pytest.mark.parametrize("content, problem", [
    ("\xff\xfe", "not a notebook"),
    ('{"cells": [], "nbformat": 3}', "format 4"),
    ('{"cells": [42], "nbformat": 4, "metadata": {}}', "damaged"),
    ('{"cells": [{"cell_type": "code", "source": 7}], "nbformat": 4}', "damaged"),
    ('{"cells": [], "nbformat": 4, "metadata": []}', "damaged"),
])
def test_damaged_notebooks_are_invalid_not_a_crash(tmp_path, content, problem):
    path = tmp_path / "li_na.ipynb"
    path.write_bytes(content.encode("latin-1"))
    sub = batch.read_submission(path, "ex-daily-report")
    assert sub.notebook is None and problem in sub.problem and sub.trainee == "li_na"
