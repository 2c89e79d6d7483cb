"""The virtual lab is safe to run an exam on: a trainee is root inside their hosts and nowhere else.

An escape suite run as root inside a host (through its console, as the trainee's own shell is):
every attempt to reach the machine or another instance is refused, and the lab still grades.
Then what instances own: taking one instance down leaves every other one running, even one whose
name starts with it; two commands on one instance at once never lose a host; a stale instance is
cleaned by the next ``up``; a class's copies are not another class's.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from tspcr_lab.virtual import netns
from tspcr_lab.virtual.lab import STATE_ROOT, load_instance_state

from .conftest import LabUnderTest, by_status, cli

A, B = "e2e-iso", "e2e-iso-t01"  # B's name starts with A's: down A must leave B alone
MARKER = f"tspcr-escape-marker-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def labs():
    a = LabUnderTest("ip-plan", A, 11).up()
    b = LabUnderTest("ip-plan", B, 12).up()
    yield a, b
    a.down()
    b.down()


def attempt(lab: LabUnderTest, host: str, script: str) -> subprocess.CompletedProcess:
    """Run ``script`` as root inside ``host`` (its console), as the trainee would; never asserts."""
    return subprocess.run(lab.vlab.console_argv(host, ["sh", "-c", script]), capture_output=True, text=True,
                          timeout=60)


def test_root_in_a_host_is_nobody_on_the_machine(labs):
    a, _ = labs
    out = attempt(a, "pc1", "id -u; cat /proc/self/uid_map").stdout.split()
    assert out[0] == "0"  # root inside...
    assert out[1:4] != ["0", "0", "4294967295"] and out[2] != "0"  # ...mapped to an unprivileged range
    pid1 = load_instance_state(A).hosts["pc1"].pid
    assert psutil.Process(pid1).uids().real >= 100000


def test_machine_files_are_not_visible(labs, tmp_path):
    a, _ = labs
    places = [Path("/root") / f"{MARKER}.txt", Path("/etc") / f"{MARKER}.conf", Path.cwd() / f"{MARKER}.toml"]
    try:
        for place in places:
            place.write_text(MARKER + "\n")
        for place in places:
            assert attempt(a, "pc1", f"test -e {place}").returncode != 0, place
        found = attempt(a, "pc1", f"grep -rls {MARKER} /etc /root /home /srv /opt /var /tmp /run /mnt /media "
                                  "2>/dev/null; true").stdout
        assert found.strip() == "", found
        assert attempt(a, "pc1", f"test -e {Path.cwd()}").returncode != 0  # the checkout is not there
        # the machine's state folder (other instances' layers and state) is not in the host
        state = attempt(a, "pc1", f"ls {STATE_ROOT}/{B} {STATE_ROOT}/{A}/state.json 2>&1; echo rc=$?").stdout
        assert "state.json\n" not in state and "rc=0" not in state
    finally:
        for place in places:
            place.unlink(missing_ok=True)


def test_kernel_settings_devices_mounts_and_modules_are_refused(labs):
    a, _ = labs
    with open("/proc/sys/kernel/core_pattern") as f:
        core_pattern = f.read()
    assert attempt(a, "pc1", "echo '|/tmp/evil' > /proc/sys/kernel/core_pattern").returncode != 0
    assert attempt(a, "pc1", "sysctl -w kernel.panic=1").returncode != 0
    with open("/proc/sys/kernel/core_pattern") as f:
        assert f.read() == core_pattern
    # network settings are the host's own, and work
    assert attempt(a, "r1", "sysctl -q -w net.ipv4.conf.all.rp_filter=0").returncode == 0
    # no block device can be made or used, nor the machine's disk mounted
    assert attempt(a, "pc1", "mknod /tmp/sda b 8 0").returncode != 0
    assert attempt(a, "pc1", "mknod /tmp/mem c 1 1").returncode != 0
    disk = attempt(a, "pc1", "ls /dev; mount -t ext4 /dev/vda /mnt 2>&1; mount -t proc proc /mnt 2>&1 && echo mounted-proc")
    assert not any(name.startswith(("sd", "vd", "nvme", "loop", "mem", "kmem")) for name in disk.stdout.split())
    # a module cannot be loaded (init_module and finit_module are refused)
    load = attempt(a, "pc1", "python3 -c 'import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                             "r = libc.init_module(b\"\\0\" * 64, 64, b\"\"); print(r, os.strerror(ctypes.get_errno()))'")
    # (EPERM; ENOSYS where the kernel has no module support at all)
    assert load.stdout.startswith("-1") and ("not permitted" in load.stdout.lower()
                                             or "not implemented" in load.stdout.lower()), load.stdout + load.stderr
    # nor the machine's clock set
    assert attempt(a, "pc1", "date -s '2001-01-01'").returncode != 0


def test_other_instances_and_processes_are_out_of_sight(labs):
    a, b = labs
    b.on("pc1", f"echo {MARKER} > /root/b-secret")
    seen = attempt(a, "pc1", f"grep -rs {MARKER} /root /home /etc /srv /tmp /run /var 2>/dev/null | head -1")
    assert MARKER not in seen.stdout
    procs = attempt(a, "pc1", "ps -eo pid,args").stdout
    assert "pytest" not in procs and "unshare" not in procs and "nsenter" not in procs
    assert len(procs.strip().splitlines()) < 15, procs
    # B's management addresses are the same as A's, in another namespace: A's pc1 reaches no host
    # through the management network (not its own instance's, and no other instance's)
    ping = attempt(a, "pc1", "ping -c1 -W1 -I mgmt0 172.31.0.12 >/dev/null 2>&1 && echo reached || echo blocked")
    assert ping.stdout.strip() == "blocked"
    route = attempt(a, "pc1", "ip route get 192.0.2.1 2>&1")
    assert "unreachable" in route.stdout.lower()


def test_the_lab_still_grades_after_the_attempts(labs, tmp_path):
    a, _ = labs
    a.cli("solve", check=True)
    code, results = a.grade(tmp_path)
    assert code == 0 and results["score"] == results["max_score"], by_status(results, "failed")


def test_down_of_one_instance_leaves_the_others_running(labs, tmp_path):
    _, b = labs
    before = {name: h.pid for name, h in load_instance_state(B).hosts.items()}
    lone = LabUnderTest("ip-plan", "e2e-iso-lone", 13).up()
    lone.down()  # and A's down runs at the end of the module, before B's
    after = load_instance_state(B)
    assert {name: h.pid for name, h in after.hosts.items()} == before
    assert all(psutil.pid_exists(pid) for pid in before.values())
    assert netns.exists(after.core)
    code, results = b.grade(tmp_path)
    assert not by_status(results, "error")


def test_down_of_a_prefix_instance_spares_the_longer_name(tmp_path):
    a = LabUnderTest("ip-plan", "e2e-pfx", 21).up()
    b = LabUnderTest("ip-plan", "e2e-pfx-t01", 22).up()
    try:
        before = {name: h.pid for name, h in load_instance_state("e2e-pfx-t01").hosts.items()}
        a.down()
        assert all(psutil.pid_exists(pid) for pid in before.values())
        assert netns.exists("tl-e2e-pfx-t01") and not netns.exists("tl-e2e-pfx")
    finally:
        a.down()
        b.down()


def test_two_commands_on_one_instance_never_lose_a_host(labs):
    a, _ = labs
    first = load_instance_state(A).hosts["pc2"]
    results = []

    def reboot():
        results.append(cli("reboot", "pc2", "--instance", A))

    threads = [threading.Thread(target=reboot) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    now = load_instance_state(A).hosts["pc2"]
    assert now.pid != first.pid and psutil.pid_exists(now.pid)
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).create_time() != first.started
    # exactly one pc2: one "sleep infinity" init under one unshare per host of the instance
    inits = [p for p in psutil.process_iter(["cmdline", "uids"])
             if p.info["cmdline"] and p.info["cmdline"][:1] == ["/usr/bin/tini"]]
    ours = {h.pid for h in load_instance_state(A).hosts.values()}
    assert ours <= {p.pid for p in inits}


def test_a_stale_instance_is_cleaned_by_the_next_up():
    lab = LabUnderTest("ip-plan", "e2e-stale", 31).up()
    try:
        state = load_instance_state("e2e-stale")
        for host in state.hosts.values():  # as if the machine had been restarted with the state kept
            os.kill(host.pid, 9)
        deadline = time.monotonic() + 20
        while any(running(h.pid) for h in state.hosts.values()) and time.monotonic() < deadline:
            time.sleep(0.05)  # killed: gone, or a zombie until its parent collects it
        subprocess.run(["ip", "netns", "delete", state.core], check=True)
        status = json.loads(cli("status", "--json", check=True).stdout)
        assert [i for i in status if i["instance"] == "e2e-stale"][0]["stale"] is True
        lab.up()  # cleans what was left and builds again
        assert all(psutil.pid_exists(h.pid) for h in load_instance_state("e2e-stale").hosts.values())
    finally:
        lab.down()


def test_a_failing_hook_on_the_machine_changes_nothing_in_the_hosts(labs, tmp_path):
    """Packages installed on the machine later (their ifupdown hooks) are not in the hosts."""
    a, _ = labs
    hook_dir = Path("/etc/network/if-up.d")
    created_dir = not hook_dir.exists()
    hook = hook_dir / f"zz-{MARKER}"
    hook_dir.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho machine hook ran >&2\nexit 1\n")
    hook.chmod(0o755)
    try:
        assert attempt(a, "pc1", f"ls /etc/network/if-up.d/zz-{MARKER}").returncode != 0
        a.vlab.reboot("pc1")
        a.cli("solve", check=True)
        code, results = a.grade(tmp_path)
        assert code == 0, by_status(results, "failed")
    finally:
        hook.unlink()
        if created_dir:
            for folder in (hook_dir, hook_dir.parent):
                try:
                    folder.rmdir()
                except OSError:
                    break


def test_a_second_class_with_the_same_ids_is_refused(tmp_path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    for path, name in ((first, "A"), (second, "B")):
        path.write_text(f'[class]\nname = "{name}"\nseed = 5\n[[trainees]]\nid = "iso1"\nname = "Ana"\n')
    try:
        cli("up", "file-security", "--class", str(first), check=True)
        proc = cli("up", "file-security", "--class", str(second))
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "file-security-iso1" in proc.stderr and str(first.resolve()) in proc.stderr
        proc = cli("down", "file-security", "--class", str(second))
        assert proc.returncode == 2 and "nothing was removed" in proc.stderr
        assert all(h["running"] for h in VirtualStatus.of("file-security-iso1")["hosts"].values())
    finally:
        cli("down", "file-security", "--class", str(first))


class VirtualStatus:
    @staticmethod
    def of(instance: str) -> dict:
        data = json.loads(cli("status", "--json", check=True).stdout)
        return [i for i in data if i["instance"] == instance][0]


def test_down_goes_on_past_a_step_that_fails_and_says_what_is_left(monkeypatch):
    from tspcr_lab.virtual.lab import VirtualLab
    from tspcr_lab.virtual.netns import VirtualLabError

    lab = LabUnderTest("ip-plan", "e2e-partial", 41).up()
    state = load_instance_state("e2e-partial")
    real_stop = VirtualLab._stop

    def stop(self, host):
        if host.name == "pc2":
            raise VirtualLabError("pc2: simulated failure to stop")
        real_stop(self, host)

    monkeypatch.setattr(VirtualLab, "_stop", stop)
    with pytest.raises(VirtualLabError) as info:
        lab.vlab.down()
    message = str(info.value)
    assert "\n" not in message and "pc2: simulated failure" in message and "tries again" in message
    for name in ("pc1", "r1", "srv1"):  # the other steps were done
        assert not running(state.hosts[name].pid)
    assert not netns.exists(state.core)
    assert list(load_instance_state("e2e-partial").hosts) == ["pc2"]  # what is left is still known
    monkeypatch.setattr(VirtualLab, "_stop", real_stop)
    assert lab.vlab.down() == ["pc2"]  # down again removes it
    assert not running(state.hosts["pc2"].pid) and not (STATE_ROOT / "e2e-partial").exists()


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
