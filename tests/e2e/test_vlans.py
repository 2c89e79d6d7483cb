"""vlans end to end, on the real virtual lab (Open vSwitch in two switch hosts): untouched,
solved, after both switches reboot, the partial sample, a dead switch, read-only grading, the
grader's probe port on the trunk's cable (what it hears, a probe cut off is an error). Each
requirement broken alone and the other correct ways are the lab's self-test
(labs/vlans/faults.toml, run by test_selftest)."""

from __future__ import annotations

import subprocess

import pytest

from tspcr_lab.context import open_context
from tspcr_lab.probes.frames import open_probe_port

from .conftest import assert_selftest_passes, by_status, module_lab

SEED = 4242
INSTANCE = "e2e-vlans"
SWITCHES = ("sw1", "sw2")  # the trainee's work is all on the switches

ALL_CHECKS = {
    *(f"test_access_vlan[{pc}]" for pc in ("pc1", "pc2", "adm", "pc3", "pc4")),
    *(f"test_{name}[{sw}]" for name in ("trunk", "management_address", "management_persistent",
                                        "adm_reaches_switch", "labels", "unused_ports", "vlans_isolated",
                                        "trunk_drops_other_vlans")
      for sw in SWITCHES),
    "test_same_vlan[a]", "test_same_vlan[b]",
}
MAXIMA = {"031": 19.0, "029": 2.0, "032": 8.0}


lab, expected = module_lab("vlans", INSTANCE, SEED, SWITCHES)


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", SWITCHES)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    # A factory switch is one LAN: PCs of one department do reach each other, nothing else holds.
    assert by_status(results, "passed") == {"test_same_vlan[a]", "test_same_vlan[b]"}
    assert by_status(results, "failed") == ALL_CHECKS - {"test_same_vlan[a]", "test_same_vlan[b]"}
    messages = {c["id"]: c["message"] for c in results["checks"]}
    a = expected["vlan_ids"]["a"]
    assert messages["test_access_vlan[pc1]"] == f"mode et VLAN du port sw1 p1 (pc1) : attendu access {a}, trouvé trunk toutes / all"
    trunk = ",".join(str(v) for v in expected["trunk"]["vlans"])
    assert messages["test_trunk[sw2]"] == f"VLAN transportés par le trunk sw2 p6 : attendu {trunk}, trouvé toutes / all"
    assert "joint pc2" in messages["test_vlans_isolated[sw1]"]
    # The factory trunk carries every VLAN: the frame tagged outside the plan was learned on p6.
    assert messages["test_trunk_drops_other_vlans[sw1]"].startswith(
        "VLAN hors du plan acceptés par le trunk sw1 p6 (trames étiquetées envoyées : VLAN ")
    assert all(c["hint"] for c in results["checks"] if c["status"] == "failed")


def test_solved_lab_gets_the_maximum(lab, tmp_path):
    lab.restore("solved", SWITCHES)
    code, results = lab.grade(tmp_path)
    assert code == 0, by_status(results, "failed") | by_status(results, "error")
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {code: c["max"] for code, c in results["competencies"].items()} == MAXIMA
    assert all(c["mastered"] for c in results["competencies"].values())


def test_solution_survives_a_reboot_of_both_switches(lab, tmp_path):
    lab.restore("solved", SWITCHES)
    for switch in SWITCHES:
        lab.vlab.reboot(switch)
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, by_status(results, "failed")


