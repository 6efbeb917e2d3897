//! `copr builder`: run the build machine agent until SIGTERM/SIGINT.
//!
//! The first signal stops taking tasks and lets running ones finish (their results are
//! delivered); a second signal cancels them and hands them back to the server.

use std::sync::Arc;

use crate::builder::{Agent, AgentError, AgentOptions};
use crate::cli::{BuilderArgs, GlobalArgs};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::mock::{BackendKind, HostConfig, host_arch};
use crate::reporter::{Event, Reporter};

/// Status lines of the agent on stderr, one per event.
struct Lines {
    quiet: bool,
}

impl Reporter for Lines {
    fn event(&self, event: Event<'_>) {
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second());
        match event {
            Event::Info { message } if !self.quiet => eprintln!("{stamp} {message}"),
            Event::Warning { message } => eprintln!("{stamp} warning: {message}"),
            _ => {}
        }
    }
}

fn agent_error(e: AgentError) -> CliError {
    let hint = e.hint();
    let err = CliError::new(ExitStatus::Generic, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

pub fn run(global: &GlobalArgs, args: BuilderArgs) -> Result<ExitStatus, CliError> {
    if args.jobs == 0 {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("--jobs must be at least 1"),
        ));
    }
    let kind = args.backend.unwrap_or_else(BackendKind::detect);
    let backend = super::build::open_backend(kind)?;
    let arch = args.arch.clone().unwrap_or_else(|| host_arch().to_string());
    let chroots = if args.chroots.is_empty() {
        let config = HostConfig::load().status(ExitStatus::Config)?;
        std::iter::once(format!("host-{arch}"))
            .chain(config.sandbox.chroots)
            .filter(|c| backend.check_chroot(c).is_ok())
            .collect()
    } else {
        args.chroots.clone()
    };
    let workdir = args.workdir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("copr-builder-{}", std::process::id()))
    });
    let opts = AgentOptions {
        server: args.server.trim_end_matches('/').to_string(),
        token: args.token.clone(),
        arch,
        tags: args.tags.clone(),
        chroots,
        jobs: args.jobs,
        workdir,
        backend: kind,
    };
    let reporter = Arc::new(Lines {
        quiet: global.quiet,
    });
    let agent = Agent::new(opts.clone(), backend, reporter).map_err(agent_error)?;
    let accepted = agent.register().map_err(agent_error)?;
    if accepted.is_empty() {
        eprintln!(
            "warning: the server accepts none of this machine's chroots ({}); only source tasks \
             will come here",
            opts.chroots.join(", ")
        );
    }
    if !global.quiet {
        eprintln!(
            "building for {} on {} with {} job(s), {} backend",
            accepted.join(", "),
            opts.server,
            opts.jobs,
            kind.as_str()
        );
    }
    agent.start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .status(ExitStatus::Generic)?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).status(ExitStatus::Generic)?;
        let mut int = signal(SignalKind::interrupt()).status(ExitStatus::Generic)?;
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        eprintln!("stopping: finishing the running tasks (signal again to hand them back)");
        agent.stop();
        let idle = {
            let agent = agent.clone();
            tokio::task::spawn_blocking(move || agent.wait_idle())
        };
        tokio::pin!(idle);
        tokio::select! {
            _ = &mut idle => {},
            _ = term.recv() => { agent.hand_back(); let _ = idle.await; },
            _ = int.recv() => { agent.hand_back(); let _ = idle.await; },
        }
        Ok::<(), CliError>(())
    })?;
    let _ = fs_err::remove_dir(&opts.workdir);
    Ok(ExitStatus::Success)
}
