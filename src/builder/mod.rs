//! The builder agent (`copr builder`): pulls tasks from `copr serve`, runs the local pipeline on
//! each task's JobSpec, streams the live log and uploads results.
