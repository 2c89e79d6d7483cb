"""Real stations for real (issue 8): every lab set up and graded through a pyinfra inventory, on
stations that the virtual engine did not build and that are reached only over SSH.

For each lab of labs/, :class:`~tests.e2e.stations.Stations` builds one station per host of the
lab file (its own namespaces, an overlay of the hosts' image, its own host key, root's
authorized_keys holding the test's key, sshd and the lab's services started by a Debian-like
boot), cabled per the lab file's [[links]] to bridges in a switch namespace, and reachable on the
lab's [management] addresses from an admin namespace only. Then, as an instructor with real PCs
does, the real command line runs in the admin namespace (no traffic in the machine's own
network namespace) with an inventory file (ssh_hostname, ssh_user, ssh_key, ssh_known_hosts_file):

* ``up LAB --inventory FILE --seed N``: the lab's starting state (deploy.py), over SSH;
* ``grade``: the untouched state fails every check (those the virtual e2e tests say fail), none in
  error;
* ``solve``, then ``grade``: the maximum, no error;
* and the stations hold no file of the virtual engine's (/etc/tspcr-lab, /run/boot.log): no deploy
  or solution needed one, and no check could lean on one.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tspcr_lab.labfile import available_labs, load_lab

from .stations import Stations, image_info

SEED = 4242
# troubleshoot-system's seed 4242 draws ws1-disk-full, which fills a small disk only (a station's
# root is a folder of the machine's disk): 4253 draws ws1-account-expired, ws1-rogue-cron and
# srv1-nginx-corrupted
SEEDS = {"troubleshoot-system": 4253}
TRAINEE = "Test Trainee"
# A lab with radio VMs needs 802.11 radios: the stations here are namespaces on the machine's
# kernel, which has no wireless stack (the wifi-security e2e test runs its real VM instead).
LABS = [lab for lab in available_labs() if not load_lab(lab).radios]
# Checks that pass on a lab's untouched state: they check what the lab's own server guarantees.
PASS_UNTOUCHED = {"mail-client": {"test_server_refuses_plaintext_login"},
                  # a factory switch is one LAN: PCs of one department do reach each other
                  "vlans": {"test_same_vlan[a]", "test_same_vlan[b]"},
                  # a factory firewall lets everything through: what must be reachable is
                  "firewall": {"test_guest_reaches_dmz", "test_staff_reaches_dmz", "test_admin_ssh[fw]",
                               "test_admin_ssh[srv1]", "test_admin_ssh[web]"},
                  # the faults just injected, nothing else touched: no collateral damage (the ledger
                  # of a real station lives on the grader's side, ~/.local/state/tspcr-lab)
                  "troubleshoot-network": {"test_no_damage[1]", "test_no_damage[2]", "test_no_damage_elsewhere"},
                  "troubleshoot-system": {"test_no_damage[1]", "test_no_damage[2]", "test_no_damage[3]",
                                          "test_no_damage_elsewhere"},
                  "remote-support": {"test_only_path", "test_no_damage[1]", "test_no_damage_elsewhere"}}
MAIL_READY = "for i in $(seq 100); do ss -ltn | grep -q ':993 ' && ss -ltn | grep -q ':587 ' && exit 0; sleep 0.1; done; exit 1"
# Run on a station once the lab's starting state is applied / once the solution is, before grading
# (what a trainee's work takes to settle: a message on its way to the mailbox).
READY_AFTER_UP = {"mail-client": [("srv1", MAIL_READY)]}
READY_AFTER_SOLVE = {
    "mail-client": [("srv1", "for i in $(seq 100); do ls /home/{recipient_login}/Maildir/new | grep -q . && exit 0; "
                             "sleep 0.1; done; exit 1")],
}
VIRTUAL_ONLY = ["/etc/tspcr-lab", "/run/boot.log", "/usr/local/lib/tspcr-lab"]  # what only a virtual host has


class RealLab:
    """One lab on its real stations, driven through the real CLI in the admin namespace."""

    def __init__(self, lab_id: str, stations: Stations, root: Path):
        self.lab_id, self.stations, self.root = lab_id, stations, root
        self.times: dict[str, float] = {}
        self.untouched: dict | None = None

    def cli(self, command: str, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        t0 = time.monotonic()
        proc = self.stations.cli(command, *args, check=check)
        self.times[command] = self.times.get(command, 0.0) + time.monotonic() - t0
        return proc

    def grade(self, name: str) -> tuple[int, dict]:
        out = self.root / f"grade-{name}"
        proc = self.cli("grade", "--seed", str(SEEDS.get(self.lab_id, SEED)), "--trainee", TRAINEE, "--out", str(out))
        assert (out / "results.json").is_file(), proc.stdout + proc.stderr
        return proc.returncode, json.loads((out / "results.json").read_text())

    def settle(self, steps) -> None:
        expected = self.expected()
        for host, script in steps.get(self.lab_id, []):
            self.stations.ssh(host, script.format(**expected))

    def expected(self) -> dict:
        from tspcr_lab.params import generate

        return generate(load_lab(self.lab_id), SEEDS.get(self.lab_id, SEED)).expected


def statuses(results: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for check in results["checks"]:
        found.setdefault(check["status"], set()).add(check["id"])
    return found


def not_passed(results: dict) -> list[tuple[str, str, str]]:
    return [(c["id"], c["status"], c["message"]) for c in results["checks"] if c["status"] != "passed"]


@pytest.fixture(scope="module", params=LABS)
def real_lab(request, tmp_path_factory):
    """The lab's stations, built, cabled and answering SSH, with the lab's starting state applied
    through the inventory (``up --inventory``); removed (every process killed by pid, every
    namespace deleted) after the lab's tests."""
    if os.geteuid() != 0:
        pytest.skip("real stations are built with namespaces: run as root")
    info = image_info()
    if not info.get("built"):
        pytest.skip(f"the hosts' image is not built (tspcr-lab image build): {info.get('why', '')}")
    lab = load_lab(request.param)
    t0 = time.monotonic()
    stations = Stations(lab, Path(info["path"]), int(info["uid"]), int(info["gid"])).up()
    real = RealLab(request.param, stations, tmp_path_factory.mktemp(f"rs-{request.param}"))
    real.times["stations"] = time.monotonic() - t0
    try:
        real.cli("up", "--seed", str(SEEDS.get(request.param, SEED)), "--trainee", TRAINEE, check=True)
        real.settle(READY_AFTER_UP)
        yield real
    finally:
        t1 = time.monotonic()
        stations.down()
        real.times["down"] = time.monotonic() - t1
        real.times["total"] = time.monotonic() - t0
        print(f"\n{request.param}: " + ", ".join(f"{k} {v:.1f} s" for k, v in real.times.items()))


