"""Parameters of the local-accounts lab, drawn from a seed.

The trainee gets the accounts to create (login, full name, security groups, initial password),
the password policy (ageing and complexity), the line of the profile skeleton, the account of a
user on leave to disable and the account of a departing user to archive then delete. The checks
get the same values plus what the deploy seeded (the on-leave user's password, the departing
user's files) and candidate passwords to test the complexity policy with.
"""

from __future__ import annotations

import random
import string
import unicodedata


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii()).lower().replace(" ", "")


def _password(rng: random.Random, words: list[str]) -> str:
    """A memorable password that passes any policy of the lab: upper, lower, digits, a symbol, 17+ characters."""
    first, second = rng.sample(words, 2)
    return f"{first.capitalize()}{rng.choice('-_.+')}{rng.randint(1000, 9999)}{rng.choice('-_.+')}{second}"


def _random_chars(rng: random.Random, length: int, pools: list[str]) -> str:
    """``length`` characters, at least one of each pool, no character repeated (cracklib finds no pattern)."""
    chars = [rng.choice(pool) for pool in pools]
    every = "".join(pools)
    while len(chars) < length:
        c = rng.choice(every)
        if c not in chars:
            chars.append(c)
    rng.shuffle(chars)
    return "".join(chars)


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"local-accounts:{seed}")
    people = rng.sample(s["first_names"], 5)
    surnames = rng.sample(s["last_names"], 5)
    logins, fulls = [], []
    for first, last in zip(people, surnames):
        logins.append(_ascii(first[0] + last))
        fulls.append(f"{first} {last}")
    groups = rng.sample(s["groups"], 2)
    memberships = [[groups[0]], [groups[0], groups[1]], [groups[1]]]
    words = s["password_words"]
    users = []
    for i in range(3):
        users.append({
            "login": logins[i],
            "full_name": fulls[i],
            "groups": memberships[i],
            "password": _password(rng, words),
        })
    must_change = users[2]["login"]
    alias = rng.choice(sorted(s["aliases"]))
    skel_line = f"alias {alias}='{s['aliases'][alias]}'"
    max_days = rng.choice(s["max_days"])
    warn_days = rng.choice(s["warn_days"])
    minlen = rng.choice(s["minlen"])
    minclass = rng.choice(s["minclass"])
    on_leave = {"login": logins[3], "full_name": fulls[3], "password": _password(rng, words)}
    departing = {"login": logins[4], "full_name": fulls[4], "password": _password(rng, words)}
    archive = f"{s['archive_dir']}/{departing['login']}-profil.tar.gz"
    document = rng.choice(s["documents"])
    departing_files = {
        f"Documents/{document}.txt": f"{document} - {departing['full_name']} - ref {rng.randint(10000, 99999)}\n",
        "Bureau/a-faire.txt": f"rappeler le service {rng.choice(s['groups'])}\n",
        ".signature": f"{departing['full_name']}\n",
    }
    lower, upper, digits, symbols = string.ascii_lowercase, string.ascii_uppercase, string.digits, "#%+=-_!?"
    candidates = {
        # every class, one character too short
        "too_short": _random_chars(rng, minlen - 1, [lower, upper, digits, symbols]),
        # long enough, only lower-case letters and digits: two classes
        "too_few_classes": _random_chars(rng, minlen + 3, [lower, digits]),
        # long enough, every class
        "strong": _random_chars(rng, minlen + 3, [lower, upper, digits, symbols]),
    }
    accounts = "\n".join(
        f"   - {u['login']} — {u['full_name']} — {', '.join(u['groups'])} — {u['password']}" for u in users
    )

    # What the trainee is told and the checks expect alike.
    shared = {
        "groups": groups,
        "must_change": must_change,
        "max_days": max_days,
        "warn_days": warn_days,
        "minlen": minlen,
        "minclass": minclass,
        "skel_file": "/etc/skel/.bash_aliases",
        "skel_line": skel_line,
        "alias": alias,
        "archive": archive,
    }
    params = {
        **shared,
        "users": users,
        "accounts": accounts,
        "shell": s["shell"],
        "on_leave": on_leave["login"],
        "departing": departing["login"],
    }
    expected = {
        **shared,
        "users": [{**u, "home": f"/home/{u['login']}", "shell": s["shell"]} for u in users],
        "on_leave": {**on_leave, "home": f"/home/{on_leave['login']}",
                     "file": "Documents/dossier-en-cours.txt",
                     "content": f"Dossier en cours de {on_leave['full_name']}\n"},
        "departing": {**departing, "home": f"/home/{departing['login']}", "files": departing_files},
        "candidates": candidates,
    }
    return params, expected
