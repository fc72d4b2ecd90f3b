# Sourced by the scripts: run the installed Nix locally and never reach for the network.
export NIX_REMOTE=local
# No build users: every test has its own store and state folder, hence its own pool of
# build-user locks, and Nix kills all processes of the build user it picks, so two tests
# building at once as root could kill each other's builders (seen as "signal 9").
export NIX_CONFIG="substituters =
experimental-features = nix-command flakes
sandbox = false
build-users-group ="
# Worktrees outside the repository's usual place find the shared data through STRATA_SHARED.
if [ -z "${STRATA_SHARED:-}" ] && [ ! -d "$(dirname "${BASH_SOURCE[0]}")/../../shared" ] && [ -d /work/shared ]; then
  export STRATA_SHARED=/work/shared
fi
