"""The bytes of a grader-owned IP probe on the wire: send what :mod:`tspcr_lab.probes.packets`
built, hear what came back. Python's standard library only: this very file is also what a real
lab's probe host runs (``python3 -c <this file> JSON``, its answer one JSON line on stdout), so a
probe host needs no scapy and both kinds of probe ports behave the same.

One :func:`exchange`: an AF_PACKET socket on the probe's interface (promiscuous: a DHCP offer to
a MAC address that is not the interface's own is heard) captures every frame; IP packets are sent
through a raw socket (``IPPROTO_RAW``: the packet's own header; the probe's kernel routes it and
resolves the next hop), Ethernet frames through the capture socket itself; UDP ports are held open
meanwhile (bound sockets), so that answers to them draw no "port unreachable" from the probe's
kernel. A SYN-ACK to a SYN sent this way is reset by that kernel (no socket of its owns the
connection): the probed server keeps no half-open connection. Capture stops after ``seconds`` or
as soon as ``stop["count"]`` incoming frames matched one of ``stop["match"]``, a list of
``{field: value}``: ``ethertype``, ``proto`` (IP protocol), ``src``, ``dst``, ``sport``, ``dport``,
``arp_op``, ``arp_psrc``, ``xid`` (DHCP), ``flow`` (the probe's port a TCP/UDP answer goes to,
or that an ICMP unreachable quotes); with ``stop["distinct"]`` (a field), frames count once per
value of that field (each port answered, each DHCP client served).
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import select
import socket
import struct
import subprocess
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_OUTGOING = 4
SIOCGIFINDEX = 0x8933
MAX_FRAMES = 2000


def fields(frame: bytes) -> dict:
    """The few header fields a stop rule looks at (ARP and IPv4 over untagged Ethernet)."""
    found = {}
    if len(frame) < 14:
        return found
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    found["ethertype"] = ethertype
    if ethertype == 0x0806 and len(frame) >= 42:
        found["arp_op"] = struct.unpack_from("!H", frame, 20)[0]
        found["arp_psrc"] = socket.inet_ntoa(frame[28:32])
    elif ethertype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        found["proto"] = frame[23]
        found["src"] = socket.inet_ntoa(frame[26:30])
        found["dst"] = socket.inet_ntoa(frame[30:34])
        if frame[23] in (6, 17) and len(frame) >= 14 + ihl + 4:
            found["sport"], found["dport"] = struct.unpack_from("!HH", frame, 14 + ihl)
            found["flow"] = found["dport"]
            if frame[23] == 17 and 67 in (found["sport"], found["dport"]) and len(frame) >= 14 + ihl + 16:
                found["xid"] = struct.unpack_from("!I", frame, 14 + ihl + 12)[0]
        elif frame[23] == 1 and len(frame) >= 14 + ihl + 8 + 20 + 4 and frame[14 + ihl] == 3:
            inner = 14 + ihl + 8  # an ICMP unreachable quotes the header of what it refuses
            found["flow"] = struct.unpack_from("!H", frame, inner + (frame[inner] & 0x0F) * 4)[0]
    return found


def matches(frame: bytes, rules: list[dict]) -> dict | None:
    """The frame's fields when one of ``rules`` holds for them, else None."""
    seen = fields(frame)
    return seen if any(all(seen.get(key) == value for key, value in rule.items()) for rule in rules) else None


def exchange(open_socket, iface: str, frames: list[bytes], packets: list[tuple[str, bytes]],
             hold_udp: list[tuple[str, int]], seconds: float, stop: dict | None = None,
             source: str | None = None) -> tuple[str, list]:
    """Send ``frames`` (Ethernet) and ``packets`` ((destination, IPv4 packet)), listen ``seconds``
    at most. Returns the interface's MAC address and what was heard, in order: ``(seconds since
    the start, outgoing, frame bytes)``, the frames sent included (as the wire saw them)."""
    capture = open_socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    holders, raw = [], None
    try:
        capture.bind((iface, 0))
        # the interface's index in the socket's own namespace (not the calling process's)
        index = struct.unpack_from("16si", fcntl.ioctl(capture.fileno(), SIOCGIFINDEX,
                                                       struct.pack("16si", iface.encode(), 0)))[1]
        membership = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
        capture.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, membership)
        mac = ":".join(f"{b:02x}" for b in capture.getsockname()[4][:6])
        for address, port in hold_udp:
            holder = open_socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            holder.bind((address, port))
            holders.append(holder)
        if packets:
            raw = open_socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            if source:  # routed as the probe's address (a probe host's table of its own)
                raw.bind((source, 0))
        start = time.monotonic()
        for frame in frames:
            capture.send(frame)
        for destination, packet in packets:
            try:
                raw.sendto(packet, (destination, 0))
            except OSError as exc:  # no route from the probe: nothing left its interface
                raise OSError(exc.errno, f"send to {destination}: {exc.strerror or exc}") from None
        heard = [(0.0, True, frame) for frame in frames]  # a packet socket does not hear its own
        rules = (stop or {}).get("match") or []
        wanted, distinct, seen = (stop or {}).get("count", 0), (stop or {}).get("distinct"), set()
        deadline = start + seconds
        while len(heard) < MAX_FRAMES:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([capture], [], [], left)[0]:
                break
            data, address = capture.recvfrom(65535)
            outgoing = address[2] == PACKET_OUTGOING
            heard.append((round(time.monotonic() - start, 4), outgoing, data))
            found = None if outgoing or not rules else matches(data, rules)
            key = None if found is None else (found.get(distinct) if distinct else len(seen))
            if key is not None:
                seen.add(key)
                if wanted and len(seen) >= wanted:
                    break
        return mac, heard
    finally:
        for sock in (capture, raw, *holders):
            if sock is not None:
                sock.close()


