#!/usr/bin/env bash
# Installs configurable-http-proxy (the version pinned in package.json and package-lock.json)
# into node_modules/ next to this script, so the hub finds it there and downloads nothing when
# it starts. Needs node and npm (Debian: apt-get install nodejs npm; this script installs them
# when it runs as root and they are missing). Run again after a change of package-lock.json.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-proxy.sh: npm is missing; install nodejs and npm (apt-get install nodejs npm)" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
cd "$HERE"
want="$(sha256sum package-lock.json | cut -c1-16)"
if [ -x node_modules/.bin/configurable-http-proxy ] && [ "$(cat node_modules/.shopsim-installed 2>/dev/null)" = "$want" ]; then
    exit 0
fi
npm ci --omit=dev --no-audit --no-fund --loglevel=error
echo "$want" > node_modules/.shopsim-installed
echo "configurable-http-proxy $(node_modules/.bin/configurable-http-proxy --version) installed in $HERE/node_modules" >&2
