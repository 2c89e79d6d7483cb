"""dhcp-dns end to end, on the real virtual lab (dnsmasq on srv1, dhclient on the PCs, the grader's
probe port on the LAN as a DHCP client and a DNS resolver): untouched, solved, after every host
reboots, the partial sample, a dead srv1, a probe port cut off, read-only grading. Each
requirement broken alone and the other correct ways are the lab's self-test
(labs/dhcp-dns/faults.toml, run by test_selftest)."""

from __future__ import annotations

import pytest

from tspcr_lab.virtual import netns
from tspcr_lab.virtual.lab import probe_port_ifaces

from .conftest import assert_selftest_passes, by_status, module_lab

SEED = 4242
INSTANCE = "e2e-dhcp-dns"
WORK = ("srv1", "pc1", "pc2")  # the trainee's work is on the server and the PCs

RECORDS = ("a-srv1", "a-gw", "a-printer", "a-mail", "ptr-srv1", "ptr-gw", "ptr-printer", "cname-alias", "mx")
SERVICE_CHECKS = {
    "test_dhcp_range", "test_dhcp_reservation",
    *(f"test_dhcp_option[{o}]" for o in ("mask", "router", "dns", "domain", "lease_time")),
    *(f"test_dns_record[{r}]" for r in RECORDS),
}
PC_CHECKS = {f"test_{name}[{pc}]" for name in ("pc_lease", "pc_dhcp_persistent", "pc_resolver") for pc in ("pc1", "pc2")}
ALL_CHECKS = SERVICE_CHECKS | PC_CHECKS | {"test_dhcp_at_boot"}
MAXIMA = {"033": 21.0, "030": 6.0}


lab, expected = module_lab("dhcp-dns", INSTANCE, SEED, WORK)


def leases(lab) -> str:
    return lab.on("srv1", "cat /var/lib/misc/dnsmasq.leases 2>/dev/null || true")


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", WORK)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == ALL_CHECKS
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert messages["test_dhcp_range"] == "srv1 ne répond pas : aucune réponse DHCP à un nouveau poste"
    srv1 = expected["srv1"]
    assert messages["test_dns_record[mx]"] == (f"aucun serveur DNS n'écoute sur srv1 : port UDP 53 fermé (ICMP "
                                               f"« port unreachable » de {srv1} pour {expected['domain']})")
    assert messages["test_pc_lease[pc1]"] == "pc1 : eth0 n'a aucune adresse IPv4"
    assert messages["test_dhcp_at_boot"] == "dnsmasq ne démarre pas avec srv1 (/etc/tspcr-lab/boot-services: not listed)"
    assert all(c["hint"] for c in results["checks"])


def test_solved_lab_gets_the_maximum_and_leaves_no_lease(lab, expected, tmp_path):
    lab.restore("solved", WORK)
    before = leases(lab)
    code, results = lab.grade(tmp_path)
    assert code == 0, by_status(results, "failed") | by_status(results, "error")
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert {code: c["max"] for code, c in results["competencies"].items()} == MAXIMA
    # the probe's leases were all released: srv1 holds the PCs' leases only, as before grading
    assert leases(lab) == before and len(before.splitlines()) == 2
    evidence = {c["id"]: c["evidence"] for c in results["checks"]}
    exchange = "\n".join(e["stdout"] for e in evidence["test_dhcp_reservation"])
    assert f"ACK {expected['printer']['address']} from {expected['srv1']} to {expected['printer']['mac']}" in exchange
    assert f"RELEASE {expected['printer']['address']}" in exchange
    assert all(e["host"] == "probe port lan" for e in evidence["test_dns_record[ptr-gw]"])


def test_solution_survives_a_reboot_of_every_host(lab, tmp_path):
    lab.restore("solved", WORK)
    for host in ("srv1", "gw", "pc1", "pc2"):  # the server first, as a site restarts
        lab.vlab.reboot(host)
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS, by_status(results, "failed") | by_status(results, "error")


def test_sample_partial_work(lab, tmp_path):
    lab.restore("untouched", WORK)
    lab.cli("solve", "--sample", "partial", check=True)
    code, results = lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "failed") == {"test_dhcp_reservation", "test_dhcp_at_boot", "test_dns_record[mx]",
                                            "test_pc_dhcp_persistent[pc2]"}
    assert results["score"] == sum(MAXIMA.values()) - 5


def test_a_dead_server_gives_errors_never_failures(lab, tmp_path):
    lab.restore("solved", WORK)
    with lab.altered("srv1"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    assert SERVICE_CHECKS | {"test_dhcp_at_boot", "test_pc_resolver[pc1]", "test_pc_resolver[pc2]"} <= by_status(results, "error")
    # what is read on the PCs alone is still judged
    assert {"test_pc_lease[pc1]", "test_pc_dhcp_persistent[pc2]"} <= by_status(results, "passed")


def test_a_probe_port_cut_off_gives_errors(lab, tmp_path):
    """The grader's own cable unplugged (its bridge end down): the probe hears neither srv1 nor
    gw, which is the grader's problem, never the trainee's failure nor a pass."""
    lab.restore("solved", WORK)
    _, bridge_end = probe_port_ifaces("lan")
    netns.ip("-n", lab.vlab.core, "link", "set", bridge_end, "down")
    try:
        code, results = lab.grade(tmp_path)
    finally:
        netns.ip("-n", lab.vlab.core, "link", "set", bridge_end, "up")
    assert code == 3 and by_status(results, "failed") == set()
    assert SERVICE_CHECKS == by_status(results, "error")
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "the probe is not on the LAN" in messages["test_dns_record[a-gw]"]
    assert PC_CHECKS | {"test_dhcp_at_boot"} == by_status(results, "passed")


def test_grading_leaves_the_hosts_unchanged(lab, tmp_path):
    """Grading only reads: the probe's leases are released, nothing is configured. dnsmasq
    rewrites its lease file when the probe takes and releases a lease (a DHCP client on the LAN
    does that): its content is compared, not its time."""
    lab.restore("solved", WORK)

    def state():
        return lab.files(WORK, exact={"srv1": ("var/lib/misc", "var/lib/misc/dnsmasq.leases")})

    lab.grade(tmp_path / "first")
    show = {"srv1": "cat /etc/dnsmasq.d/*.conf /var/lib/misc/dnsmasq.leases; ip -br addr",
            "pc1": "ip -br -4 addr show dev eth0; cat /etc/resolv.conf /var/lib/dhcp/dhclient*.leases",
            "pc2": "ip -br -4 addr show dev eth0; cat /etc/resolv.conf /var/lib/dhcp/dhclient*.leases"}
    configs = {h: lab.on(h, script) for h, script in show.items()}
    before = state()
    code, _ = lab.grade(tmp_path / "second")
    assert code == 0
    assert state() == before
    assert {h: lab.on(h, script) for h, script in show.items()} == configs


def test_selftest():
    """Each requirement broken alone, and the other correct ways (labs/dhcp-dns/faults.toml); three
    copies side by side (each fresh DHCP address costs dnsmasq's 3 s ping, not CPU)."""
    assert_selftest_passes("dhcp-dns", "--copies", "3")
