"""A trainee who opened another path instead of using the bastion: the bastion made a router
(ip_forward 1, saved), routes between the LANs on hd1 and pc1, pc1's firewall opened to the
support LAN, tech's ssh configuration going to pc1 directly; the account, keys, sudo rights,
inventory, repair (with sudo) and message are all right, but made over that direct path."""

import importlib.util
import sys
from pathlib import Path
from shlex import quote

from pyinfra import host
from pyinfra.operations import files, server

# the repair's commands, run on pc1 over ssh (the catalogue's, without the bastion)
REMOTE = {
    "cron-stopped": ["sudo -n /usr/sbin/service cron start",
                     "{ grep -vx cron /etc/tspcr-lab/boot-services; echo cron; } | SUDO_EDITOR=tee sudoedit "
                     "/etc/tspcr-lab/boot-services >/dev/null"],
    "profile-path": ["sed 's#^export PATH=.*#export PATH=\"/opt/apps/bin:$PATH\"#' /etc/profile.d/apps.sh | "
                     "SUDO_EDITOR=tee sudoedit /etc/profile.d/apps.sh >/dev/null"],
    "home-owner": ["sudo -n /usr/bin/chown {user} /home/{user}"],
}


def load_steps():
    name = "tspcr_lab_remote_support_steps"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "steps.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


steps = load_steps()
plan = host.data.lab_expected
account = plan["helpdesk"]

if host.name == "bastion":
    files.line(name="bastion: made a router", path="/etc/sysctl.d/30-bastion.conf", line=r"^net.ipv4.ip_forward",
               replace="net.ipv4.ip_forward = 1")
    server.shell(name="bastion: routing on", commands=["sysctl -q -w net.ipv4.ip_forward=1"])
elif host.name == "hd1":
    server.shell(name="hd1: a route to the users' LAN", commands=[
        f"ip route replace {plan['users_lan']} via {plan['bastion_support']}"])
elif host.name == "pc1":
    server.shell(name="pc1: a route to the support LAN, its firewall opened to it", commands=[
        f"ip route replace {plan['support_lan']} via {plan['bastion_users']}",
        f"sed -i 's#^\\([[:space:]]*\\)ip saddr .* tcp dport 22 accept$#&\\n\\1ip saddr {plan['support_lan']} tcp dport 22 accept#'"
        " /etc/nftables.conf",
        "nft -f /etc/nftables.conf"])

steps.policy()
steps.tech_keys(f"# the user's PC, directly\nHost pc1\n    HostName {plan['pc1']}\n    User {account}\n"
                "    StrictHostKeyChecking accept-new\n")
steps.inventory()
if host.name == "hd1":
    server.shell(name="hd1: the repair, over ssh straight to pc1", commands=[
        f"runuser -u tech -- ssh -o BatchMode=yes pc1 {quote(c.replace('{user}', plan['user']))}"
        for c in REMOTE[plan["faults"][0]]])
steps.message()
steps.reports()
