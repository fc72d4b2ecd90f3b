//! `FlakeModel`: what a `flake.nix` declares, read from its syntax tree without evaluation —
//! `description`, `nixConfig`, every way of writing `inputs`, and the `outputs` function —
//! each with the text ranges editor features point at.

use rowan::{TextRange, TextSize};

use super::flake_ref::{AttrValue, FlakeRef, FlakeRefError};
use crate::syntax::ast::{self, AstNode, HasBindings};

/// A string literal's value and where it is written (the range includes the quotes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrValue {
    /// The cooked value.
    pub value: String,
    /// The literal's range.
    pub range: TextRange,
}

/// A name and where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Its range in `flake.nix`.
    pub range: TextRange,
}

/// One input of the flake, gathered from every binding that mentions it
/// (`inputs.x.url = …;` and `inputs.x.flake = false;` are the same input).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputDecl {
    /// The input's name.
    pub name: String,
    /// Every place the name is written, first one first.
    pub name_ranges: Vec<TextRange>,
    /// `url = "…"`.
    pub url: Option<StrValue>,
    /// Fetcher attributes written out (`type`, `owner`, `repo`, `ref`, `rev`, `dir`, …), each
    /// with the range of its value.
    pub attrs: Vec<(String, AttrValue, TextRange)>,
    /// `flake = false` / `flake = true`, with the value's range.
    pub flake: Option<(bool, TextRange)>,
    /// `follows = "other"` on the input itself.
    pub follows: Option<StrValue>,
    /// `inputs.<sub>.…` overrides of the input's own inputs.
    pub sub_inputs: Vec<SubInputDecl>,
    /// The attribute sets that hold this input's fields (`{ url = …; }`), for completion.
    pub body_ranges: Vec<TextRange>,
}

/// An override of an input's own input: `inputs.x.inputs.y.follows = "z"` (or `.url`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubInputDecl {
    /// The sub-input's name (`y`).
    pub name: Named,
    /// `follows = "z"` (a `/`-separated input path; empty for the root flake).
    pub follows: Option<StrValue>,
    /// `url = "…"`.
    pub url: Option<StrValue>,
}

impl InputDecl {
    fn new(name: &str) -> InputDecl {
        InputDecl {
            name: name.to_owned(),
            name_ranges: Vec::new(),
            url: None,
            attrs: Vec::new(),
            flake: None,
            follows: None,
            sub_inputs: Vec::new(),
            body_ranges: Vec::new(),
        }
    }

    /// The first place the name is written.
    pub fn range(&self) -> TextRange {
        self.name_ranges
            .first()
            .copied()
            .unwrap_or_else(|| TextRange::empty(TextSize::from(0)))
    }

    /// The reference this declaration stands for, in the attribute form the lock's `original`
    /// uses: the parsed `url`, the written attributes, or (with neither, and no `follows`) the
    /// flake registry entry of the same name, as Nix assumes. `None` for a pure `follows`.
    pub fn flake_ref(&self) -> Option<Result<FlakeRef, FlakeRefError>> {
        if let Some(url) = &self.url {
            let mut r = FlakeRef::parse_url(&url.value);
            if let Ok(r) = &mut r {
                // Attributes written beside the url (e.g. `dir`) refine it.
                for (k, v, _) in &self.attrs {
                    r.attrs.insert(k.clone(), v.clone());
                }
            }
            return Some(r);
        }
        if !self.attrs.is_empty() {
            return Some(Ok(FlakeRef {
                attrs: self
                    .attrs
                    .iter()
                    .map(|(k, v, _)| (k.clone(), v.clone()))
                    .collect(),
            }));
        }
        if self.follows.is_some() {
            return None;
        }
        Some(Ok(FlakeRef::from_attrs([
            ("type", AttrValue::Str("indirect".into())),
            ("id", AttrValue::Str(self.name.clone())),
        ])))
    }

