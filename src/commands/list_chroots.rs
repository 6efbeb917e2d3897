//! `copr list-chroots`: the chroots the server offers, each with its comment indented below.

use crate::cli::{GlobalArgs, ListChrootsArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ListChrootsArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let chroots = remote.client.mock_chroots().map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&chroots)?;
        return Ok(ExitStatus::Success);
    }
    for (name, comment) in &chroots {
        remote::print_line(name)?;
        if let Some(text) = comment.as_str().filter(|c| !c.is_empty()) {
            for line in text.lines() {
                remote::print_line(format_args!("    {line}"))?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
