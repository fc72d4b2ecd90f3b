//! Parser fixtures: a compact tree dump per input (`UPDATE_EXPECT=1 cargo test` updates them).

use expect_test::{expect, Expect};

use super::ast::{self, AstNode};
use super::{parse, SyntaxNode};

/// `(KIND child child)` with tokens as their text; trivia left out.
fn compact(node: &SyntaxNode) -> String {
    let mut out = String::new();
    write_compact(node, &mut out);
    out
}

fn write_compact(node: &SyntaxNode, out: &mut String) {
    let kind = format!("{:?}", node.kind());
    out.push('(');
    out.push_str(kind.trim_start_matches("NODE_"));
    for child in node.children_with_tokens() {
        match child {
            rowan::NodeOrToken::Node(n) => {
                out.push(' ');
                write_compact(&n, out);
            }
            rowan::NodeOrToken::Token(t) if !t.kind().is_trivia() => {
                out.push(' ');
                out.push_str(t.text());
            }
            _ => {}
        }
    }
    out.push(')');
}

/// Dumps the tree and the syntax errors of `input`. Undefined variables are left out
/// (fixtures use free variables freely); `check_errors` shows every error.
fn check(input: &str, expect: Expect) {
    let parse = parse(input);
    assert_eq!(parse.syntax().to_string(), input, "lossless");
    let mut out = compact(&parse.syntax());
    out.push('\n');
    for e in parse.errors() {
        if !e.message.starts_with("undefined variable") {
            out.push_str(&format!("error {:?}: {}\n", e.range, e.message));
        }
    }
    expect.assert_eq(&out);
}

/// Every error of `input`, one per line.
fn check_errors(input: &str, expect: Expect) {
    let parse = parse(input);
    assert_eq!(parse.syntax().to_string(), input, "lossless");
    let out: String = parse
        .errors()
        .iter()
        .map(|e| format!("{:?}: {}\n", e.range, e.message))
        .collect();
    expect.assert_eq(&out);
}

