"""Frames of a probe port, without a network: building and parsing 802.1Q-tagged and untagged
Ethernet frames (the tag the kernel hands apart in PACKET_AUXDATA put back), the probe ports a lab
file declares, and that a target without one gives an error."""

from __future__ import annotations

import shutil
import struct
import types
from pathlib import Path

import pytest

from tspcr_lab.errors import ProbeError, UserError
from tspcr_lab.labfile import ProbePortSpec, load_lab
from tspcr_lab.probes.frames import (
    AUXDATA,
    PROBE_ETHERTYPE,
    TP_STATUS_VLAN_TPID_VALID,
    TP_STATUS_VLAN_VALID,
    Frame,
    build,
    open_probe_port,
    parse,
    random_mac,
)

REPO = Path(__file__).resolve().parents[2]
SRC, DST = "02:11:22:33:44:55", "02:00:5e:00:53:00"


def test_untagged_frame_bytes():
    data = build(Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE, payload=b"probe"))
    assert data[:6] == bytes.fromhex("02005e005300") and data[6:12] == bytes.fromhex("021122334455")
    assert data[12:14] == b"\x88\xb5" and data[14:19] == b"probe"
    assert len(data) == 60 and data[19:] == b"\0" * 41  # padded to the Ethernet minimum


def test_tagged_frame_bytes():
    data = build(Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE, vlan=3001, priority=5, payload=b"x" * 60))
    assert data[12:14] == b"\x81\x00"
    assert struct.unpack("!H", data[14:16])[0] == (5 << 13) | 3001
    assert data[16:18] == b"\x88\xb5" and data[18:] == b"x" * 60 and len(data) == 78


@pytest.mark.parametrize("vlan", [None, 1, 61, 4094])
def test_parse_reads_back_what_build_wrote(vlan):
    frame = Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE, vlan=vlan, payload=b"tspcr-lab trunk probe")
    parsed = parse(build(frame))
    assert (parsed.dst, parsed.src, parsed.ethertype, parsed.vlan) == (DST, SRC, PROBE_ETHERTYPE, vlan)
    assert parsed.payload.rstrip(b"\0") == frame.payload


def auxdata(status: int, tci: int = 0, tpid: int = 0) -> bytes:
    return AUXDATA.pack(status, 60, 60, 0, 14, tci, tpid)


def test_parse_puts_back_the_tag_the_kernel_took_out():
    """veth strips the tag into the packet's metadata: the frame reads as it was on the wire."""
    stripped = build(Frame(dst="ff:ff:ff:ff:ff:ff", src=SRC, ethertype=0x0806, payload=b"\0\1" * 14))
    frame = parse(stripped, auxdata(TP_STATUS_VLAN_VALID | 1, tci=(3 << 13) | 61, tpid=0x8100))
    assert (frame.vlan, frame.priority, frame.ethertype, frame.src) == (61, 3, 0x0806, SRC)
    assert frame.payload.startswith(b"\0\1" * 14)


def test_auxdata_without_a_valid_tag_leaves_the_frame_untagged():
    """A frame whose VLAN id is 0 (priority tag only) reports TP_STATUS_VLAN_VALID; without it the
    tci field means nothing."""
    data = build(Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE))
    assert parse(data, auxdata(1, tci=61)).vlan is None
    assert parse(data, auxdata(TP_STATUS_VLAN_VALID, tci=0)).vlan == 0
    tagged = parse(data, auxdata(TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, tci=200, tpid=0x88A8))
    assert tagged.vlan == 200  # an 802.1ad outer tag reads as a tag too
    assert parse(data, b"short").vlan is None  # a truncated control message is ignored


def test_parse_refuses_what_is_no_frame():
    with pytest.raises(ValueError, match="13 bytes"):
        parse(b"\0" * 13)


def test_build_refuses_a_vlan_id_out_of_range():
    with pytest.raises(ValueError, match="4096"):
        build(Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE, vlan=4096))


def test_summary_names_the_tag():
    assert Frame(dst=DST, src=SRC, ethertype=PROBE_ETHERTYPE, vlan=61, payload=b"ab").summary() == \
        f"{SRC} > {DST} vlan 61 type 0x88b5 (2 bytes)"


def test_random_mac_is_local_unicast_and_new_each_time():
    macs = {random_mac() for _ in range(50)}
    assert len(macs) == 50
    for mac in macs:
        first = int(mac[:2], 16)
        assert first & 0x02 and not first & 0x01 and len(bytes.fromhex(mac.replace(":", ""))) == 6


# -- probe ports of a lab file --------------------------------------------------------------------

def test_vlans_lab_declares_its_trunk_probe_port(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    assert load_lab("vlans").probe_ports == (ProbePortSpec("trunk", "c16"),)
    assert load_lab("ip-plan").probe_ports == ()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO / "labs" / "ip-plan", tmp_path / "labs" / "ip-plan")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / "ip-plan" / "lab.toml"


