"""``shopsim console``: the notebook it serves, its command line, and Voilà over plain HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
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


def test_shopsim_console_serves_the_page_on_127_0_0_1_and_stops_cleanly_on_ctrl_c():
    port = serve.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "shopsim.cli", "console", "baseline", "--seed", "7",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    family: list[psutil.Process] = []
    try:
        first = proc.stdout.readline()
        assert first.strip() == f"The shopsim console (baseline, seed 7) is at http://127.0.0.1:{port}/"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as response:
            assert response.status == 200
            page = response.read().decode()
        family = psutil.Process(proc.pid).children(recursive=True)  # Voilà and the console's kernel
        assert len(family) >= 2
        alive = [p for p in family if p.is_running()]
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = proc.communicate(timeout=60)
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
