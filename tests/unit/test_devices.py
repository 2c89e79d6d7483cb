"""Device drivers on recorded outputs: the IOS driver on real IOS outputs (tests/unit/recorded/ios,
see SOURCES.md), the Linux driver on `ip -j` outputs recorded on a virtual lab router
(tests/unit/recorded/linux), NetmikoConnection against an SSH server that answers like IOS."""

from __future__ import annotations

import asyncio
import pathlib
import socket
import threading
from typing import Sequence

import pytest

from tspcr_lab.devices import (
    Connection, Facts, Interface, Interfaces, IosDriver, LinuxDriver, LoginFailed, MacEntry, NetmikoConnection,
    NotSupported, OspfNeighbor, ParseError, Route, Switchport, Vlan, best_route, canonical_interface, cli_error,
    normalize_address, normalize_mac, normalize_prefix, same_interface, vlan_set,
)
from tspcr_lab.errors import CommandTimeout, HostUnreachable, ProbeError
from tspcr_lab.host import Host
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded, ReplayTransport

IOS = pathlib.Path(__file__).parent / "recorded" / "ios"
LINUX = Recorded("linux")

INVALID = "              ^\n% Invalid input detected at '^' marker.\n"


def recorded(name: str) -> str:
    return (IOS / name).read_text()


# --- the IOS driver over a replayer of recorded outputs -------------------------------------------


class Replayer(Connection):
    """Answers each command with its recorded output (a test double, not a device)."""

    def __init__(self, outputs: dict[str, str], config_output: str = ""):
        self.name = "sw1"
        self.outputs = outputs
        self.config_output = config_output
        self.sent: list[str] = []

    def send_command(self, command: str) -> str:
        self.sent.append(command)
        if command not in self.outputs:
            pytest.fail(f"the driver sent an unexpected command: {command!r}")
        return self.outputs[command]

    def send_config_set(self, lines: Sequence[str]) -> str:
        self.sent.extend(lines)
        return self.config_output


# Keyword -> command, where the command is not the keyword with spaces for underscores.
COMMANDS = {"show_mac_address_table": "show mac address-table", "show_running_config": "show running-config"}


def ios(**outputs: str) -> IosDriver:
    """``ios(show_version="show_version.txt")``: an IosDriver answering "show version" with that
    recording (a value without ``.txt`` is the output itself)."""
    return IosDriver(Replayer({COMMANDS.get(key, key.replace("_", " ")): recorded(value) if value.endswith(".txt") else value
                               for key, value in outputs.items()}))


def driver_for(command: str, output: str) -> IosDriver:
    return IosDriver(Replayer({command: output}))


def description_table(*rows: tuple[str, str, str]) -> str:
    """A `show interfaces description` table (port, status, description) in the recorded layout
    (see show_interfaces_description.txt): written here, since no public source has it from the
    same device as a `show interfaces switchport` recording."""
    lines = ["Interface                      Status         Protocol Description"]
    for port, status, description in rows:
        protocol = "up" if status == "up" else "down"
        lines.append(f"{port:<31}{status:<15}{protocol:<9}{description}".rstrip())
    return "\n".join(lines) + "\n"


def test_facts_from_show_version():
    assert ios(show_version="show_version.txt").facts() == Facts(hostname="router1", model="WS-C4948E",
                                                                 version="12.2(54)SG1")


def test_interfaces_from_show_interfaces():
    interfaces = ios(show_interfaces="show_interfaces.txt").interfaces()
    assert len(interfaces) == 14
    assert interfaces["GigabitEthernet0/0.6"] == Interface(
        name="GigabitEthernet0/0.6", enabled=True, up=True, addresses=("192.27.6.129/26",), mac="00:0f:35:2d:23:81",
        description="LAN", mtu=1500)
    shut = interfaces["GigabitEthernet0/1"]
    assert (shut.enabled, shut.up, shut.description, shut.addresses) == (False, False, "NOT IN USE", ())
    loopback = interfaces["Loopback0"]
    assert (loopback.mac, loopback.mtu, loopback.addresses) == (None, 1514, ("192.20.0.144/32",))
    assert interfaces["Tunnel0"].description == ""


