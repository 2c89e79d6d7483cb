"""firewall end to end, on the real virtual lab (nftables on fw, nginx on web, dnsmasq on srv1,
sshd everywhere, the grader's probe ports in the three zones): untouched, solved, after fw
reboots, the partial sample, a dead server, read-only grading. Each requirement broken alone and
the other correct ways are the lab's self-test (labs/firewall/faults.toml, run by test_selftest)."""

from __future__ import annotations

import pytest

from tspcr_lab.virtual import netns
from tspcr_lab.virtual.lab import probe_port_ifaces

from .conftest import assert_selftest_passes, by_status, module_lab

SEED = 4242
INSTANCE = "e2e-firewall"
WORKED_ON = ("fw", "srv1", "web")  # the trainee's work: fw's firewall and service, the passwords

ALL_CHECKS = {
    "test_guest_reaches_dmz", "test_staff_reaches_dmz", "test_guest_nothing_else", "test_dmz_opens_nothing",
    *(f"test_ssh_from_admin_only[{zone}]" for zone in ("staff", "guest", "dmz")),
    *(f"test_{name}[{device}]" for name in ("admin_ssh", "default_password") for device in WORKED_ON),
    "test_needless_service_off", "test_ruleset_saved",
}
MAXIMA = {"032": 14.0, "022": 6.0}


lab, expected = module_lab("firewall", INSTANCE, SEED, WORKED_ON)


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", WORKED_ON)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    # the factory firewall lets everything through: what must work works, nothing is blocked
    passing = {"test_guest_reaches_dmz", "test_staff_reaches_dmz", *(f"test_admin_ssh[{d}]" for d in WORKED_ON)}
    assert by_status(results, "passed") == passing
    assert by_status(results, "failed") == ALL_CHECKS - passing
    messages = {c["id"]: c["message"] for c in results["checks"]}
    adm = expected["hosts"]["adm"]["address"]
    assert f"adm ({adm}) TCP 22" in messages["test_dmz_opens_nothing"]
    assert messages["test_default_password[web]"] == "web accepte encore le mot de passe par défaut du compte admin (SSH)"
    assert messages["test_needless_service_off"] == (f"fw écoute encore sur le port TCP {expected['needless']['port']} "
                                                     "(nginx tourne toujours)")
    assert "ne filtre pas le trafic routé" in messages["test_ruleset_saved"]
    assert all(c["hint"] for c in results["checks"] if c["status"] == "failed")
    # the blocked-flow checks' evidence holds the probe's packets and its controls
    evidence = [e for c in results["checks"] if c["id"] == "test_ssh_from_admin_only[guest]" for e in c["evidence"]]
    assert any(e["host"] == "probe port guest" for e in evidence)
    assert any(e["command"].startswith("ss -Hlntu") for e in evidence)


def test_solved_lab_gets_the_maximum(lab, tmp_path):
    lab.restore("solved", WORKED_ON)
    code, results = lab.grade(tmp_path)
    assert code == 0, by_status(results, "failed") | by_status(results, "error")
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {code: c["max"] for code, c in results["competencies"].items()} == MAXIMA
    assert all(c["mastered"] for c in results["competencies"].values())


def test_solution_survives_a_reboot_of_fw(lab, tmp_path):
    lab.restore("solved", WORKED_ON)
    lab.vlab.reboot("fw")
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, by_status(results, "failed")


def test_a_rule_loaded_by_hand_only_is_lost_at_reboot(lab, tmp_path):
    """The guests' web rule in force but not in /etc/nftables.conf: judged as not saved; after a
    reboot it is gone, as the check announced (the guests no longer reach web), and what runs is the file."""
    lab.restore("solved", WORKED_ON)
    lab.on("fw", "sed -i '/tcp dport { 80, 443 } accept/d' /etc/nftables.conf")
    code, results = lab.grade(tmp_path / "before")
    assert code == 1 and by_status(results, "failed") == {"test_ruleset_saved"}
    lab.vlab.reboot("fw")
    code, results = lab.grade(tmp_path / "after")
    assert code == 1 and by_status(results, "failed") == {"test_guest_reaches_dmz"}


def test_sample_partial_work(lab, tmp_path):
    lab.restore("untouched", WORKED_ON)
    lab.cli("solve", "--sample", "partial", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == {
        "test_guest_nothing_else", "test_ssh_from_admin_only[staff]", "test_default_password[web]",
        "test_needless_service_off", "test_ruleset_saved",
    }
    assert results["score"] == sum(MAXIMA.values()) - 7


def test_a_dead_server_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", WORKED_ON)
    with lab.altered("srv1"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    assert by_status(results, "error") == {
        "test_guest_reaches_dmz", "test_staff_reaches_dmz", "test_ssh_from_admin_only[staff]",
        "test_ssh_from_admin_only[guest]", "test_admin_ssh[srv1]", "test_default_password[srv1]",
    }
    assert len(results["checks"]) == len(ALL_CHECKS)


def test_grading_leaves_the_devices_unchanged(lab, tmp_path):
    lab.restore("solved", WORKED_ON)

    def state():
        return lab.files(WORKED_ON)  # the logins' records (wtmp, btmp, lastlog) and run-time files may change

    lab.grade(tmp_path / "first")
    show = "nft list ruleset; ip -br addr; ss -Hlnt; getent shadow admin"
    before_state, before = state(), {h: lab.on(h, show) for h in WORKED_ON}
    code, _ = lab.grade(tmp_path / "second")
    assert code == 0
    assert state() == before_state
    assert {h: lab.on(h, show) for h in WORKED_ON} == before


def test_a_probe_port_cut_off_gives_errors(lab, tmp_path):
    """The guests' probe cable unplugged (its bridge end down): the guest zone's checks are the
    grader's errors (fw does not answer ARP there), never passes ("nothing open") nor failures;
    the other zones are still judged."""
    lab.restore("solved", WORKED_ON)
    _, bridge_end = probe_port_ifaces("guest")
    netns.ip("-n", lab.vlab.core, "link", "set", bridge_end, "down")
    try:
        code, results = lab.grade(tmp_path)
    finally:
        netns.ip("-n", lab.vlab.core, "link", "set", bridge_end, "up")
    assert code == 3 and by_status(results, "failed") == set()
    guest = {"test_guest_reaches_dmz", "test_guest_nothing_else", "test_ssh_from_admin_only[guest]"}
    assert guest <= by_status(results, "error")
    assert {"test_staff_reaches_dmz", "test_dmz_opens_nothing", "test_ssh_from_admin_only[staff]",
            "test_ruleset_saved"} <= by_status(results, "passed")


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/firewall/faults.toml)."""
    assert_selftest_passes("firewall")
