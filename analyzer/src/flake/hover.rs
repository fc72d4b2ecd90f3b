//! Hover on a flake input — its name in `inputs`, its url, the `outputs` formal, or a use such
//! as `inputs.nixpkgs` — shows what `flake.lock` pins it to.

use rowan::{TextRange, TextSize};

use super::flake_ref::{FlakeRef, SourceKind};
use super::lock_info::{LockState, LockedInputInfo, SubInputTarget};
use super::model::FlakeModel;
use super::time;

/// A hover: Markdown for the range under the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakeHover {
    /// What the hover is about (the name or url under the cursor).
    pub range: TextRange,
    /// The text to show.
    pub markdown: String,
}

/// The hover for the input at `offset`, if there is one. `now` (Unix seconds) dates ages.
pub fn flake_hover(
    model: &FlakeModel,
    lock: &LockState,
    offset: TextSize,
    now: i64,
) -> Option<FlakeHover> {
    let (name, range) = model.input_name_at(offset)?;
    let mut md = format!("**flake input `{name}`**\n\n");
    let decl = model.input(&name);
    if let Some(r) = decl.and_then(|d| d.flake_ref()).and_then(Result::ok) {
        md.push_str(&format!("declared: `{}`\n\n", r.to_url()));
    } else if let Some(f) = decl.and_then(|d| d.follows.as_ref()) {
        md.push_str(&format!("declared: follows `{}`\n\n", f.value));
    } else if decl.is_none() {
        md.push_str(&format!(
            "not declared in `inputs`: Nix infers it from the `outputs` parameters as `flake:{name}`\n\n"
        ));
    }
    match lock {
        LockState::Missing => {
            md.push_str("not locked: there is no flake.lock (run `nix flake lock`)\n")
        }
        LockState::Invalid(p) => {
            md.push_str(&format!("flake.lock cannot be read: {}\n", p.message))
        }
        LockState::Loaded(info) => match info.input(&name) {
            None => md.push_str("not in flake.lock: run `nix flake lock`\n"),
            Some(locked) => {
                locked_section(locked, now, &mut md);
                let followers = info.followers_of(&name);
                if !followers.is_empty() {
                    let list: Vec<String> = followers
                        .iter()
                        .map(|(input, sub)| format!("`{input}.inputs.{sub}`"))
                        .collect();
                    md.push_str(&format!("- followed by: {}\n", list.join(", ")));
                }
            }
        },
    }
    Some(FlakeHover {
        range,
        markdown: md.trim_end().to_owned(),
    })
}

fn locked_section(locked: &LockedInputInfo, now: i64, md: &mut String) {
    if let Some(f) = &locked.follows {
        let target = if f.is_empty() {
            "the root flake itself".to_owned()
        } else {
            format!("`{}`", f.join("/"))
        };
        md.push_str(&format!("- follows {target}\n"));
    }
    if let Some(original) = &locked.original {
        md.push_str(&format!("- original: `{}`\n", original.to_url()));
    }
    if let Some(l) = &locked.locked {
        md.push_str(&format!(
            "- locked: {}\n",
            describe_locked(l, locked.original.as_ref())
        ));
        if let Some(rev) = l.rev() {
            let short = rev.get(..7).unwrap_or(rev);
            md.push_str(&format!("- revision: `{rev}` (`{short}`)\n"));
        }
        if let Some(t) = l.last_modified() {
            let t = t as i64;
            md.push_str(&format!(
                "- last modified: {} UTC ({})\n",
                time::utc_datetime(t),
                time::age(t, now)
            ));
        }
        if let Some(h) = l.nar_hash() {
            md.push_str(&format!("- narHash: `{h}`\n"));
        }
        if l.kind() == Some(SourceKind::Path) {
            match locked.path_matches {
                Some(true) => md.push_str("- tree on disk: matches the locked narHash\n"),
                Some(false) => md.push_str(
                    "- tree on disk: **changed since it was locked** (run `nix flake lock` to pin the new contents)\n",
                ),
                None => {}
            }
        }
    }
    if !locked.flake {
        md.push_str("- not a flake (`flake = false`): a plain source tree\n");
    }
    for sub in &locked.inputs {
        match &sub.target {
            SubInputTarget::Follows(p) if p.is_empty() => {
                md.push_str(&format!("- input `{}` follows the root flake\n", sub.name))
            }
            SubInputTarget::Follows(p) => md.push_str(&format!(
                "- input `{}` follows `{}`\n",
                sub.name,
                p.join("/")
            )),
            SubInputTarget::Node(key) => md.push_str(&format!(
                "- input `{}`: its own lock node `{key}`\n",
                sub.name
            )),
        }
    }
}

