//! The `strata.engine` and `strata.apply.*` settings, read from the raw `strata` section.

use std::path::PathBuf;

use serde_json::Value;
use strata_backend::engine::{EngineChoice, InstallableKind};
use strata_backend::profile::Profile;

/// NixOS's system profile.
pub const SYSTEM_PROFILE: &str = "/nix/var/nix/profiles/system";

/// What Apply from the editor may do, and where it switches.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplySettings {
    /// `engine`: `None` for `auto` (Nix when installed, else native).
    pub engine: Option<EngineChoice>,
    /// `apply.enable`: offer actions, lenses and commands at all.
    pub enable: bool,
    /// `apply.confirm`: ask before switching a system profile.
    pub confirm: bool,
    /// `apply.profiles.system`.
    pub system_profile: PathBuf,
    /// `apply.profiles.home`.
    pub home_profile: PathBuf,
    /// `apply.configurationFiles`: standalone configuration files (absolute paths) and the
    /// installable each one is applied as, e.g. `{ "/etc/nixos/configuration.nix":
    /// "/etc/nixos#nixosConfigurations.host" }`.
    pub configuration_files: Vec<(PathBuf, String)>,
}

impl ApplySettings {
    /// Reads the settings; missing or mistyped keys keep their defaults (logged).
    pub fn from_raw(raw: &Value) -> Self {
        let apply = &raw["apply"];
        let path = |v: &Value, default: PathBuf| v.as_str().map(PathBuf::from).unwrap_or(default);
        ApplySettings {
            engine: engine(&raw["engine"]),
            enable: apply["enable"].as_bool().unwrap_or(true),
            confirm: apply["confirm"].as_bool().unwrap_or(true),
            system_profile: path(&apply["profiles"]["system"], SYSTEM_PROFILE.into()),
            home_profile: path(
                &apply["profiles"]["home"],
                crate::engine_cli::home_profile(),
            ),
            configuration_files: apply["configurationFiles"]
                .as_object()
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|(f, i)| Some((PathBuf::from(f), i.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The profile a configuration of `kind` switches (an explicit one wins).
    pub fn profile_for(
        &self,
        explicit: Option<PathBuf>,
        kind: Option<&InstallableKind>,
        state_dir: &std::path::Path,
    ) -> Profile {
        if let Some(p) = explicit {
            return Profile::new(p);
        }
        match kind {
            Some(InstallableKind::NixosSystem { .. }) => Profile::new(&self.system_profile),
            Some(InstallableKind::Other) => Profile::new(state_dir.join("profiles/default")),
            Some(InstallableKind::Home { .. }) | None => Profile::new(&self.home_profile),
        }
    }

    /// Whether switching `profile` needs the user's confirmation first.
    pub fn needs_confirmation(&self, profile: &Profile, kind: &InstallableKind) -> bool {
        self.confirm
            && (matches!(kind, InstallableKind::NixosSystem { .. })
                || profile.path() == self.system_profile)
    }
}

/// `auto` | `nix` | `native` (also accepted as a command argument).
pub fn engine(v: &Value) -> Option<EngineChoice> {
    match v.as_str() {
        Some("nix") => Some(EngineChoice::Nix),
        Some("native") => Some(EngineChoice::Native),
        Some("auto") | None => None,
        Some(other) => {
            tracing::warn!("unknown engine {other:?}: expected auto, nix or native");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let d = ApplySettings::from_raw(&json!({}));
        assert!(d.enable && d.confirm && d.engine.is_none());
        assert_eq!(d.system_profile, PathBuf::from(SYSTEM_PROFILE));
        let s = ApplySettings::from_raw(&json!({"engine": "native", "apply": {
            "enable": false, "confirm": false,
            "profiles": {"system": "/tmp/sys", "home": "/tmp/home"},
            "configurationFiles": {"/etc/nixos/configuration.nix": "/etc/nixos#nixosConfigurations.h"}}}));
        assert_eq!(
            s.configuration_files,
            vec![(
                "/etc/nixos/configuration.nix".into(),
                "/etc/nixos#nixosConfigurations.h".to_string()
            )]
        );
        assert_eq!(s.engine, Some(EngineChoice::Native));
        assert!(!s.enable && !s.confirm);
        let kind = InstallableKind::NixosSystem { host: "h".into() };
        let p = s.profile_for(None, Some(&kind), std::path::Path::new("/state"));
        assert_eq!(p.path(), std::path::Path::new("/tmp/sys"));
        assert!(!s.needs_confirmation(&p, &kind));
        let home = InstallableKind::Home { name: "a".into() };
        let p = d.profile_for(None, Some(&home), std::path::Path::new("/state"));
        assert!(!d.needs_confirmation(&p, &home));
        assert!(d.needs_confirmation(&Profile::new(SYSTEM_PROFILE), &kind));
    }
}
