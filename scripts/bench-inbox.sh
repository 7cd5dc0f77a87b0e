#!/usr/bin/env bash
# Load benchmark of the department inbox (issue 8) on PostgreSQL: 100,000 dispatched submissions
# (one signed or plain document each, one in seven signatures failed) seeded with SQL, the release
# binary serving them, and `wrk` (Debian; 20 connections, 10 s timeout) on the list (plain,
# filtered, text search, page 100 by number and by the pager's link), the intake office's list and
# a detail page. Prints per URL the median of one client alone (the cost of a page view), the CPU
# time per request of that run (the server's and PostgreSQL's, from /proc), and p50/p99 of 20
# clients.
# Usage: scripts/bench-inbox.sh   (INBOX_BENCH_N=100000, INBOX_BENCH_SECS=15 by default;
# INBOX_BENCH_POOL=N for N PostgreSQL connections instead of config.toml's 8)
# INBOX_BENCH_BEFORE=/path/to/an/older/podawcza: seed and measure with that binary (and its
# migrations) first, then migrate the same database with this tree's binary and measure again, so
# the two sets of figures differ only in the code and the schema.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/setup.sh
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
N="${INBOX_BENCH_N:-100000}"
SECS="${INBOX_BENCH_SECS:-15}"
BIN=target/release/podawcza
[[ -x "$BIN" ]] || cargo build --release --bin podawcza
BEFORE="${INBOX_BENCH_BEFORE:-}"
FIRST="${BEFORE:-$BIN}"

