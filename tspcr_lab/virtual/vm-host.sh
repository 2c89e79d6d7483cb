#!/bin/busybox sh
# tspcr-lab radio VM: one wireless host's life, run in the VM's root by vm-init and by the grader
# (over the control sshd), under busybox's shell: its applets (mount, cat, sleep...) run without
# starting a dynamically linked program, each of which costs ~0.2 s in an emulated CPU.
#   vm-host start HOST   its namespaces (network, mount, PID, UTS, IPC), its NICs (mgmt0 and its
#                        lab links, found by MAC) and its radio moved in, then its boot (vm-host boot);
#   vm-host stop HOST    kills its PID 1 (by the id recorded at start): the kernel ends the rest,
#                        and its NICs and radio come back to the VM's root;
#   vm-host enter HOST ARGV...   runs ARGV as the host's root, with the host's limits (its console).
# A host is the host's root on its own files and network, and nothing more: no capability to mount,
# load modules, trace or reach the VM's root (bounding set below), /proc/sys read-only except its
# network's, and the kernel's own files of /proc masked. The machine is outside the VM.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
CAPS=-all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_broadcast,+net_admin,+net_raw,+ipc_lock,+sys_chroot,+audit_write,+setfcap,+sys_nice,+sys_resource
. /ctl/vm.env
cmd=$1
host=$2
D=/run/vm/$host
R=$D/root

nic_of() {
    for dev in /sys/class/net/*; do
        read -r mac <"$dev/address" 2>/dev/null && [ "$mac" = "$1" ] && { echo "${dev##*/}"; return 0; }
    done
    return 1
}

pid_one() {  # the host's PID 1, as the VM sees it (unshare's child)
    [ -r "$D/unshare" ] || return 1
    read -r u <"$D/unshare" || return 1
    for child in $(cat "/proc/$u/task/"*/children 2>/dev/null); do
        echo "$child"
        return 0
    done
    return 1
}

case "$cmd" in
start)
    mkdir -p "$D/root"
    mountpoint -q "$R" || mount -t 9p -o "trans=virtio,version=9p2000.L,cache=loose,msize=262144,access=any" "h-$host" "$R" \
        || { echo "tspcr-vm: $host: cannot mount its files"; exit 1; }
    rm -f "$D/go" "/ctl/status/$host.booted" "/ctl/status/$host.failed"
    mkfifo "$D/go"
    setsid /usr/bin/unshare --mount --net --pid --uts --ipc --fork --kill-child -- /bin/busybox sh /ctl/vm-host boot "$host" \
        </dev/null >>"/ctl/status/$host.log" 2>&1 &
    echo $! >"$D/unshare"
    i=0
    while ! pid=$(pid_one); do
        i=$((i + 1)); [ $i -gt 50 ] && { echo "tspcr-vm: $host did not start"; exit 1; }
        sleep 0.2  # every command is dear in an emulated CPU: poll slowly
    done
    echo "$pid" >"$D/pid"
    eval "nics=\$NICS_$host"
    for pair in $nics; do
        dev=$(nic_of "${pair%%=*}") || { echo "tspcr-vm: $host: no NIC ${pair%%=*}"; continue; }
        /sbin/ip link set dev "$dev" netns "$pid" name "${pair#*=}" \
            || echo "tspcr-vm: $host: NIC ${pair%%=*} not moved"
    done
    eval "phy=\$PHY_$host"
    wlan=$(ls "/sys/class/ieee80211/phy$phy/device/net" 2>/dev/null | head -n 1)
    /sbin/iw phy "phy$phy" set netns "$pid" || echo "tspcr-vm: $host: radio phy$phy not moved"
    # its wireless interface is wlan0 in it, whichever radio it got
    [ -n "$wlan" ] && [ "$wlan" != wlan0 ] && nsenter --target "$pid" --net /sbin/ip link set dev "$wlan" name wlan0
    echo go >"$D/go"
    (  # the boot is over when the host's init says so (its sshd answers)
        i=0
        while [ $i -lt 240 ] && kill -0 "$pid" 2>/dev/null; do
            [ -e "/proc/$pid/root/run/tspcr-lab/booted" ] && { read -r up _ </proc/uptime; echo "$up" >"/ctl/status/$host.booted"; exit 0; }
            i=$((i + 1)); sleep 1
        done
        : >"/ctl/status/$host.failed"
    ) &
    ;;
boot)
    read -r _ <"$D/go"
    mount --make-rprivate /
    mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
    mount -t sysfs -o nosuid,nodev,noexec,ro sysfs "$R/sys"
    mount -t tmpfs -o mode=755,size=32m,nosuid,nodev tmpfs "$R/run"
    mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev tmpfs "$R/tmp"
    mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$R/dev"
    for d in null zero full random urandom tty; do
        touch "$R/dev/$d"
        mount --bind "/dev/$d" "$R/dev/$d"
    done
    mkdir -p "$R/dev/pts" "$R/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$R/dev/pts"
    mount -t tmpfs -o mode=1777,size=16m,nosuid,nodev tmpfs "$R/dev/shm"
    ln -s pts/ptmx "$R/dev/ptmx"
    ln -s /proc/self/fd "$R/dev/fd"
    # the kernel's files: read-only or hidden, as container engines do
    mount --bind "$R/proc/sys" "$R/proc/sys"
    mount -o remount,bind,ro "$R/proc/sys"
    mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
    mount -o remount,bind,rw "$R/proc/sys/net"
    for f in kcore keys sysrq-trigger timer_list kallsyms; do
        [ -e "$R/proc/$f" ] && mount --bind /dev/null "$R/proc/$f"
    done
    for d in irq bus fs acpi scsi; do
        [ -d "$R/proc/$d" ] && mount --bind "$R/proc/$d" "$R/proc/$d" && mount -o remount,bind,ro "$R/proc/$d"
    done
    mkdir -p "$R/.oldroot"
    cd "$R"
    pivot_root . .oldroot
    cd /
    umount -l /.oldroot
    rmdir /.oldroot
    hostname -F /etc/hostname 2>/dev/null || hostname localhost
    exec /usr/bin/setpriv --bounding-set="$CAPS" -- /usr/bin/tini -- /bin/sh /usr/local/lib/tspcr-lab/host-init
    ;;
stop)
    if pid=$(cat "$D/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
        sync
        kill -KILL "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 500 ]; do i=$((i + 1)); sleep 0.01; done
    fi
    u=$(cat "$D/unshare" 2>/dev/null) && kill -KILL "$u" 2>/dev/null
    rm -f "$D/pid" "$D/unshare" "/ctl/status/$host.booted"
    # its radio and NICs come back to the VM's root when its network namespace is gone
    i=0
    eval "phy=\$PHY_$host"
    while [ $i -lt 300 ]; do
        [ -e "/sys/class/ieee80211/phy$phy" ] && break
        i=$((i + 1)); sleep 0.01
    done
    ;;
enter)
    shift 2
    pid=$(cat "$D/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || { echo "host $host is not running" >&2; exit 125; }
    exec nsenter --target "$pid" --mount --uts --ipc --net --pid --root --wd -- \
        /usr/bin/setpriv --bounding-set="$CAPS" -- /usr/bin/env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 \
        USER=root LOGNAME=root "$@"
    ;;
*)
    echo "usage: vm-host start|stop|enter HOST" >&2
    exit 2
    ;;
esac
