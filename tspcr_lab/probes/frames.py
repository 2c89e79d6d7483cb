"""Raw Ethernet frames on a grader-owned probe port: what a check sends onto a lab segment and what
it hears there, 802.1Q-tagged or not.

A *probe port* is declared by a lab file (``[[probe_ports]]``: a name and the segment it is plugged
into, :mod:`tspcr_lab.labfile`). On the virtual lab it is a veth pair in the instance's core
namespace, one end a port of the segment's bridge, the other the grader's (``up`` creates it,
``down`` removes it with the namespace, :mod:`tspcr_lab.virtual.lab`); the grader opens an
AF_PACKET socket on its end from a thread that enters the core namespace (the process stays in
the machine's own), so its frames reach only that segment (:class:`LocalFramePort`). On a real lab
the inventory names a grader-owned *probe host* with an interface on that segment (``probe_ports =
{"trunk": "eth1"}`` in its data), reached over SSH (:class:`RemoteFramePort`); a target without
the port: :func:`open_probe_port` raises :class:`~tspcr_lab.errors.ProbeError` (an *error*, never a
pass). Checks get one through the ``probe_port`` fixture (:mod:`tspcr_lab.plugin`).

Frames are built and parsed with scapy's layer-2 classes only (``scapy.all`` takes two seconds to
import; these, about 0.2 s, are imported when a first frame is built or parsed, so that collecting
checks never pays for them). The kernel hands a received frame's 802.1Q tag apart (veth strips it into the packet's
metadata): a port asks for it (``PACKET_AUXDATA``) and :func:`parse` puts it back, so a
frame reads as it was on the wire. Probes use the IEEE local experimental ethertype 0x88B5
(:data:`PROBE_ETHERTYPE`), which no host's stack handles, sent to a MAC address nobody has.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import os
import select
import socket
import struct
import time
from typing import Any, Callable, Iterator

from ..errors import ProbeError

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
PROBE_ETHERTYPE = 0x88B5  # IEEE Std 802 local experimental ethertype 1
MIN_FRAME = 60  # an Ethernet frame without its FCS is padded to this length
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata (linux/if_packet.h)


@dataclasses.dataclass(frozen=True)
class Frame:
    """One Ethernet frame: addresses as ``aa:bb:cc:dd:ee:ff`` (lower case), ``vlan`` the 802.1Q
    VLAN id (None: untagged), ``ethertype`` the type of what it carries (after the tag)."""

    dst: str
    src: str
    ethertype: int
    vlan: int | None = None
    priority: int = 0
    payload: bytes = b""

    def summary(self) -> str:
        tag = f" vlan {self.vlan}" if self.vlan is not None else ""
        return f"{self.src} > {self.dst}{tag} type 0x{self.ethertype:04x} ({len(self.payload)} bytes)"


@functools.cache
def _scapy():
    """scapy's Ether, Dot1Q and Raw (its layer-2 module only)."""
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.packet import Raw

    return Ether, Dot1Q, Raw


