#!/bin/sh
# tspcr-lab host init: brings a virtual host up from its persistent configuration, the way a
# Debian system without systemd boots: hostname from /etc/hostname, net.* sysctls from
# /etc/sysctl.conf and /etc/sysctl.d, interfaces from /etc/network/interfaces (ifup -a),
# nftables from /etc/nftables.conf when enabled, then the services listed one per line in
# /etc/tspcr-lab/boot-services through their init scripts (service NAME start), sshd last.
# Whatever was only set at run time (ip addr add, ...) is gone after a reboot, as on a real PC.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
exec </dev/null >/run/boot.log 2>&1
umask 022
stamp() { read -r up _ </proc/uptime; echo "[$up] $*"; }  # a builtin: no command to start
stamp "boot"
hostname -F /etc/hostname || hostname localhost
ip link set lo up
# The management network belongs to the lab, not to the trainee's configuration.
. /etc/tspcr-lab/mgmt.env
ip addr add "$MGMT_ADDRESS" dev mgmt0 && ip link set mgmt0 up
# Only network sysctls: they are per network namespace; other keys would reach the whole machine.
cat /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null \
    | sed -n 's/^[[:space:]]*\(net\.[^=[:space:]]*\)[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*$/\1=\2/p' \
    | while read -r kv; do sysctl -q -w "$kv"; done
mkdir -p /run/network
stamp "ifup"
ifup -a
# hotplug interfaces are brought up too (a second pass of every ifupdown hook: only when some are)
if ifquery --list --allow=hotplug 2>/dev/null | grep -q .; then
    ifup -a --allow=hotplug
fi
if grep -qx nftables /etc/tspcr-lab/boot-services 2>/dev/null && [ -r /etc/nftables.conf ]; then
    nft -f /etc/nftables.conf
fi
mkdir -p /run/sshd
stamp "services"
# sshd last: when it answers, every other service has been started (the grader waits for it).
# A service that hangs at start (a trainee's broken configuration) is given up after 20 s.
while read -r svc; do
    case "$svc" in ""|"#"*|nftables|ssh) continue ;; esac
    stamp "service $svc"
    timeout 20 service "$svc" start
done </etc/tspcr-lab/boot-services
stamp "service ssh"
grep -qx ssh /etc/tspcr-lab/boot-services && service ssh start
mkdir -p /run/tspcr-lab && : >/run/tspcr-lab/booted
echo "boot complete"
exec sleep infinity
