//! `copr fork SRC DST [--confirm]`.

use crate::cli::{ForkArgs, GlobalArgs};
use crate::client::ClientError;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ForkArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let src = remote.project(&args.src)?;
    let dst = remote.project(&args.dst)?;
    let existed = match remote.client.project_get(&dst.owner, &dst.project) {
        Ok(_) => true,
        Err(ClientError::NotFound { .. }) => false,
        Err(e) => return Err(remote.err(e)),
    };
    if existed && !args.confirm {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("project {dst} already exists"),
        )
        .with_hint("pass --confirm to fork into it, updating its packages"));
    }
    let project = remote
        .client
        .project_fork(&src, &dst.owner, &dst.project, args.confirm)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else if existed {
        remote::print_line(format_args!(
            "Updating packages in {} from {src}.\nPlease be aware that it may take a few minutes \
             to duplicate backend data.",
            project.full_name()
        ))?;
    } else {
        remote::print_line(format_args!(
            "Forking project {src} for you into {}.\nPlease be aware that it may take a few \
             minutes to duplicate backend data.",
            project.full_name()
        ))?;
    }
    Ok(ExitStatus::Success)
}
