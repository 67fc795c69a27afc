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
    export PATH="$VENV/bin:$PATH"
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
