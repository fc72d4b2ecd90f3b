//! A lazy Nix evaluator: syntax tree lowered to a slot-resolved IR, then evaluated.
