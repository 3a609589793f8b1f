# Sourced before each of the deployment guide's blocks (test/docs/deployment.ts), which sets
# MACHINE_IP, MACHINE_ROOT and the HOST_IP and HOST_ROOT arrays first.

# scp FILES HOST:DIR: the HOST machine's DIR is under its own root. A config names the same
# paths on every real machine: here each machine has its own. A proxy.conf binds the target's
# address (a real proxy binds 0.0.0.0, which machines sharing one host cannot all do).
scp() {
  local dest="${*: -1}"
  local host="${dest%%:*}"
  local dir="${HOST_ROOT[$host]}${dest#*:}"
  local n=$(($# - 1))
  for f in "${@:1:$n}"; do
    cp "$f" "$dir/"
    case "$f" in *.conf) sed -i "s#$MACHINE_ROOT/#${HOST_ROOT[$host]}/#g" "$dir/$(basename "$f")" ;; esac
    if [ "$(basename "$f")" = proxy.conf ]; then sed -i "s/^bind_ip = $MACHINE_IP\$/bind_ip = ${HOST_IP[$host]}/" "$dir/proxy.conf"; fi
  done
}
