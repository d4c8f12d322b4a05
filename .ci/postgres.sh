#!/usr/bin/env bash
# PostgreSQL 15 for CI and local runs of the audit and store tests (test/audit/, test/store/).
# Idempotent: trusts local TCP connections on 127.0.0.1/::1 (test databases
# only — never do this on a shared server), starts the cluster unless it is up,
# and waits until it accepts connections. Works as root or with sudo.
# The tests connect to $KUBEMEND_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres)
# and skip, saying how to start PostgreSQL, when it is not reachable.
# Env: PG_VERSION (default 15), PG_CLUSTER (default main).
set -euo pipefail

ver="${PG_VERSION:-15}"
cluster="${PG_CLUSTER:-main}"
hba="/etc/postgresql/${ver}/${cluster}/pg_hba.conf"

sudo=()
if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi

if ! command -v pg_ctlcluster >/dev/null; then
  echo "postgres: pg_ctlcluster not found; install PostgreSQL ${ver} (apt-get install postgresql-${ver})" >&2
  exit 1
fi
if [[ ! -f "$hba" ]]; then
  echo "postgres: no cluster ${ver}/${cluster} ($hba missing); create it with pg_createcluster ${ver} ${cluster}" >&2
  exit 1
fi

marker="# kubemend-ci: trust local TCP"
changed=0
if ! "${sudo[@]}" grep -qF "$marker" "$hba"; then
  # Rules are matched first to last, so the trust lines go on top.
  tmp="$(mktemp)"
  {
    echo "$marker"
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    "${sudo[@]}" cat "$hba"
  } >"$tmp"
  "${sudo[@]}" cp "$tmp" "$hba"
  rm -f "$tmp"
  changed=1
fi

status="$(pg_lsclusters --no-header | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {print $4}')"
if [[ "$status" == online* ]]; then
  if [[ "$changed" == 1 ]]; then "${sudo[@]}" pg_ctlcluster "$ver" "$cluster" reload; fi
else
  "${sudo[@]}" pg_ctlcluster "$ver" "$cluster" start
fi

port="$(pg_lsclusters --no-header | awk -v v="$ver" -v c="$cluster" '$1==v && $2==c {print $3}')"
for _ in $(seq 1 50); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "postgres: ${ver}/${cluster} ready on 127.0.0.1:${port} (trust auth; tests use postgres://postgres@127.0.0.1:${port}/postgres)"
    exit 0
  fi
  sleep 0.2
done
echo "postgres: ${ver}/${cluster} did not become ready; see /var/log/postgresql/postgresql-${ver}-${cluster}.log" >&2
exit 1