def build(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire (without FCS), padded to 60 bytes."""
    Ether, Dot1Q, Raw = _scapy()
    if frame.vlan is not None and not 0 <= frame.vlan <= 4095:
        raise ValueError(f"VLAN id {frame.vlan} is not in 0-4095")
    if frame.vlan is None:
        packet = Ether(dst=frame.dst, src=frame.src, type=frame.ethertype)
    else:
        packet = (Ether(dst=frame.dst, src=frame.src, type=ETH_P_8021Q)
                  / Dot1Q(vlan=frame.vlan, prio=frame.priority, type=frame.ethertype))
    data = bytes(packet / Raw(frame.payload)) if frame.payload else bytes(packet)
    return data.ljust(MIN_FRAME, b"\0")


def parse(data: bytes, auxdata: bytes | None = None) -> Frame:
    """A frame from the bytes an AF_PACKET socket received and its ``PACKET_AUXDATA`` (the tag the
    kernel took out of the frame, if any). Raises ValueError on fewer than 14 bytes."""
    if len(data) < 14:
        raise ValueError(f"a frame of {len(data)} bytes has no Ethernet header")
    Ether, Dot1Q, _ = _scapy()
    if auxdata is not None and len(auxdata) >= AUXDATA.size:
        status, _len, _snaplen, _mac, _net, tci, tpid = AUXDATA.unpack_from(auxdata)
        if status & TP_STATUS_VLAN_VALID:
            tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID and tpid else ETH_P_8021Q
            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    packet = Ether(data)
    vlan = priority = None
    inner = packet.payload
    if isinstance(inner, Dot1Q):
        vlan, priority = inner.vlan, inner.prio
        ethertype, body = inner.type, inner.payload
    else:
        ethertype, body = packet.type, inner
    return Frame(dst=packet.dst.lower(), src=packet.src.lower(), ethertype=ethertype, vlan=vlan,
                 priority=priority or 0, payload=bytes(body))


def random_mac() -> str:
    """A fresh locally administered unicast address (no vendor's, no host's of the lab): a probe's
    source, new at every run, so that nothing a switch learned before is taken for an answer."""
    first = (os.urandom(1)[0] & 0xFC) | 0x02
    return ":".join(f"{b:02x}" for b in bytes([first]) + os.urandom(5))


class FramePort(abc.ABC):
    """A probe port: :meth:`send` frames, :meth:`receive` the first that matches. ``record(what,
    detail)``, when given, is told of every frame sent and received (the check's evidence). Two
    kinds: :class:`LocalFramePort` (an AF_PACKET socket of the grader's, the virtual lab's) and
    :class:`RemoteFramePort` (an interface of a grader-owned probe host of a real lab, over SSH)."""

    def __init__(self, name: str, record: Callable[[str, str], None] | None = None):
        self.name, self.record = name, record

    @abc.abstractmethod
    def _send(self, data: bytes, count: int) -> None:
        """Put ``data`` on the segment ``count`` times."""

    @abc.abstractmethod
    def _incoming(self, timeout: float) -> Iterator[tuple[bytes, bytes | None]]:
        """Frames (bytes, PACKET_AUXDATA) heard within ``timeout`` seconds, not those sent here."""

    def send(self, frame: Frame, count: int = 1) -> None:
        self._send(build(frame), count)
        if self.record:
            self.record(f"send {count} x {frame.summary()}", "")

    def drain(self) -> None:
        """Forget what was received so far (frames queued before a probe began)."""

    def receive(self, timeout: float, match: Callable[[Frame], bool] = lambda f: True) -> Frame | None:
        """The first frame arriving within ``timeout`` seconds for which ``match`` holds, or None.
        Frames this port sent itself are not heard."""
        for data, aux in self._incoming(timeout):
            try:
                frame = parse(data, aux)
            except ValueError:
                continue
            if match(frame):
                if self.record:
                    self.record(f"receive (up to {timeout:g} s)", frame.summary())
                return frame
        if self.record:
            self.record(f"receive (up to {timeout:g} s)", "nothing matched")
        return None

    def close(self) -> None:  # noqa: B027 - a port without a resource of its own
        """Release the port."""

    def __enter__(self) -> "FramePort":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class LocalFramePort(FramePort):
    """An AF_PACKET socket of the grader's process (bound to the probe port's end already)."""

    def __init__(self, sock: socket.socket, name: str, record: Callable[[str, str], None] | None = None):
        super().__init__(name, record)
        self.sock = sock
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)

    def _send(self, data: bytes, count: int) -> None:
        for _ in range(count):
            self.sock.send(data)

    def drain(self) -> None:
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535, socket.MSG_DONTWAIT)

    def _incoming(self, timeout: float) -> Iterator[tuple[bytes, bytes | None]]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            data, ancillary, _flags, address = self.sock.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
            if address[2] == socket.PACKET_OUTGOING:
                continue
            yield data, next((d for level, kind, d in ancillary if level == SOL_PACKET and kind == PACKET_AUXDATA), None)

    def close(self) -> None:
        self.sock.close()


# Run by a probe host's python3 (a real lab's): IFACE up without any address of its own (IPv6
# off: no autoconfigured address, no solicitation), then send HEX COUNT times, or (HEX "-") print
# every frame heard for SECONDS seconds (at most 500), one per line: the frame and its
# PACKET_AUXDATA in hexadecimal, "-" when none.
REMOTE_PROBE = r"""
import os, select, socket, subprocess, sys, time
iface, data, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
subprocess.run(["sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % iface], check=False)
subprocess.run(["ip", "link", "set", "dev", iface, "up"], check=True)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
if data != "-":
    for _ in range(count):
        s.send(bytes.fromhex(data))
    print("sent")
    sys.exit(0)
s.setsockopt(263, 8, 1)
end, heard = time.monotonic() + seconds, 0
while heard < 500:
    left = end - time.monotonic()
    if left <= 0 or not select.select([s], [], [], left)[0]:
        break
    frame, anc, _f, address = s.recvmsg(65535, socket.CMSG_SPACE(20))
    if address[2] == socket.PACKET_OUTGOING:
        continue
    aux = next((d for level, kind, d in anc if level == 263 and kind == 8), None)
    print(frame.hex(), aux.hex() if aux else "-")
    heard += 1
print("done")
"""


class RemoteFramePort(FramePort):
    """An interface of a grader-owned probe host of a real lab (reached over SSH as root, a
    :class:`~tspcr_lab.host.Host`), plugged into the segment: python3 there sends the frames built
    here and reports what it heard, parsed here (the probe host needs no scapy). The interface is
    brought up without any address; nothing else on the host is touched."""

    def __init__(self, host, iface: str, name: str, record: Callable[[str, str], None] | None = None):
        super().__init__(name, record)
        self.host, self.iface = host, iface

    def _run(self, data: str, count: int, seconds: float) -> str:
        result = self.host.run("python3 -c %s %s %s %s %s", REMOTE_PROBE, self.iface, data, str(count), str(seconds),
                               timeout=seconds + 15)
        lines = result.stdout.split("\n")
        if result.rc != 0 or not any(line in ("sent", "done") for line in lines):
            raise ProbeError(f"probe port {self.name} ({self.host.name} {self.iface}): the probe failed "
                             f"(exit {result.rc}): {(result.stderr or result.stdout).strip()[-200:]}")
        return result.stdout

    def _send(self, data: bytes, count: int) -> None:
        self._run(data.hex(), count, 0)

    def close(self) -> None:
        self.host.close()

    def _incoming(self, timeout: float) -> Iterator[tuple[bytes, bytes | None]]:
        for line in self._run("-", 0, timeout).splitlines():
            fields = line.split()
            if len(fields) == 2:
                yield bytes.fromhex(fields[0]), None if fields[1] == "-" else bytes.fromhex(fields[1])


def open_probe_port(context, name: str, record: Callable[[str, str], None] | None = None) -> FramePort:
    """The lab's probe port ``name`` (``[[probe_ports]]`` of its lab file) on the context's target,
    open. ProbeError (the check cannot run) when the lab declares no such port or the target has
    none (a real lab's inventory names no probe host for it)."""
    lab, target = context.lab, context.target
    probes = {p.name: p for p in lab.probe_ports}
    if name not in probes:
        raise ProbeError(f"lab {lab.id} declares no probe port '{name}' "
                         f"(its [[probe_ports]]: {', '.join(probes) or 'none'})")
    if name not in target.probe_ports:
        raise ProbeError(f"no probe port '{name}' on this target ({target.kind} {target.name}): a real lab's "
                         f"inventory names a probe host plugged into segment {probes[name].switch} with "
                         f"probe_ports = {{\"{name}\": \"IFACE\"}}")
    return target.probe_ports[name](name, record)
