# Sourced by scripts/test.sh and scripts/bench.sh: a throw-away $WORK folder, `log`, and a cleanup
# on exit that stops exactly the processes this run started (their pids are in STARTED_PIDS;
# never by name) and removes $WORK.
WORK="$(mktemp -d /tmp/podawcza-run.XXXXXX)"
chmod 755 "$WORK"
STARTED_PIDS=()

log() { printf '\n== %s\n' "$*"; }

stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    local i
    # Newest first: a server before the wrapper that started it.
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[$i]}"; done
    rm -rf "$WORK"
    # A script may keep data elsewhere (a benchmark's store on another volume).
    [[ -n "${EXTRA_CLEANUP:-}" ]] && rm -rf "$EXTRA_CLEANUP"
    exit $status
}
trap cleanup EXIT INT TERM
