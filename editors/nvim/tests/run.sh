#!/usr/bin/env bash
# The Neovim plugin's headless tests against $STRATA_SERVER (default: target/debug/strata), with
# Neovim 0.11.4 from the pinned wheel in .cache/nvim-venv (scripts/install-deps makes it).
# Prints "nvim: N passed, M failed".
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
NVIM="${NVIM:-$REPO/.cache/nvim-venv/bin/nvim}"
[ -x "$NVIM" ] || { echo "nvim: $NVIM missing: run scripts/install-deps" >&2; exit 1; }
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
cp -r "$REPO/editors/test-workspace" "$T/ws"
# The Nix store outlives the test: a nonce per run makes Apply really build (and log) each time.
sed -i "s|name = \"home-manager-generation\";|name = \"home-manager-generation\"; nonce = \"$(basename "$T")\";|" "$T/ws/apply/flake.nix"
mkdir -p "$T/profiles"
export XDG_CONFIG_HOME=$T/xdg/config XDG_DATA_HOME=$T/xdg/data XDG_STATE_HOME=$T/xdg/state XDG_CACHE_HOME=$T/xdg/cache
export STRATA_STATE_DIR=$T/strata-state STRATA_STORE_DIR=$T/strata-store
export STRATA_SERVER="${STRATA_SERVER:-$REPO/target/debug/strata}"
export STRATA_TEST_WS="$T/ws" STRATA_TEST_PROFILES="$T/profiles"
export STRATA_FAKE_SERVER="$REPO/editors/vscode/test/fake-strata-server.js"
cd "$T"
timeout 300 "$NVIM" --headless -u NONE -i NONE -l "$HERE/run.lua"
