"""A sample trainee's work for file-security, partly right (used by the tests and for demos):

* the base folder, the direction folder and the common folder are right;
* the two department folders have the right owner, group and access ACL, but mode 0770 (no
  setgid bit) and no default ACL: what is created in them later does not inherit the rights;
* the notes folder gives the whole staff write access (rwx) where read-only (r-x) was asked for.
"""

from pyinfra import host
from pyinfra.operations import server

plan = host.data.lab_expected


def setfacl_entries(entries: dict) -> str:
    return ",".join(f"{key}{'' if key.endswith('::') else ':'}{perms}" for key, perms in entries.items())


if host.name == "srv1":
    for key, path in plan["folders"].items():
        spec = plan["acl"][key]
        access = dict(spec["access"])
        default = dict(spec["default"])
        mode = spec["mode"]
        if key in ("dept1", "dept2"):
            mode, default = "0770", {}
        if key == "notes":
            staff = f"group:{plan['groups']['staff']}"
            access[staff] = default[staff] = "rwx"
        commands = [
            f"mkdir -p {path}",
            f"chown {spec['owner']}:{spec['group']} {path}",
            f"chmod {mode} {path}",
            f"setfacl --set {setfacl_entries(access)} {path}",
        ]
        if default:
            commands.append(f"setfacl -d --set {setfacl_entries(default)} {path}")
        server.shell(name=f"folder {key}: {path}", commands=commands)
