"""The FRR driver on outputs recorded for real from FRR 8.4.4 (tests/unit/recorded/frr, made by
its record.sh: three routers r1 r2 r3 in OSPF area 0, see README.md there), and on broken
outputs: ParseError (a ProbeError: the check is an error), never raw text."""

from __future__ import annotations

import pathlib

import pytest

from tspcr_lab.devices import (
    Facts, FrrDriver, Interface, Interfaces, IosDriver, NetmikoConnection, NotSupported, OspfNeighbor, ParseError,
    Route, best_route,
)
from tspcr_lab.errors import ProbeError
from tspcr_lab.transport.base import CommandResult

from .test_devices import FakeIosServer, Replayer

FRR = pathlib.Path(__file__).parent / "recorded" / "frr"

COMMANDS = {
    "facts": "show version",
    "interfaces": "show interface json",
    "routes": "show ip route json",
    "ospf_neighbors": "show ip ospf neighbor json",
    "running_config": "show running-config",
}
SLUGS = {command: command.replace(" ", "_").replace("running_config", "running-config") for command in COMMANDS.values()}


def recorded(name: str) -> str:
    """A recording as an SSH terminal shows it: vtysh's stdout, then its stderr if it wrote any
    (only ``ospfd is not running`` did)."""
    text = (FRR / f"{name}.txt").read_text()
    err = FRR / f"{name}.err"
    return text + (err.read_text() if err.exists() else "")


def frr(router: str = "r1", **replaced: str) -> FrrDriver:
    """A FrrDriver answering the five commands with ``router``'s recordings; ``replaced``: getter ->
    another output for its command."""
    outputs = {command: recorded(f"{router}-{SLUGS[command]}") for command in COMMANDS.values()}
    outputs.update({COMMANDS[getter]: output for getter, output in replaced.items()})
    connection = Replayer(outputs)
    connection.name = router
    return FrrDriver(connection)


# --- the recordings, read ---------------------------------------------------------------------


@pytest.mark.parametrize("router", ["r1", "r2", "r3"])
def test_facts(router):
    assert frr(router).facts() == Facts(hostname=router, model="FRRouting", version="8.4.4")


def test_interfaces():
    interfaces = frr().interfaces()
    assert isinstance(interfaces, Interfaces)
    assert list(interfaces) == ["eth0", "eth1", "lan0", "lo", "spare0"]
    assert interfaces["eth0"] == Interface(name="eth0", enabled=True, up=True, addresses=("10.0.12.1/24",),
                                           mac="0e:4c:5b:f3:63:29", description="to r2 (eth0)", mtu=1500)
    # IPv4 only (no fe80::), every address of the interface
    assert interfaces["lan0"].addresses == ("172.16.1.1/24", "172.16.2.1/24")
    assert interfaces["lo"] == Interface(name="lo", enabled=True, up=True, addresses=("10.255.0.1/32",), mac=None,
                                         description="", mtu=65536)
    # shut down: FRR gives no operationalStatus at all
    assert interfaces["spare0"] == Interface(name="spare0", enabled=False, up=False, addresses=("172.16.9.1/24",),
                                             mac="1a:fa:d9:e4:d5:93", description="unused", mtu=1500)
    assert frr("r2").interfaces()["eth1"].addresses == ("10.0.23.2/24",)


