"""The course's JupyterLab settings: offline, so no news prompt and no update check."""

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OVERRIDES = REPO / "course" / "jupyterlab" / "overrides.json"
SCHEMAS = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"


def _allowed(prop: dict, value) -> bool:
    if "oneOf" in prop:
        return any(option.get("const") == value for option in prop["oneOf"])
    kinds = {"boolean": bool, "string": str, "integer": int, "number": (int, float)}
    return isinstance(value, kinds[prop["type"]])


def test_every_override_names_a_setting_of_the_installed_jupyterlab_with_an_allowed_value():
    for plugin, values in json.loads(OVERRIDES.read_text(encoding="utf-8")).items():
        package, name = plugin.rsplit(":", 1)
        schema = SCHEMAS / package / f"{name}.json"
        assert schema.is_file(), f"{plugin}: no such plugin in this JupyterLab"
        props = json.loads(schema.read_text(encoding="utf-8"))["properties"]
        for key, value in values.items():
            assert key in props, f"{plugin}: no setting {key!r}"
            assert _allowed(props[key], value), f"{plugin}: {key} = {value!r} is not allowed"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_jupyterlab_started_from_the_course_environment_serves_the_course_settings(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    lab = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                            f"--port={port}", f"--ServerApp.root_dir={tmp_path}", f"--IdentityProvider.token={token}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                                "JUPYTER_CONFIG_DIR": str(tmp_path / "config")})
    try:
        url = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        deadline, body = time.time() + 90, None
        while body is None and time.time() < deadline:
            try:
                body = json.load(urllib.request.urlopen(url, timeout=5))
            except OSError:
                time.sleep(0.5)
        assert body is not None, "JupyterLab did not answer within 90 s"
        # the server applies the overrides to the settings' defaults (no user settings here)
        defaults = {k: v.get("default") for k, v in body["schema"]["properties"].items()}
        wanted = json.loads(OVERRIDES.read_text(encoding="utf-8"))["@jupyterlab/apputils-extension:notification"]
        assert wanted == {"fetchNews": "false", "checkForUpdates": False}
        missing = "the course environment lacks course/jupyterlab/overrides.json"
        assert {k: defaults[k] for k in wanted} == wanted, missing
    finally:
        lab.terminate()
        lab.wait(30)
