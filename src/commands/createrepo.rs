//! `copr createrepo DIR [--update] [--workers N] [--compress gz|zstd] [--sign-key KEY]`

use std::path::Path;

use crate::cli::{CreaterepoArgs, GlobalArgs, MetadataCompression, OutputFormat};
use crate::error::{CliError, ExitStatus};
use crate::repo::createrepo::{Compression, CreaterepoError, CreaterepoOptions, createrepo};
use crate::repo::keys::{KeyError, SigningKey};
use crate::reporter::{Event, Reporter};

/// Progress on stderr: warnings always, stage outcomes unless `--quiet`.
pub(crate) struct StderrReporter {
    pub quiet: bool,
}

impl Reporter for StderrReporter {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Warning { message } => eprintln!("warning: {message}"),
            Event::Info { message } if !self.quiet => eprintln!("{message}"),
            Event::StageFinished {
                stage,
                ok,
                message: Some(m),
            } if !self.quiet => {
                eprintln!("{stage}: {}{m}", if ok { "" } else { "failed: " })
            }
            _ => {}
        }
    }
}

/// Load a secret key for signing, turning errors into actionable CLI errors.
pub(crate) fn load_key(path: &Path) -> Result<SigningKey, CliError> {
    SigningKey::load(path).map_err(|e| {
        let hint = match &e {
            KeyError::Io { .. } | KeyError::Malformed(_) | KeyError::NoSecret(_) => {
                "pass the secret.asc written by `copr key generate --name OWNER/PROJECT --out DIR`"
            }
            KeyError::Encrypted(_) => "export the key without a passphrase for automated signing",
            _ => "generate a new key with `copr key generate`",
        };
        CliError::new(ExitStatus::Config, e).with_hint(hint)
    })
}

pub(crate) fn createrepo_error(e: CreaterepoError) -> CliError {
    let hint = match &e {
        CreaterepoError::BadPackages { .. } => {
            Some("remove or rebuild the listed files, then run again".to_string())
        }
        CreaterepoError::Io { path, source }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            Some(format!("make {} writable for this user", path.display()))
        }
        CreaterepoError::NotADirectory(_) => {
            Some("pass the directory that contains the .rpm files".into())
        }
        _ => None,
    };
    let err = CliError::new(ExitStatus::Generic, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

pub fn run(global: &GlobalArgs, args: CreaterepoArgs) -> Result<ExitStatus, CliError> {
    let key = args.sign_key.as_deref().map(load_key).transpose()?;
    let opts = CreaterepoOptions {
        update: args.update,
        workers: args.workers.map(usize::from),
        compression: match args.compress {
            MetadataCompression::Gz => Compression::Gz,
            MetadataCompression::Zstd => Compression::Zstd,
        },
        sign_key: key.as_ref(),
        modules_yaml: args.modules.clone(),
        revision: None,
    };
    let reporter = StderrReporter {
        quiet: global.quiet || global.output == OutputFormat::Json,
    };
    let report = createrepo(&args.dir, &opts, &reporter).map_err(createrepo_error)?;
    let mut repo_file = None;
    if args.repo_file {
        let dir = std::path::absolute(&args.dir).unwrap_or(args.dir.clone());
        let gpgkey = args.gpgkey.clone().or_else(|| {
            args.sign_key
                .as_ref()
                .map(|k| k.with_file_name("pubkey.gpg"))
                .filter(|p| p.is_file())
        });
        let gpgkey = gpgkey.map(|p| std::path::absolute(&p).unwrap_or(p));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "local".into());
        let id = format!("copr-local-{}", crate::repo::publish::repo_id_part(&name));
        let section = crate::repo::repofile::local_section(
            &id,
            &format!("Local repository {}", dir.display()),
            &dir,
            gpgkey.as_deref(),
        );
        let path = dir.join("copr.repo");
        crate::repo::cache::write_atomic(
            &path,
            crate::repo::repofile::render(&[section]).as_bytes(),
        )
        .map_err(|e| CliError::new(ExitStatus::Generic, e))?;
        repo_file = Some(path);
    }
    match global.output {
        OutputFormat::Json => {
            let mut v =
                serde_json::to_value(&report).map_err(|e| CliError::new(ExitStatus::Generic, e))?;
            v["repo_file"] = serde_json::json!(repo_file);
            println!("{v}");
        }
        OutputFormat::Text if global.quiet => {}
        OutputFormat::Text => {
            println!(
                "{}: {} packages ({} read, {} reused){} in {:.2}s",
                report.directory.display(),
                report.packages,
                report.packages_read,
                report.packages_reused,
                if report.signed {
                    ", repomd.xml signed"
                } else {
                    ""
                },
                report.seconds
            );
            if let Some(p) = repo_file {
                println!("repo file: {}", p.display());
            }
        }
    }
    Ok(ExitStatus::Success)
}
