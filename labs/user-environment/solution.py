"""A correct trainee's work for user-environment (pyinfra deploy): what ``tspcr-lab solve`` applies.

The logon script is read by every login shell (/etc/profile sources /etc/profile.d/*.sh): it maps
the network folder with a link (only when it is missing or wrong, so a login changes nothing once
the link is right), sets the variables and shows the banner to the group's members only. The
skeleton gets the file and the folder every new account must receive.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files

want = host.data.lab_expected

SCRIPT = """\
# Logon script of {company}: read by every login shell (see /etc/profile).
# Network folder: ~/{link_name} -> {share_root}/<user>, created or fixed when needed.
if [ -n "$USER" ] && [ -d "{share_root}/$USER" ]; then
    target="{share_root}/$USER"
    if [ "$(readlink -- "$HOME/{link_name}")" != "$target" ]; then
        ln -sfn -- "$target" "$HOME/{link_name}"
    fi
fi
export COMPANY="{company}"
export SHARE="{share_root}/$USER"
case ":$PATH:" in
    *":{tools_dir}:"*) ;;
    *) export PATH="$PATH:{tools_dir}" ;;
esac
# Banner for the members of {group} only.
if id -nG | tr ' ' '\\n' | grep -qx "{group}"; then
    echo "{banner}"
fi
"""

if host.name == "pc1":
    files.put(
        name="pc1: logon script",
        src=StringIO(SCRIPT.format(**want)),
        dest=want["logon_script"],
        mode="644",
    )
    files.put(
        name="pc1: skeleton file",
        src=StringIO(f"{want['skel_line']}\n"),
        dest=f"/etc/skel/{want['skel_file']}",
        mode="644",
    )
    files.directory(name="pc1: skeleton folder", path=f"/etc/skel/{want['skel_dir']}", mode="755")
