"""End to end: the console in a real browser (headless Debian chromium driven by Playwright).

* JupyterLab on a free 127.0.0.1 port without a token opens a notebook showing the console,
  runs it, clicks "Run one day", and the tiles change to the numbers the simulation gives;
  no error output appears.
* ``shopsim console`` serves it alone with Voilà; the page works with every request to
  anything but 127.0.0.1 blocked (nothing comes from the internet), and "Run a week" works.

(The plain-HTTP check of ``shopsim console``, without a browser, is in test_console_serve.py.)

Each saves a screenshot under its tmp dir (``SHOPSIM_CONSOLE_SCREENSHOT=docs/console.png``
also copies the Voilà one there: that is how README's screenshot is made). Servers,
kernels and browsers are stopped in finalizers, and the tests check that none is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import alive as still_running

import shopsim
from shopsim.console.serve import free_port, listening, stop_tree, write_notebook

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
WAIT_MS = 120_000
SEED = 7

if not Path(CHROMIUM).exists():  # scripts/test installs it; a bare checkout may not have it yet
    pytest.skip(f"{CHROMIUM} is missing (scripts/test installs Debian's chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def _family(proc: subprocess.Popen) -> list:
    import psutil

    try:
        return [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab serving a folder with ``console.ipynb``; yields its base URL."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root, "baseline", SEED)
    port = free_port()
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[var] = str(tmp_path / sub)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    notifications = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notifications.parent.mkdir(parents=True)
    notifications.write_text('{"fetchNews": "false"}')  # no "official Jupyter news?" toast over the console
    log = open(tmp_path / "jupyterlab.log", "wb")  # noqa: SIM115 (closed in the finalizer)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root"],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    family = []
    try:
        deadline = time.monotonic() + 90
        while not listening(port):
            assert proc.poll() is None, (tmp_path / "jupyterlab.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        family.extend(_family(proc))
        stop_tree(proc)
        log.close()
        left = still_running(family)
        assert not left, f"processes left behind: {[p.pid for p in left]}"


@pytest.fixture
def browser(tmp_path):
    """Headless chromium (a fresh profile); yields (page, requests to anything but 127.0.0.1)."""
    blocked: list[str] = []
    with playwright.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1320, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()

            def route(r):
                url = r.request.url
                if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
                    r.continue_()
                else:
                    blocked.append(url)
                    r.abort()

            page.route("**/*", route)
            yield page, blocked
        finally:
            context.close()
    left = [p for p in _chromiums() if str(tmp_path) in _cmdline(p)]
    assert not left, f"chromium left behind: {[p.pid for p in left]}"


def _chromiums() -> list:
    """Live chromium processes (zombies waiting to be reaped are dead already)."""
    import psutil

    out = []
    for p in psutil.process_iter(["name", "status"]):
        if "chrom" in (p.info["name"] or "") and p.info["status"] != psutil.STATUS_ZOMBIE:
            out.append(p)
    return out


def _cmdline(p) -> str:
    import psutil

    try:
        return " ".join(p.cmdline())
    except psutil.Error:  # gone (or a zombie) since it was listed
        return ""


def _tiles(page) -> list[str]:
    return page.locator(".shopsim-tile .shopsim-tile-value").all_inner_texts()


def _no_errors(page) -> None:
    text = page.inner_text("body")
    for bad in ("Traceback", "Error displaying widget", "Something went wrong", "Not done", "Exception"):
        assert bad not in text, f"the page shows {bad!r}"
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0


def _expected_day_one() -> dict:
    daily = shopsim.Simulation("baseline", seed=SEED).run(1).tables["daily"].iloc[0]
    def money(x: float) -> str:  # as the tiles write it: a loss is -¥90
        return f"-¥{-x:,.0f}" if x < 0 else f"¥{x:,.0f}"

    return {"uv": f"{daily['uv']:,}", "gmv": money(daily["gmv"]), "net_profit": money(daily["net_profit"])}


def test_jupyterlab_runs_the_console_and_run_one_day_changes_the_tiles(jupyterlab, browser, tmp_path):
    url = jupyterlab
    page, blocked = browser
    page.goto(f"{url}lab/tree/console.ipynb")
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.connectionStatus === 'connected' && k.status === 'idle'; }", timeout=WAIT_MS)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("document.querySelectorAll('.shopsim-tile').length === 7", timeout=WAIT_MS)
    before = _tiles(page)
    assert before == ["–"] * 7
    assert "day 1 of 30" in page.inner_text(".shopsim-header")

    page.get_by_role("button", name="Run one day").click()
    page.wait_for_function("document.querySelector('.shopsim-header').innerText.includes('day 2 of 30')"
                           " && document.querySelector('.shopsim-status').innerText.startsWith('Ran')",
                           timeout=WAIT_MS)
    page.wait_for_function("[...document.querySelectorAll('.shopsim-tile-value')].some(e => e.innerText !== '–')",
                           timeout=WAIT_MS)
    after = _tiles(page)
    assert after != before
    want = _expected_day_one()
    assert after[0] == want["uv"] and after[3] == want["gmv"] and after[6] == want["net_profit"]
    assert page.locator(".shopsim-chart svg").count() == 4
    _no_errors(page)
    assert blocked == [], f"requests left 127.0.0.1: {blocked}"
    shot = tmp_path / "console-jupyterlab.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000


def test_shopsim_console_serves_it_with_voila_offline(tmp_path, browser):
    page, blocked = browser
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "shopsim.cli", "console", "baseline", "--seed", str(SEED),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    family = []
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/?token=" in line, line
        page.goto(line.strip().rsplit(" ", 1)[-1])  # the printed address, with its token
        page.wait_for_function("document.querySelectorAll('.shopsim-tile').length === 7", timeout=WAIT_MS)
        family = _family(proc)
        for day in (8, 15):  # two weeks: the first bad reviews (差评) of the month are in the second
            page.get_by_role("button", name="Run a week").click()
            status = "document.querySelector('.shopsim-status').innerText"
            page.wait_for_function(f"document.querySelector('.shopsim-header').innerText.includes('day {day} of 30')"
                                   f" && {status}.startsWith('Ran 7 days') && {status}.includes('to 03-{day:02d}')",
                                   timeout=WAIT_MS)
        page.wait_for_function("[...document.querySelectorAll('.shopsim-tile-change')]"
                               ".some(e => e.innerText.includes('vs day before'))", timeout=WAIT_MS)
        _no_errors(page)
        assert blocked == [], f"requests left 127.0.0.1: {blocked}"
        shot = tmp_path / "console-voila.png"
        page.screenshot(path=shot, full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("SHOPSIM_CONSOLE_SCREENSHOT"):
            shutil.copy(shot, os.environ["SHOPSIM_CONSOLE_SCREENSHOT"])
    finally:
        family += _family(proc)
        stop_tree(proc)
        proc.stdout.close()
    assert not still_running(family), "shopsim console left processes behind"
