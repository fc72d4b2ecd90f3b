//! Profiles and generations in the layout Nix uses (`P -> P-N-link -> /store/path`).
