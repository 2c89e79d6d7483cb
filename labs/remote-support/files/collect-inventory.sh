#!/bin/sh
# The inventory of the PC this script runs on, in TOML (the format of the remote-support sheet).
# From hd1, through the bastion:  ssh pc1 sh -s -- PACKAGE... < collect-inventory.sh > pc1.toml
# It only reads: /etc/os-release, uname, /proc, df, ip, dpkg-query (no root needed).
set -e
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
. /etc/os-release
echo "# inventory of $(hostname), taken $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "[system]"
echo "hostname = $(q "$(hostname)")"
echo "os = $(q "$PRETTY_NAME")"
echo "kernel = $(q "$(uname -r)")"
echo
echo "[hardware]"
echo "cpu_model = $(q "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)")"
echo "cpu_count = $(nproc)"
echo "memory_mib = $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"
echo "disk_mib = $(df -Pm / | awk 'NR == 2 { print $2 }')"
for dev in $(ls /sys/class/net); do
    [ "$dev" = lo ] && continue
    echo
    echo "[[network]]"
    echo "interface = $(q "$dev")"
    echo "mac = $(q "$(cat "/sys/class/net/$dev/address")")"
    echo "ipv4 = [$(ip -4 -o addr show dev "$dev" | awk '{ printf "%s\"%s\"", (n++ ? ", " : ""), $4 }')]"
done
echo
echo "[software]"
echo "packages = $(dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii')"
echo
echo "[software.versions]"
for package in "$@"; do
    echo "$package = $(q "$(dpkg-query -W -f '${Version}' "$package")")"
done
