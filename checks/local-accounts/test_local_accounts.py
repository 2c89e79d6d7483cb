"""Checks of the local-accounts lab: competencies 009 (create local user accounts and profiles) and
014 (manage user accounts and profiles).

Accounts are verified by doing: each user logs in over SSH with the password from the parameters
(a new connection, through sshd and PAM, as the user would) and their session is asked for its
groups and profile; the user on leave must be refused; the password quality policy is asked, with
the host's own libpwquality and PAM options, to judge weak and strong candidate passwords. The
account databases, homes and archive are read as further evidence. Checks only read: no password
is changed, no file is written.
"""

import pytest

from tspcr_lab.probes import FileContent, FileInfo, Groups, Users
from tspcr_lab.probes.accounts import (ArchiveFile, ArchiveMembers, Compression, PasswordQualityPolicy, Shadow, UserGroups,
                                      compression_named)

USERS = pytest.mark.parametrize("index", [0, 1, 2], ids=["user1", "user2", "user3"])
CHANGE_REQUIRED = ("change required", "password has expired", "must change")


def _change_required(login) -> bool:
    """The session was refused a command because the password must be changed first."""
    text = (login.result.stderr + login.result.stdout).lower() if login.result else ""
    return login.result is not None and login.result.rc != 0 and any(s in text for s in CHANGE_REQUIRED)


def _opens_a_session(host, login: str, password: str) -> bool:
    """The user logs in with the password and may run a command (a login session would otherwise
    stop at a password change prompt)."""
    attempt = host.login(login, password, "true")
    return attempt.accepted and attempt.result.rc == 0


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines()]


# -- 009: create local user accounts and profiles ----------------------------------------------

@pytest.mark.competency("009", points=1)
@USERS
def test_account(index, hosts, expected, check):
    """The account exists with its full name (GECOS), home directory and login shell."""
    want = expected["users"][index]
    login = want["login"]
    user = hosts.pc1.probe(Users).get(login)
    check.that(user is not None, fr=f"le compte {login} n'existe pas sur pc1", en=f"account {login} does not exist on pc1")
    check.equal(user.gecos.split(",")[0], want["full_name"], fr=f"nom complet (GECOS) de {login}",
                en=f"full name (GECOS) of {login}")
    check.equal(user.home, want["home"], fr=f"dossier personnel de {login}", en=f"home directory of {login}")
    check.equal(user.shell, want["shell"], fr=f"shell de connexion de {login}", en=f"login shell of {login}")


@pytest.mark.competency("009", points=1)
@USERS
def test_groups(index, hosts, expected, check):
    """The user is in exactly the planned security (supplementary) groups: in the account
    database, and in a session they open with their password."""
    want = expected["users"][index]
    login = want["login"]
    pc1 = hosts.pc1
    groups = pc1.probe(Groups)
    missing = [g for g in want["groups"] if g not in groups]
    check.that(not missing, fr=f"groupe(s) de sécurité absent(s) sur pc1 : {', '.join(missing)}",
               en=f"security group(s) missing on pc1: {', '.join(missing)}")
    found = pc1.probe(UserGroups, login)
    check.that(found is not None, fr=f"le compte {login} n'existe pas sur pc1", en=f"account {login} does not exist on pc1")
    check.equal(sorted(found[1:]), sorted(want["groups"]), fr=f"groupes secondaires de {login}",
                en=f"supplementary groups of {login}")
    if login == expected["must_change"]:
        return  # their session only asks for a new password: the account database is the evidence
    session = pc1.login(login, want["password"], "id -Gn")
    if session.accepted and session.result.rc == 0:  # a refused password is test_password's finding
        check.equal(sorted(session.result.stdout.split()), sorted(found),
                    fr=f"groupes d'une session ouverte par {login}", en=f"groups of a session opened by {login}")


@pytest.mark.competency("009", points=2)
@USERS
def test_password(index, hosts, expected, check):
    """The user logs in over SSH with the password from the parameters."""
    want = expected["users"][index]
    login = want["login"]
    pc1 = hosts.pc1
    if login not in pc1.probe(Users):
        check.fail(fr=f"le compte {login} n'existe pas sur pc1", en=f"account {login} does not exist on pc1")
    session = pc1.login(login, want["password"], "id -un")
    check.that(session.accepted,
               fr=f"{login} ne peut pas se connecter avec le mot de passe prévu (connexion refusée : {session.reason})",
               en=f"{login} cannot log in with the planned password (login refused: {session.reason})")
    if login == expected["must_change"] and _change_required(session):
        return  # the password is right; having to change it is what test_must_change wants
    check.that(
        not _change_required(session),
        fr=f"le mot de passe de {login} est accepté mais a expiré : la session exige d'en changer (seul "
           f"{expected['must_change']} doit changer le sien)",
        en=f"{login}'s password is accepted but expired: the session demands a change (only "
           f"{expected['must_change']} must change theirs)",
    )
    check.equal(session.result.stdout.strip(), login, fr=f"utilisateur d'une session ouverte par {login}",
                en=f"user of a session opened by {login}")


