"""The IP probe toolkit (tspcr_lab.probes.packets, .wire) on packets built with scapy: what the
wire's stop rules read of a frame, how answers are classified (SYN, UDP, DNS, DHCP, ARP), the
probe port's address in the lab file, and that no probe goes outside the lab. The real exchange,
with real servers in the virtual lab, is in the labs' e2e tests (firewall, dhcp-dns, proxy)."""

from __future__ import annotations

import ipaddress
import re

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRMX, DNSRRSOA
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether

from tspcr_lab.errors import ProbeError, UserError
from tspcr_lab.labfile import ProbePortSpec
from tspcr_lab.probes import wire
from tspcr_lab.probes.packets import Prober, ProbeLink, _dhcp_options, _dns_answer, lab_address

PROBE, TARGET, ROUTER = "10.1.2.250", "10.1.3.10", "10.1.2.1"
PROBE_MAC, ROUTER_MAC = "02:00:00:00:00:fa", "02:00:00:00:00:01"


@pytest.mark.parametrize("text", ["10.0.0.1", "192.168.1.20", "172.16.5.5", "203.0.113.7", "198.51.100.1"])
def test_lab_addresses_are_accepted(text):
    assert lab_address(f" {text} ") == text


@pytest.mark.parametrize("text, detail", [("8.8.8.8", "not a lab address"), ("127.0.0.1", "not a lab address"),
                                          ("224.0.0.5", "not a lab address"), ("255.255.255.255", "not a lab address"),
                                          ("0.0.0.0", "not a lab address"), ("169.254.1.1", "not a lab address"),
                                          ("srv1; reboot", "not an IPv4 address")])
def test_no_probe_leaves_the_lab(text, detail):
    with pytest.raises(ProbeError, match=detail):
        lab_address(text)


def test_wire_fields_of_tcp_udp_icmp_dhcp_arp():
    tcp = bytes(Ether() / IP(src=TARGET, dst=PROBE) / TCP(sport=22, dport=40000, flags="SA"))
    assert wire.fields(tcp) | {} == {"ethertype": 0x0800, "proto": 6, "src": TARGET, "dst": PROBE, "sport": 22,
                                     "dport": 40000, "flow": 40000}
    quoted = IP(src=PROBE, dst=TARGET) / UDP(sport=41000, dport=53)
    icmp = bytes(Ether() / IP(src=ROUTER, dst=PROBE) / ICMP(type=3, code=13) / bytes(quoted)[:28])
    assert wire.fields(icmp)["flow"] == 41000 and wire.fields(icmp)["proto"] == 1
    offer = bytes(Ether() / IP(src=ROUTER, dst="255.255.255.255") / UDP(sport=67, dport=68) /
                  BOOTP(op=2, xid=0xDEADBEEF) / DHCP(options=[("message-type", "offer"), "end"]))
    assert wire.fields(offer)["xid"] == 0xDEADBEEF
    arp = bytes(Ether() / ARP(op=2, psrc=ROUTER, hwsrc=ROUTER_MAC))
    assert wire.fields(arp) == {"ethertype": 0x0806, "arp_op": 2, "arp_psrc": ROUTER}
    assert wire.fields(b"short") == {}
    assert wire.matches(tcp, [{"proto": 6, "src": TARGET}]) is not None
    assert wire.matches(tcp, [{"proto": 6, "src": ROUTER}, {"proto": 17}]) is None


class Network(ProbeLink):
    """The far side of a probe in a unit test: answers what the probe sends as a target behind
    a router would, per port: "open", "closed", "rejected" (the router's ICMP 3/13), or nothing."""

    def __init__(self, ports: dict[int, str], udp: dict[int, str] | None = None):
        super().__init__("lan", ipaddress.IPv4Interface(f"{PROBE}/24"), ipaddress.IPv4Address(ROUTER))
        self.ports, self.udp, self.sent = ports, udp or {}, []

    def reply(self, packet):
        ip = IP(packet)
        if TCP in ip:
            kind = self.ports.get(ip[TCP].dport)
            flags = {"open": "SA", "closed": "RA"}.get(kind)
            if flags:
                return IP(src=ip.dst, dst=ip.src, ttl=63) / TCP(sport=ip[TCP].dport, dport=ip[TCP].sport, flags=flags)
        elif UDP in ip:
            kind = self.udp.get(ip[UDP].dport)
            if kind == "open":
                return IP(src=ip.dst, dst=ip.src) / UDP(sport=ip[UDP].dport, dport=ip[UDP].sport) / b"answer"
            if kind == "closed":
                return IP(src=ip.dst, dst=ip.src) / ICMP(type=3, code=3) / bytes(ip)[:28]
        if kind == "rejected":
            return IP(src=ROUTER, dst=ip.src) / ICMP(type=3, code=13) / bytes(ip)[:28]
        return None

    def exchange(self, frames, packets, hold_udp, seconds, stop):
        heard = []
        for destination, packet in packets:
            self.sent.append((destination, packet))
            heard.append((0.0, True, bytes(Ether(src=PROBE_MAC, dst=ROUTER_MAC) / IP(packet))))
            answer = self.reply(packet)
            if answer is not None:
                heard.append((0.001, False, bytes(Ether(src=ROUTER_MAC, dst=PROBE_MAC) / answer)))
        return PROBE_MAC, heard

    def connect(self, target, port, send, timeout):
        return None


