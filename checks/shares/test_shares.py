"""Checks of the shares lab: 033 (the centralised file service), 034 (network accounts: users,
groups, security) and 035 (shares and their security).

Access is verified by doing, from pc1 over the office LAN, the way a user's PC does it: one
``smbclient`` session per operation, as each user with their password (passed through the
``PASSWD`` environment variable, never on smbclient's command line), anonymously and as an
unknown user. The server's own view (``testparm -s``, ``pdbedit -L -v``, groups, folders) adds
evidence and names what to fix.

Each behaviour is judged by one competency only, so that one mistake costs points in one place:

* a user's own rights (logs in, reads and writes their department's share, is kept out of the
  other one) are their account's (034): a missing Samba account, a wrong password or a missing
  group membership shows there;
* a share's behaviour is tested with the users whose accounts work and who are really members of
  its group (035): a share that its members cannot write, or that lets others in, shows there.

A share is judged from both sides: under its own name (the named share behaves as asked) and
through every other share that reaches its folder (the same path under another name, a parent
folder, a sub-folder): smbd acts on the folder as the user whatever the share's name, so another
share must not let in whom the named one keeps out. A folder's Unix permissions are judged from
the mode bits (the message) and by doing, as each user on srv1 (``runuser``: what smbd does on
their behalf), so that an ACL entry hidden behind mode bits that look right is seen.

A write test puts a probe file and removes it in the same check (and the folder's modification
time is put back): grading leaves the trainee's files as they were. An SMB server that does not
answer is the trainee's failure (smbd was running when the lab started), and so is an SMB server
that gets no packet through while srv1 answers pc1's ping or a firewall of srv1 or pc1 drops
packets (the trainee's work); a lab network that does not carry packets is an error.
"""

from __future__ import annotations

import secrets

import pytest

from tspcr_lab.errors import InfraError, ProbeError
from tspcr_lab.probes import FileInfo, Groups, ListeningSockets, ServiceAtBoot, Users
from tspcr_lab.probes.system import VIRTUAL_BOOT_SERVICES
from tspcr_lab.probes.samba import SambaAccounts, SambaConfig, SmbClient, SmbShares, split_list

DEPARTMENTS = ["dept1", "dept2"]
USERS = ["user1", "user2", "user3", "user4"]
FOLDERS = ["dept1", "dept2", "docs"]
# The connection failures that say the lab's network (not Samba) is broken.
NETWORK_DOWN = {"NT_STATUS_HOST_UNREACHABLE", "NT_STATUS_NETWORK_UNREACHABLE", "NT_STATUS_IO_TIMEOUT"}


# -- helpers ------------------------------------------------------------------------------------

def smb(hosts, expected, share, commands="ls", user=None, check=None):
    """One smbclient session from pc1 to srv1's ``share``, as ``user`` (a dict with name and
    password) or anonymously; stops the check when no SMB server answers."""
    __tracebackhide__ = True
    if user is None:
        probe = SmbClient(expected["server"], share, commands)
    else:
        probe = SmbClient(expected["server"], share, commands, user["name"], user["password"])
    return from_pc1(hosts, expected, probe, check)


def from_pc1(hosts, expected, probe, check):
    """Run an smbclient probe on pc1. A server that refuses the connection while it is still
    booting (smbd starts after sshd) is waited for, not held against the trainee."""
    __tracebackhide__ = True
    found = hosts.pc1.probe(probe)
    result = found.result if isinstance(probe, SmbShares) else found
    if result.status == "NT_STATUS_CONNECTION_REFUSED" and still_booting(hosts.srv1):
        found = hosts.pc1.probe(probe)
        result = found.result if isinstance(probe, SmbShares) else found
    answered(hosts, result, expected["server"], check)
    return found


def still_booting(host, wait: float = 15) -> bool:
    """True if ``host`` (a virtual host: /run/boot.log) had not finished booting; waits for the end
    of its boot first, and raises InfraError if it does not come."""
    booting = host.run("test -f /run/boot.log && ! grep -qx %s /run/boot.log", "boot complete")
    if not booting.ok:
        return False
    tries = int(wait * 10)
    done = host.run(f"for i in $(seq {tries}); do grep -qx %s /run/boot.log && exit 0; sleep 0.1; done; exit 1",
                    "boot complete", timeout=wait + 5)
    if not done.ok:
        raise InfraError(f"{host.name} has not finished booting after {wait:.0f} s")
    return True


