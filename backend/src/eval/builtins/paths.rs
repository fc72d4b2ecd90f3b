//! Files and paths: `import`, reading files and directories, search paths, and
//! the store paths local files would be added under.

use std::path::Path;
use std::rc::Rc;

use super::hashing::{hex, nix32, Algo};
use super::{apply, b, mk_attrs, s, Builtin};
use crate::eval::error::{other_error, Result};
use crate::eval::machine::Machine;
use crate::eval::source::Pos;
use crate::eval::value::{Attr, Attrs, Context, Env, Value};

pub const BUILTINS: &[Builtin] = &[
    b("import", 1, import),
    b("scopedImport", 2, scoped_import),
    b("__readFile", 1, read_file),
    b("__readDir", 1, read_dir),
    b("__readFileType", 1, read_file_type),
    b("__pathExists", 1, path_exists),
    b("__toPath", 1, to_path),
    b("__storePath", 1, store_path),
    b("__findFile", 2, find_file),
    b("baseNameOf", 1, base_name_of),
    b("dirOf", 1, dir_of),
    b("__toFile", 2, to_file),
    b("__filterSource", 2, filter_source),
    b("__path", 1, path),
];

/// How a store path computed during evaluation is written later (the evaluator itself never
/// writes to the store; an engine replays these when a build needs the path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRecipe {
    /// `builtins.toFile`: a text path with the store paths it refers to.
    Text {
        name: String,
        contents: String,
        references: Vec<String>,
    },
    /// A local file or tree (`builtins.path`, `filterSource`). `kept` lists the entries the
    /// filter accepted (`None`: no filter, everything); `recursive: false` is flat hashing.
    Local {
        path: String,
        name: String,
        recursive: bool,
        kept: Option<std::collections::HashSet<String>>,
    },
}

/// Collapses `.`, `..` and repeated slashes of an absolute path.
pub fn canon_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return "/".into();
    }
    let mut out = String::with_capacity(p.len());
    for c in parts {
        out.push('/');
        out.push_str(c);
    }
    out
}

fn io_err(path: &str, e: std::io::Error, pos: Pos) -> Box<crate::eval::error::EvalError> {
    if e.kind() == std::io::ErrorKind::NotFound {
        other_error(format!("path '{path}' does not exist"), pos)
    } else {
        other_error(format!("reading '{path}': {e}"), pos)
    }
}

/// Evaluates a file (cached per path, like Nix).
pub fn import_path(m: &mut Machine, path: &str, pos: Pos) -> Result<Value> {
    let mut path = path.to_string();
    if Path::new(&path).is_dir() {
        path = format!("{}/default.nix", path.trim_end_matches('/'));
    }
    if let Some(v) = m.import_cache.get(&path) {
        return Ok(v.clone());
    }
    let expr = crate::eval::load_file(m, &path, None, pos)?;
    let env = m.base_env.clone();
    let v = m.eval(&expr, &env).map_err(|e| {
        if pos.is_none() {
            e
        } else {
            e.with_frame(Pos::NONE, format!("while evaluating the file '{path}':"))
        }
    })?;
    m.import_cache.insert(path, v.clone());
    Ok(v)
}

fn import(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, _) = m.coerce_to_path(&a[0], pos)?;
    import_path(m, &p, pos)
}

fn scoped_import(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let scope = m.expect_attrs(&a[0], pos)?;
    let (mut p, _) = m.coerce_to_path(&a[1], pos)?;
    if Path::new(&p).is_dir() {
        p = format!("{}/default.nix", p.trim_end_matches('/'));
    }
    let names: Vec<Rc<str>> = scope.entries.iter().map(|e| e.name.clone()).collect();
    let expr = crate::eval::load_file(m, &p, Some(&names), pos)?;
    let env = Env::new(
        scope.entries.iter().map(|e| e.value.clone()).collect(),
        Some(m.base_env.clone()),
    );
    m.eval(&expr, &env)
}

fn read_file(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, ctx) = m.coerce_to_path(&a[0], pos)?;
    let bytes = std::fs::read(&p).map_err(|e| io_err(&p, e, pos))?;
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if text.contains('\0') {
        super::json::check_no_nul(&text, pos)?;
    }
    Ok(Value::string_ctx(text, ctx))
}

