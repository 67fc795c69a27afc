"""The class JupyterHub (deploy/jupyterhub): two roster users sign in over HTTP, run lesson 00, stay apart.

Starts the real hub (as root: it creates system users) on 127.0.0.1 with a roster of two
trainees, signs both in through the login form, starts their servers, runs a cell of lesson
00 in a kernel of each through the REST and kernel (websocket) API, checks that neither can
read the other's home, then stops everything and removes the users: no process and no user
is left behind.

Needs what ``scripts/test`` installs: root, ``useradd``, configurable-http-proxy in
deploy/jupyterhub/node_modules (``install-proxy.sh``) and a Python environment other users
may run (``SHOPSIM_HUB_USER_ENV``; the test venv itself when it is readable by everyone).
Without them the test is skipped with the reason.
"""

import asyncio
import csv
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from processes import alive, free_port, stop, wait_gone

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
sys.path.insert(0, str(DEPLOY))
import shopsim_hub  # noqa: E402

LESSON = ROOT / "course" / "lessons" / "00-operator-role.ipynb"


def _user_env() -> Path | None:
    """A Python environment that a fresh system user can run jupyterhub-singleuser and shopsim from."""
    for candidate in (os.environ.get("SHOPSIM_HUB_USER_ENV"), "/opt/shopsim-hub/venv", sys.prefix):
        if not candidate or not (Path(candidate) / "bin" / "jupyterhub-singleuser").exists():
            continue
        probe = subprocess.run([shutil.which("runuser") or "runuser", "-u", "nobody", "--",
                                str(Path(candidate) / "bin" / "python"), "-c",
                                "import jupyterhub, jupyterlab, ipykernel, otter, shopsim"],
                               capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, cwd="/")
        if probe.returncode == 0:
            return Path(candidate)
    return None


def _why_not() -> str:
    if os.geteuid() != 0:
        return "the hub test runs as root (it creates system users)"
    if not shutil.which("useradd") or not shutil.which("runuser"):
        return "useradd/runuser missing"
    if not (DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        return "configurable-http-proxy not installed: run deploy/jupyterhub/install-proxy.sh"
    if _user_env() is None:
        return ("no Python environment other users can run (set SHOPSIM_HUB_USER_ENV; scripts/test builds "
                "/opt/shopsim-hub/venv)")
    return ""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A running hub with two roster trainees; yields (base url, {name: password}); leaves nothing behind."""
    import httpx
    import psutil

    reason = _why_not()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("hub")
    os.chmod(tmp, 0o700)
    tag = uuid.uuid4().hex[:6]
    people = {f"shtest_a{tag}": secrets.token_urlsafe(8), f"shtest_b{tag}": secrets.token_urlsafe(8)}
    languages = dict(zip(people, ["", "zh_CN"], strict=True))
    roster = tmp / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["username", "role", "password_hash", "language"])
        for name, password in people.items():
            w.writerow([name, "trainee", shopsim_hub.hash_password(password, iterations=1000), languages[name]])
    port, hub_port, api_port = free_port(), free_port(), free_port()
    env = dict(os.environ, SHOPSIM_HUB_ROSTER=str(roster), SHOPSIM_HUB_STATE=str(tmp / "state"),
               SHOPSIM_HUB_USER_ENV=str(_user_env()), SHOPSIM_HUB_IDLE_TIMEOUT="600", PYTHONPATH=str(ROOT))
    cmd = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py"),
           "--ip=127.0.0.1", f"--port={port}", f"--JupyterHub.hub_port={hub_port}",
           f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}"]
    with open(tmp / "hub.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    tree = [psutil.Process(proc.pid)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/hub/api/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp / "hub.log").read_text()[-3000:]
            time.sleep(0.5)
        tree += psutil.Process(proc.pid).children(recursive=True)
        yield base, people, tmp
    finally:
        owned = _processes_of(people)
        tree += [p for p in psutil.Process(proc.pid).children(recursive=True)] if proc.poll() is None else []
        stop(proc, 60, group=False)  # the hub stops the users' servers, the culler and the proxy
        left = wait_gone(tree + owned + _processes_of(people), 15) + alive(_processes_of(people))
        for p in left:
            p.kill()
        removed = shopsim_hub.remove_users({n: shopsim_hub.Member(n, "trainee") for n in people})
        assert not left, f"left running after the hub stopped: {left}"
        assert sorted(removed) == sorted(people)
        for name in people:
            with pytest.raises(KeyError):
                pwd.getpwnam(name)


def _processes_of(people) -> list:
    import psutil

    found = []
    for p in psutil.process_iter(["username"]):
        if p.info["username"] in people:
            found.append(p)
    return found


def _sign_in(base: str, name: str, password: str):
    """An HTTP client signed in through the login form (with its XSRF cookie), and that cookie."""
    import httpx

    client = httpx.Client(base_url=base, timeout=30)
    client.get("/hub/login")
    xsrf = client.cookies.get("_xsrf")
    r = client.post("/hub/login?next=", data={"username": name, "password": password, "_xsrf": xsrf})
    assert r.status_code == 302, r.text[:500]
    client.get("/hub/home")  # signing in renews the XSRF token (it is bound to the session): take the new one
    renewed = [c.value for c in client.cookies.jar if c.name == "_xsrf" and c.path.startswith("/hub")]
    return client, renewed[-1] if renewed else client.cookies.get("_xsrf")


def _start_server(client, name: str, xsrf: str) -> str:
    """Start ``name``'s server through the hub API (as ``name``), wait until it is ready; an API token."""
    headers = {"X-XSRFToken": xsrf}
    r = client.post(f"/hub/api/users/{name}/server", headers=headers)
    assert r.status_code in (201, 202), r.text
    deadline = time.monotonic() + 120
    while not client.get(f"/hub/api/users/{name}", headers=headers).json()["servers"].get("", {}).get("ready"):
        assert time.monotonic() < deadline, f"{name}'s server did not start"
        time.sleep(0.5)
    r = client.post(f"/hub/api/users/{name}/tokens", headers=headers, json={"note": "hub test", "expires_in": 600})
    assert r.status_code == 201, r.text
    return r.json()["token"]


async def _execute(base: str, name: str, token: str, code: str) -> tuple[str, str]:
    """Run ``code`` in a new kernel of ``name``'s server: (reply status, text of the outputs)."""
    import httpx
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"token {token}"}, timeout=60) as http:
        r = await http.post(f"/user/{name}/api/kernels", json={"name": "python3"})
        assert r.status_code == 201, r.text
        kernel = r.json()["id"]
        url = f"{base.replace('http', 'ws')}/user/{name}/api/kernels/{kernel}/channels"
        ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": name, "session": uuid.uuid4().hex,
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        status, texts, idle = "", [], False
        while not (status and idle):
            msg = json.loads(await asyncio.wait_for(ws.read_message(), 120))
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                texts.append(f"{content['ename']}: {content['evalue']}")
        ws.close()
        await http.delete(f"/user/{name}/api/kernels/{kernel}")
    return status, "".join(texts)