def answered(hosts, result, server, check):
    __tracebackhide__ = True
    if result.answered:
        return
    if result.status in NETWORK_DOWN:
        # No answer at all: the lab's network, or the trainee's work (a firewall on srv1 or pc1)?
        walls = [host.name for host in (hosts.srv1, hosts.pc1) if dropping(host)]
        pinged = hosts.pc1.run("ping -c 1 -W 2 -- %s", server).ok
        if not walls and not pinged:
            raise InfraError(f"pc1 cannot reach srv1 ({server}) on the lab network: {result.status}")
        if walls:
            where = (f"un pare-feu de {' et '.join(walls)} bloque des paquets (nft list ruleset)",
                     f"a firewall of {' and '.join(walls)} drops packets (nft list ruleset)")
        else:
            where = ("srv1 répond pourtant au ping de pc1 : un pare-feu ?", "yet srv1 answers pc1's ping: a firewall?")
        check.fail(fr=f"srv1 ({server}) ne répond pas en SMB à pc1 ({result.status}) : {where[0]}",
                   en=f"srv1 ({server}) does not answer SMB from pc1 ({result.status}): {where[1]}")
    check.fail(
        fr=f"srv1 ({server}) ne répond pas en SMB ({result.status}) : smbd est-il démarré ? (service smbd status)",
        en=f"srv1 ({server}) does not answer SMB ({result.status}): is smbd running? (service smbd status)",
    )


def dropping(host) -> bool:
    """True when ``host`` has an nftables rule or chain policy that drops or rejects packets."""
    rules = host.run("nft list ruleset 2>/dev/null")
    return rules.ok and any(word in ("drop", "drop;", "reject", "reject;") for word in rules.stdout.split())


def why(result) -> str:
    """The NT status of a failed session, else the last line smbclient printed."""
    if result.status:
        return result.status
    lines = result.output.strip().splitlines()
    return lines[-1] if lines else "?"


def samba_config(hosts, check):
    __tracebackhide__ = True
    config = hosts.srv1.probe(SambaConfig)
    check.that(config.loaded, fr=f"Samba ne peut pas lire /etc/samba/smb.conf sur srv1 : {config.error}",
               en=f"Samba cannot load /etc/samba/smb.conf on srv1: {config.error}")
    return config


def members_of(hosts, group: str) -> set[str]:
    """Who really is in ``group`` on srv1: supplementary members and users whose primary group it is."""
    groups = hosts.srv1.probe(Groups)
    if group not in groups:
        return set()
    found = set(groups[group].members)
    found |= {u.name for u in hosts.srv1.probe(Users).values() if u.gid == groups[group].gid}
    return found


def try_write(hosts, expected, share, folder, user, check, inside: str = "") -> bool:
    """Put a probe file on ``share`` (in its sub-folder ``inside``, "" for its top) as ``user``
    and remove it: True when the write was accepted. ``folder`` is where the file lands on srv1:
    it is removed there whatever happens, and the folder's modification time put back."""
    __tracebackhide__ = True
    name = f".tspcr-probe-{secrets.token_hex(4)}.tmp"
    remote = f"{inside}/{name}" if inside else name
    before = hosts.srv1.run("stat -c %s -- %s", "%.9Y", folder)
    try:
        result = smb(hosts, expected, share, f'put /etc/hostname "{remote}"; del "{remote}"', user, check)
        return result.connected and "putting file" in result.output
    finally:
        hosts.srv1.run("rm -f -- %s", f"{folder}/{name}")
        if before.ok and before.stdout.strip():
            hosts.srv1.run("touch -m -d %s -- %s", "@" + before.stdout.strip(), folder)


