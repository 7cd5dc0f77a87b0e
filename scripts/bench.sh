#!/usr/bin/env bash
# Benchmarks that print figures (never run as tests): the register's end-to-end ingest and the
# mailbox drain from a real Dovecot next to a plain IMAP download (SQLite and a private PostgreSQL),
# the XML verifier (100 KB XAdES-B; the corpus against an xmlsec1 loop) and trusted-list loading.
# PAdES throughput on a 10 MB PDF (PODAWCZA_BENCH_PDF_MB) against pyHanko (pdf).
# Usage: scripts/bench.sh [ingest|mailbox|xml|trust|pdf]   (PODAWCZA_BENCH_N=10000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/setup.sh
which="${1:-all}"
if [[ "$which" == all || "$which" == ingest ]]; then
    log "ingest benchmark"
    PODAWCZA_BENCH_PG_URL="$PODAWCZA_TEST_PG_URL" cargo bench --bench ingest
fi
if [[ "$which" == all || "$which" == mailbox ]]; then
    source scripts/lib/mailservers.sh
    log "mailbox benchmark"
    PODAWCZA_BENCH_PG_URL="$PODAWCZA_TEST_PG_URL" cargo bench --bench mailbox
fi
if [[ "$which" == all || "$which" == xml ]]; then
    log "xml verifier benchmark"
    cargo bench --bench xml
fi
if [[ "$which" == all || "$which" == trust ]]; then
    log "trusted list benchmark"
    cargo bench --bench trust
fi
if [[ "$which" == all || "$which" == pdf ]]; then
    log "pdf verifier benchmark (against pyHanko)"
    cargo bench --bench pdf
fi
