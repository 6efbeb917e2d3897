//! `copr bench createrepo|sign|all`

use std::path::{Path, PathBuf};

use crate::cli::{
    BenchArgs, BenchCommand, BenchCreaterepoArgs, BenchSignArgs, GlobalArgs, OutputFormat,
};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::repo::bench::{self, Row};

fn workdir(given: Option<PathBuf>) -> Result<(PathBuf, Option<tempfile::TempDir>), CliError> {
    match given {
        Some(p) => {
            fs_err::create_dir_all(&p).status(ExitStatus::Generic)?;
            Ok((p, None))
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("copr-bench-")
                .tempdir()
                .status(ExitStatus::Generic)?;
            Ok((t.path().to_path_buf(), Some(t)))
        }
    }
}

fn self_exe() -> Result<PathBuf, CliError> {
    std::env::current_exe().status(ExitStatus::Generic)
}

fn createrepo_rows(
    args: &BenchCreaterepoArgs,
    work: &Path,
    quiet: bool,
) -> Result<Vec<Row>, CliError> {
    let copr = self_exe()?;
    let workers = args.workers.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut rows = Vec::new();
    for &n in &args.sizes {
        let dir = work.join(format!("small-{n}"));
        if !quiet {
            eprintln!("generating {n} small packages in {}", dir.display());
        }
        bench::small_set(&dir, n).status(ExitStatus::Generic)?;
        let extra = move |d: &Path| bench::small_package(d, n, 2048);
        rows.extend(
            bench::compare_createrepo(
                &copr,
                &format!("{n} small packages"),
                &dir,
                &extra,
                workers,
                args.runs,
            )
            .status(ExitStatus::Generic)?,
        );
    }
    let (count, mib) = args
        .large
        .split_once('x')
        .and_then(|(c, m)| Some((c.parse::<u32>().ok()?, m.parse::<usize>().ok()?)))
        .ok_or_else(|| {
            CliError::new(
                ExitStatus::Args,
                anyhow::anyhow!("--large must look like COUNTxMIB, e.g. 20x25"),
            )
        })?;
    if count > 0 {
        let dir = work.join(format!("large-{count}x{mib}"));
        fs_err::create_dir_all(&dir).status(ExitStatus::Generic)?;
        if !quiet {
            eprintln!(
                "generating {count} packages of {mib} MiB in {}",
                dir.display()
            );
        }
        let have = fs_err::read_dir(&dir).status(ExitStatus::Generic)?.count();
        if have < count as usize {
            use rayon::prelude::*;
            (0..count)
                .into_par_iter()
                .try_for_each(|i| bench::large_package(&dir, i, mib).map(|_| ()))
                .status(ExitStatus::Generic)?;
        }
        let extra = move |d: &Path| bench::large_package(d, 999, mib);
        rows.extend(
            bench::compare_createrepo(
                &copr,
                &format!("{count} × {mib} MiB packages"),
                &dir,
                &extra,
                workers,
                args.runs,
            )
            .status(ExitStatus::Generic)?,
        );
    }
    Ok(rows)
}

fn sign_rows(args: &BenchSignArgs, work: &Path, quiet: bool) -> Result<Vec<Row>, CliError> {
    if !quiet {
        eprintln!(
            "signing {} packages with copr sign and rpmsign",
            args.packages
        );
    }
    bench::compare_sign(&self_exe()?, work, args.packages).status(ExitStatus::Generic)
}

fn print(global: &GlobalArgs, rows: &[Row]) {
    if global.output == OutputFormat::Json {
        println!("{}", serde_json::json!({ "results": rows }));
        return;
    }
    let mut t = comfy_table::Table::new();
    t.set_header([
        "case",
        "tool",
        "seconds",
        "peak RSS (MiB)",
        "ours is faster by",
    ]);
    for r in rows {
        t.add_row([
            r.case.clone(),
            r.tool.clone(),
            format!("{:.3}", r.m.seconds),
            format!("{:.1}", r.m.max_rss_kib as f64 / 1024.0),
            r.speedup.map(|s| format!("{s:.1}×")).unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

pub fn run(global: &GlobalArgs, args: BenchArgs) -> Result<ExitStatus, CliError> {
    let quiet = global.quiet;
    let rows = match args.command {
        BenchCommand::Createrepo(a) => {
            let (work, _guard) = workdir(a.workdir.clone())?;
            createrepo_rows(&a, &work, quiet)?
        }
        BenchCommand::Sign(a) => {
            let (work, _guard) = workdir(a.workdir.clone())?;
            sign_rows(&a, &work, quiet)?
        }
        BenchCommand::All(a) => {
            let (work, _guard) = workdir(a.workdir.clone())?;
            let mut rows = createrepo_rows(
                &BenchCreaterepoArgs {
                    sizes: vec![2000, 10000],
                    large: "20x25".into(),
                    workers: None,
                    runs: 3,
                    workdir: None,
                },
                &work,
                quiet,
            )?;
            rows.extend(sign_rows(
                &BenchSignArgs {
                    packages: 500,
                    workdir: None,
                },
                &work,
                quiet,
            )?);
            rows
        }
    };
    print(global, &rows);
    Ok(ExitStatus::Success)
}