def test_untouched_state_fails_without_errors(real_lab):
    code, results = real_lab.grade("untouched")
    real_lab.untouched = results
    found = statuses(results)
    assert not found.get("error"), not_passed(results)
    assert code == 1, not_passed(results)
    assert results["checks"] and results["complete"] is True
    assert found.get("passed", set()) == PASS_UNTOUCHED.get(real_lab.lab_id, set()), found
    assert found["failed"] == {c["id"] for c in results["checks"]} - PASS_UNTOUCHED.get(real_lab.lab_id, set())
    passed = PASS_UNTOUCHED.get(real_lab.lab_id, set())
    assert results["score"] == sum(c["earned"] for c in results["checks"] if c["id"] in passed)
    assert results["max_score"] > results["score"]
    assert results["seed"] == SEEDS.get(real_lab.lab_id, SEED) and results["trainee"] == TRAINEE and results["lab"] == real_lab.lab_id


def test_solution_scores_the_maximum(real_lab):
    real_lab.cli("solve", "--seed", str(SEEDS.get(real_lab.lab_id, SEED)), check=True)
    real_lab.settle(READY_AFTER_SOLVE)
    code, results = real_lab.grade("solved")
    assert code == 0, not_passed(results)
    assert statuses(results) == {"passed": {c["id"] for c in results["checks"]}}
    assert results["score"] == results["max_score"] > 0 and results["complete"] is True
    assert all(c["mastered"] and c["complete"] and not c["critical_failed"] for c in results["competencies"].values())
    if real_lab.untouched is not None:  # the same checks, the same maximum as on the untouched state
        assert {c["id"] for c in results["checks"]} == {c["id"] for c in real_lab.untouched["checks"]}
        assert results["max_score"] == real_lab.untouched["max_score"]


def test_stations_hold_no_virtual_lab_file(real_lab):
    """Neither the lab's deploy nor its solution made a real station look like a virtual host."""
    for host in real_lab.stations.stations:
        found = real_lab.stations.ssh(host, " ".join(["for p in", *VIRTUAL_ONLY, '; do test -e "$p" && echo "$p"; done; true']))
        assert found.split() == [], f"{host}: {found.split()}"


def test_lab_traffic_stays_in_the_test_namespaces(real_lab):
    """The grader's namespace reaches the stations and nothing else; the machine's own namespace
    holds none of the test's links."""
    stations = real_lab.stations
    routes = stations.in_admin(["ip", "-4", "route", "show"]).stdout.split("\n")
    assert sorted(r.split()[0] for r in routes if r.strip()) == sorted(s.address for s in stations.stations.values())
    ours = {f"a-{name}" for name in stations.stations} | {end for s in stations.stations.values() for *_, end in s.links}
    machine = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    assert not ours & {line.split(":")[1].strip().split("@")[0] for line in machine.splitlines()}
