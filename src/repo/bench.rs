//! Benchmarks of repository generation and signing against createrepo_c and rpmsign.
//!
//! Synthetic packages are built with the rpm crate's `PackageBuilder` (unsigned, gzip payload,
//! fixed build time), so the set is the same on every run. Every tool, ours included, runs as a
//! child process and is measured with `wait4`: wall time and peak RSS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;

/// Errors of a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("building a synthetic package failed: {0}")]
    Build(String),
    #[error("`{command}` failed: {stderr}")]
    Tool { command: String, stderr: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One timed run of a command.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Measurement {
    pub seconds: f64,
    /// Peak resident set size of the child, KiB.
    pub max_rss_kib: u64,
}

/// Run a command to completion and measure it. Output is captured and shown only on failure.
///
/// Peak RSS is taken from GNU time (`/usr/bin/time`) when installed: a child spawned straight
/// from this process inherits this process's high-water mark through exec, which would inflate
/// small tools' numbers. Without GNU time, `wait4`'s figure is reported.
pub fn measure(cmd: &mut Command) -> Result<Measurement, BenchError> {
    let gnu_time = Path::new("/usr/bin/time");
    if gnu_time.exists() {
        let out = tempfile::NamedTempFile::new().map_err(io(Path::new("/tmp")))?;
        let mut wrapped = Command::new(gnu_time);
        wrapped.args(["-f", "%M", "-o"]).arg(out.path());
        wrapped.arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            wrapped.current_dir(d);
        }
        let mut m = measure_direct(&mut wrapped)?;
        if let Some(kib) = std::fs::read_to_string(out.path())
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
        {
            m.max_rss_kib = kib;
        }
        return Ok(m);
    }
    measure_direct(cmd)
}

fn measure_direct(cmd: &mut Command) -> Result<Measurement, BenchError> {
    use std::process::Stdio;
    let desc = format!("{cmd:?}");
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BenchError::Tool {
            command: desc.clone(),
            stderr: e.to_string(),
        })?;
    let pid = child.id() as libc::pid_t;
    let mut stderr_pipe = child.stderr;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stderr_pipe.as_mut() {
            use std::io::Read;
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped (std's Child was not waited on).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    if r < 0 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(BenchError::Tool {
            command: desc,
            stderr,
        });
    }
    Ok(Measurement {
        seconds,
        max_rss_kib: usage.ru_maxrss as u64,
    })
}

/// Best (fastest) of `runs` measurements; `prepare` runs untimed before each.
pub fn best_of(
    runs: u32,
    mut prepare: impl FnMut() -> Result<(), BenchError>,
    mut cmd: impl FnMut() -> Command,
) -> Result<Measurement, BenchError> {
    let mut best: Option<Measurement> = None;
    for _ in 0..runs.max(1) {
        prepare()?;
        let m = measure(&mut cmd())?;
        best = Some(match best {
            Some(b) if b.seconds <= m.seconds => Measurement {
                max_rss_kib: b.max_rss_kib.max(m.max_rss_kib),
                ..b
            },
            _ => Measurement {
                max_rss_kib: m.max_rss_kib.max(best.map(|b| b.max_rss_kib).unwrap_or(0)),
                ..m
            },
        });
    }
    Ok(best.expect("at least one run"))
}

