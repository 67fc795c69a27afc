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
