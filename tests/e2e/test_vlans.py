"""vlans end to end, on the real virtual lab (Open vSwitch in two switch hosts): untouched,
solved, after both switches reboot, the partial sample, a dead switch, read-only grading. Each
requirement broken alone and the other correct ways are the lab's self-test
(labs/vlans/faults.toml, run by test_selftest)."""

from __future__ import annotations

import pytest

from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, tree_digest

SEED = 4242
INSTANCE = "e2e-vlans"
SWITCHES = ("sw1", "sw2")  # the trainee's work is all on the switches

ALL_CHECKS = {
    *(f"test_access_vlan[{pc}]" for pc in ("pc1", "pc2", "adm", "pc3", "pc4")),
    *(f"test_{name}[{sw}]" for name in ("trunk", "management_address", "management_persistent",
                                        "adm_reaches_switch", "labels", "unused_ports", "vlans_isolated")
      for sw in SWITCHES),
    "test_same_vlan[a]", "test_same_vlan[b]",
}
MAXIMA = {"031": 19.0, "029": 2.0, "032": 6.0}


@pytest.fixture(scope="module")
def lab():
    under_test = LabUnderTest("vlans", INSTANCE, SEED).up_with_snapshots(list(SWITCHES))
    yield under_test
    under_test.down()


@pytest.fixture(scope="module")
def expected(lab):
    return generate(lab.lab, SEED).expected


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
        "test_unused_ports[sw1]", "test_trunk[sw1]",
        "test_access_vlan[pc4]", "test_same_vlan[b]", "test_vlans_isolated[sw2]", "test_labels[sw2]",
        "test_management_persistent[sw2]",
    }
    assert results["score"] == sum(MAXIMA.values()) - (1 + 2 + 1 + 2 + 2 + 1 + 1)


def test_a_dead_switch_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", SWITCHES)
    with lab.altered("sw2"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    errors = by_status(results, "error")
    assert {"test_trunk[sw2]", "test_labels[sw2]", "test_unused_ports[sw2]", "test_same_vlan[a]",
            "test_adm_reaches_switch[sw2]", "test_access_vlan[pc3]"} <= errors
    assert len(results["checks"]) == len(ALL_CHECKS)


def test_grading_leaves_the_switches_unchanged(lab, tmp_path):
    lab.restore("solved", SWITCHES)

    def state():
        # The switch's configuration and files; OVS's own logs under var/log are allowed to grow.
        return {sw: {path: digest for path, digest in tree_digest(lab.vlab.host_dir(sw) / "upper").items()
                     if not path.startswith(("var/log", "run/", "var/run"))} for sw in SWITCHES}

    configs = {sw: lab.on(sw, "ovs-vsctl show; ip -br addr; ip -br link") for sw in SWITCHES}
    before = state()
    code, _ = lab.grade(tmp_path)
    assert code == 0
    assert state() == before
    assert {sw: lab.on(sw, "ovs-vsctl show; ip -br addr; ip -br link") for sw in SWITCHES} == configs


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/vlans/faults.toml)."""
    assert_selftest_passes("vlans")