def test_interfaces_found_by_their_abbreviations():
    interfaces = ios(show_interfaces="show_interfaces.txt").interfaces()
    assert isinstance(interfaces, Interfaces) and isinstance(interfaces, dict)
    assert interfaces["Gi0/0.44"].description == "Wireless LAN"
    assert "Fa0/1/0.50" in interfaces and "fa0/1/0.50" in interfaces and "Fa0/1/0.51" not in interfaces
    assert interfaces.get("Lo0").addresses == ("192.20.0.144/32",)
    assert interfaces.get("Lo9") is None and interfaces.get("Lo9", "none") == "none"
    assert list(interfaces)[:2] == ["GigabitEthernet0/0", "GigabitEthernet0/0.6"]  # keys as the device gives them
    with pytest.raises(KeyError):
        interfaces["Gi0/9"]


def test_vlans_from_show_vlan_brief():
    vlans = ios(show_vlan_brief="show_vlan_brief.txt").vlans()
    assert sorted(vlans) == [1, 10, 50, 60, 1002, 1003, 1004, 1005]
    assert vlans[10] == Vlan(id=10, name="Management", active=True)
    assert vlans[1002] == Vlan(id=1002, name="fddi-default", active=False)  # act/unsup


SWITCHPORT_DESCRIPTIONS = description_table(
    ("Gi0/1", "up", "uplink"), ("Gi0/2", "up", "PLC 1"), ("Gi0/3", "admin down", ""), ("Gi1/0", "down", ""),
    ("Gi1/1", "up", "HMI 2 (bench)"))


def test_switchports_access_and_trunk():
    switch = ios(show_interfaces_switchport="show_interfaces_switchport.txt",
                 show_interfaces_description=SWITCHPORT_DESCRIPTIONS)
    ports = switch.switchports()
    assert list(ports) == ["Gi0/1", "Gi0/2", "Gi0/3", "Gi1/0", "Gi1/1"]
    assert ports["Gi0/1"] == Switchport(name="Gi0/1", mode="trunk", access_vlan=1, allowed_vlans=None, native_vlan=1,
                                        description="uplink", shutdown=False)
    # "dynamic auto" ports that negotiated access: access ports of their VLAN
    assert ports["GigabitEthernet0/2"] == Switchport(name="Gi0/2", mode="access", access_vlan=100, allowed_vlans=None,
                                                     native_vlan=1, description="PLC 1", shutdown=False)
    assert (ports["Gi0/3"].access_vlan, ports["Gi0/3"].shutdown, ports["Gi0/3"].description) == (101, True, "")
    assert ports["gi1/1"].description == "HMI 2 (bench)"
    assert switch.connection.sent == ["show interfaces switchport", "show interfaces description"]


def test_switchports_allowed_vlans_on_two_lines():
    ports = ios(show_interfaces_switchport="show_interfaces_switchport-trunks.txt",
                show_interfaces_description=description_table(("Te5/0/1", "up", ""), ("Te5/0/2", "up", ""))).switchports()
    allowed = {1, 12, 15, *range(31, 37), 40, 41, 42, 80, 85, 101, 201, 240, 410, 420, 602, 604, 900, 910, 920, 930, 940}
    assert ports["TenGigabitEthernet5/0/1"].mode == "trunk"
    assert ports["Te5/0/1"].allowed_vlans == frozenset(allowed)
    assert ports["Te5/0/2"].native_vlan == 1


def test_switchports_dynamic_port_down():
    ports = ios(show_interfaces_switchport="show_interfaces_switchport-dynamic.txt",
                show_interfaces_description=description_table(("Gi0/1/3", "down", ""), ("Wl0/1/4", "up", ""))).switchports()
    assert ports["Gi0/1/3"].mode == "dynamic"  # dynamic auto, nothing negotiated yet
    assert (ports["Wl0/1/4"].mode, ports["Wl0/1/4"].access_vlan) == ("access", 41)


def test_switchports_routed_port():
    # A layer-3 port of a switch: IOS prints only its name and "Switchport: Disabled".
    ports = ios(show_interfaces_switchport="Name: Gi1/0/1\nSwitchport: Disabled\n\n",
                show_interfaces_description=description_table(("Gi1/0/1", "up", "to r1"))).switchports()
    assert ports["Gi1/0/1"] == Switchport(name="Gi1/0/1", mode="routed", access_vlan=None, allowed_vlans=None,
                                          native_vlan=None, description="to r1", shutdown=False)