fn file_type(md: &std::fs::Metadata) -> &'static str {
    let ft = md.file_type();
    if ft.is_symlink() {
        "symlink"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_file() {
        "regular"
    } else {
        "unknown"
    }
}

fn read_dir(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, _) = m.coerce_to_path(&a[0], pos)?;
    let md = std::fs::metadata(&p).map_err(|e| io_err(&p, e, pos))?;
    if !md.is_dir() {
        return Err(other_error(format!("'{p}' is not a directory"), pos));
    }
    let mut entries = Vec::new();
    for e in std::fs::read_dir(&p).map_err(|e| io_err(&p, e, pos))? {
        let e = e.map_err(|e| io_err(&p, e, pos))?;
        let md = std::fs::symlink_metadata(e.path()).map_err(|err| io_err(&p, err, pos))?;
        entries.push(Attr {
            name: Rc::from(e.file_name().to_string_lossy().as_ref()),
            value: s(file_type(&md)),
            pos: Pos::NONE,
        });
    }
    Ok(Value::attrs(Attrs::from_unsorted(entries)))
}

fn read_file_type(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, _) = m.coerce_to_path(&a[0], pos)?;
    let md = std::fs::symlink_metadata(&p).map_err(|e| io_err(&p, e, pos))?;
    Ok(s(file_type(&md)))
}

fn path_exists(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let v = m.force(&a[0])?;
    let must_be_dir = matches!(&v, Value::String(st) if st.s.ends_with('/') && st.s.len() > 1);
    let (p, _) = m.coerce_to_path(&v, pos)?;
    Ok(Value::Bool(match std::fs::metadata(&p) {
        Ok(md) => !must_be_dir || md.is_dir(),
        Err(_) => false,
    }))
}

fn to_path(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, ctx) = m.coerce_to_path(&a[0], pos)?;
    Ok(Value::string_ctx(canon_path(&p), ctx))
}

fn store_path(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, mut ctx) = m.coerce_to_path(&a[0], pos)?;
    let dir = format!("{}/", m.settings.store_dir);
    let Some(rest) = p.strip_prefix(&dir) else {
        return Err(other_error(
            format!("path '{p}' is not in the Nix store"),
            pos,
        ));
    };
    let base = rest.split('/').next().unwrap_or("");
    let sp = format!("{dir}{base}");
    ctx.insert(sp);
    Ok(Value::string_ctx(p, ctx))
}

/// Resolves `<name/rest>` against the search path.
fn find_file(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let list = m.expect_list(&a[0], pos)?;
    let name = m.expect_string(&a[1], pos)?;
    for item in list.iter() {
        let set = m.expect_attrs(item, pos)?;
        let prefix = match set.get("prefix") {
            Some(p) => m.expect_string(&p.clone(), pos)?.s.clone(),
            None => String::new(),
        };
        let path = m.get_attr(&set, "path", pos)?;
        let path = m.coerce_to_string(&path, false, false, pos)?.s;
        let rest = if prefix.is_empty() {
            Some(name.s.clone())
        } else if name.s == prefix {
            Some(String::new())
        } else {
            name.s
                .strip_prefix(&format!("{prefix}/"))
                .map(|r| r.to_string())
        };
        let Some(rest) = rest else { continue };
        let base = if path.starts_with('/') {
            path.clone()
        } else {
            let cwd = std::env::current_dir()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{cwd}/{path}")
        };
        let candidate = if rest.is_empty() {
            canon_path(&base)
        } else {
            canon_path(&format!("{base}/{rest}"))
        };
        if Path::new(&candidate).exists() {
            return Ok(Value::path(candidate));
        }
    }
    // A throw, so `tryEval <missing>` is false rather than fatal (as in Nix).
    Err(crate::eval::error::EvalError::new(
        crate::eval::error::ErrorKind::Throw,
        format!(
            "file '{}' was not found in the Nix search path (add it using $NIX_PATH or -I)",
            name.s
        ),
        pos,
    ))
}

/// Nix's `baseNameOf` on a string: the last component, ignoring one trailing slash.
pub fn base_name(p: &str) -> &str {
    if p.is_empty() {
        return "";
    }
    let mut last = p.len() - 1;
    if p.as_bytes()[last] == b'/' && last > 0 {
        last -= 1;
    }
    let start = p[..=last].rfind('/').map(|i| i + 1).unwrap_or(0);
    &p[start..=last]
}

