"""Parameters of the proxy lab, drawn from a seed.

gw joins the LAN (pc1, pc2; gw eth0) to the lab's "internet" (gw eth1, web: the documentation
range 203.0.113.0/24). web holds every site of the plan on one address (name-based virtual hosts,
HTTP and HTTPS with a certificate of the lab's CA, which the PCs trust); each site's page carries a
token of the seed, so that only the real page passes. The trainee gets the proxy's port, the LAN
to serve, the sites to refuse, the PCs' users and the browser policy's path; the checks get the
same plus the probes' addresses (outside anything the trainee or the hosts hold).
"""

from __future__ import annotations

import ipaddress
import random

PCS = ("pc1", "pc2")


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"proxy:{seed}")
    second = rng.randint(*s["second_octet"])
    lan = ipaddress.IPv4Network(f"10.{second}.{rng.randint(0, 255)}.0/24")
    wan = ipaddress.IPv4Network("203.0.113.0/24")
    gw_host = rng.choice([1, 254])
    gw_lan = str(lan.network_address + gw_host)
    hosts = rng.sample(range(10, 200), len(PCS))
    pcs = {pc: {"address": f"{lan.network_address + h}/{lan.prefixlen}"} for pc, h in zip(PCS, hosts)}
    gw_wan = str(wan.network_address + rng.randint(1, 99))
    web = str(wan.network_address + rng.randint(100, 199))
    port = rng.choice(s["ports"])

    words = rng.sample(s["words"], 4)
    allowed = [f"{p}.{w}.test" for p, w in zip(rng.sample(s["allowed_prefixes"], 2), words[:2])]
    blocked = [f"{p}.{w}.test" for p, w in zip(rng.sample(s["blocked_prefixes"], 2), words[2:])]
    sites = {name: {"token": f"tspcr-{rng.getrandbits(48):012x}", "allowed": name in allowed}
             for name in [*allowed, *blocked]}
    names = rng.sample(s["first_names"], 2 * len(PCS))
    for index, pc in enumerate(PCS):
        pcs[pc]["users"] = names[2 * index:2 * index + 2]
        pcs[pc]["password"] = f"{names[2 * index].capitalize()}-{rng.randint(1000, 9999)}"
    proxy_url = f"http://{gw_lan}:{port}/"

    def users(lang: str) -> str:
        sep = " : " if lang == "fr" else ": "
        word = " et " if lang == "fr" else " and "
        return "; ".join(f"{pc}{sep}{word.join(p['users'])}" for pc, p in pcs.items())

    params = {
        "lan": str(lan),
        "wan": str(wan),
        "gw_lan": gw_lan,
        "web_address": web,
        "port": port,
        "proxy_url": proxy_url,
        "all_sites": ", ".join(sites),
        "allowed_sites": ", ".join(allowed),
        "blocked_sites": ", ".join(blocked),
        "first_allowed": allowed[0],
        "first_blocked": blocked[0],
        "users": users("fr"),
        "users_en": users("en"),
        "policy_file": s["policy_file"],
    }
    expected = {
        "lan": str(lan),
        "wan": str(wan),
        "gw": {"lan": gw_lan, "lan_cidr": f"{gw_lan}/{lan.prefixlen}", "wan": gw_wan,
               "wan_cidr": f"{gw_wan}/{wan.prefixlen}"},
        "web": {"address": web, "cidr": f"{web}/{wan.prefixlen}"},
        "pcs": pcs,
        "port": port,
        "proxy_url": proxy_url,
        "sites": sites,
        "allowed": allowed,
        "blocked": blocked,
        "web_ports": [80, 443],
        "policy_file": s["policy_file"],
        # the grader's probe hosts: .250 of the LAN (gw is .1 or .254, the PCs .10-.199), .250 of
        # the internet (gw .1-.99, web .100-.199)
        "probes": {"lan": f"{lan.network_address + 250}/{lan.prefixlen}",
                   "wan": f"{wan.network_address + 250}/{wan.prefixlen}"},
        "ca_name": "TSPCR Lab Internet CA",
    }
    return params, expected
