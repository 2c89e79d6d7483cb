"""Parameters of the file-security lab, drawn from a seed.

The company's file server srv1 holds a shared tree under a base folder. Every folder of the tree
has a fixed key (what check ids use: ``base``, ``dept1``, ``dept2``, ``direction``, ``common``,
``notes``) and a path drawn from the seed; every person has a fixed role key (``dept1_a``,
``intern``, ``director``...) and a login drawn from the seed.

Access levels of the matrix: ``rw`` (list, read, create, delete), ``r`` (list and read only),
``-`` (nothing). ``expected`` holds, per folder, the owner, group, mode and the exact access and
default ACL entries (in ``getfacl`` notation) that give that matrix, and per user the level.
"""

from __future__ import annotations

import random

FOLDER_KEYS = ["base", "dept1", "dept2", "direction", "common", "notes"]
# Folders whose files and sub-folders must inherit their rights (default ACL).
INHERITING = ["dept1", "dept2", "direction", "common", "notes"]
PERSON_KEYS = ["dept1_a", "dept1_b", "intern", "dept2_a", "dept2_b", "director", "assistant", "contractor"]

PERMS = {"rw": "rwx", "r": "r-x", "-": "---"}


def _logins(rng: random.Random, firsts: list[str], lasts: list[str], count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(firsts)[0]}{rng.choice(lasts)}"
        if name not in names:
            names.append(name)
    return names


def generate(seed: int, lab):
    s = lab.settings
    rng = random.Random(f"file-security:{seed}")
    dept1, dept2 = rng.sample(s["departments"], 2)
    staff = rng.choice(s["staff_groups"])
    base = rng.choice(s["base_folders"])
    notes = rng.choice(s["notes_folders"])
    common = "commun"
    logins = dict(zip(PERSON_KEYS, _logins(rng, s["first_names"], s["last_names"], len(PERSON_KEYS))))

    groups = {"dept1": dept1, "dept2": dept2, "direction": "direction", "staff": staff}
    folders = {
        "base": base,
        "dept1": f"{base}/{dept1}",
        "dept2": f"{base}/{dept2}",
        "direction": f"{base}/direction",
        "common": f"{base}/{common}",
        "notes": f"{base}/{common}/{notes}",
    }
    # Who is in which group (supplementary groups; every user also has a private primary group).
    members = {
        "dept1": [logins["dept1_a"], logins["dept1_b"], logins["intern"]],
        "dept2": [logins["dept2_a"], logins["dept2_b"]],
        "direction": [logins["director"], logins["assistant"]],
        "staff": [logins[k] for k in PERSON_KEYS if k != "contractor"],
    }

    def spec(owning_group: str, named_users: dict[str, str], named_groups: dict[str, str],
             group_level: str, mode: str, default: bool) -> dict:
        access = {"user::": "rwx", "group::": PERMS[group_level], "other::": "---"}
        for login, level in named_users.items():
            access[f"user:{login}"] = PERMS[level]
        for group, level in named_groups.items():
            access[f"group:{group}"] = PERMS[level]
        if named_users or named_groups:
            union = set("".join(v for k, v in access.items() if k not in ("user::", "other::")))
            access["mask::"] = "".join(c if c in union else "-" for c in "rwx")
        return {"owner": "root", "group": owning_group, "mode": mode, "access": access,
                "default": dict(access) if default else {}}

    acl = {
        # Everyone on the staff may go through the base folder and see what it holds; only root writes.
        "base": spec(staff, {}, {}, "r", "0750", default=False),
        # A department writes in its folder; the intern only reads; the director reads.
        "dept1": spec(dept1, {logins["intern"]: "r", logins["director"]: "r"}, {}, "rw", "2770", default=True),
        "dept2": spec(dept2, {logins["director"]: "r"}, {}, "rw", "2770", default=True),
        "direction": spec("direction", {}, {}, "rw", "2770", default=True),
        # The whole staff writes in the common folder.
        "common": spec(staff, {}, {}, "rw", "2770", default=True),
        # Notes: the direction writes, the whole staff reads.
        "notes": spec("direction", {}, {staff: "r"}, "rw", "2770", default=True),
    }

    # The access matrix that follows, per folder and login.
    levels: dict[str, dict[str, str]] = {}
    for key in FOLDER_KEYS:
        levels[key] = {}
    for person in PERSON_KEYS:
        login = logins[person]
        staff_member = person != "contractor"
        levels["base"][login] = "r" if staff_member else "-"
        levels["dept1"][login] = {"dept1_a": "rw", "dept1_b": "rw", "intern": "r", "director": "r"}.get(person, "-")
        levels["dept2"][login] = {"dept2_a": "rw", "dept2_b": "rw", "director": "r"}.get(person, "-")
        levels["direction"][login] = "rw" if person in ("director", "assistant") else "-"
        levels["common"][login] = "rw" if staff_member else "-"
        levels["notes"][login] = ("rw" if person in ("director", "assistant") else "r") if staff_member else "-"

    # The matrix as the trainee reads it (language-neutral: logins, paths, rw / r / -).
    width = max(len(login) for login in logins.values()) + 2
    header = " " * width + "  ".join(f"[{i + 1}]" for i in range(len(FOLDER_KEYS)))
    lines = [f"[{i + 1}] {folders[k]}" for i, k in enumerate(FOLDER_KEYS)] + ["", header]
    for person in PERSON_KEYS:
        login = logins[person]
        lines.append(login.ljust(width) + "  ".join(levels[k][login].center(3) for k in FOLDER_KEYS))

    params = {
        "base": base,
        "folders": folders,
        "groups": groups,
        "users": logins,
        "members": {k: ", ".join(v) for k, v in members.items()},
        "matrix": "\n".join(lines),
    }
    expected = {
        "folders": folders,
        "groups": groups,
        "users": logins,
        "members": members,
        "acl": acl,
        "levels": levels,
        "inheriting": INHERITING,
    }
    return params, expected