/// Build one small synthetic package (a few files, dependencies, changelog) as `dir/NAME.rpm`.
pub fn small_package(dir: &Path, index: u32, payload: usize) -> Result<PathBuf, BenchError> {
    use rpm::{Dependency, FileOptions, PackageBuilder};
    let name = format!("bench-{index:06}");
    let mut b = PackageBuilder::new(&name, "1.0", "MIT", "x86_64", "Synthetic benchmark package");
    b.using_config(
        rpm::BuildConfig::v4()
            .compression(rpm::CompressionType::Gzip)
            .source_date(1_700_000_000u32),
    )
    .release(format!("{}", 1 + index % 7))
    .description(format!(
        "Package number {index} of a synthetic repository used to benchmark metadata generation."
    ))
    .url("https://example.org/bench")
    .build_host("bench")
    .requires(Dependency::greater_eq("glibc", "2.34"))
    .requires(Dependency::any(format!("bench-{:06}", index / 2)))
    .requires(Dependency::any("/bin/sh"))
    .provides(Dependency::eq(format!("bench-virtual-{index}"), "1.0"))
    .add_changelog_entry(
        "Bench <bench@example.org> - 1.0-1",
        "- rebuilt",
        1_690_000_000u32,
    )
    .add_changelog_entry(
        "Bench <bench@example.org> - 0.9-1",
        "- first",
        1_680_000_000u32,
    );
    let body: Vec<u8> = (0..payload).map(|i| (i as u32 ^ index) as u8).collect();
    let add = |b: &mut PackageBuilder, content: Vec<u8>, path: String, mode: u16| {
        b.with_file_contents(content, FileOptions::new(path).permissions(mode))
            .map(|_| ())
            .map_err(|e| BenchError::Build(e.to_string()))
    };
    add(&mut b, body, format!("/usr/bin/{name}"), 0o755)?;
    add(
        &mut b,
        b"config=1\n".to_vec(),
        format!("/etc/{name}.conf"),
        0o644,
    )?;
    add(
        &mut b,
        b"readme\n".to_vec(),
        format!("/usr/share/doc/{name}/README"),
        0o644,
    )?;
    add(
        &mut b,
        b"data\n".to_vec(),
        format!("/usr/share/{name}/data.txt"),
        0o644,
    )?;
    let pkg = b.build().map_err(|e| BenchError::Build(e.to_string()))?;
    let path = dir.join(format!("{name}-1.0-{}.x86_64.rpm", 1 + index % 7));
    pkg.write_file(&path)
        .map_err(|e| BenchError::Build(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// Build a package whose single file is `mib` MiB of incompressible data, stored uncompressed.
pub fn large_package(dir: &Path, index: u32, mib: usize) -> Result<PathBuf, BenchError> {
    use rand::{RngCore, SeedableRng};
    let name = format!("bench-large-{index:03}");
    let mut data = vec![0u8; mib << 20];
    rand::rngs::StdRng::seed_from_u64(index as u64).fill_bytes(&mut data);
    let pkg = rpm::PackageBuilder::new(&name, "1.0", "MIT", "x86_64", "Large synthetic package")
        .using_config(
            rpm::BuildConfig::v4()
                .compression(rpm::CompressionType::None)
                .source_date(1_700_000_000u32),
        )
        .with_file_contents(
            data,
            rpm::FileOptions::new(format!("/usr/share/{name}/blob")),
        )
        .map_err(|e| BenchError::Build(e.to_string()))?
        .build()
        .map_err(|e| BenchError::Build(e.to_string()))?;
    let path = dir.join(format!("{name}-1.0-1.x86_64.rpm"));
    pkg.write_file(&path)
        .map_err(|e| BenchError::Build(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// Generate `count` small packages in parallel into `dir` (skipped when already there).
pub fn small_set(dir: &Path, count: u32) -> Result<(), BenchError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let present = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
                .unwrap_or(false)
        })
        .count();
    if present == count as usize {
        return Ok(());
    }
    (0..count)
        .into_par_iter()
        .try_for_each(|i| small_package(dir, i, 2048).map(|_| ()))
}

/// One row of results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub case: String,
    pub tool: String,
    #[serde(flatten)]
    pub m: Measurement,
    /// createrepo_c (or rpmsign) time divided by ours; None for our own rows.
    pub speedup: Option<f64>,
}

fn remove_repodata(dir: &Path) -> Result<(), BenchError> {
    let r = dir.join("repodata");
    match std::fs::remove_dir_all(&r) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&r)(e)),
    }
}

/// Time cold and one-new-package `--update` runs of copr and createrepo_c on `dir`.
pub fn compare_createrepo(
    copr: &Path,
    label: &str,
    dir: &Path,
    extra_package: &dyn Fn(&Path) -> Result<PathBuf, BenchError>,
    workers: usize,
    runs: u32,
) -> Result<Vec<Row>, BenchError> {
    let w = workers.to_string();
    let ours_cmd = |update: bool| {
        let mut c = Command::new(copr);
        c.args(["-q", "createrepo", "--workers", &w]);
        if update {
            c.arg("--update");
        }
        c.arg(dir);
        c
    };
    let theirs_cmd = |update: bool, db: bool| {
        let mut c = Command::new("createrepo_c");
        c.args(["-q", "--workers", &w]);
        if !db {
            c.arg("--no-database");
        }
        if update {
            c.arg("--update");
        }
        c.arg(dir);
        c
    };
    type Tool<'a> = (&'a str, Box<dyn Fn(bool) -> Command + 'a>);
    let tools: Vec<Tool<'_>> = vec![
        ("copr createrepo", Box::new(ours_cmd)),
        (
            "createrepo_c --no-database",
            Box::new(move |u| theirs_cmd(u, false)),
        ),
        (
            "createrepo_c (default)",
            Box::new(move |u| theirs_cmd(u, true)),
        ),
    ];
    let mut rows = Vec::new();
    for (name, cmd) in &tools {
        let cold = best_of(runs, || remove_repodata(dir), || cmd(false))?;
        rows.push(Row {
            case: format!("{label}: cold"),
            tool: name.to_string(),
            m: cold,
            speedup: None,
        });
        // State: repodata of this tool over the base set. Add one package, time --update, then
        // remove it again and bring the repodata back to the base set (untimed).
        let mut extra: Option<PathBuf> = None;
        let upd = best_of(
            runs,
            || {
                if let Some(p) = extra.take() {
                    std::fs::remove_file(&p).map_err(io(&p))?;
                    measure(&mut cmd(true))?;
                }
                extra = Some(extra_package(dir)?);
                Ok(())
            },
            || cmd(true),
        )?;
        if let Some(p) = extra.take() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
        rows.push(Row {
            case: format!("{label}: --update, +1 package"),
            tool: name.to_string(),
            m: upd,
            speedup: None,
        });
    }
    remove_repodata(dir)?;
    fill_speedups(&mut rows, "copr createrepo");
    Ok(rows)
}

