#!/bin/bash
# bench/large-get-cpu.sh [AIO ARGS...]
#
# Large GETs and what each process spends on them: a fresh `swiftlet aio --no-daemons`, four
# 64 MiB objects PUT once, then ROUNDS rounds of CONC parallel loops each GETting the four in
# turn (`curl -o /dev/null`). Per round: MB/s, and the CPU seconds per GiB served of the proxy
# and of the storage processes (user and system, from /proc/<pid>/stat), so a change to the GET
# path shows in CPU even when the two cores and the client hold the rate. AIO ARGS go to
# `swiftlet aio` (e.g. `--storage-processes 4`); set `local_file_reads = false` in a proxy config
# to compare relayed bodies (docs/performance.md, "Large GETs: the proxy reads local replicas").
#
# Env: ROUNDS (3), CONC (4), PORT (18280), STORAGE_PORT_BASE (16200), DATA
# (/tmp/swiftlet-large-get-<time>, removed at the end).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-4}
PORT=${PORT:-18280}
BASE=${STORAGE_PORT_BASE:-16200}
DATA=${DATA:-/tmp/swiftlet-large-get-$(date +%s)}
NODE="$REPO/node_modules/.bin/node"
# shellcheck source=bench/aio-start.sh
. "$HERE/aio-start.sh"
aio_pid=
trap '[ -n "$aio_pid" ] && kill -TERM "$aio_pid" 2> /dev/null && wait "$aio_pid" 2> /dev/null; rm -rf "$DATA" "$DATA.log" "$DATA.src"' EXIT
start_aio "$DATA" --port "$PORT" --storage-port-base "$BASE" "$@"

EP=127.0.0.1:$PORT
hdrs=$(curl -s -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://$EP/auth/v1.0")
TOKEN=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
URL=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}')
head -c $((64 * 1024 * 1024)) /dev/urandom > "$DATA.src"
curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" "$URL/c"
# (waits name their jobs: a bare `wait` would wait for the aio too)
puts=()
for i in 1 2 3 4; do curl -s -o /dev/null -f -X PUT -T "$DATA.src" -H "X-Auth-Token: $TOKEN" "$URL/c/o$i" & puts+=($!); done
wait "${puts[@]}"

# CPU ticks (user, system) summed over the proxy's and the storage processes' pid files.
ticks() {
  local sum_u=0 sum_s=0 f pid u s
  for f in "$@"; do
    pid=$(cat "$f")
    read -r u s < <(awk '{print $14, $15}' "/proc/$pid/stat")
    sum_u=$((sum_u + u)); sum_s=$((sum_s + s))
  done
  echo "$sum_u $sum_s"
}
echo "# $(date -u +%FT%TZ) swiftlet $(git -C "$REPO" rev-parse --short HEAD) aio $* ROUNDS=$ROUNDS CONC=$CONC"
for r in $(seq 1 "$ROUNDS"); do
  read -r pu ps < <(ticks "$DATA"/run/proxy*.pid)
  read -r su ss < <(ticks "$DATA"/run/storage*.pid)
  t0=$(date +%s.%N)
  loops=()
  for _ in $(seq 1 "$CONC"); do
    (for i in 1 2 3 4; do curl -s -o /dev/null -f -H "X-Auth-Token: $TOKEN" "$URL/c/o$i"; done) &
    loops+=($!)
  done
  wait "${loops[@]}"
  t1=$(date +%s.%N)
  read -r pu2 ps2 < <(ticks "$DATA"/run/proxy*.pid)
  read -r su2 ss2 < <(ticks "$DATA"/run/storage*.pid)
  awk -v n="$CONC" -v t0="$t0" -v t1="$t1" -v pu=$((pu2 - pu)) -v ps=$((ps2 - ps)) -v su=$((su2 - su)) -v ss=$((ss2 - ss)) 'BEGIN {
    gib = n * 4 * 64 / 1024
    printf "round GET MB/s=%.1f proxy_cpu_s_per_gib user=%.2f sys=%.2f storage_cpu_s_per_gib user=%.2f sys=%.2f\n", n * 4 * 64 * 1.048576 / (t1 - t0), pu / 100 / gib, ps / 100 / gib, su / 100 / gib, ss / 100 / gib
  }'
done
