"""Baselines of network devices: parsing running configurations recorded for real (FRR 8.4.4 in
tests/unit/recorded/frr, an IOS XE CSR1000V in tests/unit/recorded/ios), the differences from a
baseline, the plan that removes and adds them, and the baseline files of a lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from tspcr_lab.devices.baseline import DIALECTS, differences, load_baseline, parse, plan, render, shown
from tspcr_lab.errors import UserError

RECORDED = Path(__file__).parent / "recorded"
FRR, IOS = DIALECTS["frr"], DIALECTS["cisco_ios"]


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def test_frr_running_config_parses_into_blocks_without_what_every_config_shows():
    config = parse(recorded("frr/r1-show_running-config.txt"), FRR)
    assert "frr version 8.4.4" not in config and "Current configuration:" not in config and "end" not in config
    assert "service integrated-vtysh-config" not in config and "hostname r1" not in config
    assert list(config["interface lan0"].children) == ["description LAN A", "ip address 172.16.1.1/24",
                                                       "ip address 172.16.2.1/24"]
    assert list(config["router ospf"].children) == ["ospf router-id 10.255.0.1", "network 10.0.0.0/16 area 0",
                                                    "network 10.255.0.1/32 area 0"]
    assert config["no ipv6 forwarding"].children == {} and not config["no ipv6 forwarding"].block


def test_same_config_has_no_difference():
    text = recorded("frr/r1-show_running-config.txt")
    assert differences(parse(text, FRR), parse(text, FRR)) == []


def test_ospfd_down_against_converged_r3_plans_the_ospf_part_back():
    # r3 with ospfd killed shows no OSPF at all: a reset to the converged configuration adds it
    running = parse(recorded("frr/r3-show_running-config-ospfd-down.txt"), FRR)
    baseline = parse(recorded("frr/r3-show_running-config.txt"), FRR)
    found = differences(running, baseline)
    assert {d.kind for d in found} == {"missing"}
    assert [str(d) for d in found][-1] == "+ router ospf"
    lines = render(plan(found, FRR), FRR)
    assert lines == ["interface eth0", "ip ospf dead-interval 4", "ip ospf hello-interval 1",
                     "ip ospf network point-to-point", "exit", "interface eth1", "ip ospf dead-interval 4",
                     "ip ospf hello-interval 1", "exit", "router ospf", "ospf router-id 10.255.0.3",
                     "network 10.0.0.0/16 area 0", "network 10.255.0.3/32 area 0",
                     "default-information originate always", "exit"]


def test_reset_of_r1_to_r3s_baseline_removes_line_by_line_in_interfaces_and_whole_router_blocks():
    running = parse(recorded("frr/r1-show_running-config.txt"), FRR)
    baseline = parse(recorded("frr/r3-show_running-config-ospfd-down.txt"), FRR)
    steps = plan(differences(running, baseline), FRR)
    lines = render(steps, FRR)
    assert "no ip route 192.0.2.0/24 10.0.13.3" in lines
    # an FRR interface of the kernel cannot be deleted: its lines are, one by one
    assert "no interface lan0" not in lines
    start = lines.index("interface lan0")
    assert lines[start:start + 5] == ["interface lan0", "no description", "no ip address 172.16.1.1/24",
                                      "no ip address 172.16.2.1/24", "exit"]
    assert "no router ospf" in lines  # a block that can go whole
    # eth0: the baseline's address replaces r1's, r1's OSPF timers go; removals come first
    start = lines.index("interface eth0")
    assert lines[start:start + 6] == ["interface eth0", "no description", "no ip address 10.0.12.1/24",
                                      "no ip ospf dead-interval 4", "no ip ospf hello-interval 1", "exit"]
    assert lines.index("ip address 10.0.23.3/24") > lines.index("no router ospf")
    assert lines[-3:] == ["interface lo", "ip address 10.255.0.3/32", "exit"]
    # what the CLI prints: each line under its block
    assert shown(steps)[:3] == ["no ip route 10.99.0.0/16 10.255.0.3", "no ip route 172.16.50.0/24 lan0",
                                "no ip route 192.0.2.0/24 10.0.12.2"]
    assert " no ip address 172.16.1.1/24" in shown(steps)


def test_a_value_is_replaced_not_removed_first():
    running = parse("interface eth0\n description old text\n ip ospf cost 5\nexit\n", FRR)
    baseline = parse("interface eth0\n description to r2\n ip ospf cost 10\nexit\n", FRR)
    assert render(plan(differences(running, baseline), FRR), FRR) == [
        "interface eth0", "description to r2", "ip ospf cost 10", "exit"]


def test_a_no_line_is_undone_per_dialect():
    # FRR: "no ip forwarding" the baseline has not -> the positive command; IOS: its default
    assert render(plan(differences(parse("no ip forwarding\n", FRR), {}), FRR), FRR) == ["ip forwarding"]
    running = parse("interface Gi1\n no cdp enable\n!\n", IOS)
    baseline = parse("interface Gi1\n!\n", IOS)
    assert render(plan(differences(running, baseline), IOS), IOS) == ["interface Gi1", "default cdp enable", "exit"]


def test_an_empty_block_is_added_as_a_block():
    baseline = parse("router ospf\nexit\n", FRR)
    assert baseline["router ospf"].block
    assert render(plan(differences({}, baseline), FRR), FRR) == ["router ospf", "exit"]


def test_ios_running_config_nested_blocks_and_ignored_lines():
    config = parse(recorded("ios/show_running-config.txt"), IOS)
    for line in ("version 15.5", "boot-start-marker", "boot-end-marker", "end"):
        assert line not in config
    assert not any(line.startswith(("!", "license udi")) for line in config)
    bgp = config["router bgp 65001"].children
    assert "exit-address-family" not in bgp
    assert list(bgp["address-family ipv4"].children)[0] == "neighbor RR-CLIENTS route-reflector-client"
    assert list(config["interface GigabitEthernet3"].children) == ["no ip address", "shutdown", "negotiation auto"]


def test_ios_reset_of_a_candidates_changes():
    text = recorded("ios/show_running-config.txt")
    candidate = (text.replace(" ip address 10.1.1.1 255.255.255.0", " ip address 10.1.1.9 255.255.255.0\n description WAN")
                 .replace("interface GigabitEthernet3\n no ip address\n shutdown",
                          "interface GigabitEthernet3\n ip address 172.16.0.1 255.255.255.0\n shutdown")
                 .replace("  neighbor 10.0.0.5 activate\n", "")
                 + "interface Loopback9\n ip address 9.9.9.9 255.255.255.255\n!\nip route 0.0.0.0 0.0.0.0 10.1.1.254\n")
    steps = plan(differences(parse(candidate, IOS), parse(text, IOS)), IOS)
    assert render(steps, IOS) == [
        "interface GigabitEthernet2", "no ip address 10.1.1.9 255.255.255.0", "no description", "exit",
        "interface GigabitEthernet3", "no ip address 172.16.0.1 255.255.255.0", "exit",
        "no interface Loopback9", "no ip route 0.0.0.0 0.0.0.0 10.1.1.254",
        "interface GigabitEthernet2", "ip address 10.1.1.1 255.255.255.0", "exit",
        "interface GigabitEthernet3", "no ip address", "exit",
        "router bgp 65001", "address-family ipv4", "neighbor 10.0.0.5 activate", "exit", "exit",
    ]


class FakeLab:
    def __init__(self, path: Path):
        self.path, self.id, self.hosts = path, "demo", {"r1": None}


def test_placeholders_are_filled_and_an_unknown_one_names_the_file_and_line(tmp_path):
    (tmp_path / "baseline").mkdir()
    file = tmp_path / "baseline" / "r1.cfg"
    file.write_text("hostname {{ params.names.r1 }}\ninterface eth0\n ip address {{ expected.addr.0 }}/24\n")
    lab = FakeLab(tmp_path)
    text = load_baseline(lab, "r1", {"params": {"names": {"r1": "R1-7"}}, "expected": {"addr": ["10.0.0.1"]}})
    assert text == "hostname R1-7\ninterface eth0\n ip address 10.0.0.1/24\n"
    with pytest.raises(UserError, match=r"r1\.cfg: line 3: no value expected\.addr\.0"):
        load_baseline(lab, "r1", {"params": {"names": {"r1": "x"}}, "expected": {}})
    file.write_text("hostname {{ params.name | quote }}\n")
    with pytest.raises(UserError, match="line 1: '| quote' is for shell scripts"):
        load_baseline(lab, "r1", {"params": {"name": "x"}})
