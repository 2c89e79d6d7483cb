#!/bin/sh
# Starts one virtual host. Run by tspcr-lab as:
#   ip netns exec NETNS unshare --mount --uts --pid --fork -- /bin/sh boot.sh HOSTDIR
# so this script is PID 1 of a new PID namespace, in its own mount and UTS namespaces, inside the
# host's network namespace. It mounts an overlay over the machine's root (lower layer, read-only),
# with HOSTDIR/upper as the host's own writable layer, makes it the root and hands over to the
# host's init under tini. Nothing here touches the machine's own namespaces.
set -eu
H=$1
R=$H/merged
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=/,upperdir=$H/upper,workdir=$H/work" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=64m tmpfs "$R/run"
mount -t tmpfs -o mode=1777,size=256m tmpfs "$R/tmp"
mount -t tmpfs -o mode=755,size=1m tmpfs "$R/dev"
for d in null zero full random urandom tty; do
    touch "$R/dev/$d"
    mount --bind "/dev/$d" "$R/dev/$d"
done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$R/dev/shm"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
exec /usr/bin/tini -- /bin/sh /usr/local/lib/tspcr-lab/host-init
