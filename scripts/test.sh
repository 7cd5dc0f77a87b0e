#!/usr/bin/env bash
# The test command: installs what is missing, starts its own PostgreSQL on a loopback port,
# runs the checks and the whole test suite on SQLite and on PostgreSQL, and stops only what it
# started (by pid). Usage: scripts/test.sh   (CI: .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
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
