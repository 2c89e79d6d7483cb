"""The FRR driver's OSPF getters (router id, OSPF interfaces) on outputs recorded for real from
FRR 8.4.4 on the routing lab's routers (tests/unit/recorded/frr/README.md), and what it answers
when OSPF is not configured (vtysh's ``{}``, or nothing at all on a terminal)."""

import pytest

from tspcr_lab.devices import FrrDriver, OspfInterface, ParseError

from .test_devices_frr import FRR, Replayer


def driver(**outputs: str) -> FrrDriver:
    connection = Replayer(outputs)
    connection.name = "r1"
    return FrrDriver(connection)


def recorded(name: str) -> str:
    return (FRR / f"{name}.txt").read_text()


def test_router_id():
    assert driver(**{"show ip ospf json": recorded("rt1-show_ip_ospf_json")}).ospf_router_id() == "10.236.255.1"


@pytest.mark.parametrize("output", ["{\n}\n", "", "\n"])
def test_router_id_without_ospf(output):
    assert driver(**{"show ip ospf json": output}).ospf_router_id() is None


def test_ospf_interfaces():
    found = driver(**{"show ip ospf interface json": recorded("rt1-show_ip_ospf_interface_json")}).ospf_interfaces()
    assert found == {
        "eth0": OspfInterface("eth0", "0.0.0.0", 10, True, "broadcast", "10.236.97.254"),
        "eth1": OspfInterface("eth1", "0.0.0.0", 10, False, "broadcast", "10.236.222.153"),
        "eth2": OspfInterface("eth2", "0.0.0.0", 50, False, "broadcast", "10.236.222.113"),
    }


def test_ospf_interfaces_of_r3():
    found = driver(**{"show ip ospf interface json": recorded("rt3-show_ip_ospf_interface_json")}).ospf_interfaces()
    assert {name: (i.cost, i.passive) for name, i in found.items()} == {"eth0": (10, True), "eth1": (10, False),
                                                                        "eth2": (50, False)}


def test_ospf_interfaces_without_ospf():
    assert driver(**{"show ip ospf interface json": "{\n}\n"}).ospf_interfaces() == {}


@pytest.mark.parametrize("output", ['{"interfaces": []}', '{"interfaces": {"eth0": {"ospfEnabled": true}}}',
                                    '{"interfaces": {"eth0": {"ospfEnabled": true, "area": "x", "cost": 1, '
                                    '"networkType": "BROADCAST"}}}', "% OSPF instance not found"])
def test_unreadable_ospf_interfaces_are_parse_errors(output):
    with pytest.raises(ParseError):
        driver(**{"show ip ospf interface json": output}).ospf_interfaces()


@pytest.mark.parametrize("output", ['{"routerId": "not an address"}', "[1, 2]", "% OSPF instance not found"])
def test_unreadable_router_ids_are_parse_errors(output):
    with pytest.raises(ParseError):
        driver(**{"show ip ospf json": output}).ospf_router_id()


def test_neighbors_say_how_long_they_have_been_up_and_what_is_pending():
    text = (FRR / "r2-show_ip_ospf_neighbor_json.txt").read_text()
    neighbors = driver(**{"show ip ospf neighbor json": text}).ospf_neighbors()
    by_address = {n.address: n for n in neighbors}
    assert by_address["10.0.12.1"].up_seconds == 23.508
    assert {n.pending for n in neighbors} == {0}