def test_routes():
    routes = frr().routes()
    by_prefix = {r.prefix: r for r in routes}
    assert list(by_prefix) == [
        "0.0.0.0/0", "10.0.12.0/24", "10.0.13.0/24", "10.0.23.0/24", "10.99.0.0/16", "10.255.0.1/32", "10.255.0.2/32",
        "10.255.0.3/32", "172.16.1.0/24", "172.16.2.0/24", "172.16.50.0/24", "172.16.60.0/24", "192.0.2.0/24",
        "198.51.100.0/24"]
    assert len(routes) == len(by_prefix)  # one route per prefix: the selected one
    # OSPF: the default route r3 originates (E2, metric 1), two equal-cost paths to the r2-r3 link
    assert by_prefix["0.0.0.0/0"] == Route(prefix="0.0.0.0/0", protocol="ospf", next_hops=("10.0.13.3",),
                                           interfaces=("eth1",), distance=110, metric=1)
    assert by_prefix["10.0.23.0/24"] == Route(prefix="10.0.23.0/24", protocol="ospf",
                                              next_hops=("10.0.12.2", "10.0.13.3"), interfaces=("eth0", "eth1"),
                                              distance=110, metric=20)
    # a connected network OSPF knows too: the connected route is the one selected
    assert by_prefix["10.0.12.0/24"] == Route(prefix="10.0.12.0/24", protocol="connected", interfaces=("eth0",),
                                              distance=0, metric=0)
    assert by_prefix["10.255.0.1/32"].protocol == "connected"
    # static: two next hops, an interface, a blackhole, a recursive next hop kept as configured
    assert by_prefix["192.0.2.0/24"] == Route(prefix="192.0.2.0/24", protocol="static",
                                              next_hops=("10.0.12.2", "10.0.13.3"), interfaces=("eth0", "eth1"),
                                              distance=1, metric=0)
    assert by_prefix["172.16.50.0/24"] == Route(prefix="172.16.50.0/24", protocol="static", interfaces=("lan0",),
                                                distance=1, metric=0)
    assert by_prefix["198.51.100.0/24"] == Route(prefix="198.51.100.0/24", protocol="static", distance=1, metric=0)
    assert by_prefix["10.99.0.0/16"] == Route(prefix="10.99.0.0/16", protocol="static", next_hops=("10.255.0.3",),
                                              distance=1, metric=0)
    # a route added with iproute2, outside FRR
    assert by_prefix["172.16.60.0/24"] == Route(prefix="172.16.60.0/24", protocol="kernel",
                                                next_hops=("172.16.1.254",), interfaces=("lan0",), distance=0,
                                                metric=0)
    assert {r.protocol for r in routes} == {"connected", "static", "ospf", "kernel"}
    assert best_route(routes, "10.0.23.3") is by_prefix["10.0.23.0/24"]
    assert best_route(routes, "8.8.8.8") is by_prefix["0.0.0.0/0"]


def test_route_whose_next_hop_is_unreachable():
    # configured (the running configuration says so), but FRR does not list it: no route
    assert "ip route 203.0.113.0/24 10.77.0.1\n" in frr().running_config()
    assert best_route(frr().routes(), "203.0.113.1").prefix == "0.0.0.0/0"


def test_routes_of_the_other_routers():
    r2 = {r.prefix: r for r in frr("r2").routes()}
    assert r2["10.255.0.1/32"] == Route(prefix="10.255.0.1/32", protocol="ospf", next_hops=("10.0.12.1",),
                                        interfaces=("eth0",), distance=110, metric=10)
    assert r2["10.0.13.0/24"].next_hops == ("10.0.12.1", "10.0.23.3")  # equal cost through r1 and r3
    assert "0.0.0.0/0" not in {r.prefix for r in frr("r3").routes()}  # r3 originates it


def test_ospf_neighbors():
    assert frr().ospf_neighbors() == [
        OspfNeighbor(router_id="10.255.0.2", address="10.0.12.2", interface="eth0", state="full", role="DR"),
        OspfNeighbor(router_id="10.255.0.3", address="10.0.13.3", interface="eth1", state="full", role="DR"),
    ]
    # r2: r1 is the backup DR of their link ("Full/Backup"); r3 a point-to-point neighbour ("Full/-")
    assert frr("r2").ospf_neighbors() == [
        OspfNeighbor(router_id="10.255.0.1", address="10.0.12.1", interface="eth0", state="full", role="BDR"),
        OspfNeighbor(router_id="10.255.0.3", address="10.0.23.3", interface="eth1", state="full", role=None),
    ]
    # r3: r1 (priority 0) is neither DR nor BDR
    assert [(n.router_id, n.interface, n.role) for n in frr("r3").ospf_neighbors()] == [
        ("10.255.0.2", "eth0", None), ("10.255.0.1", "eth1", "DROTHER")]


