"""Checks of the user-environment lab: competency 036 (manage the users' environment).

What a user gets is checked the way the user gets it: each session check opens a real login
session as that user (password, terminal, login shell, so /etc/profile and the logon script run)
and looks from inside it: the network-folder link and a write through it, the variables, a tool
run by its name, the banner before the prompt. The instructions say "at each login" and name
``su - <user>`` too: the link and the variables are also judged in a login shell without a
terminal (``su - USER -c``, :class:`LoginTrial`), where a script read only by interactive shells
(~/.bashrc, /etc/bash.bashrc, a ``case $- in *i*`` guard) does nothing; and the link from every
state it may be in before a login (missing, pointing elsewhere, already right: created, repaired,
left alone). Those logins run on throw-away copies of the home and the network folder. The
banner is judged by membership, not names: on a private copy of /etc where a member leaves the
group and the other user joins it (:class:`MembershipTrial`). The skeleton is checked by creating an account with the real ``useradd -m`` in a private mount
namespace, where nothing of it stays. Checks only read: the write test removes its file and gives
the folder its modification time back.
"""

import pytest

from tspcr_lab.errors import CommandTimeout
from tspcr_lab.probes import FileInfo
from tspcr_lab.probes.session import LoginTrial, MembershipTrial, SessionReport, SkeletonTrial

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


def login_trial(host, slot, expected, states=LoginTrial.STATES):
    """Log the user of ``slot`` in with ``su - USER -c`` (a login shell without a terminal) once per
    state of the link before the login, on copies of their home and folder: {state: TrialLogin}."""
    user = expected["users"][slot]
    return host.probe(LoginTrial, user["name"], user["home"], expected["link_name"], user["folder"],
                      expected["tool"], expected["share_root"], states=states)


NO_TERMINAL = {"fr": "dans une session sans terminal de {name} (su - {name} -c ...)",
               "en": "in a session of {name} without a terminal (su - {name} -c ...)"}


def trial_session(trial, state, name, check):
    """The session of one login of a trial; a failure when it did not finish or was cut short."""
    check.that(trial, fr=f"{name} n'a pas de dossier personnel : aucune session ne peut s'y ouvrir",
               en=f"{name} has no home folder: no session can open there")
    login = trial[state]
    where = {lang: text.format(name=name) for lang, text in NO_TERMINAL.items()}
    check.that(not login.timed_out,
               fr=f"la connexion de {name} sans terminal (su - {name} -c ...) ne rend pas la main : le script "
                  f"d'ouverture de session attend ou boucle quand il n'y a pas de terminal",
               en=f"{name}'s login without a terminal (su - {name} -c ...) does not give control back: the logon "
                  f"script waits or loops when there is no terminal")
    check.that(login.session.complete,
               fr=f"la session de {name} sans terminal (su - {name} -c ...) s'arrête avant la fin : un script lu à "
                  f"l'ouverture de session la ferme (« exit ») ?",
               en=f"{name}'s session without a terminal (su - {name} -c ...) stops early: does a script read at "
                  f"login close it ('exit')?")
    return login, where


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

BEFORE = {  # the state of the link before a login of the trial, said in each language
    "missing": {"fr": "le lien n'existant pas avant", "en": "the link missing before"},
    "elsewhere": {"fr": "le lien pointant ailleurs avant ({elsewhere})", "en": "the link pointing elsewhere before ({elsewhere})"},
    "right": {"fr": "le lien étant déjà correct avant", "en": "the link already right before"},
}

MUST = {  # what the logon script must do from that state
    "missing": {"fr": "à chaque ouverture de session, avec ou sans terminal, le script doit créer le lien qui manque",
                "en": "at every login, with or without a terminal, the script must make the missing link"},
    "elsewhere": {"fr": "le script doit corriger un lien qui pointe ailleurs", "en": "the script must fix a link that points elsewhere"},
    "right": {"fr": "un lien déjà correct doit rester tel quel", "en": "a link already right must stay as it is"},
}


@pytest.mark.competency("036", points=1)
@pytest.mark.parametrize("slot", USERS)
def test_network_folder(slot, hosts, expected, check):
    """~/<link> leads to the user's own network folder, and they can write there through it.

    Sides covered: the user's interactive session (ssh with a terminal, on the real home); a login
    shell without a terminal (``su - USER -c``) from each state the link may be in before a login:
    missing (created), pointing elsewhere (repaired), already right (left as it is: not recreated,
    nothing created inside the folder), on copies of the home and the folder."""
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
    trial = login_trial(hosts.pc1, slot, expected)
    for state in LoginTrial.STATES:
        login, _ = trial_session(trial, state, name, check)
        before = {lang: text.format(elsewhere=expected["share_root"]) for lang, text in BEFORE[state].items()}
        check.equal(login.session.resolved, folder,
                    fr=f"dossier où mène ~/{link} après une connexion de {name} sans terminal (su - {name} -c ...), "
                       f"{before['fr']} : {MUST[state]['fr']}",
                    en=f"folder ~/{link} leads to after {name} logs in without a terminal (su - {name} -c ...), "
                       f"{before['en']}: {MUST[state]['en']}")
        check.that(
            not login.added,
            fr=f"une connexion de {name} (su - {name} -c ..., {before['fr']}) a créé {', '.join(login.added)} dans son "
               f"dossier réseau {folder} (« ln -s » sur un lien qui existe déjà crée un lien dans le dossier ?)",
            en=f"a login of {name} (su - {name} -c ..., {before['en']}) created {', '.join(login.added)} in their "
               f"network folder {folder} ('ln -s' over a link that exists makes a link inside the folder?)",
        )
        if state == "right":
            check.that(
                login.kept,
                fr=f"~/{link} menait déjà au dossier de {name} et sa connexion l'a recréé : le script ne doit le créer "
                   f"que s'il manque ou pointe ailleurs, pas à chaque ouverture de session",
                en=f"~/{link} already led to {name}'s folder and their login recreated it: the script must create it "
                   f"only when it is missing or points elsewhere, not at every login",
            )


