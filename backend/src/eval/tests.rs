//! Fixture tests: one expression, its printed value (or error) as an inline expectation.

use expect_test::{expect, Expect};

use super::{Evaluator, Settings};

fn eval_to_string(src: &str) -> String {
    let src = src.to_string();
    // Deep evaluation recurses natively: run it where the stack is as large as the CLI's.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let mut ev = Evaluator::new(Settings::default());
            let r = ev.eval_text(&src, "/").and_then(|v| ev.print(&v, true));
            match r {
                Ok(s) => s,
                Err(e) => format!("error: {}", e.msg),
            }
        })
        .expect("spawn")
        .join()
        .expect("evaluator thread")
}

fn check(src: &str, want: Expect) {
    want.assert_eq(&eval_to_string(src));
}

#[test]
fn arithmetic_and_promotion() {
    check("1 + 2 * 3 - 4 / 2", expect!["5"]);
    check("1 + 2.5", expect!["3.5"]);
    check("7 / 2", expect!["3"]);
    check("7 / 2.0", expect!["3.5"]);
    check("-(-3)", expect!["3"]);
    check("1 / 0", expect!["error: division by zero"]);
    check(
        "9223372036854775807 + 1",
        expect!["error: integer overflow in adding 9223372036854775807 + 1"],
    );
}

#[test]
fn laziness_and_blackholing() {
    check("let x = throw \"no\"; y = 1; in y", expect!["1"]);
    check(
        "let x = x; in x",
        expect!["error: infinite recursion encountered"],
    );
    check("(rec { a = b; b = 2; }).a", expect!["2"]);
    check("builtins.length [ (throw \"lazy\") ]", expect!["1"]);
}

#[test]
fn tail_calls_do_not_grow_the_stack() {
    check(
        "let loop = n: if n == 0 then 200000 else loop (n - 1); in loop 200000",
        expect!["200000"],
    );
}

#[test]
fn runaway_recursion_is_an_error() {
    check(
        "let f = n: 1 + f (n + 1); in f 0",
        expect!["error: stack overflow; max-call-depth exceeded"],
    );
}

#[test]
fn with_is_dynamic_and_lexical_scope_wins() {
    check("let a = 1; in with { a = 2; b = 3; }; a + b", expect!["4"]);
    check("with { a = 1; }; with { a = 2; }; a", expect!["2"]);
    check("with { true = false; }; true", expect!["true"]);
}

#[test]
fn attribute_sets() {
    check(
        "{ a.b = 1; a.c = 2; }",
        expect!["{ a = { b = 1; c = 2; }; }"],
    );
    check(
        "{ a = 1; } // { b = 2; a = 3; }",
        expect!["{ a = 3; b = 2; }"],
    );
    check("let n = \"x\"; in { ${n} = 1; }", expect!["{ x = 1; }"]);
    check("{ a = 1; } ? a.b", expect!["false"]);
    check("({ a = { }; }).a.b or 5", expect!["5"]);
    check(
        "{ a = 1; }.b",
        expect!["error: attribute 'b' missing\nDid you mean a?"],
    );
}

#[test]
fn functions_and_patterns() {
    check("({ a, b ? a + 1, ... }@args: [ a b (builtins.length (builtins.attrNames args)) ]) { a = 1; c = 0; }", expect!["[ 1 2 2 ]"]);
    check(
        "({ a }: a) { b = 1; }",
        expect!["error: function 'anonymous lambda' called without required argument 'a'"],
    );
    check(
        "let f = { a }: a; in f { a = 1; b = 2; }",
        expect!["error: function 'f' called with unexpected argument 'b'"],
    );
    check(
        "builtins.functionArgs ({ a, b ? 1 }: a)",
        expect!["{ a = false; b = true; }"],
    );
    check("(x: x) == (x: x)", expect!["false"]);
    check("let f = x: x; in [ f ] == [ f ]", expect!["true"]);
}

