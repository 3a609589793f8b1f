# Sourced by the benchmark scripts (needs NODE and REPO set).
#
# start_aio DATA [AIO ARGS...]: starts `swiftlet aio --data DATA --no-daemons AIO ARGS` in a
# session of its own, its output in DATA.log, and sets aio_pid. Waits as long as aio itself
# does (300 s): a start slowed by the disk's writeback of an earlier cluster's data, or by
# anything else running, is not a failure of the benchmark. Exits 1 if it never got ready (the
# caller's EXIT trap stops it through aio_pid).
start_aio() {
  local data=$1
  shift
  setsid "$NODE" "$REPO/cli/swiftlet.ts" aio --data "$data" --no-daemons "$@" > "$data.log" 2>&1 &
  aio_pid=$!
  for _ in $(seq 1 300); do grep -qE '^(ready|not ready after 300 s):' "$data.log" 2>/dev/null && break; sleep 1; done
  grep -q '^ready:' "$data.log" || { echo "swiftlet aio did not start; see $data.log" >&2; exit 1; }
}
