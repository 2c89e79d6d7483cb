"""Parameters of the dhcp-dns lab, drawn from a seed.

One LAN (a /24 of 10.0.0.0/8): the router gw and the server srv1 have fixed addresses (the lab's
deploy sets them), the PCs pc1 and pc2 take theirs from srv1's DHCP. The trainee gets the DHCP
range and its options (gateway, DNS server, domain, lease time), a reservation for the printer's
MAC address (a device of the plan: the grader's probe asks with that MAC) and the zone's records;
the checks get the same, with each record laid out as the DNS answer it expects. The grader's
probe port has an address of the LAN outside the range and every host's (planned here).
"""

from __future__ import annotations

import ipaddress
import random

PROBE_HOST = 250  # the probe's host number: the range ends at .209 at most, gw is .1 or .254


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"dhcp-dns:{seed}")
    net = ipaddress.IPv4Network(f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0/24")
    base = net.network_address

    def at(n: int) -> str:
        return str(base + n)

    gateway = at(rng.choice([1, 254]))
    srv1 = at(rng.randint(2, 30))
    start = rng.randint(*s["range_start"])
    end = start + rng.randint(*s["range_size"]) - 1
    printer_address = at(rng.randint(31, 90))
    printer_mac = "02:" + ":".join(f"{rng.randint(0, 255):02x}" for _ in range(5))
    lease_hours = rng.choice(s["lease_hours"])
    domain = f"{rng.choice(s['sites'])}.lan"
    printer = f"imp-{rng.choice(s['departments'])}"
    alias = rng.choice(s["aliases"])
    preference = rng.choice(s["mx_preferences"])

    def fqdn(name: str) -> str:
        return f"{name}.{domain}"

    # check parameter -> the query and the answer it expects (names as the probe gives them: lower
    # case, no trailing dot; MX as "PREFERENCE NAME")
    records = {
        "a-srv1": {"name": fqdn("srv1"), "type": "A", "value": srv1},
        "a-gw": {"name": fqdn("gw"), "type": "A", "value": gateway},
        "a-printer": {"name": fqdn(printer), "type": "A", "value": printer_address},
        "a-mail": {"name": fqdn("mail"), "type": "A", "value": srv1},
        "ptr-srv1": {"name": srv1, "type": "PTR", "value": fqdn("srv1")},
        "ptr-gw": {"name": gateway, "type": "PTR", "value": fqdn("gw")},
        "ptr-printer": {"name": printer_address, "type": "PTR", "value": fqdn(printer)},
        "cname-alias": {"name": fqdn(alias), "type": "CNAME", "value": fqdn("srv1")},
        "mx": {"name": domain, "type": "MX", "value": f"{preference} {fqdn('mail')}"},
    }
    # names a PTR of an address may give besides the planned one (srv1 is also mail)
    names_of = {srv1: [fqdn("srv1"), fqdn("mail")], gateway: [fqdn("gw")], printer_address: [fqdn(printer)]}

    def record_lines(lang: str) -> str:
        fr = lang == "fr"
        return "\n   ".join([
            f"A : {fqdn('srv1')} -> {srv1}, {fqdn('gw')} -> {gateway}, {fqdn(printer)} -> {printer_address}, "
            f"{fqdn('mail')} -> {srv1}" if fr else
            f"A: {fqdn('srv1')} -> {srv1}, {fqdn('gw')} -> {gateway}, {fqdn(printer)} -> {printer_address}, "
            f"{fqdn('mail')} -> {srv1}",
            (f"PTR (résolution inverse) : {srv1} -> {fqdn('srv1')}, {gateway} -> {fqdn('gw')}, "
             f"{printer_address} -> {fqdn(printer)}") if fr else
            (f"PTR (reverse lookup): {srv1} -> {fqdn('srv1')}, {gateway} -> {fqdn('gw')}, "
             f"{printer_address} -> {fqdn(printer)}"),
            f"CNAME{' ' if fr else ''}: {fqdn(alias)} -> {fqdn('srv1')}",
            (f"MX : le courrier de {domain} va à {fqdn('mail')}, préférence {preference}" if fr else
             f"MX: mail for {domain} goes to {fqdn('mail')}, preference {preference}"),
        ])

    params = {
        "network": str(net),
        "domain": domain,
        "gateway": gateway,
        "srv1": srv1,
        "range_start": at(start),
        "range_end": at(end),
        "netmask": str(net.netmask),
        "lease": f"{lease_hours} heures",
        "lease_en": f"{lease_hours} hours",
        "printer": fqdn(printer),
        "printer_mac": printer_mac,
        "printer_address": printer_address,
        "records": record_lines("fr"),
        "records_en": record_lines("en"),
        "check_name": fqdn(alias),
    }
    expected = {
        "network": str(net),
        "prefix": net.prefixlen,
        "netmask": str(net.netmask),
        "gateway": gateway,
        "srv1": srv1,
        "srv1_cidr": f"{srv1}/{net.prefixlen}",
        "gateway_cidr": f"{gateway}/{net.prefixlen}",
        "range": {"start": at(start), "end": at(end)},
        "lease_time": lease_hours * 3600,
        "lease_hours": lease_hours,
        "domain": domain,
        "printer": {"name": fqdn(printer), "short": printer, "mac": printer_mac, "address": printer_address},
        "alias": fqdn(alias),
        "mx_preference": preference,
        "records": records,
        "names_of": names_of,
        "probe": f"{at(PROBE_HOST)}/{net.prefixlen}",
        "pcs": ["pc1", "pc2"],
    }
    return params, expected
