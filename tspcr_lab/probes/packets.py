"""IP probes from a grader-owned probe host: what the network lets through, judged by sending real
packets, as a device plugged into a lab segment would. The trainee controls nothing of the probe.

A probe is a lab file's probe port with an address (``[[probe_ports]]`` ``address``/``gateway``,
the trainee's plan's: :meth:`~tspcr_lab.labfile.ProbePortSpec.resolve`). On the virtual lab it is
the grader's end of a veth alone in a network namespace of its own (its kernel's stack: ARP,
routing, resets), on a real lab an interface of a grader-owned probe host reached over SSH (the
inventory's ``probe_ports = {"guest": "eth1"}``; its address is set there by the probe itself).
Both move bytes with :mod:`tspcr_lab.probes.wire`; packets are built and parsed here, with
scapy's ``inet``, ``l2``, ``dhcp`` and ``dns`` layers only (imported at the first probe, never
``scapy.all``).

:class:`Prober` (the ``prober`` fixture's, :mod:`tspcr_lab.plugin`) offers a TCP SYN probe of a
list of ports (open / closed / filtered / rejected, with the packets as evidence), a UDP probe, DNS
queries, a DHCP client (DISCOVER/OFFER/REQUEST/ACK, then RELEASE: grading leaves no lease behind),
ARP and a plain TCP connection. Every probe is written to the check's evidence. A probe never
goes to an address outside private ranges (:func:`lab_address`), and a probe port missing or
unusable is a :class:`~tspcr_lab.errors.ProbeError` (the check is an *error*, never a pass).

A negative result ("filtered") says only that nothing answered: a check that wants "blocked" pairs
it with a control showing the path works (an allowed port of the same target answering, the
probe's gateway answering :meth:`Prober.arp`, the target up through its console), so that a dead
host or an unplugged probe never passes a "must be blocked" check.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import ipaddress
import json
import random
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ProbeError
from . import wire

RecordFn = Callable[[str, str], None]
Heard = list[tuple[float, bool, bytes]]
EVIDENCE_PACKETS = 24  # packets listed in a probe's evidence, at most
DHCP_PARAMETERS = [1, 3, 6, 15, 51, 54, 58, 59]  # mask, router, DNS, domain, lease, server id, T1, T2


@functools.cache
def _scapy() -> Any:
    """The scapy layers probes use (about 0.3 s to import, once)."""
    from types import SimpleNamespace

    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dns import DNS, DNSQR
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, TCPerror, UDPerror
    from scapy.layers.l2 import ARP, Ether

    return SimpleNamespace(BOOTP=BOOTP, DHCP=DHCP, DNS=DNS, DNSQR=DNSQR, ICMP=ICMP, IP=IP, TCP=TCP, UDP=UDP,
                           IPerror=IPerror, TCPerror=TCPerror, UDPerror=UDPerror, ARP=ARP, Ether=Ether)


def lab_address(text: str) -> str:
    """``text`` as a probe's destination: an IPv4 address of a private range (the lab's; the
    documentation ranges a lab's "internet" uses are private too). ProbeError otherwise: a probe
    is never sent outside the lab."""
    try:
        address = ipaddress.IPv4Address(str(text).strip())
    except ValueError:
        raise ProbeError(f"{text!r} is not an IPv4 address (a probe's target)") from None
    if (not address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_unspecified or int(address) == 0xFFFFFFFF):
        raise ProbeError(f"{address} is not a lab address (private ranges only): no probe is sent there")
    return str(address)


# -- results ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PortResult:
    """A probed port: ``state`` is ``open`` (TCP: SYN-ACK; UDP: an answer), ``closed`` (TCP: RST;
    UDP: ICMP port unreachable), ``rejected`` (another ICMP unreachable, e.g. a firewall's
    "administratively prohibited") or ``filtered`` (nothing came back); ``detail`` says what came
    back and from whom."""

    port: int
    proto: str
    state: str
    detail: str

    @property
    def answered(self) -> bool:
        """Something came back (the path to the target, or to a router on it, works)."""
        return self.state != "filtered"


@dataclasses.dataclass(frozen=True)
class DnsRecord:
    name: str  # lower case, no trailing dot
    type: str  # "A", "MX"...
    value: str  # an address, a name (no trailing dot), "10 mail.example.lan" for MX, text for TXT
    ttl: int


@dataclasses.dataclass(frozen=True)
class DnsAnswer:
    """A DNS server's answer: ``rcode`` None when none came."""

    server: str
    name: str
    qtype: str
    rcode: str | None
    records: tuple[DnsRecord, ...] = ()
    authoritative: bool = False
    unreachable: str | None = None  # no answer, but an ICMP "port unreachable" from that address

    def values(self, qtype: str | None = None) -> list[str]:
        """The values of the answer's records of type ``qtype`` (the question's by default)."""
        wanted = (qtype or self.qtype).upper()
        return [r.value for r in self.records if r.type == wanted]

    def summary(self) -> str:
        if self.rcode is None:
            return f"no answer (ICMP port unreachable from {self.unreachable})" if self.unreachable else "no answer"
        shown = "; ".join(f"{r.name} {r.type} {r.value}" for r in self.records) or "no record"
        return f"{self.rcode}{' (authoritative)' if self.authoritative else ''}: {shown}"