def test_sample_partial_work(lab, tmp_path):
    lab.restore("untouched", SWITCHES)
    lab.cli("solve", "--sample", "partial", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == {
        "test_unused_ports[sw1]", "test_trunk[sw1]", "test_trunk_drops_other_vlans[sw1]",
        "test_access_vlan[pc4]", "test_same_vlan[b]", "test_vlans_isolated[sw2]", "test_labels[sw2]",
        "test_management_persistent[sw2]",
    }
    assert results["score"] == sum(MAXIMA.values()) - (1 + 2 + 1 + 1 + 2 + 2 + 1 + 1)


def test_a_dead_switch_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", SWITCHES)
    with lab.altered("sw2"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    errors = by_status(results, "error")
    assert {"test_trunk[sw2]", "test_labels[sw2]", "test_unused_ports[sw2]", "test_same_vlan[a]",
            "test_adm_reaches_switch[sw2]", "test_access_vlan[pc3]", "test_trunk_drops_other_vlans[sw2]"} <= errors
    assert len(results["checks"]) == len(ALL_CHECKS)


def test_grading_leaves_the_switches_unchanged(lab, tmp_path):
    lab.restore("solved", SWITCHES)

    def state():
        return lab.files(SWITCHES)  # OVS's own logs under var/log are allowed to grow

    configs = {sw: lab.on(sw, "ovs-vsctl show; ip -br addr; ip -br link") for sw in SWITCHES}
    before = state()
    code, _ = lab.grade(tmp_path)
    assert code == 0
    assert state() == before
    assert {sw: lab.on(sw, "ovs-vsctl show; ip -br addr; ip -br link") for sw in SWITCHES} == configs


def test_probe_port_hears_the_trunk_tagged_and_lives_in_the_lab_only(lab, expected):
    """The grader's port on the trunk's cable hears what crosses it as it is on the wire: pc1's
    ARP request for an absent neighbour, tagged with VLAN A (the tag the kernel hands apart is put
    back). The port's bridge end is in the instance's core namespace, the grader's end in a
    namespace of its own, neither in the machine's."""
    lab.restore("solved", SWITCHES)
    context = open_context("vlans", instance=INSTANCE)
    try:
        mac = lab.on("pc1", "cat /sys/class/net/eth0/address").strip()
        absent = expected["vlans"]["a"]["subnet"].rsplit(".", 1)[0] + ".254"
        with open_probe_port(context, "trunk") as port:
            port.drain()
            lab.on("pc1", f"ping -c 1 -W 1 {absent} >/dev/null 2>&1 &")
            frame = port.receive(3, lambda f: f.src == mac and f.ethertype == 0x0806)
    finally:
        context.hosts.close()
    assert frame is not None and frame.vlan == expected["vlan_ids"]["a"] and frame.dst == "ff:ff:ff:ff:ff:ff"
    for iface in ("pr_trunk", "pb_trunk"):
        assert subprocess.run(["ip", "link", "show", "dev", iface], capture_output=True).returncode != 0
    core = lab.vlab.load_state().core
    assert "master c16" in subprocess.run(["ip", "-n", core, "link", "show", "dev", "pb_trunk"],
                                          capture_output=True, text=True, check=True).stdout
    assert subprocess.run(["ip", "-n", core, "link", "show", "dev", "pr_trunk"], capture_output=True).returncode != 0
    own = subprocess.run(["ip", "-n", f"{core}.trunk", "-br", "link"], capture_output=True, text=True, check=True).stdout
    assert sorted(line.split()[0].split("@")[0] for line in own.splitlines()) == ["lo", "pr_trunk"]


def test_a_probe_port_cut_off_gives_errors_never_a_pass(lab, tmp_path):
    """Without the control (no frame of a plan's VLAN learned: here the grader's own port is cut
    off from the cable), the trunk's filtering cannot be told: an error for each switch."""
    lab.restore("solved", SWITCHES)
    core = lab.vlab.load_state().core
    subprocess.run(["ip", "-n", core, "link", "set", "pb_trunk", "down"], check=True)
    try:
        code, results = lab.grade(tmp_path)
    finally:
        subprocess.run(["ip", "-n", core, "link", "set", "pb_trunk", "up"], check=True)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "error") == {"test_trunk_drops_other_vlans[sw1]", "test_trunk_drops_other_vlans[sw2]"}
    assert by_status(results, "passed") == ALL_CHECKS - by_status(results, "error")
    message = next(c["message"] for c in results["checks"] if c["id"] == "test_trunk_drops_other_vlans[sw1]")
    assert "no frame tagged with a VLAN of the plan" in message and "cannot be told" in message


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/vlans/faults.toml)."""
    assert_selftest_passes("vlans")
