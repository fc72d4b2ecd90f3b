//! The native engine end to end: build the demo home with Strata's own evaluator, store and
//! builder, and compare the output path and NAR hash with Nix 2.8 under the same store dir.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use strata_tests::{repo_root, strata_bin};

#[test]
fn native_build_of_demo_home_matches_nix() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = Command::new(strata_bin())
        .current_dir(repo_root().join("examples/home"))
        .args(["--store-dir"])
        .arg(&store)
        .arg("--state-dir")
        .arg(tmp.path().join("state"))
        .args([
            "build",
            ".#homeConfigurations.demo",
            "--engine",
            "native",
            "-j",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let store = std::fs::canonicalize(&store).unwrap();
    assert!(ours.starts_with(&format!("{}/", store.display())), "{ours}");
    assert!(std::path::Path::new(&ours).join("activate").is_file());
    // Nix computes the same output path for the same store directory.
    let nix = Command::new("nix-instantiate")
        .env("NIX_STORE_DIR", &store)
        .env("NIX_STATE_DIR", tmp.path().join("nix-state"))
        .env("NIX_REMOTE", "local")
        .args(["--extra-experimental-features", "nix-command flakes", "--eval", "-E"])
        .arg(format!(
            "builtins.unsafeDiscardStringContext (builtins.getFlake \"path:{}\").homeConfigurations.demo.activationPackage.outPath",
            repo_root().join("examples/home").display()
        ))
        .output()
        .unwrap();
    assert!(
        nix.status.success(),
        "{}",
        String::from_utf8_lossy(&nix.stderr)
    );
    assert_eq!(
        String::from_utf8(nix.stdout).unwrap().trim(),
        format!("\"{ours}\"")
    );
}

/// Runs `strata` against one scratch store and state folder; panics with the output on failure.
struct Scratch {
    tmp: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("store")).unwrap();
        Scratch { tmp }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.tmp.path().join(rel)
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(strata_bin())
            .arg("--store-dir")
            .arg(self.path("store"))
            .arg("--state-dir")
            .arg(self.path("state"))
            .args(args)
            .env("STRATA_DEMO_HOME", self.path("home"))
            .env_remove("STRATA_ELEVATE")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "strata {args:?}: exit {:?}\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn valid(&self, path: &str) -> bool {
        self.run(&["store", "info", path]).status.success() && Path::new(path).exists()
    }

    fn closure(&self, path: &Path) -> BTreeSet<String> {
        self.ok(&["store", "closure", path.to_str().unwrap()])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn gc_keeps_live_generations_and_drops_deleted_ones() {
    let s = Scratch::new();
    let flake = s.path("flake");
    copy_dir(&repo_root().join("examples/home"), &flake);
    let config = format!("{}#homeConfigurations.demo", flake.display());
    let profile = s.path("profiles/demo");
    let profile = profile.to_str().unwrap();
    let apply = ["apply", &config, "--engine", "native", "--profile", profile];
    s.ok(&apply);
    let gen = |n: u32| std::fs::read_link(format!("{profile}-{n}-link")).unwrap();
    let closure1 = s.closure(&gen(1));

    let home_nix = flake.join("home.nix");
    let text = std::fs::read_to_string(&home_nix).unwrap();
    let text = text
        .replace("version = \"1.0\";", "version = \"1.1\";")
        .replace("Hello from Strata!", "Hello, generation two");
    std::fs::write(&home_nix, text).unwrap();
    s.ok(&apply);
    let closure2 = s.closure(&gen(2));

    // Something built but never rooted.
    let junk = s.path("junk.nix");
    std::fs::write(
        &junk,
        r#"{ junk = derivation { name = "junk"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo junk > $out" ]; }; }"#,
    )
    .unwrap();
    let junk = s.ok(&[
        "build",
        junk.to_str().unwrap(),
        "-A",
        "junk",
        "--engine",
        "native",
    ]);
    let junk = junk.trim();
    assert!(s.valid(junk), "{junk}");

    let deleted = s.ok(&["store", "gc"]);
    assert!(deleted.lines().any(|l| l == junk), "{deleted}");
    assert!(!s.valid(junk));
    for p in closure1.iter().chain(&closure2) {
        assert!(s.valid(p), "gc deleted {p}, which a live generation needs");
        assert!(!deleted.contains(p.as_str()));
    }

    // Deleting generation 1 frees what only it used.
    s.ok(&["generations", "--profile", profile, "--delete", "1"]);
    let only1: Vec<&String> = closure1.difference(&closure2).collect();
    assert!(only1.len() >= 2, "{only1:?}");
    let deleted = s.ok(&["store", "gc"]);
    for p in &only1 {
        assert!(
            deleted.lines().any(|l| l == p.as_str()),
            "{p} kept:\n{deleted}"
        );
        assert!(!s.valid(p), "{p}");
    }
    for p in &closure2 {
        assert!(s.valid(p), "gc deleted {p}, which generation 2 needs");
    }
    assert_eq!(
        std::fs::read_to_string(s.path("home/.config/greeting.txt")).unwrap(),
        "Hello, generation two\n"
    );
}

#[test]
fn evaluation_errors_carry_file_line_and_column() {
    let s = Scratch::new();
    let file = s.path("broken.nix");
    let source = "{\n  ok = 1;\n  broken = derivation {\n    name = \"broken\";\n    system = \"x86_64-linux\";\n    builder = \"/bin/sh\";\n    args = [ \"-c\" (\"echo \" + missingThing) ];\n  };\n}\n";
    std::fs::write(&file, source).unwrap();
    let line = 7;
    let column = source
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("missingThing")
        .unwrap()
        + 1;
    let at = format!("{}:{line}:{column}", file.display());

    // `strata eval` names the spot ...
    let eval = s.run(&[
        "eval",
        file.to_str().unwrap(),
        "-A",
        "broken.args",
        "--strict",
    ]);
    let eval_err = String::from_utf8_lossy(&eval.stderr);
    assert!(!eval.status.success());
    assert!(eval_err.contains(&at), "{eval_err}");

    // ... and so does the native engine, for a file and for a flake.
    let build = s.run(&[
        "build",
        file.to_str().unwrap(),
        "-A",
        "broken",
        "--engine",
        "native",
    ]);
    let err = String::from_utf8_lossy(&build.stderr);
    assert_eq!(build.status.code(), Some(3), "{err}");
    // A structured location, not just text inside the message.
    let expected = format!("evaluation failed at {at}: undefined variable 'missingThing'");
    assert!(err.contains(&expected), "{err}");

    let flake = s.path("flake");
    std::fs::create_dir_all(&flake).unwrap();
    std::fs::write(
        flake.join("flake.nix"),
        "{\n  outputs = { self }: {\n    packages = import ../broken.nix;\n  };\n}\n",
    )
    .unwrap();
    let installable = format!("{}#packages.broken", flake.display());
    let build = s.run(&["build", &installable, "--engine", "native"]);
    let err = String::from_utf8_lossy(&build.stderr);
    assert_eq!(build.status.code(), Some(3), "{err}");
    assert!(err.contains(&at), "{err}");
    assert!(!s.path("store").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with("-broken.drv")));
}

