#!/usr/bin/env bash
# Runs the whole test suite: lint, generated-file freshness, unit and integration tests.
# Tests that need PostgreSQL read COPR_TEST_POSTGRES_URL, set here from the cluster that
# scripts/test-postgres.sh starts (and stops on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

if [ -x scripts/test-postgres.sh ] && [ -z "${COPR_TEST_POSTGRES_URL:-}" ]; then
    # shellcheck source=/dev/null
    source scripts/test-postgres.sh
fi

# Python tools (copr-cli) installed by install-deps.sh live in this virtualenv.
if [ -d target/test-venv/bin ]; then
    export COPR_TEST_VENV="$PWD/target/test-venv"
fi

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --profile ci --no-tests=fail
else
    cargo test
fi