def test_syn_probe_tells_open_closed_rejected_filtered_with_evidence():
    network = Network({22: "open", 23: "closed", 25: "rejected"})
    evidence = []
    prober = Prober(network, lambda what, detail: evidence.append((what, detail)))
    found = prober.syn(TARGET, [22, 23, 25, 80])
    assert {p: r.state for p, r in found.items()} == {22: "open", 23: "closed", 25: "rejected", 80: "filtered"}
    assert found[25].detail == f"ICMP 3/13 from {ROUTER}" and found[22].detail == "SYN-ACK ttl 63"
    assert [r.answered for r in found.values()] == [True, True, True, False]
    sent = [IP(p) for _, p in network.sent]
    assert {str(p[TCP].flags) for p in sent} == {"S"} and {p.src for p in sent} == {PROBE}
    assert len({p[TCP].sport for p in sent}) == 4  # one source port per probed port
    (what, detail), = evidence
    assert what == f"probe lan ({PROBE}): TCP SYN {TARGET} ports 22,23,25,80 (1 s)"
    assert "80 filtered (no answer in 1 s)" in detail and "TCP" in detail


class Targets(Network):
    """Several targets behind the router, each with ports of its own (as :class:`Network`'s);
    what each exchange was asked to wait for is kept."""

    def __init__(self, targets: dict[str, dict[int, str]]):
        super().__init__({})
        self.targets, self.exchanges = targets, []

    def reply(self, packet):
        self.ports = self.targets.get(IP(packet).dst, {})
        return super().reply(packet)

    def exchange(self, frames, packets, hold_udp, seconds, stop):
        self.exchanges.append((seconds, stop))
        return super().exchange(frames, packets, hold_udp, seconds, stop)


OTHER, THIRD = "10.1.3.20", "10.1.4.30"


def test_syn_many_probes_several_targets_in_one_exchange():
    network = Targets({TARGET: {22: "open", 80: "closed"}, OTHER: {22: "rejected"}, THIRD: {}})
    evidence = []
    prober = Prober(network, lambda what, detail: evidence.append((what, detail)))
    found = prober.syn_many({TARGET: [22, 80, 8080], OTHER: [22, 443], f" {THIRD} ": [22]}, timeout=0.6)
    assert {t: {p: r.state for p, r in ports.items()} for t, ports in found.items()} == {
        TARGET: {22: "open", 80: "closed", 8080: "filtered"}, OTHER: {22: "rejected", 443: "filtered"},
        THIRD: {22: "filtered"}}
    assert found[OTHER][22].detail == f"ICMP 3/13 from {ROUTER}" and found[THIRD][22].detail == "no answer in 0.6 s"
    assert len(network.exchanges) == 1 and network.exchanges[0][0] == 0.6  # one wait for the six probes
    sent = [IP(p) for _, p in network.sent]
    assert [(p.dst, p[TCP].dport) for p in sent] == [(TARGET, 22), (TARGET, 80), (TARGET, 8080), (OTHER, 22),
                                                     (OTHER, 443), (THIRD, 22)]
    assert [d for d, _ in network.sent] == [p.dst for p in sent]
    assert len({p[TCP].sport for p in sent}) == 6  # one source port per probe, whatever the target
    (what, detail), = evidence
    assert what == (f"probe lan ({PROBE}): TCP SYN {TARGET} ports 22,80,8080; {OTHER} ports 22,443; "
                    f"{THIRD} ports 22 (0.6 s, at once)")
    assert f"{TARGET} 8080 filtered (no answer in 0.6 s)" in detail and f"{OTHER} 22 rejected" in detail