    /// Whether `offset` is on this input's name, url, follows or one of its written values.
    pub fn covers(&self, offset: TextSize) -> bool {
        self.name_ranges
            .iter()
            .any(|r| r.contains_inclusive(offset))
            || self
                .url
                .as_ref()
                .is_some_and(|u| u.range.contains_inclusive(offset))
    }
}

/// The `outputs` function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputsDecl {
    /// The `outputs` attribute name.
    pub name_range: TextRange,
    /// `outputs = inputs: …` — the single parameter.
    pub param: Option<Named>,
    /// `{ self, nixpkgs, ... }` — the pattern's formals.
    pub formals: Vec<Named>,
    /// Whether the pattern has `...`.
    pub ellipsis: bool,
    /// `inputs@{ … }` — the name bound to the whole set.
    pub at_name: Option<Named>,
    /// The pattern's range (for completion of formals).
    pub pattern_range: Option<TextRange>,
    /// The function's body.
    pub body_range: Option<TextRange>,
    /// Attribute sets in the body that are (part of) the result, for output-name completion.
    pub result_sets: Vec<TextRange>,
}

/// A use of an input in the outputs body: `inputs.nixpkgs` (the range is that of `nixpkgs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputUse {
    /// The input's name.
    pub name: String,
    /// Where the name is written.
    pub range: TextRange,
}

/// Everything a `flake.nix` declares that editor features need.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FlakeModel {
    /// The top-level attribute set's range (absent when the file is not a set).
    pub top_range: Option<TextRange>,
    /// Top-level attribute names as written, for completion not to repeat them.
    pub top_keys: Vec<Named>,
    /// `description = "…"`.
    pub description: Option<StrValue>,
    /// `nixConfig`'s attribute name range.
    pub nix_config: Option<TextRange>,
    /// The settings in `nixConfig`, with their names' ranges.
    pub nix_config_entries: Vec<Named>,
    /// The ranges of every `inputs` attribute name at the top level.
    pub inputs_key_ranges: Vec<TextRange>,
    /// The attribute sets written as `inputs = { … }` (for completion).
    pub inputs_set_ranges: Vec<TextRange>,
    /// The inputs, in order of first appearance.
    pub inputs: Vec<InputDecl>,
    /// The `outputs` function.
    pub outputs: Option<OutputsDecl>,
    /// `inputs.x` uses in the outputs body.
    pub input_uses: Vec<InputUse>,
}

impl FlakeModel {
    /// The declared input named `name`.
    pub fn input(&self, name: &str) -> Option<&InputDecl> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// Reads the model from a parsed `flake.nix`. Anything it cannot see statically (a
    /// computed attribute name, a non-literal url) is left out rather than guessed.
    pub fn from_root(root: &ast::Root) -> FlakeModel {
        let mut model = FlakeModel::default();
        let Some(set) = root.expr().and_then(unparen).and_then(as_attr_set) else {
            return model;
        };
        model.top_range = Some(set.syntax().text_range());
        for binding in set.attrpath_values() {
            let Some(path) = static_path(&binding) else {
                continue;
            };
            let Some(value) = binding.value() else {
                // Still record the key for completion while the user types.
                if let Some((first, range)) = path.first() {
                    model.top_keys.push(Named {
                        name: first.clone(),
                        range: *range,
                    });
                }
                continue;
            };
            let (first, first_range) = path[0].clone();
            model.top_keys.push(Named {
                name: first.clone(),
                range: first_range,
            });
            let rest = &path[1..];
            match first.as_str() {
                "description" if rest.is_empty() => {
                    model.description = str_value(&value);
                }
                "nixConfig" => {
                    model.nix_config.get_or_insert(first_range);
                    if let Some((name, range)) = rest.first() {
                        model.nix_config_entries.push(Named {
                            name: name.clone(),
                            range: *range,
                        });
                    } else if let Some(set) = unparen(value.clone()).and_then(as_attr_set) {
                        for b in set.attrpath_values() {
                            if let Some(p) = static_path(&b) {
                                model.nix_config_entries.push(Named {
                                    name: p[0].0.clone(),
                                    range: p[0].1,
                                });
                            }
                        }
                    }
                }
                "inputs" => {
                    model.inputs_key_ranges.push(first_range);
                    model.read_inputs(rest, &value);
                }
                "outputs" if rest.is_empty() => {
                    model.read_outputs(first_range, &value);
                }
                _ => {}
            }
        }
        model
    }

