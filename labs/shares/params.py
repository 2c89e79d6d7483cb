"""Parameters of the shares lab, drawn from a seed.

Two departments of two people each, a former employee whose account must be disabled, a
read-only share for everybody, a workgroup and the office LAN. The trainee gets the names and the
passwords (they create the accounts); the checks get the access matrix:

* a department's members read and write their department's share; everybody else is refused;
* every active staff member reads the read-only share; nobody writes to it over the network;
* nobody gets in anonymously or as a guest; the former employee's account exists, disabled.

Checks are parametrized over fixed slots (``dept1``, ``dept2``, ``user1``..``user4``) so that test
ids never depend on a seed or on the trainee's work.
"""

from __future__ import annotations

import ipaddress
import random
import string

DEPARTMENTS = ("dept1", "dept2")
USERS = ("user1", "user2", "user3", "user4")  # user1, user2 in dept1; user3, user4 in dept2


def _password(rng: random.Random, words: list[str]) -> str:
    return f"{rng.choice(words)}-{rng.randint(10, 99)}{rng.choice(string.ascii_lowercase)}{rng.choice('!.+_')}"


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"shares:{seed}")
    lan = ipaddress.IPv4Network(f"192.168.{rng.randint(*s['third_octet'])}.0/24")
    server = lan.network_address + s["server_host"]
    pc = lan.network_address + s["pc_host"]
    workgroup = rng.choice(s["workgroups"])
    dept_names = rng.sample(s["departments"], 2)
    docs = rng.choice(s["docs_shares"])
    people = rng.sample(s["first_names"], 5)
    base = s["base_dir"]

    departments = {}
    users = {}
    for i, slot in enumerate(DEPARTMENTS):
        name = dept_names[i]
        members = []
        for j in range(2):
            user_slot = USERS[2 * i + j]
            user = people[2 * i + j]
            users[user_slot] = {"name": user, "password": _password(rng, s["password_words"]), "department": slot}
            members.append(user)
        departments[slot] = {"name": name, "group": name, "share": name, "path": f"{base}/{name}", "members": members}
    departed = {"name": people[4], "password": _password(rng, s["password_words"]), "department": "dept2"}

    params = {
        "server": str(server),
        "pc": str(pc),
        "workgroup": workgroup,
        "base_dir": base,
        "departments": {d["name"]: d["members"] for d in departments.values()},
        "accounts": {u["name"]: u["password"] for u in users.values()},
        "departed": departed["name"],
        "docs": docs,
        "docs_group": departments["dept1"]["group"],
        "legacy_share": s["legacy_share"],
        "groups_text": "; ".join(f"{d['name']} : {', '.join(d['members'])}" for d in departments.values()),
        "accounts_text": "; ".join(f"{u['name']} / {u['password']}" for u in users.values()),
    }
    expected = {
        "lan": str(lan),
        "addresses": {"srv1": f"{server}/{lan.prefixlen}", "pc1": f"{pc}/{lan.prefixlen}"},
        "server": str(server),
        "workgroup": workgroup,
        "departments": departments,
        "users": users,
        "departed": departed,
        "docs": {"share": docs, "path": f"{base}/{docs}", "group": departments["dept1"]["group"]},
        "base_dir": base,
        "legacy": {"share": s["legacy_share"], "path": s["legacy_path"]},
    }
    return params, expected