def test_syn_many_stops_when_every_probe_of_every_target_answered():
    """The exchange's stop rule (what the wire counts, here and on a remote probe host): each
    target's answers and a router's ICMP count, once per probe; nothing else does."""
    network = Targets({TARGET: {22: "open", 23: "closed"}, OTHER: {22: "rejected", 25: "open"}})
    Prober(network).syn_many({TARGET: [22, 23], OTHER: [22, 25]})
    (_, stop), = network.exchanges
    assert stop["count"] == 4 and stop["distinct"] == "flow"
    sent = [IP(p) for _, p in network.sent]
    answers = [frame for _, outgoing, frame in network.exchange([], list(network.sent), [], 1.0, stop)[1]
               if not outgoing]
    flows = {wire.matches(frame, stop["match"])["flow"] for frame in answers}
    assert flows == {p[TCP].sport for p in sent}  # every probe answered: the count is reached
    stranger = bytes(Ether() / IP(src="10.1.3.99", dst=PROBE) / TCP(sport=22, dport=sent[0][TCP].sport, flags="SA"))
    assert wire.matches(stranger, stop["match"]) is None
    assert wire.matches(bytes(Ether() / IP(src=OTHER, dst=ROUTER) / TCP(sport=22, dport=40000, flags="SA")),
                        stop["match"]) is None


def test_syn_many_trusts_an_answer_only_from_the_target_probed():
    """A SYN-ACK to the source port of one target's probe, but from another target: not that
    target's port open."""
    class Crossed(Targets):
        def reply(self, packet):
            answer = super().reply(packet)
            ip = IP(packet)
            if ip.dst == TARGET:  # answered by OTHER instead
                return IP(src=OTHER, dst=ip.src, ttl=63) / TCP(sport=ip[TCP].dport, dport=ip[TCP].sport, flags="SA")
            return answer

    found = Prober(Crossed({OTHER: {22: "open"}})).syn_many({TARGET: [22], OTHER: [22]})
    assert found[TARGET][22].state == "filtered" and found[OTHER][22].state == "open"


def test_syn_of_one_target_is_syn_many_of_it():
    network = Targets({TARGET: {22: "open"}})
    assert Prober(network).syn(f" {TARGET}", [22, 23])[22].state == "open"
    assert len(network.exchanges) == 1 and network.exchanges[0][1]["count"] == 2
    assert Prober(network).syn_many({TARGET: []}) == {TARGET: {}} and len(network.exchanges) == 1  # nothing to send


def test_syn_many_sends_nothing_when_one_target_is_outside_the_lab():
    network = Targets({TARGET: {22: "open"}})
    with pytest.raises(ProbeError, match="not a lab address"):
        Prober(network).syn_many({TARGET: [22], "8.8.8.8": [53]})
    assert network.sent == [] and network.exchanges == []


def test_udp_probe_states():
    found = Prober(Network({}, {53: "open", 54: "closed", 55: "rejected"})).udp(TARGET, [53, 54, 55, 56])
    assert {p: r.state for p, r in found.items()} == {53: "open", 54: "closed", 55: "rejected", 56: "filtered"}


def test_a_probe_outside_the_lab_is_never_sent():
    network = Network({22: "open"})
    with pytest.raises(ProbeError):
        Prober(network).syn("8.8.8.8", [53])
    assert network.sent == []


def test_dns_answer_of_every_record_type():
    message = DNS(id=7, qr=1, aa=1, rcode=0, qd=DNSQR(qname="mail.corp.lan", qtype="MX"), an=[
        DNSRRMX(rrname="corp.lan.", preference=10, exchange="Mail.Corp.Lan.", ttl=300),
        DNSRR(rrname="www.corp.lan.", type="CNAME", rdata="srv1.corp.lan.", ttl=60),
        DNSRR(rrname="srv1.corp.lan.", type="A", rdata="10.1.3.10", ttl=60),
        DNSRR(rrname="10.3.1.10.in-addr.arpa.", type="PTR", rdata="srv1.corp.lan.", ttl=60),
        DNSRR(rrname="corp.lan.", type="TXT", rdata=["v=spf1 mx"], ttl=60),
        DNSRRSOA(rrname="corp.lan.", mname="srv1.corp.lan.", rname="admin.corp.lan.", serial=2026120201)])
    parsed = DNS(bytes(message))
    answer = _dns_answer(parsed, TARGET, "corp.lan", "MX")
    assert answer.rcode == "NOERROR" and answer.authoritative
    assert answer.values() == ["10 mail.corp.lan"]
    assert answer.values("CNAME") == ["srv1.corp.lan"] and answer.values("A") == ["10.1.3.10"]
    assert answer.values("PTR") == ["srv1.corp.lan"] and answer.values("TXT") == ["v=spf1 mx"]
    assert answer.values("SOA") == ["srv1.corp.lan admin.corp.lan 2026120201"]
    nx = _dns_answer(DNS(bytes(DNS(id=8, qr=1, rcode=3, qd=DNSQR(qname="nope.corp.lan")))), TARGET, "nope.corp.lan", "A")
    assert nx.rcode == "NXDOMAIN" and nx.records == () and nx.summary() == "NXDOMAIN: no record"


