"""Parameters of the vlans lab, drawn from a seed.

The trainee gets the VLAN plan (ids, department names, subnets), the switches' management
addresses and the cabling plan (each used port's wall socket); the checks get the same values
laid out per port. Fixed: sw1 p1 pc1 (A), p2 pc2 (B), p3 adm (management), p4 p5 unused, p6 the
trunk to sw2's p6; sw2 p1 pc3 (A), p2 pc4 (B), p3 p4 p5 unused, p6 the trunk.
"""

from __future__ import annotations

import ipaddress
import random

SWITCHES = ("sw1", "sw2")
# host -> (switch, port, VLAN role)
PCS = {"pc1": ("sw1", "p1", "a"), "pc2": ("sw1", "p2", "b"), "adm": ("sw1", "p3", "mgmt"),
       "pc3": ("sw2", "p1", "a"), "pc4": ("sw2", "p2", "b")}
UNUSED = {"sw1": ["p4", "p5"], "sw2": ["p3", "p4", "p5"]}
TRUNK = "p6"
TRUNK_LABELS = {"sw1": "Liaison sw2", "sw2": "Liaison sw1"}


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"vlans:{seed}")
    ids = {"a": rng.randint(*s["vlan_a"]), "b": rng.randint(*s["vlan_b"]), "mgmt": rng.randint(*s["vlan_mgmt"])}
    names = dict(zip(("a", "b"), rng.sample(s["departments"], 2)))
    names["mgmt"] = "admin"
    second = rng.randint(*s["second_octet"])
    thirds = rng.sample(range(0, 256), 3)
    subnets = {role: ipaddress.IPv4Network(f"10.{second}.{third}.0/24") for role, third in zip(ids, thirds)}

    def pick(role: str, count: int) -> list[str]:
        net = subnets[role]
        return [f"{net.network_address + n}/{net.prefixlen}" for n in rng.sample(range(2, 254), count)]

    a1, a3 = pick("a", 2)
    b2, b4 = pick("b", 2)
    m_adm, m_sw1, m_sw2 = pick("mgmt", 3)
    addresses = {"pc1": a1, "pc3": a3, "pc2": b2, "pc4": b4, "adm": m_adm}
    mgmt = {"sw1": m_sw1, "sw2": m_sw2}

    labels: set[str] = set()
    while len(labels) < len(PCS):
        labels.add(f"{rng.choice(s['socket_buildings'])}{rng.randint(*s['socket_floors'])}-"
                   f"{rng.randint(*s['socket_numbers']):02d}")
    order = sorted(labels)  # a set's order varies between runs: sort, then shuffle with the seed
    rng.shuffle(order)
    sockets = dict(zip(PCS, order))
    bridge = s["bridge"]
    mgmt_iface = f"vlan{ids['mgmt']}"

    vlans = {role: {"id": ids[role], "name": names[role], "subnet": str(subnets[role])} for role in ids}
    ports = {sw: {} for sw in SWITCHES}
    for pc, (sw, port, role) in PCS.items():
        ports[sw][port] = {"host": pc, "vlan": ids[role], "label": sockets[pc]}
    trunk_vlans = sorted(ids.values())

    def plan(lang: str) -> str:
        words = {"fr": ("VLAN", "service", "administration", "sous-réseau"),
                 "en": ("VLAN", "department", "management", "subnet")}[lang]
        lines = []
        for role in ("a", "b", "mgmt"):
            who = f"{words[1]} {names[role]}" if role != "mgmt" else words[2]
            members = ", ".join(f"{pc} {addresses[pc]}" for pc, (_, _, r) in PCS.items() if r == role)
            lines.append(f"{words[0]} {ids[role]} ({who}) : {words[3]} {subnets[role]} ; {members}"
                         if lang == "fr" else f"{words[0]} {ids[role]} ({who}): {words[3]} {subnets[role]}; {members}")
        return "\n   ".join(lines)

    def cabling(lang: str) -> str:
        sep = " : " if lang == "fr" else ": "
        return "\n   ".join(f"{sw} {port} ({pc}){sep}{sockets[pc]}" for pc, (sw, port, _) in PCS.items())

    unused_text = ", ".join(f"{sw} {' '.join(ports_)}" for sw, ports_ in UNUSED.items())
    params = {
        "bridge": bridge,
        "vlans": vlans,
        "vlan_plan": plan("fr"),
        "vlan_plan_en": plan("en"),
        "cabling_plan": cabling("fr"),
        "cabling_plan_en": cabling("en"),
        "trunk_vlans": ",".join(str(v) for v in trunk_vlans),
        "unused_ports": unused_text,
        "mgmt_vlan": ids["mgmt"],
        "mgmt_iface": mgmt_iface,
        "mgmt_addresses": mgmt,
        "adm": addresses["adm"],
    }
    expected = {
        "bridge": bridge,
        "vlans": vlans,
        "vlan_ids": ids,
        "pcs": {pc: {"switch": sw, "port": port, "vlan": ids[role], "role": role, "address": addresses[pc],
                     "label": sockets[pc]} for pc, (sw, port, role) in PCS.items()},
        "ports": ports,
        "trunk": {"port": TRUNK, "vlans": trunk_vlans, "labels": TRUNK_LABELS},
        "unused": UNUSED,
        "mgmt": {"vlan": ids["mgmt"], "iface": mgmt_iface, "addresses": mgmt},
    }
    return params, expected
