"""Parameters of the troubleshoot-network lab, drawn from a seed.

The network works as planned (below); then each trainee's faults, drawn from the lab's catalogue
(catalogue.toml) by :func:`tspcr_lab.faults.assign`, break it. The trainee gets the plan and the
users' tickets, never the faults; the checks get the plan and the faults.

* LAN A, a /26: r1 has its first address (the PCs' gateway, and their DHCP server: a range of 20
  addresses), pc1 a fixed address, pc2 its address by DHCP;
* LAN B, a /28 right after it: r1 its first address, srv1 a fixed one (the site's web server and
  the domain's DNS server; its firewall lets in SSH, DNS, HTTP and ping only), r2 its last;
* LAN C, the branch's /28 right after LAN B, behind r2 (its first address): srv2, the backup
  server; r1 routes to LAN C through r2.
"""

from __future__ import annotations

import ipaddress
import random

from tspcr_lab.faults import assign


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"troubleshoot-network:{seed}")
    base = ipaddress.IPv4Address(f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0")
    lan_a = ipaddress.IPv4Network(f"{base}/26")
    lan_b = ipaddress.IPv4Network(f"{lan_a.broadcast_address + 1}/28")
    lan_c = ipaddress.IPv4Network(f"{lan_b.broadcast_address + 1}/28")
    city = rng.choice(s["cities"])
    company = rng.choice(s["companies"])
    domain = f"{city}.lan"
    r1_a, r1_b = lan_a.network_address + 1, lan_b.network_address + 1
    pc1 = lan_a.network_address + rng.randint(10, 29)
    srv1 = lan_b.network_address + rng.randint(5, 12)
    start = lan_a.network_address + 40
    end = start + 19
    wrong_gateway = lan_a.network_address + rng.choice([2, 3, 4, 5, 62])
    wrong_dns = lan_b.network_address + rng.choice([2, 3, 4, 13])  # not srv1 (5-12), not r2 (14)
    marker = f"Intranet {company} {rng.randint(100, 999)}"
    r2_b, r2_c = lan_b.network_address + 14, lan_c.network_address + 1
    srv2 = lan_c.network_address + rng.randint(4, 12)
    site = f"intranet.{domain}"
    params = {
        "lan_a": str(lan_a), "lan_b": str(lan_b), "domain": domain, "site": site,
        "r1_a": str(r1_a), "r1_b": str(r1_b), "pc1": str(pc1), "srv1": str(srv1),
        "dhcp_start": str(start), "dhcp_end": str(end), "company": company,
        "lan_c": str(lan_c), "r2_b": str(r2_b), "r2_c": str(r2_c), "srv2": str(srv2),
    }
    expected = {
        **params,
        "lan_a_prefix": lan_a.prefixlen, "lan_b_prefix": lan_b.prefixlen,
        "pc1_cidr": f"{pc1}/{lan_a.prefixlen}", "srv1_cidr": f"{srv1}/{lan_b.prefixlen}",
        "r1_a_cidr": f"{r1_a}/{lan_a.prefixlen}", "r1_b_cidr": f"{r1_b}/{lan_b.prefixlen}",
        "lan_c_prefix": lan_c.prefixlen, "r2_b_cidr": f"{r2_b}/{lan_b.prefixlen}",
        "r2_c_cidr": f"{r2_c}/{lan_c.prefixlen}", "srv2_cidr": f"{srv2}/{lan_c.prefixlen}",
        "netmask_a": str(lan_a.netmask), "marker": marker, "url": f"http://{site}/",
        # what the faults put in place of the right values
        "wrong_gateway": str(wrong_gateway), "wrong_dns": str(wrong_dns),
        "phantom_mac": "02:00:%02x:%02x:%02x:%02x" % tuple(rng.randint(0, 255) for _ in range(4)),
    }
    assign(lab, seed, params, expected)
    return params, expected
