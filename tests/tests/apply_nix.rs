//! `strata apply/rollback/generations/diff` end to end, with temporary profiles, homes and
//! copies of `examples/` (plain folders, so Nix reads them as `path:` flakes and sees edits
//! without git). Every scenario runs twice: on the installed Nix 2.8 (`nix::*`) and on the
//! native engine with its own store (`native::*`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_tests::{repo_root, strata_bin};

/// Which engine a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Nix,
    Native,
}

/// Each scenario below is a function of the engine; this makes one test per engine.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod nix {
            $( #[test] fn $name() { super::$name(super::Engine::Nix) } )*
        }
        mod native {
            $( #[test] fn $name() { super::$name(super::Engine::Native) } )*
        }
    };
}

on_both_engines!(
    apply_edit_rollback_and_nix_env_agrees,
    failed_activation_keeps_the_previous_generation,
    failed_first_activation_leaves_no_profile,
    failed_build_changes_nothing_and_shows_the_log,
    kill_9_never_leaves_a_broken_profile,
    bad_input_is_reported_and_changes_nothing,
    read_only_profile_folder,
    dry_run_and_system_configuration,
    ctrl_c_cancels_the_build_and_switches_nothing,
    kill_9_during_a_build_keeps_profile_and_files,
    concurrent_applies_get_their_own_generations,
);

/// A scratch world: a copy of an example, a profile path, a home and a state folder (and, for
/// the native engine, a store).
struct World {
    _tmp: tempfile::TempDir,
    engine: Engine,
    root: PathBuf,
    flake: PathBuf,
    profile: PathBuf,
    home: PathBuf,
}