def test_switchports_and_descriptions_of_different_devices():
    # Both outputs are real, from two switches: a port of one is missing in the other's table.
    switch = ios(show_interfaces_switchport="show_interfaces_switchport.txt",
                 show_interfaces_description="show_interfaces_description.txt")
    with pytest.raises(ParseError, match=r"`show interfaces switchport`: Gi1/0 is not in `show interfaces description`"):
        switch.switchports()


def test_mac_table():
    entries = ios(show_mac_address_table="show_mac_address-table.txt").mac_table()
    assert len(entries) == 6
    assert entries[0] == MacEntry(vlan=None, mac="01:00:0c:cc:cc:cc", port="CPU")  # "All": every VLAN
    assert MacEntry(vlan=87, mac="00:19:ab:11:11:11", port="Gi1/1/1") in entries
    assert [e.mac for e in entries if e.vlan == 87 and same_interface(e.port, "GigabitEthernet1/1/1")] == [
        "00:19:ab:11:11:11", "18:18:18:18:18:18"]


def test_mac_table_empty():
    empty = ("          Mac Address Table\n-------------------------------------------\n\n"
             "Vlan    Mac Address       Type        Ports\n----    -----------       --------    -----\n\n"
             "Total Mac Addresses for this criterion: 0\n")
    assert driver_for("show mac address-table", empty).mac_table() == []


def test_routes():
    routes = ios(show_ip_route="show_ip_route.txt").routes()
    by_prefix = {r.prefix: r for r in routes}
    assert len(routes) == len(by_prefix) == 32  # 35 rows: three routes have two paths
    assert by_prefix["1.1.1.1/32"] == Route(prefix="1.1.1.1/32", protocol="static",
                                            next_hops=("212.0.0.1", "192.168.0.1"), interfaces=(), distance=1, metric=0)
    assert by_prefix["10.0.1.0/24"] == Route(prefix="10.0.1.0/24", protocol="connected", interfaces=("Serial0/0",))
    assert by_prefix["2.2.2.0/24"].interfaces == ("FastEthernet0/0.100",)  # a static route to an interface
    assert by_prefix["10.63.184.0/23"].next_hops == ("10.62.4.29", "10.62.3.29")  # equal-cost paths on two lines
    assert by_prefix["10.63.184.0/23"].interfaces == ("TenGigabitEthernet1/15", "TenGigabitEthernet1/16")
    default = by_prefix["0.0.0.0/0"]
    assert (default.protocol, default.next_hops, default.distance, default.metric) == ("ospf", ("194.0.0.2",), 110, 1)
    assert {r.protocol for r in routes} == {"static", "ospf", "eigrp", "bgp", "isis", "connected"}
    assert best_route(routes, "10.0.5.70").prefix == "10.0.5.64/26"
    assert best_route(routes, "8.8.8.8") is default


def test_routes_empty_table():
    assert ios(show_ip_route="show_ip_route-empty.txt").routes() == []


def test_ospf_neighbors():
    neighbors = ios(show_ip_ospf_neighbor="show_ip_ospf_neighbor.txt").ospf_neighbors()
    assert len(neighbors) == 4  # two routers, each a neighbour on two subinterfaces
    assert neighbors[0] == OspfNeighbor(router_id="10.190.30.2", address="10.190.16.11",
                                        interface="GigabitEthernet0/2.101", state="full", role="BDR")
    assert [n.role for n in neighbors] == ["BDR", "DR", "BDR", "DR"]
    p2p = ios(show_ip_ospf_neighbor="show_ip_ospf_neighbor-p2p.txt").ospf_neighbors()
    assert [(n.router_id, n.interface, n.state, n.role) for n in p2p] == [
        ("10.0.0.1", "Port-channel1", "full", None), ("10.0.0.2", "Port-channel2", "full", None),
        ("10.0.0.3", "Vlan1000", "full", None)]
    assert driver_for("show ip ospf neighbor", "").ospf_neighbors() == []


def test_running_config():
    config = ios(show_running_config="show_running-config.txt").running_config()
    assert config == recorded("show_running-config.txt")
    assert "hostname CSR1\n" in config


