//! `copr completions SHELL`

use std::io::Write;

use crate::cli::{CompletionsArgs, GlobalArgs};
use crate::error::{CliError, ExitStatus, WithStatus};

pub fn run(_global: &GlobalArgs, args: CompletionsArgs) -> Result<ExitStatus, CliError> {
    let script = crate::docs::completion(args.shell);
    std::io::stdout()
        .write_all(&script)
        .status(ExitStatus::Generic)?;
    Ok(ExitStatus::Success)
}
