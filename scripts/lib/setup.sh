# Shared by scripts/test.sh and scripts/bench.sh (sourced): installs what is missing and starts a
# private PostgreSQL on a free loopback port in $WORK/pg. Adds the postmaster's own pid to
# STARTED_PIDS (see common.sh) and sets PODAWCZA_TEST_PG_URL.

need_apt=()
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
[[ -n "$(pg_bin)" && -x "$(pg_bin)/initdb" ]] || need_apt+=(postgresql)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v python3 >/dev/null || need_apt+=(python3)
command -v xmlsec1 >/dev/null || need_apt+=(xmlsec1)   # peer verifier of the differential tests
command -v chromium >/dev/null || need_apt+=(chromium)   # browser tests of the inbox
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)   # WebDriver for them
python3 -c 'import ensurepip' 2>/dev/null || need_apt+=(python3-venv)   # the venv of pyHanko below
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# pyHanko, the peer verifier of the PDF differential test (tests/it/pdf_pyhanko.rs) and of the pdf
# benchmark: a pinned version in a venv under the user's cache, installed only when it is not there.
PYHANKO_VERSION=0.38.0
PYHANKO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/podawcza/pyhanko-$PYHANKO_VERSION"
if ! "$PYHANKO_VENV/bin/python" -c 'import pyhanko' 2>/dev/null; then
    log "installing pyhanko $PYHANKO_VERSION into $PYHANKO_VENV"
    python3 -m venv "$PYHANKO_VENV"
    "$PYHANKO_VENV/bin/pip" install -q "pyhanko==$PYHANKO_VERSION"
fi
export PODAWCZA_TEST_PYHANKO_PYTHON="$PYHANKO_VENV/bin/python"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

log "starting PostgreSQL"
PGBIN="$(pg_bin)"
PGDATA="$WORK/pg"
PGPORT="$(free_port)"
mkdir -p "$PGDATA"
RUNAS=()
if [[ "$(id -u)" == 0 ]]; then
    chown postgres:postgres "$PGDATA" 2>/dev/null || { id postgres >/dev/null 2>&1 || useradd -r postgres; chown postgres "$PGDATA"; }
    RUNAS=(runuser -u postgres --)
fi
"${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUNAS[@]}" "$PGBIN/postgres" -D "$PGDATA" -p "$PGPORT" -k "$PGDATA" -c listen_addresses=127.0.0.1 \
    -c fsync=off -c max_connections=300 -c shared_buffers=256MB >"$WORK/pg.log" 2>&1 &
STARTER=$!
STARTED_PIDS+=("$STARTER")
for _ in $(seq 1 200); do
    "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -q && break
    kill -0 "$STARTER" 2>/dev/null || { cat "$WORK/pg.log"; exit 1; }
    sleep 0.1
done
# The postmaster's own pid (runuser may stand between us and it): stop exactly that process.
PG_PID="$(head -1 "$PGDATA/postmaster.pid")"
STARTED_PIDS+=("$PG_PID")
export PODAWCZA_TEST_PG_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
echo "PostgreSQL pid $PG_PID on port $PGPORT"