def test_evidence_of_every_command():
    seen: list[CommandResult] = []
    switch = ios(show_version="show_version.txt")
    switch.recorder = seen.append
    switch.facts()
    assert [(r.command, r.rc, r.host) for r in seen] == [("show version", 0, "sw1")]
    assert seen[0].stdout == recorded("show_version.txt")


# --- what the IOS driver cannot read is a ParseError, never raw text -----------------------------

GETTERS = [
    ("facts", "show version"),
    ("interfaces", "show interfaces"),
    ("vlans", "show vlan brief"),
    ("switchports", "show interfaces switchport"),
    ("mac_table", "show mac address-table"),
    ("routes", "show ip route"),
    ("ospf_neighbors", "show ip ospf neighbor"),
    ("running_config", "show running-config"),
]


@pytest.mark.parametrize(("getter", "command"), GETTERS)
@pytest.mark.parametrize("answer", [
    INVALID,
    "% Incomplete command.\n",
    '% Ambiguous command:  "show i"\n',
])
def test_refused_command(getter, command, answer):
    with pytest.raises(ParseError) as info:
        getattr(driver_for(command, answer), getter)()
    message = str(info.value)
    assert isinstance(info.value, ProbeError) and "\n" not in message
    assert message.startswith(f"sw1: IosDriver cannot parse `{command}`: the device refused it: %")
    assert (info.value.command, info.value.driver) == (command, "IosDriver")


GARBAGE = "The quick brown fox\njumps over 10.1.2.3 and 0011.2233.4455\n"


@pytest.mark.parametrize(("getter", "command"), [g for g in GETTERS if g[0] != "running_config"])
def test_garbage(getter, command):
    with pytest.raises(ParseError, match=f"^sw1: IosDriver cannot parse `{command}`: TextFSM"):
        getattr(driver_for(command, GARBAGE), getter)()


def test_headers_without_rows():
    header = recorded("show_vlan_brief.txt").splitlines(keepends=True)[:2]
    with pytest.raises(ParseError, match="`show vlan brief`: TextFSM found no row in a non-empty output"):
        driver_for("show vlan brief", "".join(header)).vlans()


@pytest.mark.parametrize(("getter", "command"), [g for g in GETTERS if g[0] in ("facts", "interfaces", "vlans")])
def test_empty_output_where_there_is_always_something(getter, command):
    with pytest.raises(ParseError, match=f"`{command}`: the output is empty"):
        getattr(driver_for(command, ""), getter)()


def test_switchports_none():  # an empty `show interfaces switchport`: no switch port
    assert ios(show_interfaces_switchport="", show_interfaces_description="show_interfaces_description.txt").switchports() == {}


def test_empty_running_config():
    with pytest.raises(ParseError, match="`show running-config`: the output is empty"):
        driver_for("show running-config", "\n").running_config()


def test_an_interface_listed_twice():
    twice = recorded("show_interfaces.txt") * 2
    with pytest.raises(ParseError, match="GigabitEthernet0/0 is listed twice"):
        driver_for("show interfaces", twice).interfaces()


def test_no_template():
    with pytest.raises(ParseError, match="`show frobnication`: TextFSM: "):
        driver_for("show frobnication", "whatever\n").table("show frobnication")


def test_textfsm_giving_raw_text(monkeypatch):
    # What netmiko's use_textfsm does when parsing fails (netmiko issues 1770, 1998): the raw string.
    import ntc_templates.parse

    monkeypatch.setattr(ntc_templates.parse, "parse_output", lambda **kwargs: kwargs["data"])
    with pytest.raises(ParseError, match="TextFSM returned str, not a list of rows"):
        ios(show_version="show_version.txt").facts()


def test_cli_error():
    assert cli_error(INVALID) == "% Invalid input detected at '^' marker."
    assert cli_error("% Unknown command: show ip ospf neighbour\n") == "% Unknown command: show ip ospf neighbour"
    assert cli_error(recorded("show_version.txt")) is None
    # further down a long output (a banner in a configuration), such text is not a refusal
    assert cli_error("!\nversion 15.5\n!\nbanner motd ^C\n% Invalid input is what you get\n^C\n") is None