@pytest.mark.parametrize("tables, fragments", [
    ('[[probe_ports]]\nname = "lan"\nswitch = "sw9"\n', ["probe_ports[0].switch", "unknown switch 'sw9'"]),
    ('[[probe_ports]]\nname = "Lan-1"\nswitch = "sw1"\n', ["probe_ports[0].name", "'Lan-1'"]),
    ('[[probe_ports]]\nname = "lan"\nswitch = "sw1"\n[[probe_ports]]\nname = "lan"\nswitch = "sw2"\n',
     ["probe_ports[1].name", "declared twice"]),
    ('[[probe_ports]]\nname = "lan"\nswich = "sw1"\n', ["probe_ports[0].switch", "missing", "'swich'"]),
    ('[[probe_ports]]\nname = "lan"\nswitch = "sw1"\nvlan = 10\n', ["probe_ports[0].vlan", "unknown key"]),
])
def test_probe_port_mistake_is_one_line(home, tables, fragments):
    text = home.read_text(encoding="utf-8")
    head, tail = text.split("[[hosts]]", 1)
    home.write_text(head + tables + "\n[[hosts]]" + tail, encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_lab("ip-plan")
    message = str(info.value)
    assert "\n" not in message and str(home) in message
    for fragment in fragments:
        assert fragment in message


def test_probe_ports_load(home):
    text = home.read_text(encoding="utf-8")
    head, tail = text.split("[[hosts]]", 1)
    home.write_text(head + '[[probe_ports]]\nname = "lan"\nswitch = "sw2"\n\n[[hosts]]' + tail, encoding="utf-8")
    assert load_lab("ip-plan").probe_ports == (ProbePortSpec("lan", "sw2"),)


# -- opening one ----------------------------------------------------------------------------------

def context(kind: str, probe_ports=None):
    lab = load_lab("vlans")
    return types.SimpleNamespace(lab=lab, target=types.SimpleNamespace(kind=kind, name="classroom.toml",
                                                                       probe_ports=probe_ports or {}))


def test_a_real_lab_without_a_probe_host_has_no_probe_port(monkeypatch):
    """On an inventory naming no probe host, there is nothing the grader owns on the trunk's
    cable: an error, never a pass (and nothing is opened on the machine)."""
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    with pytest.raises(ProbeError, match=r"no probe port 'trunk' on this target \(inventory classroom.toml\): "
                                         r"a real lab's inventory names a probe host"):
        open_probe_port(context("inventory"), "trunk")


def inventory_file(tmp_path, probe_data: str) -> str:
    lines = ["switches = [('sw1', {'ssh_hostname': '192.0.2.2'}), ('sw2', {'ssh_hostname': '192.0.2.3'})]",
             "pcs = [" + ", ".join(f"('{h}', {{'ssh_hostname': '192.0.2.{i}'}})"
                                   for i, h in enumerate(("pc1", "pc2", "pc3", "pc4", "adm"), start=11)) + "]",
             f"probes = [('tap1', {{'ssh_hostname': '192.0.2.99', {probe_data}}})]"]
    path = tmp_path / "inventory.py"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_probe_host_of_the_inventory_gives_the_port(monkeypatch, tmp_path):
    """A grader-owned host whose data say which of its interfaces is on the trunk's cable: the
    port is opened there over SSH (nothing is connected until a frame is sent)."""
    from tspcr_lab.probes.frames import RemoteFramePort
    from tspcr_lab.targets import inventory_target

    monkeypatch.delenv("TSPCR_HOME", raising=False)
    target = inventory_target(load_lab("vlans"), inventory_file(tmp_path, "'probe_ports': {'trunk': 'eth1'}"), 7, "")
    port = open_probe_port(types.SimpleNamespace(lab=load_lab("vlans"), target=target), "trunk")
    assert isinstance(port, RemoteFramePort) and (port.host.name, port.iface) == ("tap1", "eth1")
    assert "tap1" not in target.transports  # a probe host is the grader's, not a lab host


@pytest.mark.parametrize("data, detail", [("'probe_ports': ['eth1']", "must be a dict"),
                                          ("'probe_ports': {'trunk': 'eth1; reboot'}", "is not an interface name")])
def test_a_wrong_probe_ports_value_is_one_line(monkeypatch, tmp_path, data, detail):
    from tspcr_lab.errors import UserError
    from tspcr_lab.inventory import load_inventory

    with pytest.raises(UserError, match=detail):
        load_inventory(inventory_file(tmp_path, data))


def test_an_undeclared_probe_port_is_an_error(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    with pytest.raises(ProbeError, match=r"declares no probe port 'lan' \(its \[\[probe_ports\]\]: trunk\)"):
        open_probe_port(context("virtual"), "lan")