def reaching(hosts, config, folder: str, own: str) -> list[tuple[str, str, str]]:
    """The shares other than ``own`` that reach ``folder`` on srv1: their path, resolved there
    (``..`` and symbolic links), is the folder, one of its parents, or inside it. Each as (share,
    where the folder is inside the share: "" for its top, the folder where what is put there lands
    on srv1). A share whose path holds a variable (``%U``...) or that has none is left out."""
    others = [share for name, share in sorted(config.shares.items())
              if name.lower() != own.lower() and not share.printable and share.path and "%" not in share.path]
    if not others:
        return []
    paths = [folder] + [share.path for share in others]
    resolved = hosts.srv1.run("realpath -m -- " + " ".join(["%s"] * len(paths)), *paths)
    lines = resolved.stdout.splitlines()
    if resolved.rc != 0 or len(lines) != len(paths):
        raise ProbeError(f"srv1: could not resolve the shares' paths: {resolved.stderr.strip()}")
    target, found = lines[0], []
    for share, real in zip(others, lines[1:]):
        parent = real.rstrip("/") + "/"
        if real == target:
            found.append((share.name, "", target))
        elif target.startswith(parent):
            found.append((share.name, target[len(parent):], target))
        elif real.startswith(target + "/"):
            found.append((share.name, "", real))
    return found


# What a user tries on a folder of srv1 (run as that user). $1 folder, $2 a probe file's name.
TRY_FOLDER = r"""
d=$1; n=$2
if ls -- "$d" >/dev/null 2>&1; then echo list=yes; else echo list=no; fi
if (cd -- "$d") 2>/dev/null; then echo enter=yes; else echo enter=no; fi
if (: > "$d/$n") 2>/dev/null; then echo create=yes; rm -f -- "$d/$n"; else echo create=no; fi
"""
UNIX_OPERATIONS = {"list": ("lister", "list"), "enter": ("entrer dans", "enter"), "create": ("créer un fichier dans", "create a file in")}


def unix_rights(hosts, folder: str, login: str) -> dict[str, bool]:
    """What ``login`` can do on ``folder`` on srv1 (list, enter, create), tried as that user; the
    probe file is removed and the folder's modification time put back. An account that no longer
    exists can do nothing (what the trainee did with it is other checks' business)."""
    name = f".tspcr-probe-{secrets.token_hex(4)}.tmp"
    before = hosts.srv1.run("stat -c %s -- %s", "%.9Y", folder)
    try:
        result = hosts.srv1.run_as(login, "sh -c %s sh %s %s", TRY_FOLDER, folder, name)
    finally:
        hosts.srv1.run("rm -f -- %s", f"{folder}/{name}")
        if before.ok and before.stdout.strip():
            hosts.srv1.run("touch -m -d %s -- %s", "@" + before.stdout.strip(), folder)
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.count("=") == 1)
    if not found and hosts.srv1.run("id -u -- %s", login).rc != 0:
        return dict.fromkeys(UNIX_OPERATIONS, False)
    if set(found) != set(UNIX_OPERATIONS) or not set(found.values()) <= {"yes", "no"}:
        raise ProbeError(f"srv1: no outcome of the access test as {login}: {result.stderr.strip()[-200:]}")
    return {op: value == "yes" for op, value in found.items()}


def share_path(config, share: str, fallback: str) -> str:
    found = config.share(share)
    return found.path if found is not None and found.path else fallback


# -- 033: the centralised file service ----------------------------------------------------------