fn fill_speedups(rows: &mut [Row], ours: &str) {
    let base: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.tool == ours)
        .map(|r| (r.case.clone(), r.m.seconds))
        .collect();
    for r in rows.iter_mut() {
        if r.tool != ours
            && let Some((_, s)) = base.iter().find(|(c, _)| *c == r.case)
        {
            r.speedup = Some(r.m.seconds / s.max(1e-9));
        }
    }
}

/// Sign `count` packages with `copr sign` and with `rpmsign --addsign` (GnuPG, same key type).
pub fn compare_sign(copr: &Path, work: &Path, count: u32) -> Result<Vec<Row>, BenchError> {
    let base = work.join("sign-base");
    small_set(&base, count)?;
    let gnupg = work.join("gnupg");
    let _ = std::fs::remove_dir_all(&gnupg);
    std::fs::create_dir_all(&gnupg).map_err(io(&gnupg))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700))
            .map_err(io(&gnupg))?;
    }
    let run_ok = |cmd: &mut Command| measure(cmd).map(|_| ());
    run_ok(
        Command::new("gpg")
            .arg("--homedir")
            .arg(&gnupg)
            .args(["--batch", "--passphrase", "", "--quick-gen-key"])
            .args([
                "Bench RPM signing <bench@example.org>",
                "rsa4096",
                "sign",
                "never",
            ]),
    )?;
    let keydir = work.join("copr-key");
    let _ = std::fs::remove_dir_all(&keydir);
    run_ok(
        Command::new(copr)
            .args([
                "-q",
                "key",
                "generate",
                "--name",
                "bench/sign",
                "--algorithm",
                "rsa4096",
                "--out",
            ])
            .arg(&keydir),
    )?;
    let fresh = |name: &str| -> Result<Vec<PathBuf>, BenchError> {
        let d = work.join(name);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
        let mut out = Vec::new();
        for e in std::fs::read_dir(&base).map_err(io(&base))? {
            let p = e.map_err(io(&base))?.path();
            let dst = d.join(p.file_name().unwrap_or_default());
            std::fs::copy(&p, &dst).map_err(io(&dst))?;
            out.push(dst);
        }
        out.sort();
        Ok(out)
    };
    let ours_files = fresh("sign-copr")?;
    let ours = measure(
        Command::new(copr)
            .args(["-q", "sign", "--key"])
            .arg(keydir.join("secret.asc"))
            .args(&ours_files),
    )?;
    let theirs_files = fresh("sign-rpmsign")?;
    let theirs = measure(
        Command::new("rpmsign")
            .env("GNUPGHOME", &gnupg)
            .args(["--addsign", "--define", "__gpg /usr/bin/gpg"])
            .args(["--define", "_gpg_name Bench RPM signing"])
            .args(&theirs_files),
    )?;
    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(&gnupg)
        .args(["--kill", "gpg-agent"])
        .status();
    let case = format!("sign {count} packages (RSA-4096)");
    let mut rows = vec![
        Row {
            case: case.clone(),
            tool: "copr sign".into(),
            m: ours,
            speedup: None,
        },
        Row {
            case,
            tool: "rpmsign --addsign (gpg)".into(),
            m: theirs,
            speedup: None,
        },
    ];
    fill_speedups(&mut rows, "copr sign");
    Ok(rows)
}
