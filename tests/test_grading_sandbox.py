"""The sandbox on its own: what untrusted code inside can and cannot see, use and leave behind."""

import os
import socket
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest

from shopsim.grading import sandbox

pytestmark = pytest.mark.skipif(not sandbox.available()[0], reason=f"no sandbox here: {sandbox.available()[1]}")


def run(code: str, limits: sandbox.Limits | None = None, timeout: float = 60.0) -> sandbox.Result:
    with sandbox.workspace("test") as work:
        box = sandbox.Sandbox(work, limits=limits or sandbox.Limits())
        return box.run([sys.executable, "-c", textwrap.dedent(code)], timeout=timeout)


def marked(mark: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if any(mark in part for part in (p.info["cmdline"] or [])):
            found.append(p)
    return found


def test_the_host_files_are_not_there(tmp_path):
    secret = tmp_path / "grades.db"
    secret.write_text("the gradebook", encoding="utf-8")
    master = Path(__file__).resolve().parents[1] / "course" / "source"
    result = run(f"""
        import os
        for path in [{str(secret)!r}, {str(master)!r}, {str(Path.cwd())!r} + "/tests", "/home", "/work/main/course"]:
            print(path, os.path.exists(path) and bool(os.listdir(path) if os.path.isdir(path) else True))
        print(sorted(os.listdir("/sandbox")))
    """)
    assert result.returncode == 0, result.stderr
    assert "True" not in result.stdout


def test_the_system_and_the_package_are_read_only_and_tmp_is_private():
    import shopsim

    mark = f"shopsim-test-{uuid.uuid4().hex}"
    result = run(f"""
        import os
        for path in ["/usr/evil", {str(Path(shopsim.__file__).parent)!r} + "/evil.py", "/etc/evil", "/evil",
                     "/dev/evil"]:
            try:
                open(path, "w").write("x")
                print("WROTE", path)
            except OSError as exc:
                print("refused", path)
        open("/tmp/{mark}", "w").write("x")
        open("/sandbox/out.txt", "w").write("the only way out")
    """)
    assert result.returncode == 0, result.stderr
    assert "WROTE" not in result.stdout and result.stdout.count("refused") == 5
    assert not (Path("/tmp") / mark).exists()


def test_there_is_no_network():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    result = run(f"""
        import socket, urllib.request
        for target in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
            try:
                socket.create_connection(target, timeout=3)
                print("CONNECTED", target)
            except OSError:
                print("no route", target)
        try:
            urllib.request.urlopen("http://example.com", timeout=3)
            print("CONNECTED web")
        except Exception:
            print("no web")
    """)
    with pytest.raises(TimeoutError):
        server.accept()  # the sandbox's 127.0.0.1 is its own
    server.close()
    assert "CONNECTED" not in result.stdout and result.stdout.count("no ") == 3, result.stderr


def test_nothing_started_inside_survives_the_sandbox():
    mark = f"shopsim-test-{uuid.uuid4().hex}"
    begun = time.monotonic()
    result = run(f"""
        import os, subprocess
        subprocess.Popen(["sh", "-c", "sleep 300 # {mark}"], start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp("sh", ["sh", "-c", "sleep 300 # {mark}"])
            os._exit(0)
        print("left two behind")
    """)
    assert result.returncode == 0 and not result.timed_out
    assert time.monotonic() - begun < 20  # no waiting for the pipes the leftovers hold
    time.sleep(0.5)
    assert marked(mark) == []


def test_a_timeout_kills_everything():
    mark = f"shopsim-test-{uuid.uuid4().hex}"
    result = run(f"""
        import subprocess, time
        subprocess.Popen(["sh", "-c", "sleep 300 # {mark}"])
        time.sleep(300)
    """, timeout=3)
    assert result.timed_out
    time.sleep(0.5)
    assert marked(mark) == []


@pytest.mark.parametrize("code, limits, expect", [
    ("x = bytearray(4 * 1024 ** 3)", sandbox.Limits(memory_mb=1024), "MemoryError"),
    ("open('/sandbox/big', 'wb').write(b'x' * 3 * 1024 ** 2)", sandbox.Limits(file_mb=1), "File too large"),
    ("open('/tmp/big', 'wb').write(b'x' * 3 * 1024 ** 2)", sandbox.Limits(file_mb=1), "File too large"),
])
def test_resource_limits_raise_inside(code, limits, expect):
    result = run(code, limits)
    assert result.returncode != 0 and expect in result.stderr


def test_cpu_seconds_are_limited():
    result = run("while True: pass", sandbox.Limits(cpu_seconds=1), timeout=30)
    assert not result.timed_out
    assert result.signal_name in ("SIGXCPU", "SIGKILL") or result.returncode > 128


def test_processes_are_limited():
    result = run("""
        import os, time
        made = 0
        try:
            for _ in range(500):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                made += 1
        except OSError:
            pass
        print(made)
    """, sandbox.Limits(processes=20), timeout=30)
    assert int(result.stdout.strip()) < 20


def test_output_is_captured_up_to_the_cap():
    result = run("import os, sys\nsys.stdout.write('x' * 5_000_000)\nos.write(2, b'y' * 5_000_000)",
                 sandbox.Limits(output_kb=8))
    assert result.returncode == 0 and result.truncated
    assert len(result.stdout) == len(result.stderr) == 8 * 1024


def test_without_bwrap_untrusted_code_is_refused_unless_unsafe(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (bwrap) is not installed"))
    with pytest.raises(sandbox.SandboxUnavailable, match="--unsafe-no-sandbox"):
        sandbox.Sandbox(tmp_path)
    box = sandbox.Sandbox(tmp_path, unsafe=True)
    result = box.run([sys.executable, "-c", "import os; print(os.getcwd())"], timeout=30)
    assert not result.sandboxed and result.stdout.strip() == str(tmp_path)


def test_work_folders_of_dead_graders_are_swept(tmp_path):
    dead = psutil.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"{dead.pid}-grade-x").mkdir()
    (tmp_path / f"{os.getpid()}-grade-y").mkdir()
    assert sandbox.sweep_stale(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{os.getpid()}-grade-y"]


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="memory_mb"):
        sandbox.Limits(memory_mb=0)
