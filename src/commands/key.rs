//! `copr key generate|export`

use std::io::Write;
use std::time::Duration;

use crate::cli::{GlobalArgs, KeyAlgorithmArg, KeyArgs, KeyCommand, OutputFormat};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::repo::keys::{KeyAlgorithm, SigningKey};

pub fn run(global: &GlobalArgs, args: KeyArgs) -> Result<ExitStatus, CliError> {
    match args.command {
        KeyCommand::Generate(a) => {
            let (owner, project) = a
                .name
                .split_once('/')
                .filter(|(o, p)| !o.is_empty() && !p.is_empty() && !p.contains('/'))
                .ok_or_else(|| {
                    CliError::new(
                        ExitStatus::Args,
                        anyhow::anyhow!("--name must be OWNER/PROJECT, got `{}`", a.name),
                    )
                })?;
            let secret = a.out.join("secret.asc");
            if secret.exists() && !a.force {
                return Err(CliError::new(
                    ExitStatus::Generic,
                    anyhow::anyhow!("{} already exists", secret.display()),
                )
                .with_hint("pass --force to replace it (packages signed with the old key will no longer verify with the new pubkey.gpg)"));
            }
            let user_id = match &a.email {
                Some(email) => format!("{owner}_{project} (copr) <{email}>"),
                None => crate::repo::keys::default_user_id(owner, project),
            };
            let algorithm = match a.algorithm {
                KeyAlgorithmArg::Rsa4096 => KeyAlgorithm::Rsa4096,
                KeyAlgorithmArg::Rsa3072 => KeyAlgorithm::Rsa3072,
                KeyAlgorithmArg::Ed25519 => KeyAlgorithm::Ed25519,
            };
            let validity = (a.expire_days > 0).then(|| Duration::from_secs(a.expire_days * 86400));
            let key =
                SigningKey::generate(&user_id, algorithm, validity).status(ExitStatus::Generic)?;
            let (public, secret) = key.write_files(&a.out).map_err(|e| {
                CliError::new(ExitStatus::Generic, e).with_hint("choose a writable --out directory")
            })?;
            match global.output {
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::json!({
                        "fingerprint": key.fingerprint(),
                        "key_id": key.key_id(),
                        "user_id": key.user_id(),
                        "rpm_name": key.rpm_pubkey_name(),
                        "public_key": public,
                        "secret_key": secret,
                    })
                ),
                OutputFormat::Text => {
                    println!("fingerprint: {}", key.fingerprint());
                    println!("user id:     {}", key.user_id());
                    println!("public key:  {}", public.display());
                    println!("secret key:  {} (keep it private)", secret.display());
                }
            }
            Ok(ExitStatus::Success)
        }
        KeyCommand::Export(a) => {
            let key = super::createrepo::load_key(&a.key)?;
            let public = key.public_armored().status(ExitStatus::Generic)?;
            match &a.out {
                Some(p) => crate::repo::cache::write_atomic(p, &public).map_err(|e| {
                    CliError::new(ExitStatus::Generic, anyhow::anyhow!("{}: {e}", p.display()))
                })?,
                None => std::io::stdout()
                    .write_all(&public)
                    .status(ExitStatus::Generic)?,
            }
            Ok(ExitStatus::Success)
        }
    }
}
