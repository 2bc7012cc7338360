#!/usr/bin/env bash
# Make sure a PostgreSQL server accepts connections on 127.0.0.1:5432 for user "postgres"
# with trust authentication, as the store tests expect (VERTEBRO_TEST_POSTGRES_URL default).
#
# Idempotent and quick when the server is already up. Otherwise it starts the Debian cluster
# on port 5432, installing the "postgresql" package first if there is none, and makes
# 127.0.0.1 connections trusted in pg_hba.conf. Needs root (or sudo) for those steps.
# ENSURE_POSTGRES_PORT overrides the port (e.g. to try the script on a spare cluster).
set -euo pipefail

HOST=127.0.0.1
PORT=${ENSURE_POSTGRES_PORT:-5432}
WAIT_SECONDS=30

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT"; }

# Can user postgres log in over TCP without a password?
trusted() {
    command -v psql >/dev/null 2>&1 \
        && PGCONNECT_TIMEOUT=5 psql -w -X -q -h "$HOST" -p "$PORT" -U postgres -d postgres \
            -c 'SELECT 1' >/dev/null 2>&1
}

wait_ready() {
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        ready && return 0
        sleep 1
    done
    return 1
}

# "VERSION CLUSTER" of the Debian cluster configured for $PORT (running or not), or nothing.
find_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters -h 2>/dev/null | awk -v port="$PORT" '$3 == port { print $1, $2; exit }'
}

install_postgres() {
    log "PostgreSQL is not installed; installing the Debian package"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
}

# Put "host all all 127.0.0.1/32 trust" (and ::1) first in pg_hba.conf unless already there.
trust_loopback() {
    local version=$1 cluster=$2 hba changed=0 line
    hba="/etc/postgresql/$version/$cluster/pg_hba.conf"
    [ -f "$hba" ] || die "$hba not found"
    for line in "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust"; do
        if ! $SUDO grep -Eq "^[[:space:]]*${line// /[[:space:]]+}[[:space:]]*$" "$hba"; then
            $SUDO sed -i "1i $line" "$hba"
            changed=1
        fi
    done
    if [ "$changed" -eq 1 ]; then
        log "made 127.0.0.1 connections trusted in $hba"
    fi
    return $((1 - changed))
}

if ready && trusted; then
    exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ] \
    || [ -z "$(ls -A /etc/postgresql 2>/dev/null)" ]; then
    install_postgres
fi

read -r VERSION CLUSTER <<<"$(find_cluster)" || true
if [ -z "${VERSION:-}" ]; then
    if [ -n "$(pg_lsclusters -h 2>/dev/null)" ] && [ "$PORT" = 5432 ]; then
        pg_lsclusters >&2
        die "PostgreSQL clusters exist but none is configured for port $PORT"
    fi
    VERSION=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
    [ -n "$VERSION" ] || die "no PostgreSQL server found under /usr/lib/postgresql"
    CLUSTER=main
    if [ "$PORT" != 5432 ]; then CLUSTER="port$PORT"; fi
    log "creating cluster $VERSION/$CLUSTER on port $PORT"
    $SUDO pg_createcluster --port "$PORT" "$VERSION" "$CLUSTER" >/dev/null
fi

if trust_loopback "$VERSION" "$CLUSTER"; then
    RELOAD=1
else
    RELOAD=0
fi

if ! ready; then
    log "starting cluster $VERSION/$CLUSTER"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" start \
        || log "pg_ctlcluster start failed (it may already be starting)"
elif [ "$RELOAD" -eq 1 ]; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$CLUSTER" reload
fi

wait_ready || die "PostgreSQL is still not accepting connections on $HOST:$PORT after ${WAIT_SECONDS}s; see /var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"
trusted || die "PostgreSQL on $HOST:$PORT is up but user postgres cannot log in without a password; check /etc/postgresql/$VERSION/$CLUSTER/pg_hba.conf"
log "PostgreSQL $VERSION/$CLUSTER is accepting connections on $HOST:$PORT"
