#!/usr/bin/env bash
# Chromium from Debian's packages, for the playground's browser tests (Playwright drives it:
# Playwright cannot download its own browsers on machines without internet access).
# Idempotent: does nothing when the browser is already there.
set -euo pipefail

CHROMIUM="${DAGBOT_CHROMIUM:-/usr/bin/chromium}"
say() { echo "browser setup: $*"; }

if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n bash "${BASH_SOURCE[0]}" "$@"
    fi
    echo "browser setup: WARNING: $CHROMIUM is missing and this is not root:" \
         "run 'sudo apt-get install chromium' (the browser tests need it)" >&2
    exit 0
fi
say "installing chromium (Debian package)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
fi
say "ready ($("$CHROMIUM" --version 2>/dev/null || echo chromium))"