/// `github` `NixOS/nixpkgs` (ref `nixos-unstable`, dir `lib`), or the url/path for other kinds.
fn describe_locked(l: &FlakeRef, original: Option<&FlakeRef>) -> String {
    let ty = l.type_name().unwrap_or("?");
    let mut s = match l.kind() {
        Some(k) if k.is_forge() => format!(
            "`{ty}` `{}/{}`",
            l.owner().unwrap_or("?"),
            l.repo().unwrap_or("?")
        ),
        Some(SourceKind::Path) => format!("`{ty}` `{}`", l.path().unwrap_or("?")),
        _ => format!("`{ty}` `{}`", l.url().unwrap_or("?")),
    };
    let git_ref = l.git_ref().or(original.and_then(FlakeRef::git_ref));
    let mut extra = Vec::new();
    if let Some(r) = git_ref {
        extra.push(format!("ref `{r}`"));
    }
    if let Some(d) = l.dir() {
        extra.push(format!("dir `{d}`"));
    }
    if let Some(n) = l.rev_count() {
        extra.push(format!("{n} commits"));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::{cursor, github, lock_of, model_of, LAST_MODIFIED};
    use crate::flake::{AttrValue, SubInput};
    use expect_test::{expect, Expect};

    const REV: &str = "58a1abdbae3217ca6b702f03d3b35125d88a2994";
    /// Three weeks after the fixtures' `lastModified`.
    const NOW: i64 = LAST_MODIFIED as i64 + 21 * 86_400;

    fn lock() -> LockState {
        let mut hm = github("home-manager", "nix-community", "home-manager", None, REV);
        hm.inputs.push(SubInput {
            name: "nixpkgs".into(),
            target: SubInputTarget::Follows(vec!["nixpkgs".into()]),
        });
        lock_of(vec![
            github("nixpkgs", "NixOS", "nixpkgs", Some("nixos-unstable"), REV),
            hm,
        ])
    }

    const FLAKE: &str = r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    home-manager = { url = "github:nix-community/home-manager"; inputs.nixpkgs.follows = "nixpkgs"; };
  };
  outputs = inputs@{ self, nixpkgs, ... }: { x = inputs.home-manager; };
}"#;

    fn check(fixture: &str, lock: LockState, expect: Expect) {
        let (text, offset) = cursor(fixture);
        let (model, _) = model_of(&text);
        let hover = flake_hover(&model, &lock, offset, NOW);
        let rendered = match hover {
            Some(h) => format!("[{}]\n{}", &text[h.range], h.markdown),
            None => "no hover".to_owned(),
        };
        expect.assert_eq(&rendered);
    }

    fn at(marker: &str) -> String {
        FLAKE.replacen(marker, &format!("$0{marker}"), 1)
    }

    #[test]
    fn hover_on_the_input_name() {
        check(
            &at("nixpkgs.url"),
            lock(),
            expect![[r#"
                [nixpkgs]
                **flake input `nixpkgs`**

                declared: `github:NixOS/nixpkgs/nixos-unstable`

                - original: `github:NixOS/nixpkgs/nixos-unstable`
                - locked: `github` `NixOS/nixpkgs` (ref `nixos-unstable`)
                - revision: `58a1abdbae3217ca6b702f03d3b35125d88a2994` (`58a1abd`)
                - last modified: 2024-04-27 21:35:43 UTC (3 weeks ago)
                - narHash: `sha256-mdTQw2XlariysyScCv2tTE45QSU9v/ezLcHJ22f0Nxc=`
                - followed by: `home-manager.inputs.nixpkgs`"#]],
        );
    }

    #[test]
    fn hover_on_the_url_the_formal_and_a_use() {
        let url = check_rendered(&FLAKE.replacen(
            "\"github:nix-community",
            "\"github:nix$0-community",
            1,
        ));
        assert!(
            url.starts_with("[\"github:nix-community/home-manager\"]"),
            "{url}"
        );
        assert!(url.contains("- input `nixpkgs` follows `nixpkgs`"), "{url}");
        let formal = check_rendered(&FLAKE.replacen("self, nixpkgs", "self, nix$0pkgs", 1));
        assert!(
            formal.starts_with("[nixpkgs]\n**flake input `nixpkgs`**"),
            "{formal}"
        );
        let use_ =
            check_rendered(&FLAKE.replacen("inputs.home-manager;", "inputs.home$0-manager;", 1));
        assert!(
            use_.starts_with("[home-manager]\n**flake input `home-manager`**"),
            "{use_}"
        );
        assert!(use_.contains("(`58a1abd`)"));
        assert_eq!(
            check_rendered(&FLAKE.replacen("x = ", "$0x = ", 1)),
            "no hover"
        );
    }

    fn check_rendered(fixture: &str) -> String {
        let (text, offset) = cursor(fixture);
        let (model, _) = model_of(&text);
        match flake_hover(&model, &lock(), offset, NOW) {
            Some(h) => format!("[{}]\n{}", &text[h.range], h.markdown),
            None => "no hover".to_owned(),
        }
    }

    #[test]
    fn hover_without_a_usable_lock() {
        check(
            &at("nixpkgs.url"),
            LockState::Missing,
            expect![[r#"
                [nixpkgs]
                **flake input `nixpkgs`**

                declared: `github:NixOS/nixpkgs/nixos-unstable`

                not locked: there is no flake.lock (run `nix flake lock`)"#]],
        );
        check(
            &at("nixpkgs.url"),
            lock_of(vec![]),
            expect![[r#"
                [nixpkgs]
                **flake input `nixpkgs`**

                declared: `github:NixOS/nixpkgs/nixos-unstable`

                not in flake.lock: run `nix flake lock`"#]],
        );
    }

    #[test]
    fn hover_on_a_path_input_tells_whether_the_tree_changed() {
        let s = |v: &str| AttrValue::Str(v.to_owned());
        let mut data = github("data", "x", "y", None, REV);
        data.original = Some(FlakeRef::from_attrs([
            ("type", s("path")),
            ("path", s("/src/data")),
        ]));
        data.locked = Some(FlakeRef::from_attrs([
            ("type", s("path")),
            ("path", s("/src/data")),
            ("lastModified", AttrValue::Int(1704067200)),
            (
                "narHash",
                s("sha256-i9jJgC+rnkiRG+QQ31i/KRlnOwbAnAZM/cvj73cukwU="),
            ),
        ]));
        data.flake = false;
        data.path_matches = Some(false);
        check(
            r#"{ inputs.d$0ata = { url = "path:/src/data"; flake = false; }; outputs = { ... }: { }; }"#,
            lock_of(vec![data]),
            expect![[r#"
                [data]
                **flake input `data`**

                declared: `path:/src/data`

                - original: `path:/src/data`
                - locked: `path` `/src/data`
                - last modified: 2024-01-01 00:00:00 UTC (4 months ago)
                - narHash: `sha256-i9jJgC+rnkiRG+QQ31i/KRlnOwbAnAZM/cvj73cukwU=`
                - tree on disk: **changed since it was locked** (run `nix flake lock` to pin the new contents)
                - not a flake (`flake = false`): a plain source tree"#]],
        );
    }
}
