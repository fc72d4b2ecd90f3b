//! `match` and `split`: POSIX extended regular expressions, translated to the
//! `regex` crate's syntax.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{b, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::Value;

pub const BUILTINS: &[Builtin] = &[b("__match", 2, match_), b("__split", 2, split)];

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Rc<regex::Regex>>> = RefCell::new(HashMap::new());
}

/// Rewrites a POSIX ERE into `regex` syntax: bracket expressions keep POSIX rules
/// (backslash literal, leading `]` literal), stray `{` is literal.
pub fn translate(re: &str) -> Option<String> {
    let c: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 8);
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => {
                let next = *c.get(i + 1)?;
                out.push('\\');
                out.push(next);
                i += 2;
            }
            '[' => {
                out.push('[');
                i += 1;
                if c.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if c.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                loop {
                    let ch = *c.get(i)?;
                    match ch {
                        ']' => {
                            out.push(']');
                            i += 1;
                            break;
                        }
                        '[' if matches!(c.get(i + 1), Some(':') | Some('.') | Some('=')) => {
                            let kind = c[i + 1];
                            let mut j = i + 2;
                            while j + 1 < c.len() && !(c[j] == kind && c[j + 1] == ']') {
                                j += 1;
                            }
                            if j + 1 >= c.len() {
                                return None;
                            }
                            let inner: String = c[i + 2..j].iter().collect();
                            if kind == ':' {
                                out.push_str(&format!("[:{inner}:]"));
                            } else {
                                for ch in inner.chars() {
                                    out.push('\\');
                                    out.push(ch);
                                }
                            }
                            i = j + 2;
                        }
                        '\\' | '[' | '&' | '~' => {
                            out.push('\\');
                            out.push(ch);
                            i += 1;
                        }
                        '-' if c.get(i + 1) == Some(&'-') => {
                            out.push_str("\\-");
                            i += 1;
                        }
                        _ => {
                            out.push(ch);
                            i += 1;
                        }
                    }
                }
            }
            '{' => {
                // An interval only when it looks like one.
                let mut j = i + 1;
                while j < c.len() && (c[j].is_ascii_digit() || c[j] == ',') {
                    j += 1;
                }
                if j > i + 1 && c.get(j) == Some(&'}') && c[i + 1].is_ascii_digit() {
                    out.extend(&c[i..=j]);
                    i = j + 1;
                } else {
                    out.push_str("\\{");
                    i += 1;
                }
            }
            '}' => {
                out.push_str("\\}");
                i += 1;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Some(out)
}

fn compile(m: &mut Machine, re: &str, whole: bool, pos: Pos) -> Result<Rc<regex::Regex>> {
    let key = (re.to_string(), whole);
    if let Some(r) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let _ = m;
    let bad = || other_error(format!("invalid regular expression '{re}'"), pos);
    let t = translate(re).ok_or_else(bad)?;
    let t = if whole { format!("^(?:{t})$") } else { t };
    let r = Rc::new(
        regex::RegexBuilder::new(&t)
            .dot_matches_new_line(true)
            .build()
            .map_err(|_| bad())?,
    );
    CACHE.with(|c| c.borrow_mut().insert(key, r.clone()));
    Ok(r)
}

fn match_(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let re = m.expect_string(&a[0], pos)?;
    let st = m.expect_string(&a[1], pos)?;
    let r = compile(m, &re.s, true, pos)?;
    let Some(caps) = r.captures(&st.s) else {
        return Ok(Value::Null);
    };
    Ok(Value::list(
        caps.iter()
            .skip(1)
            .map(|g| g.map(|g| s(g.as_str())).unwrap_or(Value::Null))
            .collect(),
    ))
}

fn split(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let re = m.expect_string(&a[0], pos)?;
    let st = m.expect_string(&a[1], pos)?;
    let r = compile(m, &re.s, false, pos)?;
    let mut out = Vec::new();
    let mut last = 0;
    for caps in r.captures_iter(&st.s) {
        let whole = caps.get(0).expect("group 0 always matches");
        out.push(s(&st.s[last..whole.start()]));
        out.push(Value::list(
            caps.iter()
                .skip(1)
                .map(|g| g.map(|g| s(g.as_str())).unwrap_or(Value::Null))
                .collect(),
        ));
        last = whole.end();
    }
    out.push(s(&st.s[last..]));
    Ok(Value::list(out))
}