@dataclasses.dataclass(frozen=True)
class DhcpLease:
    """What a DHCP server gave (``message`` "ACK", "NAK", or "OFFER" when nothing was requested)."""

    mac: str
    message: str
    address: str | None
    server: str | None
    options: dict[str, Any]

    @property
    def mask(self) -> str | None:
        return self.options.get("subnet_mask")

    @property
    def prefix(self) -> int | None:
        return ipaddress.IPv4Network(f"0.0.0.0/{self.mask}").prefixlen if self.mask else None

    @property
    def routers(self) -> tuple[str, ...]:
        return tuple(self.options.get("router", ()))

    @property
    def router(self) -> str | None:
        return self.routers[0] if self.routers else None

    @property
    def dns(self) -> tuple[str, ...]:
        return tuple(self.options.get("name_server", ()))

    @property
    def domain(self) -> str | None:
        return self.options.get("domain")

    @property
    def lease_time(self) -> int | None:
        return self.options.get("lease_time")

    def summary(self) -> str:
        shown = ", ".join(f"{k} {v if not isinstance(v, tuple) else ' '.join(map(str, v))}"
                          for k, v in sorted(self.options.items()))
        return f"{self.message} {self.address or '-'} from {self.server or '-'} to {self.mac} ({shown})"


# -- the wire: local or remote -------------------------------------------------------------------

class ProbeLink(abc.ABC):
    """Where a probe's bytes go: :class:`LocalLink` (a namespace of the virtual lab) or
    :class:`RemoteLink` (a real probe host's interface, over SSH)."""

    def __init__(self, name: str, interface: ipaddress.IPv4Interface, gateway: ipaddress.IPv4Address | None):
        self.name, self.interface, self.gateway = name, interface, gateway

    @abc.abstractmethod
    def exchange(self, frames: list[bytes], packets: list[tuple[str, bytes]], hold_udp: list[tuple[str, int]],
                 seconds: float, stop: dict | None) -> tuple[str, Heard]:
        """See :func:`tspcr_lab.probes.wire.exchange`."""

    @abc.abstractmethod
    def connect(self, target: str, port: int, send: bytes, timeout: float) -> bytes | None:
        """See :func:`tspcr_lab.probes.wire.connect`."""

    def close(self) -> None:  # noqa: B027 - a link without a resource of its own
        """Release the link."""