#[test]
fn strings_and_coercion() {
    check("\"a${toString 1}b\"", expect![[r#""a1b""#]]);
    check(
        "toString [ 1 [ ] true null \"x\" 2.5 ]",
        expect![[r#""1 1  x 2.500000""#]],
    );
    check("\"${{ __toString = s: \"me\"; }}\"", expect![[r#""me""#]]);
    check("\"${{ outPath = \"/p\"; }}\"", expect![[r#""/p""#]]);
    check(
        "\"x\" + 1",
        expect!["error: cannot coerce an integer to a string: 1"],
    );
    check("''\n  a\n    b\n''", expect![[r#""a\n  b\n""#]]);
}

#[test]
fn comparisons() {
    check("[ 1 2 ] < [ 1 3 ]", expect!["true"]);
    check("\"abc\" < \"abd\"", expect!["true"]);
    check("1 < 1.5", expect!["true"]);
    check("{ } < { }", expect!["error: cannot compare a set with a set; values of that type are incomparable (values are { } and { })"]);
}

#[test]
fn builtins_sample() {
    check(
        "builtins.sort (a: b: a < b) [ 3 1 2 ]",
        expect!["[ 1 2 3 ]"],
    );
    check(
        "builtins.match \"a(b*)c\" \"abbc\"",
        expect![[r#"[ "bb" ]"#]],
    );
    check(
        "builtins.split \"(,)\" \"a,b\"",
        expect![[r#"[ "a" [ "," ] "b" ]"#]],
    );
    check(
        "builtins.replaceStrings [ \"\" ] [ \"-\" ] \"ab\"",
        expect![[r#""-a-b-""#]],
    );
    check(
        "builtins.tryEval (throw \"x\")",
        expect!["{ success = false; value = false; }"],
    );
    check(
        "builtins.tryEval (abort \"x\")",
        expect!["error: evaluation aborted with the following error message: 'x'"],
    );
    check(
        "builtins.fromJSON ''{\"a\": [1, 2.5, null]}''",
        expect!["{ a = [ 1 2.5 null ]; }"],
    );
    check(
        "builtins.toJSON { a = [ 1 2.5 \"x\" ]; }",
        expect![[r#""{\"a\":[1,2.5,\"x\"]}""#]],
    );
    check(
        "builtins.compareVersions \"1.2.3\" \"1.2.10\"",
        expect!["-1"],
    );
    check(
        "builtins.hashString \"sha256\" \"\"",
        expect![[r#""e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855""#]],
    );
    check(
        "builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 3 then [ { key = x.key + 1; } ] else [ ]; }",
        expect!["[ { key = 1; } { key = 2; } { key = 3; } ]"],
    );
}

#[test]
fn derivation_paths_match_nix() {
    // Same derivation as Nix 2.8 instantiates to this output path.
    check(
        "(derivation { name = \"hello\"; builder = \"/bin/sh\"; system = \"x86_64-linux\"; }).outPath",
        expect![[r#""/nix/store/pnwh4xsfs4j508bs9iw6bpkyc4zw6ryx-hello""#]],
    );
}

#[test]
fn sources_are_recorded_for_the_engine_and_path_hashes_checked() {
    use super::builtins::paths::SourceRecipe;
    let dir = std::env::temp_dir().join(format!("strata-eval-sources-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("keep.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("sub/drop.log"), "x").unwrap();
    let d = dir.display();
    // sha256 of "hello\n".
    let sha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    let src = format!(
        r#"[
          (builtins.toFile "t.txt" "text")
          (builtins.path {{ path = {d}/keep.txt; name = "k"; recursive = false; sha256 = "{sha}"; }})
          (builtins.path {{ path = {d}; name = "f"; filter = p: t: t == "directory" || builtins.match ".*\\.txt" p != null; }})
        ]"#
    );
    let mut ev = Evaluator::new(Settings::default());
    let v = ev.eval_text(&src, "/").unwrap();
    ev.print(&v, true).unwrap();
    let mut recipes: Vec<_> = ev.machine.sources.values().cloned().collect();
    recipes.sort_by_key(|r| format!("{r:?}"));
    let kept: std::collections::HashSet<String> = [format!("{d}/keep.txt"), format!("{d}/sub")]
        .into_iter()
        .collect();
    assert_eq!(
        recipes,
        vec![
            SourceRecipe::Local {
                path: d.to_string(),
                name: "f".into(),
                recursive: true,
                kept: Some(kept),
            },
            SourceRecipe::Local {
                path: format!("{d}/keep.txt"),
                name: "k".into(),
                recursive: false,
                kept: None,
            },
            SourceRecipe::Text {
                name: "t.txt".into(),
                contents: "text".into(),
                references: vec![],
            },
        ]
    );
    let wrong = format!(
        r#"builtins.path {{ path = {d}/keep.txt; recursive = false; sha256 = "{}"; }}"#,
        "0".repeat(64)
    );
    let err = eval_to_string(&wrong);
    assert!(err.starts_with("error: hash mismatch for"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Evaluates strictly and returns what `trace` wrote, one entry per call.
fn traces_of(src: &str) -> Vec<String> {
    let src = src.to_string();
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let mut ev = Evaluator::new(Settings::default());
            let sink = seen.clone();
            ev.machine.trace_sink = Box::new(move |s| sink.borrow_mut().push(s.to_string()));
            let v = ev.eval_text(&src, "/").expect("evaluates");
            ev.print(&v, true).expect("prints");
            let out = seen.borrow().clone();
            out
        })
        .expect("spawn")
        .join()
        .expect("evaluator thread")
}

#[test]
fn inherit_from_evaluates_its_source_once() {
    let src = r#"let
      s = { inherit (builtins.trace "set" { a = 1; b = 2; c = 3; }) a b c; };
      r = rec { inherit (builtins.trace "rec" { a = 1; b = 2; }) a b; d = a + b; };
      l = let inherit (builtins.trace "let" { a = 1; b = 2; c = 3; }) a b c; in a + b + c;
      n = { x.y = 1; x = { inherit (builtins.trace "nested" { p = 1; q = 2; }) p q; }; };
    in [ (s.a + s.b + s.c) r.d l n ]"#;
    expect![[r#"
        [
            "trace: set",
            "trace: rec",
            "trace: let",
            "trace: nested",
        ]
    "#]]
    .assert_debug_eq(&traces_of(src));
    // Names still resolve where Nix resolves them: a `rec` source sees the set itself.
    check("rec { inherit (s) a; s = { a = 5; }; }.a", expect!["5"]);
    check(
        "let inherit (s) a; s = { a = a0; }; a0 = 6; in a",
        expect!["6"],
    );
    check(
        "let s = { a = 7; }; in { inherit (s) a; s = 0; }.a",
        expect!["7"],
    );
}

/// The error as `--show-trace` renders it.
fn render_traced(src: &str) -> String {
    let src = src.to_string();
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let settings = Settings {
                show_trace: true,
                ..Settings::default()
            };
            let mut ev = Evaluator::new(settings);
            match ev.eval_text(&src, "/").and_then(|v| ev.print(&v, true)) {
                Ok(s) => format!("unexpected success: {s}"),
                Err(e) => e.render(true),
            }
        })
        .expect("spawn")
        .join()
        .expect("evaluator thread")
}

#[test]
fn show_trace_names_attributes_and_calls() {
    // Nix 2.8 prints these frames (innermost first): the attribute 'y', 'g' with its
    // call site, the attribute 'res'.
    expect![[r#"
        error:
               … while evaluating the attribute 'res'
                 at «string»:4:6:

                    4| in { res = g { a = 1; b = 2; }; }
                     |      ^

               … from call site
                 at «string»:4:12:

                    4| in { res = g { a = 1; b = 2; }; }
                     |            ^

               … while calling 'g'
                 at «string»:3:7:

                    3|   g = { a, b }: (f a).y;
                     |       ^

               … while evaluating the attribute 'y'
                 at «string»:2:12:

                    2|   f = x: { y = x + "a"; };
                     |            ^

               error: cannot add a string to an integer

               at «string»:2:18:

                    2|   f = x: { y = x + "a"; };
                     |                  ^
    "#]].assert_eq(&render_traced(
        "let\n  f = x: { y = x + \"a\"; };\n  g = { a, b }: (f a).y;\nin { res = g { a = 1; b = 2; }; }\n",
    ));
}

#[test]
fn show_trace_names_lambdas_called_by_builtins() {
    // Nix 2.8: the anonymous lambda at its definition, then the call site in foldl'.
    expect![[r#"
        error:
               … while calling the 'foldl'' builtin
                 at «string»:1:1:

                    1| builtins.foldl' (acc: x: acc + x) 0 [ 1 2 "x" ]
                     | ^

               … from call site
                 at «string»:1:1:

                    1| builtins.foldl' (acc: x: acc + x) 0 [ 1 2 "x" ]
                     | ^

               … while calling anonymous lambda
                 at «string»:1:23:

                    1| builtins.foldl' (acc: x: acc + x) 0 [ 1 2 "x" ]
                     |                       ^

               error: cannot add a string to an integer

               at «string»:1:30:

                    1| builtins.foldl' (acc: x: acc + x) 0 [ 1 2 "x" ]
                     |                              ^
    "#]]
    .assert_eq(&render_traced(
        "builtins.foldl' (acc: x: acc + x) 0 [ 1 2 \"x\" ]",
    ));
}

#[test]
fn show_trace_names_the_imported_file() {
    // Nix 2.8: "while evaluating the file '...':" when the failure is in evaluating an import.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("lib.nix");
    std::fs::write(&file, "{ x = 1; } // (throw \"boom\")\n").expect("write");
    let rendered = render_traced(&format!("(import {}).x", file.display()));
    let want = format!("… while evaluating the file '{}':", file.display());
    assert!(rendered.contains(&want), "{rendered}");
    assert!(rendered.contains("error: boom"), "{rendered}");
}

/// Every list element, frame slot and attribute carries a `Value`: keep it two words, so a
/// new variant with a fat payload (such as `Rc<str>`) does not grow them all by half.
#[test]
fn value_is_two_words() {
    assert_eq!(
        std::mem::size_of::<super::value::Value>(),
        2 * std::mem::size_of::<usize>()
    );
}

/// Thunks are the most numerous allocation: the state must stay within three words (so the
/// `Rc` allocation is 40 bytes), which the `Cell` (no borrow flag), two-word values and
/// boxed applications allow.
#[test]
fn thunk_is_three_words() {
    assert_eq!(
        std::mem::size_of::<super::value::Thunk>(),
        3 * std::mem::size_of::<usize>()
    );
}

/// Thunk and closure handles carry no weak count: a thunk allocation is four words.
#[test]
fn thunk_allocation_is_four_words() {
    assert_eq!(
        super::value::Shared::<super::value::Thunk>::alloc_size(),
        4 * std::mem::size_of::<usize>()
    );
}

/// The shared value is dropped exactly once, when the last handle goes.
#[test]
fn shared_drops_its_value_with_the_last_handle() {
    use std::cell::Cell;
    use std::rc::Rc;
    struct Probe(Rc<Cell<u32>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let a = super::value::Shared::new(Probe(drops.clone()));
    let b = a.clone();
    assert!(super::value::Shared::ptr_eq(&a, &b));
    drop(a);
    assert_eq!(drops.get(), 0);
    drop(b);
    assert_eq!(drops.get(), 1);
}

/// Most frames hold one lambda argument: header (count, length, parent) and the slot in
/// one 32-byte allocation, where an `Rc<RefCell<SmallVec>>` frame took 96.
#[test]
fn one_slot_frame_is_four_words() {
    assert_eq!(
        super::value::Env::alloc_size(1),
        4 * std::mem::size_of::<usize>()
    );
    assert_eq!(
        super::value::Env::alloc_size(3),
        8 * std::mem::size_of::<usize>()
    );
}

/// One selection site sees sets of different shapes: the index it remembers must be
/// checked, never trusted.
#[test]
fn lookup_hints_follow_differently_shaped_sets() {
    check(
        "map (s: s.b or null) [ { a = 1; b = 2; } { b = 3; } { a = 0; } { b = 4; c = 5; } { b = 6; } ]",
        expect!["[ 2 3 null 4 6 ]"],
    );
    check(
        "let f = { b, ... }: b; in [ (f { a = 1; b = 2; }) (f { b = 3; }) (f { b = 4; z = 0; }) ]",
        expect!["[ 2 3 4 ]"],
    );
    check(
        "let f = x: with x; y; in [ (f { y = 1; }) (f { a = 0; y = 2; }) (f { y = 3; z = 4; }) ]",
        expect!["[ 1 2 3 ]"],
    );
    check(
        "let f = s: s.${\"k\"}; in [ (f { k = 1; }) (f { a = 0; k = 2; }) ]",
        expect!["[ 1 2 ]"],
    );
}

/// A selection from an already forced set shares the attribute's value but stays lazy:
/// a missing attribute still fails only when forced.
#[test]
fn selection_from_forced_sets_stays_lazy() {
    check(
        "let x = { a = { b = 1; c = throw \"no\"; }; }; in builtins.seq x.a [ x.a.b ]",
        expect!["[ 1 ]"],
    );
    check(
        "let x = { a = { }; }; in builtins.seq x.a (builtins.length [ x.a.missing ])",
        expect!["1"],
    );
    check(
        "let x = { a = { }; }; in builtins.seq x.a [ x.a.missing ]",
        expect!["error: attribute 'missing' missing"],
    );
    check(
        "let x = { a = { b = throw \"boom\"; }; }; in builtins.seq x.a (builtins.tryEval x.a.b)",
        expect!["{ success = false; value = false; }"],
    );
}

/// Frames are filled in order: a default may share an earlier slot, and a later one
/// (or the `@` name) through a thunk.
#[test]
fn formal_defaults_see_the_whole_frame() {
    check("({ a, b ? a }: b) { a = 1; }", expect!["1"]);
    check("({ a ? b, b }: a) { b = 2; }", expect!["2"]);
    check("({ a ? s.b, ... }@s: a) { b = 3; }", expect!["3"]);
    check(
        "let a = b; b = 1; c = a; in [ a b c ]",
        expect!["[ 1 1 1 ]"],
    );
    check(
        "rec { a = b; b = 1; c = a; }",
        expect!["{ a = 1; b = 1; c = 1; }"],
    );
}

/// `f a b` on a curried lambda enters the inner lambda without making its closure:
/// partial applications, patterns, errors and builtin callbacks behave as before.
#[test]
fn curried_calls_bind_every_argument() {
    check("(x: y: z: [ x y z ]) 1 2 3", expect!["[ 1 2 3 ]"]);
    check(
        "let f = x: y: x - y; g = f 10; in [ (g 1) (g 2) (f 5 1) ]",
        expect!["[ 9 8 4 ]"],
    );
    check(
        "({ a }: { b ? a }: x: a + b + x) { a = 1; } { } 3",
        expect!["5"],
    );
    check(
        "(x: { a }: x) 1 { b = 2; }",
        expect!["error: function 'anonymous lambda' called without required argument 'a'"],
    );
    check("builtins.isFunction ((x: y: z: x) 1 2)", expect!["true"]);
    check("(x: let k = 1; in y: x + y + k) 1 2", expect!["4"]);
    check(
        "builtins.foldl' (acc: x: acc ++ [ x ]) [ ] [ 1 2 3 ]",
        expect!["[ 1 2 3 ]"],
    );
    check(
        "builtins.mapAttrs (n: v: n + v) { a = \"1\"; b = \"2\"; }",
        expect![[r#"{ a = "a1"; b = "b2"; }"#]],
    );
    check("let f = x: y: x; in (f 1) (throw \"lazy\")", expect!["1"]);
}

/// A builtin applied to all its arguments in one application gets them at once; fewer
/// or more arguments still go through partial application and a further call.
#[test]
fn builtins_take_all_their_arguments_at_once() {
    check("builtins.getAttr \"f\" { f = x: x + 1; } 2", expect!["3"]);
    check(
        "let m = map (x: x * 2); in [ (m [ 1 2 ]) (builtins.length (map (x: x) [ (throw \"lazy\") ])) ]",
        expect!["[ [ 2 4 ] 1 ]"],
    );
    check("builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ]", expect!["6"]);
    check(
        "map 1 [ 1 ]",
        expect!["error: expected a function but found an integer: 1"],
    );
}

/// Lambdas in lazy positions are made without a thunk, yet print as Nix prints the thunk
/// it would hold: `<CODE>` until something forces them (`seq`, a call, a selection),
/// `<LAMBDA>` after (expected output checked against `nix-instantiate --eval`).
#[test]
fn lazy_lambdas_print_as_unforced_thunks() {
    let lazy = |src: &str| {
        let mut ev = Evaluator::new(Settings::default());
        let v = ev.eval_text(src, "/").expect("evaluates");
        ev.print(&v, false).expect("prints")
    };
    assert_eq!(lazy("{ f = x: x; }"), "{ f = <CODE>; }");
    assert_eq!(lazy("[ (x: x) (y: y) ]"), "[ <CODE> <CODE> ]");
    assert_eq!(
        lazy("let s = { f = x: x; }; in builtins.seq s.f s"),
        "{ f = <LAMBDA>; }"
    );
    assert_eq!(
        lazy("let f = x: x; s = { inherit f; g = f; }; in builtins.seq (s.g 1) s"),
        "{ f = <LAMBDA>; g = <LAMBDA>; }"
    );
    assert_eq!(
        lazy("let s = { f = x: x; }; in builtins.seq (builtins.attrValues s) s"),
        "{ f = <CODE>; }"
    );
    assert_eq!(
        lazy("let s = { f = x: x; }; in builtins.seq (builtins.getAttr \"f\" s) s"),
        "{ f = <LAMBDA>; }"
    );
    assert_eq!(
        lazy("let f = x: x; in builtins.seq (builtins.map f [ ]) { b = f; }"),
        "{ b = <CODE>; }"
    );
}
