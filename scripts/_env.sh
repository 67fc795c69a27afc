# Shared set-up for scripts/test and scripts/course (sourced, not run).
# Builds .venv from nothing: the pinned packages of requirements/constraints.txt, the project
# itself in editable mode, and (for the browser test) Debian's chromium.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

_apt_install() {
    echo "shopsim: installing Debian packages: $*" >&2
    _as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_python() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        _apt_install python3 python3-venv
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "shopsim needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
        echo "Set PYTHON=/path/to/python3.11 and run again." >&2
        exit 2
    fi
}

ensure_venv() {
    ensure_python
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            _apt_install python3-venv
            "$PYTHON" -m venv "$VENV"
        fi
    fi
    local want have
    want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -c1-16)"
    have="$(cat "$VENV/.shopsim-installed" 2>/dev/null || true)"
    if [ "$want" != "$have" ]; then
        echo "shopsim: installing packages into .venv (first run takes a few minutes)" >&2
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
            -c "$ROOT/requirements/constraints.txt" -e "$ROOT[dev]"
        echo "$want" > "$VENV/.shopsim-installed"
    fi
    lab_settings "$VENV"
    export PATH="$VENV/bin:$PATH"
}

lab_settings() {
    # JupyterLab's settings for the course (course/jupyterlab/overrides.json): the course runs
    # offline, so JupyterLab neither asks to fetch the project's news nor checks for updates.
    local dir="$1/share/jupyter/lab/settings"
    if ! cmp -s "$ROOT/course/jupyterlab/overrides.json" "$dir/overrides.json"; then
        mkdir -p "$dir"
        cp "$ROOT/course/jupyterlab/overrides.json" "$dir/overrides.json"
    fi
}

ensure_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        _apt_install chromium fonts-noto-cjk
    fi
}

ensure_bwrap() {
    # bubblewrap: the sandbox `shopsim grade` and the capstone run trainees' code in.
    if ! command -v bwrap >/dev/null 2>&1; then
        _apt_install bubblewrap
    fi
}

# The class-hub test (tests/test_hub.py, marker hub) runs as root and needs configurable-http-proxy
# in deploy/jupyterhub/node_modules (from npm, by install-proxy.sh) and a Python environment that
# the test's fresh system users can run: .venv itself when everyone can read it, otherwise
# /opt/shopsim-hub/venv, built here from Debian's python3 (like TLJH's /opt/tljh/user).
ensure_hub() {
    if [ "$(id -u)" != 0 ]; then
        echo "shopsim: not root, so the JupyterHub test (marker hub) will be skipped" >&2
        return 0
    fi
    command -v useradd >/dev/null 2>&1 || _apt_install passwd
    command -v npm >/dev/null 2>&1 || _apt_install nodejs npm
    "$ROOT/deploy/jupyterhub/install-proxy.sh"
    if _runs_for_everyone "$VENV"; then
        export SHOPSIM_HUB_USER_ENV="$VENV"
        return 0
    fi
    local env=/opt/shopsim-hub/venv want
    want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -c1-16)"
    if [ "$(cat "$env/.shopsim-installed" 2>/dev/null)" != "$want" ] || ! _runs_for_everyone "$env"; then
        echo "shopsim: building $env, the environment the hub test's users run (first run takes minutes)" >&2
        rm -rf "$env"
        /usr/bin/python3 -m venv "$env" 2>/dev/null || { _apt_install python3-venv; /usr/bin/python3 -m venv "$env"; }
        if ! "$env/bin/pip" install -q --disable-pip-version-check -c "$ROOT/requirements/constraints.txt" \
                -e "$ROOT[course,hub]" 2>/dev/null; then
            # a pin may need a newer Python than Debian's; keep every pin that this Python can install
            echo "shopsim: some pins need a newer Python than $(/usr/bin/python3 --version); relaxing those" >&2
            local relaxed="$env/constraints-relaxed.txt"
            "$env/bin/python" - "$ROOT/requirements/constraints.txt" "$relaxed" <<'PY'
import subprocess, sys
src, out = sys.argv[1], sys.argv[2]
keep = []
for line in open(src, encoding="utf-8"):
    pin = line.strip()
    if not pin or pin.startswith("#"):
        continue
    ok = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", "/tmp/shopsim-pin-probe",
                         pin], capture_output=True).returncode == 0
    keep.append(pin) if ok else print(f"  relaxed: {pin}", file=sys.stderr)
open(out, "w", encoding="utf-8").write("\n".join(keep) + "\n")
PY
            "$env/bin/pip" install -q --disable-pip-version-check -c "$relaxed" -e "$ROOT[course,hub]"
        fi
        echo "$want" > "$env/.shopsim-installed"
    fi
    lab_settings "$env"
    export SHOPSIM_HUB_USER_ENV="$env"
}

_runs_for_everyone() {
    (cd / && runuser -u nobody -- env PYTHONPATH="$ROOT" "$1/bin/python" \
        -c "import jupyterhub, jupyterlab, ipykernel, otter, shopsim") >/dev/null 2>&1
}
