#!/usr/bin/env bash
# npm run functests: Swift 2.30.1's own functional suite (test/functional, 802 tests) against a
# fresh all-in-one cluster, every middleware on, as `npm start` runs it. Fails when fewer tests
# pass than test/functests/ratchet.json keeps, or when any test fails or errors.
# The Swift source comes from Debian's source package (test/functests/get-source.sh; SWIFT_SRC,
# default ~/swift-src, is reused when it holds test/functional); the runner is
# ../shared/conformance/swift-functests when present, else the copy in test/functests/.
# Ports: FUNCTESTS_PORT (18090), FUNCTESTS_IDENTITY_PORT (18510), FUNCTESTS_STORAGE_PORT_BASE (26100).
# FUNCTESTS_OUT keeps each file's log and JUnit XML (default: a temp dir, printed).
set -u
cd "$(dirname "$0")/.."
PORT=${FUNCTESTS_PORT:-18090}
IDENTITY_PORT=${FUNCTESTS_IDENTITY_PORT:-18510}
BASE=${FUNCTESTS_STORAGE_PORT_BASE:-26100}
SWIFT_SRC=${SWIFT_SRC:-$HOME/swift-src}
SUITE=../shared/conformance/swift-functests
[ -x "$SUITE/run.sh" ] || SUITE=test/functests
"$SUITE/get-source.sh" "$SWIFT_SRC" || { echo "no Swift source in $SWIFT_SRC"; exit 1; }
DATA=$(mktemp -d -t swiftlet-functests.XXXXXX)
OUT=${FUNCTESTS_OUT:-$DATA/results}
node cli/swiftlet.ts aio --data "$DATA/cluster" --port "$PORT" --identity-port "$IDENTITY_PORT" --storage-port-base "$BASE" > "$DATA/aio.out" 2>&1 &
AIO=$!
cleanup() { kill -TERM "$AIO" 2>/dev/null; wait "$AIO" 2>/dev/null; [ -n "${FUNCTESTS_OUT:-}" ] || rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 6000); do
  grep -q '^ready:' "$DATA/aio.out" && break
  kill -0 "$AIO" 2>/dev/null || { cat "$DATA/aio.out"; echo "the cluster did not start"; exit 1; }
  sleep 0.1
done
grep -q '^ready:' "$DATA/aio.out" || { cat "$DATA/aio.out"; echo "the cluster was not ready in 600 s"; exit 1; }
# The aio proxy's storage_domain is localhost, so the domain_remap tests run too.
# One line per file as each ends, then the table; the last line is "N passed, M failed".
SWIFT_PORT="$PORT" SWIFT_STORAGE_DOMAIN=localhost FUNCTEST_OUT="$OUT" "$SUITE/run.sh" "$SWIFT_SRC" 2>&1 | tee "$DATA/functests.out"
line=$(tail -1 "$DATA/functests.out")
passed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
failed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
want=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("test/functests/ratchet.json", "utf8")).passed)')
[ -n "$passed" ] || { echo "the suite gave no result line"; exit 1; }
[ -n "${FUNCTESTS_OUT:-}" ] && echo "logs and JUnit XML per file in $OUT"
if [ "$failed" -gt 0 ]; then echo "functests: $failed failed (logs: FUNCTESTS_OUT=DIR npm run functests)"; exit 1; fi
if [ "$passed" -lt "$want" ]; then echo "functests: $passed passed, fewer than the $want of test/functests/ratchet.json"; exit 1; fi
[ "$passed" -gt "$want" ] && echo "functests: $passed passed, more than the $want of test/functests/ratchet.json: raise it"
echo "functests: $passed passed (ratchet $want), 0 failed"