    /// `inputs<path> = value`, where `path` is what follows `inputs`.
    fn read_inputs(&mut self, path: &[(String, TextRange)], value: &ast::Expr) {
        match path.split_first() {
            None => {
                let Some(set) = unparen(value.clone()).and_then(as_attr_set) else {
                    return;
                };
                self.inputs_set_ranges.push(set.syntax().text_range());
                for b in set.attrpath_values() {
                    if let (Some(p), Some(v)) = (static_path(&b), b.value()) {
                        self.read_inputs(&p, &v);
                    }
                }
            }
            Some(((name, range), fields)) => {
                let index = match self.inputs.iter().position(|i| &i.name == name) {
                    Some(i) => i,
                    None => {
                        self.inputs.push(InputDecl::new(name));
                        self.inputs.len() - 1
                    }
                };
                self.inputs[index].name_ranges.push(*range);
                read_input_fields(&mut self.inputs[index], fields, value);
            }
        }
    }

    fn read_outputs(&mut self, name_range: TextRange, value: &ast::Expr) {
        let Some(ast::Expr::Lambda(lambda)) = unparen(value.clone()) else {
            return;
        };
        let mut decl = OutputsDecl {
            name_range,
            param: None,
            formals: Vec::new(),
            ellipsis: false,
            at_name: None,
            pattern_range: None,
            body_range: lambda.body().map(|b| b.syntax().text_range()),
            result_sets: Vec::new(),
        };
        match lambda.param() {
            Some(ast::Param::IdentParam(p)) => decl.param = p.ident().map(|i| named(&i)),
            Some(ast::Param::Pattern(p)) => {
                decl.pattern_range = Some(p.syntax().text_range());
                decl.ellipsis = p.has_ellipsis();
                decl.at_name = p.pat_bind().and_then(|b| b.ident()).map(|i| named(&i));
                decl.formals = p
                    .pat_entries()
                    .filter_map(|e| e.ident())
                    .map(|i| named(&i))
                    .collect();
            }
            None => {}
        }
        if let Some(body) = lambda.body() {
            collect_result_sets(&body, &mut decl.result_sets);
            // `inputs.x` where `inputs` is the name bound to the whole input set.
            let whole: Vec<String> = decl
                .param
                .iter()
                .chain(decl.at_name.iter())
                .map(|n| n.name.clone())
                .collect();
            if !whole.is_empty() {
                for node in body.syntax().descendants() {
                    let Some(select) = ast::Select::cast(node) else {
                        continue;
                    };
                    let Some(ast::Expr::Ident(base)) = select.expr() else {
                        continue;
                    };
                    if !whole.contains(&base.name()) {
                        continue;
                    }
                    if let Some(attr) = select.attrpath().and_then(|p| p.attrs().next()) {
                        if let Some(name) = attr.static_name() {
                            self.input_uses.push(InputUse {
                                name,
                                range: attr.syntax().text_range(),
                            });
                        }
                    }
                }
            }
        }
        self.outputs = Some(decl);
    }

    /// The input whose name, url, outputs formal or `inputs.x` use is at `offset`.
    pub fn input_at(&self, offset: TextSize) -> Option<&InputDecl> {
        if let Some(i) = self.inputs.iter().find(|i| i.covers(offset)) {
            return Some(i);
        }
        let name = self
            .outputs
            .iter()
            .flat_map(|o| o.formals.iter())
            .map(|f| (&f.name, f.range))
            .chain(self.input_uses.iter().map(|u| (&u.name, u.range)))
            .find(|(_, r)| r.contains_inclusive(offset))
            .map(|(n, _)| n)?;
        self.input(name)
    }

