//! `flake.lock` reading and lock/`flake.nix` drift checks.
