"""Parameters of the mail-client lab, drawn from a seed.

The trainee gets the mail account of a user (name, address, login, password), the mail server's
name and ports, the mail client to configure (Thunderbird or NeoMutt), the address book file to
import and the test message to send. The checks also get what the trainee is not told: the lab's
addresses and the mailbox password of the test message's recipient (to read its inbox over IMAP).
"""

from __future__ import annotations

import random
import string

FIRST = ["Camille", "Lucas", "Manon", "Hugo", "Sarah", "Nathan", "Julie", "Thomas", "Laura", "Maxime",
         "Emma", "Louis", "Clara", "Arthur", "Lea", "Jules", "Ines", "Paul", "Alice", "Victor"]
LAST = ["Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon", "Michel",
        "Garcia", "Roux", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau"]


def _password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    core = "".join(rng.choice(alphabet) for _ in range(10))
    return core[:5] + rng.choice("-_.") + core[5:] + str(rng.randint(10, 99))


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"mail-client:{seed}")
    company = rng.choice(s["companies"])
    domain = f"{company}.{s['tld']}"
    client = rng.choice(s["clients"])
    lan = f"10.{rng.randint(*s['second_octet'])}.{rng.randint(*s['third_octet'])}"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    login = f"{first[0]}{last}".lower()
    email = f"{first}.{last}@{domain}".lower()
    recipient = rng.choice(s["recipients"])
    ticket = rng.randint(1000, 9999)
    names = rng.sample([(f, l) for f in FIRST for l in LAST if f != first and l != last], s["contacts"])
    partners = rng.sample(s["partner_domains"], len(names))
    contacts = [
        {"name": f"{f} {l}", "first": f, "last": l, "email": f"{f}.{l}@{partner}".lower()}
        for (f, l), partner in zip(names, partners)
    ]
    home = f"/home/{login}"
    mail_server = f"mail.{domain}"
    params = {
        "client": client,
        "full_name": f"{first} {last}",
        "email": email,
        "login": login,
        "password": _password(rng),
        "domain": domain,
        "mail_server": mail_server,
        "imap_port": 993,
        "smtp_port": 587,
        "contacts_file": f"{home}/{s['contacts_file']}",
        "contacts_count": len(contacts),
        "test_recipient": f"{recipient}@{domain}",
        "test_subject": f"Test messagerie - ticket {ticket}",
    }
    expected = {
        **params,
        "home": home,
        "contacts": contacts,
        "recipient_login": recipient,
        "recipient_password": _password(rng),
        "pc1": f"{lan}.{rng.randint(100, 199)}/24",
        "srv1": f"{lan}.{rng.randint(2, 60)}/24",
        "ca_name": f"CA {company}",
    }
    return params, expected
