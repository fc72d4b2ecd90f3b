#!/usr/bin/env bash
# The VS Code e2e test: packages the extension and the test-only driver, installs both into a
# fresh code-server profile, opens a copy of editors/test-workspace and runs e2e.mjs against
# $STRATA_SERVER (default: the repository's target/debug/strata). Artefacts (screenshots, logs)
# go to $STRATA_E2E_OUT (default .test-artifacts/vscode-e2e). Prints "vscode e2e: N passed, M failed".
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
SERVER="${STRATA_SERVER:-$REPO/target/debug/strata}"
OUT="${STRATA_E2E_OUT:-$REPO/.test-artifacts/vscode-e2e}"
VSCE="$HERE/node_modules/.bin/vsce"
CS="$HERE/node_modules/.bin/code-server"
[ -x "$CS" ] || { echo "vscode e2e: code-server missing: run scripts/install-deps" >&2; exit 1; }
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
rm -rf "$OUT"; mkdir -p "$OUT"
# Keep code-server, the extension host and the server away from the user's own folders.
export XDG_CONFIG_HOME=$T/xdg/config XDG_DATA_HOME=$T/xdg/data XDG_STATE_HOME=$T/xdg/state XDG_CACHE_HOME=$T/xdg/cache
export STRATA_STATE_DIR=$T/strata-state STRATA_STORE_DIR=$T/strata-store
(cd "$HERE/.." && node build.mjs --minify && "$VSCE" package --allow-missing-repository --skip-license --no-rewrite-relative-links -o "$T/strata.vsix" < /dev/null > "$T/vsce.log")
(cd "$HERE/driver" && "$VSCE" package --allow-missing-repository --skip-license --no-rewrite-relative-links -o "$T/driver.vsix" < /dev/null >> "$T/vsce.log")
cp -r "$REPO/editors/test-workspace" "$T/ws"
# The Nix store outlives the test: a nonce per run makes Apply really build (and log) each time.
sed -i "s|name = \"home-manager-generation\";|name = \"home-manager-generation\"; nonce = \"$(basename "$T")\";|" "$T/ws/apply/flake.nix"
mkdir -p "$T/ud/User" "$T/profiles"
cat > "$T/ud/User/settings.json" <<JSON
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "strata.server.path": "$SERVER",
  "strata.apply.profiles.home": "$T/profiles/home",
  "strata.apply.profiles.system": "$T/profiles/system",
  "strata.apply.confirm": false
}
JSON
for v in "$T/strata.vsix" "$T/driver.vsix"; do
  timeout 180 "$CS" --extensions-dir "$T/ext" --user-data-dir "$T/ud" --install-extension "$v" >> "$T/install.log" 2>&1
done
STRATA_SERVER="$SERVER" CODE_SERVER="$CS" WORKSPACE="$T/ws" EXT_DIR="$T/ext" DATA_DIR="$T/ud" OUT_DIR="$OUT" PROFILE_DIR="$T/profiles" \
  timeout 600 node "$HERE/e2e.mjs"