fn base_name_of(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let v = m.force(&a[0])?;
    if let Value::Path(p) = &v {
        return Ok(s(base_name(p)));
    }
    let st = m.coerce_to_string(&v, false, false, pos)?;
    Ok(Value::string_ctx(base_name(&st.s), st.ctx))
}

fn dir_of(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let v = m.force(&a[0])?;
    if let Value::Path(p) = &v {
        let parent = match p.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => p[..i].to_string(),
        };
        return Ok(Value::path(parent));
    }
    let st = m.coerce_to_string(&v, false, false, pos)?;
    let out = match st.s.rfind('/') {
        None => ".".to_string(),
        Some(0) => "/".to_string(),
        Some(i) => st.s[..i].to_string(),
    };
    Ok(Value::string_ctx(out, st.ctx))
}

// ---- store paths ---------------------------------------------------------------------

/// Writes `s` as a NAR string: length, bytes, padding to 8.
fn nar_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
    let pad = (8 - s.len() % 8) % 8;
    out.extend(std::iter::repeat_n(0u8, pad));
}

/// Serialises a file tree as a NAR; `filter` decides which entries to keep.
fn nar_dump(
    m: &mut Machine,
    path: &Path,
    out: &mut Vec<u8>,
    filter: &mut dyn FnMut(&mut Machine, &str, &'static str) -> Result<bool>,
    pos: Pos,
) -> Result<()> {
    let ps = path.to_string_lossy().into_owned();
    let md = std::fs::symlink_metadata(path).map_err(|e| io_err(&ps, e, pos))?;
    nar_str(out, b"(");
    let ft = md.file_type();
    if ft.is_symlink() {
        nar_str(out, b"type");
        nar_str(out, b"symlink");
        nar_str(out, b"target");
        let t = std::fs::read_link(path).map_err(|e| io_err(&ps, e, pos))?;
        nar_str(out, t.to_string_lossy().as_bytes());
    } else if ft.is_dir() {
        nar_str(out, b"type");
        nar_str(out, b"directory");
        let mut names: Vec<String> = std::fs::read_dir(path)
            .map_err(|e| io_err(&ps, e, pos))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let child = path.join(&name);
            let cmd = std::fs::symlink_metadata(&child).map_err(|e| io_err(&ps, e, pos))?;
            if !filter(m, &child.to_string_lossy(), file_type(&cmd))? {
                continue;
            }
            nar_str(out, b"entry");
            nar_str(out, b"(");
            nar_str(out, b"name");
            nar_str(out, name.as_bytes());
            nar_str(out, b"node");
            nar_dump(m, &child, out, filter, pos)?;
            nar_str(out, b")");
        }
    } else {
        use std::os::unix::fs::PermissionsExt;
        nar_str(out, b"type");
        nar_str(out, b"regular");
        if md.permissions().mode() & 0o100 != 0 {
            nar_str(out, b"executable");
            nar_str(out, b"");
        }
        nar_str(out, b"contents");
        let data = std::fs::read(path).map_err(|e| io_err(&ps, e, pos))?;
        nar_str(out, &data);
    }
    nar_str(out, b")");
    Ok(())
}

/// The NAR serialisation of a path.
pub fn nar_of(
    m: &mut Machine,
    path: &str,
    filter: &mut dyn FnMut(&mut Machine, &str, &'static str) -> Result<bool>,
    pos: Pos,
) -> Result<Vec<u8>> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(other_error(format!("path '{path}' does not exist"), pos));
    }
    let mut out = Vec::new();
    nar_str(&mut out, b"nix-archive-1");
    nar_dump(m, Path::new(path), &mut out, filter, pos)?;
    Ok(out)
}

/// `makeStorePath`: `<store>/<nix32 of the compressed fingerprint hash>-<name>`.
pub fn make_store_path(store_dir: &str, ty: &str, inner_hex: &str, name: &str) -> String {
    let fp = format!("{ty}:sha256:{inner_hex}:{store_dir}:{name}");
    let h = Algo::Sha256.digest(fp.as_bytes());
    let mut c = [0u8; 20];
    for (i, b) in h.iter().enumerate() {
        c[i % 20] ^= b;
    }
    format!("{store_dir}/{}-{name}", nix32(&c))
}

