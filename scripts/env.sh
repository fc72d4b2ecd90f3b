# Sourced by the scripts: run the installed Nix locally and never reach for the network.
export NIX_REMOTE=local
export NIX_CONFIG="substituters =
experimental-features = nix-command flakes
sandbox = false"
