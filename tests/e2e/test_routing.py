"""routing end to end, on the real virtual lab (FRR in three router hosts, sshd with vtysh as the
admin's shell, reached with netmiko): untouched, solved, after the three routers reboot, the
partial sample, a dead router, read-only grading, and the FRR driver over netmiko on a real router.
Each requirement broken alone and the other correct ways are the lab's self-test
(labs/routing/faults.toml, run by test_selftest)."""

from __future__ import annotations

import time

import pytest

from tspcr_lab.devices import DeviceSessions, FrrDriver, LoginFailed
from tspcr_lab.targets import virtual_target

from .conftest import assert_selftest_passes, by_status, module_lab

SEED = 4242
INSTANCE = "e2e-routing"
ROUTERS = ("r1", "r2", "r3")  # the trainee's work is all on the routers

ALL_CHECKS = {
    *(f"test_{name}[{r}]" for name in ("interface_addresses", "hostname", "ospf", "routing_table",
                                       "configuration_saved", "admin_password", "lan_passive") for r in ROUTERS),
    "test_backup_cost[r1]", "test_backup_cost[r3]",
    "test_planned_path[pc1-pc3]", "test_planned_path[pc3-pc1]",
    *(f"test_{name}[{pc}]" for name in ("lans_reach_each_other", "internet_access") for pc in ("pc1", "pc2", "pc3")),
}
MAXIMA = {"031": 28.0, "030": 6.0, "032": 6.0}


lab, expected = module_lab("routing", INSTANCE, SEED, ROUTERS)


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", ROUTERS)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == ALL_CHECKS
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert messages["test_hostname[r2]"] == f"nom de r2 (show version) : attendu {expected['hostnames']['r2']}, trouvé r2"
    assert messages["test_ospf[r1]"] == f"router-id OSPF de r1 : attendu {expected['router_ids']['r1']}, trouvé rien"
    assert messages["test_admin_password[r3]"] == "r3 accepte encore le mot de passe d'usine du compte admin (SSH)"
    assert "rien d'enregistré" in messages["test_configuration_saved[r1]"]
    assert all(c["hint"] for c in results["checks"])
    # reading the routers: over SSH with the factory password (the plan's was refused first)
    evidence = {c["id"]: c["evidence"] for c in results["checks"]}
    logins = [e["command"] for e in evidence["test_interface_addresses[r1]"] if e["command"].startswith("ssh admin@r1 ")]
    assert logins == ["ssh admin@r1 (172.31.0.1:22, password)"] * 2


def test_solved_lab_gets_the_maximum(lab, tmp_path):
    lab.restore("solved", ROUTERS)
    code, results = lab.grade(tmp_path)
    assert code == 0, by_status(results, "failed") | by_status(results, "error")
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {code: c["max"] for code, c in results["competencies"].items()} == MAXIMA
    assert all(c["mastered"] for c in results["competencies"].values())
    # the path check's evidence is the traceroute itself
    trace = [e for c in results["checks"] if c["id"] == "test_planned_path[pc1-pc3]" for e in c["evidence"]]
    assert any(e["command"].startswith("traceroute -n") for e in trace)


def test_solution_survives_a_reboot_of_the_three_routers(lab, tmp_path):
    lab.restore("solved", ROUTERS)
    for router in ROUTERS:
        lab.vlab.reboot(router)
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, by_status(results, "failed")


def test_sample_partial_work(lab, tmp_path):
    lab.restore("untouched", ROUTERS)
    lab.cli("solve", "--sample", "partial", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == {
        "test_configuration_saved[r1]", "test_hostname[r2]", "test_lan_passive[r2]",
        "test_backup_cost[r3]", "test_planned_path[pc3-pc1]", "test_admin_password[r3]",
    }
    assert results["score"] == sum(MAXIMA.values()) - 6


def test_a_dead_router_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", ROUTERS)
    with lab.altered("r2"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    errors = by_status(results, "error")
    assert {f"test_{name}[r2]" for name in ("interface_addresses", "hostname", "ospf", "routing_table",
                                            "configuration_saved", "admin_password", "lan_passive")} <= errors
    # through r2 or next to it: judged only with r2 up
    assert {"test_ospf[r1]", "test_ospf[r3]", "test_planned_path[pc1-pc3]", "test_lans_reach_each_other[pc2]"} <= errors
    assert len(results["checks"]) == len(ALL_CHECKS)


def test_grading_leaves_the_routers_unchanged(lab, tmp_path):
    lab.restore("solved", ROUTERS)

    def state():
        return lab.files(ROUTERS)  # the logins' records and run-time files may change

    lab.grade(tmp_path / "first")  # once: the routers just restarted, OSPF settles meanwhile
    show = "vtysh -c 'show running-config'; ip -br addr; getent shadow admin"
    configs = {r: lab.on(r, show) for r in ROUTERS}
    before = state()
    code, _ = lab.grade(tmp_path / "second")
    assert code == 0
    assert state() == before
    assert {r: lab.on(r, show) for r in ROUTERS} == configs


def test_frr_driver_over_netmiko_on_a_real_router(lab, expected):
    """The FRR driver through netmiko (cisco_ios) to the router's vtysh, from the lab's management
    namespace: login, the getters, a refused login remembered, a refused configuration line."""
    lab.restore("solved", ["r1"])
    target = virtual_target(lab.lab, INSTANCE)
    sessions = DeviceSessions(target.endpoints)
    admin = expected["admin"]
    try:
        started = time.monotonic()
        with pytest.raises(LoginFailed):
            sessions.login("r1", admin["user"], admin["default_password"], driver=FrrDriver)
        with pytest.raises(LoginFailed):  # remembered: not tried again
            sessions.login("r1", admin["user"], admin["default_password"], driver=FrrDriver)
        r1 = sessions.login("r1", admin["user"], admin["password"], driver=FrrDriver)
        assert r1.connection.nodelay
        assert time.monotonic() - started < 5
        assert r1.facts().hostname == expected["hostnames"]["r1"]
        assert r1.interfaces()["eth3"].addresses == (expected["addresses"]["r1"]["eth3"],)
        assert r1.ospf_router_id() == expected["router_ids"]["r1"]
        assert r1.ospf_interfaces()["eth0"].passive is True
        assert r1.ospf_interfaces()["eth2"].cost == expected["backup"]["cost"]
        routes = {r.prefix: r for r in r1.routes()}
        assert routes["0.0.0.0/0"].protocol == "static"
        with pytest.raises(Exception, match="refused 'ip adress 10.0.0.1/24'"):
            r1.configure(["interface eth0", "ip adress 10.0.0.1/24"])
        assert "10.0.0.1" not in r1.running_config()
    finally:
        sessions.close()


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/routing/faults.toml)."""
    assert_selftest_passes("routing")
