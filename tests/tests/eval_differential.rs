//! Differential test: random well-formed expressions (arithmetic, strings, lists, sets,
//! lambdas, `let`/`rec`/`with`) must print the same under `strata eval --strict` and
//! `nix-instantiate --eval --strict`. Many expressions go into one call to keep it fast.

use std::process::Command;

use proptest::prelude::*;

/// A small deterministic generator driven by proptest's seed.
struct Gen {
    state: u64,
    vars: Vec<&'static str>,
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

impl Gen {
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn int(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.pick(4) == 0;
        if leaf {
            if !self.vars.is_empty() && self.pick(2) == 0 {
                let i = self.pick(self.vars.len() as u64) as usize;
                return self.vars[i].to_string();
            }
            let n = self.pick(200) as i64 - 50;
            return if n < 0 {
                format!("({n})")
            } else {
                n.to_string()
            };
        }
        let d = depth - 1;
        match self.pick(12) {
            0 => format!("({} + {})", self.int(d), self.int(d)),
            1 => format!("({} - {})", self.int(d), self.int(d)),
            2 => format!("({} * {})", self.int(d), self.pick(7)),
            3 => format!(
                "(if {} then {} else {})",
                self.boolean(d),
                self.int(d),
                self.int(d)
            ),
            4 => {
                // `let` is recursive: a fresh name keeps the value from referring to itself.
                let Some(v) = NAMES.iter().copied().find(|n| !self.vars.contains(n)) else {
                    return self.int(0);
                };
                let value = self.int(d);
                self.vars.push(v);
                let body = self.int(d);
                self.vars.pop();
                format!("(let {v} = {value}; in {body})")
            }
            5 => {
                let v = NAMES[self.pick(4) as usize];
                self.vars.push(v);
                let body = self.int(d);
                self.vars.pop();
                format!("(({v}: {body}) {})", self.int(d))
            }
            6 => format!("(builtins.length {})", self.list(d)),
            7 => format!("(builtins.stringLength {})", self.string(d)),
            8 => format!("(rec {{ p = {}; q = p + 1; }}).q", self.int(d)),
            9 => format!("(with {{ w = {}; }}; w * 2)", self.int(d)),
            10 => format!("(builtins.foldl' (x: y: x + y) 0 {})", self.list(d)),
            _ => format!(
                "(({{ x ? 3, ... }}@args: builtins.length (builtins.attrNames args)) {})",
                self.attrs(d)
            ),
        }
    }
    fn boolean(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.pick(7) {
            0 => format!("({} < {})", self.int(d), self.int(d)),
            1 => format!("({} == {})", self.int(d), self.int(d)),
            2 => format!("({} == {})", self.string(d), self.string(d)),
            3 => format!(
                "(!{})",
                if depth == 0 {
                    "true".into()
                } else {
                    self.boolean(d)
                }
            ),
            4 => format!("({} && {})", self.boolean(0), self.boolean(0)),
            5 => format!("(builtins.elem {} {})", self.int(d), self.list(d)),
            _ => format!("({} ? x)", self.attrs(d)),
        }
    }
    fn string(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        let words = [
            "\"foo\"",
            "\"\"",
            "\"a b\"",
            "\"x\\ny\"",
            "''ind\n  ented''",
            "\"$\\{q}\"",
        ];
        if depth == 0 || self.pick(3) == 0 {
            return words[self.pick(words.len() as u64) as usize].to_string();
        }
        match self.pick(6) {
            0 => format!(
                "\"<${{{}}}|${{toString {}}}>\"",
                self.string(d),
                self.int(d)
            ),
            1 => format!("({} + {})", self.string(d), self.string(d)),
            2 => format!("(builtins.substring 1 3 {})", self.string(d)),
            3 => format!(
                "(builtins.concatStringsSep \",\" (map toString {}))",
                self.list(d)
            ),
            4 => format!(
                "(builtins.replaceStrings [\"o\"] [\"0\"] {})",
                self.string(d)
            ),
            _ => format!("(toString {})", self.int(d)),
        }
    }
    fn list(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.pick(6) {
            0 if depth > 0 => format!("({} ++ {})", self.list(d), self.list(d)),
            1 if depth > 0 => format!("(map (x: x * 2) {})", self.list(d)),
            2 if depth > 0 => format!("(builtins.filter (x: x > 0) {})", self.list(d)),
            3 if depth > 0 => format!("(builtins.sort builtins.lessThan {})", self.list(d)),
            4 => format!(
                "(builtins.genList (i: i * {}) {})",
                self.pick(5),
                self.pick(5)
            ),
            _ => {
                let n = self.pick(4);
                let items: Vec<String> = (0..n).map(|_| self.int(d)).collect();
                format!("[ {} ]", items.join(" "))
            }
        }
    }
    fn attrs(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.pick(5) {
            0 if depth > 0 => format!("({} // {})", self.attrs(d), self.attrs(d)),
            1 if depth > 0 => format!("(builtins.mapAttrs (n: v: n) {})", self.attrs(d)),
            2 if depth > 0 => format!("(builtins.removeAttrs {} [ \"x\" ])", self.attrs(d)),
            _ => {
                let n = self.pick(3);
                let mut fields: Vec<String> = (0..n)
                    .map(|i| format!("{} = {};", ["x", "y", "z"][i as usize], self.int(d)))
                    .collect();
                if self.pick(2) == 0 {
                    fields.push(format!("s.t = {};", self.string(d)));
                }
                format!("{{ {} }}", fields.join(" "))
            }
        }
    }
    fn any(&mut self) -> String {
        match self.pick(5) {
            0 => self.int(4),
            1 => self.boolean(3),
            2 => self.string(3),
            3 => self.list(3),
            _ => self.attrs(3),
        }
    }
}

fn eval_with(cmd: &mut Command, expr: &str) -> (bool, String, String) {
    let out = cmd
        .args(["--strict", "-E", expr])
        .env("NIX_REMOTE", "local")
        .output()
        .expect("spawn");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn strata_agrees_with_nix(seed in 1u64..u64::MAX) {
        let mut g = Gen { state: seed, vars: Vec::new() };
        let exprs: Vec<String> = (0..40).map(|_| g.any()).collect();
        let batch = format!("[\n{}\n]", exprs.iter().map(|e| format!("({e})")).collect::<Vec<_>>().join("\n"));
        let mut nix = Command::new("nix-instantiate");
        nix.arg("--eval");
        let (nix_ok, nix_out, nix_err) = eval_with(&mut nix, &batch);
        let mut strata = Command::new(strata_tests::strata_bin());
        strata.arg("eval");
        let (ok, out, err) = eval_with(&mut strata, &batch);
        prop_assert!(nix_ok, "the generator made an expression Nix rejects: {}\n{}", nix_err, batch);
        prop_assert_eq!(ok, nix_ok, "exit status differs; nix: {} strata: {}\n{}", nix_err, err, batch);
        prop_assert_eq!(out, nix_out, "output differs for\n{}", batch);
    }
}
