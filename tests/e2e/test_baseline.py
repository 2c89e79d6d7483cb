"""Baselines on real FRR routers (issue 11): ``tspcr-lab baseline LAB --inventory FILE --seed N``
pushes each router's baseline over SSH with netmiko, ``--reset`` brings it back to exactly that
baseline after a candidate's changes.

Two routers r1, r2 are stations (:class:`~tests.e2e.stations.Stations`: Debian systems of the
hosts' image in user namespaces of their own, reached only over SSH from an admin namespace) of a
small lab written here (``baseline-lab``: lab.toml, params.py, baseline/r1.cfg and r2.cfg with
placeholders). Each runs FRR 8.4 (ospfd enabled, integrated configuration) and has a user
``admin`` whose login shell is vtysh (group frrvty, /etc/frr writable by it), as a router's
administrator logs in. The inventory declares them as network devices (``device_type``
cisco_ios, ``device_driver`` frr), r1's password in a file of mode 600 outside the project, r2's
in an environment variable. Every command line runs in the admin namespace; the candidate's
changes are typed into vtysh on the router itself.

The image must hold frr (the routing lab's package; ``make setup`` builds it): the test uses the
current image when it does, else an image already built that does, and is skipped without one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tspcr_lab.devices.baseline import DIALECTS, differences, parse
from tspcr_lab.labfile import load_lab

from .stations import Stations, image_info

SEED = 4242
PASSWORD = "Adm1n-Baseline!"
IMAGES = Path("/var/lib/tspcr-lab/images")

LAB_TOML = """\
[lab]
id = "{id}"
title = {{ fr = "Deux routeurs FRR (test des baselines)", en = "Two FRR routers (baseline test)" }}
competencies = ["031"]

[management]
network = "172.31.9.0/24"
grader = "172.31.9.254"

[[switches]]
name = "s12"
[[switches]]
name = "lan1"

[[hosts]]
name = "r1"
role = "router"
mgmt = "172.31.9.1"
[[hosts]]
name = "r2"
role = "router"
mgmt = "172.31.9.2"

[[links]]
host = "r1"
iface = "eth0"
switch = "s12"
[[links]]
host = "r1"
iface = "eth1"
switch = "lan1"
[[links]]
host = "r2"
iface = "eth0"
switch = "s12"
"""

PARAMS = """\
def generate(seed, lab):
    link = f"10.{seed % 200}.12"
    params = {"link": link}
    return params, {"ids": {"r1": "10.255.0.1", "r2": "10.255.0.2"}}
"""

BASELINE = {
    "r1": """\
no ip forwarding
no ipv6 forwarding
!
interface eth0
 description to r2
 ip address {{ params.link }}.1/24
exit
!
interface lo
 ip address {{ expected.ids.r1 }}/32
exit
!
router ospf
 ospf router-id {{ expected.ids.r1 }}
 network {{ params.link }}.0/24 area 0
exit
""",
    "r2": """\
no ip forwarding
no ipv6 forwarding
!
interface eth0
 ip address {{ params.link }}.2/24
exit
""",
}

# Router setup, as root over SSH: ospfd, the integrated configuration with the host name, the
# administrator whose shell is vtysh, then FRR started. vtysh reads vtysh.conf and reaches the
# daemons' sockets in /run/frr (made frr:frr 750 by frrinit.sh): both are given to group frrvty.
FRR_SETUP = """\
set -e
sed -i 's/^ospfd=no/ospfd=yes/' /etc/frr/daemons
printf 'frr version 8.4.4\\nfrr defaults traditional\\nhostname {name}\\nservice integrated-vtysh-config\\n!\\n' > /etc/frr/frr.conf
chown frr:frr /etc/frr/frr.conf
chgrp frrvty /etc/frr /etc/frr/vtysh.conf
chmod g+w /etc/frr
useradd -m -s /usr/bin/vtysh -G frrvty admin
echo 'admin:{password}' | chpasswd
/usr/lib/frr/frrinit.sh start >/dev/null
chgrp frrvty /run/frr
for i in $(seq 100); do vtysh -c 'show version' >/dev/null 2>&1 && exit 0; sleep 0.1; done
exit 1
"""

# A candidate's work on r1, typed into vtysh: another host name (vtysh keeps it to the session),
# a changed description and address, a second interface addressed, a static route, a network in OSPF, forwarding on.
CANDIDATE = """\
configure terminal
hostname candidate
ip forwarding
ip route 192.0.2.0/24 10.{n}.12.2
interface eth0
 description uplink
 no ip address 10.{n}.12.1/24
 ip address 10.{n}.12.5/24
exit
interface eth1
 ip address 172.16.5.1/24
 ip ospf cost 20
exit
router ospf
 network 172.16.5.0/24 area 0
