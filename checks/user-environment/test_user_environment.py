"""Checks of the user-environment lab: competency 036 (manage the users' environment).

What a user gets is checked the way the user gets it: each session check opens a real login
session as that user (password, terminal, login shell, so /etc/profile and the logon script run)
and looks from inside it: the network-folder link and a write through it, the variables, a tool
run by its name, the banner before the prompt. The skeleton is checked by creating an account with
the real ``useradd -m`` in a private mount namespace, where nothing of it stays. Checks only read:
the write test removes its file and gives the folder its modification time back.
"""

import pytest

from tspcr_lab.errors import CommandTimeout
from tspcr_lab.probes import FileInfo
from tspcr_lab.probes.session import SessionReport, SkeletonTrial

USERS = ["user1", "user2", "user3"]  # slots of params.py: ids never carry a trainee's string
SESSION_TIMEOUT = 8  # seconds: a login session takes well under one second


def open_session(host, slot, expected, check):
    """Log in as the user of ``slot`` in a real session; return (login, session report)."""
    user = expected["users"][slot]
    name = user["name"]
    report = SessionReport(expected["link_name"], user["folder"], expected["tool"])
    try:
        login = host.login(name, user["password"], report.command(), session=True, timeout=SESSION_TIMEOUT)
    except CommandTimeout:
        # Whose fault? If the PC answers the grader at once, the user's session itself hangs: the
        # logon script does not finish (a command that waits or loops). Otherwise: an error.
        host.run("true", timeout=5)
        check.fail(
            fr=f"la session de {name} ne rend pas la main en {SESSION_TIMEOUT} s : le script d'ouverture de session "
               f"ne se termine pas (une commande qui attend ou qui boucle ?)",
            en=f"{name}'s session does not give control back within {SESSION_TIMEOUT} s: the logon script does not "
               f"finish (a command that waits or loops?)",
        )
    check.that(
        login.accepted,
        fr=f"la connexion de {name} avec son mot de passe est refusée ({login.reason}) : "
           f"le compte ne doit pas être modifié, seulement son environnement",
        en=f"{name}'s login with their password is refused ({login.reason}): "
           f"the account must not be changed, only its environment",
    )
    session = report.evaluate(login.result)
    check.that(
        session.complete,
        fr=f"la session de {name} s'arrête avant la fin : un script lu à l'ouverture de session la ferme "
           f"(« exit ») ou lit le clavier (« read ») dans /etc/profile.d ?",
        en=f"{name}'s session stops early: does a script read at login close it ('exit') or read the keyboard "
           f"('read') in /etc/profile.d?",
    )
    return login, session


# -- the logon script ---------------------------------------------------------------------------

@pytest.mark.competency("036", points=1)
def test_logon_script(hosts, expected, check):
    """The logon script is where the parameters say, a regular file every user can read."""
    path = expected["logon_script"]
    info = hosts.pc1.probe(FileInfo, path)
    if not info.exists:
        listing = hosts.pc1.run("ls -1A /etc/profile.d").stdout.split()
        check.fail(
            fr=f"le script d'ouverture de session {path} n'existe pas (contenu de /etc/profile.d : "
               f"{', '.join(listing) or 'rien'}) ; seuls les fichiers en .sh y sont lus",
            en=f"the logon script {path} does not exist (content of /etc/profile.d: "
               f"{', '.join(listing) or 'nothing'}); only files ending in .sh are read there",
        )
    check.equal(info.type, "file", fr=f"type de {path}", en=f"type of {path}")
    check.that(
        info.mode & 0o004,
        fr=f"{path} n'est pas lisible par tous (droits {info.mode:04o}) : le shell de chaque utilisateur doit le lire",
        en=f"{path} is not readable by everybody (mode {info.mode:04o}): every user's shell must read it",
    )


# -- what each user's session shows -------------------------------------------------------------

@pytest.mark.competency("036", points=1)
@pytest.mark.parametrize("slot", USERS)
def test_network_folder(slot, hosts, expected, check):
    """In the user's session, ~/<link> leads to the user's own network folder, and they can write there."""
    _, session = open_session(hosts.pc1, slot, expected, check)
    user, link = expected["users"][slot], expected["link_name"]
    name, folder = user["name"], user["folder"]
    check.that(
        session.link is not None,
        fr=f"pas de lien ~/{link} dans la session de {name} : le dossier réseau n'est pas connecté "
           f"(trouvé : {session.resolved or 'rien'})",
        en=f"no link ~/{link} in {name}'s session: the network folder is not mapped "
           f"(found: {session.resolved or 'nothing'})",
    )
    check.equal(session.resolved, folder, fr=f"dossier où mène ~/{link} pour {name}",
                en=f"folder ~/{link} leads to for {name}")
    check.equal(session.write, "ok", fr=f"écriture de {name} dans son dossier réseau par ~/{link} (ok = réussie)",
                en=f"{name} writing into their network folder through ~/{link} (ok = done)")


