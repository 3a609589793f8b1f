#!/bin/bash
# scripts/swift-functests-v3.sh CLOUDS_YAML IDENTITY_PORT OUT [test files...]
#
# Swift 2.30.1's functional tests with Keystone v3 auth (auth_version = 3) against a running
# `swiftlet aio`: the suite's keystone-only tests (test_access_control.py, the v3 cases of
# test_account.py and test_container.py) and everything else through keystoneauth. The shared
# runner (/work/shared/conformance/swift-functests/run.sh) writes a v1 test.conf only; this one
# writes test/sample.conf's v3 layout, after making its users with openstackclient as the
# aio's admin (CLOUDS_YAML, cloud swiftlet-admin):
#   test/tester (member), test2/tester2 (member), tester3 (reader on test), test4/tester4 in
#   domain test-domain (member), test5/tester5 (service: SERVICE_ service token),
#   test6/tester6 (ResellerAdmin).
# The proxy needs [keystoneauth] reseller_prefix = AUTH, SERVICE, operator_roles = admin,
# member, SERVICE_service_roles = service (the aio's). SWIFT_SRC (/root/swift-src),
# SWIFT_PYTHON (/usr/bin/python3: swift, swiftclient, keystoneclient, pytest, mock).
set -uo pipefail
CLOUDS=${1:?clouds.yaml}; IDENTITY_PORT=${2:?identity port}; OUT=${3:?output dir}; shift 3
SWIFT_SRC=${SWIFT_SRC:-/root/swift-src}
SWIFT_PYTHON=${SWIFT_PYTHON:-/usr/bin/python3}
FILES=${*:-test_access_control.py test_account.py test_container.py test_object.py tests.py}
mkdir -p "$OUT"

os() { OS_CLIENT_CONFIG_FILE=$CLOUDS openstack --os-cloud swiftlet-admin "$@"; }
for r in ResellerAdmin service; do os role show "$r" >/dev/null 2>&1 || os role create "$r" >/dev/null; done
os domain show test-domain >/dev/null 2>&1 || os domain create test-domain >/dev/null
for p in test test2 test5 test6; do os project show --domain default "$p" >/dev/null 2>&1 || os project create --domain default "$p" >/dev/null; done
os project show --domain test-domain test4 >/dev/null 2>&1 || os project create --domain test-domain test4 >/dev/null
user() { # DOMAIN NAME PASSWORD PROJECT ROLE
  os user show --domain "$1" "$2" >/dev/null 2>&1 || os user create --domain "$1" --password "$3" "$2" >/dev/null
  os role add --project "$4" --project-domain "$1" --user "$2" --user-domain "$1" "$5"
}
user default tester testing test member
user default tester2 testing2 test2 member
user default tester3 testing3 test reader
user test-domain tester4 testing4 test4 member
user default tester5 testing5 test5 service
user default tester6 testing6 test6 ResellerAdmin

cat > "$OUT/test.conf" <<CONF
[func_test]
auth_version = 3
auth_uri = http://127.0.0.1:$IDENTITY_PORT/v3/
account = test
username = tester
password = testing
domain = Default
account2 = test2
username2 = tester2
password2 = testing2
domain2 = Default
username3 = tester3
password3 = testing3
domain3 = Default
account4 = test4
username4 = tester4
password4 = testing4
domain4 = test-domain
account5 = test5
username5 = tester5
password5 = testing5
domain5 = Default
service_prefix = SERVICE
account6 = test6
username6 = tester6
password6 = testing6
domain6 = Default
collate = C
insecure = no
storage_domain =

[unit_test]
fake_syslog = False
CONF

SHIM=$(mktemp -d -t swift-functests-v3.XXXXXX)
trap 'rm -rf "$SHIM"' EXIT
ln -s "$SWIFT_SRC/test" "$SHIM/test"
# test_access_control.py imports `ksc` from keystoneclient.v3, which has no such name, so it
# always skips; its calls (ksc.Client(auth_url=, version=(3,), ...), then .user_id) are
# keystoneclient's generic client's, authenticated at once as older keystoneclients did.
cat > "$SHIM/sitecustomize.py" <<'PY'
try:
    import types
    import keystoneclient.v3 as _v3
    from keystoneclient import client as _client

    def _authenticated(**kwargs):
        c = _client.Client(**kwargs)
        c.authenticate()
        return c
    _v3.ksc = types.SimpleNamespace(Client=_authenticated)
except ImportError:
    pass
PY
export SWIFT_TEST_CONFIG_FILE="$OUT/test.conf" PYTHONPATH="$SHIM" PYTHONDONTWRITEBYTECODE=1
unset SWIFT_TEST_IN_PROCESS SWIFT_TEST_POLICY
for f in $FILES; do
  name=${f%.py}
  (cd "$SHIM" && timeout -k 30 5400 "$SWIFT_PYTHON" -m pytest -p no:cacheprovider -rfEs --junitxml="$OUT/$name.xml" -o junit_family=xunit1 ${PYTEST_ARGS:-} "test/functional/$f") > "$OUT/$name.log" 2>&1
  echo "$f: $(tail -n 1 "$OUT/$name.log")"
done
