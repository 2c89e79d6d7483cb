#!/bin/bash
# Record FRR 8.4.4's vtysh outputs for the FRR driver's tests (tests/unit/test_devices_frr.py);
# see README.md in this folder. Run as root from anywhere: bash tests/unit/recorded/frr/record.sh
#
# Three routers r1 r2 r3, each in its own unprivileged user+net+mount+pid+uts namespace, chrooted
# into an overlay of $NETROOT (a Debian 12 root file system with frr, its ids shifted to 700000000),
# joined by veth pairs made by root directly inside their namespaces:
#
#   r1 eth0 10.0.12.1/24 --- 10.0.12.2/24 eth0 r2      broadcast, r2 priority 10 (DR), r1 BDR
#   r2 eth1 10.0.23.2/24 --- 10.0.23.3/24 eth0 r3      point-to-point
#   r1 eth1 10.0.13.1/24 --- 10.0.13.3/24 eth1 r3      broadcast, r1 priority 0 (DROther), r3 DR
#
# OSPF area 0 everywhere (hello 1 s, dead 4 s), loopbacks 10.255.0.N/32, r3 originates a default
# route. r1 also has: lan0 (an empty bridge, two addresses, connected only, not in OSPF), spare0
# (another, with an address, shut down), a kernel route, static routes (two next hops; a blackhole;
# one to an interface; one recursive over OSPF; one whose next hop is unreachable, not listed).
#
# Nothing runs in the machine's own network namespace but the `ip link add` of the veth pairs
# (created straight into the routers' namespaces). Everything is removed at the end (trap).
set -eu

NETROOT=${NETROOT:-/tmp/netroot}
OUT=$(cd "$(dirname "$0")" && pwd)
ROUTERS="r1 r2 r3"
SHIFT=700000000
declare -A UPID PID

cleanup() {
    for r in $ROUTERS; do
        # the namespace's init (sleep) and unshare: killing them ends every process of the namespace
        [ -n "${PID[$r]:-}" ] && kill -9 "${PID[$r]}" 2>/dev/null || true
        [ -n "${UPID[$r]:-}" ] && kill -9 "${UPID[$r]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    for r in $ROUTERS; do rm -rf "/tmp/frr-$r"; done
}
trap cleanup EXIT

