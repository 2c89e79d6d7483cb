"""Parameters of the ip-plan lab, drawn from a seed.

The trainee gets an address block, the number of hosts of each LAN and the rules of the plan; the
checks get the plan itself. Rules (also in the instructions):

* VLSM: LAN A gets the smallest subnet that holds its hosts, at the start of the block; LAN B the
  smallest that holds its hosts, right after LAN A;
* the router r1 has the first usable address of each subnet (already configured);
* srv1 (DNS server) has the last usable address of LAN B (already configured);
* pc1 has the last usable address of LAN A, pc2 the one before.
"""

from __future__ import annotations

import ipaddress
import math
import random


def _subnet_for(hosts: int, start: ipaddress.IPv4Address) -> ipaddress.IPv4Network:
    prefix = 32 - math.ceil(math.log2(hosts + 2))
    return ipaddress.IPv4Network(f"{start}/{prefix}")


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"ip-plan:{seed}")
    block = ipaddress.IPv4Network(
        f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0/{s['block_prefix']}"
    )
    a_hosts = rng.randint(*s["lan_a_hosts"])
    b_hosts = rng.randint(*s["lan_b_hosts"])
    lan_a = _subnet_for(a_hosts, block.network_address)
    lan_b = _subnet_for(b_hosts, lan_a.broadcast_address + 1)
    department = rng.choice(s["departments"])
    number = rng.randint(1, 89)
    domain = s["domain"]
    hostnames = {"pc1": f"{department}-pc{number:02d}", "pc2": f"{department}-pc{number + 1:02d}"}
    mac_file = f"{s['mac_file_dir']}/mac-{hostnames['pc1']}.txt"

    params = {
        "block": str(block),
        "lan_a_hosts": a_hosts,
        "lan_b_hosts": b_hosts,
        "hostnames": hostnames,
        "domain": domain,
        "dns_server": f"srv1.{domain}",
        "mac_file": mac_file,
    }
    expected = {
        "lan_a": str(lan_a),
        "lan_b": str(lan_b),
        "router": {"eth0": f"{lan_a.network_address + 1}/{lan_a.prefixlen}",
                   "eth1": f"{lan_b.network_address + 1}/{lan_b.prefixlen}"},
        "gateway_a": str(lan_a.network_address + 1),
        "gateway_b": str(lan_b.network_address + 1),
        "srv1": f"{lan_b.broadcast_address - 1}/{lan_b.prefixlen}",
        "dns": str(lan_b.broadcast_address - 1),
        "pcs": {
            "pc1": {"address": f"{lan_a.broadcast_address - 1}/{lan_a.prefixlen}", "hostname": hostnames["pc1"]},
            "pc2": {"address": f"{lan_a.broadcast_address - 2}/{lan_a.prefixlen}", "hostname": hostnames["pc2"]},
        },
        "domain": domain,
        "server_name": f"srv1.{domain}",
        "mac_file": mac_file,
    }
    return params, expected