exit
end
"""


def frr_image() -> tuple[Path, int, int] | None:
    """(root file system, uid, gid) of a built hosts' image holding frr."""
    info = image_info()
    if info.get("built") and "frr" in info.get("packages", []):
        manifest = json.loads((Path(info["path"]).parent / "manifest.json").read_text())
        return Path(info["path"]), manifest["uid"], manifest["gid"]
    for manifest_file in sorted(IMAGES.glob("*/manifest.json")):
        manifest = json.loads(manifest_file.read_text())
        rootfs = manifest_file.parent / "rootfs"
        if "frr" in manifest.get("packages", []) and (rootfs / "usr/lib/frr/frrinit.sh").is_file():
            return rootfs, manifest["uid"], manifest["gid"]
    return None


def write_lab(root: Path, lab_id: str, baselines: dict[str, str]) -> Path:
    folder = root / lab_id
    (folder / "baseline").mkdir(parents=True)
    (folder / "lab.toml").write_text(LAB_TOML.format(id=lab_id), encoding="utf-8")
    (folder / "params.py").write_text(PARAMS, encoding="utf-8")
    for host, text in baselines.items():
        (folder / "baseline" / f"{host}.cfg").write_text(text, encoding="utf-8")
    return folder


class Routers:
    def __init__(self, stations: Stations, lab_dir: Path):
        self.stations, self.lab_dir = stations, lab_dir
        self.secrets = stations.root / "secrets"
        self.secrets.mkdir(mode=0o700)
        password_file = self.secrets / "r1.password"
        password_file.write_text(PASSWORD + "\n")
        os.chmod(password_file, 0o600)
        self.inventory = self.write_inventory("inventory.py")

    def write_inventory(self, name: str, **changes) -> Path:
        hosts = {
            "r1": {"device_type": "cisco_ios", "device_driver": "frr", "device_hostname": "172.31.9.1",
                   "device_user": "admin", "device_password_file": str(self.secrets / "r1.password")},
            "r2": {"device_type": "cisco_ios", "device_driver": "frr", "device_hostname": "172.31.9.2",
                   "device_user": "admin", "device_password_env": "H2_BASELINE_R2_PASSWORD"},
        }
        for host, data in changes.items():
            hosts[host].update(data)
        path = self.stations.root / name
        path.write_text(f'"""FRR routers of the baseline test."""\n\nrouters = {list(hosts.items())!r}\n')
        return path

    def cli(self, *args: str, lab_dir: Path | None = None, inventory: Path | None = None) -> subprocess.CompletedProcess:
        os.environ["H2_BASELINE_R2_PASSWORD"] = PASSWORD  # the instructor's shell exports it
        return self.stations.in_admin([sys.executable, "-m", "tspcr_lab", "baseline", str(lab_dir or self.lab_dir),
                                       "--inventory", str(inventory or self.inventory), "--seed", str(SEED), *args],
                                      timeout=120)

    def vtysh(self, host: str, script: str) -> str:
        return self.stations.ssh(host, f"vtysh <<'EOF'\n{script}EOF\n")

    def running(self, host: str) -> str:
        return self.stations.ssh(host, "vtysh -c 'show running-config'")

    def baseline(self, host: str) -> str:
        from tspcr_lab.devices.baseline import load_baseline
        from tspcr_lab.params import generate

        lab = load_lab(str(self.lab_dir))
        values = generate(lab, SEED)
        return load_baseline(lab, host, {"params": values.params, "expected": values.expected})

    def left(self, host: str) -> list[str]:
        """What differs between the router's running configuration and its baseline."""
        frr = DIALECTS["frr"]
        return [str(d) for d in differences(parse(self.running(host), frr), parse(self.baseline(host), frr))]