def test_configure():
    seen: list[CommandResult] = []
    switch = IosDriver(Replayer({}, config_output="configure terminal\nsw1(config)#vlan 10\nsw1(config-vlan)#end\nsw1#"),
                       recorder=seen.append)
    assert "vlan 10" in switch.configure(["vlan 10"])
    assert seen[0].command == "configure terminal; vlan 10"
    switch.connection.config_output = ("configure terminal\nsw1(config)#username tech secret S3cr3t!\n"
                                       "sw1(config)#vlan 5000\n                 ^\n"
                                       "% Invalid input detected at '^' marker.\n\nsw1(config)#end\nsw1#")
    with pytest.raises(ProbeError, match="^sw1: the device refused 'vlan 5000': % Invalid input detected"):
        switch.configure(["username tech secret S3cr3t!", "vlan 5000"], secrets=("S3cr3t!",))
    assert "S3cr3t!" not in seen[1].command + seen[1].stdout and "username tech secret ********" in seen[1].command


# --- the model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["001A.2B3C.4D5E", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a2b3c4d5e"])
def test_normalize_mac(text):
    assert normalize_mac(text) == "00:1a:2b:3c:4d:5e"


@pytest.mark.parametrize("text", ["", "001a.2b3c", "00:1a:2b:3c:4d:5e:6f", "gg1a.2b3c.4d5e", "001a.2b3c.4d5e.1"])
def test_normalize_mac_refuses(text):
    with pytest.raises(ValueError):
        normalize_mac(text)


def test_normalize_prefix_and_address():
    assert normalize_prefix("default") == "0.0.0.0/0"
    assert normalize_prefix("10.9.9.9") == "10.9.9.9/32"
    assert normalize_prefix("10.1.0.0/16") == "10.1.0.0/16"
    with pytest.raises(ValueError):
        normalize_prefix("10.1.2.3/16")
    assert normalize_address("192.168.1.1", "24") == normalize_address("192.168.1.1/24") == "192.168.1.1/24"


def test_vlan_set():
    assert vlan_set(["ALL"]) is None
    assert vlan_set(["NONE"]) == frozenset()
    assert vlan_set(["1", "10-12", "20,30"]) == frozenset({1, 10, 11, 12, 20, 30})
    for bad in (["0"], ["5-2"], ["4095"], ["x"]):
        with pytest.raises(ValueError):
            vlan_set(bad)


@pytest.mark.parametrize(("short", "full"), [
    ("Gi0/1", "GigabitEthernet0/1"), ("gi0/1", "GigabitEthernet0/1"), ("Gig 0/1", "GigabitEthernet0/1"),
    ("Fa0/24", "FastEthernet0/24"), ("Te1/1/1", "TenGigabitEthernet1/1/1"), ("Po1", "Port-channel1"),
    ("Vl10", "Vlan10"), ("Lo0", "Loopback0"), ("Tu100", "Tunnel100"), ("Se0/0/0:0", "Serial0/0/0:0"),
    ("Twe1/0/1", "TwentyFiveGigE1/0/1"), ("Tw1/0/1", "TwoGigabitEthernet1/0/1"), ("Et0/1", "Ethernet0/1"),
    ("Gi0/0.100", "GigabitEthernet0/0.100"), ("GigabitEthernet0/1", "GigabitEthernet0/1"),
    ("port-channel2", "Port-channel2"),
])
def test_ios_abbreviations(short, full):
    assert canonical_interface(short) == full
    assert same_interface(short, full) and same_interface(full, short)


def test_names_that_are_not_ios_abbreviations():
    for name in ("lo", "ens3", "veth0", "mgmt0", "T1/0", "F0/1", "CPU"):  # T, F: ambiguous prefixes
        assert canonical_interface(name) == name
    assert not same_interface("Gi0/1", "Gi0/10")
    assert not same_interface("Gi0/1", "Fa0/1")
    assert not same_interface("Gi0/0.10", "Gi0/0.100")


# --- the Linux driver --------------------------------------------------------------------------


def linux(state: str = "changed", **replaced: CommandResult) -> LinuxDriver:
    results = {}
    for case in ("addr", "route", "facts"):
        result = LINUX.result(f"r1-{state}-{case}")
        results[result.command] = result
    results.update({result.command: result for result in replaced.values()})
    return LinuxDriver(Host("r1", ReplayTransport(results)))


