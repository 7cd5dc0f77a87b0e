#!/usr/bin/env bash
# Benchmarks that print figures (never run as tests): the register's end-to-end ingest on SQLite
# and on a private PostgreSQL. Usage: scripts/bench.sh   (PODAWCZA_BENCH_N=10000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d /tmp/podawcza-bench.XXXXXX)"
chmod 755 "$WORK"
PG_PID=""
log() { printf '\n== %s\n' "$*"; }
cleanup() {
    local status=$?
    if [[ -n "$PG_PID" ]] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT INT TERM
source scripts/lib/setup.sh
log "ingest benchmark"
PODAWCZA_BENCH_PG_URL="$PODAWCZA_TEST_PG_URL" cargo bench --bench ingest
