#!/usr/bin/env bash
# The test command: installs what is missing, starts its own PostgreSQL on a loopback port,
# runs the checks and the whole test suite on SQLite and on PostgreSQL, and stops only what it
# started (by pid). Usage: scripts/test.sh   (CI: .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$(mktemp -d /tmp/podawcza-test.XXXXXX)"
chmod 755 "$WORK"
PG_PID=""
DOVECOT_PID=""
SMTP_SINK_PID=""

log() { printf '\n== %s\n' "$*"; }

cleanup() {
    local status=$?
    if [[ -n "$PG_PID" ]] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    for pid in "$SMTP_SINK_PID" "$DOVECOT_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT INT TERM

source scripts/lib/setup.sh
source scripts/lib/mailservers.sh

log "format and lints"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

log "tests on SQLite"
PODAWCZA_TEST_DB=sqlite cargo test --quiet 2>&1 | tee "$WORK/sqlite.out"

log "tests on PostgreSQL"
PODAWCZA_TEST_DB=postgres cargo test --quiet --test it 2>&1 | tee "$WORK/pg.out"

log "documentation"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

log "all passed"
