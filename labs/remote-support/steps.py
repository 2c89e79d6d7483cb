"""The steps of a trainee's work on the remote-support lab, for its solution and samples (pyinfra
operations; each acts on the hosts it names and does nothing elsewhere). Loaded by path:
``steps = load_steps()`` in a deploy file of this folder."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path
from shlex import quote

from pyinfra import host
from pyinfra.operations import files, server

HERE = Path(__file__).resolve().parent
TECH_SSH = "/home/tech/.ssh"


def plan() -> dict:
    return host.data.lab_expected


def tech_key() -> tuple[str, str]:
    """tech's key pair (private in OpenSSH format, public line), the same on every host's run of
    a deploy (derived from the trainee's plan)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    p = plan()
    seed = hashlib.sha256(f"remote-support:tech-key:{p['helpdesk_password']}:{p['root_password']}:"
                          f"{p['hd1']}:{p['pc1']}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} tech@hd1"


def policy() -> None:
    """On the bastion and pc1, as root: the helpdesk account (its password, tech's key
    authorised), sshd for keys only and no root (a drop-in of /etc/ssh/sshd_config.d, which the
    Include at the top of sshd_config puts first); on pc1 the plan's sudo rights."""
    if host.name not in ("bastion", "pc1"):
        return
    p, public = plan(), tech_key()[1]
    account = p["helpdesk"]
    home = f"/home/{account}"
    server.shell(name=f"{host.name}: the helpdesk account", commands=[
        f"id {account} >/dev/null 2>&1 || useradd -m -s /bin/bash -c 'Support (assistance a distance)' {account}",
        f"echo {quote(account + ':' + p['helpdesk_password'])} | chpasswd",
        f"install -d -o {account} -g {account} -m 700 {home}/.ssh"])
    files.put(name=f"{host.name}: tech's key authorised for {account}", src=StringIO(public + "\n"),
              dest=f"{home}/.ssh/authorized_keys", user=account, group=account, mode="600")
    files.put(name=f"{host.name}: sshd, keys only and no root",
              src=StringIO("# the support's access policy: keys only, no root\nPermitRootLogin no\n"
                           "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"),
              dest="/etc/ssh/sshd_config.d/10-policy.conf")
    server.shell(name=f"{host.name}: sshd again", commands=["sshd -t", "service ssh restart"])
    if host.name == "pc1":
        rules = ", ".join(c.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:").replace("=", "\\=")
                          for c in p["sudo_commands"])
        files.put(name="pc1: the helpdesk account's sudo rights", src=StringIO(
            f"# the support's sudo rights on pc1 (the plan's commands, nothing else)\n"
            f"{account} ALL=(root) NOPASSWD: {rules}\n"), dest=f"/etc/sudoers.d/{account}", mode="440")
        server.shell(name="pc1: sudoers checked", commands=["visudo -c -q"])


def tech_keys(config: str | None = None) -> None:
    """On hd1: tech's key pair and ~/.ssh/config (``config``; default: ProxyJump through the bastion)."""
    if host.name != "hd1":
        return
    p, (private, public) = plan(), tech_key()
    account = p["helpdesk"]
    if config is None:
        config = (f"# the user's PC, through the bastion\nHost bastion\n    User {account}\n"
                  f"    StrictHostKeyChecking accept-new\n\nHost pc1\n    User {account}\n    ProxyJump bastion\n"
                  "    StrictHostKeyChecking accept-new\n")
    server.shell(name="hd1: tech's ~/.ssh", commands=[f"install -d -o tech -g tech -m 700 {TECH_SSH}"])
    files.put(name="hd1: tech's private key", src=StringIO(private), dest=f"{TECH_SSH}/id_ed25519",
              user="tech", group="tech", mode="600")
    files.put(name="hd1: tech's public key", src=StringIO(public + "\n"), dest=f"{TECH_SSH}/id_ed25519.pub",
              user="tech", group="tech", mode="644")
    files.put(name="hd1: tech's ssh configuration", src=StringIO(config), dest=f"{TECH_SSH}/config",
              user="tech", group="tech", mode="600")


def inventory() -> None:
    """On hd1, as tech: pc1's inventory, collected on pc1 over ssh (files/collect-inventory.sh)."""
    if host.name != "hd1":
        return
    files.put(name="hd1: the inventory script", src=str(HERE / "files/collect-inventory.sh"),
              dest="/home/tech/inventory/collect-inventory.sh", user="tech", group="tech", mode="755")
    packages = " ".join(quote(name) for name in plan()["versions"])
    server.shell(name="hd1: pc1's inventory, over ssh", commands=[
        "runuser -u tech -- sh -ec " + quote(
            f"cd /home/tech/inventory && ssh -o BatchMode=yes pc1 sh -s -- {packages} < collect-inventory.sh"
            " > pc1.toml.new && mv pc1.toml.new pc1.toml")])


def message() -> None:
    """On hd1, as tech: the user's message, written on pc1 with sudoedit over ssh."""
    if host.name != "hd1":
        return
    p = plan()
    first = p["user_name"].split()[0]
    text = (f"Objet : ticket #1 - votre demande est traitée\n\nBonjour {first},\n\n"
            "Le problème que vous avez signalé est réparé : j'en ai corrigé la cause sur votre poste, à distance, "
            "et vérifié qu'elle tiendra au prochain redémarrage.\n"
            "Vous n'avez rien à faire. Si le problème revient, rappelez le support en citant le ticket #1.\n\n"
            "Le support informatique\n")
    server.shell(name="hd1: the user's message, over ssh", commands=[
        f"printf '%s' {quote(text)} | runuser -u tech -- ssh -o BatchMode=yes pc1 "
        + quote(f"SUDO_EDITOR=tee sudoedit {p['message']} >/dev/null")])


def reports() -> None:
    """The intervention report (the engine's reference one), tech's."""
    from tspcr_lab.provision.faults import write_reports

    write_reports()
    if host.name == "hd1":
        server.shell(name="hd1: the reports are tech's", commands=["chown -R tech:tech /home/tech/tickets"])