class LocalLink(ProbeLink):
    """The virtual lab's: sockets created in the probe port's own namespace (configured already),
    used from the grader's process."""

    def __init__(self, name: str, interface, gateway, namespace: str, iface: str):
        super().__init__(name, interface, gateway)
        self.namespace, self.iface = namespace, iface

    def _open(self, family: int, kind: int, proto: int):
        from ..virtual.netns import socket_in

        return socket_in(self.namespace, family, kind, proto)

    def exchange(self, frames, packets, hold_udp, seconds, stop):
        try:
            return wire.exchange(self._open, self.iface, frames, packets, hold_udp, seconds, stop)
        except OSError as exc:
            raise ProbeError(f"probe {self.name}: {exc.strerror or exc}") from None

    def connect(self, target, port, send, timeout):
        return wire.connect(self._open, None, target, port, send, timeout)


class RemoteLink(ProbeLink):
    """A real lab's grader-owned probe host (a :class:`~tspcr_lab.host.Host`, root over SSH): its
    python3 runs :mod:`wire` on ``iface``, after giving it the probe's address (and a default route
    through the gateway for that address, in a routing table of the port's own)."""

    def __init__(self, name: str, interface, gateway, host, iface: str):
        super().__init__(name, interface, gateway)
        self.host, self.iface = host, iface
        self.table = 200 + zlib.crc32(name.encode()) % 50

    def _run(self, request: dict, seconds: float) -> dict:
        request = {"iface": self.iface, "address": str(self.interface), "table": self.table,
                   "gateway": str(self.gateway) if self.gateway else None, **request}
        result = self.host.run("python3 -c %s %s", _wire_source(), json.dumps(request), timeout=seconds + 15)
        try:
            answer = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = None
        if not isinstance(answer, dict) or "error" in answer:
            why = answer["error"] if isinstance(answer, dict) else (result.stderr or result.stdout).strip()[-200:]
            raise ProbeError(f"probe {self.name} ({self.host.name} {self.iface}): {why or f'exit {result.rc}'}")
        return answer

    def exchange(self, frames, packets, hold_udp, seconds, stop):
        answer = self._run({"op": "exchange", "frames": [f.hex() for f in frames],
                            "packets": [[d, p.hex()] for d, p in packets], "hold_udp": hold_udp,
                            "seconds": seconds, "stop": stop}, seconds)
        return answer["mac"], [(t, bool(o), bytes.fromhex(d)) for t, o, d in answer["heard"]]

    def connect(self, target, port, send, timeout):
        got = self._run({"op": "connect", "target": target, "port": port, "send": send.hex(),
                         "timeout": timeout}, timeout)["received"]
        return None if got is None else bytes.fromhex(got)

    def close(self) -> None:
        self.host.close()


@functools.cache
def _wire_source() -> str:
    return Path(wire.__file__).read_text(encoding="utf-8")


# -- the prober -----------------------------------------------------------------------------------

def random_mac() -> str:
    from .frames import random_mac as fresh

    return fresh()


def _mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