    /// Like [`input_at`](Self::input_at), but also answers for a name that is only an outputs
    /// formal or a use (an input Nix infers from the formals), with the range under the cursor.
    pub fn input_name_at(&self, offset: TextSize) -> Option<(String, TextRange)> {
        for input in &self.inputs {
            for r in &input.name_ranges {
                if r.contains_inclusive(offset) {
                    return Some((input.name.clone(), *r));
                }
            }
            if let Some(url) = &input.url {
                if url.range.contains_inclusive(offset) {
                    return Some((input.name.clone(), url.range));
                }
            }
        }
        self.outputs
            .iter()
            .flat_map(|o| o.formals.iter())
            .filter(|f| f.name != "self")
            .map(|f| (f.name.clone(), f.range))
            .chain(self.input_uses.iter().map(|u| (u.name.clone(), u.range)))
            .find(|(_, r)| r.contains_inclusive(offset))
    }
}

/// Reads `fields = value` inside input `input` (`fields` is what follows `inputs.<name>`).
fn read_input_fields(input: &mut InputDecl, fields: &[(String, TextRange)], value: &ast::Expr) {
    let Some(((field, _), rest)) = fields.split_first() else {
        if let Some(set) = unparen(value.clone()).and_then(as_attr_set) {
            input.body_ranges.push(set.syntax().text_range());
            for b in set.attrpath_values() {
                if let (Some(p), Some(v)) = (static_path(&b), b.value()) {
                    read_input_fields(input, &p, &v);
                }
            }
        }
        return;
    };
    match field.as_str() {
        "url" if rest.is_empty() => input.url = str_value(value),
        "follows" if rest.is_empty() => input.follows = str_value(value),
        "flake" if rest.is_empty() => {
            if let Some(b) = bool_value(value) {
                input.flake = Some((b, value.syntax().text_range()));
            }
        }
        "inputs" => read_sub_inputs(input, rest, value),
        _ if rest.is_empty() => {
            if let Some(v) = attr_value(value) {
                input
                    .attrs
                    .push((field.clone(), v, value.syntax().text_range()));
            }
        }
        _ => {}
    }
}

/// `inputs.x.inputs<path> = value`.
fn read_sub_inputs(input: &mut InputDecl, path: &[(String, TextRange)], value: &ast::Expr) {
    match path.split_first() {
        None => {
            if let Some(set) = unparen(value.clone()).and_then(as_attr_set) {
                for b in set.attrpath_values() {
                    if let (Some(p), Some(v)) = (static_path(&b), b.value()) {
                        read_sub_inputs(input, &p, &v);
                    }
                }
            }
        }
        Some(((name, range), fields)) => {
            let index = match input.sub_inputs.iter().position(|s| &s.name.name == name) {
                Some(i) => i,
                None => {
                    input.sub_inputs.push(SubInputDecl {
                        name: Named {
                            name: name.clone(),
                            range: *range,
                        },
                        follows: None,
                        url: None,
                    });
                    input.sub_inputs.len() - 1
                }
            };
            read_sub_input_fields(&mut input.sub_inputs[index], fields, value);
        }
    }
}

fn read_sub_input_fields(
    sub: &mut SubInputDecl,
    fields: &[(String, TextRange)],
    value: &ast::Expr,
) {
    match fields {
        [] => {
            if let Some(set) = unparen(value.clone()).and_then(as_attr_set) {
                for b in set.attrpath_values() {
                    if let (Some(p), Some(v)) = (static_path(&b), b.value()) {
                        read_sub_input_fields(sub, &p, &v);
                    }
                }
            }
        }
        [(f, _)] if f == "follows" => sub.follows = str_value(value),
        [(f, _)] if f == "url" => sub.url = str_value(value),
        _ => {}
    }
}