@pytest.mark.competency("036", points=1)
@pytest.mark.parametrize("slot", USERS)
def test_variables(slot, hosts, expected, check):
    """In the user's session: COMPANY, SHARE, and the tools folder at the end of the PATH."""
    _, session = open_session(hosts.pc1, slot, expected, check)
    user = expected["users"][slot]
    name, tools = user["name"], expected["tools_dir"]
    check.equal(session.env.get("COMPANY"), expected["company"], fr=f"variable COMPANY dans la session de {name}",
                en=f"variable COMPANY in {name}'s session")
    check.equal(session.env.get("SHARE"), user["folder"], fr=f"variable SHARE dans la session de {name}",
                en=f"variable SHARE in {name}'s session")
    path = session.path
    check.that(
        tools in path,
        fr=f"{tools} n'est pas dans le PATH de la session de {name} (PATH={session.env.get('PATH', '')})",
        en=f"{tools} is not in the PATH of {name}'s session (PATH={session.env.get('PATH', '')})",
    )
    check.that(
        "/usr/bin" in path and path.index(tools) > path.index("/usr/bin"),
        fr=f"{tools} doit être ajouté à la fin du PATH, sans remplacer les dossiers du système (PATH de {name} : "
           f"{session.env.get('PATH', '')})",
        en=f"{tools} must be appended to the PATH, without replacing the system folders ({name}'s PATH: "
           f"{session.env.get('PATH', '')})",
    )
    check.equal(session.tool_output, expected["tool_output"],
                fr=f"ce qu'affiche {expected['tool']} lancé par son nom dans la session de {name}",
                en=f"what {expected['tool']} shows when run by its name in {name}'s session")


@pytest.mark.competency("036", points=2)
def test_banner(hosts, expected, check):
    """The banner appears at login for the group's members, and only for them (a session per user)."""
    banner, group = expected["banner"], expected["group"]
    for slot in USERS:
        login, _ = open_session(hosts.pc1, slot, expected, check)
        user = expected["users"][slot]
        name = user["name"]
        shown = any(banner in line for line in login.greeting.splitlines())
        if user["member"]:
            check.that(
                shown,
                fr=f"le message « {banner} » ne s'affiche pas à l'ouverture de session de {name}, membre de {group}",
                en=f"the message '{banner}' is not shown when {name}, a member of {group}, logs in",
            )
        else:
            check.that(
                not shown,
                fr=f"le message réservé au groupe {group} s'affiche aussi pour {name}, qui n'en est pas membre",
                en=f"the message meant for group {group} is also shown to {name}, who is not a member",
            )


# -- the skeleton of new accounts ---------------------------------------------------------------

@pytest.mark.competency("036", points=2)
def test_skeleton(hosts, expected, check):
    """An account created now with useradd -m receives the file (with its line) and the folder."""
    file, folder, line = expected["skel_file"], expected["skel_dir"], expected["skel_line"]
    account = hosts.pc1.probe(SkeletonTrial, file)
    check.that(
        not account.error,
        fr=f"« useradd -m » ne peut plus créer de compte sur pc1 ({account.error}) : la configuration des nouveaux "
           f"comptes (/etc/login.defs, /etc/default/useradd) est cassée",
        en=f"'useradd -m' can no longer create an account on pc1 ({account.error}): the configuration of new "
           f"accounts (/etc/login.defs, /etc/default/useradd) is broken",
    )
    received = sorted(account.entries)
    entry = account.entries.get(file)
    check.that(
        entry is not None and entry.type == "file",
        fr=f"un compte créé avec « useradd -m » ne reçoit pas le fichier {file} (reçu : {', '.join(received) or 'rien'})",
        en=f"an account created with 'useradd -m' does not get the file {file} (got: {', '.join(received) or 'nothing'})",
    )
    lines = [text.strip() for text in (account.file or "").splitlines()]
    check.that(
        line in lines,
        fr=f"le fichier {file} d'un nouveau compte ne contient pas la ligne « {line} »",
        en=f"a new account's file {file} does not hold the line '{line}'",
    )
    entry = account.entries.get(folder)
    check.that(
        entry is not None and entry.type == "directory",
        fr=f"un compte créé avec « useradd -m » ne reçoit pas le dossier {folder} (reçu : {', '.join(received) or 'rien'})",
        en=f"an account created with 'useradd -m' does not get the folder {folder} (got: {', '.join(received) or 'nothing'})",
    )
