//! `JobSpec`: the one contract between local builds, the server and builder agents.