@pytest.mark.competency("009", points=1)
def test_skeleton(hosts, expected, check):
    """The profile skeleton holds the line every new account must get."""
    path, line = expected["skel_file"], expected["skel_line"]
    content = hosts.pc1.probe(FileContent, path)
    check.that(content is not None, fr=f"le fichier {path} n'existe pas sur pc1", en=f"file {path} does not exist on pc1")
    check.contains(_lines(content), line, fr=f"lignes de {path}", en=f"lines of {path}")


@pytest.mark.competency("009", points=2)
def test_homes_from_skeleton(hosts, expected, check):
    """Each account's home exists, belongs to them and was made from the skeleton (it holds the
    skeleton's files, the line included, owned by the user); in their own session, the alias works."""
    pc1 = hosts.pc1
    users = pc1.probe(Users)
    line, alias = expected["skel_line"], expected["alias"]
    for want in expected["users"]:
        login, home = want["login"], want["home"]
        info = pc1.probe(FileInfo, home)
        check.that(info.exists and info.type == "directory", fr=f"le dossier personnel {home} n'existe pas",
                   en=f"home directory {home} does not exist")
        check.equal(info.owner, login, fr=f"propriétaire de {home}", en=f"owner of {home}")
        for name in (".profile", ".bashrc"):
            check.that(pc1.probe(FileInfo, f"{home}/{name}").exists,
                       fr=f"{home} n'a pas été créé à partir du profil type : {name} manque",
                       en=f"{home} was not made from the skeleton: {name} is missing")
        aliases = f"{home}/{expected['skel_file'].rsplit('/', 1)[1]}"
        check.contains(_lines(pc1.probe(FileContent, aliases)), line, fr=f"lignes de {aliases}", en=f"lines of {aliases}")
        check.equal(pc1.probe(FileInfo, aliases).owner, login, fr=f"propriétaire de {aliases}", en=f"owner of {aliases}")
        user = users.get(login)
        if login == expected["must_change"] or user is None or user.shell != want["shell"]:
            continue  # no session to open: the shell and the password are other checks' findings
        if not _opens_a_session(pc1, login, want["password"]):
            continue  # a refused or expired password is test_password's finding
        # HISTFILE unset: the session leaves no ~/.bash_history behind (grading changes no file)
        session = pc1.login(login, want["password"], "unset HISTFILE; alias %s", alias, session=True)
        if session.accepted and session.result.rc in (0, 1):
            check.contains(_lines(session.result.stdout), line, fr=f"alias définis dans une session de {login}",
                           en=f"aliases defined in a session of {login}")


@pytest.mark.competency("009", points=1)
def test_homes_private(hosts, expected, check):
    """Each account's home is reachable by its owner only: no rights for others, none for the
    group unless it is the user's own private group (mode bits), and, by doing, no other user of
    the PC (the lab's users and nobody) can enter or list it, whatever mode bits or ACL entries say."""
    pc1 = hosts.pc1
    groups, accounts = pc1.probe(Groups), pc1.probe(Users)
    for want in expected["users"]:
        login, home = want["login"], want["home"]
        info = pc1.probe(FileInfo, home)
        check.that(info.exists, fr=f"le dossier personnel {home} n'existe pas", en=f"home directory {home} does not exist")
        check.that(not info.mode & 0o007, fr=f"{home} est accessible à tous les utilisateurs (mode {info.mode:04o})",
                   en=f"{home} is open to every user (mode {info.mode:04o})")
        own = groups.get(info.group)
        private = info.group == login and own is not None and not [m for m in own.members if m != login]
        check.that(not info.mode & 0o070 or private,
                   fr=f"{home} est accessible au groupe {info.group} (mode {info.mode:04o})",
                   en=f"{home} is open to group {info.group} (mode {info.mode:04o})")
        # By doing, as every other user of the PC: the mode bits above say nothing of an ACL entry
        # that opens the folder to someone (while the group bits only show the ACL's mask).
        for other in [u["login"] for u in expected["users"] if u["login"] != login] + ["nobody"]:
            if other != "nobody" and other not in accounts:
                continue
            probe = pc1.run_as(other, "cd -- %s 2>/dev/null && echo enter; ls -A -- %s >/dev/null 2>&1 && echo list; true",
                               home, home)
            how = probe.stdout.split()
            check.that(not how, fr=f"{other} peut {' et '.join({'enter': 'entrer dans', 'list': 'lister'}[h] for h in how)} "
                                   f"{home} (mode {info.mode:04o})",
                       en=f"{other} can {' and '.join(how)} {home} (mode {info.mode:04o})")