def test_dhcp_options_as_a_lease():
    options = DHCP(bytes(DHCP(options=[("message-type", "ack"), ("server_id", "10.1.2.5"), ("lease_time", 7200),
                                       ("subnet_mask", "255.255.255.0"), ("router", "10.1.2.1"),
                                       ("name_server", "10.1.2.5", "10.1.2.6"), ("domain", b"corp.lan\x00"),
                                       "end"]))).options
    found = _dhcp_options(options)
    assert found["message-type"] == 5 and found["lease_time"] == 7200
    assert found["router"] == ("10.1.2.1",) and found["name_server"] == ("10.1.2.5", "10.1.2.6")
    assert found["domain"] == "corp.lan"
    from tspcr_lab.probes.packets import DhcpLease

    lease = DhcpLease("02:aa:bb:cc:dd:ee", "ACK", "10.1.2.50", "10.1.2.5", {k: v for k, v in found.items() if k != "message-type"})
    assert (lease.prefix, lease.router, lease.dns, lease.domain) == (24, "10.1.2.1", ("10.1.2.5", "10.1.2.6"), "corp.lan")


def test_probe_port_address_from_the_plan():
    port = ProbePortSpec("guest", "sw2", "{{ expected.probes.guest }}", "{{ expected.gw }}")
    values = {"params": {}, "expected": {"probes": {"guest": "10.9.2.250/24"}, "gw": "10.9.2.1"}}
    assert port.resolve(values) == (ipaddress.IPv4Interface("10.9.2.250/24"), ipaddress.IPv4Address("10.9.2.1"))
    for bad, detail in ((dict(values, expected={"probes": {}, "gw": "10.9.2.1"}), "no value expected.probes.guest"),
                        (dict(values, expected={"probes": {"guest": "10.9.2.250"}, "gw": "10.9.2.1"}), "with its prefix"),
                        (dict(values, expected={"probes": {"guest": "10.9.2.250/24"}, "gw": "10.9.3.1"}), "is not on")):
        with pytest.raises(UserError, match=detail):
            port.resolve(bad)
    with pytest.raises(UserError, match="has no address"):
        ProbePortSpec("trunk", "c16").resolve(values)


def test_probe_port_address_in_a_lab_file(monkeypatch, tmp_path):
    import shutil

    from tspcr_lab.labfile import load_lab

    root = tmp_path / "home"
    shutil.copytree(__import__("tspcr_lab.labfile", fromlist=["labs_dir"]).labs_dir() / "ip-plan", root / "labs" / "ip-plan")
    monkeypatch.setenv("TSPCR_HOME", str(root))
    home = root / "labs" / "ip-plan" / "lab.toml"
    head, tail = home.read_text(encoding="utf-8").split("[[hosts]]", 1)

    def with_port(lines: str):
        home.write_text(head + f'[[probe_ports]]\nname = "lan"\nswitch = "sw2"\n{lines}\n[[hosts]]' + tail, encoding="utf-8")
        return load_lab("ip-plan")

    assert with_port('address = "10.0.0.250/24"\ngateway = "10.0.0.1"').probe_ports == (
        ProbePortSpec("lan", "sw2", "10.0.0.250/24", "10.0.0.1"),)
    for lines, detail in (('address = "10.0.0.300/24"', "probe_ports[0].address: '10.0.0.300/24' is not an IPv4"),
                          ('gateway = "10.0.0.1"', "probe_ports[0].gateway: a gateway needs an address"),
                          ('address = "{{ expected.x }}"\ngateway = "router"', "probe_ports[0].gateway: 'router'")):
        with pytest.raises(UserError, match=re.escape(detail)):
            with_port(lines)


def test_dns_to_a_closed_port_says_who_answered_unreachable_at_once():
    network = Network({}, {53: "closed"})
    evidence = []
    answer = Prober(network, lambda what, detail: evidence.append((what, detail))).dns(TARGET, "srv1.corp.lan")
    assert answer.rcode is None and answer.unreachable == TARGET and answer.values() == []
    assert answer.summary() == f"no answer (ICMP port unreachable from {TARGET})"
    assert evidence[0][1].startswith(f"no answer (ICMP port unreachable from {TARGET})")
    # a server that says nothing at all: no answer, nobody named
    silent = Prober(Network({})).dns(TARGET, "srv1.corp.lan")
    assert silent.rcode is None and silent.unreachable is None and silent.summary() == "no answer"
