"""Hostile submissions: each earns no more than its honest score, and the batch always finishes.

Every attack is a cell added to an honest notebook of the example lesson: the blank one
(honest score 0) or the correct one (honest score 7). One batch grades them all next to a
victim (a correct notebook another trainee handed in). After it, for every submission:
points <= honest points; the gradebook holds exactly what the summary printed; the victim
still has 7/7; no process of a submission is alive, no work folder of the batch is left,
nothing was written outside the sandboxes, and nothing connected to the grader's port.
"""

import json
import os
import socket
import sqlite3
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest

from shopsim.grading import batch, build, cli, sandbox
from shopsim.grading.gradebook import Gradebook

pytestmark = pytest.mark.skipif(not sandbox.available()[0], reason=f"no sandbox here: {sandbox.available()[1]}")

FIXTURES = Path(__file__).parent / "fixtures"
MASTER = FIXTURES / "course" / "source" / "ex-daily-report.ipynb"
SUBMISSIONS = FIXTURES / "course" / "submissions"
TIMEOUT = 20.0
MARK = f"shopsim-hostile-{uuid.uuid4().hex[:12]}"

#: name -> (base notebook, attack cell[, honest twin]). {BOOK} {MASTER} {PEERS} {OUT} {MARK} {PORT} are
#: filled in. An attack that also gives answers has an honest twin: the same answers as plain
#: values, graded in the same batch; its score is the attack's honest score.
ATTACKS = {
    # forged results: files where a grader might look for points
    "forge_result_file": ("blank", """
        import json, os
        for path in ["result.json", "../result.json", "/sandbox/result.json", "/tmp/result.json"]:
            try:
                json.dump({"questions": [{"question": q, "points": 400, "max_points": 1, "status": "passed",
                                          "feedback": ""} for q in ["conversion", "aov", "best_days", "cause"]],
                           "cell_errors": []}, open(path, "w"))
            except OSError:
                pass
    """),
    "forge_atexit": ("blank", """
        import atexit, json
        def forge():
            json.dump({"questions": [{"question": "cause", "points": 8, "max_points": 1}]}, open("result.json", "w"))
            open("answers/cause.json", "w").write('{"t": "passed", "points": 400}')
        atexit.register(forge)
    """),
    "forge_points_in_answers": ("blank", """
        import json
        open("/sandbox/answers/conversion.json", "w").write(json.dumps({"t": "passed", "points": 400}))
        open("/sandbox/answers/points.json", "w").write(json.dumps({"t": "int", "v": "400"}))
        import os; os._exit(0)
    """),
    # patched checks: the checks run in the grader, not here
    "patch_run_case": ("blank", """
        import shopsim.grading.questions as q
        q.run_case = lambda case, env: q.CaseResult(case.name, case.hidden, True, 100.0)
        q.run = lambda question, env, include_hidden=True: q.QuestionResult(question.name, 100.0, 100.0, ())
    """),
    "patch_checks_module": ("blank", """
        import builtins, shopsim.grading.checks as ck
        for name in dir(ck):
            if callable(getattr(ck, name)) and not name.startswith("_") and name != "CheckFailed":
                setattr(ck, name, lambda *a, **k: None)
        builtins.isinstance = lambda *a: True
        conversion, aov, best_days, cause = 0.5, 1.0, None, "(B)"
    """, """
        conversion, aov, best_days, cause = 0.5, 1.0, None, "(B)"
    """),
    "patch_sys_modules": ("blank", """
        import sys, types
        fake = types.ModuleType("shopsim.grading.questions")
        sys.modules["shopsim.grading.questions"] = fake
        sys.modules["shopsim.grading.checks"] = fake
    """),
    # answers that lie about themselves
    "lying_objects": ("blank", """
        import pandas as pd
        class Yes(float):
            def __eq__(self, other): return True
            def __sub__(self, other): return 0.0
            def __rsub__(self, other): return 0.0
            def __abs__(self): return 0.0
        class AlwaysEqual(pd.DataFrame):
            def equals(self, other): return True
            def __eq__(self, other): return True
        class Same(str):
            def __eq__(self, other): return True
            def __hash__(self): return 0
        conversion, aov = Yes(0.0), Yes(0.0)
        best_days = AlwaysEqual({"date": [], "gmv": []})
        cause = Same("x")
    """, """
        import pandas as pd
        conversion, aov, best_days, cause = 0.0, 0.0, pd.DataFrame({"date": [], "gmv": []}), "x"
    """),
    "unpicklable_answers": ("blank", """
        import threading
        conversion = threading.Lock()
        aov = lambda: 42
        class Deep: pass
        d = x = []
        for _ in range(10000):
            x.append([]); x = x[0]
        best_days = d
        cause = {"nested": d}
    """),
    # the grader's own files, peers, the masters, the network
    "read_solutions_and_peers": ("blank", """
        import glob, json, os, re
        text = ""
        for path in ["{MASTER}", *glob.glob("{PEERS}/*.ipynb"), *glob.glob("/work/**/*.ipynb", recursive=True)]:
            try:
                text += open(path).read()
            except OSError:
                pass
        found = re.findall(r'cause = \\\\"(\\w)\\\\"\\s+# SOLUTION', text)
        cause = found[0] if found else "a"
    """, """
        cause = "a"
    """),
    "proc_walk_to_gradebook": ("blank", """
        import glob, os, sqlite3
        hits = []
        for link in glob.glob("/proc/*/cwd") + glob.glob("/proc/*/root") + ["/proc/1/cwd"]:
            try:
                for name in os.listdir(link):
                    hits.append(os.path.join(link, name))
            except OSError:
                pass
        for path in hits + ["{BOOK}"] + glob.glob("/proc/*/cwd/*.db"):
            if path.endswith(".db"):
                try:
                    with sqlite3.connect(path, timeout=1) as conn:
                        conn.execute("UPDATE grades SET points = 999")
                except Exception:
                    pass
        try:
            os.kill(os.getppid(), 9)
        except OSError:
            pass
    """),
    "lock_the_gradebook": ("blank", """
        import sqlite3, time
        try:
            conn = sqlite3.connect("{BOOK}", timeout=1)
            conn.execute("BEGIN EXCLUSIVE")
        except Exception:
            pass
        time.sleep(2)
    """),
    "network": ("blank", """
        import socket, urllib.request
        for target in [("127.0.0.1", {PORT}), ("1.1.1.1", 53)]:
            try:
                socket.create_connection(target, timeout=2).sendall(b"grades please")
            except OSError:
                pass
        try:
            urllib.request.urlopen("http://example.com", timeout=2)
        except Exception:
            pass
    """),
    "write_outside": ("blank", """
        import os
        for path in ["{OUT}/escaped", "{PEERS}/victim.ipynb", "/tmp/{MARK}", os.path.expanduser("~/{MARK}")]:
            try:
                open(path, "w").write("owned")
            except OSError:
                pass
    """),
    # escaping the kill: processes that outlive the notebook
    "double_fork": ("blank", """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sh", ["sh", "-c", "sleep 4; echo owned > {OUT}/late # {MARK}"])
            os._exit(0)
    """),
    "nohup_daemon": ("blank", """
        import subprocess
        subprocess.Popen(["nohup", "sh", "-c", "sleep 60 # {MARK}"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    """),
    "kill_everything": ("blank", """
        import os, signal
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    """),
    # resources
    "memory_hog": ("blank", "x = bytearray(6 * 1024 ** 3)"),
    "fork_bomb": ("blank", """
        import os, time
        for _ in range(2000):
            try:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
            except OSError:
                break
    """),
    "disk_filler": ("blank", """
        for i in range(50):
            try:
                open(f"/sandbox/fill{i}", "wb").write(b"x" * 200 * 1024 ** 2)
            except OSError:
                pass
    """),
    "output_flood": ("blank", """
        import os, sys
        sys.__stdout__.write("x" * 50_000_000)
        os.write(2, b"y" * 50_000_000)
    """),
    "deep_recursion": ("blank", """
        import sys
        sys.setrecursionlimit(10 ** 7)
        def down(n): return down(n + 1)
        down(0)
    """),
    "cpu_burn": ("blank", "while True:\n    pass"),
    # answer files that attack the grader reading them
    "answer_fifo": ("blank", """
        import os
        os.mkfifo("/sandbox/answers/conversion.json")
        os._exit(0)
    """),
    "answer_symlinks": ("blank", """
        import os
        os.symlink("/etc/passwd", "/sandbox/answers/cause.json")
        os.symlink("{BOOK}", "/sandbox/answers/aov.json")
        os.symlink("/dev/zero", "/sandbox/answers/best_days.json")
        os._exit(0)
    """),
    "answer_bombs": ("blank", """
        import json, os
        open("/sandbox/answers/conversion.json", "w").write("[" * 200000 + "]" * 200000)
        open("/sandbox/answers/aov.json", "w").write('{"t": "int", "v": "' + "9" * 5_000_000 + '"}')
        open("/sandbox/answers/best_days.json", "w").write('{"t": "frame"}')
        open("/sandbox/answers/best_days.parquet", "wb").write(os.urandom(1000))
        open("/sandbox/answers/cause.json", "w").write('{"t": "str", "v": "' + "A" * 20_000_000 + '"}')
        os._exit(0)
    """),
    # late endings keep the credit of answers already given (honest score: the correct one's 7)
    "late_exit": ("correct", "import os\nos._exit(3)"),
    "late_crash": ("correct", "import ctypes\nctypes.string_at(0)"),
    "late_hang": ("correct", "while True:\n    pass"),
    "leaves_a_child": ("correct", """
        import subprocess
        subprocess.Popen(["sh", "-c", "sleep 600 # {MARK}"])
    """),
}

