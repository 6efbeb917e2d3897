#!/usr/bin/env bash
# Starts a private PostgreSQL cluster for the test suite and exports COPR_TEST_POSTGRES_URL.
# Meant to be *sourced* (scripts/run-tests.sh does): the cluster lives in a temp directory,
# listens only on a unix socket there (no TCP port to collide with), and is stopped and removed
# when the sourcing shell exits; an EXIT trap set before is kept and still runs.
# Without PostgreSQL installed it warns and exports nothing (the PostgreSQL storage tests then
# skip, except under CI=true where they fail).

_copr_pg_bindir() {
    local d best=""
    for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin; do
        if [ -x "$d/initdb" ]; then best="$d"; fi
    done
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    printf '%s' "$best"
}

_copr_pg_stop() {
    if [ -n "${_COPR_PG_DIR:-}" ] && [ -d "$_COPR_PG_DIR" ]; then
        "${_COPR_PG_RUN[@]}" "$_COPR_PG_BIN/pg_ctl" -D "$_COPR_PG_DIR/data" -m immediate stop \
            >/dev/null 2>&1 || true
        rm -rf "$_COPR_PG_DIR"
    fi
}

_copr_pg_start() {
    _COPR_PG_BIN=$(_copr_pg_bindir)
    if [ -z "$_COPR_PG_BIN" ]; then
        echo "test-postgres: initdb not found; install PostgreSQL (scripts/install-deps.sh --test)" >&2
        return 0
    fi
    _COPR_PG_RUN=()
    _COPR_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/copr-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: run the cluster as the postgres system user.
        chown postgres: "$_COPR_PG_DIR"
        chmod 0755 "$_COPR_PG_DIR"
        _COPR_PG_RUN=(runuser -u postgres --)
    fi
    "${_COPR_PG_RUN[@]}" "$_COPR_PG_BIN/initdb" -D "$_COPR_PG_DIR/data" -U postgres -A trust \
        -E UTF8 --no-sync >"$_COPR_PG_DIR/initdb.log" 2>&1 || {
        echo "test-postgres: initdb failed:" >&2
        cat "$_COPR_PG_DIR/initdb.log" >&2
        return 1
    }
    "${_COPR_PG_RUN[@]}" "$_COPR_PG_BIN/pg_ctl" -D "$_COPR_PG_DIR/data" -l "$_COPR_PG_DIR/server.log" \
        -w -t 60 -o "-k $_COPR_PG_DIR -c listen_addresses='' -c fsync=off -c max_connections=300" \
        start >/dev/null || {
        echo "test-postgres: the server did not start:" >&2
        cat "$_COPR_PG_DIR/server.log" >&2
        return 1
    }
    export COPR_TEST_POSTGRES_URL="postgres://postgres@localhost/postgres?host=$_COPR_PG_DIR"
    echo "test-postgres: PostgreSQL running, socket in $_COPR_PG_DIR" >&2
}

# Keep whatever EXIT trap the sourcing shell already has.
_copr_pg_prev_trap=$(trap -p EXIT)
_copr_pg_prev_cmd() {
    [ -n "$_copr_pg_prev_trap" ] || return 0
    eval "set -- $_copr_pg_prev_trap"
    printf '%s' "$3"
}
_copr_pg_prev=$(_copr_pg_prev_cmd)
# shellcheck disable=SC2064
trap "_copr_pg_stop${_copr_pg_prev:+; $_copr_pg_prev}" EXIT
_copr_pg_start
