"""Parameters of the routing lab, drawn from a seed.

Three FRR routers r1 r2 r3 in a triangle (links l12, l23 and the backup link l13), a LAN behind
each (pc1 pc2 pc3, already addressed, their gateway the router's LAN address), and isp, the
provider's router on r1's uplink (not the trainee's: it holds the lab's "internet" address and
routes the lab's /16 back to r1). The trainee gets per router: its host name, its interfaces'
addresses, its OSPF router id, the backup link's cost, the default route, the admin password;
the checks get the same laid out per router and interface.
"""

from __future__ import annotations

import ipaddress
import random

ROUTERS = ("r1", "r2", "r3")
PCS = {"pc1": "r1", "pc2": "r2", "pc3": "r3"}
# router -> interface -> segment (lab.toml's links)
INTERFACES = {
    "r1": {"eth0": "lan1", "eth1": "l12", "eth2": "l13", "eth3": "wan"},
    "r2": {"eth0": "lan2", "eth1": "l12", "eth2": "l23"},
    "r3": {"eth0": "lan3", "eth1": "l23", "eth2": "l13"},
}
TRANSIT = ("l12", "l23", "l13")
BACKUP = "l13"


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"routing:{seed}")
    second = rng.randint(*s["second_octet"])
    site = ipaddress.IPv4Network(f"10.{second}.0.0/16")
    lan_thirds = rng.sample(range(1, 100), 3)
    transit_third = rng.randint(200, 250)
    gateway_host = rng.choice([1, 254])

    segments: dict[str, dict] = {}
    addresses: dict[str, dict[str, str]] = {r: {} for r in ROUTERS}
    pcs = {}
    for index, (pc, router) in enumerate(PCS.items()):
        net = ipaddress.IPv4Network(f"10.{second}.{lan_thirds[index]}.0/24")
        segment = f"lan{index + 1}"
        segments[segment] = {"network": str(net), "routers": [router]}
        addresses[router]["eth0"] = f"{net.network_address + gateway_host}/24"
        pcs[pc] = {"router": router, "segment": segment, "network": str(net),
                   "address": f"{net.network_address + rng.randint(10, 200)}/24",
                   "gateway": str(net.network_address + gateway_host)}
    blocks = list(ipaddress.IPv4Network(f"10.{second}.{transit_third}.0/24").subnets(new_prefix=30))
    picked = rng.sample(range(len(blocks)), len(TRANSIT))
    for segment, block in zip(TRANSIT, picked):
        net = blocks[block]
        ends = [r for r in ROUTERS if segment in INTERFACES[r].values()]
        segments[segment] = {"network": str(net), "routers": ends}
        for offset, router in enumerate(ends, start=1):
            iface = next(i for i, seg in INTERFACES[router].items() if seg == segment)
            addresses[router][iface] = f"{net.network_address + offset}/30"
    wan = list(ipaddress.IPv4Network("203.0.113.0/24").subnets(new_prefix=30))[rng.randint(1, 62)]
    isp_address, r1_wan = f"{wan.network_address + 1}/30", f"{wan.network_address + 2}/30"
    addresses["r1"]["eth3"] = r1_wan
    segments["wan"] = {"network": str(wan), "routers": ["r1"]}
    internet = str(ipaddress.IPv4Address("198.51.100.0") + rng.randint(1, 254))

    cities = rng.sample(s["cities"], 3)
    hostnames = {r: f"rt-{city}" for r, city in zip(ROUTERS, cities)}
    router_ids = {r: f"10.{second}.255.{n}" for n, r in enumerate(ROUTERS, start=1)}
    words = rng.sample(s["password_words"], 2)
    password = f"{words[0].capitalize()}-{rng.randint(1000, 9999)}-{words[1]}"
    cost = rng.choice(s["backup_costs"])

    neighbors = {r: {} for r in ROUTERS}
    for segment in TRANSIT:
        a, b = segments[segment]["routers"]
        for me, other in ((a, b), (b, a)):
            iface = next(i for i, seg in INTERFACES[me].items() if seg == segment)
            neighbors[me][iface] = {"router": other, "router_id": router_ids[other]}

    def plan(lang: str) -> str:
        lines = []
        for r in ROUTERS:
            ifaces = ", ".join(f"{i} {addresses[r][i]} ({INTERFACES[r][i]})" for i in sorted(addresses[r]))
            if lang == "fr":
                lines.append(f"{r} : nom {hostnames[r]}, router-id {router_ids[r]} ; {ifaces}")
            else:
                lines.append(f"{r}: name {hostnames[r]}, router-id {router_ids[r]}; {ifaces}")
        return "\n   ".join(lines)

    def lans(lang: str) -> str:
        sep = " : " if lang == "fr" else ": "
        return "\n   ".join(f"{p['segment']} ({pc}){sep}{p['network']}, {pc} {p['address']}, "
                           f"{'passerelle' if lang == 'fr' else 'gateway'} {p['gateway']}" for pc, p in pcs.items())

    params = {
        "site": str(site),
        "router_plan": plan("fr"),
        "router_plan_en": plan("en"),
        "lan_plan": lans("fr"),
        "lan_plan_en": lans("en"),
        "backup_cost": cost,
        "isp_address": isp_address.split("/")[0],
        "internet": internet,
        "default_user": s["default_user"],
        "default_password": s["default_password"],
        "password": password,
    }
    expected = {
        "routers": list(ROUTERS),
        "hostnames": hostnames,
        "router_ids": router_ids,
        "addresses": addresses,
        "interfaces": INTERFACES,
        "segments": segments,
        "neighbors": neighbors,
        "backup": {"segment": BACKUP, "cost": cost},
        "pcs": pcs,
        "site": str(site),
        "isp": {"address": isp_address, "r1": r1_wan, "internet": internet},
        "admin": {"user": s["default_user"], "default_password": s["default_password"], "password": password},
        "ospf_timers": {"hello": 1, "dead": 4},
    }
    return params, expected
