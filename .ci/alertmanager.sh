#!/usr/bin/env bash
# Alertmanager for CI and local runs of test/server/alertmanager.test.ts.
#   .ci/alertmanager.sh install   install Debian's prometheus-alertmanager unless one is on PATH
#   .ci/alertmanager.sh check     start it on a scratch config, wait until ready, stop it
#   .ci/alertmanager.sh start URL run it in the foreground, sending every alert to URL
#                                 (e.g. http://127.0.0.1:8080/webhooks/alertmanager)
#   .ci/alertmanager.sh           install, then check
# The test starts its own Alertmanager; it finds the binary on PATH or in
# $ALERTMANAGER_BIN and skips (saying how to install it) when there is none.
# Env: ALERTMANAGER_BIN, AM_PORT (default 19093), AM_BEARER_TOKEN (start only).
set -euo pipefail

find_bin() {
  if [[ -n "${ALERTMANAGER_BIN:-}" ]]; then echo "$ALERTMANAGER_BIN"; return; fi
  command -v prometheus-alertmanager || command -v alertmanager || true
}

install() {
  local bin
  bin="$(find_bin)"
  if [[ -n "$bin" ]]; then
    echo "alertmanager: using $bin ($("$bin" --version 2>&1 | head -1))"
    return
  fi
  if ! command -v apt-get >/dev/null; then
    echo "alertmanager: no apt-get here; install Alertmanager from https://prometheus.io/download/ and set ALERTMANAGER_BIN" >&2
    exit 1
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
  # The package enables a system service; CI starts its own instances instead.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus-alertmanager 2>/dev/null; then
    "${sudo[@]}" systemctl stop prometheus-alertmanager || true
  fi
  bin="$(find_bin)"
  echo "alertmanager: installed $bin ($("$bin" --version 2>&1 | head -1))"
}

# write_config DIR URL: one route, one webhook receiver, fast grouping.
write_config() {
  local auth=""
  if [[ -n "${AM_BEARER_TOKEN:-}" ]]; then
    auth=$'\n        http_config:\n          authorization:\n            credentials: '"$AM_BEARER_TOKEN"
  fi
  cat >"$1/alertmanager.yml" <<EOF
route:
  receiver: kubemend
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: kubemend
    webhook_configs:
      - url: $2
        send_resolved: true${auth}
EOF
}

am_args() {
  echo "--config.file=$1/alertmanager.yml" "--storage.path=$1/data" \
    "--web.listen-address=127.0.0.1:${AM_PORT:-19093}" "--cluster.listen-address="
}

# ready: does Alertmanager answer GET /-/ready with 200? (bash's /dev/tcp: no curl needed)
ready() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/${AM_PORT:-19093}" || exit 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    head -1 <&3 | grep -q ' 200 '
  ) 2>/dev/null
}

check() {
  local bin dir pid
  bin="$(find_bin)"
  [[ -n "$bin" ]] || { echo "alertmanager: not installed; run $0 install" >&2; exit 1; }
  dir="$(mktemp -d)"
  write_config "$dir" "http://127.0.0.1:9/webhooks/alertmanager"
  # shellcheck disable=SC2046 # am_args yields separate flags without spaces inside
  "$bin" $(am_args "$dir") --log.level=warn 2>"$dir/log" &
  pid=$!
  for _ in $(seq 1 100); do
    if ready; then
      kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
      echo "alertmanager: starts and answers /-/ready"
      return
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  echo "alertmanager: did not become ready; its log:" >&2
  cat "$dir/log" >&2
  rm -rf "$dir"
  exit 1
}

start() {
  local url="${1:?usage: $0 start URL (e.g. http://127.0.0.1:8080/webhooks/alertmanager)}"
  local bin dir
  bin="$(find_bin)"
  [[ -n "$bin" ]] || { echo "alertmanager: not installed; run $0 install" >&2; exit 1; }
  dir="$(mktemp -d)"
  write_config "$dir" "$url"
  echo "alertmanager: http://127.0.0.1:${AM_PORT:-19093} -> $url (state in $dir)" >&2
  # shellcheck disable=SC2046
  exec "$bin" $(am_args "$dir")
}

case "${1:-all}" in
  install) install ;;
  check) check ;;
  start) shift; start "$@" ;;
  all) install; check ;;
  *) echo "usage: $0 [install|check|start URL]" >&2; exit 2 ;;
esac
