"""Parameters of the user-environment lab, drawn from a seed.

The trainee gets the company, the users (already created by the deploy, with their passwords),
the group that gets the banner, the logon script's path, the network folders' root, the link
name, the tools folder to append to PATH and the skeleton to prepare; the checks get every value
a user's session must show.
"""

from __future__ import annotations

import random
import string

SLOTS = ("user1", "user2", "user3")


def _password(rng: random.Random) -> str:
    # Readable but not guessable: letters and digits, with a fixed separator so it is easy to type.
    letters = "".join(rng.choice(string.ascii_lowercase) for _ in range(5))
    digits = "".join(rng.choice(string.digits) for _ in range(4))
    return f"{letters.capitalize()}-{digits}"


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"user-environment:{seed}")
    company, slug = rng.choice(s["companies"])
    names = rng.sample(s["first_names"], len(SLOTS))
    users = dict(zip(SLOTS, names))
    passwords = {slot: _password(rng) for slot in SLOTS}
    group = rng.choice(s["groups"])
    # user1 and user2 are members of the group, user3 is not: the banner is for members only.
    members = {"user1": True, "user2": True, "user3": False}
    share = rng.choice(s["shares"])
    share_root = f"/srv/{share}"
    link_name = rng.choice(s["link_names"])
    tools_dir = f"/opt/{slug}/bin"
    tool = f"{slug}-support"
    day, hour = rng.choice(s["days"]), rng.randint(8, 17)
    banner = f"[{group}] Reunion d'equipe {day} a {hour}h - {company}"
    skel_file = rng.choice(s["skel_files"])
    skel_dir = rng.choice(s["skel_dirs"])
    extension = rng.randint(100, 899)
    skel_line = f"Support informatique : poste {extension}"
    logon_script = f"/etc/profile.d/{slug}-session.sh"

    params = {
        "company": company,
        "users": users,
        "passwords": passwords,
        "group": group,
        "group_members": ", ".join(users[slot] for slot in SLOTS if members[slot]),
        "share_root": share_root,
        "link_name": link_name,
        "tools_dir": tools_dir,
        "tool": tool,
        "banner": banner,
        "logon_script": logon_script,
        "skel_file": skel_file,
        "skel_line": skel_line,
        "skel_dir": skel_dir,
    }
    expected = {
        "company": company,
        "users": {
            slot: {
                "name": users[slot],
                "password": passwords[slot],
                "home": f"/home/{users[slot]}",
                "folder": f"{share_root}/{users[slot]}",
                "member": members[slot],
            }
            for slot in SLOTS
        },
        "group": group,
        "share_root": share_root,
        "link_name": link_name,
        "tools_dir": tools_dir,
        "tool": tool,
        "tool_output": f"{company} - support informatique : poste {extension}",
        "banner": banner,
        "logon_script": logon_script,
        "skel_file": skel_file,
        "skel_line": skel_line,
        "skel_dir": skel_dir,
    }
    return params, expected