impl World {
    fn new(example: &str, engine: Engine) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let flake = root.join("flake");
        copy_dir(&repo_root().join("examples").join(example), &flake);
        World {
            _tmp: tmp,
            engine,
            profile: root.join("profiles/demo"),
            home: root.join("home"),
            flake,
            root,
        }
    }

    /// Unique per world, so contents never match store paths an earlier run built.
    fn nonce(&self) -> String {
        self.root
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('.', "")
    }

    fn home_config(&self) -> String {
        format!("{}#homeConfigurations.demo", self.flake.display())
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(strata_bin());
        cmd.args(args);
        if ["apply", "rollback", "diff", "build"].contains(&args[0]) {
            cmd.args(["--engine", self.engine_name()]);
        }
        nix_env(&mut cmd);
        cmd.env("STRATA_STORE_DIR", self.native_store());
        cmd.env("STRATA_STATE_DIR", self.root.join("state"))
            .env("STRATA_DEMO_HOME", &self.home)
            .env("STRATA_DEMO_SYSTEM", self.root.join("system"))
            .env_remove("STRATA_ELEVATE")
            .stdin(Stdio::null());
        cmd
    }

    fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Nix => "nix",
            Engine::Native => "native",
        }
    }

    fn native_store(&self) -> PathBuf {
        self.root.join("store")
    }

    /// The store directory outputs land in, with a trailing slash.
    fn store_prefix(&self) -> String {
        match self.engine {
            Engine::Nix => "/nix/store/".into(),
            Engine::Native => format!("{}/", self.native_store().display()),
        }
    }

    fn strata(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn profile_str(&self) -> &str {
        self.profile.to_str().unwrap()
    }

    fn apply_args(&self) -> [String; 4] {
        [
            "apply".into(),
            self.home_config(),
            "--profile".into(),
            self.profile_str().into(),
        ]
    }

    fn apply(&self) -> Output {
        let args = self.apply_args();
        self.strata(&args.each_ref().map(String::as_str))
    }

    /// Starts `strata apply` of the home without waiting.
    fn spawn_apply(&self, stderr: Stdio) -> std::process::Child {
        let args = self.apply_args();
        self.cmd(&args.each_ref().map(String::as_str))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap()
    }

    #[track_caller]
    fn assert_greeting(&self, expected: Option<&str>) {
        assert_eq!(self.home_file(GREETING).as_deref(), expected);
    }

    /// Whether the engine's store holds `path` as a valid path.
    fn store_path_valid(&self, path: &Path) -> bool {
        let mut cmd = match self.engine {
            Engine::Nix => {
                let mut cmd = Command::new("nix-store");
                nix_env(&mut cmd);
                cmd.arg("--check-validity");
                cmd
            }
            Engine::Native => self.cmd(&["store", "info"]),
        };
        cmd.arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    /// Whether `link` is registered as an indirect GC root of the engine's store.
    fn is_gc_root(&self, link: &Path) -> bool {
        let roots = match self.engine {
            Engine::Nix => PathBuf::from("/nix/var/nix/gcroots/auto"),
            Engine::Native => self.native_store().join(".strata/gcroots"),
        };
        std::fs::read_dir(roots)
            .unwrap()
            .any(|e| std::fs::read_link(e.unwrap().path()).ok().as_deref() == Some(link))
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.flake.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn home_file(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.home.join(rel)).ok()
    }

    /// The current generation number, from the profile symlink itself.
    fn current(&self) -> Option<u64> {
        let target = std::fs::read_link(&self.profile).ok()?;
        let name = target.file_name()?.to_str()?.to_string();
        name.strip_prefix("demo-")?
            .strip_suffix("-link")?
            .parse()
            .ok()
    }

    fn link_exists(&self, n: u64) -> bool {
        std::fs::symlink_metadata(self.profile.with_file_name(format!("demo-{n}-link"))).is_ok()
    }

    fn nix_env_generations(&self) -> String {
        let mut cmd = Command::new("nix-env");
        nix_env(&mut cmd);
        let out = cmd
            .args(["--list-generations", "--profile"])
            .arg(&self.profile)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

fn nix_env(cmd: &mut Command) {
    cmd.env("NIX_REMOTE", "local").env(
        "NIX_CONFIG",
        "substituters =\nexperimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =",
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[track_caller]
fn fails_with(out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        text(&out.stdout)
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks `{n}`:\n{stderr}");
    }
    stderr
}

const GREETING: &str = ".config/greeting.txt";

fn apply_edit_rollback_and_nix_env_agrees(engine: Engine) {
    let w = World::new("home", engine);
    // A file in the way is backed up, not overwritten.
    std::fs::create_dir_all(w.home.join(".config")).unwrap();
    std::fs::write(w.home.join(GREETING), "mine\n").unwrap();

    let out = ok(&w.apply());
    assert!(out.contains("generation 1 of"), "{out}");
    assert_eq!(w.current(), Some(1));
    w.assert_greeting(Some("Hello from Strata!\n"));
    assert_eq!(
        w.home_file(".config/greeting.txt.strata-backup").as_deref(),
        Some("mine\n")
    );
    assert_eq!(
        w.home_file(".profile-extra").as_deref(),
        Some("export STRATA_DEMO=1\n")
    );
    // Like nix-env, the generation link is an indirect GC root.
    let link = w.profile.with_file_name("demo-1-link");
    assert!(w.is_gc_root(&link), "{} is not a GC root", link.display());

    w.edit("home.nix", "version = \"1.0\";", "version = \"1.1\";");
    w.edit("home.nix", "Hello from Strata!", "Hello again!");
    let out = ok(&w.apply());
    assert!(out.contains("generation 2 of"), "{out}");
    assert!(out.contains("greeting 1.0 → 1.1"), "{out}");
    assert_eq!(w.current(), Some(2));
    w.assert_greeting(Some("Hello again!\n"));

    let profile = w.profile.to_str().unwrap();
    let diff = ok(&w.strata(&["diff", "--profile", profile]));
    assert!(diff.contains("[C] greeting: 1.0 → 1.1"), "{diff}");
    assert!(diff.contains("<<< generation 1"), "{diff}");

    let listed = ok(&w.strata(&["generations", "--profile", profile]));
    assert_eq!(listed, w.nix_env_generations());
    assert!(
        listed.lines().nth(1).unwrap().ends_with("(current)"),
        "{listed}"
    );

    // Applying the same configuration again keeps generation 2 (like `nix-env --set`).
    let out = ok(&w.apply());
    assert!(
        out.contains("generation 2 of") && out.contains("unchanged"),
        "{out}"
    );
    assert!(!w.link_exists(3));

    let out = ok(&w.strata(&["rollback", "--profile", profile]));
    assert!(out.contains("from generation 2 to 1"), "{out}");
    assert_eq!(w.current(), Some(1));
    w.assert_greeting(Some("Hello from Strata!\n"));
    assert_eq!(
        w.strata(&["generations", "--profile", profile]).stdout,
        w.nix_env_generations().into_bytes()
    );

    // Switching with nix-env is read by Strata too.
    let mut cmd = Command::new("nix-env");
    nix_env(&mut cmd);
    assert!(cmd
        .args(["--switch-generation", "2", "--profile", profile])
        .output()
        .unwrap()
        .status
        .success());
    let json = ok(&w.strata(&["generations", "--profile", profile, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[1]["generation"], 2);
    assert_eq!(v[1]["current"], true);
    assert_eq!(v[0]["current"], false);

    // Deleting the current generation is refused; deleting another one works.
    fails_with(
        &w.strata(&["generations", "--profile", profile, "--delete", "2"]),
        6,
        &["it is the current one"],
    );
    let gen1 = std::fs::read_link(w.profile.with_file_name("demo-1-link")).unwrap();
    ok(&w.strata(&["generations", "--profile", profile, "--delete", "1"]));
    assert!(!w.link_exists(1) && w.link_exists(2));

    if engine == Engine::Native {
        // nix-env --set needs the path valid in Nix's own store.
        return;
    }
    // A generation nix-env made is listed, rolled back from and diffed by Strata.
    let mut cmd = Command::new("nix-env");
    nix_env(&mut cmd);
    assert!(cmd
        .args(["--profile", profile, "--set"])
        .arg(&gen1)
        .status()
        .unwrap()
        .success());
    assert_eq!(w.current(), Some(3));
    let listed = ok(&w.strata(&["generations", "--profile", profile]));
    assert_eq!(listed, w.nix_env_generations());
    let diff = ok(&w.strata(&["diff", "--profile", profile]));
    assert!(diff.contains("[C] greeting: 1.1 → 1.0"), "{diff}");
    ok(&w.strata(&["rollback", "--profile", profile]));
    assert_eq!(w.current(), Some(2));
    w.assert_greeting(Some("Hello again!\n"));
}

fn failed_activation_keeps_the_previous_generation(engine: Engine) {
    let w = World::new("home", engine);
    ok(&w.apply());
    w.edit("home.nix", "Hello from Strata!", "Half-applied");
    w.edit(
        "home.nix",
        "onChange = \"\";",
        "onChange = \"echo the hook broke >&2; exit 1\";",
    );
    let err = fails_with(
        &w.apply(),
        5,
        &[
            "activation of generation 2 failed",
            "onChange",
            "the hook broke",
        ],
    );
    assert!(err.contains("generation 1 is current again"), "{err}");
    assert_eq!(w.current(), Some(1));
    assert!(!w.link_exists(2));
    // Generation 2's activation had already relinked the file; re-activating 1 put it back.
    w.assert_greeting(Some("Hello from Strata!\n"));
}

fn failed_first_activation_leaves_no_profile(engine: Engine) {
    let w = World::new("home", engine);
    w.edit(
        "home.nix",
        "onChange = \"\";",
        &format!("onChange = \"echo no {} >&2; exit 1\";", w.nonce()),
    );
    let err = fails_with(&w.apply(), 5, &["activation of generation 1 failed"]);
    assert!(err.contains("the profile was left as it was"), "{err}");
    assert!(std::fs::symlink_metadata(&w.profile).is_err());
    assert!(!w.link_exists(1));
}

fn failed_build_changes_nothing_and_shows_the_log(engine: Engine) {
    let w = World::new("home", engine);
    ok(&w.apply());
    w.edit(
        "flake.nix",
        FILE_BUILDER,
        r#"args = [ "-c" "echo compiling $name; echo 'fatal: the greeting is broken' >&2; exit 2" ];"#,
    );
    w.edit("home.nix", "Hello from Strata!", "Never built");
    let err = fails_with(
        &w.apply(),
        4,
        &[
            "build of",
            "failed",
            "fatal: the greeting is broken",
            "compiling",
        ],
    );
    assert!(err.contains("full log:"), "{err}");
    assert_eq!(w.current(), Some(1));
    assert!(!w.link_exists(2));
    w.assert_greeting(Some("Hello from Strata!\n"));
}

fn kill_9_never_leaves_a_broken_profile(engine: Engine) {
    let w = World::new("home", engine);
    ok(&w.apply());
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut old = "Hello from Strata!".to_string();
    for round in 0..5 {
        // xorshift: a different moment each round, printed above to replay a failure.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(50 + seed % 1500);
        let new = format!("Round {round} {}", w.nonce());
        w.edit("home.nix", &old, &new);
        old = new;
        let mut child = w.spawn_apply(Stdio::null());
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let target = std::fs::canonicalize(&w.profile)
            .unwrap_or_else(|e| panic!("round {round} ({delay:?}): profile unreadable: {e}"));
        assert!(
            w.store_path_valid(&target),
            "round {round} ({delay:?}): profile points at invalid {}",
            target.display()
        );
        assert!(target.join("activate").exists());
        ok(&w.strata(&["generations", "--profile", w.profile.to_str().unwrap()]));
    }
    // After all that, a normal apply still works.
    let out = ok(&w.apply());
    assert!(out.contains("is current"), "{out}");
    assert_eq!(
        w.home_file(GREETING).as_deref(),
        Some(format!("{old}\n").as_str())
    );
}

fn bad_input_is_reported_and_changes_nothing(engine: Engine) {
    let w = World::new("home", engine);
    let profile = w.profile.to_str().unwrap();

    let missing = format!("{}/nope#homeConfigurations.demo", w.root.display());
    fails_with(
        &w.strata(&["apply", &missing, "--profile", profile]),
        2,
        &["no flake at", "does not exist"],
    );
    let bad_attr = format!("{}#homeConfigurations.nobody", w.flake.display());
    fails_with(
        &w.strata(&["apply", &bad_attr, "--profile", profile]),
        3,
        &["does not provide attribute", "homeConfigurations.nobody"],
    );
    fails_with(
        &w.strata(&["apply", "no-such-thing", "--profile", profile]),
        2,
        &["is not an installable"],
    );
    assert!(!w.profile.parent().unwrap().exists());

    // An evaluation error names the user's file and line (not the store copy).
    w.edit("home.nix", "onChange = \"\";", "onChange = undefinedThing;");
    let home_nix = w.flake.join("home.nix");
    let line = std::fs::read_to_string(&home_nix)
        .unwrap()
        .lines()
        .position(|l| l.contains("undefinedThing"))
        .unwrap()
        + 1;
    fails_with(
        &w.strata(&["apply", &w.home_config(), "--profile", profile]),
        3,
        &[
            "undefined variable 'undefinedThing'",
            &format!("{}:{line}:", home_nix.display()),
        ],
    );
    w.edit("home.nix", "onChange = undefinedThing;", "onChange = \"\";");

    // A corrupt profile symlink is reported before anything is built or written.
    std::fs::create_dir_all(w.profile.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("somewhere-else", &w.profile).unwrap();
    fails_with(&w.apply(), 6, &["is corrupt", "somewhere-else"]);
    assert_eq!(
        std::fs::read_link(&w.profile).unwrap(),
        Path::new("somewhere-else")
    );
    assert!(!w.link_exists(1));
    w.assert_greeting(None);
    fails_with(
        &w.strata(&["rollback", "--profile", profile]),
        6,
        &["is corrupt"],
    );
    fails_with(
        &w.strata(&["generations", "--profile", profile]),
        6,
        &["is corrupt"],
    );
}

fn read_only_profile_folder(engine: Engine) {
    let w = World::new("home", engine);
    let ro = w.root.join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    let profile = ro.join("p");
    let root = text(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0";
    if root
        && !Command::new("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success())
    {
        // Root ignores permission bits; without a mount namespace there is no read-only
        // folder to try (containers without CAP_SYS_ADMIN).
        eprintln!("skipped: running as root without mount namespaces");
        return;
    }
    let out = if root {
        // Root ignores permission bits: make the folder a read-only bind mount instead.
        let script = format!(
            "mount --bind -o ro '{0}' '{0}' && exec \"$@\"",
            ro.display()
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "sh", "-c", &script, "sh"])
            .arg(strata_bin())
            .args([
                "apply",
                &w.home_config(),
                "--profile",
                profile.to_str().unwrap(),
                "--engine",
                w.engine_name(),
            ]);
        nix_env(&mut cmd);
        cmd.env("STRATA_STATE_DIR", w.root.join("state"))
            .env("STRATA_STORE_DIR", w.native_store())
            .env("STRATA_DEMO_HOME", &w.home)
            .output()
            .unwrap()
    } else {
        let mut perms = std::fs::metadata(&ro).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        std::fs::set_permissions(&ro, perms).unwrap();
        w.strata(&[
            "apply",
            &w.home_config(),
            "--profile",
            profile.to_str().unwrap(),
        ])
    };
    fails_with(&out, 6, &["cannot write to profile folder"]);
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    w.assert_greeting(None);
}

fn dry_run_and_system_configuration(engine: Engine) {
    let w = World::new("system", engine);
    let motd = format!("Welcome to {}.", w.nonce());
    w.edit(
        "configuration.nix",
        "Welcome to the Strata demo system.",
        &motd,
    );
    let profile = w.profile.to_str().unwrap();
    let config = format!("{}#nixosConfigurations.demo", w.flake.display());
    let out = ok(&w.strata(&["apply", &config, "--profile", profile, "--dry-run"]));
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    assert!(out.contains("nixos-system-demo-24.05.drv"), "{out}");
    assert!(std::fs::symlink_metadata(&w.profile).is_err());
    assert!(!w.root.join("system").exists());

    let out = ok(&w.strata(&["apply", &config, "--profile", profile]));
    assert!(out.contains("generation 1 of"), "{out}");
    let system = w.root.join("system");
    let current = std::fs::read_link(system.join("current-system")).unwrap();
    assert_eq!(current, std::fs::canonicalize(&w.profile).unwrap());
    assert_eq!(
        std::fs::read_to_string(system.join("etc/motd")).unwrap(),
        format!("{motd}\n")
    );
    let log = std::fs::read_to_string(system.join("activations.log")).unwrap();
    assert!(
        log.contains(&format!("switch {}", current.display())),
        "{log}"
    );

    w.edit(
        "configuration.nix",
        "version = \"1.0\";",
        "version = \"1.1\";",
    );
    let out = ok(&w.strata(&["apply", &config, "--profile", profile, "--dry-run"]));
    assert!(out.contains("etc-motd-1.1.drv"), "{out}");
    assert!(out.contains("would switch"), "{out}");
    assert_eq!(w.current(), Some(1));
    let out = ok(&w.strata(&["apply", &config, "--profile", profile]));
    assert!(out.contains("etc-motd 1.0 → 1.1"), "{out}");
    let out = ok(&w.strata(&["rollback", "--profile", profile, "--to", "1"]));
    assert!(out.contains("to 1"), "{out}");
    let log = std::fs::read_to_string(system.join("activations.log")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert_eq!(
        std::fs::read_link(system.join("current-system")).unwrap(),
        std::fs::canonicalize(&w.profile).unwrap()
    );

    // `--elevate CMD` runs activation through CMD (here: one that redirects the record).
    let elevated = w.root.join("elevated");
    let via = format!("/usr/bin/env STRATA_DEMO_SYSTEM={}", elevated.display());
    ok(&w.strata(&[
        "rollback",
        "--profile",
        profile,
        "--to",
        "2",
        "--elevate",
        &via,
    ]));
    let log = std::fs::read_to_string(elevated.join("activations.log")).unwrap();
    assert!(
        log.contains(&format!(" switch {}", w.store_prefix())),
        "{log}"
    );
    assert_eq!(w.current(), Some(2));

    // `strata build` prints the output path and changes no profile.
    let out = ok(&w.strata(&["build", &config]));
    assert!(out.trim().ends_with("-nixos-system-demo-24.05"), "{out}");
    assert_eq!(w.current(), Some(2));

    // `FILE -A ATTR` installables.
    let file = w.root.join("pkgs.nix");
    std::fs::write(
        &file,
        format!(
            r#"{{ tool = derivation {{ name = "tool-2.0"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo {} > $out" ]; }}; }}"#,
            w.nonce()
        ),
    )
    .unwrap();
    let out = ok(&w.strata(&["build", file.to_str().unwrap(), "-A", "tool"]));
    let built = PathBuf::from(out.trim());
    assert!(built.to_str().unwrap().ends_with("-tool-2.0"), "{out}");
    assert_eq!(std::fs::read_to_string(&built).unwrap().trim(), w.nonce());
}

const FILE_BUILDER: &str =
    r#"args = [ "-c" ''/bin/mkdir -p "$out" && printf '%s' "$text" > "$out/file"'' ];"#;
const SLOW_FILE_BUILDER: &str =
    r#"args = [ "-c" ''echo slow build started; /bin/sleep 30; /bin/mkdir -p "$out"'' ];"#;

/// Applies a change whose file build is slow; returns the running apply and its stderr once
/// the builder has started.
fn start_slow_apply(
    w: &World,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
    String,
) {
    use std::io::BufRead;
    w.edit("flake.nix", FILE_BUILDER, SLOW_FILE_BUILDER);
    w.edit(
        "home.nix",
        "Hello from Strata!",
        &format!("Slow {}", w.nonce()),
    );
    let mut child = w.spawn_apply(Stdio::piped());
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let started = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break false;
        }
        seen.push_str(&line);
        if line.contains("slow build started") {
            break true;
        }
    };
    if !started {
        let status = child.wait().unwrap();
        panic!("apply ended ({status}) before the build started:\n{seen}");
    }
    (child, stderr, seen)
}

fn ctrl_c_cancels_the_build_and_switches_nothing(engine: Engine) {
    let w = World::new("home", engine);
    ok(&w.apply());
    let (mut child, mut stderr, seen) = start_slow_apply(&w);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{seen}{rest}");
    assert!(rest.contains("cancelled"), "{rest}");
    assert_eq!(w.current(), Some(1));
    assert!(!w.link_exists(2));
    w.assert_greeting(Some("Hello from Strata!\n"));
}

fn kill_9_during_a_build_keeps_profile_and_files(engine: Engine) {
    let w = World::new("home", engine);
    ok(&w.apply());
    let before = std::fs::canonicalize(&w.profile).unwrap();
    let (mut child, _stderr, _) = start_slow_apply(&w);
    child.kill().unwrap(); // SIGKILL, in the middle of the build
    child.wait().unwrap();
    assert_eq!(std::fs::canonicalize(&w.profile).unwrap(), before);
    assert!(w.store_path_valid(&before));
    assert_eq!(w.current(), Some(1));
    assert!(!w.link_exists(2));
    w.assert_greeting(Some("Hello from Strata!\n"));
    // A re-run (with a builder that finishes) switches to the new generation.
    w.edit("flake.nix", SLOW_FILE_BUILDER, FILE_BUILDER);
    let out = ok(&w.apply());
    assert!(out.contains("generation 2 of"), "{out}");
    w.assert_greeting(Some(&format!("Slow {}\n", w.nonce())));
}

fn concurrent_applies_get_their_own_generations(engine: Engine) {
    let a = World::new("home", engine);
    let b = World::new("home", engine);
    a.edit(
        "home.nix",
        "Hello from Strata!",
        &format!("A {}", a.nonce()),
    );
    b.edit(
        "home.nix",
        "Hello from Strata!",
        &format!("B {}", b.nonce()),
    );
    // Both apply to `a`'s profile and home at the same time.
    let spawn = |w: &World| {
        let mut cmd = a.cmd(&[
            "apply",
            &w.home_config(),
            "--profile",
            a.profile.to_str().unwrap(),
        ]);
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    ok(&oa);
    ok(&ob);
    assert!(a.link_exists(1) && a.link_exists(2) && !a.link_exists(3));
    let current = a.current().unwrap();
    let last = if current == 2 { "first" } else { "second" };
    let text = a.home_file(GREETING).unwrap();
    let target = std::fs::read_link(a.home.join(GREETING)).unwrap();
    // The home shows what the current generation links, whichever finished last.
    let gen = std::fs::read_link(a.profile.with_file_name(format!("demo-{current}-link"))).unwrap();
    let links = std::fs::read_to_string(gen.join("links")).unwrap();
    assert!(links.contains(target.to_str().unwrap()), "{last}: {links}");
    assert!(text.starts_with('A') || text.starts_with('B'), "{text}");
}
