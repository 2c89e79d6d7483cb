"""The remote-support lab's pure parts: sudo's rights, sshd's effective settings, auth logs, the
inventory and its comparison with a PC's facts, the grader's ssh command line, the message's
subject, and the lab's files holding together (the plan's sudo rights cover every fault's
repair, whose commands the repair check recognises in sudo's log). Outputs recorded on the lab's
hosts (Debian 12: sudo 1.9.13, OpenSSH 9.2, the lab's tl-syslogd)."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tspcr_lab.errors import BrokenWork, ProbeError
from tspcr_lab.faults import load_catalogue
from tspcr_lab.labfile import load_lab, render_placeholders
from tspcr_lab.params import generate
from tspcr_lab.probes.remote_access import (SSH_SAFE, AuthLogProbe, InventoryFacts, SshdSettings, SudoRightsProbe,
                                            TcpConnect, inventory_format_problems, inventory_problems,
                                            normalize_command, parse_auth_log, parse_inventory, parse_sshd_settings,
                                            parse_sudo_rights, password_login_possible, refused_by_authentication,
                                            root_login_possible, ssh_command, ssh_outcome, subject_names_ticket)
from tspcr_lab.transport.base import CommandResult

LAB = Path(__file__).resolve().parents[2] / "labs" / "remote-support"

# -- sudo -ll -U ------------------------------------------------------------------------------

SUDO_PC1 = """Matching Defaults entries for hotline on pc1:
    env_reset, mail_badpass,
    secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin,
    use_pty

User hotline may run the following commands on pc1:

Sudoers entry:
    RunAsUsers: root
    Options: !authenticate
    Commands:
\t/usr/sbin/service
\tsudoedit /etc/tspcr-lab/boot-services
\tsudoedit /etc/profile.d/*
\t/usr/bin/chown damien /home/damien
\tsudoedit /home/damien/message-support.txt
"""

SUDO_MIXED = """Matching Defaults entries for u1 on pc1:
    env_reset, mail_badpass,
    secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin,
    use_pty

User u1 may run the following commands on pc1:

Sudoers entry:
    RunAsUsers: root
    Options: !authenticate
    Commands:
\t/a

Sudoers entry:
    RunAsUsers: root
    Options: authenticate
    Commands:
\t/b

Sudoers entry:
    RunAsUsers: ALL
    RunAsGroups: ALL
    Commands:
\tALL

Sudoers entry:
    RunAsUsers: root
    Commands:
\t!/usr/bin/su
\t/usr/bin/x\\, y

Sudoers entry:
    RunAsUsers: alice, root
    Options: setenv
    Commands:
\t/usr/sbin/service
"""


def test_sudo_rights_of_the_solved_pc1():
    rights = parse_sudo_rights("hotline", SUDO_PC1)
    assert rights.allowed and len(rights.entries) == 1
    entry = rights.entries[0]
    assert entry.runas_users == ("root",) and entry.runas_groups == () and entry.nopasswd
    assert rights.commands() == ["/usr/sbin/service", "sudoedit /etc/tspcr-lab/boot-services", "sudoedit /etc/profile.d/*",
                                 "/usr/bin/chown damien /home/damien", "sudoedit /home/damien/message-support.txt"]


def test_sudo_rights_every_rule_apart():
    rights = parse_sudo_rights("u1", SUDO_MIXED)
    assert [e.commands for e in rights.entries] == [("/a",), ("/b",), ("ALL",), ("!/usr/bin/su", "/usr/bin/x\\, y"),
                                                    ("/usr/sbin/service",)]
    assert [e.nopasswd for e in rights.entries] == [True, False, False, False, False]
    assert rights.entries[2].runas_users == ("ALL",) and rights.entries[2].runas_groups == ("ALL",)
    assert rights.entries[4].runas_users == ("alice", "root") and rights.entries[4].options == ("setenv",)
    assert normalize_command("/usr/bin/x\\, y") == "/usr/bin/x, y"
    assert normalize_command("  /usr/bin/chown   a\\:b  /home/a ") == "/usr/bin/chown a:b /home/a"


def test_sudo_not_allowed_and_garbage():
    rights = parse_sudo_rights("hotline", "User hotline is not allowed to run sudo on bastion.\n")
    assert not rights.allowed and rights.commands() == []
    with pytest.raises(ValueError):
        parse_sudo_rights("hotline", "sudo: unknown user hotline\n")
    probe = SudoRightsProbe("hotline")
    assert probe.command() == "LC_ALL=C sudo -ll -U hotline"
    with pytest.raises(ProbeError):
        probe.evaluate(CommandResult("", 0, "nothing like it", ""))
    with pytest.raises(BrokenWork):  # a sudoers file sudo refuses: the trainee's work
        probe.evaluate(CommandResult("", 1, "", "/etc/sudoers.d/x:1:12: syntax error\n"))


# -- sshd -T -----------------------------------------------------------------------------------

SSHD_SOLVED = """port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam yes
permitrootlogin no
pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication no
permitemptypasswords no
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
authenticationmethods any
"""


def test_sshd_settings_of_the_solved_hosts():
    settings = parse_sshd_settings(SSHD_SOLVED)
    assert settings["listenaddress"] == "[::]:22 0.0.0.0:22"
    assert not password_login_possible(settings) and not root_login_possible(settings)
    with pytest.raises(ValueError):
        parse_sshd_settings("port 22\n")


@pytest.mark.parametrize("changes, password, root", [
    ({"passwordauthentication": "yes"}, True, False),
    ({"kbdinteractiveauthentication": "yes"}, True, False),  # PAM asks the password
    ({"passwordauthentication": "yes", "authenticationmethods": "publickey"}, False, False),
    ({"passwordauthentication": "yes", "authenticationmethods": "publickey,password"}, False, False),  # key AND password
    ({"passwordauthentication": "yes", "authenticationmethods": "publickey password"}, True, False),
    ({"authenticationmethods": "keyboard-interactive:pam"}, False, False),  # the method is off
    ({"permitrootlogin": "prohibit-password"}, False, True),
    ({"permitrootlogin": "without-password"}, False, True),
    ({"permitrootlogin": "forced-commands-only"}, False, True),
    ({"permitrootlogin": "yes", "pubkeyauthentication": "no"}, False, False),  # no method left at all
])
def test_what_sshd_settings_allow(changes, password, root):
    settings = {**parse_sshd_settings(SSHD_SOLVED), **changes}
    assert password_login_possible(settings) is password
    assert root_login_possible(settings) is root


def test_sshd_probe():
    probe = SshdSettings("hotline", "10.74.176.65", "10.74.176.112")
    assert probe.command() == "sshd -T -C user=hotline,host=10.74.176.65,addr=10.74.176.65,laddr=10.74.176.112,lport=22"
    with pytest.raises(BrokenWork, match="Bad configuration option"):
        probe.evaluate(CommandResult("", 255, "", "/etc/ssh/sshd_config: line 3: Bad configuration option: Foo\n"))


# -- auth logs ---------------------------------------------------------------------------------

PC1_LOG = """2026-12-03T16:02:09.938469+00:00 pc1 sshd[483]: Server listening on 0.0.0.0 port 22.
2026-12-03T16:02:20.157592+00:00 pc1 sshd[511]: Invalid user hotline from 172.31.0.254 port 39084
2026-12-03T16:02:21.852880+00:00 pc1 sshd[511]: Failed password for invalid user hotline from 172.31.0.254 port 39084 ssh2
2026-12-03T16:02:22.614096+00:00 pc1 sshd[515]: Accepted password for root from 172.31.0.254 port 39086 ssh2
2026-12-03T16:02:22.616592+00:00 pc1 sshd[515]: pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)
2026-12-03T16:02:22.769880+00:00 pc1 sshd[515]: pam_unix(sshd:session): session closed for user root
2026-12-03T16:07:05.066912+00:00 pc1 useradd[585]: new user: name=hotline, UID=1001, GID=1001, home=/home/hotline, shell=/bin/bash, from=none
2026-12-03T16:07:07.194854+00:00 pc1 sshd[747]: Accepted publickey for hotline from 10.74.176.65 port 57548 ssh2: ED25519 SHA256:nrIfuC3/AHBonYAbIFiAk32TPQ0k0j0Pu/KfNzbPxI0
2026-12-03T16:07:07.195416+00:00 pc1 sshd[747]: pam_unix(sshd:session): session opened for user hotline(uid=1001) by (uid=0)
2026-12-03T16:07:07.255539+00:00 pc1 sudo:  hotline : PWD=/home/hotline ; USER=root ; COMMAND=/usr/bin/chown damien /home/damien
2026-12-03T16:07:07.255871+00:00 pc1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by (uid=1001)
2026-12-03T16:07:07.301805+00:00 pc1 sshd[753]: Disconnected from user hotline 10.74.176.65 port 57548
2026-12-03T16:07:07.303518+00:00 pc1 sshd[747]: pam_unix(sshd:session): session closed for user hotline
2026-12-03T16:07:07.767239+00:00 pc1 sshd[756]: Accepted publickey for hotline from 10.74.176.65 port 57558 ssh2: ED25519 SHA256:nrIfuC3/AHBonYAbIFiAk32TPQ0k0j0Pu/KfNzbPxI0
2026-12-03T16:07:07.829931+00:00 pc1 sudo:  hotline : PWD=/home/hotline ; USER=root ; COMMAND=/usr/bin/tee -- /home/damien/message-support.txt
2026-12-03T16:07:07.836112+00:00 pc1 sshd[756]: pam_unix(sshd:session): session closed for user hotline
2026-12-03T16:07:09.715594+00:00 pc1 sshd[778]: Connection closed by authenticating user hotline 172.31.0.254 port 53804 [preauth]
2026-12-03T16:07:10.598717+00:00 pc1 runuser: pam_unix(runuser:session): session opened for user hotline(uid=1001) by (uid=0)
2026-12-03T16:07:10.609454+00:00 pc1 sudo:  hotline : PWD=/ ; USER=root ; COMMAND=/usr/sbin/service ssh status
2026-12-03T16:07:11.000000+00:00 pc1 sudo:  hotline : command not allowed ; TTY=pts/1 ; PWD=/home/hotline ; USER=root ; COMMAND=/usr/bin/id -u
2026-12-03T16:07:12.000000+00:00 pc1 sudo:  hotline : TTY=pts/1 ; PWD=/home/hotline ; USER=root ; COMMAND=/bin/sh -c echo a ; echo b
"""

BASTION_LOG = """2026-12-03T16:07:06.980802+00:00 bastion sshd[500]: Accepted publickey for hotline from 10.74.176.18 port 39830 ssh2: ED25519 SHA256:nrIf
2026-12-03T16:07:06.983398+00:00 bastion sshd[500]: pam_unix(sshd:session): session opened for user hotline(uid=1000) by (uid=0)
2026-12-03T16:07:07.305151+00:00 bastion sshd[506]: Received disconnect from 10.74.176.18 port 39830:11: disconnected by user
2026-12-03T16:07:07.305222+00:00 bastion sshd[506]: Disconnected from user hotline 10.74.176.18 port 39830
2026-12-03T16:07:07.306452+00:00 bastion sshd[500]: pam_unix(sshd:session): session closed for user hotline
2026-12-03T16:07:09.133062+00:00 bastion sshd[516]: Accepted publickey for hotline from 10.74.176.18 port 39844 ssh2: ED25519 SHA256:nrIf
2026-12-03T16:07:09.469959+00:00 bastion sshd[522]: Disconnected from user hotline 10.74.176.18 port 39844
"""


def test_auth_log_sessions_and_sudo_commands():
    log = parse_auth_log(PC1_LOG)
    assert [(s.user, s.source, s.method) for s in log.sessions] == [
        ("root", "172.31.0.254", "password"), ("hotline", "10.74.176.65", "publickey"), ("hotline", "10.74.176.65", "publickey")]
    root, first, second = log.sessions
    assert root.closed - root.opened == pytest.approx(0.155784, abs=1e-6)
    assert first.closed is not None and second.closed is not None
    allowed = [r.command for r in log.sudo if r.allowed]
    assert allowed == ["/usr/bin/chown damien /home/damien", "/usr/bin/tee -- /home/damien/message-support.txt",
                       "/usr/sbin/service ssh status", "/bin/sh -c echo a ; echo b"]
    refused = [r for r in log.sudo if not r.allowed]
    assert [(r.command, r.reason, r.tty) for r in refused] == [("/usr/bin/id -u", "command not allowed", "pts/1")]
    chown = log.sudo[0]
    assert [s.port for s in log.sessions_at(chown.when, "hotline")] == [57548]
    grader = next(r for r in log.sudo if r.command == "/usr/sbin/service ssh status")
    assert log.sessions_at(grader.when, "hotline") == []  # run by the grader on the console: in no session


def test_bastion_sessions_close_by_disconnect_or_pam():
    log = parse_auth_log(BASTION_LOG)
    assert [(s.port, round(s.closed - s.opened, 3)) for s in log.sessions] == [(39830, 0.324), (39844, 0.337)]


def test_a_session_left_open_ends_at_the_next_boot_and_pids_are_used_again():
    text = ("2026-01-05T10:00:00+00:00 pc1 sshd[700]: Accepted publickey for hd from 10.0.0.1 port 1 ssh2\n"
            "2026-01-05T11:00:00+00:00 pc1 sshd[700]: Accepted publickey for hd from 10.0.0.1 port 2 ssh2\n"
            "2026-01-05T12:00:00+00:00 pc1 sudo:  hd : PWD=/ ; USER=root ; COMMAND=/usr/bin/true\n")
    log = parse_auth_log(text)
    assert log.sessions[0].closed == log.sessions[1].opened and log.sessions[1].closed is None
    assert len(log.sessions_at(log.sudo[0].when, "hd")) == 1
    booted = parse_auth_log(text, boots=[log.sessions[1].opened + 60])
    assert booted.sessions_at(booted.sudo[0].when, "hd") == []  # the PC restarted in between


def test_auth_log_traditional_stamps_and_noise():
    text = ("Mar  2 09:14:03 pc1 sshd[812]: Accepted publickey for hd from 10.1.2.65 port 40112 ssh2: ED25519 x\n"
            "garbage line\n"
            "Mar  2 09:14:04 pc1 sudo:     hd : TTY=pts/0 ; PWD=/home/hd ; USER=root ; COMMAND=/usr/sbin/service cron start\n"
            "Mar  2 09:14:05 pc1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by hd(uid=1001)\n")
    log = parse_auth_log(text, year=2026)
    assert log.lines == 3 and len(log.sessions) == 1
    assert [(r.user, r.command, r.tty) for r in log.sudo] == [("hd", "/usr/sbin/service cron start", "pts/0")]
    assert log.sessions[0].covers(log.sudo[0].when)


def test_auth_log_probe():
    probe = AuthLogProbe()
    assert probe.evaluate(CommandResult("", 3, "1767225600\n  100\n", "")) is None
    log = probe.evaluate(CommandResult("", 0, "1796313000\n 5000\nLOG\n" + PC1_LOG, ""))
    # booted at 1796308000 (16:06:40): the root session of 16:02 had ended anyway
    assert len(log.sessions) == 3 and log.sudo


# -- inventory -----------------------------------------------------------------------------------

INVENTORY = """# inventory of pc1, taken 2026-12-03T15:56:52Z
[system]
hostname = "pc1"
os = "Debian GNU/Linux 12 (bookworm)"
kernel = "6.18.44-fc-v1147"

[hardware]
cpu_model = "AMD EPYC"
cpu_count = 2
memory_mib = 24105
disk_mib = 1024

[[network]]
interface = "eth0"
mac = "02:d6:58:8c:d4:0a"
ipv4 = ["10.74.176.112/26"]

[[network]]
interface = "mgmt0"
mac = "02:68:dd:a0:f1:83"
ipv4 = ["172.31.0.12/24"]

[software]
packages = 303

[software.versions]
nftables = "1.0.6-2+deb12u2"
procps = "2:4.0.2-3"
python3 = "3.11.2-1+b1"
"""

FACTS = {
    "hostname": "pc1", "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.18.44-fc-v1147", "cpu_model": "AMD EPYC",
    "cpu_count": 2, "memory_kib": 24683724, "disk_bytes": 1024 * 2**20,
    "interfaces": {"eth0": {"mac": "02:d6:58:8c:d4:0a", "ipv4": ["10.74.176.112/26"]},
                   "mgmt0": {"mac": "02:68:dd:a0:f1:83", "ipv4": ["172.31.0.12/24"]}},
    "packages": 303, "versions": {"nftables": "1.0.6-2+deb12u2", "procps": "2:4.0.2-3", "python3": "3.11.2-1+b1"},
}
VERSIONS = ["nftables", "procps", "python3"]


def test_the_reference_inventory_matches():
    doc = parse_inventory(INVENTORY)
    assert inventory_format_problems(doc, VERSIONS) == []
    assert inventory_problems(doc, FACTS, "hardware") == [] and inventory_problems(doc, FACTS, "software") == []
    # a single address as a string, without mgmt0, MiB rounded up: as good
    doc["network"] = [{"interface": "eth0", "mac": "02:D6:58:8C:D4:0A", "ipv4": "10.74.176.112/26"}]
    doc["hardware"]["memory_mib"] = 24106
    assert inventory_problems(doc, FACTS, "hardware") == [] and inventory_problems(doc, FACTS, "software") == []


def test_an_inventory_of_another_host_or_with_wrong_values_does_not_match():
    doc = parse_inventory(INVENTORY.replace('hostname = "pc1"', 'hostname = "hd1"')
                          .replace("02:d6:58:8c:d4:0a", "02:aa:bb:cc:dd:ee")
                          .replace("memory_mib = 24105", "memory_mib = 23000")
                          .replace("packages = 303", "packages = 302")
                          .replace('"10.74.176.112/26"', '"10.74.176.18/27"'))
    hardware = {m.where for m in inventory_problems(doc, FACTS, "hardware")}
    software = {m.where for m in inventory_problems(doc, FACTS, "software")}
    assert hardware == {"hardware.memory_mib", "network[eth0].mac"}
    assert software == {"system.hostname", "software.packages", "network[eth0].ipv4"}
    without_eth0 = parse_inventory(INVENTORY)
    without_eth0["network"] = without_eth0["network"][1:]
    assert {m.where for m in inventory_problems(without_eth0, FACTS, "hardware")} == {"network[eth0]"}
    extra = parse_inventory(INVENTORY)
    extra["network"].append({"interface": "wlan0", "mac": "x", "ipv4": []})
    assert {m.where for m in inventory_problems(extra, FACTS, "hardware")} == {"network[wlan0]"}


def test_inventory_format_problems():
    doc = parse_inventory(INVENTORY.replace("cpu_count = 2", 'cpu_count = "2"').replace('kernel = "6.18.44-fc-v1147"\n', "")
                          .replace('python3 = "3.11.2-1+b1"\n', ""))
    assert inventory_format_problems(doc, VERSIONS) == ["system.kernel missing", "hardware.cpu_count is not an integer",
                                                        "software.versions.python3 missing"]
    assert "[[network]] missing (one table per interface)" in inventory_format_problems({}, VERSIONS)
    with pytest.raises(ValueError):
        parse_inventory("hostname = pc1\n")  # a bare word is not TOML


@pytest.mark.skipif(not (sys.platform == "linux" and shutil.which("dpkg-query") and shutil.which("ip")),
                    reason="a Debian machine's tools are needed")
def test_the_reference_script_and_the_graders_facts_agree_on_this_machine():
    """labs/remote-support/files/collect-inventory.sh (the solution's) and InventoryFacts (the
    grader's) read the same machine: both only read, and they must agree."""
    packages = ["python3", "dpkg"]
    script = subprocess.run(["sh", str(LAB / "files" / "collect-inventory.sh"), *packages], capture_output=True,
                            text=True, check=True).stdout
    probe = InventoryFacts(packages)
    facts = probe.process(subprocess.run(["sh", "-c", probe.command()], capture_output=True, text=True,
                                         check=True).stdout)
    doc = parse_inventory(script)
    assert inventory_format_problems(doc, packages) == []
    assert inventory_problems(doc, facts, "hardware", required_interfaces=()) == []
    assert inventory_problems(doc, facts, "software", required_interfaces=()) == []


# -- ssh and TCP -------------------------------------------------------------------------------

def test_the_graders_ssh_writes_nothing_and_replaces_the_users_jump():
    argv = ssh_command("hotline", "pc1", "cat /etc/machine-id", jump=("hotline", "bastion"))
    assert argv[0] == "ssh" and argv[-3:] == ["hotline", "pc1", "cat /etc/machine-id"] and argv[-5:-3] == ["-n", "-l"]
    options = [argv[i + 1] for i, a in enumerate(argv) if a == "-o"]
    for needed in ("BatchMode=yes", "UserKnownHostsFile=/dev/null", "ControlMaster=no", "ControlPath=none",
                   "UpdateHostKeys=no", "PermitLocalCommand=no", "PreferredAuthentications=publickey",
                   "RemoteCommand=none", "KnownHostsCommand=none"):
        assert needed in options
    proxy = next(o for o in options if o.startswith("ProxyCommand="))
    assert proxy.endswith("-W %h:%p -l hotline bastion") and "UserKnownHostsFile=/dev/null" in proxy
    assert "ProxyJump=none" in proxy  # the bastion leg is direct, whatever the user's config says
    assert " -n " not in proxy  # the bastion leg carries the session's stream
    direct = ssh_command("root", "bastion", "true")
    assert "ProxyJump=none" in direct and "ProxyCommand=none" in direct
    assert set(SSH_SAFE) <= set(direct)


def test_ssh_outcomes():
    refused = ssh_outcome(255, "", "Warning: Permanently added 'bastion' (ED25519) to the list of known hosts.\n"
                                   "root@bastion: Permission denied (publickey).\n")
    assert not refused.accepted and refused_by_authentication(refused) and refused.reason.endswith("(publickey).")
    unreachable = ssh_outcome(255, "", "ssh: Could not resolve hostname pc1: Temporary failure in name resolution\n")
    assert not unreachable.accepted and not refused_by_authentication(unreachable)
    ran = ssh_outcome(1, "", "cat: /nope: No such file or directory\n")
    assert ran.accepted and ran.rc == 1


def test_tcp_connect_probe():
    probe = TcpConnect("10.0.0.1", 22)
    assert probe.process("connected\n") is None
    assert probe.process("[Errno 101] Network is unreachable\n") == "[Errno 101] Network is unreachable"
    with pytest.raises(ProbeError):
        probe.process("")


# -- the message -----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, named", [
    ("Objet : ticket #1 - cron réparé", True),
    ("Subject: Ticket n°1 closed", True),
    ("  objet:ticket 1", True),
    ("Objet : ticket #10 - autre", False),
    ("Bonjour, ticket #1", False),
    ("Objet : votre demande", False),
])
def test_subject_names_ticket(line, named):
    assert subject_names_ticket(line, 1) is named


# -- the lab's files hold together -----------------------------------------------------------------

def _allows(entry: str, command: str) -> bool:
    """Whether a sudoers command ``entry`` allows ``command`` (as sudo logs it): a path alone
    allows any arguments, wildcards as fnmatch, sudoedit entries allow an edit of their files."""
    if entry.startswith("sudoedit "):
        edited = command.split(" -- ", 1)[1] if " -- " in command else command.split(" ", 1)[1]
        return fnmatch.fnmatchcase(edited, entry.split(" ", 1)[1])
    path, _, args = entry.partition(" ")
    cmd_path, _, cmd_args = command.partition(" ")
    return path == cmd_path and (not args or fnmatch.fnmatchcase(cmd_args, args))


# How sudo logs each fault's reference repair (recorded on the lab's pc1): every group of the
# fault's repair_commands matches one, and the grader's own sudo command matches none.
LOGGED_REPAIRS = {
    "cron-stopped": ["/usr/sbin/service cron start", "/usr/bin/tee -- /etc/tspcr-lab/boot-services"],
    "profile-path": ["/usr/bin/tee -- /etc/profile.d/apps.sh"],
    "home-owner": ["/usr/bin/chown {user} /home/{user}"],
}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
def test_the_plan_holds_together(seed):
    import re

    lab = load_lab("remote-support")
    given = generate(lab, seed)
    expected, params = given.expected, given.params
    assert generate(lab, seed).expected == expected  # the same seed, the same plan
    catalogue = load_catalogue(lab)
    fault = catalogue.faults[expected["faults"][0]]
    assert set(fault.repair) == {"hd1"} and "ProxyCommand=ssh" in fault.repair["hd1"]  # through the bastion
    logged = [c.replace("{user}", expected["user"]) for c in LOGGED_REPAIRS[fault.id]]
    for command in logged:
        assert any(_allows(e, command) for e in expected["sudo_commands"]), command
    for group in expected["repair_commands"]:
        assert any(re.search(p, c) for p in group for c in logged), group
        assert not any(re.search(p, c) for p in group for c in ("/usr/sbin/service ssh status", "/usr/bin/id -u"))
    # the message's edit is allowed too; id (the forbidden command the check tries) is not
    assert any(_allows(e, f"/usr/bin/tee -- {expected['message']}") for e in expected["sudo_commands"])
    assert not any(_allows(e, "/usr/bin/id -u") for e in expected["sudo_commands"])
    assert any(_allows(e, "/usr/sbin/service ssh status") for e in expected["sudo_commands"])
    # the helpdesk account's home and the user's message are among the catalogue's allowances (as
    # the checks render them for this trainee)
    values = {"params": params, "expected": expected}
    allowed = {host: [render_placeholders(i, values, "allow") for i in catalogue.allowed(host)] for host in ("pc1", "bastion")}
    assert f"/home/{expected['helpdesk']}/" in allowed["pc1"] and f"/home/{expected['helpdesk']}/" in allowed["bastion"]
    assert expected["message"] in allowed["pc1"]
    assert params["helpdesk_password"] != params["root_password"] and "{" not in params["sudo_list"]


def test_every_fault_has_its_repair_commands():
    lab = load_lab("remote-support")
    assert set(lab.settings["repair_commands"]) == set(load_catalogue(lab).faults) == set(LOGGED_REPAIRS)
    allowed = load_catalogue(lab).allowed("pc1")
    assert {"/home/{{ expected.user }}/message-support.txt", "/home/{{ expected.helpdesk }}/"} <= set(allowed)
