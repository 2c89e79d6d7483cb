#!/bin/sh
# Starts one virtual host. Run by tspcr-lab as:
#   unshare --user --map-users=BASE,0,65536 --map-groups=BASE,0,65536 --setuid 0 --setgid 0 \
#           --mount --net --pid --uts --ipc --fork -- /bin/sh boot.sh HOSTDIR IMAGE [INIT ARG...]
# so this script is PID 1 of a new PID namespace, root of a new user namespace whose ids map to an
# unprivileged range of the machine, with a network, mount, UTS and IPC namespace of its own (all
# owned by that user namespace). It waits for one line on its standard input: tspcr-lab sends it
# once the host's cables are plugged in its network namespace. Then it mounts the host's overlay
# root (the lab's IMAGE, read-only, under HOSTDIR/upper, the host's own files), its own /proc,
# /sys, /run, /tmp and a /dev with the usual character devices only (and net/tun), makes it the root (the
# machine's tree is detached: nothing of it stays visible) and hands over, under tini, to the
# host's init: the virtual lab's (host-init), or INIT with its arguments when given (what a test
# that builds stations of its own boots them with).
set -eu
H=$1
L=$2
shift 2
R=$H/merged
read -r _ || true
exec </dev/null
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$L,upperdir=$H/upper,workdir=$H/work,userxattr" "$R"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o nosuid,nodev,noexec,ro sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=64m,nosuid,nodev tmpfs "$R/run"
mount -t tmpfs -o mode=1777,size=256m,nosuid,nodev tmpfs "$R/tmp"
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$R/dev"
for d in null zero full random urandom tty; do
    touch "$R/dev/$d"
    mount --bind "/dev/$d" "$R/dev/$d"
done
if [ -c "$H/tun" ]; then  # made by tspcr-lab (mode 666): tap devices in the host's own network namespace
    mkdir -p "$R/dev/net"
    touch "$R/dev/net/tun"
    mount --bind "$H/tun" "$R/dev/net/tun"
fi
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev tmpfs "$R/dev/shm"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
if [ $# -gt 0 ]; then
    exec /usr/bin/tini -- "$@"
fi
exec /usr/bin/tini -- /bin/sh /usr/local/lib/tspcr-lab/host-init
