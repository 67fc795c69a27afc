"""Serve the console alone with Voilà: ``shopsim console [SCENARIO] [--seed S] [--port P]``.

Writes a one-cell notebook that shows ``Console(scenario, seed)`` into a temporary folder,
starts Voilà on it on 127.0.0.1, prints the address, and stops (Voilà, its kernel and the
folder) on Ctrl-C. The address carries a fresh token (as JupyterLab's does): a request
without it is sent to a login page and starts no kernel. Requests addressed to another Host
than 127.0.0.1/localhost are refused (:mod:`shopsim.console.voila_app`), and a kernel left
idle without a page connected is shut down after :data:`CULL_AFTER` seconds.
Nothing is fetched from the internet: Voilà's pages come from the
installed packages, and the page template here (Voilà's ``lab`` template without its links
to font and diagram CDNs) references none.

:func:`register` adds the subcommand to ``shopsim`` (see :func:`shopsim.cli._plugins`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from shopsim.cli import non_negative
from shopsim.errors import ShopsimError
from shopsim.scenario import load_scenario

HOST = "127.0.0.1"
DEFAULT_PORT = 8866  # Voilà's own default
#: Seconds a console kernel may sit idle with no page connected before it is shut down.
CULL_AFTER = 600
TEMPLATE = "shopsim"
_TEMPLATE_FILES = {
    "conf.json": json.dumps({"base_template": "lab"}),
    # Voilà's lab page without its <link>s to a font CDN and nbconvert's mermaid CDN script.
    "index.html.j2": """{%- extends 'voila/templates/lab/index.html.j2' -%}
{% import "spinner.macro.html.j2" as spinner %}
{%- block notebook_css -%}
{% if frontend == "voila" %}{{ resources.include_js("static/voila-style.js") }}{% endif %}
{{ spinner.css() }}
<style>.jp-mod-noOutputs.jp-mod-noInput { display: none; }</style>
{{ super.super() }}
{%- endblock notebook_css -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
""",
}


def notebook_source(scenario: str, seed: int) -> str:
    """The code of the notebook cell that shows the console."""
    return f"from shopsim.console import Console\n\nConsole({scenario!r}, seed={seed})"


def write_notebook(folder: Path, scenario: str, seed: int, name: str = "console.ipynb") -> Path:
    """Write a notebook showing ``Console(scenario, seed)`` into ``folder``; returns its path.

    ``scenario`` is a bundled name or a YAML path (made absolute, so the kernel finds it)."""
    import nbformat

    if Path(scenario).suffix in (".yaml", ".yml") or os.sep in scenario:
        scenario = str(Path(scenario).resolve())
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(notebook_source(scenario, seed))]
    path = Path(folder) / name
    nbformat.write(nb, path)
    return path


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens on it at 127.0.0.1, else a free port the OS picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise ShopsimError("no free port on 127.0.0.1")


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def stop_tree(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it started.

    SIGTERM to its process group (servers shut their kernels down on it), then SIGKILL to
    whatever is still alive, including children in sessions of their own (kernels)."""
    try:
        import psutil

        family = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # psutil missing, or the process already gone
        family = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    deadline = time.monotonic() + timeout
    for child in family:
        with contextlib.suppress(Exception):
            child.wait(max(deadline - time.monotonic(), 0.1))
        with contextlib.suppress(Exception):
            child.kill()


class VoilaServer:
    """Voilà serving the console on 127.0.0.1 from a temporary folder (a context manager).

    Parameters
    ----------
    scenario, seed:
        What the console runs (the scenario is checked before anything starts).
    port:
        Port to listen on (default: 8866 when free, else any free port).
    """

    def __init__(self, scenario: str = "baseline", seed: int = 1, port: int | None = None,
                 cull_after: int = CULL_AFTER) -> None:
        if importlib.util.find_spec("voila") is None:
            raise ShopsimError("Voilà is not installed; install the course extras: pip install 'shopsim[course]'")
        load_scenario(scenario)  # a bad name or file fails here, in one clear message
        self.scenario, self.seed = scenario, seed
        self.port = port or free_port(DEFAULT_PORT)
        self.token = secrets.token_urlsafe(24)
        self.cull_after = cull_after
        self.url = f"http://{HOST}:{self.port}/?token={self.token}"
        self.proc: subprocess.Popen | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    def command(self, notebook: Path) -> list[str]:
        """The Voilà command line."""
        cull = [f"--MappingKernelManager.cull_idle_timeout={self.cull_after}",
                f"--MappingKernelManager.cull_interval={max(1, min(60, self.cull_after // 2))}",
                "--MappingKernelManager.cull_connected=False"]
        return [sys.executable, "-m", "shopsim.console.voila_app", str(notebook), "--no-browser",
                f"--port={self.port}", f"--Voila.ip={HOST}", "--Voila.port_retries=0", f"--template={TEMPLATE}",
                "--theme=light", "--show_tracebacks=False", f"--Voila.token={self.token}", *cull]

    def start(self, timeout: float = 60.0) -> VoilaServer:
        """Start Voilà and wait until it accepts connections."""
        self._dir = tempfile.TemporaryDirectory(prefix="shopsim-console-")
        root = Path(self._dir.name)
        templates = root / "share" / "jupyter" / "voila" / "templates" / TEMPLATE
        templates.mkdir(parents=True)
        for name, text in _TEMPLATE_FILES.items():
            (templates / name).write_text(text, encoding="utf-8")
        notebook = write_notebook(root, self.scenario, self.seed)
        env = dict(os.environ)
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(root / "share" / "jupyter"),
                                                          os.environ.get("JUPYTER_PATH")) if p)
        self._log = open(root / "voila.log", "w+b")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(self.command(notebook), cwd=root, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise ShopsimError(f"Voilà did not start on {HOST}:{self.port}: {tail or 'no output'}")
            time.sleep(0.2)
        return self

    def log_tail(self, lines: int = 5) -> str:
        """The last lines Voilà wrote."""
        if self.proc is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        """Stop Voilà and its kernels, and remove the temporary folder."""
        if self.proc is not None:
            stop_tree(self.proc)
            self._log.close()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> VoilaServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _port(text: str) -> int:
    value = non_negative(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port; give 1 to 65535")
    return value


def _serve(args: argparse.Namespace) -> int:
    server = VoilaServer(args.scenario, args.seed, args.port)

    def terminate(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    # Ctrl-C stops the console even when it was started with SIGINT ignored (a parent that
    # ignores it, as some shells' background jobs and test runners do, passes that on)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.start()
        print(f"The shopsim console ({args.scenario}, seed {args.seed}) is at {server.url}", flush=True)
        print("Open it in a browser on this machine; press Ctrl-C to stop.", flush=True)
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
        print(f"Voilà stopped: {server.log_tail() or 'no output'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        server.stop()


def register(subparsers: Any) -> None:
    """Add ``console`` to the ``shopsim`` command's subcommands."""
    p = subparsers.add_parser("console", help="serve the operator console alone with Voilà on 127.0.0.1")
    p.add_argument("scenario", nargs="?", default="baseline", help="bundled scenario or YAML path (default baseline)")
    p.add_argument("--seed", type=non_negative, default=1, help="random seed (default 1)")
    p.add_argument("--port", type=_port, help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or a free one)")
    p.set_defaults(func=_serve)
