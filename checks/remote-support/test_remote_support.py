"""Checks of the remote-support lab: competencies 024 (use remote access tools), 025 (technical
research and documentation: the PC's inventory) and 028 (follow-up: report and message).

Judged by doing, from every side: the technician logs in from hd1 with their own key through the
bastion (a real ssh run as ``tech`` on hd1, with tech's keys and SSH configuration, writing
nothing in tech's account); password and root logins are tried for real (with the plan's
passwords, over SSH) and sshd's effective settings for those connections are read (``sshd -T``:
a password that fails only because the account has none is no policy); sudo's rights are read
(``sudo -ll -U``), asked and tried as the account (``sudo -n -l`` of a forbidden command, ``sudo
-n`` of an allowed read-only one: nothing sudo would refuse, which would mail root); the repair's sudo commands are found in pc1's auth log inside a session that came from
the bastion, and that session in the bastion's log coming from hd1 (the grader's own logins come
from the management network and run no sudo: they never count); the inventory is compared with
what pc1 itself says. The user's fault is judged as every troubleshooting lab's
(:mod:`tspcr_lab.troubleshoot`: symptom, cause, collateral damage, intervention report).
"""

import re
import shlex

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import FileContent, FileInfo, Users
from tspcr_lab.probes.remote_access import (AuthLogProbe, InventoryFacts, SshdSettings, SudoRightsProbe, TcpConnect,
                                            inventory_format_problems, inventory_problems, normalize_command,
                                            parse_inventory, password_login_possible, refused_by_authentication,
                                            root_login_possible, ssh_command, ssh_outcome,
                                            subject_names_ticket)
from tspcr_lab.troubleshoot import ticket_checks, ticket_numbers

TICKETS = ticket_numbers("remote-support")
SERVERS = pytest.mark.parametrize("host", ["bastion", "pc1"])
TECH = "tech"  # the technician's account on hd1


def source_of(expected, host: str) -> str:
    """Where the helpdesk account comes from when it logs in to ``host`` along the path."""
    return expected["hd1"] if host == "bastion" else expected["bastion_users"]


def local_of(expected, host: str) -> str:
    return expected["bastion_support"] if host == "bastion" else expected["pc1"]


def tech_ssh(hosts, login: str, target: str, remote: str, jump: tuple[str, str] | None = None):
    """ssh run on hd1 as tech (tech's keys and ~/.ssh/config), nothing written in tech's account."""
    line = " ".join(shlex.quote(a) for a in ssh_command(login, target, remote, jump=jump))
    result = hosts.hd1.run_as(TECH, line, timeout=25)
    if result.rc == 127:
        raise ProbeError(f"hd1: ssh could not be run as {TECH}: {result.stderr.strip()[-200:]}")
    return ssh_outcome(result.rc, result.stdout, result.stderr)


def tech_has_ssh_folder(hosts) -> bool:
    """ssh makes ~/.ssh when it is missing: without it there is no key to try, and nothing is run."""
    return hosts.hd1.probe(FileInfo, f"/home/{TECH}/.ssh").type == "directory"


# -- 024: the access policy -----------------------------------------------------------------------

@pytest.mark.competency("024", points=1)
@SERVERS
def test_helpdesk_account(host, hosts, expected, check):
    """The plan's helpdesk account exists, and is not another root (uid 0)."""
    name = expected["helpdesk"]
    user = hosts[host].probe(Users).get(name)
    check.that(user is not None, fr=f"pas de compte {name} sur {host}", en=f"no account {name} on {host}")
    check.that(user.uid != 0, fr=f"le compte {name} de {host} a l'uid 0 : c'est un autre root",
               en=f"account {name} on {host} has uid 0: it is another root")


@pytest.mark.competency("024", points=3, critical=True)
def test_key_login_through_bastion(hosts, expected, check, note):
    """From hd1, as tech, with tech's own key and no password (BatchMode), a session opens on pc1
    as the helpdesk account through the bastion, and it is pc1's (its machine id)."""
    name = expected["helpdesk"]
    check.that(tech_has_ssh_folder(hosts), fr=f"{TECH} n'a pas de dossier ~/.ssh sur hd1 : pas de paire de clés",
               en=f"{TECH} has no ~/.ssh folder on hd1: no key pair")
    outcome = tech_ssh(hosts, name, "pc1", "cat /etc/machine-id", jump=(name, "bastion"))
    check.that(outcome.accepted,
               fr=f"depuis hd1, ssh -J {name}@bastion {name}@pc1 (clé de {TECH}, sans mot de passe) échoue : {outcome.reason}",
               en=f"from hd1, ssh -J {name}@bastion {name}@pc1 ({TECH}'s key, no password) fails: {outcome.reason}")
    machine_id = (hosts.pc1.probe(FileContent, "/etc/machine-id") or "").strip()
    note("the session's machine id", f"{outcome.output.strip()} (pc1's: {machine_id})")
    check.that(outcome.rc == 0 and outcome.output.strip() == machine_id,
               fr="la session ouverte par le bastion n'est pas celle de pc1 (autre machine ou commande refusée)",
               en="the session opened through the bastion is not pc1's (another host, or the command was refused)")


