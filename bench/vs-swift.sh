#!/bin/bash
# bench/vs-swift.sh SAIO_ROOT [ROUNDS]
#
# Side by side on this machine: OpenStack Swift (the SAIO of ../shared/anchors/swift-saio, set
# up in SAIO_ROOT) and this cluster (`swiftlet aio`), one after the other, ROUNDS times (2),
# each driven by the same neutral wrk/curl scripts of ../shared/anchors/wrk-bench:
#   small-objects.sh EP 15 32 4096   4 KiB PUT then GET, 32 connections, 15 s each
#   large-objects.sh EP 64 8 4       8 x 64 MiB PUT then GET, 4 at a time (twice)
# Neither runs background daemons (Swift: start.sh --no-daemons; ours: --no-daemons), so the
# numbers are the request path alone. Only one cluster runs at a time. After each cluster's
# runs it prints the resident memory (now and peak) and the CPU seconds of every storage node
# (Swift: its three servers) or storage process (ours: all four nodes on two cores) and of the
# proxy.
#
# Env: STORAGE_PROCESSES (the aio's default: one per two cores; 4 runs each node in its own
# process, as Swift's SAIO and a real deployment do, so each line is one node's memory),
# ANCHORS (../shared/anchors), SWIFT_EP (127.0.0.1:8080), PORT (18080),
# STORAGE_PORT_BASE (16000), DATA (/tmp/swiftlet-vs-swift-<time>; one fresh cluster per
# round, DATA-1, DATA-2, ..., left in place until the last round ends: deleting on this machine's
# ext4 slows later fsyncs; then removed, as three rounds hold ~10 GB; KEEP_DATA=1 keeps them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SAIO_ROOT=${1:?usage: bench/vs-swift.sh SAIO_ROOT [ROUNDS]}
ROUNDS=${2:-2}
ANCHORS=${ANCHORS:-$(cd "$REPO/../shared/anchors" 2>/dev/null && pwd || echo /work/shared/anchors)}
SWIFT_EP=${SWIFT_EP:-127.0.0.1:8080}
PORT=${PORT:-18080}
BASE=${STORAGE_PORT_BASE:-16000}
DATA=${DATA:-/tmp/swiftlet-vs-swift-$(date +%s)}
NODE="$REPO/node_modules/.bin/node"
# shellcheck source=bench/aio-start.sh
. "$HERE/aio-start.sh"

# large-objects.sh downloads into /dev/null. On this machine it was once a regular file (some
# tool had renamed a file over it): every download then went into devtmpfs, and curl's own CPU
# held large GETs of both clusters down (ours 460-550 MB/s, 650-860 with the real device).
if [ ! -c /dev/null ]; then
  echo "/dev/null is a $(stat -c %F /dev/null), not the null device; as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2
  exit 2
fi

for tool in wrk curl; do
  command -v "$tool" > /dev/null || { echo "$tool is not installed (Debian: apt-get install $tool)" >&2; exit 2; }
done

# A run that fails half-way (set -e) must not leave the SAIO running: the next run would refuse
# to start it, and its processes would load every later measurement.
saio_running=0 aio_pid=
trap '[ "$saio_running" = 1 ] && "$ANCHORS/swift-saio/stop.sh" "$SAIO_ROOT" > /dev/null; [ -n "$aio_pid" ] && kill -TERM "$aio_pid"' EXIT

# The given processes and their children (a server's workers).
with_children() {
  ps -eo pid=,ppid= | awk -v pids=" $* " 'index(pids, " " $1 " ") || index(pids, " " $2 " ") {print $1}'
}

# Sum of RSS and peak RSS (MB) of the given processes and their children.
group_memory() {
  local rss=0 hwm=0 pid
  for pid in $(with_children "$@"); do
    rss=$((rss + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
    hwm=$((hwm + $(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "rss=$((rss / 1024))MB peak=$((hwm / 1024))MB"
}

# user+system CPU seconds of the given processes and their children.
group_cpu() {
  local ticks=0 pid
  for pid in $(with_children "$@"); do
    ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}'
}

# The large run goes twice: the first after start pays for new connections (TCP windows that
# have yet to grow) and for growing the processes' memory; the second shows the warm state.
run_load() {  # name endpoint
  "$ANCHORS/wrk-bench/small-objects.sh" "$2" 15 32 4096 | sed "s/^/$1 /"
  "$ANCHORS/wrk-bench/large-objects.sh" "$2" 64 8 4 | sed "s/^/$1 first /"
  "$ANCHORS/wrk-bench/large-objects.sh" "$2" 64 8 4 | sed "s/^/$1 again /"
}

swift_round() {
  saio_running=1
  "$ANCHORS/swift-saio/start.sh" "$SAIO_ROOT" --no-daemons > /dev/null
  local n proxy storage=() before=()
  proxy=$(awk '$1 == "proxy-server" {print $2}' "$SAIO_ROOT/saio.pids")
  for n in 1 2 3 4; do
    storage[n]=$(awk -v n="$n" '$1 ~ "^(object|container|account)-server-" n "$" {print $2}' "$SAIO_ROOT/saio.pids" | tr '\n' ' ')
    before[n]=$(group_cpu ${storage[n]})
  done
  before[0]=$(group_cpu "$proxy")
  run_load swift "$SWIFT_EP"
  for n in 1 2 3 4; do
    echo "swift node$n memory $(group_memory ${storage[n]}) cpu_s=$(awk -v a="${before[n]}" -v b="$(group_cpu ${storage[n]})" 'BEGIN {print b - a}')"
  done
  echo "swift proxy cpu_s=$(awk -v a="${before[0]}" -v b="$(group_cpu "$proxy")" 'BEGIN {print b - a}')"
  "$ANCHORS/swift-saio/stop.sh" "$SAIO_ROOT" > /dev/null
  saio_running=0
}

swiftlet_round() {  # round
  local data="$DATA-$1" name pid
  start_aio "$data" --port "$PORT" --storage-port-base "$BASE" ${STORAGE_PROCESSES:+--storage-processes "$STORAGE_PROCESSES"}
  local aio=$aio_pid
  # storage1.. (each running some of the four nodes, as the log's "storageN: nodeA nodeB" says) and proxy
  local names=() before=()
  for pid in "$data"/run/storage*.pid "$data/run/proxy.pid"; do names+=("$(basename "$pid" .pid)"); done
  for name in "${names[@]}"; do before+=("$(group_cpu "$(cat "$data/run/$name.pid")")"); done
  run_load swiftlet "127.0.0.1:$PORT"
  local i=0 cpu
  for name in "${names[@]}"; do
    pid=$(cat "$data/run/$name.pid")
    cpu=$(awk -v a="${before[i]}" -v b="$(group_cpu "$pid")" 'BEGIN {print b - a}')
    if [ "$name" = proxy ]; then
      echo "swiftlet proxy cpu_s=$cpu"
    else
      echo "swiftlet $name ($(awk -v n="$name:" '$1 == n {$1 = ""; print substr($0, 2)}' "$data.log")) memory $(group_memory "$pid") cpu_s=$cpu"
    fi
    i=$((i + 1))
  done
  kill -TERM "$aio"
  wait "$aio" || true
  aio_pid=
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs; swift $(/usr/bin/python3 -c 'import swift; print(swift.__version__)' 2>/dev/null || echo '?'); swiftlet $(git -C "$REPO" rev-parse --short HEAD)"
for round in $(seq 1 "$ROUNDS"); do
  echo "# round $round"
  swift_round
  swiftlet_round "$round"
done
[ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$DATA"-*