@pytest.mark.competency("033", points=2, critical=True)
def test_smb_service(hosts, expected, check):
    """smbd listens on srv1, starts at boot, and offers the expected shares (and not the temporary
    one) to a user who logs in from pc1.

    "Starts at boot" is judged the way the host boots (:class:`ServiceAtBoot`): on a virtual lab
    host, /etc/tspcr-lab/boot-services lists smbd (that file is how such a host starts its
    services); on a real Debian station, smbd is enabled in systemd (``systemctl is-enabled smbd``,
    not masked) or by sysvinit links (``/etc/rc2.d/S??smbd``, ``update-rc.d smbd enable``)."""
    still_booting(hosts.srv1)  # just rebooted: smbd starts after sshd
    listening = hosts.srv1.probe(ListeningSockets)
    check.that(any(s.proto == "tcp" and s.port == 445 for s in listening),
               fr="srv1 n'écoute pas sur le port TCP 445 (SMB) : smbd n'est pas démarré (service smbd start)",
               en="srv1 does not listen on TCP port 445 (SMB): smbd is not running (service smbd start)")
    boot = hosts.srv1.probe(ServiceAtBoot, "smbd")
    if boot.virtual:
        check.that(boot.enabled, fr=f"smbd n'est plus lancé au démarrage de srv1 ({VIRTUAL_BOOT_SERVICES} ne le cite plus)",
                   en=f"smbd is no longer started at srv1's boot ({VIRTUAL_BOOT_SERVICES} no longer lists it)")
    else:
        check.that(boot.enabled, fr=f"smbd ne démarrera pas avec srv1 ({boot.evidence()}) : systemctl enable smbd",
                   en=f"smbd will not start when srv1 boots ({boot.evidence()}): systemctl enable smbd")
    server = expected["server"]
    listing = None
    for slot in USERS:
        user = expected["users"][slot]
        listing = from_pc1(hosts, expected, SmbShares(server, user["name"], user["password"]), check)
        if listing.result.ok:
            break
    check.that(listing.result.ok,
               fr=f"aucun membre du personnel ne peut lister les partages de srv1 depuis pc1 ({why(listing.result)})",
               en=f"no staff member can list srv1's shares from pc1 ({why(listing.result)})")
    wanted = sorted([d["share"] for d in expected["departments"].values()] + [expected["docs"]["share"]])
    found = {name.lower() for name in listing.disk_shares}
    missing = ", ".join(name for name in wanted if name.lower() not in found)
    check.that(not missing, fr=f"srv1 ne propose pas ces partages à pc1 : {missing} (smbclient -L)",
               en=f"srv1 does not offer these shares to pc1: {missing} (smbclient -L)")
    legacy = expected["legacy"]["share"]
    check.that(legacy.lower() not in found,
               fr=f"le partage provisoire « {legacy} » est toujours proposé par srv1",
               en=f"the temporary share '{legacy}' is still offered by srv1")


@pytest.mark.competency("033", points=1)
def test_workgroup(hosts, expected, check):
    """The server's workgroup is the company's."""
    config = samba_config(hosts, check)
    check.equal((config.option("workgroup") or "").upper(), expected["workgroup"],
                fr="groupe de travail (workgroup) de srv1", en="srv1's workgroup")


# -- 034: network accounts ----------------------------------------------------------------------

@pytest.mark.competency("034", points=1)
@pytest.mark.parametrize("dept", DEPARTMENTS)
def test_groups(dept, hosts, expected, check):
    """The department's group exists on srv1 with exactly its members."""
    department = expected["departments"][dept]
    group = department["group"]
    check.that(group in hosts.srv1.probe(Groups), fr=f"le groupe {group} n'existe pas sur srv1",
               en=f"group {group} does not exist on srv1")
    check.equal(sorted(members_of(hosts, group)), sorted(department["members"]),
                fr=f"membres du groupe {group} sur srv1", en=f"members of group {group} on srv1")


@pytest.mark.competency("034", points=1)
def test_samba_accounts(hosts, expected, check):
    """Every staff member has a Samba account (pdbedit), enabled."""
    accounts = hosts.srv1.probe(SambaAccounts)
    names = [u["name"] for u in expected["users"].values()]
    missing = ", ".join(n for n in names if n not in accounts)
    check.that(not missing, fr=f"pas de compte Samba sur srv1 pour : {missing} (pdbedit -L)",
               en=f"no Samba account on srv1 for: {missing} (pdbedit -L)")
    disabled = ", ".join(n for n in names if accounts[n].disabled)
    check.that(not disabled, fr=f"comptes Samba désactivés à tort : {disabled}",
               en=f"Samba accounts wrongly disabled: {disabled}")


