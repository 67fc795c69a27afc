"""A lesson that ships its own file: built next to the student copy, provided when grading, found by nbval."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shopsim.grading import build, cli

CSV = "sku,units\nSERUM-30,1800\nMASK-5,600\n"


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _master(config: str, *, read: str = "plan.csv") -> dict:
    hidden = ("# HIDDEN\ndef test_units_value(units):\n    import pandas as pd\n\n"
              "    from shopsim.grading import checks\n\n"
              f"    plan = pd.read_csv({read!r})\n"
              "    checks.number(units, plan['units'].sum(), name='units', unit='units', hint='Add up the plan.')\n\n\n"
              "test_units_value(units)")
    cells = [
        _cell("raw", f"# ASSIGNMENT CONFIG\nname: ex-plan\n{config}"),
        _cell("markdown", "# The month's plan"),
        _cell("code", 'import pandas as pd\n\nplan = pd.read_csv("plan.csv")\nplan'),
        _cell("raw", "# BEGIN QUESTION\nname: units\npoints: 2"),
        _cell("markdown", "**Exercise.** How many units does the plan sell in all?"),
        _cell("raw", "# BEGIN SOLUTION"),
        _cell("code", 'units = plan["units"].sum()  # SOLUTION'),
        _cell("raw", "# END SOLUTION"),
        _cell("raw", "# BEGIN TESTS"),
        _cell("code", "def test_units_is_a_count(units):\n    from shopsim.grading import checks\n\n"
                      "    checks.number(units, name='units', whole=True, between=(0, 1e6))\n\n\n"
                      "test_units_is_a_count(units)"),
        _cell("code", hidden),
        _cell("raw", "# END TESTS"),
        _cell("raw", "# END QUESTION"),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def _course(tmp_path: Path, config: str = "files: [plan.csv]\n", **kw) -> Path:
    root = tmp_path / "course"
    (root / "source").mkdir(parents=True)
    (root / "source" / "plan.csv").write_text(CSV, encoding="utf-8")
    (root / "source" / "ex-plan.ipynb").write_text(json.dumps(_master(config, **kw)), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = _course(tmp_path_factory.mktemp("support"))
    assert cli.main(["course", "build", "--course", str(root)]) == 0
    return root


def _answered(course: Path, answer: str, to: Path) -> Path:
    nb = json.loads((course / "lessons" / "ex-plan.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "otter_answer_cell" in cell["metadata"].get("tags", []):
            cell["source"] = answer
    to.write_text(json.dumps(nb), encoding="utf-8")
    return to


def test_build_copies_the_support_file_next_to_the_student_copy(course):
    assert (course / "lessons" / "plan.csv").read_text(encoding="utf-8") == CSV
    assert build.build_course(course, check=True).in_sync
    (course / "lessons" / "plan.csv").write_text("changed", encoding="utf-8")
    report = build.build_course(course, check=True)
    assert [p.name for p in report.differing] == ["plan.csv"]
    build.build_course(course)


def test_the_grader_provides_the_file(course, tmp_path, capsys):
    right = _answered(course, 'units = plan["units"].sum()', tmp_path / "li_na.ipynb")
    wrong = _answered(course, 'units = plan["units"].max()', tmp_path / "wang_fang.ipynb")
    code = cli.main(["grade", "ex-plan", str(right), str(wrong), "--course", str(course), "--gradebook",
                     str(tmp_path / "g.db"), "--no-progress"])
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:3] for line in out.splitlines()[1:3]}
    assert code == 0 and lines == {"li_na": ["2/2", "graded"], "wang_fang": ["0/2", "graded"]}, out


def test_the_checks_read_the_graders_copy_not_the_sandboxs(course, tmp_path, capsys):
    """The notebook runs in the sandbox; the checks run outside it, beside a fresh copy of the files."""
    answer = 'units = plan["units"].sum()\nimport os\n\nos.chmod("plan.csv", 0o644)\nos.remove("plan.csv")'
    sub = _answered(course, answer, tmp_path / "li_na.ipynb")
    code = cli.main(["grade", "ex-plan", str(sub), "--course", str(course), "--gradebook", str(tmp_path / "g.db"),
                     "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[1].split()[1:3] == ["2/2", "graded"], out


def test_a_support_file_may_not_take_a_name_the_grader_uses(tmp_path):
    root = _course(tmp_path, config="files: [job.json]\n")
    (root / "source" / "job.json").write_text("{}", encoding="utf-8")
    with pytest.raises(build.BuildError, match="'job.json' is a name the grader uses"):
        build.build_lesson(root / "source" / "ex-plan.ipynb")


def test_nbval_finds_the_file_next_to_the_student_copy(course):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "-o", "addopts=", "ex-plan.ipynb"], cwd=course / "lessons", capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]


def test_a_file_the_lesson_does_not_list_is_the_instructors_problem(tmp_path, capsys):
    root = _course(tmp_path, config="")  # reads plan.csv but does not list it
    assert cli.main(["course", "build", "--course", str(root)]) == 2
    err = capsys.readouterr().err
    assert "FileNotFoundError" in err and "instructor's problem" in err and err.count("\n") == 1


def test_a_check_failing_by_itself_while_grading_exits_non_zero(course, tmp_path, monkeypatch, capsys):
    right = _answered(course, "units = 2400", tmp_path / "li_na.ipynb")
    monkeypatch.setattr(build.Lesson, "provide_files", lambda self, folder: None)  # the file goes missing
    code = cli.main(["grade", "ex-plan", str(right), "--course", str(course), "--gradebook", str(tmp_path / "g.db"),
                     "--no-progress"])
    assert code == 3
    assert "failed by itself" in capsys.readouterr().err


def test_mode_exam_checks_the_form_only(tmp_path):
    root = _course(tmp_path, config="files: [plan.csv]\nmode: exam\n")
    lesson = build.build_lesson(root / "source" / "ex-plan.ipynb")
    assert lesson.mode == "exam" and lesson.student["metadata"]["shopsim"]["mode"] == "exam"
    assert "answer_key" not in lesson.text
    with pytest.raises(build.BuildError, match="mode: 'quiz' is not a lesson mode"):
        build.build_lesson(_course(tmp_path / "b", config="mode: quiz\n") / "source" / "ex-plan.ipynb")
