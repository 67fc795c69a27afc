"""Course build: every notebook uses python3, student copies are generated deterministically and in sync."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from course_lessons import every_lesson

from shopsim.grading import build, cli

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "course"
MASTER = FIXTURE / "source" / "ex-daily-report.ipynb"


def _notebooks() -> list[Path]:
    found = sorted((REPO / "course").rglob("*.ipynb"))
    found += sorted(FIXTURE.glob("source/*.ipynb")) + sorted(FIXTURE.glob("lessons/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_notebook_uses_the_python3_kernel(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_the_committed_student_copies_are_in_sync(capsys):
    every_lesson()  # the masters' runs, split with another worker that needs them too (see course_lessons)
    assert cli.main(["course", "build", "--check", "--course", str(REPO / "course")]) == 0
    assert "in sync" in capsys.readouterr().out


def test_the_example_lessons_student_copy_is_in_sync():
    report = build.build_course(FIXTURE, check=True)
    assert report.in_sync and not report.written, report


@pytest.fixture(scope="module")
def lesson() -> build.Lesson:
    return build.build_lesson(MASTER)


@pytest.fixture
def course(tmp_path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(FIXTURE / "source", root / "source")
    shutil.copytree(FIXTURE / "lessons", root / "lessons")
    return root


def test_check_names_a_student_copy_that_differs_or_is_missing_and_build_restores_it(course, capsys):
    copy = course / "lessons" / "ex-daily-report.ipynb"
    committed = copy.read_bytes()
    copy.write_text(copy.read_text(encoding="utf-8").replace("Exercise 1", "Exercise one"), encoding="utf-8")
    assert cli.main(["course", "build", "--check", "--course", str(course)]) == 1
    out = capsys.readouterr().out
    assert "ex-daily-report.ipynb: differs from its master" in out
    assert copy.read_bytes() != committed  # --check writes nothing
    copy.unlink()
    assert cli.main(["course", "build", "--check", "--course", str(course)]) == 1
    assert "ex-daily-report.ipynb: missing" in capsys.readouterr().out
    assert cli.main(["course", "build", "--course", str(course)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert copy.read_bytes() == committed  # deterministic: the same bytes as the committed copy
    assert cli.main(["course", "build", "--course", str(course)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_check_names_a_student_copy_without_a_master(course, capsys):
    shutil.copy(course / "lessons" / "ex-daily-report.ipynb", course / "lessons" / "99-gone.ipynb")
    assert cli.main(["course", "build", "--check", "--course", str(course)]) == 1
    assert "99-gone.ipynb: student copy without a master" in capsys.readouterr().out


def test_a_changed_master_makes_the_copy_out_of_sync(course):
    master = course / "source" / "ex-daily-report.ipynb"
    master.write_text(master.read_text(encoding="utf-8").replace("highest GMV", "largest GMV"), encoding="utf-8")
    report = build.build_course(course, check=True)
    assert [p.name for p in report.differing] == ["ex-daily-report.ipynb"] and not report.in_sync


def test_the_student_copy_has_no_solutions_no_hidden_tests_no_outputs(lesson):
    text = lesson.text
    assert 'daily["buyers"].sum() / daily["uv"].sum()' not in text
    assert "conversion = ...\\nconversion" in text
    public = lesson.student["metadata"]["otter"]["tests"]
    assert set(public) == {"conversion", "aov", "best_days", "cause"}
    assert all("hidden=True" not in src for src in public.values())
    assert any("hidden=True" in src for src in lesson.tests.values())
    code = [c for c in lesson.student["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert code[-1]["source"] == build.PROGRESS_SOURCE
    ids = [c["id"] for c in lesson.student["cells"]]
    assert len(set(ids)) == len(ids)
    assert sorted(lesson.protected.values()).count('grader.check("aov")') == 1


def test_questions_carry_the_masters_points(lesson):
    assert {q.name: q.possible for q in lesson.questions()} == {"conversion": 2, "aov": 2, "best_days": 2, "cause": 1}


def _master(tmp_path: Path, edit) -> Path:
    nb = json.loads(MASTER.read_text(encoding="utf-8"))
    edit(nb)
    path = tmp_path / "ex-daily-report.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_bad_masters_get_one_clear_error(tmp_path):
    def kernel(nb):
        nb["metadata"]["kernelspec"]["name"] = "ir"

    with pytest.raises(build.BuildError, match="kernel 'ir'.*'python3'"):
        build.build_lesson(_master(tmp_path, kernel))

    def no_tests(nb):
        nb["cells"] = [c for c in nb["cells"] if c["cell_type"] != "raw"]

    with pytest.raises(build.BuildError, match="no graded questions"):
        build.build_lesson(_master(tmp_path, no_tests))

    def ok_format(nb):
        nb["cells"][0]["source"] = "# ASSIGNMENT CONFIG\ntests:\n  ok_format: true\n"

    with pytest.raises(build.BuildError, match="OK"):
        build.build_lesson(_master(tmp_path, ok_format))
    not_json = tmp_path / "x.ipynb"
    not_json.write_text("{ not json", encoding="utf-8")
    with pytest.raises(build.BuildError, match="not a notebook"):
        build.build_lesson(not_json)


def test_lesson_lookup_by_name_prefix_or_path(tmp_path):
    course = build.Course(FIXTURE)
    assert course.master("ex-daily-report") == MASTER
    assert course.master("ex-") == MASTER
    assert course.master(str(MASTER)) == MASTER
    with pytest.raises(build.BuildError, match="unknown lesson 'nope'; lessons: ex-daily-report"):
        course.master("nope")


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["course", "build", "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no source/ folder" in err and "Traceback" not in err


def test_the_blank_student_copy_runs_top_to_bottom_under_nbval_lax(tmp_path):
    """Unanswered exercises give feedback, not exceptions (a copy: otter writes .OTTER_LOG beside it)."""
    shutil.copy(FIXTURE / "lessons" / "ex-daily-report.ipynb", tmp_path / "ex-daily-report.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "-o", "addopts=", "ex-daily-report.ipynb"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_with_a_key_cache_a_master_runs_once_per_content_and_reveals_only_when_asked(tmp_path, monkeypatch):
    runs = []
    real = build._run_master

    def counted(master, nb, tests, files):
        runs.append(master.name)
        return real(master, nb, tests, files)

    monkeypatch.setattr(build, "_run_master", counted)
    monkeypatch.setenv(build.KEY_CACHE_ENV, str(tmp_path / "runs"))
    first = build.build_lesson(MASTER)
    again = build.build_lesson(MASTER)
    assert runs == ["ex-daily-report.ipynb"] and again.text == first.text
    nb = json.loads(MASTER.read_text(encoding="utf-8"))
    assert set(build.run_master(MASTER, nb, first.tests, first.files)) == {"key"}
    assert "expected" in build.run_master(MASTER, nb, first.tests, first.files, reveal=True)
    assert len(runs) == 1 and not list((tmp_path / "runs").glob("*.lock"))

    def reworded(master_nb):
        master_nb["cells"][0]["source"] = "# A reworded title\n"

    build.build_lesson(_master(tmp_path, reworded))
    assert len(runs) == 2, "a changed master runs again"
    monkeypatch.delenv(build.KEY_CACHE_ENV)
    build.build_lesson(MASTER)
    assert len(runs) == 3, "without the cache every build runs its master"