@pytest.mark.competency("034", points=2)
@pytest.mark.parametrize("slot", USERS)
def test_user_access(slot, hosts, expected, check):
    """From pc1, the user logs in with their password, reads and writes their department's share,
    and is kept out of the other department's share."""
    user = expected["users"][slot]
    name = user["name"]
    own = expected["departments"][user["department"]]
    other = next(d for key, d in expected["departments"].items() if key != user["department"])
    result = smb(hosts, expected, own["share"], "ls", user, check)
    if not result.ok:
        # Say why, from the server's side: an account missing (a guest session then), a share
        # missing, a group membership missing.
        check.that(name in hosts.srv1.probe(SambaAccounts),
                   fr=f"{name} n'a pas de compte Samba sur srv1 (smbpasswd -a) : connexion refusée ({why(result)})",
                   en=f"{name} has no Samba account on srv1 (smbpasswd -a): access refused ({why(result)})")
    if result.stage == "session":
        check.fail(fr=f"{name} ne peut pas se connecter avec son mot de passe ({result.status})",
                   en=f"{name} cannot log in with their password ({result.status})")
    if result.stage == "tree":
        check.that(result.status != "NT_STATUS_BAD_NETWORK_NAME",
                   fr=f"le partage {own['share']} de {name} n'existe pas sur srv1",
                   en=f"{name}'s share {own['share']} does not exist on srv1")
        check.that(name in members_of(hosts, own["group"]),
                   fr=f"{name} est refusé sur le partage {own['share']} ({result.status}) : "
                      f"il n'est pas membre du groupe {own['group']}",
                   en=f"{name} is refused on share {own['share']} ({result.status}): "
                      f"they are not a member of group {own['group']}")
        check.fail(fr=f"{name} est refusé sur le partage de son service {own['share']} ({result.status})",
                   en=f"{name} is refused on their department's share {own['share']} ({result.status})")
    check.that(result.ok, fr=f"{name} ne peut pas lire le partage {own['share']} ({why(result)})",
               en=f"{name} cannot read share {own['share']} ({why(result)})")
    config = samba_config(hosts, check)
    wrote = try_write(hosts, expected, own["share"], share_path(config, own["share"], own["path"]), user, check)
    check.that(wrote or name in members_of(hosts, own["group"]),
               fr=f"{name} ne peut pas écrire dans {own['share']} : il n'est pas membre du groupe {own['group']}",
               en=f"{name} cannot write to {own['share']}: they are not a member of group {own['group']}")
    check.that(wrote, fr=f"{name} ne peut pas écrire dans le partage de son service {own['share']}",
               en=f"{name} cannot write to their department's share {own['share']}")
    intrusion = smb(hosts, expected, other["share"], "ls", user, check)
    check.that(not intrusion.connected,
               fr=f"{name} entre dans le partage {other['share']} d'un autre service",
               en=f"{name} gets into share {other['share']} of another department")


@pytest.mark.competency("034", points=2)
def test_disabled_account(hosts, expected, check):
    """The former employee's account still exists, disabled: their password no longer opens a session."""
    departed = expected["departed"]
    name = departed["name"]
    accounts = hosts.srv1.probe(SambaAccounts)
    check.that(name in accounts, fr=f"le compte Samba de {name} a été supprimé : il fallait le désactiver (smbpasswd -d)",
               en=f"{name}'s Samba account was deleted: it had to be disabled (smbpasswd -d)")
    check.that(accounts[name].disabled, fr=f"le compte Samba de {name} n'est pas désactivé (pdbedit : pas d'indicateur D)",
               en=f"{name}'s Samba account is not disabled (pdbedit: no D flag)")
    listing = from_pc1(hosts, expected, SmbShares(expected["server"], name, departed["password"]), check)
    check.that(listing.result.stage == "session",
               fr=f"{name} ouvre encore une session sur srv1 avec son mot de passe",
               en=f"{name} still opens a session on srv1 with their password")


# -- 035: shares --------------------------------------------------------------------------------

