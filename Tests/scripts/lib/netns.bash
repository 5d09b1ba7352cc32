# A private LAN for network tests and benchmarks: a host bridge with a veth into a network
# namespace that runs busybox udhcpd (leases .100-.150 of its /24) and busybox httpd on port 80.
# Source this, then: netns_up NAME SUBNET DIR (bridge NAME, namespace NAME-ns, DIR served; SUBNET
# as 10.1.2 for 10.1.2.0/24, the namespace at .1); netns_down removes it all. NAME is at most
# 10 characters (interface names stop at 15). Returns non-zero when bridges or namespaces cannot
# be made here (no CAP_NET_ADMIN).
NETNS_PIDS=()
netns_up() {
    NETNS_BR=$1 NETNS=$1-ns
    local subnet=$2 dir=$3 vh=$1-h vn=$1-n
    ip link add "$NETNS_BR" type bridge 2>/dev/null || return 1
    ip netns add "$NETNS" 2>/dev/null || { ip link del "$NETNS_BR"; return 1; }
    ip link set "$NETNS_BR" up
    ip link add "$vh" type veth peer name "$vn"
    ip link set "$vh" master "$NETNS_BR" up
    ip link set "$vn" netns "$NETNS"
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" addr add "$subnet.1/24" dev "$vn"
    ip -n "$NETNS" link set "$vn" up
    printf 'start %s.100\nend %s.150\ninterface %s\nlease_file %s/udhcpd.leases\nopt router %s.1\nopt subnet 255.255.255.0\n' \
        "$subnet" "$subnet" "$vn" "$dir" "$subnet" >"$dir/udhcpd.conf"
    touch "$dir/udhcpd.leases"
    ip netns exec "$NETNS" busybox udhcpd -f "$dir/udhcpd.conf" >/dev/null 2>&1 & NETNS_PIDS+=($!)
    ip netns exec "$NETNS" busybox httpd -f -p 80 -h "$dir" & NETNS_PIDS+=($!)
}
netns_down() {
    [ -n "${NETNS:-}" ] || return 0
    for pid in "${NETNS_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    ip netns pids "$NETNS" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$NETNS" 2>/dev/null
    ip link del "$NETNS_BR-h" 2>/dev/null
    ip link del "$NETNS_BR" 2>/dev/null
    NETNS=
}