#: Submissions that are not notebooks a grader should run.
BROKEN = {
    "deeply_nested": lambda: '{"cells": [], "nbformat": 4, "metadata": {"x": ' + "[" * 100000 + "]" * 100000 + "}}",
    "huge": lambda: json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": "x" * (21 * 1024 ** 2)}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
    "too_many_cells": lambda: json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "1",
                                                     "outputs": []}] * 6000, "metadata": {}, "nbformat": 4,
                                          "nbformat_minor": 5}),
}


def _load(name: str) -> dict:
    return json.loads((SUBMISSIONS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _with_cell(base: str, source: str, fill: dict[str, str]) -> dict:
    nb = _load(base)
    for key, value in fill.items():
        source = source.replace("{" + key + "}", value)
    cell = {"cell_type": "code", "execution_count": None, "id": "attack", "metadata": {}, "outputs": [],
            "source": textwrap.dedent(source).strip()}
    nb["cells"].insert(len(nb["cells"]) - 2, cell)
    return nb


def _alive(mark: str) -> list[str]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if mark in cmd and "pytest" not in cmd:
            found.append(cmd)
    return found


def _work_folders() -> list[Path]:
    root = Path(tempfile.gettempdir()) / sandbox.WORK_ROOT
    return [p for p in root.glob(f"{os.getpid()}-*")] if root.is_dir() else []


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    peers, out = root / "submissions", root / "outside"
    peers.mkdir()
    out.mkdir()
    book_path = root / "grades.db"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    fill = {"BOOK": str(book_path), "MASTER": str(MASTER), "PEERS": str(peers), "OUT": str(out), "MARK": MARK,
            "PORT": str(listener.getsockname()[1])}
    honest: dict[str, float] = {"victim": 7.0}
    (peers / "victim.ipynb").write_text(json.dumps(_load("correct")), encoding="utf-8")
    twins = {}
    for name, (base, source, *twin) in ATTACKS.items():
        (peers / f"{name}.ipynb").write_text(json.dumps(_with_cell(base, source, fill)), encoding="utf-8")
        honest[name] = 7.0 if base == "correct" else 0.0
        if twin:
            twins[name] = f"twin_{name}"
            (peers / f"twin_{name}.ipynb").write_text(json.dumps(_with_cell(base, twin[0], fill)), encoding="utf-8")
    for name, make in BROKEN.items():
        (peers / f"{name}.ipynb").write_text(make(), encoding="utf-8")
        honest[name] = 0.0
    impostor = _load("blank")
    impostor["metadata"]["shopsim"] = {"trainee": "victim"}
    (peers / "impostor.ipynb").write_text(json.dumps(impostor), encoding="utf-8")
    honest["impostor"] = 0.0
    (peers / "copycat.ipynb").write_text(json.dumps(_load("correct")), encoding="utf-8")  # byte-identical
    near = _load("correct")
    for cell in near["cells"]:
        if cell["cell_type"] == "code" and "conversion =" in "".join(cell["source"]):
            cell["source"] = "# my own work\n" + "".join(cell["source"])
    (peers / "near_copy.ipynb").write_text(json.dumps(near), encoding="utf-8")
    honest["copycat"] = honest["near_copy"] = 7.0
    before = {p.name: p.read_bytes() for p in peers.iterdir()}
    book = Gradebook(book_path)
    lesson = build.build_lesson(MASTER)
    begun = time.monotonic()
    outcomes = batch.grade_batch(lesson, sorted(peers.glob("*.ipynb")), book, jobs=2, timeout=TIMEOUT,
                                 limits=sandbox.Limits(memory_mb=2048, cpu_seconds=60))
    took = time.monotonic() - begun
    by_name = {o.submission.trainee: o for o in outcomes}
    for name, twin in twins.items():
        honest[name] = honest[twin] = by_name[twin].points
    time.sleep(5)  # longer than the double fork's delay: a survivor would have acted by now
    connections = 0
    try:
        while True:
            listener.accept()[0].close()
            connections += 1
    except TimeoutError:
        pass
    listener.close()
    return {"outcomes": {o.submission.trainee: o for o in outcomes}, "honest": honest, "book": book,
            "peers": peers, "out": out, "before": before, "connections": connections, "took": took}


@pytest.mark.parametrize("name", [*ATTACKS, *BROKEN, "impostor", "copycat", "near_copy", "victim"])
def test_no_submission_earns_more_than_its_honest_score(hostile, name):
    outcome = hostile["outcomes"][name]
    assert outcome.points <= hostile["honest"][name], (outcome.status, outcome.reason)
    assert all(g.points <= g.max_points for g in outcome.grades)
    assert all(g.sandbox in ("bwrap", "") for g in outcome.grades)


def test_the_batch_finished_and_the_victim_kept_its_grade(hostile):
    outcomes = hostile["outcomes"]
    assert set(outcomes) == set(hostile["honest"])
    assert (outcomes["victim"].status, outcomes["victim"].points) == ("graded", 7.0)


def test_the_gradebook_equals_the_printed_summary(hostile):
    rows = hostile["book"].rows()
    summary = cli._summary(list(hostile["outcomes"].values()), unsafe=False)
    for trainee, outcome in hostile["outcomes"].items():
        mine = [r for r in rows if r.trainee == trainee]
        assert len(mine) == 4
        assert sum(r.points for r in mine) == outcome.points
        assert {r.status for r in mine} == {outcome.status}
        assert f"{outcome.points:g}/{outcome.max_points:g}" in summary
    assert max(r.points for r in rows) <= 2.0  # no 999 written by anyone


def test_nothing_is_left_behind(hostile):
    assert _alive(MARK) == []
    assert _work_folders() == []
    assert list(hostile["out"].iterdir()) == []
    assert {p.name: p.read_bytes() for p in hostile["peers"].iterdir()} == hostile["before"]
    assert not (Path("/tmp") / MARK).exists()
    assert hostile["connections"] == 0


@pytest.mark.parametrize("name, status", [
    ("deeply_nested", "invalid"), ("huge", "invalid"), ("too_many_cells", "invalid"),
    ("late_exit", "exited"), ("late_crash", "crashed"), ("late_hang", "timeout"), ("cpu_burn", "timeout"),
    ("leaves_a_child", "graded"),
])
def test_statuses_say_what_happened(hostile, name, status):
    assert hostile["outcomes"][name].status == status


@pytest.mark.parametrize("name", ["late_exit", "late_crash", "late_hang", "leaves_a_child"])
def test_late_endings_keep_the_credit_already_earned(hostile, name):
    assert hostile["outcomes"][name].points == 7.0


def test_a_child_left_running_is_no_timeout(hostile):
    outcome = hostile["outcomes"]["leaves_a_child"]
    assert "still running" not in outcome.reason


def test_suspicious_submissions_are_flagged(hostile):
    outcomes = hostile["outcomes"]
    assert any("metadata names another trainee ('victim'" in f for f in outcomes["impostor"].flags)
    assert any("byte-identical to victim" in f for f in outcomes["copycat"].flags)
    assert any("byte-identical to copycat" in f for f in outcomes["victim"].flags)
    assert any("near-identical" in f for f in outcomes["near_copy"].flags)
    rows = [r for r in hostile["book"].rows() if r.trainee == "impostor"]
    assert rows and all("metadata names another trainee" in r.flags for r in rows)


def test_output_is_capped(hostile):
    assert len(hostile["outcomes"]["output_flood"].output) <= 4000


def test_a_rerun_completes_and_gives_the_same_grades(hostile, tmp_path):
    picked = [hostile["peers"] / f"{n}.ipynb" for n in ("victim", "patch_run_case", "answer_symlinks")]
    book = Gradebook(tmp_path / "again.db")
    again = batch.grade_batch(build.build_lesson(MASTER), picked, book, jobs=2, timeout=TIMEOUT)
    assert [o.points for o in again] == [hostile["outcomes"][p.stem].points for p in picked]


def test_an_old_gradebook_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE grades (trainee TEXT NOT NULL, lesson TEXT NOT NULL, question TEXT NOT NULL, "
                     "points REAL NOT NULL, max_points REAL NOT NULL, graded_at TEXT NOT NULL, "
                     "submission_hash TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', "
                     "feedback TEXT NOT NULL DEFAULT '', PRIMARY KEY (trainee, lesson, question))")
        conn.execute("INSERT INTO grades VALUES ('li', 'l1', 'q1', 1, 1, 't', 'h', 'graded', '', '')")
    rows = Gradebook(path).rows()
    assert [(r.trainee, r.flags, r.sandbox) for r in rows] == [("li", "", "")]


def test_without_bwrap_the_batch_is_refused_unless_unsafe(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (bwrap) is not installed"))
    lesson = build.build_lesson(MASTER)
    book = Gradebook(tmp_path / "g.db")
    with pytest.raises(batch.BatchError, match="--unsafe-no-sandbox"):
        batch.grade_batch(lesson, [SUBMISSIONS / "correct.ipynb"], book)
    outcome = batch.grade_batch(lesson, [SUBMISSIONS / "correct.ipynb"], book, unsafe=True, timeout=60)[0]
    assert outcome.points == 7.0
    assert {r.sandbox for r in book.rows()} == {"none (--unsafe-no-sandbox)"}
    assert "WARNING: --unsafe-no-sandbox" in cli._summary([outcome], unsafe=True)


def test_the_solution_reader_would_win_without_the_sandbox(monkeypatch, tmp_path):
    """The attack is real: unconfined, reading the master's solution beats its honest twin."""
    monkeypatch.setattr(sandbox, "available", lambda: (False, "switched off for this test"))
    fill = {"MASTER": str(MASTER), "PEERS": str(tmp_path)}
    base, attack, twin = ATTACKS["read_solutions_and_peers"]
    for name, source in (("attack", attack), ("twin", twin)):
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(_with_cell(base, source, fill)), encoding="utf-8")
    got = batch.grade_batch(build.build_lesson(MASTER), [tmp_path / "attack.ipynb", tmp_path / "twin.ipynb"],
                            Gradebook(tmp_path / "g.db"), unsafe=True, timeout=60)
    assert got[0].points > got[1].points


def test_hidden_tests_never_reach_the_sandbox(monkeypatch, tmp_path):
    """The job file and work folder hold the answer names and public cells, never a test or solution."""
    seen: list[str] = []
    real_run = sandbox.Sandbox.run

    def spy(self, argv, **kwargs):
        seen.extend(p.read_text(errors="replace") for p in self.workdir.rglob("*") if p.is_file())
        return real_run(self, argv, **kwargs)

    monkeypatch.setattr(sandbox.Sandbox, "run", spy)
    lesson = build.build_lesson(MASTER)
    batch.grade_batch(lesson, [SUBMISSIONS / "blank.ipynb"], Gradebook(tmp_path / "g.db"), timeout=60)
    hidden = [c.func.__name__ for q in lesson.questions() for c in q.cases if c.hidden]
    everything = "\n".join(seen)
    assert seen and hidden
    assert all(name not in everything for name in hidden)
    assert all(src not in everything for src in lesson.tests.values())


def test_a_killed_batch_leaves_no_process_and_a_rerun_completes(tmp_path):
    import signal
    import subprocess
    import sys

    mark = f"shopsim-killed-{uuid.uuid4().hex[:12]}"
    source = f'import subprocess\nsubprocess.Popen(["sh", "-c", "sleep 300 # {mark}"])\nwhile True:\n    pass'
    (tmp_path / "stuck.ipynb").write_text(json.dumps(_with_cell("blank", source, {})), encoding="utf-8")
    cmd = [sys.executable, "-m", "shopsim.grading.cli", "grade", str(MASTER), str(tmp_path / "stuck.ipynb"),
           "--gradebook", str(tmp_path / "g.db"), "--timeout", "120", "--no-progress"]
    grader = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _alive(mark) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _alive(mark), "the stuck notebook never started"
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    time.sleep(1.0)
    assert _alive(mark) == []
    root = Path(tempfile.gettempdir()) / sandbox.WORK_ROOT
    left = list(root.glob(f"{grader.pid}-*"))
    assert all(not (p / "job.json").exists() or "test_case" not in (p / "job.json").read_text() for p in left)
    rerun = subprocess.run([*cmd[:-3], "--timeout", "5", "--no-progress"], capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0 and "timeout" in rerun.stdout and "0/7" in rerun.stdout
    assert list(root.glob(f"{grader.pid}-*")) == []  # swept by the rerun
    assert _alive(mark) == []