@pytest.mark.competency("035", points=2)
@pytest.mark.parametrize("dept", DEPARTMENTS)
def test_department_share(dept, hosts, expected, check):
    """The department's share is its folder, writable by the group's members who can log in, and
    refused to everybody else: under its own name, and through any other share that reaches the
    folder (same path, a parent, a sub-folder: an outsider must not list it there)."""
    department = expected["departments"][dept]
    share_name = department["share"]
    config = samba_config(hosts, check)
    share = config.share(share_name)
    check.that(share is not None, fr=f"le partage {share_name} n'existe pas sur srv1 (testparm -s)",
               en=f"share {share_name} does not exist on srv1 (testparm -s)")
    check.equal((share.path or "").rstrip("/"), department["path"], fr=f"dossier du partage {share_name}",
                en=f"folder of share {share_name}")
    check.that(not share.read_only, fr=f"le partage {share_name} est en lecture seule (read only = yes)",
               en=f"share {share_name} is read-only (read only = yes)")
    members = members_of(hosts, department["group"])
    tested = []
    for user in expected["users"].values():
        if user["department"] != dept or user["name"] not in members:
            continue
        result = smb(hosts, expected, share_name, "ls", user, check)
        if result.stage == "session":
            continue  # the account does not work: test_user_access says so
        check.that(result.ok, fr=f"{user['name']}, membre de {department['group']}, est refusé sur {share_name} ({why(result)})",
                   en=f"{user['name']}, member of {department['group']}, is refused on {share_name} ({why(result)})")
        check.that(try_write(hosts, expected, share_name, share.path, user, check),
                   fr=f"{user['name']}, membre de {department['group']}, ne peut pas écrire dans {share_name}",
                   en=f"{user['name']}, member of {department['group']}, cannot write to {share_name}")
        tested.append(user["name"])
    check.that(tested, fr=f"aucun membre du groupe {department['group']} ne peut se connecter pour tester {share_name}",
               en=f"no member of group {department['group']} can log in to test {share_name}")
    outsiders = [user for user in expected["users"].values() if user["department"] != dept]
    for user in outsiders:
        result = smb(hosts, expected, share_name, "ls", user, check)
        check.that(not result.connected, fr=f"{user['name']}, d'un autre service, entre dans le partage {share_name}",
                   en=f"{user['name']}, from another department, gets into share {share_name}")
    # The other side: another share that reaches the folder must not open it to them either.
    for alias, inside, _ in reaching(hosts, config, department["path"], share_name):
        listing = f'ls "{inside}/*"' if inside else "ls"
        for user in outsiders:
            result = smb(hosts, expected, alias, listing, user, check)
            check.that(not result.ok,
                       fr=f"{user['name']}, d'un autre service, lit le dossier {department['path']} par le partage {alias}",
                       en=f"{user['name']}, from another department, reads folder {department['path']} through share {alias}")


@pytest.mark.competency("035", points=1)
@pytest.mark.parametrize("folder", FOLDERS)
def test_directory_permissions(folder, hosts, expected, check):
    """The share's folder belongs to the right group, with Unix permissions that match the share:
    the mode bits, and by doing as each account that is not in the group (runuser on srv1, as smbd
    acts for them): a department's folder cannot be listed, entered or written by them, the
    read-only share's folder not written (an ACL entry does not show in the mode bits)."""
    want = expected["docs"] if folder == "docs" else expected["departments"][folder]
    path, group = want["path"], want["group"]
    info = hosts.srv1.probe(FileInfo, path)
    check.that(info.exists and info.type == "directory", fr=f"le dossier {path} n'existe pas sur srv1",
               en=f"folder {path} does not exist on srv1")
    check.equal(info.group, group, fr=f"groupe propriétaire de {path}", en=f"group owner of {path}")
    mode = f"{info.mode & 0o777:03o}"
    check.that(info.mode & 0o070 == 0o070,
               fr=f"le groupe {group} doit avoir tous les droits (rwx) sur {path} : droits trouvés {mode}",
               en=f"group {group} must have full rights (rwx) on {path}: found mode {mode}")
    if folder == "docs":
        check.that(info.mode & 0o007 == 0o005,
                   fr=f"{path} doit être lisible mais pas modifiable par les autres (r-x) : droits trouvés {mode}",
                   en=f"{path} must be readable but not writable by others (r-x): found mode {mode}")
    else:
        check.that(info.mode & 0o007 == 0,
                   fr=f"les autres utilisateurs ne doivent avoir aucun droit sur {path} : droits trouvés {mode}",
                   en=f"other users must have no rights on {path}: found mode {mode}")
    # The other side, by doing: the mode bits do not show a named ACL entry (the group bits are
    # then the ACL's mask). Each account that really is not in the group tries the folder.
    members = members_of(hosts, group)
    others = [u["name"] for u in expected["users"].values()] + [expected["departed"]["name"]]
    denied = ["create"] if folder == "docs" else ["list", "enter", "create"]
    opened = []  # (fr, en) per account that gets a right it must not have
    for login in [name for name in others if name not in members]:
        rights = unix_rights(hosts, path, login)
        allowed = [op for op in denied if rights[op]]
        if allowed:
            opened.append((f"{login} peut {', '.join(UNIX_OPERATIONS[op][0] for op in allowed)} {path}",
                           f"{login} can {', '.join(UNIX_OPERATIONS[op][1] for op in allowed)} {path}"))
    check.that(not opened,
               fr=f"sur srv1, hors du groupe {group} : {' ; '.join(fr for fr, _ in opened)} "
                  f"(droits trouvés {mode} : une entrée ACL ? getfacl {path})",
               en=f"on srv1, outside group {group}: {'; '.join(en for _, en in opened)} "
                  f"(found mode {mode}: an ACL entry? getfacl {path})")