@pytest.mark.competency("024", points=1)
def test_only_path(hosts, expected, check):
    """pc1's SSH is out of hd1's reach but through the bastion: no direct TCP connection."""
    reason = hosts.hd1.probe(TcpConnect(expected["pc1"], 22))
    check.that(reason is not None,
               fr=f"hd1 joint directement le SSH de pc1 ({expected['pc1']}:22) sans passer par le bastion",
               en=f"hd1 reaches pc1's SSH ({expected['pc1']}:22) directly, not through the bastion")


@pytest.mark.competency("024", points=1)
@SERVERS
def test_password_login_refused(host, hosts, expected, check, note):
    """The helpdesk account cannot log in with a password: a real attempt with the plan's password
    is refused, and sshd's effective settings for the account's connections allow no password-only
    method (PasswordAuthentication, KbdInteractiveAuthentication, AuthenticationMethods)."""
    name = expected["helpdesk"]
    attempt = hosts[host].login(name, expected["helpdesk_password"], "true")
    check.that(not attempt.accepted, fr=f"{name} se connecte en SSH sur {host} avec son mot de passe",
               en=f"{name} logs in over SSH to {host} with their password")
    settings = hosts[host].probe(SshdSettings(name, source_of(expected, host), local_of(expected, host)))
    note("sshd's settings for the account", ", ".join(f"{k} {settings.get(k, '?')}" for k in (
        "passwordauthentication", "kbdinteractiveauthentication", "authenticationmethods")))
    check.that(not password_login_possible(settings),
               fr=f"sshd de {host} accepte encore les mots de passe pour {name} (PasswordAuthentication "
                  f"{settings.get('passwordauthentication')}, KbdInteractiveAuthentication "
                  f"{settings.get('kbdinteractiveauthentication')})",
               en=f"{host}'s sshd still accepts passwords for {name} (PasswordAuthentication "
                  f"{settings.get('passwordauthentication')}, KbdInteractiveAuthentication "
                  f"{settings.get('kbdinteractiveauthentication')})")


@pytest.mark.competency("024", points=1)
@SERVERS
def test_root_login_refused(host, hosts, expected, check, note):
    """Root cannot log in over SSH: a real attempt with the servers' root password is refused, one
    with tech's key from hd1 too (through the bastion for pc1), and sshd's settings say
    PermitRootLogin no."""
    attempt = hosts[host].login("root", expected["root_password"], "true")
    check.that(not attempt.accepted, fr=f"root se connecte en SSH sur {host} avec le mot de passe des serveurs",
               en=f"root logs in over SSH to {host} with the servers' password")
    if tech_has_ssh_folder(hosts):
        jump = None if host == "bastion" else (expected["helpdesk"], "bastion")
        outcome = tech_ssh(hosts, "root", host, "true", jump=jump)
        check.that(not outcome.accepted, fr=f"root se connecte en SSH sur {host} avec la clé de {TECH}",
                   en=f"root logs in over SSH to {host} with {TECH}'s key")
        if not refused_by_authentication(outcome):
            note("root's key login not tried to the end", outcome.reason)
    settings = hosts[host].probe(SshdSettings("root", source_of(expected, host), local_of(expected, host)))
    check.that(not root_login_possible(settings),
               fr=f"sshd de {host} laisse root se connecter (PermitRootLogin {settings.get('permitrootlogin')})",
               en=f"{host}'s sshd lets root log in (PermitRootLogin {settings.get('permitrootlogin')})")


def _sudo_refused(result) -> bool:
    """sudo itself said no (not the command it ran)."""
    return result.rc == 1 and "sudo:" in result.stderr


ALLOWED_PROBE = "/usr/sbin/service ssh status"  # read-only, and in the plan's rights
FORBIDDEN_PROBE = "/usr/bin/id -u"  # read-only, in no plan


