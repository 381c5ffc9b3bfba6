#!/usr/bin/env bash
# The whole suite: system packages the tests need (Debian's Chromium for browser tests, a Korean
# font (fonts-nanum) so Korean pages render as Korean in screenshots, PostgreSQL for the store
# tests, a C compiler for the explainer's kernels), a throwaway PostgreSQL cluster, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)  # the explainer's C kernels (scripts/bytecode.sh)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
[ -f /usr/share/fonts/truetype/nanum/NanumGothic.ttf ] || need+=(fonts-nanum)
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${need[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing Debian packages (${need[*]}); run as root or: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
fi

scripts/bytecode.sh

# Throwaway PostgreSQL cluster on 127.0.0.1 for the store tests (stopped on exit).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGTMP=$(mktemp -d /tmp/cb-pg.XXXXXX)
PGPORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chown postgres "$PGTMP" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGTMP"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
    -o "-h 127.0.0.1 -p $PGPORT -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres cb_test
export CB_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/cb_test"
export CB_TEST_PG_BIN="$PGBIN" CB_TEST_PG_DATA="$PGTMP/data" CB_TEST_PG_PORT="$PGPORT"
# Browser, PostgreSQL and C-kernel tests must run here, never skip silently.
export CB_REQUIRE_BROWSER=1 CB_REQUIRE_POSTGRES=1 CB_REQUIRE_NATIVE=1

set +e
$PY -m pytest -q -W ignore::pytest.PytestRemovedIn10Warning -p no:cacheprovider "$@"
rc=$?
set -e
exit $rc
