"""A correct trainee's work for file-security (pyinfra deploy): what ``tspcr-lab solve`` applies.

For each folder of the tree: create it, give it its owner, group and mode (setgid bit included),
replace its ACL with the entries asked for, and the same entries as its default ACL.
"""

from pyinfra import host
from pyinfra.operations import server

plan = host.data.lab_expected

if host.name == "srv1":
    for key, path in plan["folders"].items():
        spec = plan["acl"][key]
        # getfacl notation -> setfacl notation: "user:alice" + "r-x" -> "user:alice:r-x"
        entries = ",".join(f"{tag}{'' if tag.endswith('::') else ':'}{perms}" for tag, perms in spec["access"].items())
        commands = [
            f"mkdir -p {path}",
            f"chown {spec['owner']}:{spec['group']} {path}",
            f"setfacl -b {path}",
            f"chmod {spec['mode']} {path}",
            f"setfacl --set {entries} {path}",
        ]
        if spec["default"]:
            defaults = ",".join(
                f"{tag}{'' if tag.endswith('::') else ':'}{perms}" for tag, perms in spec["default"].items()
            )
            commands.append(f"setfacl -d --set {defaults} {path}")
        server.shell(name=f"folder {key}: {path}", commands=commands)