@pytest.mark.competency("035", points=2)
def test_readonly_share(hosts, expected, check):
    """The read-only share is read by every staff member who can log in; nobody writes to it: under
    its own name, nor through any other share that reaches its folder (same path, a parent, a
    sub-folder)."""
    docs = expected["docs"]
    config = samba_config(hosts, check)
    share = config.share(docs["share"])
    check.that(share is not None, fr=f"le partage {docs['share']} n'existe pas sur srv1 (testparm -s)",
               en=f"share {docs['share']} does not exist on srv1 (testparm -s)")
    check.equal((share.path or "").rstrip("/"), docs["path"], fr=f"dossier du partage {docs['share']}",
                en=f"folder of share {docs['share']}")
    writers = split_list(share.get("write list"))
    check.that(share.read_only and not writers,
               fr=f"le partage {docs['share']} doit être en lecture seule (read only = yes, sans write list)",
               en=f"share {docs['share']} must be read-only (read only = yes, no write list)")
    tested = []
    for user in expected["users"].values():
        result = smb(hosts, expected, docs["share"], "ls", user, check)
        if result.stage == "session":
            continue  # the account does not work: test_user_access says so
        check.that(result.ok, fr=f"{user['name']} ne peut pas lire le partage {docs['share']} ({why(result)})",
                   en=f"{user['name']} cannot read share {docs['share']} ({why(result)})")
        check.that(not try_write(hosts, expected, docs["share"], share.path, user, check),
                   fr=f"{user['name']} peut écrire dans le partage en lecture seule {docs['share']}",
                   en=f"{user['name']} can write to the read-only share {docs['share']}")
        tested.append(user["name"])
    check.that(tested, fr=f"aucun membre du personnel ne peut se connecter pour tester {docs['share']}",
               en=f"no staff member can log in to test {docs['share']}")
    # The other side: nobody writes to the folder through another share that reaches it either.
    for alias, inside, landing in reaching(hosts, config, docs["path"], docs["share"]):
        for user in expected["users"].values():
            check.that(not try_write(hosts, expected, alias, landing, user, check, inside=inside),
                       fr=f"{user['name']} écrit dans le dossier {docs['path']} par le partage {alias}",
                       en=f"{user['name']} writes to folder {docs['path']} through share {alias}")


@pytest.mark.competency("035", points=2, critical=True)
def test_no_guest_access(hosts, expected, check):
    """No share lets anybody in anonymously or as a guest (an unknown user name); the configuration
    says so too (map to guest = never, no guest ok), and the temporary open share is gone."""
    config = samba_config(hosts, check)
    legacy = expected["legacy"]["share"]
    check.that(config.share(legacy) is None, fr=f"le partage provisoire « {legacy} » existe toujours dans smb.conf",
               en=f"the temporary share '{legacy}' is still in smb.conf")
    check.equal((config.option("map to guest") or "").lower(), "never", fr="map to guest (section [global])",
                en="map to guest ([global] section)")
    guests = sorted(name for name, share in config.shares.items() if share.guest_ok)
    check.equal(guests, [], fr="partages ouverts aux invités (guest ok = yes)", en="shares open to guests (guest ok = yes)")
    shares = {d["share"] for d in expected["departments"].values()} | {expected["docs"]["share"], legacy}
    shares |= {name for name, share in config.shares.items() if not share.printable}
    stranger = {"name": f"visiteur{secrets.randbelow(10**6)}", "password": secrets.token_urlsafe(9)}
    for share in sorted(shares):
        for user in (None, stranger):
            result = smb(hosts, expected, share, "ls", user, check)
            check.that(not result.connected,
                       fr=f"le partage {share} accepte une connexion {'anonyme' if user is None else 'invité (utilisateur inconnu)'}",
                       en=f"share {share} accepts an {'anonymous' if user is None else 'guest (unknown user)'} connection")