def test_ospf_neighbors_without_ospf():
    # ospfd runs, but `router ospf` is not configured: "{}"
    assert frr(ospf_neighbors=recorded("r1-show_ip_ospf_neighbor_json-no-instance")).ospf_neighbors() == []


def test_ospf_states():
    output = ('{"neighbors":{"10.0.0.9":[{"state":"2-Way\\/DROther","ifaceAddress":"10.0.0.9","address":"10.0.0.9",'
              '"ifaceName":"eth0:10.0.0.1"},{"state":"ExStart\\/Backup","address":"10.1.0.9","ifaceName":"eth1:10.1.0.1"}]}}')
    assert [(n.state, n.role, n.address, n.interface) for n in frr(ospf_neighbors=output).ospf_neighbors()] == [
        ("2way", "DROTHER", "10.0.0.9", "eth0"), ("exstart", "BDR", "10.1.0.9", "eth1")]


def test_running_config():
    config = frr().running_config()
    assert config == recorded("r1-show_running-config")
    assert config.startswith("Building configuration...\n") and "router ospf\n ospf router-id 10.255.0.1\n" in config


def test_running_config_while_ospfd_is_down():
    # vtysh's own limitation: without ospfd, its part is missing and nothing says so
    config = frr("r3", running_config=recorded("r3-show_running-config-ospfd-down")).running_config()
    assert "hostname r3\n" in config and "router ospf" not in config and "ip ospf" not in config
    assert "router ospf" in frr("r3").running_config()


def test_evidence_of_every_command():
    seen: list[CommandResult] = []
    router = frr()
    router.recorder = seen.append
    router.routes()
    router.ospf_neighbors()
    assert [(r.command, r.rc, r.host) for r in seen] == [("show ip route json", 0, "r1"),
                                                          ("show ip ospf neighbor json", 0, "r1")]
    assert seen[0].stdout == recorded("r1-show_ip_route_json")
    assert router.connection.sent == ["show ip route json", "show ip ospf neighbor json"]


def test_an_ios_driver_underneath():
    # the session, the refusals and configure() are the IOS driver's
    assert issubclass(FrrDriver, IosDriver) and FrrDriver.platform == "frr"
    router = FrrDriver(Replayer({}, config_output="configure terminal\nr1(config)#ip route 10.1.0.0/16 10.0.12.2\n"
                                                  "r1(config)#end\nr1#"))
    assert "ip route 10.1.0.0/16" in router.configure(["ip route 10.1.0.0/16 10.0.12.2"])


@pytest.mark.parametrize("getter", ["vlans", "switchports", "mac_table"])
def test_not_supported(getter):
    with pytest.raises(NotSupported) as info:
        getattr(frr(), getter)()
    assert str(info.value) == f"r1: FrrDriver does not support {getter}()"


# --- what the FRR driver cannot read is a ParseError, never raw text -----------------------------

REFUSALS = {  # recorded (see README.md): what vtysh answered
    "r1-refused-unknown": "% Unknown command: show ip ospf neighbour json",
    "r1-refused-incomplete": "% Command incomplete: show ip",
    "r1-refused-ambiguous": "% Ambiguous command: show ip r",
    "r1-refused-json-typo": "% Can't find interface jsno",
    "r1-show_ip_ospf_neighbor-no-instance": "% OSPF is not enabled in vrf default",
    "r3-show_ip_ospf_neighbor_json-ospfd-down": "ospfd is not running",
}


@pytest.mark.parametrize("getter", list(COMMANDS))
@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused(getter, name):
    command = COMMANDS[getter]
    with pytest.raises(ParseError) as info:
        getattr(frr(**{getter: recorded(name)}), getter)()
    assert isinstance(info.value, ProbeError)
    assert str(info.value) == f"r1: FrrDriver cannot parse `{command}`: the device refused it: {REFUSALS[name]}"
    assert (info.value.command, info.value.driver) == (command, "FrrDriver")


