//! `copr new-api-token`: renew the token and write it into the configuration file.

use crate::cli::{GlobalArgs, NewApiTokenArgs};
use crate::client::config::update_credentials;
use crate::commands::remote::{self, Remote, config_error};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: NewApiTokenArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let Some(path) = remote.config.path.clone() else {
        return Err(CliError::new(
            ExitStatus::Config,
            anyhow::anyhow!("no configuration file to update"),
        )
        .with_hint("write ~/.config/copr first, or pass --config FILE"));
    };
    if !remote.client.has_credentials() {
        return Err(CliError::new(
            ExitStatus::Config,
            anyhow::anyhow!("{} has no `login` and `token` to renew", path.display()),
        ));
    }
    // Refuse before the server replaces the token if the new one could not be saved.
    let writable = fs_err::OpenOptions::new().append(true).open(&path);
    if let Err(e) = writable {
        return Err(CliError::new(ExitStatus::Config, e)
            .with_hint("the new token could not be saved; the current one stays valid"));
    }
    let new = remote.client.new_api_token().map_err(|e| remote.err(e))?;
    update_credentials(
        &path,
        &new.api_login,
        &new.api_token,
        new.expiration.as_deref(),
    )
    .map_err(config_error)?;
    if remote::json(global) {
        remote::print_json(&serde_json::json!({
            "config": path,
            "api_login": new.api_login,
            "expiration": new.expiration,
        }))?;
    } else {
        remote::print_line(format_args!(
            "New API token was updated in {}.",
            path.display()
        ))?;
    }
    Ok(ExitStatus::Success)
}