/// A PATH holding every program of `/usr/bin` except Nix's: a machine without Nix.
fn path_without_nix(dir: &Path) -> std::ffi::OsString {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir("/usr/bin").unwrap() {
        let name = entry.unwrap().file_name();
        if !name.to_string_lossy().starts_with("nix") {
            let _ = std::os::unix::fs::symlink(Path::new("/usr/bin").join(&name), dir.join(&name));
        }
    }
    dir.as_os_str().to_owned()
}

#[test]
fn without_nix_the_main_job_applies_through_the_native_engine() {
    let s = Scratch::new();
    let flake = s.path("flake");
    copy_dir(&repo_root().join("examples/home"), &flake);
    let config = format!("{}#homeConfigurations.demo", flake.display());
    let profile = s.path("profiles/demo");
    let out = Command::new(strata_bin())
        .arg("--store-dir")
        .arg(s.path("store"))
        .arg("--state-dir")
        .arg(s.path("state"))
        .args(["apply", &config, "--profile", profile.to_str().unwrap()])
        .env("PATH", path_without_nix(&s.path("bin")))
        .env("STRATA_DEMO_HOME", s.path("home"))
        .env_remove("STRATA_ELEVATE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Generation 1 points into the native store, and the home files are linked.
    let target = std::fs::read_link(format!("{}-1-link", profile.display())).unwrap();
    assert!(s.valid(target.to_str().unwrap()), "{}", target.display());
    assert!(std::fs::read_dir(s.path("home")).unwrap().next().is_some());
}
