"""The IP probe toolkit's remote path, for real: a real lab's grader-owned probe host runs
tspcr_lab/probes/wire.py with its own python3 over the host's channel (here a virtual host of the
ip-plan lab, pc2, stands for the probe host: Debian's python3 and iproute2, no scapy), gives its
interface the probe's address and a default route for that address in a table of its own, and
probes srv1 on the other LAN through r1: SYN (of one target, and of two at once), UDP, DNS, ARP,
TCP connect. The local path (the virtual lab's probe namespaces) is exercised by the firewall,
dhcp-dns and proxy labs' e2e."""

from __future__ import annotations

import ipaddress

import pytest

from tspcr_lab.context import open_context
from tspcr_lab.errors import ProbeError
from tspcr_lab.params import generate
from tspcr_lab.probes.packets import Prober, RemoteLink

from .conftest import LabUnderTest

SEED = 515
INSTANCE = "e2e-probes"


@pytest.fixture(scope="module")
def lab():
    under_test = LabUnderTest("ip-plan", INSTANCE, SEED).up()
    yield under_test
    under_test.down()


@pytest.fixture
def remote(lab):
    expected = generate(lab.lab, SEED).expected
    lan_a = ipaddress.IPv4Network(expected["lan_a"])
    interface = ipaddress.IPv4Interface(f"{lan_a.broadcast_address - 3}/{lan_a.prefixlen}")
    context = open_context("ip-plan", instance=INSTANCE)
    evidence = []
    link = RemoteLink("lana", interface, ipaddress.IPv4Address(expected["gateway_a"]), context.hosts["pc2"], "eth0")
    prober = Prober(link, lambda what, detail: evidence.append((what, detail)))
    yield prober, expected, evidence
    context.hosts.close()


def test_a_remote_probe_host_probes_through_the_router(lab, remote):
    prober, expected, evidence = remote
    server = expected["dns"]
    assert prober.arp(expected["gateway_a"]) is not None
    found = prober.syn(server, [22, 53, 81])
    assert {p: r.state for p, r in found.items()} == {22: "open", 53: "open", 81: "closed"}
    assert found[22].detail.startswith("SYN-ACK ttl 63")  # one router on the way
    assert prober.udp(server, [54])[54].state == "closed"
    answer = prober.dns(server, expected["server_name"])
    assert answer.rcode == "NOERROR" and answer.values() == [server]
    assert prober.dns(server, server, "PTR").values() == [expected["server_name"]]
    assert (prober.connect(server, 22, timeout=2) or b"").startswith(b"SSH-2.0-")
    # the probe host's interface holds the probe's address, routed by a table of its own
    state = lab.on("pc2", f"ip -4 -br addr show dev eth0; ip rule list; ip route show table {prober.link.table}")
    assert str(prober.interface) in state and f"lookup {prober.link.table}" in state
    assert f"default via {expected['gateway_a']} dev eth0" in state
    assert any(what.startswith(f"probe lana ({prober.address}): TCP SYN {server}") for what, _ in evidence)


def test_a_remote_probe_host_probes_several_targets_in_one_exchange(lab, remote):
    """Prober.syn_many through the probe host's python3: srv1 behind r1 and r1 itself, one
    exchange, each answer told to its target's probe."""
    prober, expected, evidence = remote
    server, router = expected["dns"], expected["gateway_a"]
    found = prober.syn_many({server: [22, 81], router: [22, 82]}, timeout=0.6)
    assert {t: {p: r.state for p, r in ports.items()} for t, ports in found.items()} == {
        server: {22: "open", 81: "closed"}, router: {22: "open", 82: "closed"}}
    assert found[server][22].detail.startswith("SYN-ACK ttl 63") and found[router][22].detail.startswith("SYN-ACK ttl 64")
    what, detail = evidence[-1]
    assert what == f"probe lana ({prober.address}): TCP SYN {server} ports 22,81; {router} ports 22,82 (0.6 s, at once)"
    assert f"{router} 82 closed" in detail


def test_a_broken_probe_host_is_an_error(lab, remote):
    prober, expected, _ = remote
    prober.link.iface = "eth9"  # no such interface on the probe host
    with pytest.raises(ProbeError, match=r"probe lana \(pc2 eth9\): .*eth9"):
        prober.syn(expected["dns"], [22])
