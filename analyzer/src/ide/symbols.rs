//! Document symbols (a tree of bindings) and workspace symbols (searched by name).

use crate::db::{self, Db, SourceFile};
use crate::def::{BindingValue, Bindings, Expr, ExprId, Module, ModuleSourceMap, NameKind};
use crate::ide::TextRange;

/// What a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// An attribute with a plain value.
    Attr,
    /// An attribute or binding whose value is a set.
    AttrSet,
    /// A `let` binding.
    LetBinding,
    /// A binding whose value is a function.
    Function,
    /// A lambda parameter or formal.
    Param,
}

/// A symbol and its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The name.
    pub name: String,
    /// A short description.
    pub detail: Option<String>,
    /// What it is.
    pub kind: SymbolKind,
    /// The whole binding.
    pub full_range: TextRange,
    /// The name.
    pub focus_range: TextRange,
    /// Symbols inside its value.
    pub children: Vec<Symbol>,
    /// The enclosing symbol's name (workspace symbols).
    pub container: Option<String>,
}

/// The symbol tree of a file.
pub fn document_symbols(db: &dyn Db, file: SourceFile) -> Vec<Symbol> {
    let module = db::module(db, file);
    let source_map = db::source_map(db, file);
    let mut out = Vec::new();
    if let Some(entry) = module.entry {
        collect(&module, &source_map, entry, &mut out, 0);
    }
    out
}

fn collect(module: &Module, sm: &ModuleSourceMap, expr: ExprId, out: &mut Vec<Symbol>, depth: u32) {
    if depth > 64 {
        return;
    }
    match &module.exprs[expr] {
        Expr::Attrset(b) | Expr::RecAttrset(b) => bindings(module, sm, b, out, depth),
        Expr::LetIn(b, body) => {
            bindings(module, sm, b, out, depth);
            collect(module, sm, *body, out, depth + 1);
        }
        Expr::Lambda(_, _, body) | Expr::With(_, body) | Expr::Assert(_, body) => {
            collect(module, sm, *body, out, depth + 1)
        }
        Expr::Apply(f, x) => {
            collect(module, sm, *f, out, depth + 1);
            collect(module, sm, *x, out, depth + 1);
        }
        Expr::Binary(_, a, b) => {
            collect(module, sm, *a, out, depth + 1);
            collect(module, sm, *b, out, depth + 1);
        }
        Expr::IfThenElse(_, a, b) => {
            collect(module, sm, *a, out, depth + 1);
            collect(module, sm, *b, out, depth + 1);
        }
        _ => {}
    }
}

fn bindings(
    module: &Module,
    sm: &ModuleSourceMap,
    b: &Bindings,
    out: &mut Vec<Symbol>,
    depth: u32,
) {
    for (name, value) in b.statics.iter() {
        let Some(focus) = sm.range_for_name(*name) else {
            continue;
        };
        let n = &module.names[*name];
        let full = sm
            .binding_ranges
            .get(name)
            .copied()
            .unwrap_or(focus)
            .cover(focus);
        let mut children = Vec::new();
        let mut kind = if n.kind == NameKind::LetIn {
            SymbolKind::LetBinding
        } else {
            SymbolKind::Attr
        };
        let mut detail = None;
        if let BindingValue::Expr(e) = value {
            match &module.exprs[*e] {
                Expr::Attrset(_) | Expr::RecAttrset(_) => kind = SymbolKind::AttrSet,
                Expr::Lambda(..) => kind = SymbolKind::Function,
                _ => {}
            }
            if let Expr::Literal(l) = &module.exprs[*e] {
                detail = Some(format!("{l:?}"));
            }
            collect(module, sm, *e, &mut children, depth + 1);
        } else {
            detail = Some("inherit".into());
        }
        // A merged `a.b = …; a.c = …;` set spans all its definitions.
        let full = sm
            .ranges_for_name(*name)
            .iter()
            .fold(full, |acc, r| acc.cover(*r));
        let full = children.iter().fold(full, |acc, c| acc.cover(c.full_range));
        out.push(Symbol {
            name: n.text.to_string(),
            detail,
            kind,
            full_range: full,
            focus_range: focus,
            children,
            container: None,
        });
    }
}

/// Symbols of every loaded file whose name contains the query's characters in order
/// (case-insensitive), at most 500.
pub fn workspace_symbols(db: &dyn Db, query: &str) -> Vec<(SourceFile, Symbol)> {
    let query = query.to_lowercase();
    let mut out = Vec::new();
    for file in db.workspace().files(db).values() {
        let mut stack: Vec<(Symbol, Option<String>)> = document_symbols(db, *file)
            .into_iter()
            .map(|s| (s, None))
            .collect();
        while let Some((mut sym, container)) = stack.pop() {
            for child in std::mem::take(&mut sym.children) {
                stack.push((child, Some(sym.name.clone())));
            }
            if fuzzy_match(&query, &sym.name.to_lowercase()) {
                sym.container = container;
                out.push((*file, sym));
                if out.len() >= 500 {
                    return out;
                }
            }
        }
    }
    out
}

fn fuzzy_match(query: &str, name: &str) -> bool {
    let mut chars = name.chars();
    query.chars().all(|q| chars.any(|c| c == q))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::Symbol;
    use crate::ide::fixture::Fixture;

    fn render(f: &Fixture, syms: &[Symbol], indent: usize, out: &mut String) {
        for s in syms {
            out.push_str(&format!(
                "{}{} {:?} [{}]\n",
                "  ".repeat(indent),
                s.name,
                s.kind,
                f.text_of(s.focus_range)
            ));
            render(f, &s.children, indent + 1, out);
        }
    }

    #[test]
    fn hierarchy() {
        let f = Fixture::new(
            "{ lib, ... }: let helper = x: x; in { services.web = { enable = true; port = 80; }; services.db.enable = false; f = helper; }",
        );
        let syms = super::document_symbols(&f.db, f.files[0]);
        let mut out = String::new();
        render(&f, &syms, 0, &mut out);
        expect![[r#"
            helper Function [helper]
            services AttrSet [services]
              web AttrSet [web]
                enable Attr [enable]
                port Attr [port]
              db AttrSet [db]
                enable Attr [enable]
            f Attr [f]
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn workspace_search() {
        let f = Fixture::new("//- /a.nix\n{ fooBar = 1; }\n//- /b.nix\n{ baz = { fbr = 2; }; }\n");
        let mut names: Vec<String> = super::workspace_symbols(&f.db, "fbr")
            .into_iter()
            .map(|(file, s)| format!("{} {} in {:?}", file.path(&f.db), s.name, s.container))
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["/a.nix fooBar in None", "/b.nix fbr in Some(\"baz\")"]
        );
    }
}
