"""The Open vSwitch driver on outputs recorded for real on the vlans lab's switches
(tests/unit/recorded/ovs, made by its record.py: factory state, solved, and sw2 changed in varied
ways), and on broken outputs: ParseError (a ProbeError: the check is an error), never raw text."""

from __future__ import annotations

import pytest

from tspcr_lab.devices import Facts, MacEntry, NotSupported, ParseError, Switchport, Vlan
from tspcr_lab.devices.ovs import OvsDriver, ovs_map, ovs_set, ovs_value
from tspcr_lab.errors import ProbeError
from tspcr_lab.host import Host
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded, ReplayTransport

OVS = Recorded("ovs")
KEYS = ("ports", "ifaces", "bridges", "addr", "show", "facts", "fdb")
# The plan of seed 4242 (labs/vlans/params.py): VLAN A 86, B 118, management 213.
A, B, M = 86, 118, 213


def ovs(host: str = "sw1", state: str = "solved", bridge: str | None = None, **replaced: str | CommandResult) -> OvsDriver:
    results = {}
    for key in KEYS:
        result = OVS.result(f"{host}-{state}-{key}")
        results[result.command] = result
    for key, value in replaced.items():
        command = OVS.runs[f"{host}-{state}-{key}"]["command"]
        results[command] = value if isinstance(value, CommandResult) else CommandResult(command, 0, value, "")
    return OvsDriver(Host(host, ReplayTransport(results)), bridge=bridge)


def test_values_of_ovs_json():
    assert ovs_value("p1") == "p1" and ovs_value(10) == 10
    assert ovs_set(["set", []]) == [] and ovs_set(42) == [42] and ovs_set(["set", [5, 6]]) == [5, 6]
    assert ovs_map(["map", [["description", "B1-12"]]]) == {"description": "B1-12"}
    assert ovs_set(["uuid", "a-b"]) == ["a-b"]
    for bad in (["list", []], ["set", 3], ["map", [["k"]]], None, {"a": 1}):
        with pytest.raises(ValueError):
            ovs_value(bad)


def test_facts():
    assert ovs().facts() == Facts(hostname="sw1", model="Open vSwitch", version="3.1.0")


def test_switchports_factory_state_every_port_a_trunk_of_every_vlan():
    ports = ovs("sw1", "factory").switchports()
    assert sorted(ports) == ["br0", "p1", "p2", "p3", "p4", "p5", "p6"]
    assert ports["p1"] == Switchport(name="p1", mode="trunk", access_vlan=None, allowed_vlans=None, native_vlan=None,
                                     description="", shutdown=False)
    assert ports["br0"].shutdown is True  # the bridge's own port: created down, nobody brings it up
    assert ovs("sw1", "factory").vlans() == {}


def test_switchports_solved():
    ports = ovs("sw1", "solved").switchports()
    assert sorted(ports) == ["br0", "p1", "p2", "p3", "p6", "vlan213"]  # p4 p5 removed from the bridge
    assert ports["p1"].mode == "access" and ports["p1"].access_vlan == A and ports["p1"].allowed_vlans is None
    assert ports["p2"].access_vlan == B and ports["p3"].access_vlan == M
    assert ports["p6"] == Switchport(name="p6", mode="trunk", allowed_vlans=frozenset({A, B, M}),
                                     description="Liaison sw2")
    assert ports["vlan213"].access_vlan == M and not ports["vlan213"].shutdown
    assert {name: p.description for name, p in ports.items()} == {
        "br0": "", "p1": "B3-18", "p2": "C2-20", "p3": "A0-08", "p6": "Liaison sw2", "vlan213": ""}


def test_switchports_varied():
    ports = ovs("sw2", "varied").switchports()
    assert ports["p3"].shutdown and ports["p4"].shutdown  # ip link down / ovs-ofctl mod-port down
    assert not ports["p5"].shutdown
    # tag and trunks without vlan_mode: ovs-vswitchd ignores the trunks, an access port
    assert ports["p2"].mode == "access" and ports["p2"].access_vlan == B and ports["p2"].allowed_vlans is None
    # a trunk of one VLAN: OVS writes the one-element set as a bare number
    assert ports["p6"].allowed_vlans == frozenset({42})
    assert ports["p5"] == Switchport(name="p5", mode="trunk", allowed_vlans=frozenset({7, 8}), native_vlan=7,
                                     description='spare "socket" é')
    assert ovs("sw2", "varied").vlans() == {v: Vlan(id=v, name=f"VLAN{v:04d}", active=True)
                                            for v in (7, 8, 42, A, B, M)}


