#!/usr/bin/env bash
# npm run functests: Swift 2.30.1's own functional suite (test/functional, 802 tests) against a
# fresh all-in-one cluster, every middleware on, as `npm start` runs it. Fails when fewer tests
# pass than test/functests/ratchet.json keeps, or when any test fails or errors.
# `--keystone` (npm run functests:keystone): the same suite with Keystone v3 auth
# (`auth_version = 3`), its tokens from the aio's identity service and checked by the proxy's
# keystoneauth; the users of test/sample.conf's v3 layout are made first as the identity's
# admin (test/functests/keystone-users.py); ratchet test/functests/ratchet-keystone.json.
# `--ratchet FILE`: another ratchet; when it has `files`, only those run (npm run conformance
# runs the files that exercise keystoneauth, test/functests/ratchet-keystone-auth.json).
# The Swift source comes from Debian's source package (test/functests/get-source.sh; SWIFT_SRC,
# default ~/swift-src, is reused when it holds test/functional); the runner is
# ../shared/conformance/swift-functests when present, else the copy in test/functests/ (always
# the copy with --keystone: only it writes a v3 test.conf).
# Ports: FUNCTESTS_PORT (18090), FUNCTESTS_IDENTITY_PORT (18510), FUNCTESTS_STORAGE_PORT_BASE
# (26100), FUNCTESTS_IMAGE_PORT (9292), FUNCTESTS_NETWORK_PORT (9696), FUNCTESTS_COMPUTE_PORT
# (8774), FUNCTESTS_VOLUME_PORT (8776); with --keystone 18091, 18511, 26200, 18612, 18697,
# 18784, 18786, so both runs and `npm run conformance` can share a machine.
# FUNCTESTS_OUT keeps each file's log and JUnit XML (default: a temp dir, printed).
set -u
cd "$(dirname "$0")/.."
KEYSTONE=
RATCHET=
while [ $# -gt 0 ]; do
  case $1 in
    --keystone) KEYSTONE=1; shift ;;
    --ratchet) RATCHET=${2:?--ratchet FILE}; shift 2 ;;
    *) echo "usage: $0 [--keystone] [--ratchet FILE]"; exit 2 ;;
  esac
done
if [ -n "$KEYSTONE" ]; then
  PORT=${FUNCTESTS_PORT:-18091}; IDENTITY_PORT=${FUNCTESTS_IDENTITY_PORT:-18511}; BASE=${FUNCTESTS_STORAGE_PORT_BASE:-26200}
  IMAGE_PORT=${FUNCTESTS_IMAGE_PORT:-18612}; NETWORK_PORT=${FUNCTESTS_NETWORK_PORT:-18697}
  COMPUTE_PORT=${FUNCTESTS_COMPUTE_PORT:-18784}; VOLUME_PORT=${FUNCTESTS_VOLUME_PORT:-18786}
  RATCHET=${RATCHET:-test/functests/ratchet-keystone.json}
else
  PORT=${FUNCTESTS_PORT:-18090}; IDENTITY_PORT=${FUNCTESTS_IDENTITY_PORT:-18510}; BASE=${FUNCTESTS_STORAGE_PORT_BASE:-26100}
  IMAGE_PORT=${FUNCTESTS_IMAGE_PORT:-9292}; NETWORK_PORT=${FUNCTESTS_NETWORK_PORT:-9696}
  COMPUTE_PORT=${FUNCTESTS_COMPUTE_PORT:-8774}; VOLUME_PORT=${FUNCTESTS_VOLUME_PORT:-8776}
  RATCHET=${RATCHET:-test/functests/ratchet.json}
fi
ratchet() { node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r[process.argv[2]] ?? "")' "$RATCHET" "$1"; }
want=$(ratchet passed)
FILES=$(ratchet files)
[ -n "$want" ] || { echo "no ratchet in $RATCHET"; exit 1; }
SWIFT_SRC=${SWIFT_SRC:-$HOME/swift-src}
SUITE=../shared/conformance/swift-functests
[ -z "$KEYSTONE" ] && [ -x "$SUITE/run.sh" ] || SUITE=test/functests
"$SUITE/get-source.sh" "$SWIFT_SRC" || { echo "no Swift source in $SWIFT_SRC"; exit 1; }
DATA=$(mktemp -d -t swiftlet-functests.XXXXXX)
OUT=${FUNCTESTS_OUT:-$DATA/results}
node cli/swiftlet.ts aio --data "$DATA/cluster" --port "$PORT" --identity-port "$IDENTITY_PORT" --image-port "$IMAGE_PORT" --network-port "$NETWORK_PORT" --compute-port "$COMPUTE_PORT" --volume-port "$VOLUME_PORT" --storage-port-base "$BASE" > "$DATA/aio.out" 2>&1 &
AIO=$!
cleanup() { kill -TERM "$AIO" 2>/dev/null; wait "$AIO" 2>/dev/null; [ -n "${FUNCTESTS_OUT:-}" ] || rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 6000); do
  grep -q '^ready:' "$DATA/aio.out" && break
  kill -0 "$AIO" 2>/dev/null || { cat "$DATA/aio.out"; echo "the cluster did not start"; exit 1; }
  sleep 0.1
done
grep -q '^ready:' "$DATA/aio.out" || { cat "$DATA/aio.out"; echo "the cluster was not ready in 600 s"; exit 1; }
RUN_ENV=()
if [ -n "$KEYSTONE" ]; then
  # The suite's Keystone users (test/sample.conf, test_access_control.py's table): tester6, the
  # reseller admin, is in project `test`, as that table has it.
  /usr/bin/python3 test/functests/keystone-users.py "$DATA/cluster/etc/clouds.yaml" swiftlet-admin domain4 || { echo "the suite's Keystone users could not be made"; exit 1; }
  RUN_ENV=(SWIFT_AUTH_VERSION=3 SWIFT_AUTH_PORT="$IDENTITY_PORT" SWIFT_DOMAIN4=domain4 SWIFT_ACCOUNT6=test SWIFT_SUITE_FIXES=1)
fi
# The aio proxy's storage_domain is localhost, so the domain_remap tests run too.
# One line per file as each ends, then the table; the last line is "N passed, M failed".
[ -n "$FILES" ] && RUN_ENV+=(FUNCTEST_FILES="$FILES")
env "${RUN_ENV[@]}" SWIFT_PORT="$PORT" SWIFT_STORAGE_DOMAIN=localhost FUNCTEST_OUT="$OUT" "$SUITE/run.sh" "$SWIFT_SRC" 2>&1 | tee "$DATA/functests.out"
line=$(tail -1 "$DATA/functests.out")
passed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
failed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -n "$passed" ] || { echo "the suite gave no result line"; exit 1; }
[ -n "${FUNCTESTS_OUT:-}" ] && echo "logs and JUnit XML per file in $OUT"
if [ "$failed" -gt 0 ]; then echo "functests: $failed failed (logs: FUNCTESTS_OUT=DIR npm run functests${KEYSTONE:+:keystone})"; exit 1; fi
if [ "$passed" -lt "$want" ]; then echo "functests: $passed passed, fewer than the $want of $RATCHET"; exit 1; fi
[ "$passed" -gt "$want" ] && echo "functests: $passed passed, more than the $want of $RATCHET: raise it"
echo "functests: $passed passed (ratchet $want), 0 failed"
