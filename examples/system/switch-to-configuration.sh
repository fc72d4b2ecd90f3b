#!/bin/sh
# The demo system's `bin/switch-to-configuration ACTION` (NixOS convention). Instead of
# touching the real system it records the activation in $STRATA_DEMO_SYSTEM.
set -eu
action="${1:-}"
case "$action" in
  switch|boot|test|dry-activate) ;;
  *) echo "usage: $0 switch|boot|test|dry-activate" >&2; exit 1 ;;
esac
top="${0%/bin/switch-to-configuration}"
root="${STRATA_DEMO_SYSTEM:-${STRATA_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/strata}/demo-system}"
echo "activating the configuration..."
mkdir -p "$root"
ln -sfn "$top" "$root/current-system.strata-tmp"
mv -T "$root/current-system.strata-tmp" "$root/current-system"
echo "setting up /etc..."
ln -sfn "$top/etc" "$root/etc.strata-tmp"
mv -T "$root/etc.strata-tmp" "$root/etc"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $action $top" >> "$root/activations.log"
echo "switched to $top"
