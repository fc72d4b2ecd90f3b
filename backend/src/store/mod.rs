//! Store formats (base32, store paths, NAR, derivations) and the local store.
