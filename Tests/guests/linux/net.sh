#!/bin/sh
# modules: e1000
# Networking across NAT, Bridge and NAT again in one boot, driven by Tests/scripts/net-guest.sh,
# which switches the running VM's network and then types one command per step on the console:
#   nat PORT    renew the lease (10.0.2.15 expected), fetch http://10.0.2.2:PORT/host.html
#   bridge IP   renew the lease (an address in IP's /24 expected), fetch http://IP/ns.html
#   end         print the summary and return to the shell
# The host side fetches this guest's httpd (/www, port 80) between steps. Each step ends with
# "net step N done: ADDRESS"; the last line is "net summary: P passed, F failed[: names]".
say() { echo "$*"; echo "$*" > /dev/ttyS0; }
passed=0 failed=0 failures=
check() {
  if eval "$2" >/dev/null 2>&1; then say "PASS: $1"; passed=$((passed + 1))
  else say "FAIL: $1"; failed=$((failed + 1)); failures="$failures; $1"; fi
}
address() { ip -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\).*/\1/p' | head -n 1; }
# busybox udhcpc does not renew on a carrier change: each step asks for a lease afresh.
lease() { udhcpc -i eth0 -s /etc/udhcpc.script -n -q -t 8 -T 2 >/dev/null 2>&1; address; }
# (busybox 1.35's wget -T crashes: timeout bounds it instead)
fetch() { rm -f /tmp/page; timeout 30 wget -q -O /tmp/page "$1" && grep -q "$2" /tmp/page; }

check "the e1000 driver has the card (eth0)" "[ -e /sys/class/net/eth0/device ] && grep -q 0x100e /sys/class/net/eth0/device/device"
ip link set eth0 up
httpd -p 80 -h /www
say "net ready for commands"
step=0
while read -r command argument; do
  case "$command" in
    nat)
      addr=$(lease)
      check "NAT: DHCP gives 10.0.2.15 (got ${addr:-none})" "[ '$addr' = 10.0.2.15 ]"
      check "NAT: the host's page through 10.0.2.2:$argument" "fetch http://10.0.2.2:$argument/host.html vmtui-host-page" ;;
    bridge)
      addr=$(lease)
      check "Bridge: DHCP gives an address in ${argument%.*}.0/24 (got ${addr:-none})" "[ '${addr%.*}' = '${argument%.*}' ]"
      check "Bridge: the namespace's page from $argument" "fetch http://$argument/ns.html vmtui-namespace-page" ;;
    end) break ;;
    *) continue ;;
  esac
  step=$((step + 1))
  say "net step $step done: $addr"
done
say "net summary: $passed passed, $failed failed$failures"
