#!/bin/busybox sh
# tspcr-lab radio VM init (under tini, in the VM's own root: the image over a tmpfs overlay, the
# control folder at /ctl). What /ctl/vm.env says, the machine wrote:
#   VM_ADDRESS  the VM's control address (CIDR) on the management network, on the NIC VM_MAC;
#   RADIOS      how many 802.11 radios mac80211_hwsim makes: one per wireless host, the grader's last;
#   HOSTS       the wireless hosts; for each, NICS_<host> ("MAC=IFACE ...", mgmt0 included) and
#               PHY_<host> (the index of its radio).
# Each host is started by vm-host (a namespace of its own holding its NICs and its radio, its
# root the host's files over virtio-9p); the grader's radio and hwsim0 (which hears every frame of
# the medium) stay here, with an sshd for the grader only, on the control address. Run by
# busybox's shell: its applets start fast in an emulated CPU (a dynamically linked program costs
# ~0.2 s).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
mount -t tmpfs -o mode=755,size=32m tmpfs /run
mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp
mkdir -p /dev/pts /dev/shm /run/sshd /run/vm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
. /ctl/vm.env
hostname "$VM_NAME"
rm -f /root/.bashrc /root/.profile  # the grader's commands run here: no start-up file before each
/sbin/ip link set lo up
nic_of() {  # the VM's interface with MAC $1
    for dev in /sys/class/net/*; do
        read -r mac <"$dev/address" 2>/dev/null && [ "$mac" = "$1" ] && { echo "${dev##*/}"; return 0; }
    done
    return 1
}
ctl=$(nic_of "$VM_MAC") || { echo "tspcr-vm: no control NIC $VM_MAC"; /bin/busybox poweroff -f; }
/sbin/ip addr add "$VM_ADDRESS" dev "$ctl"
/sbin/ip link set "$ctl" up
sysctl -q -w net.ipv4.ip_forward=0
/usr/sbin/sshd -f /ctl/sshd_config -o "ListenAddress=${VM_ADDRESS%/*}"
modprobe mac80211_hwsim radios="$RADIOS" || { echo "tspcr-vm: mac80211_hwsim did not load"; /bin/busybox poweroff -f; }
/sbin/ip link set hwsim0 up
mkdir -p /ctl/status /ctl/capture
read -r up _ </proc/uptime
echo "$up" >/ctl/status/vm.ready
for host in $HOSTS; do
    /bin/busybox sh /ctl/vm-host start "$host"
done
echo "tspcr-vm: up"
exec sleep infinity
