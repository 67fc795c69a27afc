"""``shopsim console``: the notebook it serves, its command line, and Voilà over plain HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nbformat
import psutil
import pytest
from processes import alive as still_running

from shopsim import cli
from shopsim.console import serve
from shopsim.errors import ShopsimError


def test_the_notebook_shows_the_console_with_the_python3_kernel(tmp_path):
    path = serve.write_notebook(tmp_path, "baseline", 7)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert [c.source for c in nb.cells] == ['from shopsim.console import Console\n\nConsole(\'baseline\', seed=7)']
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("extends: baseline\nname: mine\n")
    source = nbformat.read(serve.write_notebook(tmp_path, str(scenario), 1), as_version=4).cells[0].source
    assert repr(str(scenario.resolve())) in source


def test_the_command_is_registered_with_its_options(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["console", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "usage: shopsim console [-h] [--seed SEED] [--port PORT] [scenario]" in out
    args = cli.build_parser().parse_args(["console"])
    assert (args.scenario, args.seed, args.port) == ("baseline", 1, None)


@pytest.mark.parametrize(("argv", "message"), [
    (["console", "no_such_shop"], "no_such_shop: no such file or bundled scenario"),
    (["console", "--seed", "-1"], "-1 is negative; give 0 or more"),
    (["console", "--port", "70000"], "70000 is not a port; give 1 to 65535"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_without_voila_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(serve.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ShopsimError, match=r"Voilà is not installed; install the course extras"):
        serve.VoilaServer("baseline")


def test_free_port_prefers_the_one_asked_for():
    port = serve.free_port()
    assert serve.free_port(port) == port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert serve.listening(taken)
        assert serve.free_port(taken) != taken


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_shopsim_console_serves_the_page_on_127_0_0_1_and_stops_cleanly_on_ctrl_c():
    """Started as a parent that ignores SIGINT would start it (a background job, a test runner's
    worker): Ctrl-C still stops it."""
    port = serve.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "shopsim.cli", "console", "baseline", "--seed", "7",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ignore_ctrl_c)
    family: list[psutil.Process] = []
    try:
        first = proc.stdout.readline()
        url = first.strip().rsplit(" ", 1)[-1]
        assert first.startswith(f"The shopsim console (baseline, seed 7) is at http://127.0.0.1:{port}/?token=")
        assert len(url.split("token=", 1)[1]) >= 24
        with urllib.request.urlopen(url, timeout=120) as response:
            assert response.status == 200
            page = response.read().decode()
        family = psutil.Process(proc.pid).children(recursive=True)  # Voilà and the console's kernel
        assert len(family) >= 2
        refused = _status(f"http://127.0.0.1:{port}/")  # no token: a login page, no kernel
        rebound = _status(url, host=f"evil.example:{port}")  # another site's name for 127.0.0.1
        assert len(psutil.Process(proc.pid).children(recursive=True)) == len(family)
        alive = [p for p in family if p.is_running()]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = proc.communicate(timeout=180)  # a clean stop, not a fast one: loaded CI machines are slow
        left = still_running(alive)
    finally:
        if proc.poll() is None:  # a failed assertion above: still stop everything
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        for p in still_running(family):
            p.kill()
    assert proc.returncode == 0, err
    assert out.strip().endswith("stopped")
    assert "application/vnd.jupyter.widget-view+json" in page  # the console's output, ...
    assert "import Console" not in page  # ... without its code
    for outside in ('src="http', "src='http", 'href="http', "href='http", "cdn.", "unpkg.com", 'import("http'):
        assert outside not in page, f"the page links outside 127.0.0.1: {outside}"
    assert not left, f"left behind: {left}"
    assert refused in (302, 401, 403) and rebound == 403


def test_an_idle_kernel_with_no_page_connected_is_culled():
    with serve.VoilaServer("baseline", 1, cull_after=2) as server:
        with urllib.request.urlopen(server.url, timeout=120) as response:
            assert response.status == 200  # rendering started a kernel; no browser connects to it
        voila = psutil.Process(server.proc.pid)
        deadline = time.monotonic() + 60
        while voila.children(recursive=True) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert voila.children(recursive=True) == []


def _status(url: str, host: str | None = None) -> int:
    """The HTTP status of a GET (redirects not followed)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
