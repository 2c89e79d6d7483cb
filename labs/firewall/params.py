"""Parameters of the firewall lab, drawn from a seed.

A Linux router fw (nftables) joins three segments: the staff LAN (the admin PC adm), the guest
LAN (a guest PC gst) and the DMZ (the web server web, the DNS server srv1). The trainee gets the
plan: the networks, fw's address on each, the servers' addresses and names, the flows allowed,
the admin password to set on the devices. The checks get the same laid out per zone, and the
addresses of the grader's probe ports (one per zone, outside any host's address).
"""

from __future__ import annotations

import ipaddress
import random

ZONES = ("staff", "guest", "dmz")
FW_INTERFACES = {"eth0": "staff", "eth1": "guest", "eth2": "dmz"}
DEVICES = ("fw", "srv1", "web")  # managed over SSH, from adm only


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"firewall:{seed}")
    second = rng.randint(*s["second_octet"])
    thirds = rng.sample(range(1, 200), 3)
    gateway_host = rng.choice([1, 254])
    networks = {zone: ipaddress.IPv4Network(f"10.{second}.{third}.0/24") for zone, third in zip(ZONES, thirds)}

    def at(zone: str, n: int) -> str:
        return str(networks[zone].network_address + n)

    hosts_n = rng.sample(range(10, 200), 4)  # adm, gst, web, srv1
    probe_n = 249 if gateway_host == 254 else 250
    zones = {zone: {"network": str(net), "gateway": at(zone, gateway_host),
                    "probe": f"{at(zone, probe_n)}/24"} for zone, net in networks.items()}
    hosts = {
        "adm": {"zone": "staff", "address": at("staff", hosts_n[0])},
        "gst": {"zone": "guest", "address": at("guest", hosts_n[1])},
        "web": {"zone": "dmz", "address": at("dmz", hosts_n[2])},
        "srv1": {"zone": "dmz", "address": at("dmz", hosts_n[3])},
    }
    city = rng.choice(s["cities"])
    domain = f"{city}.lan"
    words = rng.sample(s["password_words"], 2)
    password = f"{words[0].capitalize()}-{rng.randint(1000, 9999)}-{words[1]}"
    needless = rng.choice(s["needless_ports"])
    intranet = rng.choice(s["intranet_ports"])

    def plan(lang: str) -> str:
        sep = " : " if lang == "fr" else ": "
        lines = []
        for zone in ZONES:
            iface = next(i for i, z in FW_INTERFACES.items() if z == zone)
            members = ", ".join(f"{h} {v['address']}" for h, v in hosts.items() if v["zone"] == zone)
            lines.append(f"{zone}{sep}{zones[zone]['network']}, fw {iface} {zones[zone]['gateway']}, {members}")
        return "\n   ".join(lines)

    params = {
        "plan": plan("fr"),
        "plan_en": plan("en"),
        "domain": domain,
        "web_name": f"www.{domain}",
        "intranet_port": intranet,
        "needless_port": needless,
        "default_user": s["default_user"],
        "default_password": s["default_password"],
        "password": password,
        "adm": hosts["adm"]["address"],
    }
    expected = {
        "zones": zones,
        "fw_interfaces": FW_INTERFACES,
        "hosts": hosts,
        "devices": list(DEVICES),
        "domain": domain,
        "web_name": f"www.{domain}",
        "web_ports": [80, 443],
        "intranet_port": intranet,
        "needless": {"port": needless, "service": "nginx"},
        "admin": {"user": s["default_user"], "default_password": s["default_password"], "password": password},
    }
    return params, expected
