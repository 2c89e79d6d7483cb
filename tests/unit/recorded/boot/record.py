"""Record ServiceAtBoot("smbd").command() on the kinds of hosts it judges (see README.txt)."""
import json, pathlib, subprocess, sys

sys.path.insert(0, "/work/main")
from tspcr_lab.probes.system import ServiceAtBoot

OUT = pathlib.Path("/work/main/tests/unit/recorded/boot")
OUT.mkdir(exist_ok=True)
# Debian 12's samba package unpacked there (apt-get download samba && dpkg -x samba_*.deb root)
PKG = "/tmp/rec-boot/root"
# Private mount namespace: /etc is a copy on a tmpfs, samba's unit and init script are added
# (the files its Debian package installs), nothing is seen outside.
BASE = (
    "set -e; mount -t tmpfs rec /mnt; cp -a /etc /mnt/etc; mount --bind /mnt/etc /etc; "
    f"mkdir -p /mnt/u /mnt/w; mount -t overlay overlay -o lowerdir={PKG}/lib/systemd/system:/usr/lib/systemd/system,"
    "upperdir=/mnt/u,workdir=/mnt/w /usr/lib/systemd/system; "
    f"cp {PKG}/etc/init.d/smbd /etc/init.d/smbd; "
)
WANTS = "mkdir -p /etc/systemd/system/multi-user.target.wants; ln -s /lib/systemd/system/smbd.service /etc/systemd/system/multi-user.target.wants/smbd.service; "
RC = "for r in 2 3 4 5; do ln -s ../init.d/smbd /etc/rc$r.d/S01smbd; done; for r in 0 1 6; do ln -s ../init.d/smbd /etc/rc$r.d/K01smbd; done; "
RC_OFF = "for r in 2 3 4 5; do ln -s ../init.d/smbd /etc/rc$r.d/K01smbd; done; "
VIRTUAL = "mkdir -p /etc/tspcr-lab; printf 'ssh\\nsmbd\\n' > /etc/tspcr-lab/boot-services; "
VIRTUAL_OFF = "mkdir -p /etc/tspcr-lab; printf 'ssh\\n#smbd\\n' > /etc/tspcr-lab/boot-services; "
CASES = {
    "real-not-installed": (None, "this machine as it is (Debian 12, systemd 252 installed but not running): no samba "
                                 "package, no boot-services"),
    "real-systemd-enabled": (WANTS + RC, "samba installed as Debian does it: unit enabled, rc links S01smbd"),
    "real-systemd-disabled": (RC_OFF, "unit disabled (systemctl disable smbd), rc links K01smbd (update-rc.d smbd disable)"),
    "real-systemd-masked": ("ln -s /dev/null /etc/systemd/system/smbd.service; " + RC,
                            "samba installed, then its unit masked (systemctl mask smbd), which leaves the rc links S01smbd"),
    "real-sysvinit-only": ("rm -f /usr/lib/systemd/system/smbd.service; " + RC,
                           "no systemd unit (a sysvinit station): init script and rc links S01smbd"),
    "virtual-listed": (VIRTUAL + WANTS + RC, "a virtual lab host: boot-services lists smbd"),
    "virtual-removed": (VIRTUAL_OFF + WANTS + RC,
                        "a virtual lab host whose boot-services no longer lists smbd (commented out), while the "
                        "machine's own systemd and rc files (inherited) still enable it"),
}
runs = {}
command = ServiceAtBoot("smbd").command()
for name, (setup, context) in CASES.items():
    if setup is None:
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, timeout=30, cwd="/")
        (OUT / f"{name}.out").write_bytes(done.stdout)
        runs[name] = {"command": command, "context": context, "rc": done.returncode, "stderr": done.stderr.decode()}
        print(name, done.returncode, done.stdout.decode())
        continue
    script = BASE + setup + "exec >/proc/self/fd/3 2>/proc/self/fd/4; exec /bin/sh -c \"$0\""
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                           f"exec 3>&1 4>&2 >/dev/null 2>&1; {script}", command],
                          capture_output=True, timeout=30, cwd="/")
    (OUT / f"{name}.out").write_bytes(done.stdout)
    runs[name] = {"command": command, "context": context, "rc": done.returncode, "stderr": done.stderr.decode()}
    print(name, done.returncode, done.stdout.decode(), done.stderr.decode())
(OUT / "runs.json").write_text(json.dumps(runs, indent=1) + "\n")