def judge_variables(session, expected, slot, where, check):
    """COMPANY, SHARE, the tools folder at the end of the PATH and the tool run by its name in one
    session; ``where`` says which session ({lang: "in X's session"})."""
    user = expected["users"][slot]
    tools, path_text = expected["tools_dir"], session.env.get("PATH", "")
    check.equal(session.env.get("COMPANY"), expected["company"], fr=f"variable COMPANY {where['fr']}",
                en=f"variable COMPANY {where['en']}")
    check.equal(session.env.get("SHARE"), user["folder"], fr=f"variable SHARE {where['fr']}",
                en=f"variable SHARE {where['en']}")
    path = session.path
    check.that(
        tools in path,
        fr=f"{tools} absent du PATH {where['fr']} (PATH={path_text})",
        en=f"{tools} missing from the PATH {where['en']} (PATH={path_text})",
    )
    check.that(
        "/usr/bin" in path and path.index(tools) > path.index("/usr/bin"),
        fr=f"{tools} doit être ajouté à la fin du PATH, sans remplacer les dossiers du système (PATH {where['fr']} : "
           f"{path_text})",
        en=f"{tools} must be appended to the PATH, without replacing the system folders (PATH {where['en']}: "
           f"{path_text})",
    )
    check.equal(session.tool_output, expected["tool_output"],
                fr=f"ce qu'affiche {expected['tool']} lancé par son nom {where['fr']}",
                en=f"what {expected['tool']} shows when run by its name {where['en']}")


@pytest.mark.competency("036", points=1)
@pytest.mark.parametrize("slot", USERS)
def test_variables(slot, hosts, expected, check):
    """COMPANY, SHARE, and the tools folder at the end of the PATH (the tool runs by its name).

    Sides covered: the user's interactive session (ssh with a terminal) and a login shell without a
    terminal (``su - USER -c``): variables set only for interactive shells fail."""
    _, session = open_session(hosts.pc1, slot, expected, check)
    name = expected["users"][slot]["name"]
    judge_variables(session, expected, slot, {"fr": f"dans la session de {name}", "en": f"in {name}'s session"}, check)
    login, where = trial_session(login_trial(hosts.pc1, slot, expected, states=("right",)), "right", name, check)
    judge_variables(login.session, expected, slot, where, check)


@pytest.mark.competency("036", points=2)
def test_banner(hosts, expected, check):
    """The banner appears at login for the group's members, and only for them.

    Sides covered: each user's interactive session (ssh with a terminal: the members see it, the
    other user does not); and membership rather than names: on a private copy of /etc where a
    member leaves the group and the other user joins it, their interactive logins (``su -`` on a
    terminal) show it to the one who joined only. A banner shown only on a terminal is right: it is
    a message for a person, so sessions without a terminal are not judged here."""
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
    leaver = next(expected["users"][slot]["name"] for slot in USERS if expected["users"][slot]["member"])
    joiner = next(expected["users"][slot]["name"] for slot in USERS if not expected["users"][slot]["member"])
    trial = hosts.pc1.probe(MembershipTrial, group, leaver, joiner)
    for name, member in ((joiner, True), (leaver, False)):
        login = trial[name]
        check.that(not login.timed_out,
                   fr=f"la connexion de {name} (su - {name}, sur un terminal) ne rend pas la main",
                   en=f"{name}'s login (su - {name}, on a terminal) does not give control back")
        shown = any(banner in line for line in login.text.splitlines())
        if member:
            check.that(
                shown,
                fr=f"{name}, une fois ajouté au groupe {group}, ne voit pas le message à l'ouverture de session (su - {name}) : "
                   f"le script doit tester l'appartenance au groupe, pas une liste de noms",
                en=f"{name}, once added to group {group}, does not see the message at login (su - {name}): the "
                   f"script must test the membership of the group, not a list of names",
            )
        else:
            check.that(
                not shown,
                fr=f"{name}, une fois retiré du groupe {group}, voit encore le message à l'ouverture de session (su - {name}) : "
                   f"le script doit tester l'appartenance au groupe, pas une liste de noms",
                en=f"{name}, once removed from group {group}, still sees the message at login (su - {name}): the "
                   f"script must test the membership of the group, not a list of names",
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
