//! copr: build RPMs locally in a sandboxed buildroot, publish signed rpm-md repositories, and run
//! a self-hosted build service whose HTTP API is compatible with Fedora Copr's API v3.
//!
//! The library holds all the work; `src/commands/` only resolves arguments, calls into it and
//! renders results. Library modules never print: progress goes through [`reporter::Reporter`].

pub mod builder;
pub mod cli;
pub mod client;
pub mod commands;
pub mod docs;
pub mod error;
pub mod job;
pub mod mock;
pub mod module;
pub mod pipeline;
pub mod repo;
pub mod reporter;
pub mod server;