class Prober:
    """Probes from one probe port (``prober("guest")`` in a check). ``record(what, detail)`` is told
    of every probe (the check's evidence)."""

    def __init__(self, link: ProbeLink, record: RecordFn | None = None):
        self.link, self.record = link, record
        self.name = link.name
        self.interface: ipaddress.IPv4Interface = link.interface
        self.address = str(link.interface.ip)
        self.gateway = str(link.gateway) if link.gateway else None
        self._mac: str | None = None

    def __repr__(self) -> str:
        return f"<Prober {self.name} {self.interface}>"

    # -- plumbing --
    def _note(self, what: str, lines: Iterable[str]) -> None:
        if self.record:
            self.record(f"probe {self.name} ({self.address}): {what}", "\n".join(lines))

    def _exchange(self, frames=(), packets=(), hold_udp=(), seconds=1.0, stop=None) -> Heard:
        mac, heard = self.link.exchange(list(frames), list(packets), [list(h) for h in hold_udp], seconds, stop)
        self._mac = mac
        return heard

    @property
    def mac(self) -> str:
        """The probe interface's own MAC address."""
        if self._mac is None:
            self._exchange(seconds=0)
        return self._mac  # type: ignore[return-value]

    def _packets(self, heard: Heard) -> list[str]:
        s = _scapy()
        lines = []
        for t, outgoing, data in heard[:EVIDENCE_PACKETS]:
            try:
                shown = s.Ether(data).summary()
            except Exception:  # noqa: BLE001 - evidence only: the bytes are shown instead
                shown = data[:40].hex()
            lines.append(f"{t:7.3f} {'>' if outgoing else '<'} {shown}")
        if len(heard) > EVIDENCE_PACKETS:
            lines.append(f"... {len(heard) - EVIDENCE_PACKETS} more")
        return lines

    def _incoming_ip(self, heard: Heard):
        """The IPv4 packets heard coming in, addressed to the probe."""
        s = _scapy()
        for _t, outgoing, data in heard:
            if outgoing:
                continue
            frame = s.Ether(data)
            if s.IP in frame and frame[s.IP].dst == self.address:
                yield frame[s.IP]

    @staticmethod
    def _sports(count: int) -> list[int]:
        base = random.randint(20000, 60000 - count - 1)
        return list(range(base, base + count))

    # -- probes --
    def syn(self, target: str, ports: Iterable[int], timeout: float = 1.0) -> dict[int, PortResult]:
        """A TCP SYN to each of ``ports`` of ``target``, at once; each port's state after at most
        ``timeout`` seconds (less when every port answered)."""
        target = lab_address(target)
        return self.syn_many({target: ports}, timeout)[target]

    def syn_many(self, targets: dict[str, Iterable[int]], timeout: float = 1.0) -> dict[str, dict[int, PortResult]]:
        """:meth:`syn` of several targets in ONE exchange: a TCP SYN to each port of each target
        (``{target: ports}``), all sent at once, so that the ports nothing answers (filtered) wait
        ``timeout`` once for all of them, not once per target. ``{address: {port: result}}``;
        every target is checked first (one outside the lab: nothing is sent), and the exchange
        ends as soon as every probe was answered."""
        s = _scapy()
        wanted: dict[str, list[int]] = {}
        for target, ports in targets.items():
            wanted.setdefault(lab_address(target), []).extend(int(p) for p in ports)
        probes = [(target, port) for target, ports in wanted.items() for port in ports]
        if not probes:
            return {target: {} for target in wanted}
        by_sport = dict(zip(self._sports(len(probes)), probes))  # one source port per probe: answers tell them apart
        packets = [(target, bytes(s.IP(src=self.address, dst=target) /
                                  s.TCP(sport=sport, dport=port, flags="S", seq=random.getrandbits(32),
                                        window=64240, options=[("MSS", 1460)])))
                   for sport, (target, port) in by_sport.items()]
        stop = {"count": len(probes), "distinct": "flow",
                "match": [*({"proto": 6, "src": target, "dst": self.address} for target in wanted),
                          {"proto": 1, "dst": self.address}]}
        heard = self._exchange(packets=packets, seconds=timeout, stop=stop)
        found: dict[tuple[str, int], PortResult] = {}
        for packet in self._incoming_ip(heard):
            if s.TCP in packet and packet[s.TCP].dport in by_sport and packet.src == by_sport[packet[s.TCP].dport][0]:
                probe, flags = by_sport[packet[s.TCP].dport], packet[s.TCP].flags
                port = probe[1]
                if probe in found:
                    continue
                if flags.S and flags.A:
                    found[probe] = PortResult(port, "tcp", "open", f"SYN-ACK ttl {packet.ttl}")
                elif flags.R:
                    found[probe] = PortResult(port, "tcp", "closed", f"RST ttl {packet.ttl}")
            elif s.ICMP in packet and s.TCPerror in packet and packet[s.TCPerror].sport in by_sport:
                probe = by_sport[packet[s.TCPerror].sport]
                icmp = packet[s.ICMP]
                if probe not in found and icmp.type == 3:
                    found[probe] = PortResult(probe[1], "tcp", "rejected", f"ICMP {icmp.type}/{icmp.code} from {packet.src}")
        for probe in probes:
            found.setdefault(probe, PortResult(probe[1], "tcp", "filtered", f"no answer in {timeout:g} s"))
        if len(wanted) == 1:
            (target, ports), = wanted.items()
            what = f"TCP SYN {target} ports {','.join(map(str, ports))} ({timeout:g} s)"
            lines = [f"{p} {found[target, p].state} ({found[target, p].detail})" for p in ports]
        else:
            shown = "; ".join(f"{t} ports {','.join(map(str, ports))}" for t, ports in wanted.items())
            what = f"TCP SYN {shown} ({timeout:g} s, at once)"
            lines = [f"{t} {p} {found[t, p].state} ({found[t, p].detail})" for t, p in probes]
        self._note(what, [*lines, *self._packets(heard)])
        return {target: {p: found[target, p] for p in ports} for target, ports in wanted.items()}

    def udp(self, target: str, ports: Iterable[int], payload: bytes = b"", timeout: float = 1.0) -> dict[int, PortResult]:
        """A UDP datagram (``payload``) to each of ``ports`` of ``target``. A server that ignores a
        datagram it does not understand looks ``filtered``: send what it answers (:meth:`dns`)."""
        s = _scapy()
        target, ports = lab_address(target), [int(p) for p in ports]
        sports = self._sports(len(ports))
        by_sport = dict(zip(sports, ports))
        packets = [(target, bytes(s.IP(src=self.address, dst=target) / s.UDP(sport=sport, dport=port) / payload))
                   for sport, port in by_sport.items()]
        stop = {"count": len(ports), "distinct": "flow", "match": [{"proto": 17, "src": target, "dst": self.address},
                                                                   {"proto": 1, "dst": self.address}]}
        heard = self._exchange(packets=packets, hold_udp=[(self.address, p) for p in sports], seconds=timeout, stop=stop)
        found: dict[int, PortResult] = {}
        for packet in self._incoming_ip(heard):
            if s.UDP in packet and packet.src == target and packet[s.UDP].dport in by_sport:
                port = by_sport[packet[s.UDP].dport]
                found.setdefault(port, PortResult(port, "udp", "open", f"answer of {len(packet[s.UDP].payload)} bytes"))
            elif s.ICMP in packet and s.UDPerror in packet and packet[s.UDPerror].sport in by_sport:
                port, icmp = by_sport[packet[s.UDPerror].sport], packet[s.ICMP]
                if icmp.type == 3:
                    state = "closed" if icmp.code == 3 and packet.src == target else "rejected"
                    found.setdefault(port, PortResult(port, "udp", state, f"ICMP {icmp.type}/{icmp.code} from {packet.src}"))
        for port in ports:
            found.setdefault(port, PortResult(port, "udp", "filtered", f"no answer in {timeout:g} s"))
        self._note(f"UDP {target} ports {','.join(map(str, ports))} ({timeout:g} s)",
                   [*(f"{p} {found[p].state} ({found[p].detail})" for p in ports), *self._packets(heard)])
        return {p: found[p] for p in ports}

    def dns(self, server: str, name: str, qtype: str = "A", timeout: float = 2.0) -> DnsAnswer:
        """Ask ``server`` (UDP, recursion desired) for ``name``'s records of type ``qtype``; for PTR,
        ``name`` may be an address."""
        s = _scapy()
        server, qtype = lab_address(server), qtype.upper()
        qname = name.strip().rstrip(".").lower()
        if qtype == "PTR":
            try:
                qname = ipaddress.IPv4Address(qname).reverse_pointer
            except ValueError:
                pass
        sport, ident = self._sports(1)[0], random.getrandbits(16)
        query = s.IP(src=self.address, dst=server) / s.UDP(sport=sport, dport=53) / s.DNS(
            id=ident, rd=1, qd=s.DNSQR(qname=qname, qtype=qtype))
        # an answer, or the ICMP error that says nothing listens (the server's port 53 closed)
        stop = {"count": 1, "match": [{"proto": 17, "src": server, "sport": 53, "dport": sport},
                                      {"proto": 1, "src": server}]}
        heard = self._exchange(packets=[(server, bytes(query))], hold_udp=[(self.address, sport)],
                               seconds=timeout, stop=stop)
        answer = DnsAnswer(server, qname, qtype, None)
        for packet in self._incoming_ip(heard):
            if s.ICMP in packet:
                if packet[s.ICMP].type == 3 and packet[s.ICMP].code == 3 and s.UDPerror in packet \
                        and packet[s.UDPerror].sport == sport:
                    answer = DnsAnswer(server, qname, qtype, None, unreachable=packet.src)
                continue
            if s.DNS in packet and s.UDP in packet and packet.src == server and packet[s.UDP].dport == sport \
                    and packet[s.DNS].id == ident:
                answer = _dns_answer(packet[s.DNS], server, qname, qtype)
                break
        self._note(f"DNS {qtype} {qname} @{server} ({timeout:g} s)", [answer.summary(), *self._packets(heard)])
        return answer

    def arp(self, address: str, timeout: float = 1.0) -> str | None:
        """The MAC address that answers an ARP request for ``address`` on the probe's segment."""
        s = _scapy()
        address, mac = lab_address(address), self.mac
        frame = s.Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / s.ARP(op=1, hwsrc=mac, psrc=self.address, pdst=address)
        heard = self._exchange(frames=[bytes(frame)], seconds=timeout,
                               stop={"count": 1, "match": [{"ethertype": 0x0806, "arp_op": 2, "arp_psrc": address}]})
        found = None
        for _t, outgoing, data in heard:
            packet = s.Ether(data)
            if not outgoing and s.ARP in packet and packet[s.ARP].op == 2 and packet[s.ARP].psrc == address:
                found = packet[s.ARP].hwsrc.lower()
                break
        self._note(f"ARP who-has {address} ({timeout:g} s)", [f"is-at {found}" if found else "no answer",
                                                               *self._packets(heard)])
        return found

    def connect(self, target: str, port: int, send: bytes = b"", timeout: float = 2.0) -> bytes | None:
        """A real TCP connection from the probe's own stack to ``target``:``port``; ``send`` sent
        once connected. What came back (b"": nothing), None when it could not connect."""
        target = lab_address(target)
        got = self.link.connect(target, int(port), send, timeout)
        shown = "could not connect" if got is None else (got[:300].decode("utf-8", "replace") or "connected, nothing received")
        self._note(f"TCP connect {target}:{port} ({timeout:g} s)" + (f", sent {send[:80]!r}" if send else ""), [shown])
        return got

    # -- DHCP --
    def _dhcp_frame(self, mac: str, xid: int, options: list, ciaddr: str = "0.0.0.0",
                    src: str = "0.0.0.0", dst: str = "255.255.255.255", dst_mac: str = "ff:ff:ff:ff:ff:ff") -> bytes:
        s = _scapy()
        return bytes(s.Ether(src=mac, dst=dst_mac) / s.IP(src=src, dst=dst) / s.UDP(sport=68, dport=67) /
                     s.BOOTP(op=1, chaddr=_mac_bytes(mac).ljust(16, b"\0"), xid=xid, ciaddr=ciaddr,
                             flags=0 if ciaddr != "0.0.0.0" else 0x8000) /
                     s.DHCP(options=[*options, "end"]))

    def _dhcp_replies(self, heard: Heard, xids: dict[int, str]) -> list[tuple[DhcpLease, str]]:
        """(lease, server's MAC) of every DHCP reply to one of ``xids`` (xid -> client MAC)."""
        s = _scapy()
        replies = []
        for _t, outgoing, data in heard:
            if outgoing:
                continue
            frame = s.Ether(data)
            if s.BOOTP not in frame or s.DHCP not in frame or frame[s.BOOTP].op != 2 or frame[s.BOOTP].xid not in xids:
                continue
            options = _dhcp_options(frame[s.DHCP].options)
            kind = {2: "OFFER", 5: "ACK", 6: "NAK"}.get(options.pop("message-type", 0))
            if kind is None:
                continue
            address = frame[s.BOOTP].yiaddr
            replies.append((DhcpLease(xids[frame[s.BOOTP].xid], kind, None if address == "0.0.0.0" else address,
                                      options.get("server_id"), options), frame.src))
        return replies

    def dhcp(self, mac: str | None = None, request: bool = True, release: bool = True,
             timeout: float = 6.0) -> DhcpLease | None:
        """A DHCP client from ``mac`` (a fresh random one by default): DISCOVER, then (``request``)
        REQUEST of the offered address and (``release``) RELEASE of what was acknowledged. The ACK
        (or NAK), the OFFER when nothing was requested; None when no server answered. With the MAC
        address of a host of the lab, ask the offer only (``request=False``): releasing would end
        that host's own lease."""
        mac = (mac or random_mac()).lower()
        discover_xid = random.getrandbits(32)
        params = ("param_req_list", DHCP_PARAMETERS)

        def stop(xid: int) -> dict:
            return {"count": 1, "match": [{"proto": 17, "sport": 67, "dport": 68, "xid": xid}]}

        heard = self._exchange(frames=[self._dhcp_frame(mac, discover_xid, [("message-type", "discover"), params])],
                               seconds=timeout, stop=stop(discover_xid))
        offers = self._dhcp_replies(heard, {discover_xid: mac})
        lines = [f"DISCOVER from {mac}", *(lease.summary() for lease, _ in offers), *self._packets(heard)]
        offer = next((lease for lease, _ in offers if lease.message == "OFFER" and lease.address), None)
        if offer is None or not request:
            self._note(f"DHCP from {mac} ({timeout:g} s)", lines + ([] if offer else ["no offer"]))
            return offer
        xid = random.getrandbits(32)
        options = [("message-type", "request"), ("requested_addr", offer.address), params]
        if offer.server:
            options.insert(1, ("server_id", offer.server))
        heard = self._exchange(frames=[self._dhcp_frame(mac, xid, options)], seconds=timeout, stop=stop(xid))
        answers = self._dhcp_replies(heard, {xid: mac})
        lines += [f"REQUEST {offer.address} from {mac}", *(lease.summary() for lease, _ in answers), *self._packets(heard)]
        lease, server_mac = next(((a, m) for a, m in answers if a.message in ("ACK", "NAK")), (None, None))
        if lease is None:
            lines.append("no ACK")
            self._note(f"DHCP from {mac} ({timeout:g} s)", lines)
            return None
        if release and lease.message == "ACK" and lease.server:
            frame = self._dhcp_frame(mac, random.getrandbits(32), [("message-type", "release"), ("server_id", lease.server)],
                                     ciaddr=lease.address, src=lease.address, dst=lease.server, dst_mac=server_mac)
            self._exchange(frames=[frame], seconds=0)
            lines.append(f"RELEASE {lease.address} to {lease.server}")
        self._note(f"DHCP from {mac} ({timeout:g} s)", lines)
        return lease

    def dhcp_offers(self, count: int = 8, timeout: float = 6.0) -> list[DhcpLease]:
        """DISCOVERs from ``count`` fresh MAC addresses at once: the OFFERs (nothing requested,
        nothing leased), to map what a server offers. A server may check that an address is free
        before offering it (dnsmasq pings it: an offer comes about 3 s later): ``timeout`` (per
        exchange, as for :meth:`dhcp`) allows for it."""
        macs = [random_mac() for _ in range(count)]
        xids = {random.getrandbits(32): mac for mac in macs}
        params = ("param_req_list", DHCP_PARAMETERS)
        frames = [self._dhcp_frame(mac, xid, [("message-type", "discover"), params]) for xid, mac in xids.items()]
        heard = self._exchange(frames=frames, seconds=timeout,
                               stop={"count": count, "distinct": "xid",
                                     "match": [{"proto": 17, "sport": 67, "dport": 68, "xid": xid} for xid in xids]})
        offers, seen = [], set()
        for lease, _ in self._dhcp_replies(heard, xids):
            if lease.message == "OFFER" and lease.mac not in seen:
                seen.add(lease.mac)
                offers.append(lease)
        self._note(f"DHCP DISCOVER x {count} ({timeout:g} s)",
                   [f"{len(offers)} offers: {', '.join(sorted({o.address or '-' for o in offers}))}", *self._packets(heard)])
        return offers

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> "Prober":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)


