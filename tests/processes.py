"""Process helpers for the tests that start servers (Voila, JupyterLab): none may be left behind."""

from __future__ import annotations


def alive(procs: list) -> list:
    """The ``psutil.Process`` objects among ``procs`` that still run (zombies count as gone)."""
    import psutil

    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, grace: float = 20.0, *, group: bool = True) -> None:
    """Ask a ``subprocess.Popen`` (its whole process group) to end; kill the group after ``grace`` s."""
    import os
    import signal
    import subprocess

    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_gone(procs: list, seconds: float) -> list:
    """Wait up to ``seconds`` for ``procs`` (psutil) to end; those still running."""
    import time

    deadline = time.monotonic() + seconds
    while alive(procs) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(procs)