/// Checks a store path name the way Nix does.
pub fn check_name(name: &str, pos: Pos) -> Result<()> {
    if name.is_empty() {
        return Err(other_error("store path name is empty", pos));
    }
    if name.len() > 211 {
        return Err(other_error(
            format!("store path name '{name}' is longer than 211 characters"),
            pos,
        ));
    }
    if name.starts_with('.')
        && (name == "." || name == ".." || name.starts_with(".-") || name.starts_with("..-"))
    {
        return Err(other_error(
            format!("invalid store path name '{name}'"),
            pos,
        ));
    }
    for c in name.chars() {
        if !(c.is_ascii_alphanumeric() || "+-._?=".contains(c)) {
            return Err(other_error(
                format!("invalid store path name '{name}': contains illegal character '{c}'"),
                pos,
            ));
        }
    }
    Ok(())
}

/// The store path a local path is added under (`nix-store --add`, recursive sha256).
pub fn store_path_of_path(
    m: &mut Machine,
    path: &str,
    name: Option<&str>,
    pos: Pos,
) -> Result<String> {
    if path.starts_with(&format!("{}/", m.settings.store_dir)) {
        // Already in the store: Nix keeps it (minus any subpath).
        let rest = &path[m.settings.store_dir.len() + 1..];
        if !rest.contains('/') {
            return Ok(path.to_string());
        }
    }
    let nar = nar_of(m, path, &mut |_, _, _| Ok(true), pos)?;
    let name = name.unwrap_or_else(|| base_name(path)).to_string();
    check_name(&name, pos)?;
    Ok(make_store_path(
        &m.settings.store_dir,
        "source",
        &hex(&Algo::Sha256.digest(&nar)),
        &name,
    ))
}

/// `makeTextPath`: where `toFile` puts a text with the given references.
pub fn text_store_path(store_dir: &str, name: &str, contents: &str, refs: &[String]) -> String {
    let mut ty = String::from("text");
    for r in refs {
        ty.push(':');
        ty.push_str(r);
    }
    make_store_path(
        store_dir,
        &ty,
        &hex(&Algo::Sha256.digest(contents.as_bytes())),
        name,
    )
}

fn to_file(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let name = m.expect_string(&a[0], pos)?;
    let contents = m.expect_string(&a[1], pos)?;
    check_name(&name.s, pos)?;
    let mut refs = Vec::new();
    for c in &contents.ctx {
        if c.starts_with('=') || c.starts_with('!') {
            return Err(other_error(
                format!(
                    "files created by builtins.toFile may not reference derivations, but {} references {}",
                    name.s,
                    c.rsplit('!').next().unwrap_or(c).trim_start_matches('=')
                ),
                pos,
            ));
        }
        refs.push(c.clone());
    }
    refs.sort();
    let p = text_store_path(&m.settings.store_dir, &name.s, &contents.s, &refs);
    m.sources.insert(
        p.clone(),
        SourceRecipe::Text {
            name: name.s.clone(),
            contents: contents.s.clone(),
            references: refs,
        },
    );
    let mut ctx = Context::new();
    ctx.insert(p.clone());
    Ok(Value::string_ctx(p, ctx))
}

fn add_path(
    m: &mut Machine,
    path: &str,
    name: &str,
    filter: Option<Value>,
    recursive: bool,
    expected: Option<String>,
    pos: Pos,
) -> Result<Value> {
    check_name(name, pos)?;
    let mut kept = std::collections::HashSet::new();
    let sp = if recursive {
        let nar = match &filter {
            Some(f) => {
                let f = f.clone();
                nar_of(
                    m,
                    path,
                    &mut |m, p, ty| {
                        let r = apply(m, &f, &[Value::string(p), s(ty)], pos)?;
                        let keep = m.expect_bool(&r, pos)?;
                        if keep {
                            kept.insert(p.to_string());
                        }
                        Ok(keep)
                    },
                    pos,
                )?
            }
            None => nar_of(m, path, &mut |_, _, _| Ok(true), pos)?,
        };
        let h = Algo::Sha256.digest(&nar);
        check_expected(expected.as_deref(), &h, path, pos)?;
        make_store_path(&m.settings.store_dir, "source", &hex(&h), name)
    } else {
        let data = std::fs::read(path).map_err(|e| io_err(path, e, pos))?;
        let digest = Algo::Sha256.digest(&data);
        check_expected(expected.as_deref(), &digest, path, pos)?;
        let h = hex(&digest);
        let inner = hex(&Algo::Sha256.digest(format!("fixed:out:sha256:{h}:").as_bytes()));
        make_store_path(&m.settings.store_dir, "output:out", &inner, name)
    };
    m.sources.insert(
        sp.clone(),
        SourceRecipe::Local {
            path: path.to_string(),
            name: name.to_string(),
            recursive,
            kept: filter.is_some().then_some(kept),
        },
    );
    let mut ctx = Context::new();
    ctx.insert(sp.clone());
    Ok(Value::string_ctx(sp, ctx))
}

