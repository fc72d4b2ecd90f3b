//! Lexer, lossless rowan parser and typed AST for the Nix language.
