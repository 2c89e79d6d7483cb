"""Raw Ethernet frames on a grader-owned probe port: what a check sends onto a lab segment and what
it hears there, 802.1Q-tagged or not.

A *probe port* is declared by a lab file (``[[probe_ports]]``: a name and the segment it is plugged
into, :mod:`tspcr_lab.labfile`). On the virtual lab it is a veth pair in the instance's core
namespace, one end a port of the segment's bridge, the other the grader's (``up`` creates it,
``down`` removes it with the namespace, :mod:`tspcr_lab.virtual.lab`); the grader opens an
AF_PACKET socket on its end from a thread that enters the core namespace (the process stays in
the machine's own), so its frames reach only that segment. A real lab (an inventory) has no such
port: :func:`open_probe_port` raises :class:`~tspcr_lab.errors.ProbeError` (an *error*, never a
pass). Checks get one through the ``probe_port`` fixture (:mod:`tspcr_lab.plugin`).

Frames are built and parsed with scapy's layer-2 classes only (``scapy.all`` takes two seconds to
import; these, about 0.2 s, are imported when a first frame is built or parsed, so that collecting
checks never pays for them). The kernel hands a received frame's 802.1Q tag apart (veth strips it into the packet's
metadata): :class:`FramePort` asks for it (``PACKET_AUXDATA``) and :func:`parse` puts it back, so a
frame reads as it was on the wire. Probes use the IEEE local experimental ethertype 0x88B5
(:data:`PROBE_ETHERTYPE`), which no host's stack handles, sent to a MAC address nobody has.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import select
import socket
import struct
import time
from typing import Any, Callable

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


class FramePort:
    """An AF_PACKET socket on a probe port: :meth:`send` frames, :meth:`receive` those that match.

    ``record(what, detail)``, when given, is told of every frame sent and received (the check's
    evidence)."""

    def __init__(self, sock: socket.socket, name: str, record: Callable[[str, str], None] | None = None):
        self.sock, self.name, self.record = sock, name, record
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)

    def send(self, frame: Frame, count: int = 1) -> None:
        data = build(frame)
        for _ in range(count):
            self.sock.send(data)
        if self.record:
            self.record(f"send {count} x {frame.summary()}", "")

    def drain(self) -> None:
        """Forget what was received so far (frames queued before a probe began)."""
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535, socket.MSG_DONTWAIT)

    def receive(self, timeout: float, match: Callable[[Frame], bool] = lambda f: True) -> Frame | None:
        """The first frame arriving within ``timeout`` seconds for which ``match`` holds, or None.
        Frames this port sent itself are not heard."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                if self.record:
                    self.record(f"receive (up to {timeout:g} s)", "nothing matched")
                return None
            data, ancillary, _flags, address = self.sock.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
            if address[2] == socket.PACKET_OUTGOING:
                continue
            aux = next((d for level, kind, d in ancillary if level == SOL_PACKET and kind == PACKET_AUXDATA), None)
            try:
                frame = parse(data, aux)
            except ValueError:
                continue
            if match(frame):
                if self.record:
                    self.record(f"receive (up to {timeout:g} s)", frame.summary())
                return frame

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "FramePort":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_probe_port(context, name: str, record: Callable[[str, str], None] | None = None) -> FramePort:
    """The lab's probe port ``name`` (``[[probe_ports]]`` of its lab file) on the context's target, open.
    ProbeError (the check cannot run) when the lab declares no such port or the target has none."""
    lab, target = context.lab, context.target
    probes = {p.name: p for p in lab.probe_ports}
    if name not in probes:
        raise ProbeError(f"lab {lab.id} declares no probe port '{name}' "
                         f"(its [[probe_ports]]: {', '.join(probes) or 'none'})")
    if target.kind != "virtual":
        raise ProbeError(f"no probe port on this target ({target.kind} {target.name}): probe '{name}' on "
                         f"segment {probes[name].switch} exists only on the virtual lab")
    from ..virtual.lab import VirtualLab

    sock = VirtualLab(lab, target.name).probe_socket(name)
    return FramePort(sock, name, record)
