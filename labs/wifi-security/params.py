"""Parameters of the wifi-security lab, drawn from a seed.

One wired LAN (a /24 of 10.0.0.0/8) where srv1 (fixed address, set by the deploy) gives addresses
by DHCP and answers for the site's names; the access point ap1 bridges its radio to that LAN
(its bridge has a fixed address of the plan), and the laptop joins the wireless network and takes
its address from srv1. The plan says the network's name (SSID), its security (WPA3 only, or the
WPA2/WPA3 transition mode for older devices), whether management frames must be protected
(required with WPA3 only, capable in transition), the channel and a strong passphrase: several
random words and digits, found in no dictionary (the checks attack the one configured with a
dictionary of common passphrases: a trainee who sets a weak one fails there).
"""

from __future__ import annotations

import ipaddress
import random

MODES = {
    "wpa3": {"fr": "WPA3-Personnel seul (SAE), sans WPA2", "en": "WPA3-Personal only (SAE), without WPA2",
             "akms": ["SAE"], "pmf": "required",
             "pmf_fr": "obligatoire (PMF requis, ieee80211w=2)", "pmf_en": "required (PMF required, ieee80211w=2)"},
    "transition": {"fr": "mode de transition WPA2/WPA3 (WPA2-PSK et SAE, pour les anciens appareils)",
                   "en": "WPA2/WPA3 transition mode (WPA2-PSK and SAE, for older devices)",
                   "akms": ["PSK", "SAE"], "pmf": "capable",
                   "pmf_fr": "proposée (PMF capable, ieee80211w=1)", "pmf_en": "offered (PMF capable, ieee80211w=1)"},
}


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"wifi-security:{seed}")
    net = ipaddress.IPv4Network(f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0/24")
    base = net.network_address

    def at(n: int) -> str:
        return str(base + n)

    site = rng.choice(s["sites"])
    domain = f"{site}.lan"
    mode = rng.choice(sorted(MODES))
    words = rng.sample(s["words"], 3)
    passphrase = "-".join(w.capitalize() if i == 1 else w for i, w in enumerate(words)) + f"-{rng.randint(10, 99)}"
    ssid = f"{site.upper()}-{rng.choice(s['ssid_suffixes'])}"
    channel = rng.choice(s["channels"])
    srv1, ap1 = at(rng.randint(2, 9)), at(rng.randint(10, 19))
    start = rng.randint(100, 150)
    hostname = f"portable-{rng.choice(s['departments'])}"
    mac_file = f"/root/{rng.choice(s['mac_files'])}"
    info = MODES[mode]
    params = {
        "ssid": ssid, "security": info["fr"], "security_en": info["en"], "pmf": info["pmf_fr"],
        "pmf_en": info["pmf_en"], "passphrase": passphrase, "channel": channel, "network": str(net),
        "srv1": srv1, "ap1": f"{ap1}/{net.prefixlen}", "domain": domain, "laptop_name": hostname,
        "mac_file": mac_file, "server_name": f"srv1.{domain}",
    }
    expected = {
        "ssid": ssid, "mode": mode, "akms": info["akms"], "pmf": info["pmf"], "passphrase": passphrase,
        "channel": channel, "frequency": 2407 + 5 * channel, "network": str(net), "prefix": net.prefixlen,
        "srv1": srv1, "srv1_cidr": f"{srv1}/{net.prefixlen}", "ap1": ap1, "ap1_cidr": f"{ap1}/{net.prefixlen}",
        "range": {"start": at(start), "end": at(start + 49)}, "netmask": str(net.netmask), "domain": domain,
        "server_name": f"srv1.{domain}", "laptop_name": hostname, "mac_file": mac_file,
    }
    return params, expected