#[test]
fn precedence_follows_parser_y() {
    check(
        "a -> b || c && d == e < f // g + h * i ++ j ? k",
        expect![[r#"
            (ROOT (BIN_OP (IDENT a) -> (BIN_OP (IDENT b) || (BIN_OP (IDENT c) && (BIN_OP (IDENT d) == (BIN_OP (IDENT e) < (BIN_OP (IDENT f) // (BIN_OP (IDENT g) + (BIN_OP (IDENT h) * (BIN_OP (IDENT i) ++ (HAS_ATTR (IDENT j) ? (ATTRPATH (IDENT k)))))))))))))
        "#]],
    );
}

#[test]
fn associativity() {
    check(
        "a - b - c",
        expect![[r#"
            (ROOT (BIN_OP (BIN_OP (IDENT a) - (IDENT b)) - (IDENT c)))
        "#]],
    );
    check(
        "a -> b -> c",
        expect![[r#"
            (ROOT (BIN_OP (IDENT a) -> (BIN_OP (IDENT b) -> (IDENT c))))
        "#]],
    );
    check(
        "a // b // c",
        expect![[r#"
            (ROOT (BIN_OP (IDENT a) // (BIN_OP (IDENT b) // (IDENT c))))
        "#]],
    );
}

#[test]
fn comparisons_do_not_chain() {
    check(
        "a == b == c",
        expect![[r#"
            (ROOT (BIN_OP (BIN_OP (IDENT a) == (IDENT b)) == (IDENT c)))
            error 7..9: `==` is not associative: add parentheses
        "#]],
    );
    check(
        "a < b == c",
        expect![[r#"
            (ROOT (BIN_OP (BIN_OP (IDENT a) < (IDENT b)) == (IDENT c)))
        "#]],
    );
}

#[test]
fn not_binds_looser_than_plus_and_negation_tighter_than_everything() {
    check(
        "!a + b",
        expect![[r#"
            (ROOT (UNARY_OP ! (BIN_OP (IDENT a) + (IDENT b))))
        "#]],
    );
    check(
        "!a // b",
        expect![[r#"
            (ROOT (BIN_OP (UNARY_OP ! (IDENT a)) // (IDENT b)))
        "#]],
    );
    check(
        "-a ? b",
        expect![[r#"
            (ROOT (HAS_ATTR (UNARY_OP - (IDENT a)) ? (ATTRPATH (IDENT b))))
        "#]],
    );
    check(
        "f -1",
        expect![[r#"
            (ROOT (BIN_OP (IDENT f) - (LITERAL 1)))
        "#]],
    );
}

#[test]
fn application_and_select() {
    check(
        "f a.b or c d",
        expect![[r#"
            (ROOT (APPLY (APPLY (IDENT f) (SELECT (IDENT a) . (ATTRPATH (IDENT b)) or (IDENT c))) (IDENT d)))
        "#]],
    );
    check(
        "map or [ ]",
        expect![[r#"
            (ROOT (APPLY (APPLY (IDENT map) (IDENT or)) (LIST [ ])))
        "#]],
    );
    check(
        "x: x.or.\"a\".${x}",
        expect![[r#"
            (ROOT (LAMBDA (IDENT_PARAM (IDENT x)) : (SELECT (IDENT x) . (ATTRPATH (IDENT or) . (STRING " a ") . (DYNAMIC ${ (IDENT x) })))))
        "#]],
    );
}

#[test]
fn lambdas_and_patterns() {
    check(
        "{ a, b ? 1, ... } @ args: a",
        expect![[r#"
            (ROOT (LAMBDA (PATTERN { (PAT_ENTRY (IDENT a)) , (PAT_ENTRY (IDENT b) ? (LITERAL 1)) , ... } (PAT_BIND @ (IDENT args))) : (IDENT a)))
        "#]],
    );
    check(
        "args @ { a, }: a",
        expect![[r#"
            (ROOT (LAMBDA (PATTERN (PAT_BIND (IDENT args) @) { (PAT_ENTRY (IDENT a)) , }) : (IDENT a)))
        "#]],
    );
    check(
        "{ }: { }",
        expect![[r#"
            (ROOT (LAMBDA (PATTERN { }) : (ATTR_SET { })))
        "#]],
    );
}

#[test]
fn lambda_is_not_an_operand() {
    check(
        "1 + x: x",
        expect![[r#"
            (ROOT (BIN_OP (LITERAL 1) + (IDENT x)) (ERROR : x))
            error 5..6: unexpected `:` after the expression
        "#]],
    );
}

#[test]
fn bindings() {
    check(
        "let a.b = 1; inherit (x) c \"d\"; inherit e; in rec { f = 1; }",
        expect![[r#"
            (ROOT (LET_IN let (ATTRPATH_VALUE (ATTRPATH (IDENT a) . (IDENT b)) = (LITERAL 1) ;) (INHERIT inherit (INHERIT_FROM ( (IDENT x) )) (IDENT c) (STRING " d ") ;) (INHERIT inherit (IDENT e) ;) in (ATTR_SET rec { (ATTRPATH_VALUE (ATTRPATH (IDENT f)) = (LITERAL 1) ;) })))
        "#]],
    );
    check(
        "let { body = 1; }",
        expect![[r#"
            (ROOT (LEGACY_LET let { (ATTRPATH_VALUE (ATTRPATH (IDENT body)) = (LITERAL 1) ;) }))
        "#]],
    );
}

#[test]
fn control_flow() {
    check(
        "assert true; with {}; if a then b else c",
        expect![[r#"
            (ROOT (ASSERT assert (IDENT true) ; (WITH with (ATTR_SET { }) ; (IF_ELSE if (IDENT a) then (IDENT b) else (IDENT c)))))
        "#]],
    );
}

#[test]
fn strings_and_paths() {
    check(
        r#"[ "a${b}c" ''x${y}'' ./a/${b}.nix <nixpkgs> ~/x http://x.y __curPos 1.5 ]"#,
        expect![[r#"
            (ROOT (LIST [ (STRING " a (INTERPOLATION ${ (IDENT b) }) c ") (STRING '' x (INTERPOLATION ${ (IDENT y) }) '') (PATH ./a/ (INTERPOLATION ${ (IDENT b) }) .nix) (PATH <nixpkgs>) (PATH ~/x) (LITERAL http://x.y) (CUR_POS __curPos) (LITERAL 1.5) ]))
        "#]],
    );
}

#[test]
fn recovery_at_the_next_binding() {
    check(
        "{ a = ; b = 1 c = 2; d = 3; }",
        expect![[r#"
            (ROOT (ATTR_SET { (ATTRPATH_VALUE (ATTRPATH (IDENT a)) = ;) (ATTRPATH_VALUE (ATTRPATH (IDENT b)) = (APPLY (LITERAL 1) (IDENT c))) (ERROR = 2 ;) (ATTRPATH_VALUE (ATTRPATH (IDENT d)) = (LITERAL 3) ;) }))
            error 6..7: expected an expression, found `;`
            error 16..17: expected `;`, found `=`
            error 16..17: expected a binding or `}`, found `=`
        "#]],
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let input = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let parse = parse(&input);
    assert_eq!(parse.syntax().to_string(), input);
    assert!(parse.errors()[0].message.contains("nested too deeply"));
    let input = "!".repeat(100_000) + "a";
    let bangs = super::parse(&input);
    assert_eq!(bangs.syntax().to_string(), input);
    assert!(!bangs.errors().is_empty());
}

#[test]
fn typed_ast_accessors() {
    let parse = parse("let f = { a, b ? 2 }@args: a + b; in f { a = 1; }");
    assert!(parse.errors().is_empty(), "{:?}", parse.errors());
    let ast::Expr::LetIn(let_in) = parse.root().expr().unwrap() else {
        panic!("not a let")
    };
    use ast::HasBindings;
    let binding = let_in.attrpath_values().next().unwrap();
    let ast::Expr::Lambda(lambda) = binding.value().unwrap() else {
        panic!("not a lambda")
    };
    let ast::Param::Pattern(pattern) = lambda.param().unwrap() else {
        panic!("not a pattern")
    };
    let names: Vec<_> = pattern
        .pat_entries()
        .map(|e| e.ident().unwrap().name())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(pattern.pat_bind().unwrap().ident().unwrap().name(), "args");
    let ast::Expr::BinOp(op) = lambda.body().unwrap() else {
        panic!("not a binop")
    };
    assert_eq!(op.operator(), Some(ast::BinaryOp::Add));
    assert_eq!(op.lhs().unwrap().to_string(), "a");
    assert_eq!(op.rhs().unwrap().to_string(), "b");
    let ast::Expr::Apply(apply) = let_in.body().unwrap() else {
        panic!("not an apply")
    };
    assert_eq!(apply.lambda().unwrap().to_string(), "f");
    assert!(matches!(apply.argument(), Some(ast::Expr::AttrSet(_))));
    let _ = ast::Root::cast(parse.syntax()).unwrap();
}

#[test]
fn duplicate_attributes() {
    check_errors(
        "{ a = 1; a = 2; }",
        expect![[r#"
            9..10: attribute 'a' already defined at 1:3
        "#]],
    );
    check_errors(
        "{ a.b = 1; a = { c = 2; }; a.c = 3; }",
        expect![[r#"
            29..30: attribute 'a.c' already defined at 1:18
        "#]],
    );
    check_errors(
        "{ a = { b = 1; }; a = { c = 2; }; a = rec { d = 1; }; }",
        expect![[r#""#]],
    );
    check_errors(
        "{ inherit a; a.b = 1; ${\"c\"} = 1; c = 2; ${d} = 1; ${d} = 2; }",
        expect![[r#"
            10..11: undefined variable 'a'
            13..14: attribute 'a.b' already defined at 1:11
            34..35: attribute 'c' already defined at 1:23
            43..44: undefined variable 'd'
            53..54: undefined variable 'd'
        "#]],
    );
    check_errors(
        "let a = 1; inherit (x) a; in a",
        expect![[r#"
            20..21: undefined variable 'x'
            23..24: attribute 'a' already defined at 1:5
        "#]],
    );
}

#[test]
fn formals_and_dynamic_names() {
    check_errors(
        "{ x, y, x }: x",
        expect![[r#"
        8..9: duplicate formal function argument 'x'
    "#]],
    );
    check_errors(
        "args @ { args, y }: y",
        expect![[r#"
        0..4: duplicate formal function argument 'args': the `@` name is also a formal
    "#]],
    );
    check_errors(
        "let ${\"a\"} = 1; ${a + \"\"} = 2; \"${a}\" = 3; a.${a} = 4; in { inherit ${\"a\"} ${a}; }",
        expect![[r#"
            16..25: dynamic attributes not allowed in let
            31..37: dynamic attributes not allowed in let
            43..44: attribute 'a."${...}"' already defined at 1:5
            75..79: dynamic attributes not allowed in inherit
        "#]],
    );
}

#[test]
fn numbers_and_paths() {
    check_errors(
        "[ 9223372036854775807 9223372036854775808 1e308 1e309 1e-400 ./a/ ]",
        expect![[r#"
            22..41: invalid integer '9223372036854775808': integers must fit in 64 bits
            43..47: undefined variable 'e308'
            49..53: undefined variable 'e309'
            55..60: undefined variable 'e-400'
            61..65: path has a trailing slash
        "#]],
    );
}

#[test]
fn scopes() {
    check_errors(
        "x: y",
        expect![[r#"
            3..4: undefined variable 'y'
        "#]],
    );
    check_errors(
        "{ a ? b, b ? a }@c: let d = e; e = c; in rec { f = g; g = d; inherit h; } // with d; zzz",
        expect![[r#"
            69..70: undefined variable 'h'
            77..81: expected an expression, found `with`
            83..84: unexpected `;` after the expression
        "#]],
    );
    check_errors(
        "let { x = {gcc}: { inherit gcc; }; body = ({ inherit gcc; }).gcc; }",
        expect![[r#"
            53..56: undefined variable 'gcc'
        "#]],
    );
}

#[test]
fn paths_merged_into_a_rec_set_share_its_scope() {
    // Nix 2.8 quirk (NixOS/nix#9020): `a.c` joins the `rec` set and sees `d`.
    check_errors(
        "{ a = rec { b = c + 1; d = 2; }; a.c = d + 3; }.a.b",
        expect![[r#""#]],
    );
    // The other way round the `rec` set is merged into the plain one and loses its scope.
    check_errors(
        "{ a.c = 1; a = rec { b = 1; d = b; }; }",
        expect![[r#"
            32..33: undefined variable 'b'
        "#]],
    );
}

/// `(source, value)`: each value is what `nix-instantiate --eval --json` (Nix 2.8) prints
/// for the source, with `x = "X"` in scope.
const NIX_STRINGS: &[(&str, &str)] = &[
    ("''\n  a\n    b\n  c\n''", "a\n  b\nc\n"),
    ("''  a\n b''", " a\nb"),
    ("''\n  a\n  ''", "a\n"),
    ("''\n  a\n  x''", "a\nx"),
    ("''  \n  a''", "a"),
    ("''\n    ''${\"x\"}\n  y\n''", "  ${\"x\"}\ny\n"),
    ("''\n  ''\\n  a\n''", "\na\n"),
    ("''\n    a${\"x\"}\n  b\n''", "  ax\nb\n"),
    ("''a''$b'''c''\\td''", "a$b''c\td"),
    ("\"a\\nb\\t\\r\\\"\\$\\${x}$$\"", "a\nb\t\r\"$${x}$$"),
    ("\"a\\\nb\"", "a\nb"),
    ("''\n\ttab\n''", "\ttab\n"),
    ("''\n\n  a\n\n''", "\na\n\n"),
    ("''${\"  \"}\n  a''", "  \n  a"),
    ("''\n  $\n  '\n  $$'\n''", "$\n'\n$$'\n"),
    ("\"a\r\nb\rc\"", "a\nb\nc"),
    ("''\n  a\r\n  b\n''", "a\r\nb\n"),
    ("''\n  a\n ${\"x\"} \n''", " a\nx \n"),
    ("''''", ""),
    ("''\n''", ""),
    ("\"\"", ""),
    ("''\n  a  \n  ''", "a  \n"),
    ("''  ${\"a\"}\n  b\n  ''", "a\nb\n"),
    ("\"$\"", "$"),
    ("\"\\\\\"", "\\"),
    ("''\n  é\n   ü\n''", "é\n ü\n"),
    ("''\n  a\n''${\"\"}  b\n''", "  a\n${\"\"}  b\n"),
    ("''\n  ''\\ a\n    b\n''", " a\n  b\n"),
];

#[test]
fn cooked_strings_match_nix() {
    for (source, expected) in NIX_STRINGS {
        let parse = parse(source);
        let Some(ast::Expr::Str(s)) = parse.root().expr() else {
            panic!("{source:?} is not a string")
        };
        let mut value = String::new();
        for part in s.normalized_parts() {
            match part {
                ast::StrPart::Literal(text) => value.push_str(&text),
                ast::StrPart::Interpolation(i) => match i.expr() {
                    Some(ast::Expr::Str(inner)) => value.push_str(&inner.literal_value().unwrap()),
                    Some(ast::Expr::Ident(_)) => value.push('X'),
                    other => panic!("unexpected interpolation {other:?}"),
                },
            }
        }
        assert_eq!(&value, expected, "for {source:?}");
    }
}
