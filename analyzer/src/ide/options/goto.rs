//! Goto declaration from an option name in a configuration module to the module that
//! declares it.

use rowan::{TextRange, TextSize};

use super::ConfigModule;
use crate::options::{Lookup, Schema};
use crate::syntax::ast;

/// Where an option is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDeclaration {
    /// The option name under the cursor.
    pub origin: TextRange,
    /// Absolute path of the declaring file.
    pub file: String,
    /// The declaration's byte range in that file.
    pub range: TextRange,
}

/// The declaration of the option (or renamed/removed option) at `offset`.
pub fn option_declaration(
    root: &ast::Root,
    schema: &Schema,
    offset: TextSize,
) -> Option<OptionDeclaration> {
    let module = ConfigModule::of(root);
    let (path, origin) = module.path_at(offset)?;
    let decl = match schema.lookup(&path) {
        Lookup::Option(o) => o.declaration.as_ref()?,
        Lookup::Shim(s) => s.declaration.as_ref()?,
        _ => return None,
    };
    Some(OptionDeclaration {
        origin,
        file: format!("{}/{}", schema.root.trim_end_matches('/'), decl.file),
        range: decl.range,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::super::fixture::{fixture_source, parse_with_cursor};
    use super::*;
    use crate::options::SourceTree;

    fn check(src: &str, expect: Expect) {
        let (text, offset) = parse_with_cursor(src);
        let parse = crate::syntax::parse(&text);
        let schema = super::super::fixture::fixture_schema();
        let out = match option_declaration(&parse.root(), &schema, offset) {
            Some(d) => {
                let file = fixture_source().read_file(&d.file).unwrap();
                format!(
                    "{} {:?}",
                    d.file,
                    &file[std::ops::Range::<usize>::from(d.range)]
                )
            }
            None => String::new(),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn to_the_declaring_attribute() {
        check(
            "{ programs.git.signing.for$0mat = \"ssh\"; }",
            expect![[r#"/hm/modules/programs/git.nix "format""#]],
        );
        check(
            "{ home.file.\".vimrc\".sou$0rce = ./vimrc; }",
            expect![[r#"/hm/modules/home.nix "source""#]],
        );
    }

    #[test]
    fn to_the_shim_of_a_renamed_option() {
        check(
            "{ programs.git.gpg$0Key = \"ABC\"; }",
            expect![[
                r#"/hm/modules/renames.nix "lib.mkRemovedOptionModule [ \"programs\" \"git\" \"gpgKey\" ] \"Use programs.git.signing.key instead.\"""#
            ]],
        );
    }

    #[test]
    fn none_for_prefixes_and_unknown_names() {
        check("{ progr$0ams.git.enable = true; }", expect![""]);
        check("{ nope$0 = 1; }", expect![""]);
    }
}
