"""Parameters of the troubleshoot-system lab, drawn from a seed.

Everything works as planned (below); then each trainee's faults, drawn from the lab's catalogue
(catalogue.toml) by :func:`tspcr_lab.faults.assign`, break it. The trainee gets the plan and the
users' tickets, never the faults; the checks get the plan and the faults.

* one LAN, a /24: srv1 (the intranet site, nginx; the domain's DNS, dnsmasq), ws1 (the user's
  PC: the user and a colleague, the accounting software in /opt, the inventory agent, cron),
  pc1 (the support's PC, where the intervention reports are written);
* the user's account expires at the end of their contract (a date of the plan); what the faults
  put in place of the right values is drawn here too (a mistyped year, a port for the backdoor).
"""

from __future__ import annotations

import datetime
import ipaddress
import random
import secrets
import string

from tspcr_lab.faults import assign

EPOCH = datetime.date(1970, 1, 1)


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(10)) + rng.choice("#%+=") + str(rng.randint(10, 99))


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"troubleshoot-system:{seed}")
    lan = ipaddress.IPv4Network(f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0/24")
    city = rng.choice(s["cities"])
    company = rng.choice(s["companies"])
    domain = f"{city}.lan"
    srv1 = lan.network_address + rng.randint(2, 19)
    ws1 = lan.network_address + rng.randint(20, 99)
    pc1 = lan.network_address + rng.randint(100, 199)
    user, user_name = rng.choice(s["users"])
    colleague, colleague_name = rng.choice(s["colleagues"])
    tool = rng.choice(s["tools"])
    end = datetime.date(rng.randint(2031, 2036), rng.randint(1, 12), rng.randint(1, 28))
    wrong_end = end.replace(year=end.year - 10)  # HR typed the decade wrong
    site = f"intranet.{domain}"
    marker = f"Intranet {company} {rng.randint(100, 999)}"
    params = {
        "lan": str(lan), "domain": domain, "site": site, "srv1": str(srv1), "ws1": str(ws1), "pc1": str(pc1),
        "company": company, "user": user, "user_name": user_name, "colleague": colleague_name,
        "tool": tool, "contract_end": end.isoformat(),
    }
    expected = {
        **params,
        "prefix": lan.prefixlen, "srv1_cidr": f"{srv1}/{lan.prefixlen}", "ws1_cidr": f"{ws1}/{lan.prefixlen}",
        "pc1_cidr": f"{pc1}/{lan.prefixlen}", "url": f"http://{site}/", "marker": marker,
        "user_password": _password(rng), "colleague_login": colleague, "colleague_password": _password(rng),
        "contract_end_days": (end - EPOCH).days, "wrong_end": wrong_end.isoformat(),
        "documents": [f"budget-{end.year - 5}.csv", "notes-reunion.txt"],
        "backdoor_port": rng.choice([31337, 4444, 6666, 8081, 9999]),
        "rogue": (rogue := rng.choice([".dbus-updater", ".syscheck", ".kworkerd"])),
        # a pattern that finds the rogue program's command line, not a command line holding the pattern
        "rogue_pattern": f"[{rogue[0]}]{rogue[1:]}",
    }
    assign(lab, seed, params, expected)
    return params, expected
