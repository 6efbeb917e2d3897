//! `copr serve`: the build service with a Copr API v3 compatible HTTP API.
