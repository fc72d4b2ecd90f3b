//! `strata hash nar PATH [--base32|--sri|--base16]`: the NAR hash of a file or tree.
//!
//! The default is SRI (`sha256-...`), as `nix hash path` prints; `--base32` matches
//! `nix-hash --type sha256 --base32` and `--base16` matches `nix-hash --type sha256`.

use std::path::PathBuf;
use std::process::ExitCode;

use strata_backend::store::nar;
use strata_backend::store::{HashAlgo, HashEncoding};

/// Arguments of `strata hash`.
#[derive(Debug, clap::Args)]
pub struct HashArgs {
    #[command(subcommand)]
    pub command: HashCommand,
}

/// What to hash.
#[derive(Debug, clap::Subcommand)]
pub enum HashCommand {
    /// SHA-256 of the NAR serialisation of PATH (SRI by default, like `nix hash path`).
    Nar(NarArgs),
}

/// Arguments of `strata hash nar`.
#[derive(Debug, clap::Args)]
pub struct NarArgs {
    /// Files, directories or symlinks to hash (a symlink itself is hashed, not its target);
    /// one hash per line, in order, like `nix-hash`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print Nix base32 (as `nix-hash --type sha256 --base32`).
    #[arg(long, group = "format")]
    pub base32: bool,
    /// Print `sha256-<base64>` (the default).
    #[arg(long, group = "format")]
    pub sri: bool,
    /// Print hexadecimal (as `nix-hash --type sha256`).
    #[arg(long, group = "format")]
    pub base16: bool,
}

/// Prints the hash.
pub fn run(args: HashArgs) -> anyhow::Result<ExitCode> {
    let HashCommand::Nar(args) = args.command;
    let encoding = if args.base32 {
        HashEncoding::Base32
    } else if args.base16 {
        HashEncoding::Base16
    } else {
        HashEncoding::Sri
    };
    for path in &args.paths {
        let (hash, _size) = nar::hash_path(path, HashAlgo::Sha256)?;
        println!("{}", hash.encode(encoding));
    }
    Ok(ExitCode::SUCCESS)
}