@pytest.fixture(scope="module")
def routers(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("stations need root")
    image = frr_image()
    if image is None:
        pytest.skip("no built hosts' image holds frr (the routing lab's package: make setup builds it)")
    lab_dir = write_lab(tmp_path_factory.mktemp("labs"), "baseline-lab", BASELINE)
    stations = Stations(load_lab(str(lab_dir)), *image)
    stations.up()
    try:
        for name in ("r1", "r2"):
            stations.ssh(name, FRR_SETUP.format(name=name, password=PASSWORD))
        yield Routers(stations, lab_dir)
    finally:
        os.environ.pop("H2_BASELINE_R2_PASSWORD", None)
        stations.down()


def seconds(output: str, host: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith(f"{host}:"))
    return float(line.rsplit("(", 1)[1].split(" s)")[0])


def test_push_sets_up_the_baseline(routers):
    t0 = time.monotonic()
    proc = routers.cli()
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "r1: push:" in proc.stdout and "r2: push:" in proc.stdout, proc.stdout
    assert " ip address 10.42.12.1/24" in proc.stdout  # what was added, under its block
    for host in ("r1", "r2"):
        assert routers.left(host) == [], routers.running(host)
    # {{ params.link }} of seed 4242, and the router really has it: the kernel's address
    assert "10.42.12.1/24" in routers.stations.ssh("r1", "ip -4 -o addr show dev eth0")
    print(f"\npush r1 {seconds(proc.stdout, 'r1'):.2f} s, r2 {seconds(proc.stdout, 'r2'):.2f} s; command {took:.2f} s")
    again = routers.cli()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "r1: already holds its baseline" in again.stdout and "r2: already holds its baseline" in again.stdout


def test_reset_after_a_candidate(routers):
    routers.cli()  # the baseline, whatever ran before
    routers.vtysh("r1", CANDIDATE.format(n=SEED % 200))
    changed = routers.left("r1")
    assert len(changed) >= 8, changed

    dry = routers.cli("--reset", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "r1: would reset:" in dry.stdout and "r2: already matches its baseline" in dry.stdout, dry.stdout
    assert "no ip route 192.0.2.0/24 10.42.12.2" in dry.stdout
    assert routers.left("r1") == changed  # nothing was sent

    t0 = time.monotonic()
    proc = routers.cli("--reset")
    took = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("no ip route 192.0.2.0/24 10.42.12.2", " no ip address 172.16.5.1/24", " no ip ospf cost 20",
                 " no network 172.16.5.0/24 area 0", " no ip address 10.42.12.5/24",
                 " ip address 10.42.12.1/24", " description to r2", "no ip forwarding"):
        assert line in proc.stdout.splitlines() or f"  {line}" in proc.stdout, (line, proc.stdout)
    assert "no description" not in proc.stdout  # replaced, not removed first
    assert routers.left("r1") == [], routers.running("r1")
    assert routers.left("r2") == []
    # the router itself: eth1 has no address left, eth0 its baseline one, forwarding is off
    assert routers.stations.ssh("r1", "ip -4 -o addr show dev eth1").strip() == ""
    assert "10.42.12.5" not in routers.stations.ssh("r1", "ip -4 -o addr show dev eth0")
    assert routers.stations.ssh("r1", "cat /proc/sys/net/ipv4/ip_forward").strip() == "0"
    print(f"\nreset r1 {seconds(proc.stdout, 'r1'):.2f} s (r2 unchanged {seconds(proc.stdout, 'r2'):.2f} s); "
          f"command {took:.2f} s")


def test_reset_of_a_router_ospf_the_baseline_has_not(routers):
    routers.cli("--reset")
    routers.vtysh("r2", "configure terminal\nrouter ospf\n network 10.42.12.0/24 area 0\nexit\n"
                        "interface eth0\n ip ospf hello-interval 2\nexit\nend\n")
    proc = routers.cli("--reset", "--host", "r2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no router ospf" in proc.stdout and " no ip ospf hello-interval 2" in proc.stdout, proc.stdout
    assert "r1:" not in proc.stdout  # --host
    assert routers.left("r2") == [], routers.running("r2")


def test_save_writes_the_baseline(routers):
    routers.vtysh("r2", "configure terminal\ninterface eth0\n description someone's\nexit\nend\n")
    proc = routers.cli("--reset", "--save", "--host", "r2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "saved" in proc.stdout
    saved = routers.stations.ssh("r2", "cat /etc/frr/frr.conf")
    assert "ip address 10.42.12.2/24" in saved and "someone" not in saved, saved


def test_a_refused_line_is_one_line_error(routers, tmp_path):
    bad = dict(BASELINE, r2=BASELINE["r2"].replace(" ip address {{ params.link }}.2/24", " ip adress {{ params.link }}.2/24"))
    lab_dir = write_lab(tmp_path, "baseline-bad", bad)
    proc = routers.cli("--host", "r2", lab_dir=lab_dir)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ip adress 10.42.12.2/24" in lines[0] and "refused" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and PASSWORD not in proc.stdout + proc.stderr


def test_an_unreachable_device_is_a_clear_error(routers):
    inventory = routers.write_inventory("inventory-unreachable.py", r1={"device_hostname": "172.31.9.77"})
    proc = routers.cli(inventory=inventory)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "r1: cannot connect to 172.31.9.77:22" in proc.stderr and "not reached: r1" in proc.stderr, proc.stderr
    assert "r2: already holds its baseline" in proc.stdout  # the other device is done
    assert "Traceback" not in proc.stderr


def test_a_refused_login_is_a_clear_error(routers):
    wrong = routers.secrets / "wrong.password"
    wrong.write_text("not-the-password\n")
    os.chmod(wrong, 0o600)
    inventory = routers.write_inventory("inventory-wrong.py", r1={"device_password_file": str(wrong)})
    proc = routers.cli("--host", "r1", inventory=inventory)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "refused the login of 'admin'" in proc.stderr and "not-the-password" not in proc.stderr, proc.stderr


def test_a_readable_password_file_is_refused(routers):
    loose = routers.secrets / "loose.password"
    loose.write_text(PASSWORD + "\n")
    os.chmod(loose, 0o644)
    inventory = routers.write_inventory("inventory-loose.py", r1={"device_password_file": str(loose)})
    proc = routers.cli("--host", "r1", inventory=inventory)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "chmod 600" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