# -- 014: manage user accounts and profiles ----------------------------------------------------

@pytest.mark.competency("014", points=1)
@USERS
def test_password_ageing(index, hosts, expected, check):
    """The password expires after the planned number of days, with the planned warning."""
    login = expected["users"][index]["login"]
    entry = hosts.pc1.probe(Shadow).get(login)
    check.that(entry is not None, fr=f"le compte {login} n'existe pas sur pc1", en=f"account {login} does not exist on pc1")
    check.equal(entry.max_days, expected["max_days"], fr=f"durée de validité maximale du mot de passe de {login} (jours)",
                en=f"maximum password age of {login} (days)")
    check.equal(entry.warn_days, expected["warn_days"], fr=f"avertissement avant expiration pour {login} (jours)",
                en=f"warning before expiry for {login} (days)")


@pytest.mark.competency("014", points=1)
def test_must_change(hosts, expected, check):
    """The designated user must change their password at the next logon: the shadow entry says
    so, and a login with their password is asked for a new one before anything runs."""
    login = expected["must_change"]
    want = next(u for u in expected["users"] if u["login"] == login)
    pc1 = hosts.pc1
    entry = pc1.probe(Shadow).get(login)
    check.that(entry is not None, fr=f"le compte {login} n'existe pas sur pc1", en=f"account {login} does not exist on pc1")
    check.that(entry.last_change == 0,
               fr=f"{login} n'est pas obligé(e) de changer son mot de passe à la prochaine connexion "
                  f"(date du dernier changement : {entry.last_change}, 0 attendu)",
               en=f"{login} is not forced to change their password at the next logon "
                  f"(last change date: {entry.last_change}, 0 expected)")
    session = pc1.login(login, want["password"], "id -un")
    if session.accepted:  # a refused password is test_password's finding
        check.that(_change_required(session),
                   fr=f"{login} se connecte sans devoir changer son mot de passe",
                   en=f"{login} logs in without having to change their password")


@pytest.mark.competency("014", points=2)
def test_complexity_policy(hosts, expected, check):
    """pam_pwquality is in the password stack and enforces the planned minimum length and number
    of character classes (its effective settings: pwquality.conf and the PAM line's options)."""
    policy = hosts.pc1.probe(PasswordQualityPolicy)
    check.that(policy.in_pam, fr="pam_pwquality n'est plus dans /etc/pam.d/common-password : aucune règle ne s'applique",
               en="pam_pwquality is no longer in /etc/pam.d/common-password: no rule applies")
    check.that(policy.config_error is None,
               fr=f"la configuration de pwquality contient une erreur : {policy.config_error}",
               en=f"the pwquality configuration holds an error: {policy.config_error}")
    check.equal(policy.settings.get("minlen"), expected["minlen"], fr="longueur minimale (minlen) appliquée",
                en="minimum length (minlen) applied")
    check.equal(policy.settings.get("minclass"), expected["minclass"], fr="nombre minimal de classes (minclass) appliqué",
                en="minimum number of classes (minclass) applied")
    check.that(policy.settings.get("enforcing", 1) != 0,
               fr="la politique n'est pas imposée (enforcing = 0) : un mot de passe faible n'est qu'un avertissement",
               en="the policy is not enforced (enforcing = 0): a weak password only gives a warning")


@pytest.mark.competency("014", points=2)
def test_weak_passwords_refused(hosts, expected, check):
    """Asked as PAM would ask it, the policy refuses a password one character too short and a
    long one with too few classes, and accepts a long password with every class."""
    candidates = expected["candidates"]
    policy = hosts.pc1.probe(PasswordQualityPolicy, *candidates.values())
    check.that(policy.in_pam, fr="pam_pwquality n'est plus dans /etc/pam.d/common-password : tout mot de passe passe",
               en="pam_pwquality is no longer in /etc/pam.d/common-password: any password goes")
    check.that(policy.settings.get("enforcing", 1) != 0,
               fr="la politique n'est pas imposée (enforcing = 0) : un mot de passe faible est accepté",
               en="the policy is not enforced (enforcing = 0): a weak password is accepted")
    reasons = {
        "too_short": ("trop court", "too short"),
        "too_few_classes": ("pas assez de classes de caractères", "too few character classes"),
    }
    for kind, (fr, en) in reasons.items():
        password = candidates[kind]
        verdict = policy.verdicts[password]
        check.that(not verdict.accepted,
                   fr=f"le mot de passe « {password} » ({len(password)} caractères, {fr}) est accepté : il doit être refusé",
                   en=f"password '{password}' ({len(password)} characters, {en}) is accepted: it must be refused")
    strong = policy.verdicts[candidates["strong"]]
    check.that(strong.accepted,
               fr=f"le mot de passe « {strong.password} » ({len(strong.password)} caractères, 4 classes) est refusé "
                  f"({strong.error}) : la politique est plus stricte que demandé",
               en=f"password '{strong.password}' ({len(strong.password)} characters, 4 classes) is refused "
                  f"({strong.error}): the policy is stricter than asked")