def test_vlans_in_use_solved():
    assert sorted(ovs("sw2", "solved").vlans()) == [A, B, M]


def test_interfaces():
    interfaces = ovs("sw1", "solved").interfaces()
    assert sorted(interfaces) == ["br0", "p1", "p2", "p3", "p6", "vlan213"]
    mgmt = interfaces["vlan213"]
    assert mgmt.addresses == ("10.83.9.18/24",) and mgmt.enabled and mgmt.up and mgmt.mtu == 1500
    assert interfaces["p6"].description == "Liaison sw2" and interfaces["p1"].addresses == ()
    assert interfaces["br0"].enabled is False
    varied = ovs("sw2", "varied").interfaces()
    assert not varied["p3"].enabled and not varied["p3"].up and varied["p5"].enabled


def test_mac_table():
    table = ovs("sw1", "solved").mac_table()
    assert table and all(isinstance(e, MacEntry) for e in table)
    ports = {e.port for e in table}
    assert ports <= {"p1", "p2", "p3", "p6", "vlan213", "br0"}
    assert {(e.port, e.vlan) for e in table} >= {("p1", A), ("p2", B), ("p3", M), ("vlan213", M)}
    factory = ovs("sw1", "factory").mac_table()
    assert factory and {e.vlan for e in factory} == {0}


def test_mac_table_of_one_bridge_needs_no_bridge_list():
    driver = ovs("sw2", "solved", bridge="br0")
    driver.mac_table()
    assert OvsDriver.BRIDGES not in driver.host.transport.commands


def test_running_config():
    text = ovs("sw2", "solved").running_config()
    assert "Bridge br0" in text and "trunks: [86, 118, 213]" in text


def test_routes_not_supported():
    with pytest.raises(NotSupported):
        ovs().routes()


def test_database_down_is_a_probe_error():
    result = OVS.result("sw2-dbdown-ports")
    driver = ovs("sw2", "solved", ports=result)
    with pytest.raises(ProbeError, match="database connection failed"):
        driver.switchports()


def test_unknown_bridge_is_a_probe_error():
    result = OVS.result("sw1-nobridge-fdb")
    host = Host("sw1", ReplayTransport({OvsDriver.IFACES: OVS.result("sw1-solved-ifaces"), result.command: result}))
    with pytest.raises(ProbeError, match="exited 2"):
        OvsDriver(host, bridge="br9").mac_table()


@pytest.mark.parametrize("key, output, getter", [
    ("ports", "not json", "switchports"),
    ("ports", "[]", "switchports"),
    ("ports", '{"data": [["p1"]], "headings": ["name", "tag"]}', "switchports"),
    ("ports", '{"data": [["p1", ["set", []], ["set", []], "sideways", ["map", []], ["set", []], ["uuid", "x"]]], '
              '"headings": ["name", "tag", "trunks", "vlan_mode", "external_ids", "interfaces", "_uuid"]}', "switchports"),
    ("ports", '{"data": [["p1", 5000, ["set", []], ["set", []], ["map", []], ["set", []], ["uuid", "x"]]], '
              '"headings": ["name", "tag", "trunks", "vlan_mode", "external_ids", "interfaces", "_uuid"]}', "switchports"),
    ("ifaces", '{"data": [], "headings": []', "interfaces"),
    ("fdb", "garbage\n", "mac_table"),
    ("fdb", " port  VLAN  MAC                Age\n   99    10  02:00:00:00:00:01    1\n", "mac_table"),
    ("fdb", " port  VLAN  MAC                Age\n    1    10  not-a-mac    1\n", "mac_table"),
    ("facts", "sw1\n", "facts"),
    ("show", "", "running_config"),
])
def test_bad_output_is_a_parse_error(key, output, getter):
    with pytest.raises(ParseError) as info:
        getattr(ovs("sw1", "solved", **{key: output}), getter)()
    assert "OvsDriver" in str(info.value) and "\n" not in str(info.value)
