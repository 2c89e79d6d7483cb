#!/bin/busybox sh
# tspcr-lab radio VM, first stage (the /init of its initramfs, busybox only). Loads the modules
# the VM needs from the initramfs (virtio, 9p, overlay: the image kernel has them as modules),
# mounts the lab's image (virtio-9p tag "image", read-only) under a tmpfs overlay as the VM's root
# and the control folder (tag "ctl") at /ctl in it, then hands over to the image's tini and
# vm-init, from the control folder.
/bin/busybox mkdir -p /proc /sys /dev /newroot /image /upper
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
while read -r module; do
    /bin/busybox insmod "/modules/$module" || echo "tspcr-vm: insmod $module failed"
done </modules/order
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 image /image \
    || { echo "tspcr-vm: cannot mount the image"; /bin/busybox poweroff -f; }
/bin/busybox mount -t tmpfs -o mode=755,size=64m tmpfs /upper
/bin/busybox mkdir -p /upper/upper /upper/work
/bin/busybox mount -t overlay overlay -o lowerdir=/image,upperdir=/upper/upper,workdir=/upper/work /newroot
/bin/busybox mkdir -p /newroot/ctl
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 ctl /newroot/ctl \
    || { echo "tspcr-vm: cannot mount the control folder"; /bin/busybox poweroff -f; }
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox mount --move /proc /newroot/proc
/bin/busybox mount --move /sys /newroot/sys
exec /bin/busybox switch_root /newroot /usr/bin/tini -s -- /bin/busybox sh /ctl/vm-init
