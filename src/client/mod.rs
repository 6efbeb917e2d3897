//! Client for the Copr API v3 (our server or any Copr frontend), and copr-cli's config file.
