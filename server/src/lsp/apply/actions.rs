//! Code actions and code lenses on the configurations of a `flake.nix` (and on standalone
//! configuration files named by `strata.apply.configurationFiles`): Apply, Build, Roll back
//! and Generations, each a `workspace/executeCommand` with one object argument.

use std::path::Path;

use serde_json::{json, Value};
use strata_analyzer::ide::configurations::{Configuration, ConfigurationKind};
use strata_backend::engine::InstallableKind;
use strata_backend::profile::Profile;
use tower_lsp::lsp_types::*;

use super::settings::ApplySettings;

/// A configuration a document defines, with its LSP ranges.
pub struct Found {
    /// What Apply builds: `DIR#nixosConfigurations.host`.
    pub installable: String,
    /// Which profile it goes to by default.
    pub kind: InstallableKind,
    /// The whole definition (the code actions' area).
    pub range: Range,
    /// Where its lenses go.
    pub focus: Range,
}

impl Found {
    /// A configuration defined in the `flake.nix` of `dir`.
    pub fn in_flake(dir: &Path, config: &Configuration, range: Range, focus: Range) -> Found {
        let kind = match config.kind {
            ConfigurationKind::Nixos => InstallableKind::NixosSystem {
                host: config.name.clone(),
            },
            ConfigurationKind::Home => InstallableKind::Home {
                name: config.name.clone(),
            },
        };
        Found {
            installable: format!("{}#{}", dir.display(), config.attr_path),
            kind,
            range,
            focus,
        }
    }
}

/// The profile a configuration switches, by the settings.
fn profile(settings: &ApplySettings, found: &Found, state_dir: &Path) -> Profile {
    settings.profile_for(None, Some(&found.kind), state_dir)
}

fn command(title: &str, name: &str, arg: Value) -> Command {
    Command {
        title: title.into(),
        command: name.into(),
        arguments: Some(vec![arg]),
    }
}

/// "Apply configuration", "Build configuration (dry run)" and, when the profile has a
/// generation before the current one, "Roll back to generation N", for each
/// configuration whose definition contains `range`.
pub fn code_actions(
    found: &[Found],
    range: Range,
    settings: &ApplySettings,
    state_dir: &Path,
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for f in found.iter().filter(|f| contains(f.range, range)) {
        let inst = f.installable.clone();
        let arg = json!({ "installable": inst });
        let mut commands = vec![
            command("Apply configuration", "strata.apply", arg.clone()),
            command("Build configuration (dry run)", "strata.build", arg),
        ];
        let profile = profile(settings, f, state_dir);
        if let Ok(prev) = profile.previous_generation() {
            commands.push(command(
                &format!("Roll back to generation {prev}"),
                "strata.rollback",
                json!({ "installable": inst, "profile": profile.path(), "to": prev }),
            ));
        }
        out.extend(commands.into_iter().map(|c| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title: c.title.clone(),
                kind: Some(CodeActionKind::EMPTY),
                command: Some(c),
                ..Default::default()
            })
        }));
    }
    out
}

/// `Apply · Build · Generations (current: N)` above each configuration (three lenses on
/// its first line, which editors show side by side).
pub fn code_lenses(found: &[Found], settings: &ApplySettings, state_dir: &Path) -> Vec<CodeLens> {
    let mut out = Vec::new();
    for f in found {
        let arg = json!({ "installable": f.installable });
        let current = profile(settings, f, state_dir).current().ok().flatten();
        let generations = match current {
            Some(n) => format!("Generations (current: {n})"),
            None => "Generations (none yet)".to_string(),
        };
        for (title, name) in [
            ("Apply", "strata.apply"),
            ("Build", "strata.build"),
            (generations.as_str(), "strata.generations"),
        ] {
            out.push(CodeLens {
                range: f.focus,
                command: Some(command(title, name, arg.clone())),
                data: None,
            });
        }
    }
    out
}

fn contains(outer: Range, inner: Range) -> bool {
    let le = |a: Position, b: Position| (a.line, a.character) <= (b.line, b.character);
    le(outer.start, inner.start) && le(inner.end, outer.end)
}