def _name(value: Any) -> str:
    return _text(value).rstrip(".").lower()


DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA"}


def _dns_section(section: Any, count: int) -> list:
    if section is None or not count:
        return []
    if isinstance(section, list):
        return section
    return [section[i] for i in range(count)]  # scapy before 2.6: records chained as layers


def _dns_answer(message: Any, server: str, qname: str, qtype: str) -> DnsAnswer:
    records = []
    for rr in _dns_section(message.an, message.ancount):
        kind = DNS_TYPES.get(rr.type, str(rr.type))
        if kind == "MX":
            value = f"{rr.preference} {_name(rr.exchange)}"
        elif kind == "SOA":
            value = f"{_name(rr.mname)} {_name(rr.rname)} {rr.serial}"
        elif kind == "TXT":
            parts = rr.rdata if isinstance(rr.rdata, list) else [rr.rdata]
            value = "".join(_text(p) for p in parts)
        elif kind in ("CNAME", "PTR", "NS"):
            value = _name(rr.rdata)
        else:
            value = _text(rr.rdata)
        records.append(DnsRecord(_name(rr.rrname), kind, value, int(rr.ttl)))
    return DnsAnswer(server, qname, qtype, DNS_RCODES.get(message.rcode, str(message.rcode)), tuple(records),
                     bool(message.aa))


