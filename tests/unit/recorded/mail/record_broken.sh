#!/bin/sh
# Record NeomuttSettings on broken configurations (README.txt). Run as root:
#   unshare -m --propagation private tests/unit/recorded/mail/record_broken.sh
# with, in $R, root/ holding Debian 12's neomutt package and the libraries it lacks, unpacked
# (apt-get download neomutt libnotmuch5 ...; dpkg -x PKG.deb root), and wrap/neomutt a script that
# runs root/usr/bin/neomutt with LD_LIBRARY_PATH=root/usr/lib/x86_64-linux-gnu.
# Under unshare -m: a copy of /etc with a throw-away user and NeoMutt's system files, /home on a
# tmpfs, neomutt added to /usr/bin (and its helpers to /usr/libexec) through overlays. Nothing is
# seen outside. The outputs land in $R/out.
set -e
R=/tmp/rec-neomutt
mount -t tmpfs rec /mnt
cp -a /etc /mnt/etc
cp -a $R/root/etc/neomuttrc $R/root/etc/neomuttrc.d /mnt/etc/
echo "lrousseau:x:1500:1500:Louis Rousseau:/home/lrousseau:/bin/bash" >> /mnt/etc/passwd
echo "lrousseau:x:1500:" >> /mnt/etc/group
echo "lrousseau:!:19000:0:99999:7:::" >> /mnt/etc/shadow
mount --bind /mnt/etc /etc
mount -t tmpfs rec /home
mkdir -p /mnt/upper /mnt/work
mount -t overlay overlay -o lowerdir=$R/wrap:/usr/bin,upperdir=/mnt/upper,workdir=/mnt/work /usr/bin
mkdir -p /mnt/upper2 /mnt/work2
mount -t overlay overlay -o lowerdir=$R/root/usr/libexec:/usr/libexec,upperdir=/mnt/upper2,workdir=/mnt/work2 /usr/libexec
mkdir -p /home/lrousseau
chown lrousseau:lrousseau /home/lrousseau
cd "$(dirname "$0")/../../../.."
.venv/bin/python tests/unit/recorded/mail/record_broken.py
