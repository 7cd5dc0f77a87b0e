#!/usr/bin/env bash
# Benchmarks that print figures (never run as tests): the register's end-to-end ingest on SQLite
# and on a private PostgreSQL, and the XML verifier (100 KB XAdES-B; the corpus against xmlsec1). Usage: scripts/bench.sh   (PODAWCZA_BENCH_N=10000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/setup.sh
log "ingest benchmark"
PODAWCZA_BENCH_PG_URL="$PODAWCZA_TEST_PG_URL" cargo bench --bench ingest
log "xml verifier benchmark"
cargo bench --bench xml