def _dhcp_options(options: list) -> dict[str, Any]:
    """scapy's DHCP options as a dict: addresses lists as tuples, names as text."""
    found: dict[str, Any] = {}
    for option in options:
        if not isinstance(option, tuple) or not option:
            continue
        key, values = option[0], option[1:]
        if key in ("router", "name_server", "domain_name_server"):
            found["router" if key == "router" else "name_server"] = tuple(_text(v) for v in values)
        elif key in ("domain", "hostname", "domain_name"):
            found["domain" if key != "hostname" else "hostname"] = _text(values[0]).rstrip("\0.")
        elif len(values) == 1:
            found[key] = _text(values[0]) if isinstance(values[0], bytes) else values[0]
        else:
            found[key] = tuple(values)
    return found


def open_prober(context, name: str, record: RecordFn | None = None) -> Prober:
    """The lab's probe port ``name`` as a :class:`Prober` with the trainee's plan's address on the
    context's target. ProbeError when the lab declares no such port, it has no address, or the
    target has none (a real lab whose inventory names no probe host for it)."""
    from ..errors import UserError

    lab, target = context.lab, context.target
    specs = {p.name: p for p in lab.probe_ports}
    if name not in specs:
        raise ProbeError(f"lab {lab.id} declares no probe port '{name}' "
                         f"(its [[probe_ports]]: {', '.join(specs) or 'none'})")
    try:
        interface, gateway = specs[name].resolve({"params": context.params.params, "expected": context.params.expected})
    except UserError as exc:
        raise ProbeError(str(exc)) from None
    if name not in target.probe_links:
        raise ProbeError(f"no probe port '{name}' on this target ({target.kind} {target.name}): a real lab's "
                         f"inventory names a probe host plugged into segment {specs[name].switch} with "
                         f"probe_ports = {{\"{name}\": \"IFACE\"}}")
    return Prober(target.probe_links[name](name, interface, gateway), record)


__all__ = ["DhcpLease", "DnsAnswer", "DnsRecord", "LocalLink", "PortResult", "Prober", "ProbeLink", "RemoteLink",
           "lab_address", "open_prober"]