@pytest.mark.competency("024", points=2)
@SERVERS
def test_sudo_rights(host, hosts, expected, check, note):
    """The helpdesk account's sudo rights are the plan's, nothing else: none on the bastion; on
    pc1 exactly the plan's commands, as root, without a password. Read in the policy (sudo -ll -U,
    every file, alias and group rule included), then, as the account on pc1, asked and tried: sudo
    says no to a forbidden command (``sudo -n -l id``) and runs an allowed read-only one without a
    password. Nothing is tried that sudo would refuse: a refusal makes sudo mail root (a file in
    the host's mail queue), and the bastion's account, with no rights, tries nothing."""
    name = expected["helpdesk"]
    target = hosts[host]
    check.that(name in target.probe(Users), fr=f"pas de compte {name} sur {host}", en=f"no account {name} on {host}")
    rights = target.probe(SudoRightsProbe(name))
    found = [normalize_command(c) for c in rights.commands()]
    note("sudo rights", "; ".join(f"({', '.join(e.runas_users) or 'root'}) {', '.join(e.options)}: "
                                  f"{', '.join(e.commands)}" for e in rights.entries) or "none")
    if host == "bastion":
        check.that(not found, fr=f"{name} a des droits sudo sur le bastion : {', '.join(found)}",
                   en=f"{name} has sudo rights on the bastion: {', '.join(found)}")
        return
    want = [normalize_command(c) for c in expected["sudo_commands"]]
    missing, extra = [c for c in want if c not in found], sorted({c for c in found if c not in want})
    check.that(not extra, fr=f"droits sudo en trop pour {name} sur pc1 : {', '.join(extra)}",
               en=f"sudo rights beyond the plan for {name} on pc1: {', '.join(extra)}")
    check.that(not missing, fr=f"droits sudo du plan absents pour {name} sur pc1 : {', '.join(missing)}",
               en=f"the plan's sudo rights missing for {name} on pc1: {', '.join(missing)}")
    others = sorted({u for e in rights.entries for u in e.runas_users if u != "root"}
                    | {g for e in rights.entries for g in e.runas_groups})
    check.that(not others, fr=f"{name} peut lancer ces commandes sous d'autres identités que root : {', '.join(others)}",
               en=f"{name} may run those commands as others than root: {', '.join(others)}")
    asking = [c for e in rights.entries if not e.nopasswd for c in e.commands]
    check.that(not asking, fr=f"sudo demande un mot de passe à {name} (pas de NOPASSWD) pour : {', '.join(asking)}",
               en=f"sudo asks {name} for a password (no NOPASSWD) for: {', '.join(asking)}")
    forbidden = target.run_as(name, f"sudo -n -l {FORBIDDEN_PROBE}")
    check.that(forbidden.rc != 0, fr=f"sudo permet à {name} de lancer « id » en root sur pc1 : ses droits dépassent le plan",
               en=f"sudo lets {name} run 'id' as root on pc1: their rights go beyond the plan")
    allowed = target.run_as(name, f"sudo -n {ALLOWED_PROBE}")
    check.that(not _sudo_refused(allowed),
               fr=f"sudo refuse à {name} « service ssh status » sans mot de passe : {allowed.stderr.strip()[-200:]}",
               en=f"sudo refuses {name} 'service ssh status' without a password: {allowed.stderr.strip()[-200:]}")


@pytest.mark.competency("024", points=2)
def test_repair_through_bastion(hosts, expected, check, note):
    """The repair went through the path: pc1's auth log holds the sudo commands of the repair, run
    by the helpdesk account in an SSH session that came from the bastion, and the bastion's log
    holds that account's session from hd1 at the same time (the hosts' own logs: the grader's
    logins come from the management network and run no sudo)."""
    name, bastion, hd1 = expected["helpdesk"], expected["bastion_users"], expected["hd1"]
    pc1_log = hosts.pc1.probe(AuthLogProbe())
    if pc1_log is None:
        raise ProbeError("pc1 keeps no auth log (/var/log/auth.log): the repair's path cannot be judged")
    runs = [r for r in pc1_log.sudo if r.user == name and r.allowed]
    sessions = pc1_log.sessions_of(name)
    note("pc1: the helpdesk account's sessions and sudo commands",
         "\n".join([f"session from {s.source} ({s.method}), {s.opened:.3f} to {s.closed or 'open'}" for s in sessions]
                   + [f"sudo {r.when:.3f}: {r.command}" for r in runs]) or "none")
    through = []
    for group in expected["repair_commands"]:
        matching = [r for r in runs if any(re.search(p, r.command) for p in group)]
        note("what the repair's sudo commands look like", " or ".join(group))
        check.that(matching,
                   fr=f"le journal de pc1 ne montre aucune commande sudo de {name} qui répare la panne : "
                      "la réparation n'a pas été faite avec le compte d'assistance",
                   en=f"pc1's log shows no sudo command of {name} that repairs the fault: "
                      "the repair was not made with the helpdesk account")
        via = [r for r in matching if any(s.source == bastion for s in pc1_log.sessions_at(r.when, name))]
        elsewhere = sorted({s.source for r in matching for s in pc1_log.sessions_at(r.when, name)})
        check.that(via,
                   fr=f"la réparation ({matching[-1].command}) n'a pas été faite dans une session SSH venue du bastion "
                      f"({'sessions venues de ' + ', '.join(elsewhere) if elsewhere else 'hors de toute session SSH : depuis la console ?'})",
                   en=f"the repair ({matching[-1].command}) was not made in an SSH session that came from the bastion "
                      f"({'sessions from ' + ', '.join(elsewhere) if elsewhere else 'outside any SSH session: from the console?'})")
        through += via
    bastion_log = hosts.bastion.probe(AuthLogProbe())
    if bastion_log is None:
        raise ProbeError("the bastion keeps no auth log (/var/log/auth.log): the repair's path cannot be judged")
    seen = [r for r in through if any(s.source == hd1 for s in bastion_log.sessions_at(r.when, name))]
    check.that(seen, fr=f"le journal du bastion ne montre aucune session de {name} venue de hd1 ({hd1}) au moment de la réparation",
               en=f"the bastion's log shows no session of {name} from hd1 ({hd1}) when the repair was made")


