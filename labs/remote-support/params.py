"""Parameters of the remote-support lab, drawn from a seed.

Three hosts on two LANs, the bastion between them and routing nothing:

* the support LAN (a /27): the bastion has its first address, hd1 (the helpdesk PC, where the
  technician works as ``tech``) a fixed one;
* the users' LAN (a /26 right after it): the bastion has its first address, pc1 (the user's PC) a
  fixed one; pc1's firewall lets SSH in from the bastion only.

The seed draws the company, the user of pc1 (login, full name, password), the name and password
of the helpdesk account the trainee creates on the bastion and pc1, the hosts' root password (SSH
must refuse it), the packages whose versions the inventory gives, and the user's fault (one, from
the lab's catalogue.toml, :func:`tspcr_lab.faults.assign`). The helpdesk account's sudo rights
are the same for everyone (``[params] sudo_commands``): they cover every fault of the catalogue,
so the list tells nothing of the fault.
"""

from __future__ import annotations

import ipaddress
import random

from tspcr_lab.faults import assign


def _password(rng: random.Random, words: list[str]) -> str:
    first, second = rng.sample(words, 2)
    return f"{first.capitalize()}{rng.choice('-_.+')}{rng.randint(1000, 9999)}{rng.choice('-_.+')}{second}"


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"remote-support:{seed}")
    base = ipaddress.IPv4Address(f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}.0")
    support = ipaddress.IPv4Network(f"{base}/27")
    users = ipaddress.IPv4Network(f"{base + 64}/26")
    bastion_s, bastion_u = support.network_address + 1, users.network_address + 1
    hd1 = support.network_address + rng.randint(10, 29)
    pc1 = users.network_address + rng.randint(20, 59)
    company = rng.choice(s["companies"])
    person = rng.choice(s["users"])
    helpdesk = rng.choice(s["helpdesk_accounts"])
    words = s["password_words"]
    versions = sorted(rng.sample(s["inventory_packages"], 3))
    user = person["login"]
    sudo_commands = [c.replace("{user}", user) for c in s["sudo_commands"]]
    params = {
        "company": company,
        "support_lan": str(support), "users_lan": str(users),
        "bastion_support": str(bastion_s), "bastion_users": str(bastion_u), "hd1": str(hd1), "pc1": str(pc1),
        "user": user, "user_name": person["name"],
        "helpdesk": helpdesk, "helpdesk_password": _password(rng, words),
        "root_password": _password(rng, words),
        "sudo_commands": sudo_commands,
        "sudo_list": "\n".join(f"    {c}" for c in sudo_commands),
        "inventory": "/home/tech/inventory/pc1.toml",
        "versions": versions, "versions_list": ", ".join(versions),
        "message": f"/home/{user}/message-support.txt",
    }
    expected = {
        **params,
        "support_prefix": support.prefixlen, "users_prefix": users.prefixlen,
        "hd1_cidr": f"{hd1}/{support.prefixlen}", "pc1_cidr": f"{pc1}/{users.prefixlen}",
        "bastion_support_cidr": f"{bastion_s}/{support.prefixlen}",
        "bastion_users_cidr": f"{bastion_u}/{users.prefixlen}",
        "user_password": _password(rng, words),
        "home": f"/home/{user}",
    }
    assign(lab, seed, params, expected)
    fault = expected["faults"][0]
    # the sudo commands by which the trainee's repair shows in pc1's auth log (each group: one of
    # its regular expressions, run through the bastion)
    expected["repair_commands"] = [[p.replace("{user}", user) for p in group]
                                   for group in s["repair_commands"][fault]]
    return params, expected