JSON_GETTERS = ["interfaces", "routes", "ospf_neighbors"]


@pytest.mark.parametrize("getter", JSON_GETTERS)
@pytest.mark.parametrize("output", [
    "", "\n", "not json\n", "[]\n", "null\n",
    "Building configuration...\n",  # text where JSON was expected
])
def test_not_json(getter, output):
    command = COMMANDS[getter]
    with pytest.raises(ParseError, match=f"^r1: FrrDriver cannot parse `{command}`: ") as info:
        getattr(frr(**{getter: output}), getter)()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("getter", JSON_GETTERS)
def test_truncated_json(getter):
    command = COMMANDS[getter]
    whole = recorded(f"r1-{SLUGS[command]}")
    with pytest.raises(ParseError, match=f"`{command}`: not JSON "):
        getattr(frr(**{getter: whole[: len(whole) // 2]}), getter)()


@pytest.mark.parametrize(("getter", "output", "detail"), [
    ("interfaces", '{"eth0": []}', "eth0: expected an object"),
    ("interfaces", '{"eth0": {"administrativeStatus": "sideways", "mtu": 1500}}', "status 'sideways', not up or down"),
    ("interfaces", '{"eth0": {"administrativeStatus": "up", "operationalStatus": "up"}}', "missing field 'mtu'"),
    ("interfaces", '{"eth0": {"administrativeStatus": "up", "mtu": 1500, "ipAddresses": [{"address": "10.0.0.300/24"}]}}',
     "10.0.0.300/24"),
    ("routes", '{"10.0.0.0/24": {}}', "10.0.0.0/24: expected a list of routes"),
    ("routes", '{"10.0.0.0/24": [{"selected": true, "protocol": "static", "distance": 1, "metric": 0}]}',
     "missing field 'nexthops'"),
    ("routes", '{"10.0.0.1/24": [{"selected": true, "protocol": "connected", "distance": 0, "metric": 0, "nexthops": []}]}',
     "has host bits set"),
    ("ospf_neighbors", '{"neighbors": []}', "neighbors: expected an object"),
    ("ospf_neighbors", '{"neighbors": {"10.0.0.9": [{"state": "Full", "address": "10.0.0.9", "ifaceName": "eth0:x"}]}}',
     "unknown state 'Full'"),
    ("ospf_neighbors", '{"neighbors": {"10.0.0.9": [{"state": "Full/Boss", "address": "10.0.0.9", "ifaceName": "e"}]}}',
     "unknown state 'Full/Boss'"),
])
def test_unexpected_json(getter, output, detail):
    with pytest.raises(ParseError, match=f"`{COMMANDS[getter]}`: .*{detail}"):
        getattr(frr(**{getter: output}), getter)()


def test_facts_not_frr():
    with pytest.raises(ParseError, match=r"`show version`: no 'FRRouting VERSION \(HOSTNAME\)' line"):
        frr(facts=(pathlib.Path(__file__).parent / "recorded" / "ios" / "show_version.txt").read_text()).facts()
    with pytest.raises(ParseError, match="`show version`: no 'FRRouting"):
        frr(facts="").facts()


def test_empty_running_config():
    with pytest.raises(ParseError, match="`show running-config`: the output is empty"):
        frr(running_config="\n").running_config()


# --- over SSH: netmiko's cisco_ios session ----------------------------------------------------------


def test_netmiko_session():
    server = FakeIosServer({"show version": recorded("r1-show_version"),
                            "show ip route json": recorded("r1-show_ip_route_json")})
    try:
        router = FrrDriver.connect("127.0.0.1", "admin", "pass word!", secret="en4ble", port=server.port, name="r1")
        with router:
            assert isinstance(router, FrrDriver) and isinstance(router.connection, NetmikoConnection)
            assert router.facts() == Facts(hostname="r1", model="FRRouting", version="8.4.4")
            assert router.routes() == frr().routes()  # the JSON came through the terminal (CRLF) intact
    finally:
        server.close()
