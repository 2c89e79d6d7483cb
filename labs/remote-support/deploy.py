"""Starting state of the remote-support lab (pyinfra deploy): the network and the hosts as the
support finds them (see params.py), then the user's fault injected (the lab's catalogue.toml).

* hd1, the helpdesk PC: the technician's account ``tech`` (folders for the inventory and the
  intervention reports), the name ``bastion`` in /etc/hosts;
* the bastion: on both LANs, routing nothing (ip_forward 0, saved), the name ``pc1`` in
  /etc/hosts;
* pc1, the user's PC: the user's account and files, their evening backup (cron), the company's
  software (/opt/apps/bin, added to the PATH by /etc/profile.d/apps.sh), a firewall (nftables,
  saved) that lets SSH in from the bastion only (and the lab's management network: the grader);
* the bastion and pc1 as delivered: sshd accepts passwords and root (whose password is the
  plan's), sudo has Debian's defaults, and a system log (tl-syslogd: /var/log/auth.log records
  SSH logins and sudo commands, with their time), started at boot before sshd.
"""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.facts.server import Command
from pyinfra.operations import files, server

from tspcr_lab.labfile import load_lab
from tspcr_lab.provision.faults import inject_faults
from tspcr_lab.provision.firewall import nftables_at_boot
from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
HERE = Path(__file__).resolve().parent


def put(name: str, text: str, dest: str, mode: str = "644") -> None:
    files.put(name=name, src=StringIO(text), dest=dest, mode=mode)


def interface(iface: str, cidr: str) -> str:
    return f"auto {iface}\niface {iface} inet static\n    address {cidr}\n"


def factory_sshd_and_log() -> None:
    """sshd as delivered (passwords and root accepted), root's password, the system log."""
    files.line(name=f"{host.name}: sshd lets root log in (as delivered)", path="/etc/ssh/sshd_config",
               line=r"^#*PermitRootLogin[[:space:]].*", replace="PermitRootLogin yes")
    files.line(name=f"{host.name}: sshd accepts passwords (as delivered)", path="/etc/ssh/sshd_config",
               line=r"^#*PasswordAuthentication[[:space:]].*", replace="PasswordAuthentication yes")
    if not host.get_fact(File, path="/etc/tspcr-lab/mgmt.env"):
        # a real lab: the grader logs in as root with its key from its own address (a virtual
        # host is read through its console): that access is the lab's, kept whatever the policy
        grader = (host.get_fact(Command, command="echo ${SSH_CLIENT%% *}") or "").strip()
        if grader:
            block = (f"\n# The lab's management access (the examiner's grader, by key): keep it\n"
                     f"Match Address {grader}\n    PermitRootLogin prohibit-password\n")
            server.shell(name=f"{host.name}: the lab's management access (the grader, by key)", commands=[
                f"grep -qx {_quote('Match Address ' + grader)} /etc/ssh/sshd_config || "
                f"printf '%s' {_quote(block)} >> /etc/ssh/sshd_config"])
    server.shell(name=f"{host.name}: root's password", commands=[
        f"echo {_quote('root:' + plan['root_password'])} | chpasswd"])
    files.put(name=f"{host.name}: the system log (tl-syslogd)", src=str(HERE / "files/tl-syslogd"),
              dest="/usr/local/sbin/tl-syslogd", mode="755")
    files.put(name=f"{host.name}: the system log's init script", src=str(HERE / "files/tl-syslogd.init"),
              dest="/etc/init.d/tl-syslogd", mode="755")
    # started before sshd (the boot list's order; sshd always last), and restarted so that it
    # logs from now on
    server.shell(name=f"{host.name}: the system log started, then sshd again", commands=[
        "service tl-syslogd start", "service ssh restart"])
    service_at_boot("tl-syslogd")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


