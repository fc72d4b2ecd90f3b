//! The `Engine` trait and its `Nix` and `Native` implementations, reporting typed events.