def _lesson_cell() -> str:
    """The first code cell of lesson 00 that loads data with shopsim (the month of baseline data)."""
    cells = json.loads(LESSON.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells
                if c["cell_type"] == "code" and "shopsim.datasets.load" in "".join(c["source"]))


def test_two_trainees_sign_in_run_lesson_00_and_cannot_read_each_other(hub):
    base, people, _ = hub
    (a, pa), (b, pb) = people.items()
    homes = {n: Path(pwd.getpwnam(n).pw_dir) for n in people}
    tokens = {}
    for name, password in people.items():
        client, xsrf = _sign_in(base, name, password)
        try:
            tokens[name] = _start_server(client, name, xsrf)
        finally:
            client.close()
        assert (homes[name] / shopsim_hub.COURSE_DIR / LESSON.name).is_file()  # seeded with the student copies
        assert not (homes[name] / shopsim_hub.MASTERS_DIR).exists()  # trainees never get the masters
        assert homes[name].stat().st_mode & 0o077 == 0
    _check_limits(people)
    settings = homes[b] / ".jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings"
    assert json.loads(settings.read_text())["locale"] == "zh_CN"
    assert not (homes[a] / ".jupyter/lab/user-settings/@jupyterlab/translation-extension").exists()

    cell = _lesson_cell() + ("\nimport os, getpass\nprint('ran as', getpass.getuser(), 'in', os.getcwd())"
                             "\nprint('tables:', ', '.join(data))")
    peek = ("import os\ntry:\n    print(sorted(os.listdir({other!r})))\nexcept PermissionError as e:\n"
            "    print('refused', e.errno)\n")
    for name, other in ((a, b), (b, a)):
        status, text = asyncio.run(_execute(base, name, tokens[name], cell))
        assert status == "ok", text
        assert f"ran as {name} in {homes[name]}" in text and "sessions" in text
        status, text = asyncio.run(_execute(base, name, tokens[name], peek.format(other=str(homes[other]))))
        assert status == "ok" and text.strip() == "refused 13", text


def _check_limits(people) -> None:
    """Each server runs with the config's limits: 2 GB data per process, 512 processes, 1 core (of 2+)."""
    servers = [p for p in _processes_of(people) if "jupyterhub-singleuser" in " ".join(p.cmdline())]
    assert len(servers) == len(people)
    cores = len(os.sched_getaffinity(0))
    for p in servers:
        limits = {line[:26].strip(): line[26:].split()[0] for line in
                  Path(f"/proc/{p.pid}/limits").read_text().splitlines()[1:]}
        assert limits["Max data size"] == str(2 * 1024 ** 3) and limits["Max processes"] == "512"
        assert len(p.cpu_affinity()) == (1 if cores > 1 else cores)


def test_a_wrong_password_or_an_unknown_name_is_refused(hub):
    import httpx

    base, people, _ = hub
    name = next(iter(people))
    for user, password in ((name, "not-the-password"), ("not_on_roster", "x")):
        with httpx.Client(base_url=base, timeout=30) as client:
            client.get("/hub/login")
            r = client.post("/hub/login", data={"username": user, "password": password,
                                                "_xsrf": client.cookies.get("_xsrf")})
            assert r.status_code == 403 and "jupyterhub-hub-login" not in client.cookies