if host.name == "hd1":
    put("hd1: the support LAN", "# written by the lab's deploy\n" + interface("eth0", plan["hd1_cidr"]),
        "/etc/network/interfaces.d/lab")
    files.line(name="hd1: the bastion's name", path="/etc/hosts", line=r"[[:space:]]bastion$",
               replace=f"{plan['bastion_support']}\tbastion")
    server.shell(name="hd1: the technician's account", commands=[
        "id tech >/dev/null 2>&1 || useradd -m -s /bin/bash -c 'Technicien support' tech",
        "install -d -o tech -g tech -m 755 /home/tech/inventory /home/tech/tickets",
        "ifup -a"])

elif host.name == "bastion":
    put("bastion: both LANs", "# written by the lab's deploy\n" + interface("eth0", plan["bastion_support_cidr"])
        + "\n" + interface("eth1", plan["bastion_users_cidr"]), "/etc/network/interfaces.d/lab")
    put("bastion: routes nothing", "# a bastion: SSH in, SSH out, no routing\nnet.ipv4.ip_forward = 0\n",
        "/etc/sysctl.d/30-bastion.conf")
    files.line(name="bastion: the PC's name", path="/etc/hosts", line=r"[[:space:]]pc1$",
               replace=f"{plan['pc1']}\tpc1")
    files.line(name="bastion: the helpdesk PC's name", path="/etc/hosts", line=r"[[:space:]]hd1$",
               replace=f"{plan['hd1']}\thd1")
    server.shell(name="bastion: apply", commands=["sysctl -q -w net.ipv4.ip_forward=0", "ifup -a"])
    factory_sshd_and_log()

elif host.name == "pc1":
    user, home = plan["user"], plan["home"]
    put("pc1: the users' LAN", "# written by the lab's deploy\n" + interface("eth0", plan["pc1_cidr"]),
        "/etc/network/interfaces.d/lab")
    files.line(name="pc1: the bastion's name", path="/etc/hosts", line=r"[[:space:]]bastion$",
               replace=f"{plan['bastion_users']}\tbastion")
    # the lab's management network (the grader's: a virtual host's mgmt0, a real lab's management
    # addresses) is let in as the lab found it; the users' LAN gets SSH from the bastion only
    put("pc1: its firewall (nftables)",
        "#!/usr/sbin/nft -f\n# pc1's firewall: SSH from the bastion only (and the lab's management network)\n"
        "flush ruleset\n\ntable inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n"
        "        iif lo accept\n        ct state established,related accept\n        iifname \"mgmt0\" accept\n"
        f"        ip saddr {load_lab(host.data.lab_id).mgmt_network} accept\n"
        "        ip protocol icmp accept\n"
        f"        ip saddr {plan['bastion_users']} tcp dport 22 accept\n    }}\n}}\n", "/etc/nftables.conf", mode="755")
    put("pc1: the company's software", "#!/bin/sh\necho \"Compta $(date +%Y) : prêt\"\n", "/opt/apps/bin/compta", mode="755")
    put("pc1: the company's software in the PATH",
        "# the company's software (/opt/apps/bin), after the system's commands\nexport PATH=\"/opt/apps/bin:$PATH\"\n",
        "/etc/profile.d/apps.sh")
    server.shell(name="pc1: the user's account and files", commands=[
        f"id {user} >/dev/null 2>&1 || useradd -m -s /bin/bash -c {_quote(plan['user_name'])} {user}",
        f"echo {_quote(user + ':' + plan['user_password'])} | chpasswd",
        f"install -d -o {user} -g {user} -m 755 {home}/Documents {home}/sauvegarde",
        f"printf 'Budget 2026\\n' > {home}/Documents/budget.txt && chown {user}:{user} {home}/Documents/budget.txt",
        f"chmod 750 {home}"])
    put("pc1: the user's evening backup",
        f"# {plan['user_name']}'s documents, every evening\n"
        f"30 18 * * * {user} tar czf {home}/sauvegarde/documents.tgz -C {home} Documents\n", "/etc/cron.d/backup")
    server.shell(name="pc1: apply", commands=[
        "ifup -a", "nft -f /etc/nftables.conf",
        "service cron status >/dev/null 2>&1 || service cron start"])
    service_at_boot("cron")
    nftables_at_boot()
    factory_sshd_and_log()

inject_faults()
