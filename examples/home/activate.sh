#!/bin/sh
# Activation of the Strata demo home (home-manager convention: `<generation>/activate`).
# Links every file of this generation into the home folder, removes the links of the
# previous generation that this one no longer has, and backs up any other file in the way.
set -eu
out="${0%/activate}"
home="${STRATA_DEMO_HOME:-${STRATA_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/strata}/demo-home}"
manifest="$home/.strata-demo-manifest"

in_generation() {
  while read -r t _; do
    [ "$t" = "$1" ] && return 0
  done < "$out/links"
  return 1
}

echo "Activating checkFilesystem"
mkdir -p "$home"

echo "Activating linkFiles"
if [ -f "$manifest" ]; then
  while read -r target _; do
    [ -n "$target" ] || continue
    if ! in_generation "$target" && [ -L "$home/$target" ]; then
      rm "$home/$target"
      echo "removed $target"
    fi
  done < "$manifest"
fi
while read -r target source; do
  [ -n "$target" ] || continue
  dest="$home/$target"
  mkdir -p "$(dirname "$dest")"
  if [ -e "$dest" ] || [ -L "$dest" ]; then
    case "$(readlink "$dest" || true)" in
      /nix/store/*) ;;
      *)
        mv "$dest" "$dest.strata-backup"
        echo "backed up $target to $target.strata-backup"
        ;;
    esac
  fi
  ln -sfn "$source" "$dest.strata-tmp"
  mv -T "$dest.strata-tmp" "$dest"
  echo "linked $target -> $source"
done < "$out/links"
cat "$out/links" > "$manifest.strata-tmp"
mv "$manifest.strata-tmp" "$manifest"

if [ -x "$out/on-change" ]; then
  echo "Activating onChange"
  "$out/on-change"
fi
echo "home activated in $home"