/// Sets that make up the outputs' result: the body itself, both sides of `//`, the body of a
/// `let … in`, and the result of a call such as `flake-utils.lib.eachDefaultSystem (…)` is
/// left alone (its attributes are not the flake's outputs directly).
fn collect_result_sets(expr: &ast::Expr, out: &mut Vec<TextRange>) {
    match expr {
        ast::Expr::AttrSet(set) => out.push(set.syntax().text_range()),
        ast::Expr::Paren(p) => {
            if let Some(e) = p.expr() {
                collect_result_sets(&e, out);
            }
        }
        ast::Expr::LetIn(l) => {
            if let Some(e) = l.body() {
                collect_result_sets(&e, out);
            }
        }
        ast::Expr::BinOp(b) if b.operator() == Some(ast::BinaryOp::Update) => {
            for e in [b.lhs(), b.rhs()].into_iter().flatten() {
                collect_result_sets(&e, out);
            }
        }
        _ => {}
    }
}

fn named(i: &ast::Ident) -> Named {
    Named {
        name: i.name(),
        range: i.syntax().text_range(),
    }
}

fn unparen(mut e: ast::Expr) -> Option<ast::Expr> {
    while let ast::Expr::Paren(p) = e {
        e = p.expr()?;
    }
    Some(e)
}

fn as_attr_set(e: ast::Expr) -> Option<ast::AttrSet> {
    match e {
        ast::Expr::AttrSet(s) => Some(s),
        _ => None,
    }
}

/// The binding's attribute path as static names with their ranges; `None` if any part is
/// computed.
fn static_path(b: &ast::AttrpathValue) -> Option<Vec<(String, TextRange)>> {
    let path: Vec<_> = b
        .attrpath()?
        .attrs()
        .map(|a| a.static_name().map(|n| (n, a.syntax().text_range())))
        .collect::<Option<_>>()?;
    (!path.is_empty()).then_some(path)
}

fn str_value(e: &ast::Expr) -> Option<StrValue> {
    match unparen(e.clone())? {
        ast::Expr::Str(s) => Some(StrValue {
            value: s.literal_value()?,
            range: s.syntax().text_range(),
        }),
        _ => None,
    }
}

