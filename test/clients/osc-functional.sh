#!/bin/bash
# test/clients/osc-functional.sh DATA [TEST_PATH...]
#
# python-openstackclient's own functional suite (Debian's python3-openstackclient ships it as
# openstackclient.tests.functional; it needs python3-tempest and python3-testtools) against a
# running `swiftlet aio --data DATA`. The suite expects a devstack: clouds named devstack-admin,
# devstack (a member) and devstack-system-admin, the flavor m1.tiny, a public image named
# cirros-*-disk, a network `private` and an external network `public` joined by router1. This
# script writes DATA/etc/clouds-devstack.yaml from the aio's clouds.yaml, makes whichever of
# those is missing (as devstack's stack.sh does), then runs the given test paths (relative to the
# suite: `identity/v3`, `network/v2/test_port.py`, ...; default: the suite's v2/v3 parts a
# Swiftlet serves) with pytest. Last line: "N passed, M failed, K skipped".
set -u
DATA=${1:?usage: test/clients/osc-functional.sh DATA [TEST_PATH...]}
shift
PY=/usr/bin/python3
SUITE=$($PY -c 'import openstackclient.tests.functional as f, os; print(os.path.dirname(f.__file__))') || exit 2
$PY -c 'import tempest.lib, testtools' 2>/dev/null || { echo "needs python3-tempest and python3-testtools (apt-get install python3-tempest python3-testtools)" >&2; exit 2; }
[ -f "$DATA/etc/clouds.yaml" ] || { echo "no $DATA/etc/clouds.yaml: is a swiftlet aio running with --data $DATA?" >&2; exit 2; }

export OS_CLIENT_CONFIG_FILE=$DATA/etc/clouds-devstack.yaml
$PY - "$DATA/etc/clouds.yaml" "$OS_CLIENT_CONFIG_FILE" <<'EOF'
import copy, sys, yaml
clouds = yaml.safe_load(open(sys.argv[1]))['clouds']
admin, demo = clouds['swiftlet-admin'], clouds['swiftlet-demo']
system = copy.deepcopy(admin)
for k in ('project_name', 'project_domain_name'):
    system['auth'].pop(k, None)
system['auth']['system_scope'] = 'all'
clouds.update({'devstack-admin': admin, 'devstack': demo, 'devstack-system-admin': system})
yaml.safe_dump({'clouds': clouds}, open(sys.argv[2], 'w'))
EOF
# The same clouds where the CLI looks without OS_CLIENT_CONFIG_FILE (~/.config/openstack), for
# the tests that run it with every OS_ variable removed (test_help's no-auth case).
mkdir -p "$DATA/etc/xdg/openstack"
cp "$OS_CLIENT_CONFIG_FILE" "$DATA/etc/xdg/openstack/clouds.yaml"
export XDG_CONFIG_HOME=$DATA/etc/xdg

A() { openstack --os-cloud devstack-admin "$@"; }
has() { A "$1" show "${@:2}" > /dev/null 2>&1; }
has flavor m1.tiny || A flavor create --id 1 --ram 512 --disk 1 --vcpus 1 m1.tiny > /dev/null
has flavor cirros256 || A flavor create --id c1 --ram 256 --disk 1 --vcpus 1 cirros256 > /dev/null
if ! A image list -f value -c Name | grep -q '^cirros-.*-disk$'; then
  img=$(mktemp --suffix .qcow2)
  qemu-img create -q -f qcow2 "$img" 64M
  A image create --public --disk-format qcow2 --container-format bare --file "$img" cirros-0.6.2-x86_64-disk > /dev/null
  rm -f "$img"
fi
if ! has network private; then
  A network create private > /dev/null
  A subnet create --network private --subnet-range 10.0.0.0/26 private-subnet > /dev/null
fi
if ! has network public; then
  A network create --external public > /dev/null
  A subnet create --network public --subnet-range 172.24.4.0/24 public-subnet > /dev/null
fi
if ! has router router1; then
  A router create router1 > /dev/null
  A router set --external-gateway public router1
  A router add subnet router1 private-subnet
fi

[ $# -gt 0 ] || set -- common compute/v2 identity/v3 image/v2 network/v2 object/v1 volume/v3
# Each path in its own pytest, OSC_FUNCTIONAL_JOBS (3) at a time: the tests name what they make
# uniquely, so they can share the cluster; most of their time is the CLI's start and waits.
out=$(mktemp -d)
cd "$DATA" || exit 2
i=0
for p in "$@"; do
  i=$((i + 1))
  echo "$SUITE/$p $out/$i"
done | xargs -P "${OSC_FUNCTIONAL_JOBS:-3}" -L 1 sh -c '"$0" -m pytest -q -p no:cacheprovider -o addopts= -rfE "$1" > "$2.log" 2>&1' "$PY"
total() { cat "$out"/*.log | grep -E '^=* ?[0-9]+ (passed|failed|skipped|error)' | grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'; }
cat "$out"/*.log | grep -E '^(FAILED|ERROR) ' | sed "s#^\(FAILED\|ERROR\) .*/tests/functional/#\1 #"
echo "$(total passed) passed, $(( $(total failed) + $(total error) )) failed, $(total skipped) skipped"
rm -rf "$out"