# on ROUTER COMMAND...: run COMMAND as the namespace's root, chrooted in the router's file system
on() {
    local r=$1; shift
    nsenter -t "${PID[$r]}" --user --net --mount --pid --uts -- \
        chroot "/tmp/frr-$r/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
vt() { local r=$1; shift; on "$r" vtysh "$@"; }

for r in $ROUTERS; do
    mkdir -p "/tmp/frr-$r/upper" "/tmp/frr-$r/work" "/tmp/frr-$r/root"
    chown "$SHIFT:$SHIFT" "/tmp/frr-$r/upper" "/tmp/frr-$r/work" "/tmp/frr-$r/root"
    unshare --user --map-users=$SHIFT,0,65536 --map-groups=$SHIFT,0,65536 --setuid 0 --setgid 0 \
        --net --mount --pid --uts --fork --kill-child -- sleep 900 &
    UPID[$r]=$!
    # the namespace's first process: unshare's child running sleep (unshare 2.38 also forks a
    # short-lived helper that writes the id maps)
    PID[$r]=""
    for _ in $(seq 50); do
        for c in $(pgrep -P "${UPID[$r]}" || true); do
            [ "$(cat "/proc/$c/comm" 2>/dev/null)" = sleep ] && PID[$r]=$c
        done
        [ -n "${PID[$r]}" ] && break
        sleep 0.1
    done
    nsenter -t "${PID[$r]}" --user --net --mount --pid --uts -- /bin/sh -ec "
        mount -t overlay overlay -o lowerdir=$NETROOT,upperdir=/tmp/frr-$r/upper,workdir=/tmp/frr-$r/work /tmp/frr-$r/root
        mount -t proc proc /tmp/frr-$r/root/proc
        mount -t tmpfs tmpfs /tmp/frr-$r/root/run
        mount -t tmpfs tmpfs /tmp/frr-$r/root/tmp
        # an overlay mounted in a user namespace is nodev: a tmpfs /dev with the host's harmless nodes
        mount -t tmpfs -o mode=755 tmpfs /tmp/frr-$r/root/dev
        for d in null zero full random urandom; do
            touch /tmp/frr-$r/root/dev/\$d; mount --bind /dev/\$d /tmp/frr-$r/root/dev/\$d
        done
        hostname $r"
done

# veth pairs, each end created inside its router's namespace (by pid)
ip link add eth0 netns "${PID[r1]}" type veth peer name eth0 netns "${PID[r2]}"
ip link add eth1 netns "${PID[r2]}" type veth peer name eth0 netns "${PID[r3]}"
ip link add eth1 netns "${PID[r1]}" type veth peer name eth1 netns "${PID[r3]}"
on r1 ip link add lan0 type bridge  # no dummy module here: an empty bridge (up, carrier)
on r1 ip link add spare0 type bridge

for r in $ROUTERS; do
    on "$r" sh -ec "
        ip link set lo up
        sed -i 's/^ospfd=no/ospfd=yes/' /etc/frr/daemons
        printf 'frr version 8.4.4\nfrr defaults traditional\nhostname $r\nservice integrated-vtysh-config\n!\n' > /etc/frr/frr.conf
        /usr/lib/frr/frrinit.sh start >/dev/null"
done
for l in eth0 eth1 lan0 spare0; do on r1 ip link set "$l" up; done
for r in r2 r3; do for l in eth0 eth1; do on "$r" ip link set "$l" up; done; done

# record NAME ROUTER COMMAND: vtysh -c COMMAND's stdout in NAME.txt (stderr must be empty), its
# exit code and stderr in exits.txt
: > "$OUT/exits.txt"
record() {
    local name=$1 r=$2 command=$3 rc=0
    vt "$r" -c "$command" > "$OUT/$name.txt" 2> "$OUT/$name.err" || rc=$?
    printf '%s\t%s\t%s\t%s\n' "$name.txt" "$r" "$rc" "$command" >> "$OUT/exits.txt"
    if [ -s "$OUT/$name.err" ]; then echo "$name: stderr: $(cat "$OUT/$name.err")" >&2; else rm "$OUT/$name.err"; fi
}

# before OSPF is configured: ospfd runs, but has no instance
sleep 2
record r1-show_ip_ospf_neighbor_json-no-instance r1 "show ip ospf neighbor json"
record r1-show_ip_ospf_neighbor-no-instance r1 "show ip ospf neighbor"

HELLO=(-c "ip ospf hello-interval 1" -c "ip ospf dead-interval 4")
vt r1 -c "conf t" -c "ip forwarding" \
    -c "interface lo" -c "ip address 10.255.0.1/32" -c "exit" \
    -c "interface eth0" -c "description to r2 (eth0)" -c "ip address 10.0.12.1/24" "${HELLO[@]}" -c "exit" \
    -c "interface eth1" -c "description to r3" -c "ip address 10.0.13.1/24" -c "ip ospf priority 0" "${HELLO[@]}" -c "exit" \
    -c "interface lan0" -c "description LAN A" -c "ip address 172.16.1.1/24" -c "ip address 172.16.2.1/24" -c "exit" \
    -c "interface spare0" -c "description unused" -c "ip address 172.16.9.1/24" -c "shutdown" -c "exit" \
    -c "ip route 192.0.2.0/24 10.0.12.2" -c "ip route 192.0.2.0/24 10.0.13.3" \
    -c "ip route 198.51.100.0/24 blackhole" \
    -c "ip route 172.16.50.0/24 lan0" \
    -c "ip route 10.99.0.0/16 10.255.0.3" \
    -c "ip route 203.0.113.0/24 10.77.0.1" \
    -c "router ospf" -c "ospf router-id 10.255.0.1" -c "network 10.0.0.0/16 area 0" -c "network 10.255.0.1/32 area 0" \
    -c "end" -c "write memory" >/dev/null
vt r2 -c "conf t" -c "ip forwarding" \
    -c "interface lo" -c "ip address 10.255.0.2/32" -c "exit" \
    -c "interface eth0" -c "ip address 10.0.12.2/24" -c "ip ospf priority 10" "${HELLO[@]}" -c "exit" \
    -c "interface eth1" -c "ip address 10.0.23.2/24" -c "ip ospf network point-to-point" "${HELLO[@]}" -c "exit" \
    -c "router ospf" -c "ospf router-id 10.255.0.2" -c "network 10.0.0.0/16 area 0" -c "network 10.255.0.2/32 area 0" \
    -c "end" -c "write memory" >/dev/null
vt r3 -c "conf t" -c "ip forwarding" \
    -c "interface lo" -c "ip address 10.255.0.3/32" -c "exit" \
    -c "interface eth0" -c "ip address 10.0.23.3/24" -c "ip ospf network point-to-point" "${HELLO[@]}" -c "exit" \
    -c "interface eth1" -c "ip address 10.0.13.3/24" "${HELLO[@]}" -c "exit" \
    -c "router ospf" -c "ospf router-id 10.255.0.3" -c "network 10.0.0.0/16 area 0" -c "network 10.255.0.3/32 area 0" \
    -c "default-information originate always" \
    -c "end" -c "write memory" >/dev/null
# a kernel route (added with iproute2, outside FRR)
on r1 ip route add 172.16.60.0/24 via 172.16.1.254 dev lan0

# wait for every adjacency to be Full and r1's routes to be the converged ones (two equal-cost
# OSPF paths to 10.0.23.0/24, the default route through r3), three checks in a row
steady=0
for _ in $(seq 90); do
    full=0
    for r in $ROUTERS; do
        n=$(vt "$r" -c "show ip ospf neighbor" | grep -c Full || true)
        full=$((full + n))
    done
    table=$(vt r1 -c "show ip route")
    paths=$(echo "$table" | grep -A1 '^O>\* 10.0.23.0/24' | grep -cE '^(O>\*|  \*) .* via ' || true)
    if [ "$full" -eq 6 ] && [ "$paths" -eq 2 ] && echo "$table" | grep -q '^O>\* 0.0.0.0/0 .* via 10.0.13.3,'; then
        steady=$((steady + 1))
    else
        steady=0
    fi
    [ "$steady" -ge 3 ] && break
    sleep 1
done
[ "$steady" -ge 3 ] || { echo "OSPF did not converge" >&2; exit 1; }
echo "converged: $full adjacencies Full, r1 has $paths paths to 10.0.23.0/24" >&2
sleep 3  # let the last LSAs settle

for r in $ROUTERS; do
    record "$r-show_version" "$r" "show version"
    record "$r-show_interface_json" "$r" "show interface json"
    record "$r-show_ip_route_json" "$r" "show ip route json"
    record "$r-show_ip_ospf_neighbor_json" "$r" "show ip ospf neighbor json"
    record "$r-show_running-config" "$r" "show running-config"
done
# the same tables as text, for the reader of the recordings (the driver reads the JSON)
record r1-show_ip_route r1 "show ip route"
record r1-show_ip_ospf_neighbor r1 "show ip ospf neighbor"
record r2-show_ip_ospf_neighbor r2 "show ip ospf neighbor"
record r3-show_ip_ospf_neighbor r3 "show ip ospf neighbor"
record r1-show_interface_brief r1 "show interface brief"

# refusals: a mistyped command, an incomplete one, an ambiguous one, a mistyped argument
record r1-refused-unknown r1 "show ip ospf neighbour json"
record r1-refused-incomplete r1 "show ip"
record r1-refused-ambiguous r1 "show ip r"
record r1-refused-json-typo r1 "show interface jsno"

# ospfd gone (killed by its pid; watchfrr restarts it later): what vtysh answers meanwhile
on r3 sh -c 'kill -9 "$(cat /run/frr/ospfd.pid)"'
sleep 0.5
record r3-show_ip_ospf_neighbor_json-ospfd-down r3 "show ip ospf neighbor json"
record r3-show_running-config-ospfd-down r3 "show running-config"

echo "recorded: $(on r1 vtysh -c 'show version' | head -1)"