# -- 024: the user's fault, and 028: its intervention report -------------------------------------

# symptom, cause, no damage (on the ticket's hosts, elsewhere) and the report: the engine's checks
# of a troubleshooting lab, here all counted for remote support (024) and the report for follow-up (028)
globals().update(ticket_checks("remote-support", "024", cause="024", report="028", report_points=2))


# -- 025: the inventory ---------------------------------------------------------------------------

def _inventory(hosts, expected, check) -> dict:
    path = expected["inventory"]
    text = hosts.hd1.probe(FileContent, path)
    check.that(text is not None and text.strip(), fr=f"pas d'inventaire {path} sur hd1", en=f"no inventory {path} on hd1")
    try:
        return parse_inventory(text)
    except ValueError as exc:
        check.fail(fr=f"{path} n'est pas du TOML valide : {exc}", en=f"{path} is not valid TOML: {exc}")


@pytest.fixture(scope="module")
def pc1_facts(hosts, expected):
    return hosts.pc1.probe(InventoryFacts(expected["versions"]))


@pytest.mark.competency("025", points=1)
def test_inventory_format(hosts, expected, check):
    """The inventory is TOML in the sheet's format: its tables and keys, integers as integers."""
    problems = inventory_format_problems(_inventory(hosts, expected, check), expected["versions"])
    check.that(not problems, fr=f"{expected['inventory']} ne suit pas le format : {'; '.join(problems[:6])}",
               en=f"{expected['inventory']} does not follow the format: {'; '.join(problems[:6])}")


def _judge_inventory(part: str, hosts, expected, facts, check) -> None:
    __tracebackhide__ = True
    wrong = inventory_problems(_inventory(hosts, expected, check), facts, part)
    shown = "; ".join(str(m) for m in wrong[:6]) + (f" (+{len(wrong) - 6})" if len(wrong) > 6 else "")
    check.that(not wrong, fr=f"l'inventaire ne correspond pas à pc1 : {shown}",
               en=f"the inventory does not match pc1: {shown}")


@pytest.mark.competency("025", points=2)
def test_inventory_hardware(hosts, expected, pc1_facts, check):
    """CPU model and count, memory, the root file system's size and each interface's MAC are
    pc1's, as pc1 itself says."""
    _judge_inventory("hardware", hosts, expected, pc1_facts, check)


@pytest.mark.competency("025", points=2)
def test_inventory_software(hosts, expected, pc1_facts, check):
    """Host name, OS, kernel, IPv4 addresses, the number of installed packages and the versions
    asked are pc1's, as pc1 itself says."""
    _judge_inventory("software", hosts, expected, pc1_facts, check)


# -- 028: follow-up -------------------------------------------------------------------------------

@pytest.mark.competency("028", points=2)
def test_message(hosts, expected, check):
    """The message for the user: in the plan's file, a subject line naming their ticket, at least
    three lines of text after it, and the user can read it (read as the user)."""
    path, user = expected["message"], expected["user"]
    text = hosts.pc1.probe(FileContent, path)
    check.that(text is not None and text.strip(), fr=f"pas de message {path} sur pc1", en=f"no message {path} on pc1")
    lines = [line for line in text.splitlines() if line.strip()]
    for number in TICKETS:
        check.that(subject_names_ticket(lines[0], number),
                   fr=f"la première ligne de {path} n'est pas « Objet : ticket #{number} - ... » : {lines[0][:80]!r}",
                   en=f"the first line of {path} is not 'Subject: ticket #{number} - ...': {lines[0][:80]!r}")
    check.that(len(lines) >= 4, fr=f"{path} : moins de trois lignes de texte après l'objet",
               en=f"{path}: fewer than three lines of text after the subject")
    readable = hosts.pc1.run_as(user, "head -c 1 -- %s >/dev/null", path)
    check.that(readable.rc == 0, fr=f"{user} ne peut pas lire {path}", en=f"{user} cannot read {path}")