@pytest.mark.competency("014", points=2, critical=True)
def test_disabled_account(hosts, expected, check):
    """The user on leave can no longer log in with their password, because their account is locked
    or expired; the account and their files are kept."""
    want = expected["on_leave"]
    login = want["login"]
    pc1 = hosts.pc1
    check.that(login in pc1.probe(Users),
               fr=f"le compte {login} a été supprimé : il fallait seulement le désactiver",
               en=f"account {login} was deleted: it was only to be disabled")
    path = f"{want['home']}/{want['file']}"
    check.equal(pc1.probe(FileContent, path), want["content"], fr=f"contenu de {path} (fichier de {login} à conserver)",
                en=f"content of {path} ({login}'s file, to be kept)")
    session = pc1.login(login, want["password"], "id -un")
    if session.accepted and session.result.rc != 0:
        check.fail(fr=f"{login} peut encore se connecter avec son mot de passe (sshd l'accepte ; que son shell refuse "
                      f"ensuite la session ne suffit pas : le compte doit être verrouillé ou expiré)",
                   en=f"{login} can still log in with their password (sshd accepts it; that their shell then refuses "
                      f"the session is not enough: the account must be locked or expired)")
    check.that(not session.accepted,
               fr=f"{login} peut encore se connecter avec son mot de passe",
               en=f"{login} can still log in with their password")
    shadow = pc1.probe(Shadow)
    entry = shadow.get(login)
    check.that(entry is not None and (entry.locked or entry.expired_on(shadow.today)),
               fr=f"le compte {login} n'est ni verrouillé (usermod -L) ni expiré (chage -E 0) : la connexion est "
                  "refusée pour une autre raison (mot de passe changé ?)",
               en=f"account {login} is neither locked (usermod -L) nor expired (chage -E 0): the login is refused "
                  "for another reason (password changed?)")


@pytest.mark.competency("014", points=2)
def test_profile_archived(hosts, expected, check):
    """The departing user's whole home (hidden files included) is in the archive, with the same
    content. Sides: what tar lists and extracts (any prefix the members were archived with), and
    the format as well as the content: a compressed tar as asked, compressed the way its name
    says (an uncompressed tar, or bzip2 data, named .tar.gz fails whoever opens it by its name)."""
    path = expected["archive"]
    departing = expected["departing"]
    pc1 = hosts.pc1
    listing = pc1.probe(ArchiveMembers, path)
    check.that(listing.exists, fr=f"l'archive {path} n'existe pas sur pc1", en=f"archive {path} does not exist on pc1")
    check.that(not listing.error, fr=f"{path} n'est pas une archive tar lisible ({listing.error})",
               en=f"{path} is not a readable tar archive ({listing.error})")
    found, named = pc1.probe(Compression, path), compression_named(path)
    check.that(found != "none", fr=f"{path} n'est pas compressée (tar compressé demandé)",
               en=f"{path} is not compressed (a compressed tar was asked for)")
    check.that(named in (None, "none") or found == named,
               fr=f"{path} est compressée en {found}, pas en {named} comme son nom l'annonce",
               en=f"{path} is compressed with {found}, not {named} as its name says")
    missing = [rel for rel in departing["files"] if listing.find(rel) is None]
    check.that(not missing,
               fr=f"fichiers de {departing['home']} absents de l'archive : {', '.join(missing)}",
               en=f"files of {departing['home']} missing from the archive: {', '.join(missing)}")
    for rel, content in departing["files"].items():
        member = listing.find(rel)
        check.equal(pc1.probe(ArchiveFile, path, member), content, fr=f"contenu de {member} dans l'archive",
                    en=f"content of {member} in the archive")


@pytest.mark.competency("014", points=2)
def test_departed_account_removed(hosts, expected, check):
    """The departing user's account and home directory are deleted."""
    departing = expected["departing"]
    login, home = departing["login"], departing["home"]
    pc1 = hosts.pc1
    check.that(login not in pc1.probe(Users), fr=f"le compte {login} existe encore", en=f"account {login} still exists")
    check.that(not pc1.probe(FileInfo, home).exists, fr=f"le dossier personnel {home} existe encore",
               en=f"home directory {home} still exists")