def test_linux_facts():
    assert linux().facts() == Facts(hostname="r1", model=None, version="Debian GNU/Linux 12 (bookworm)")


def test_linux_interfaces_initial():
    interfaces = linux("initial").interfaces()
    assert list(interfaces) == ["lo", "eth0", "eth1", "mgmt0"]
    assert interfaces["lo"] == Interface(name="lo", enabled=True, up=True, addresses=("127.0.0.1/8",), mac=None,
                                         description="", mtu=65536)
    assert interfaces["eth0"] == Interface(name="eth0", enabled=True, up=True, addresses=("10.146.224.1/26",),
                                           mac="02:40:df:ad:95:00", description="", mtu=1500)
    assert interfaces["eth1"].addresses == ("10.146.224.65/27",)  # IPv4 only: no fe80:: address


def test_linux_interfaces_changed():
    interfaces = linux().interfaces()
    assert interfaces["eth0"].addresses == ("10.146.224.1/26", "10.146.224.10/26")  # with the secondary
    assert interfaces["eth1"].description == "LAN B (pc2)"
    assert (interfaces["lab0"].enabled, interfaces["lab0"].up) == (True, False)  # up, no carrier
    assert (interfaces["lab1"].enabled, interfaces["lab1"].up) == (False, False)  # down
    assert interfaces["lab0"].addresses == ("192.168.50.1/24",)


def test_linux_routes_initial():
    assert linux("initial").routes() == [
        Route(prefix="10.146.224.0/26", protocol="connected", interfaces=("eth0",), metric=0),
        Route(prefix="10.146.224.64/27", protocol="connected", interfaces=("eth1",), metric=0),
        Route(prefix="172.31.0.0/24", protocol="connected", interfaces=("mgmt0",), metric=0),
    ]


def test_linux_routes_changed():
    routes = {r.prefix: r for r in linux().routes()}
    assert routes["0.0.0.0/0"] == Route(prefix="0.0.0.0/0", protocol="static", next_hops=("10.146.224.62",),
                                        interfaces=("eth0",), metric=100)
    assert routes["10.9.9.9/32"].next_hops == ("10.146.224.66",)
    assert routes["192.0.2.0/24"].protocol == "static"  # `ip route add` without proto: "boot"
    assert routes["198.51.100.0/24"] == Route(prefix="198.51.100.0/24", protocol="static",
                                              next_hops=("10.146.224.2", "10.146.224.66"), interfaces=("eth0", "eth1"),
                                              metric=0)
    assert routes["203.0.113.0/24"].next_hops == routes["203.0.113.0/24"].interfaces == ()  # blackhole
    assert routes["192.168.50.0/24"].protocol == "connected"
    assert best_route(routes.values(), "198.51.100.7").prefix == "198.51.100.0/24"


@pytest.mark.parametrize(("getter", "command"), [("interfaces", "ip -j -d addr show"), ("routes", "ip -j -4 route show")])
@pytest.mark.parametrize("output", ["", "not json\n", '{"ifname": "eth0"}\n', '[{"no": "fields"}]\n'])
def test_linux_bad_json(getter, command, output):
    driver = linux(bad=CommandResult(command, 0, output, ""))
    with pytest.raises(ParseError, match=f"^r1: LinuxDriver cannot parse `{command}`: ") as info:
        getattr(driver, getter)()
    assert "\n" not in str(info.value)


def test_linux_command_failing():
    command = "ip -j -4 route show"
    driver = linux(bad=CommandResult(command, 255, "", "Error: ipv4: FIB table does not exist.\n"))
    with pytest.raises(ProbeError, match="r1: `ip -j -4 route show` exited 255: Error: ipv4: FIB table") as info:
        driver.routes()
    assert not isinstance(info.value, ParseError)


@pytest.mark.parametrize("getter", ["vlans", "switchports", "mac_table", "ospf_neighbors", "running_config"])
def test_linux_not_supported(getter):
    with pytest.raises(NotSupported) as info:
        getattr(linux(), getter)()
    assert isinstance(info.value, ProbeError)
    assert str(info.value) == f"r1: LinuxDriver does not support {getter}()"
    assert (info.value.driver, info.value.getter) == ("LinuxDriver", getter)