fn bool_value(e: &ast::Expr) -> Option<bool> {
    match unparen(e.clone())? {
        ast::Expr::Ident(i) => match i.name().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn attr_value(e: &ast::Expr) -> Option<AttrValue> {
    if let Some(s) = str_value(e) {
        return Some(AttrValue::Str(s.value));
    }
    if let Some(b) = bool_value(e) {
        return Some(AttrValue::Bool(b));
    }
    match unparen(e.clone())? {
        ast::Expr::Literal(l) => l
            .int_value()
            .and_then(|n| u64::try_from(n).ok())
            .map(AttrValue::Int),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flake::test_fixtures::model_of;
    use expect_test::{expect, Expect};

    /// Renders the model with each range shown as the text it covers.
    fn check(text: &str, expect: Expect) {
        let (m, text) = model_of(text);
        let t = |r: TextRange| text[r].to_owned();
        let mut out = String::new();
        if let Some(d) = &m.description {
            out.push_str(&format!("description {:?} at {}\n", d.value, t(d.range)));
        }
        if let Some(r) = m.nix_config {
            let keys: Vec<&str> = m
                .nix_config_entries
                .iter()
                .map(|n| n.name.as_str())
                .collect();
            out.push_str(&format!("nixConfig at {} {keys:?}\n", t(r)));
        }
        for i in &m.inputs {
            let names: Vec<String> = i.name_ranges.iter().map(|r| t(*r)).collect();
            out.push_str(&format!("input {} names={names:?}", i.name));
            if let Some(u) = &i.url {
                out.push_str(&format!(" url={}", t(u.range)));
            }
            for (k, v, r) in &i.attrs {
                out.push_str(&format!(" {k}={v}@{}", t(*r)));
            }
            if let Some((b, r)) = i.flake {
                out.push_str(&format!(" flake={b}@{}", t(r)));
            }
            if let Some(f) = &i.follows {
                out.push_str(&format!(" follows={}", t(f.range)));
            }
            for s in &i.sub_inputs {
                let f = s.follows.as_ref().map(|f| t(f.range)).unwrap_or_default();
                out.push_str(&format!(
                    " [{}@{} follows {f}]",
                    s.name.name,
                    t(s.name.range)
                ));
            }
            match i.flake_ref() {
                Some(Ok(r)) => out.push_str(&format!(" => {}", r.to_url())),
                Some(Err(e)) => out.push_str(&format!(" => error {e}")),
                None => {}
            }
            out.push('\n');
        }
        if let Some(o) = &m.outputs {
            out.push_str(&format!("outputs at {}", t(o.name_range)));
            if let Some(p) = &o.param {
                out.push_str(&format!(" param={}", p.name));
            }
            if let Some(p) = &o.at_name {
                out.push_str(&format!(" at={}", p.name));
            }
            let formals: Vec<&str> = o.formals.iter().map(|f| f.name.as_str()).collect();
            out.push_str(&format!(" formals={formals:?} ellipsis={}\n", o.ellipsis));
            for r in &o.result_sets {
                out.push_str(&format!("  result {}\n", t(*r)));
            }
        }
        for u in &m.input_uses {
            out.push_str(&format!("use {} at {}\n", u.name, t(u.range)));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn every_way_of_writing_inputs() {
        check(
            r#"{
  description = "demo";
  nixConfig = { extra-substituters = [ "https://x" ]; };
  nixConfig.bash-prompt = "> ";
  inputs.a.url = "github:o/a";
  inputs.a.flake = false;
  inputs = {
    b.url = "git+https://example.org/b?ref=main";
    c = { url = "path:/src/c"; inputs.d.follows = "a"; inputs = { e.follows = ""; }; };
    "d-e" = { type = "github"; owner = "o"; repo = "de"; ref = "v1"; dir = "sub"; };
  };
  inputs.f.follows = "a";
  inputs.g = { };
  outputs = { self, a, ... }@inputs: { x = inputs.b; } // { y = 1; };
}"#,
            expect![[r#"
                description "demo" at "demo"
                nixConfig at nixConfig ["extra-substituters", "bash-prompt"]
                input a names=["a", "a"] url="github:o/a" flake=false@false => github:o/a
                input b names=["b"] url="git+https://example.org/b?ref=main" => git+https://example.org/b?ref=main
                input c names=["c"] url="path:/src/c" [d@d follows "a"] [e@e follows ""] => path:/src/c
                input d-e names=["\"d-e\""] type=github@"github" owner=o@"o" repo=de@"de" ref=v1@"v1" dir=sub@"sub" => github:o/de/v1?dir=sub
                input f names=["f"] follows="a"
                input g names=["g"] => flake:g
                outputs at outputs at=inputs formals=["self", "a"] ellipsis=true
                  result { x = inputs.b; }
                  result { y = 1; }
                use b at b
            "#]],
        );
    }

    #[test]
    fn single_parameter_outputs_and_non_sets() {
        check(
            r#"{ outputs = inputs: let x = inputs.nixpkgs.lib; in { lib = x; }; }"#,
            expect![[r#"
                outputs at outputs param=inputs formals=[] ellipsis=false
                  result { lib = x; }
                use nixpkgs at nixpkgs
            "#]],
        );
        // Not an attribute set at all: nothing to report, and no panic.
        check("import ./flake-impl.nix", expect![""]);
        check("{ inputs.${x}.url = 1; outputs = 3; }", expect![""]);
    }
}
