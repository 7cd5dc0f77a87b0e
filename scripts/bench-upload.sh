#!/usr/bin/env bash
# Load benchmark of the upload API (issue 7): the release binary serving on loopback (SQLite,
# blobs fsynced, signatures validated against the test PKI, receipts sealed), and `wrk` (Debian)
# with 20 connections posting a 1 MB PDF signed by the test PKI's qualified signer to
# POST /api/v1/submissions: every request streams the file to the blob store, registers it,
# verifies and validates the signature, classifies and dispatches it, and issues the sealed
# receipt before its 201. Prints requests per second, p50/p99 and the server's peak RSS.
# Usage: scripts/bench-upload.sh   (UPLOAD_BENCH_SECS=20, UPLOAD_BENCH_CONNECTIONS=20,
#        UPLOAD_BENCH_BYTES=1048576, UPLOAD_BENCH_DB=sqlite|postgres, UPLOAD_BENCH_PERF=FILE to
#        record the server's profile with perf while wrk runs, UPLOAD_BENCH_PDF=incremental (the
#        signature in an incremental update, its hole near the end, as signing applications
#        sign a resident's PDF) or first (signed in the first revision, the hole near the start),
#        UPLOAD_BENCH_DATA=DIR to keep the blob store and database on another volume,
#        UPLOAD_BENCH_BIN=PATH to run another build of the server, UPLOAD_BENCH_PERF_STAT=FILE to
#        count the server's CPU time and context switches with perf stat)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
SECS="${UPLOAD_BENCH_SECS:-20}"
CONNS="${UPLOAD_BENCH_CONNECTIONS:-20}"
BYTES="${UPLOAD_BENCH_BYTES:-1048576}"
DB="${UPLOAD_BENCH_DB:-sqlite}"
PDF_KIND="${UPLOAD_BENCH_PDF:-incremental}"
if [[ "$DB" == postgres ]]; then
  source scripts/lib/setup.sh
else
  free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
fi
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
# UPLOAD_BENCH_BIN=PATH: another build of the server (an A/B comparison); the default is built.
BIN="${UPLOAD_BENCH_BIN:-target/release/podawcza}"
[[ -n "${UPLOAD_BENCH_BIN:-}" ]] || cargo build --release --quiet --bin podawcza

DATA="${UPLOAD_BENCH_DATA:-$WORK}/data-$$"
[[ -n "${UPLOAD_BENCH_DATA:-}" ]] && EXTRA_CLEANUP="$DATA"
export PODAWCZA_STORAGE__DIR="$DATA" PODAWCZA_LOG=warn
export PODAWCZA_WEB__PUBLIC_RATE_PER_MINUTE=0
export PODAWCZA_UPLOAD__VERIFY_QUEUE=256
if [[ "$DB" == postgres ]]; then
  "$PGBIN/psql" -q -v ON_ERROR_STOP=1 "$PODAWCZA_TEST_PG_URL" -c "CREATE DATABASE upload_bench"
  export PODAWCZA_DATABASE__URL="${PODAWCZA_TEST_PG_URL%/*}/upload_bench"
fi
PKI="$PWD/fixtures/pki"
PLID_SHA="$(openssl x509 -in "$PKI/plid-root.crt.pem" -outform DER | sha256sum | cut -d' ' -f1)"
export PODAWCZA_TRUST__ANCHORS_DIR="$PKI/anchors"
export PODAWCZA_TRUST__TRUSTED_LISTS="[\"$PKI/trusted-list.xml\"]"
export PODAWCZA_TRUST__LIST_SIGNERS="[\"$PKI/tl-signer.crt.pem\"]"
export PODAWCZA_TRUST__PERSONAL_ROOT_SHA256="[\"$PLID_SHA\"]"
export PODAWCZA_RECEIPT__SEAL_KEY="$PKI/qseal.key.pem" PODAWCZA_RECEIPT__SEAL_CERT="$PKI/qseal.crt.pem"

"$BIN" migrate >/dev/null
PDF_FLAGS=()
[[ "$PDF_KIND" == incremental ]] && PDF_FLAGS=(--incremental)
"$BIN" fixtures pdf --bytes "$BYTES" "${PDF_FLAGS[@]}" "$WORK/wniosek.pdf" >/dev/null
TOKEN="$("$BIN" token add bench | tail -n 1)"

