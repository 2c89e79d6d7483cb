"""proxy end to end, on the real virtual lab (squid on gw, nginx on web, curl as the PCs' users,
the grader's probe hosts on the LAN and on the internet side): untouched, solved, after every
host reboots, the partial sample, a dead gateway, read-only grading. Each requirement broken
alone and the other correct ways are the lab's self-test (labs/proxy/faults.toml, run by
test_selftest)."""

from __future__ import annotations

import pytest


from .conftest import assert_selftest_passes, by_status, module_lab

SEED = 4242
INSTANCE = "e2e-proxy"
WORK = ("gw", "pc1", "pc2")  # the trainee's work is on the gateway and the PCs

ALL_CHECKS = {
    "test_proxy_serves_lan", "test_direct_web_blocked", "test_not_an_open_proxy", "test_firewall_saved",
    "test_access_log",
    *(f"test_{name}[{pc}]" for name in ("allowed_sites", "blocked_sites", "no_direct_access_from_pc",
                                        "user_environment", "apt_proxy", "browser_policy") for pc in ("pc1", "pc2")),
}
MAXIMA = {"031": 13.0, "032": 10.0}


lab, expected = module_lab("proxy", INSTANCE, SEED, WORK)


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", WORK)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == ALL_CHECKS
    messages = {c["id"]: c["message"] for c in results["checks"]}
    proxy = f"{expected['gw']['lan']}:{expected['port']}"
    web = expected["web"]["address"]
    site = expected["allowed"][0]
    assert messages["test_direct_web_blocked"] == (f"depuis le réseau local, le web direct vers {web} passe encore : "
                                                   f"port 80 (SYN-ACK ttl 63), 443 (SYN-ACK ttl 63)")
    assert messages["test_no_direct_access_from_pc[pc1]"].startswith(
        f"pc1 ({expected['pcs']['pc1']['users'][0]}) joint le site en direct, sans le proxy : http://{site}/: HTTP 200 via {web}:80")
    assert messages["test_firewall_saved"] == ("nftables n'est pas chargé au démarrage de gw (nftables service: "
                                               "/etc/tspcr-lab/boot-services: not listed; no ifupdown line or hook "
                                               "runs nft -f)")
    assert messages["test_browser_policy[pc2]"] == f"pc2 : {expected['policy_file']} n'existe pas"
    if expected["port"] != 3128:  # Debian's squid listens on 3128
        assert messages["test_proxy_serves_lan"] == f"rien n'écoute sur {proxy} (gw, port du proxy) depuis le réseau local"
    assert all(c["hint"] for c in results["checks"])


def test_solved_lab_gets_the_maximum(lab, expected, tmp_path):
    lab.restore("solved", WORK)
    code, results = lab.grade(tmp_path)
    assert code == 0, by_status(results, "failed") | by_status(results, "error")
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {code: c["max"] for code, c in results["competencies"].items()} == MAXIMA
    evidence = {c["id"]: c["evidence"] for c in results["checks"]}
    # the users' requests: curl in a login environment, no proxy named
    user = expected["pcs"]["pc1"]["users"][0]
    commands = [e["command"] for e in evidence["test_allowed_sites[pc1]"]]
    assert commands and all(c.startswith(f"su - {user} -c ") and "--proxy" not in c and " -x " not in c for c in commands)
    # the probes: SYNs from the LAN probe, the control from the internet probe
    hosts = {e["host"] for e in evidence["test_direct_web_blocked"]}
    assert {"probe port lan", "probe port wan"} <= hosts


def test_solution_survives_a_reboot_of_every_host(lab, tmp_path):
    lab.restore("solved", WORK)
    for host in ("gw", "web", "pc1", "pc2"):
        lab.vlab.reboot(host)
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, by_status(results, "failed") | by_status(results, "error")


def test_sample_partial_work(lab, tmp_path):
    lab.restore("untouched", WORK)
    lab.cli("solve", "--sample", "partial", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == {
        "test_blocked_sites[pc1]", "test_blocked_sites[pc2]", "test_firewall_saved",
        "test_browser_policy[pc1]", "test_apt_proxy[pc2]",
    }
    assert results["score"] == sum(MAXIMA.values()) - 7


def test_a_dead_gateway_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", WORK)
    with lab.altered("gw"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    assert {"test_proxy_serves_lan", "test_direct_web_blocked", "test_not_an_open_proxy", "test_firewall_saved",
            "test_access_log", "test_allowed_sites[pc1]", "test_blocked_sites[pc2]",
            "test_no_direct_access_from_pc[pc1]"} <= by_status(results, "error")
    # what is read on the PCs alone is still judged
    assert {"test_user_environment[pc1]", "test_apt_proxy[pc2]", "test_browser_policy[pc1]"} <= by_status(results, "passed")


def test_grading_leaves_the_hosts_unchanged(lab, tmp_path):
    """Grading only reads. What changes is squid's log of the checks' own requests (the proxy
    doing its job: the log check looks for them), the logins' records and run-time files."""
    lab.restore("solved", WORK)

    def state():
        return lab.files(WORK, also=("var/spool/squid",))

    lab.grade(tmp_path / "first")
    show = {"gw": "nft list ruleset; cat /etc/squid/squid.conf /etc/squid/conf.d/*.conf; ip -br addr",
            "pc1": "cat /etc/environment; apt-config dump | grep -i proxy; ls -la /home/*",
            "pc2": "cat /etc/environment; apt-config dump | grep -i proxy; ls -la /home/*"}
    configs = {h: lab.on(h, script) for h, script in show.items()}
    log_before = lab.on("gw", "wc -l < /var/log/squid/access.log")
    before = state()
    code, _ = lab.grade(tmp_path / "second")
    assert code == 0
    assert state() == before
    assert {h: lab.on(h, script) for h, script in show.items()} == configs
    # the log grew by the checks' own requests only
    assert int(lab.on("gw", "wc -l < /var/log/squid/access.log")) > int(log_before)


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/proxy/faults.toml)."""
    assert_selftest_passes("proxy")
