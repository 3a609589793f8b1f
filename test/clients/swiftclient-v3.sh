#!/bin/bash
# python-swiftclient with Keystone v3 auth (`swift --auth-version 3`, OS_* variables), as a
# user of an OpenStack cloud runs it: the token from the identity service, the storage URL from
# its catalog (AUTH_<project_id>), the proxy validating the token itself (keystoneauth).
# Endpoint: OS_CLIENT_CONFIG_FILE with clouds OS_ADMIN_CLOUD (swiftlet-admin) and OS_DEMO_CLOUD
# (swiftlet-demo), as `swiftlet aio` writes them. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
: "${OS_CLIENT_CONFIG_FILE:?set OS_CLIENT_CONFIG_FILE to a clouds.yaml}"
ADMIN=${OS_ADMIN_CLOUD:-swiftlet-admin}
DEMO=${OS_DEMO_CLOUD:-swiftlet-demo}
# The cloud's settings as OS_* variables (what `openrc` gives a user).
cloud_env() {
  python3 - "$OS_CLIENT_CONFIG_FILE" "$1" <<'PY'
import sys, yaml, shlex
c = yaml.safe_load(open(sys.argv[1]))['clouds'][sys.argv[2]]
a = c['auth']
for k, v in [('OS_AUTH_URL', a['auth_url']), ('OS_USERNAME', a['username']), ('OS_PASSWORD', a['password']),
             ('OS_PROJECT_NAME', a['project_name']), ('OS_USER_DOMAIN_NAME', a['user_domain_name']),
             ('OS_PROJECT_DOMAIN_NAME', a['project_domain_name']), ('OS_REGION_NAME', c.get('region_name', 'RegionOne'))]:
    print('export %s=%s' % (k, shlex.quote(v)))
PY
}
DEMO_ENV=$(cloud_env "$DEMO") || { echo "no cloud $DEMO in $OS_CLIENT_CONFIG_FILE"; echo "0 passed, 1 failed"; exit 1; }
ADMIN_ENV=$(cloud_env "$ADMIN")
v3() { ( eval "$DEMO_ENV"; swift --auth-version 3 "$@" ); }
v3admin() { ( eval "$ADMIN_ENV"; swift --auth-version 3 "$@" ); }
export DEMO_ENV ADMIN_ENV
export -f v3 v3admin
C="v3-$$"
cd "$WORK"
head -c 300000 /dev/urandom > blob.bin
mkdir -p out

check "auth: a token and the project's storage URL" bash -c "v3 auth | grep -Eq 'OS_STORAGE_URL=http://[^ ]*/v1/AUTH_[0-9a-f]{32}'"
check "stat: the project's account" bash -c "v3 stat | grep -Eq 'Account: AUTH_[0-9a-f]{32}'"
check "upload (the account made on its first write)" v3 upload "$C" blob.bin
check "list: the container" bash -c "v3 list | grep -qx $C"
check "list the container: the object" bash -c "v3 list $C | grep -qx blob.bin"
check "download: the same bytes" bash -c "v3 download $C blob.bin -o out/blob.bin && cmp -s blob.bin out/blob.bin"
check "stat the object: its size" bash -c "v3 stat $C blob.bin | grep -q 'Content Length: 300000'"
check "post: container read ACL for the admin project's admin (project:user names)" v3 post -r "admin:admin" "$C"
check "the admin user reads it through the ACL" bash -c "url=\$(v3 auth | sed -n 's/^export OS_STORAGE_URL=//p'); v3admin --os-storage-url \"\$url\" download $C blob.bin -o out/acl.bin && cmp -s blob.bin out/acl.bin"
check "another project's token on this account: 403" bash -c "url=\$(v3 auth | sed -n 's/^export OS_STORAGE_URL=//p'); out=\$(v3admin --os-storage-url \"\$url\" upload $C blob.bin 2>&1); ! [ \$? -eq 0 ] && grep -q '403' <<<\"\$out\""
check "a bad password: refused by the identity service" bash -c "out=\$( ( eval \"\$DEMO_ENV\"; swift --auth-version 3 --os-password wrong stat ) 2>&1 ); grep -q '^Unauthorized' <<<\"\$out\""
check "delete: object and container" bash -c "v3 delete $C && ! v3 list | grep -qx $C"
finish