# The request body: one multipart file part, as a client library sends it.
python3 - "$WORK/wniosek.pdf" "$WORK/body" <<'PY'
import sys
pdf = open(sys.argv[1], "rb").read()
b = b"----podawcza-bench-boundary"
body = (b"--" + b + b"\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nWniosek\r\n"
        + b"--" + b + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"wniosek.pdf\"\r\n"
        + b"Content-Type: application/pdf\r\n\r\n" + pdf + b"\r\n--" + b + b"--\r\n")
open(sys.argv[2], "wb").write(body)
PY
cat > "$WORK/post.lua" <<LUA
local f = assert(io.open("$WORK/body", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "multipart/form-data; boundary=----podawcza-bench-boundary"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

PORT="$(free_port)"
PODAWCZA_WEB__LISTEN="127.0.0.1:$PORT" "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
STARTED_PIDS+=("$SERVER")
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done

# One request first: it must be a 201 with a passed qualified signature, or the figures mean nothing.
curl -sf -o "$WORK/first.json" -H "Authorization: Bearer $TOKEN" \
  -F "file=@$WORK/wniosek.pdf;type=application/pdf" "http://127.0.0.1:$PORT/api/v1/submissions"
python3 - "$WORK/first.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["documents"][0]["report"]["signatures"][0]
assert (s["indication"], s["kind"]) == ("TOTAL_PASSED", "qes"), s
print(f"check: {r['registration_number']} {s['format']} {s['indication']} {s['kind']}, state {r['state']}")
PY

# UPLOAD_BENCH_PERF=FILE: also record the server's profile (perf record -g) while wrk runs.
PERF_PID=
if [[ -n "${UPLOAD_BENCH_PERF:-}" ]]; then
  perf record -q ${UPLOAD_BENCH_PERF_RECORD:--F 499} --call-graph ${UPLOAD_BENCH_PERF_GRAPH:-fp} -p "$SERVER" -o "$UPLOAD_BENCH_PERF" -- sleep "$SECS" >/dev/null 2>&1 &
  PERF_PID=$!
elif [[ -n "${UPLOAD_BENCH_PERF_STAT:-}" ]]; then
  # UPLOAD_BENCH_PERF_STAT=FILE: the server's counters (CPU time, context switches) instead.
  perf stat -e ${UPLOAD_BENCH_PERF_EVENTS:-task-clock,context-switches,cpu-migrations,page-faults} -p "$SERVER" -o "$UPLOAD_BENCH_PERF_STAT" -- sleep "$SECS" >/dev/null 2>&1 &
  PERF_PID=$!
fi
log "wrk: $CONNS connections, ${SECS}s, $(stat -c %s "$WORK/wniosek.pdf") B signed PDF ($PDF_KIND), $DB"
wrk -t"$(( CONNS < 2 ? CONNS : 2 ))" -c"$CONNS" -d"${SECS}s" --timeout 30s --latency -s "$WORK/post.lua" \
  "http://127.0.0.1:$PORT/api/v1/submissions" | tee "$WORK/wrk.out"
[[ -n "$PERF_PID" ]] && wait "$PERF_PID"
RSS_KB="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")"
# The server's CPU time (user + system, clock ticks) over everything it did, warm-up included.
CPU_TICKS="$(awk '{print $14 + $15}' "/proc/$SERVER/stat")"
REGISTERED="$("$BIN" submissions --json --limit 1000000 | wc -l)"
python3 - "$WORK/wrk.out" "$RSS_KB" "$REGISTERED" "$CPU_TICKS" "$(getconf CLK_TCK)" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"uploads/s {rps:.1f}  p50 {ms('50%'):.1f} ms  p99 {ms('99%'):.1f} ms  "
      f"peak RSS {int(sys.argv[2]) / 1024:.0f} MB  registered {sys.argv[3]}  "
      f"non-2xx {non2xx.group(1) if non2xx else 0}  "
      f"server CPU {int(sys.argv[4]) / int(sys.argv[5]) * 1000 / max(int(sys.argv[3]), 1):.1f} ms per upload")
PY
