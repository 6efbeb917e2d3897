//! Man pages and shell completions generated from the clap definitions.
//!
//! `completions/` and `man/` in the source tree are the output of [`render_all`]; the test
//! `tests/generated.rs` fails when they are stale (`make generated` refreshes them).

use std::collections::BTreeMap;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Every generated file, keyed by its path relative to the repository root.
pub fn render_all() -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for (shell, name) in [
        (Shell::Bash, "copr.bash"),
        (Shell::Zsh, "_copr"),
        (Shell::Fish, "copr.fish"),
    ] {
        files.insert(format!("completions/{name}"), completion(shell));
    }
    let cmd = Cli::command();
    render_man(&cmd, "copr", &mut files)?;
    Ok(files)
}

/// The completion script for one shell.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "copr", &mut out);
    out
}

fn render_man(
    cmd: &clap::Command,
    name: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> anyhow::Result<()> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    files.insert(format!("man/{name}.1"), out);
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        render_man(sub, &format!("{name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}
