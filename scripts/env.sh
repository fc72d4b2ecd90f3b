# Sourced by the scripts: run the installed Nix locally and never reach for the network.
export NIX_REMOTE=local
export NIX_CONFIG="substituters =
experimental-features = nix-command flakes
sandbox = false"
# Worktrees outside the repository's usual place find the shared data through STRATA_SHARED.
if [ -z "${STRATA_SHARED:-}" ] && [ ! -d "$(dirname "${BASH_SOURCE[0]}")/../../shared" ] && [ -d /work/shared ]; then
  export STRATA_SHARED=/work/shared
fi