/// `builtins.path { sha256 = ...; }`: the contents must have the declared hash, as in Nix.
fn check_expected(expected: Option<&str>, actual: &[u8], path: &str, pos: Pos) -> Result<()> {
    let Some(want) = expected else {
        return Ok(());
    };
    let ok = match want.len() {
        64 => want.eq_ignore_ascii_case(&hex(actual)),
        44 => want == super::hashing::base64(actual),
        _ => match want.strip_prefix("sha256-") {
            Some(b64) => b64 == super::hashing::base64(actual),
            None => want.trim_start_matches("sha256:") == nix32(actual),
        },
    };
    if ok {
        Ok(())
    } else {
        Err(other_error(
            format!(
                "hash mismatch for '{path}': specified sha256:{want}, got sha256:{}",
                nix32(actual)
            ),
            pos,
        ))
    }
}

fn filter_source(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let (p, _) = m.coerce_to_path(&a[1], pos)?;
    let f = m.expect_function(&a[0], pos)?;
    let name = base_name(&p).to_string();
    add_path(m, &p, &name, Some(f), true, None, pos)
}

fn path(m: &mut Machine, a: &[Value], pos: Pos) -> Result<Value> {
    let args = m.expect_attrs(&a[0], pos)?;
    let pv = m.get_attr(&args, "path", pos)?;
    let (p, _) = m.coerce_to_path(&pv, pos)?;
    let name = match args.get("name") {
        Some(n) => m.expect_string(&n.clone(), pos)?.s.clone(),
        None => base_name(&p).to_string(),
    };
    let filter = match args.get("filter") {
        Some(f) => Some(m.expect_function(&f.clone(), pos)?),
        None => None,
    };
    let recursive = match args.get("recursive") {
        Some(r) => m.expect_bool(&r.clone(), pos)?,
        None => true,
    };
    let sha = match args.get("sha256") {
        Some(h) => Some(m.expect_string(&h.clone(), pos)?.s.clone()),
        None => None,
    };
    add_path(m, &p, &name, filter, recursive, sha, pos)
}

/// `fetchTree { type = "path"; path = ...; }`.
pub fn fetch_tree_path(m: &mut Machine, v: &Value, pos: Pos) -> Result<Value> {
    let args = m.expect_attrs(v, pos)?;
    let pv = m.get_attr(&args, "path", pos)?;
    let (p, _) = m.coerce_to_path(&pv, pos)?;
    let nar = nar_of(m, &p, &mut |_, _, _| Ok(true), pos)?;
    let digest = Algo::Sha256.digest(&nar);
    let sp = make_store_path(&m.settings.store_dir, "source", &hex(&digest), "source");
    let mut ctx = Context::new();
    ctx.insert(sp.clone());
    Ok(mk_attrs(vec![
        ("outPath", Value::string_ctx(sp, ctx)),
        (
            "narHash",
            s(format!("sha256-{}", super::hashing::base64(&digest))),
        ),
    ]))
}

/// `fetchGit` of a local repository path: the working tree as a source path.
pub fn fetch_git_local(m: &mut Machine, v: &Value, pos: Pos) -> Result<Value> {
    let v = m.force(v)?;
    let url = match &v {
        Value::Attrs(a) => {
            let u = m.get_attr(a, "url", pos)?;
            m.coerce_to_string(&u, false, false, pos)?.s
        }
        other => m.coerce_to_string(other, false, false, pos)?.s,
    };
    let local = url.strip_prefix("file://").unwrap_or(&url).to_string();
    if !local.starts_with('/') {
        return Err(other_error(
            format!("'builtins.fetchGit' of '{url}' needs network access, which strata's evaluator does not do"),
            pos,
        ));
    }
    let args = mk_attrs(vec![("path", s(local))]);
    fetch_tree_path(m, &args, pos)
}
