//! `copr sign --key KEY FILE.rpm…`

use rayon::prelude::*;

use crate::cli::{GlobalArgs, OutputFormat, SignArgs};
use crate::error::{CliError, ExitStatus};
use crate::repo::rpmsign::{SignOutcome, sign_rpm};

pub fn run(global: &GlobalArgs, args: SignArgs) -> Result<ExitStatus, CliError> {
    let key = super::createrepo::load_key(&args.key)?;
    let results: Vec<_> = args
        .files
        .par_iter()
        .map(|f| (f, sign_rpm(f, &key, args.force)))
        .collect();
    let mut failed = Vec::new();
    let mut rows = Vec::new();
    for (file, r) in results {
        match r {
            Ok(outcome) => rows.push((file, outcome)),
            Err(e) => failed.push(e.to_string()),
        }
    }
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({
                "key_id": key.key_id(),
                "packages": rows
                    .iter()
                    .map(|(f, o)| serde_json::json!({"file": f, "outcome": o}))
                    .collect::<Vec<_>>(),
                "errors": failed,
            })
        ),
        OutputFormat::Text => {
            for (file, outcome) in &rows {
                let outcome = match outcome {
                    SignOutcome::Signed => "signed",
                    SignOutcome::SignedRewritten => "signed (rewritten: no reserved space)",
                    SignOutcome::AlreadySigned => "already signed by this key",
                };
                if !global.quiet {
                    println!("{}: {outcome}", file.display());
                }
            }
        }
    }
    if !failed.is_empty() {
        return Err(CliError::new(
            ExitStatus::Generic,
            anyhow::anyhow!(
                "{} package(s) not signed:\n  {}",
                failed.len(),
                failed.join("\n  ")
            ),
        )
        .with_hint("check that the files are readable, writable RPM packages"));
    }
    Ok(ExitStatus::Success)
}
