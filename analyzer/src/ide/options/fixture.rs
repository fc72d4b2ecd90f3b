//! A small home-manager-like module tree, extracted into the schema the feature tests use.

use std::collections::BTreeMap;
use std::sync::Arc;

use rowan::TextSize;

use crate::options::{extract, ExtractConfig, Schema, SourceTree};

/// Files in memory; directories are implied by the paths.
pub(crate) struct MemSource(pub BTreeMap<String, String>);

impl SourceTree for MemSource {
    fn read_file(&self, path: &str) -> Option<Arc<str>> {
        self.0.get(path).map(|t| Arc::from(t.as_str()))
    }
    fn read_dir(&self, path: &str) -> Option<Vec<(String, bool)>> {
        let dir = format!("{}/", path.trim_end_matches('/'));
        let mut out: Vec<(String, bool)> = Vec::new();
        for p in self.0.keys() {
            if let Some(rest) = p.strip_prefix(&dir) {
                let (name, is_dir) = match rest.split_once('/') {
                    Some((d, _)) => (d, true),
                    None => (rest, false),
                };
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.to_owned(), is_dir));
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

const FILES: &[(&str, &str)] = &[
    (
        "/hm/modules/modules.nix",
        r#"{ pkgs, lib, ... }:
[
  ./home.nix
  ./accounts.nix
  ./renames.nix
] ++ map (n: ./programs + "/${n}") (builtins.attrNames (builtins.readDir ./programs))
"#,
    ),
    (
        "/hm/modules/programs/git.nix",
        r#"{ config, lib, pkgs, ... }:
with lib;
let cfg = config.programs.git;
in {
  options.programs.git = {
    enable = mkEnableOption "Git";
    package = mkPackageOption pkgs "git" { };
    userName = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "Alice";
      description = "Default user name to use.";
    };
    signing.format = mkOption {
      type = types.enum [ "openpgp" "ssh" ];
      default = "openpgp";
      description = "Signature format.";
    };
    includes = mkOption {
      type = types.listOf (types.submodule {
        options.path = mkOption { type = types.str; description = "Included file."; };
      });
      default = [ ];
      description = "Configuration files to include.";
    };
    aliases = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = literalExpression ''{ co = "checkout"; }'';
      description = "Git aliases to define.";
    };
    extraConfig = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      description = "Additional configuration.";
    };
  };
  config = mkIf cfg.enable { home.packages = [ cfg.package ]; };
}
"#,
    ),
    (
        "/hm/modules/home.nix",
        r#"{ lib, ... }:
{
  options.home = {
    username = lib.mkOption { type = lib.types.str; description = "The user's username."; };
    stateVersion = lib.mkOption {
      type = lib.types.enum [ "24.05" "24.11" "25.05" ];
      description = "State version.";
    };
    packages = lib.mkOption {
      type = lib.types.listOf lib.types.package;
      default = [ ];
      description = "Packages to install.";
    };
    sessionVariables = lib.mkOption {
      type = with lib.types; lazyAttrsOf (oneOf [ str path int float ]);
      default = { };
      description = "Environment variables.";
    };
    file = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule ({ name, ... }: {
        options.source = lib.mkOption { type = lib.types.path; description = "Source of ${name}."; };
        options.executable = lib.mkOption { type = lib.types.nullOr lib.types.bool; default = null; description = "Executable?"; };
      }));
      default = { };
      description = "Files in the home directory.";
    };
  };
}
"#,
    ),
    (
        "/hm/modules/accounts.nix",
        r#"{ lib, ... }:
let
  inherit (lib) mkOption types;
  accountModule = { name, ... }: {
    options = {
      address = mkOption { type = types.str; description = "Address of ${name}."; };
      primary = mkOption { type = types.bool; default = false; description = "Whether this is the primary account."; };
    };
  };
in {
  options.accounts.email.accounts = mkOption {
    type = types.attrsOf (types.submodule accountModule);
    default = { };
    description = "Email accounts.";
  };
}
"#,
    ),
    (
        "/hm/modules/renames.nix",
        r#"{ lib, ... }:
{
  imports = [
    (lib.mkRenamedOptionModule [ "programs" "git" "userEmailAddress" ] [ "programs" "git" "userEmail" ])
    (lib.mkRemovedOptionModule [ "programs" "git" "gpgKey" ] "Use programs.git.signing.key instead.")
  ];
  options.programs.git.userEmail = lib.mkOption {
    type = lib.types.nullOr lib.types.str;
    default = null;
    description = "Default user email to use.";
  };
}
"#,
    ),
];

/// The fixture tree.
pub(crate) fn fixture_source() -> MemSource {
    MemSource(
        FILES
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
    )
}

/// The fixture tree's schema.
pub(crate) fn fixture_schema() -> Schema {
    extract(&fixture_source(), &ExtractConfig::home_manager("/hm")).0
}

/// Removes the `$0` cursor marker and returns the text and the cursor offset.
pub(crate) fn parse_with_cursor(src: &str) -> (String, TextSize) {
    let offset = src.find("$0").expect("fixture has a $0 cursor");
    let text = format!("{}{}", &src[..offset], &src[offset + 2..]);
    (text, TextSize::from(offset as u32))
}
