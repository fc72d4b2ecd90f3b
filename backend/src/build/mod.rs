//! Realisation: building derivations in dependency order.