def test_linux_commands_are_evidence():
    seen: list[CommandResult] = []
    driver = linux()
    driver.host.recorder = seen.append
    driver.interfaces()
    assert [r.command for r in seen] == ["ip -j -d addr show"]


# --- NetmikoConnection against an SSH server that answers like IOS ---------------------------------


class FakeIosServer:
    """An SSH server (asyncssh, in a thread) with an IOS-like CLI: user and exec prompts,
    ``enable`` with a secret, and recorded outputs for the commands it knows."""

    def __init__(self, outputs: dict[str, str], *, username="admin", password="pass word!", secret="en4ble"):
        import asyncssh

        self.outputs, self.username, self.password, self.secret = outputs, username, password, secret
        self.commands: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        fake = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                return username == fake.username and password == fake.password

        async def listen():
            key = asyncssh.generate_private_key("ssh-ed25519")
            return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key], server_factory=Server,
                                         process_factory=self.session, line_editor=True)

        self.acceptor = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        self.port = self.acceptor.sockets[0].getsockname()[1]

    async def session(self, process):
        enabled = False
        process.stdout.write("sw1>")
        while True:
            line = await process.stdin.readline()
            if not line:
                break
            command = line.strip()
            self.commands.append(command)
            if command == "enable" and not enabled:
                process.stdout.write("Password: ")
                given = (await process.stdin.readline()).strip()
                process.stdout.write("\r\n")
                enabled = given == self.secret
                if not enabled:
                    process.stdout.write("% Access denied\r\n")
            elif command == "show slow":
                await asyncio.sleep(30)  # never answers within the test's read timeout
            elif command in self.outputs:
                process.stdout.write(self.outputs[command].rstrip("\n").replace("\n", "\r\n") + "\r\n")
            elif command not in ("", "terminal width 511", "terminal length 0"):
                process.stdout.write(INVALID.replace("\n", "\r\n"))
            process.stdout.write("sw1#" if enabled else "sw1>")
        process.exit(0)

    def close(self):
        async def stop():
            self.acceptor.close()
            await self.acceptor.wait_closed()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def fake_ios():
    server = FakeIosServer({"show version": recorded("show_version.txt")})
    yield server
    server.close()


def test_netmiko_session(fake_ios):
    connection = NetmikoConnection("127.0.0.1", "admin", "pass word!", secret="en4ble", port=fake_ios.port, name="sw1")
    with IosDriver(connection) as switch:
        assert connection.nodelay  # TCP_NODELAY on the socket paramiko's transport uses
        assert switch.facts() == Facts(hostname="router1", model="WS-C4948E", version="12.2(54)SG1")
        with pytest.raises(ParseError, match="the device refused it: % Invalid input detected at '\\^' marker."):
            switch.vlans()
    assert [c for c in fake_ios.commands if c.startswith("show")] == ["show version", "show vlan brief"]
    assert "enable" in fake_ios.commands and "terminal length 0" in fake_ios.commands
    with pytest.raises(HostUnreachable, match="sw1: the SSH session is closed"):
        connection.send_command("show version")


@pytest.mark.parametrize(("password", "secret", "refused"), [
    ("wrong pass word", "", "refused the login of 'admin'"),
    ("pass word!", "not the secret", "refused the enable secret"),
])
def test_netmiko_login_refused(fake_ios, password, secret, refused):
    with pytest.raises(LoginFailed) as info:
        NetmikoConnection("127.0.0.1", "admin", password, secret=secret, port=fake_ios.port, name="sw1")
    message = str(info.value)
    assert message == f"sw1: 127.0.0.1:{fake_ios.port} {refused}"
    assert isinstance(info.value, HostUnreachable) and info.value.__cause__ is None and info.value.__suppress_context__


def test_netmiko_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HostUnreachable, match=f"^sw1: cannot connect to 127.0.0.1:{port}: Connection refused$"):
        NetmikoConnection("127.0.0.1", "admin", "pass word!", port=port, name="sw1")


def test_netmiko_command_timeout(fake_ios):
    connection = NetmikoConnection("127.0.0.1", "admin", "pass word!", port=fake_ios.port, name="sw1", read_timeout=1)
    try:
        with pytest.raises(CommandTimeout, match="^sw1: a command did not finish within 1 s$"):
            connection.send_command("show slow")
    finally:
        connection.close()
