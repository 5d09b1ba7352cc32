#!/usr/bin/env bash
# The network card end to end, in ONE boot of the Linux test guest (scripts/make-linux-media,
# scenario Tests/guests/linux/net.sh) started as a VM process in Emulate:
#   NAT: DHCP gives 10.0.2.15, the guest fetches a page from an HTTP server on the host's
#        loopback through 10.0.2.2, and a configured forward lets the host fetch the guest's page;
#   Bridge: `vmtui set NAME network=bridge:BR` switches the running VM onto a bridge this script
#        creates, with a veth into a network namespace running busybox udhcpd and httpd; the
#        guest renews its lease and fetches the namespace's page, the namespace fetches the guest's;
#   NAT again: switched back, the guest renews and fetches from the host once more.
# Everything (bridge, namespace, veth, ports, VMTUI_HOME, run directory) is this run's own and
# removed on exit. SKIP (77) without /dev/net/tun or the right to make bridges and namespaces.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VMTUI=${VMTUI:-$ROOT/.build/release/vmtui}
TEST_NAME=net-guest
[ -x "$VMTUI" ] || { echo "FAIL $TEST_NAME: $VMTUI is missing (swift build -c release)"; exit 1; }
[ -c /dev/net/tun ] || { echo "SKIP $TEST_NAME: /dev/net/tun is missing (modprobe tun)"; exit 77; }
command -v busybox >/dev/null || { echo "SKIP $TEST_NAME: busybox is missing (apt-get install busybox)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP $TEST_NAME: python3 is missing (the host's HTTP server)"; exit 77; }
media=$("$ROOT/scripts/make-linux-media") || { echo "FAIL $TEST_NAME: scripts/make-linux-media could not build the guest"; exit 1; }

source "$ROOT/Tests/scripts/lib/netns.bash"
id=$$
BR=vmtb$((id % 100000)) VM=net$id
subnet=10.$((id % 200 + 20)).$(((id / 200) % 250)) # the namespace's /24
export VMTUI_HOME=$(mktemp -d) XDG_RUNTIME_DIR=$(mktemp -d)
pids=()
cleanup() {
    "$VMTUI" stop "$VM" --force >/dev/null 2>&1
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    netns_down
    rm -rf "$VMTUI_HOME" "$XDG_RUNTIME_DIR"
}
trap cleanup EXIT
fail() { echo "FAIL $TEST_NAME: $*"; echo "--- screen:"; "$VMTUI" screen "$VM" 2>&1 | sed 's/ *$//' | grep -v '^$'; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -p "$VMTUI_HOME/ns" "$VMTUI_HOME/host"
echo vmtui-namespace-page >"$VMTUI_HOME/ns/ns.html"
echo vmtui-host-page >"$VMTUI_HOME/host/host.html"
netns_up "$BR" "$subnet" "$VMTUI_HOME/ns" \
    || { echo "SKIP $TEST_NAME: cannot create a bridge and a network namespace (needs root with CAP_NET_ADMIN)"; exit 77; }
NS=$NETNS
host_port=$(free_port) forward_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$VMTUI_HOME/host" "$host_port" >/dev/null 2>&1 & pids+=($!)

"$VMTUI" create "$VM" --os linux --memory 256M --iso "$media/linux.iso" --disk none --network nat >/dev/null || fail "create"
"$VMTUI" set "$VM" "forwards=tcp:$forward_port:80" >/dev/null || fail "set forwards"
start=$(date +%s)
"$VMTUI" start "$VM" >/dev/null || fail "start"
boot_timeout=${LINUX_BOOT_TIMEOUT:-900} # ~3-4 min on an idle host; far longer when other VMs share the CPUs
"$VMTUI" wait "$VM" "linux# " --timeout "$boot_timeout" >/dev/null || fail "no shell prompt within $boot_timeout s"
echo "ok $TEST_NAME: booted in $(( $(date +%s) - start )) s"
"$VMTUI" type "$VM" '/tests/net\n'
"$VMTUI" wait "$VM" "net ready for commands" --timeout 60 >/dev/null || fail "the scenario did not start"

# step N COMMAND: types COMMAND and waits for the guest's "net step N done".
step() {
    "$VMTUI" type "$VM" "$2\n"
    "$VMTUI" wait "$VM" "net step $1 done" --timeout 120 >/dev/null || fail "step $1 ($2) did not finish"
}
# switch NETWORK: the running VM's card moves; the guest sees the cable out for 2.5 s.
switch() {
    local said
    said=$("$VMTUI" set "$VM" "network=$1" 2>&1) || fail "set network=$1: $said"
    grep -q "network switched" <<<"$said" || fail "set network=$1 did not switch the running VM: $said"
    sleep 4
}
host_checks=0 host_failures=""
host_check() { # NAME COMMAND...
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then echo "ok $TEST_NAME: $name"; host_checks=$((host_checks + 1))
    else echo "not ok $TEST_NAME: $name"; host_failures="$host_failures; $name"; fi
}

step 1 "nat $host_port"
host_check "the host fetches the guest's page through the forward 127.0.0.1:$forward_port" \
    sh -c "timeout 30 busybox wget -q -O - http://127.0.0.1:$forward_port/index.html | grep -q 'vmtui-linux httpd page'"
switch "bridge:$BR"
host_check "a TAP of the VM's own is on $BR" sh -c "ls /sys/class/net/$BR/brif | grep -q '^vm-'"
step 2 "bridge $subnet.1"
guest=$("$VMTUI" screen "$VM" | sed -n 's/.*net step 2 done: \([0-9.]*\).*/\1/p' | tail -n 1)
host_check "the namespace fetches the guest's page from ${guest:-nowhere}" \
    ip netns exec "$NS" sh -c "timeout 30 busybox wget -q -O - http://${guest:-0.0.0.0}/index.html | grep -q 'vmtui-linux httpd page'"
switch nat
step 3 "nat $host_port"
"$VMTUI" type "$VM" 'end\n'
"$VMTUI" wait "$VM" "net summary:" --timeout 60 >/dev/null || fail "no summary from the guest"
summary=$("$VMTUI" screen "$VM" | sed -n 's/ *$//; s/.*\(net summary: .*\)/\1/p' | tail -n 1)
"$VMTUI" screen "$VM" | sed 's/ *$//' | grep -E '^(PASS|FAIL): ' | sed "s/^PASS: /ok $TEST_NAME: guest: /; s/^FAIL: /not ok $TEST_NAME: guest: /"
elapsed=$(( $(date +%s) - start ))
passed=$(sed -n 's/net summary: \([0-9]*\) passed.*/\1/p' <<<"$summary")
if [ -z "$passed" ] || ! grep -q ", 0 failed" <<<"$summary" || [ "$passed" -lt 7 ] || [ -n "$host_failures" ]; then
    fail "guest: ${summary:-no summary}; host: $host_checks passed${host_failures}"
fi
echo "ok $TEST_NAME: $summary; host: $host_checks passed; $elapsed s from power-on"