PSQL=("$PGBIN/psql" -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" "$PODAWCZA_TEST_PG_URL" -c "CREATE DATABASE inbox_bench"
DB_URL="${PODAWCZA_TEST_PG_URL%/*}/inbox_bench"
export PODAWCZA_DATABASE__URL="$DB_URL" PODAWCZA_STORAGE__DIR="$WORK/data"
# INBOX_BENCH_POOL: the server's PostgreSQL connections; by default config.toml's (8). With 24, one
# for each of wrk's 20 clients, twenty backends share the two cores and p99 rose (README).
export PODAWCZA_LOG=warn
if [[ -n "${INBOX_BENCH_POOL:-}" ]]; then export PODAWCZA_DATABASE__MAX_CONNECTIONS="$INBOX_BENCH_POOL"; fi
"$FIRST" migrate >/dev/null

log "seeding $N submissions"
time "${PSQL[@]}" "$DB_URL" <<SQL
INSERT INTO submissions (id, registration_number, reg_year, reg_seq, channel, received_at,
    arrival_source, registered_at, sender, sender_name, recipients, subject, body_text,
    raw_sha256, raw_size, state, department, signed, updated_at, clerk_state)
SELECT 'b-' || g, 'RPW/' || g || '/2020', 2020, g,
       CASE WHEN g % 10 = 0 THEN 'upload' ELSE 'email' END, t, 'received_header', t,
       'osoba' || g || '@example.pl', 'Osoba ' || g, '[]',
       'Wniosek ' || g || CASE g % 4 WHEN 0 THEN ' rejestracja pojazdu' WHEN 1 THEN ' dowód osobisty'
                                   WHEN 2 THEN ' odpis aktu' ELSE ' informacja publiczna' END,
       'Treść pisma numer ' || g, md5(g::text) || md5('r' || g), 1000, 'dispatched',
       (ARRAY['BP','KM','SO','USC','BOI'])[1 + g % 5], g % 2, t,
       (ARRAY['new','in_progress','waiting','done'])[1 + g % 4]
FROM (SELECT g, to_char(timestamp '2020-01-01' + g * interval '5 minutes',
                        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t
      FROM generate_series(1, $N) g) x;
INSERT INTO documents (id, submission_id, seq, name, media_type, size, sha256, container, role,
    report, signed)
SELECT 'd-' || g, 'b-' || g, 1, 'wniosek-' || g || '.xml', 'application/xml', 100,
       md5('d' || g) || md5('e' || g), '', 'attachment',
       CASE WHEN g % 2 = 1 THEN
         '{"file":"w.xml","sha256":"","container":"xml","signatures":[{"id":"S1","format":"XAdES",'
         || '"checked":true,"intact":true,"indication":"'
         || CASE WHEN g % 7 = 0 THEN 'TOTAL_FAILED' ELSE 'TOTAL_PASSED' END
         || '","sub_indication":null,"kind":"' || CASE WHEN g % 3 = 0 THEN 'trusted_profile' ELSE 'qes' END
         || '","signed_data":[],"warnings":[],"errors":[]}]}'
       ELSE '{"file":"w.xml","sha256":"","container":"xml","signatures":[]}' END,
       g % 2
FROM generate_series(1, $N) g;
VACUUM ANALYZE;
SQL

printf 'bench-password-1\n' > "$WORK/pw"
"$FIRST" user add km --department KM --role clerk --password-file "$WORK/pw" >/dev/null
"$FIRST" user add bp --department BP --role intake --password-file "$WORK/pw" >/dev/null

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
SERVER=""
start_server() {
    PODAWCZA_WEB__LISTEN="127.0.0.1:$PORT" "$1" serve >>"$WORK/serve.log" 2>&1 &
    SERVER=$!
    STARTED_PIDS+=("$SERVER")
    for _ in $(seq 1 200); do curl -sf "$BASE/healthz" >/dev/null && return 0; sleep 0.1; done
    cat "$WORK/serve.log"; exit 1
}

session() {
    local jar="$WORK/jar-$1"
    local token
    token="$(curl -s -c "$jar" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//;s/"$//')"
    curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$token" \
        --data-urlencode "login=$1" --data-urlencode "password=bench-password-1" "$BASE/login"
    awk '$6 == "podawcza_session" { print $7 }' "$jar"
}

# CPU time (user and system, in clock ticks) of a process so far; with `all`, also of its
# children that ended (and were waited for).
ticks() {
    # A backend may end between listing it and reading it.
    awk -v all="${2:-}" '{ sub(/^.*\) /, ""); print $12 + $13 + (all ? $14 + $15 : 0) }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}
# CPU time of PostgreSQL so far: the postmaster, its backends, and the backends that ended (a
# connection the pool drops when wrk stops in the middle of a request is replaced by a new one).
pg_ticks() {
    local t p
    t="$(ticks "$PG_PID" all)"
    for p in $(pgrep -P "$PG_PID"); do t=$((t + $(ticks "$p"))); done
    echo "$t"
}
run() {
    local label=$1 cookie=$2 path=$3
    curl -sf -o /dev/null -H "Cookie: podawcza_session=$cookie" "$BASE$path" || { echo "$label: $path fails"; exit 1; }
    local out one s0 p0 s1 p1 n hz
    hz="$(getconf CLK_TCK)"
    s0="$(ticks "$SERVER")"
    p0="$(pg_ticks)"
    # One client first: the cost of one page view without queueing behind the others.
    one="$(wrk -t1 -c1 -d5s --timeout 10s --latency -H "Cookie: podawcza_session=$cookie" "$BASE$path")"
    s1="$(ticks "$SERVER")"
    p1="$(pg_ticks)"
    n="$(awk '/requests in/ { print $1 }' <<<"$one")"
    out="$(wrk -t2 -c20 -d"${SECS}s" --timeout 10s --latency -H "Cookie: podawcza_session=$cookie" "$BASE$path")"
    printf '%-36s 1 client p50 %8s, CPU/req server %s ms, PostgreSQL %s ms | 20 clients p50 %8s  p99 %8s  %8s req/s  %s timeouts\n' \
        "$label" "$(awk '$1 == "50%" { print $2 }' <<<"$one")" \
        "$(awk -v t=$((s1 - s0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')" \
        "$(awk -v t=$((p1 - p0)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')" \
        "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")" \
        "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")" \
        "$(awk '/Socket errors/ { print $NF; found = 1 } END { if (!found) print 0 }' <<<"$out")"
}
measure() {
    local what=$1 binary=$2
    start_server "$binary"
    KM="$(session km)"
    BP="$(session bp)"
    if [[ -n "${INBOX_BENCH_EXPLAIN:-}" ]]; then "${PSQL[@]}" "$DB_URL" -f "$INBOX_BENCH_EXPLAIN"; fi
    log "$what: wrk, 20 connections, ${SECS}s each, $N submissions on PostgreSQL"
    run "list (KM clerk)" "$KM" "/inbox"
    run "list: failed signatures (KM)" "$KM" "/inbox?waznosc=failed"
    run "list: text search (KM)" "$KM" "/inbox?q=pojazdu"
    run "list: rare text (KM)" "$KM" "/inbox?q=wniosek-12346"
    run "list: signed, kind PZ, waiting (KM)" "$KM" "/inbox?podpis=tak&rodzaj=trusted_profile&stan=waiting"
    run "list: all departments (BP)" "$BP" "/inbox"
    run "list: failed, text (BP)" "$BP" "/inbox?waznosc=failed&q=odpis"
    run "list: page 100 by number (BP)" "$BP" "/inbox?strona=100"
    # Page 100 as a clerk reaches it: the "next" link of page 99, which carries its last row's
    # key (an older binary's link is the plain number).
    local link
    link="$(curl -sf -H "Cookie: podawcza_session=$BP" "$BASE/inbox?strona=99" \
        | grep -o 'href="[^"]*" rel="next"' | sed 's/^href="//; s/" rel="next"$//; s/&amp;/\&/g')"
    run "list: page 100 by its link (BP)" "$BP" "$link"
    run "detail (KM)" "$KM" "/inbox/b-12346"
    stop_pid "$SERVER"
}
if [[ -n "$BEFORE" ]]; then
    measure "before ($BEFORE)" "$BEFORE"
    log "migrating with $BIN"
    time "$BIN" migrate >/dev/null
    "${PSQL[@]}" "$DB_URL" -c "VACUUM ANALYZE submissions"
fi
measure "this tree ($BIN)" "$BIN"
