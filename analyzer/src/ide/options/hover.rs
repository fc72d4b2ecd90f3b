//! Hover on an option name in a configuration module: type, default, example,
//! description and where it is declared.

use rowan::{TextRange, TextSize};

use super::ConfigModule;
use crate::options::{Lookup, OptionDecl, Schema, ShimKind};
use crate::syntax::ast;

/// Hover text (Markdown) for the option name under the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionHover {
    /// The attribute name hovered.
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

/// Hover for the option name at `offset`.
pub fn option_hover(root: &ast::Root, schema: &Schema, offset: TextSize) -> Option<OptionHover> {
    let module = ConfigModule::of(root);
    let (path, range) = module.path_at(offset)?;
    let markdown = match schema.lookup(&path) {
        Lookup::Option(o) => option_markdown(o, &schema.root),
        Lookup::Prefix => format!("**`{}`**\n\nSet of options.", path.join(".")),
        Lookup::Shim(s) => match &s.kind {
            ShimKind::Renamed { to } => {
                format!("**`{}`**\n\nRenamed to `{to}`.", path.join("."))
            }
            ShimKind::Removed { message } => {
                format!("**`{}`**\n\nRemoved. {message}", path.join("."))
            }
            ShimKind::Changed { to } => format!(
                "**`{}`**\n\nReplaced by {}.",
                path.join("."),
                to.iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Lookup::InsideValue(_) | Lookup::Unknown => return None,
    };
    Some(OptionHover { range, markdown })
}

/// An option's documentation, like the manual's entry.
pub fn option_markdown(o: &OptionDecl, root: &str) -> String {
    let mut out = format!("**`{}`**\n\n*Type:* {}", o.path, o.ty.description);
    if o.read_only {
        out.push_str(" *(read only)*");
    }
    if let Some(d) = &o.description {
        out.push_str("\n\n");
        out.push_str(d.trim());
    }
    for (label, value) in [("Default", &o.default), ("Example", &o.example)] {
        if let Some(v) = value {
            let v = v.trim();
            if v.contains('\n') {
                out.push_str(&format!("\n\n*{label}:*\n```nix\n{v}\n```"));
            } else {
                out.push_str(&format!("\n\n*{label}:* `{v}`"));
            }
        }
    }
    if let Some(d) = &o.declaration {
        out.push_str(&format!(
            "\n\n*Declared in:* `{}/{}`",
            root.trim_end_matches('/'),
            d.file
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::super::fixture::{fixture_schema, parse_with_cursor};
    use super::*;

    fn check(src: &str, expect: Expect) {
        let (text, offset) = parse_with_cursor(src);
        let parse = crate::syntax::parse(&text);
        let out = option_hover(&parse.root(), &fixture_schema(), offset)
            .map(|h| format!("{:?}\n{}", h.range, h.markdown))
            .unwrap_or_default();
        expect.assert_eq(&out);
    }

    #[test]
    fn option_with_default_and_example() {
        check(
            "{ pkgs, ... }: { programs.git.user$0Name = \"me\"; }",
            expect![[r#"
                30..38
                **`programs.git.userName`**

                *Type:* null or string

                Default user name to use.

                *Default:* `null`

                *Example:* `"Alice"`

                *Declared in:* `/hm/modules/programs/git.nix`"#]],
        );
    }

    #[test]
    fn enable_option_and_literal_expression_example() {
        check(
            "{ programs.git = { ena$0ble = true; }; }",
            expect![[r#"
                19..25
                **`programs.git.enable`**

                *Type:* boolean

                Whether to enable Git.

                *Default:* `false`

                *Example:* `true`

                *Declared in:* `/hm/modules/programs/git.nix`"#]],
        );
        check(
            "{ programs.git.alia$0ses = { }; }",
            expect![[r#"
                15..22
                **`programs.git.aliases`**

                *Type:* attribute set of string

                Git aliases to define.

                *Default:* `{ }`

                *Example:* `{ co = "checkout"; }`

                *Declared in:* `/hm/modules/programs/git.nix`"#]],
        );
    }

    #[test]
    fn prefixes_submodule_elements_and_renames() {
        check(
            "{ progr$0ams.git.enable = true; }",
            expect![[r#"
            2..10
            **`programs`**

            Set of options."#]],
        );
        check(
            "{ accounts.email.accounts.work.addr$0ess = \"a@b.c\"; }",
            expect![[r#"
                31..38
                **`accounts.email.accounts.<name>.address`**

                *Type:* string

                Address of <name>.

                *Declared in:* `/hm/modules/accounts.nix`"#]],
        );
        check(
            "{ programs.git.userEmail$0Address = \"a@b.c\"; }",
            expect![[r#"
                15..31
                **`programs.git.userEmailAddress`**

                Renamed to `programs.git.userEmail`."#]],
        );
    }

    #[test]
    fn nothing_outside_configuration() {
        check("{ options.foo$0 = 1; }", expect![""]);
        check("{ programs.git.extraConfig.co$0re = 1; }", expect![""]);
    }
}