def connect(open_socket, source: str | None, target: str, port: int, send: bytes, timeout: float) -> bytes | None:
    """A TCP connection from the probe's own stack: what the server sent back (until it closed,
    ``timeout`` passed or 64 KiB came), b"" when it said nothing; None when it could not connect."""
    sock = open_socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    try:
        sock.settimeout(timeout)
        if source:
            sock.bind((source, 0))
        try:
            sock.connect((target, port))
        except OSError:
            return None
        received = b""
        try:
            if send:
                sock.sendall(send)
            end = time.monotonic() + timeout
            while len(received) < 65536 and time.monotonic() < end:
                sock.settimeout(max(0.01, end - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
        return received
    finally:
        sock.close()


def configure(iface: str, address: str, gateway: str | None, table: int) -> None:
    """A real probe host's interface: up, the probe's address (and only it) on it, IPv6 off, and,
    with a gateway, routes for the probe's own address in a routing table of its own (``table``,
    so that other probe interfaces of the same host keep theirs): its segment, then a default
    route through the gateway."""
    def ip(*args: str, check: bool = True) -> str:
        proc = subprocess.run(["ip", *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {(proc.stderr or proc.stdout).strip()}")
        return proc.stdout

    subprocess.run(["sysctl", "-q", "-w", f"net.ipv6.conf.{iface}.disable_ipv6=1"], check=False)
    ip("link", "set", "dev", iface, "up")
    current = json.loads(ip("-j", "-4", "addr", "show", "dev", iface) or "[]")
    for link in current:
        for info in link.get("addr_info", []):
            if f"{info['local']}/{info['prefixlen']}" != address:
                ip("addr", "del", f"{info['local']}/{info['prefixlen']}", "dev", iface)
    ip("addr", "replace", address, "dev", iface)
    if gateway:
        local = address.split("/")[0]
        # the segment itself first (a target on it is reached directly, not through the gateway)
        network = str(ipaddress.IPv4Interface(address).network)
        ip("route", "replace", network, "dev", iface, "src", local, "table", str(table))
        ip("route", "replace", "default", "via", gateway, "dev", iface, "table", str(table))
        if f"from {local} lookup {table}" not in ip("rule", "list"):
            ip("rule", "add", "from", local, "table", str(table))


def main() -> None:
    """A real probe host's side: one JSON request in argv[1], one JSON line out."""
    request = json.loads(sys.argv[1])

    def open_socket(family, kind, proto):
        return socket.socket(family, kind, proto)

    try:
        configure(request["iface"], request["address"], request.get("gateway"), request["table"])
        if request["op"] == "connect":
            got = connect(open_socket, request["address"].split("/")[0], request["target"], request["port"],
                          bytes.fromhex(request["send"]), request["timeout"])
            print(json.dumps({"received": None if got is None else got.hex()}))
            return
        mac, heard = exchange(open_socket, request["iface"], [bytes.fromhex(f) for f in request["frames"]],
                              [(d, bytes.fromhex(p)) for d, p in request["packets"]],
                              [tuple(h) for h in request["hold_udp"]], request["seconds"], request.get("stop"),
                              request["address"].split("/")[0])
        print(json.dumps({"mac": mac, "heard": [[t, o, d.hex()] for t, o, d in heard]}))
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        print(json.dumps({"error": str(exc)}))


if __name__ == "__main__":
    main()
