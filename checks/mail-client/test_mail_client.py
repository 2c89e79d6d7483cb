"""Checks of the mail-client lab: competency 010 (configure a mail client).

Each requirement is read from the client's own configuration (Thunderbird's profile or NeoMutt's
effective settings, ``neomutt -D``) and verified by doing: the account's settings and password
open the mailbox over IMAPS and authenticate on submission after STARTTLS, from pc1, with the
certificate verified against pc1's trust store; the test message is looked for in the recipient's
inbox over IMAP (read-only, headers only). The client's files are judged as the user gets
them: Thunderbird's profile is read as the user (user.js after prefs.js, as Thunderbird does);
NeoMutt, run as the user, says which aliases it knows (``neomutt -A``) and writes a message whose
From is read (caught before it is sent, with no network). Passwords travel in the environment of
the command and are masked in the evidence. Checks only read: nothing is left on the hosts.

A configuration the client cannot read (a directory where a file goes, a file its user may not
read, lines NeoMutt rejects) is the trainee's work: a failure that says so, never an error.
"""

from __future__ import annotations

import email.header
import email.utils
import json
import time

import pytest

from tspcr_lab.errors import InfraError, UnreadableFile, hide
from tspcr_lab.probes import FileContent
from tspcr_lab.probes.mail import (
    AbookContacts,
    MailAccount,
    MuttConfig,
    NeomuttAliases,
    NeomuttComposed,
    NeomuttSettings,
    NotAnAddressBook,
    default_profile_dir,
    expand_path,
    neomutt_account,
    parse_muttrc,
    parse_prefs_js,
    thunderbird_account,
)

# Where NeoMutt looks for the user's rc file, in its order (its find_cfg: $XDG_CONFIG_HOME, which
# is ~/.config in the probe's clean environment, then the home); it reads the first that exists.
NEOMUTT_RC = tuple(f"{folder}{name}" for folder in (".config/neomutt/", ".config/mutt/", ".neomutt/", ".mutt/", ".")
                   for name in ("neomuttrc", "muttrc"))

# Run on a lab host with python3: log in to IMAP or SMTP the way a client configured with these
# settings does; the password comes from the environment (MAIL_PASSWORD). Prints one JSON line:
# {"stage": how far it went, "ok": bool, "error": why it stopped, "capabilities"/"extensions"}.
LOGIN_SCRIPT = r'''
import imaplib, json, os, smtplib, socket, ssl, sys
protocol, host, port, security, user = sys.argv[1:6]
port = int(port)
password = os.environ.get("MAIL_PASSWORD", "")
out = {"stage": "connect", "ok": False}
ctx = ssl.create_default_context()  # the system trust store: the lab's CA, as a client uses it
try:  # first the TCP connection alone: only its failure says the server does not answer
    socket.create_connection((host, port), timeout=5).close()
except OSError as exc:
    print(json.dumps({**out, "network": True, "error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(0)
out["stage"] = "greeting"
try:
    if protocol == "imap":
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=5) if security == "ssl/tls" else imaplib.IMAP4(host, port, timeout=5)
        if security in ("starttls", "starttls-if-available"):
            out["stage"] = "starttls"
            conn.starttls(ssl_context=ctx)
        out["capabilities"] = sorted(conn.capabilities)
        out["stage"] = "login"
        conn.login(user, password)
        out["ok"] = True
        conn.logout()
    else:
        conn = smtplib.SMTP_SSL(host, port, context=ctx, timeout=5) if security == "ssl/tls" else smtplib.SMTP(host, port, timeout=5)
        conn.ehlo("grader.check")
        if security in ("starttls", "starttls-if-available"):
            out["stage"] = "starttls"
            conn.starttls(context=ctx)
            conn.ehlo("grader.check")
        out["extensions"] = sorted(conn.esmtp_features)
        out["stage"] = "login"
        if conn.has_extn("auth"):
            conn.login(user, password)
            out["ok"] = True
        else:  # not offered: try anyway, as a careless client would, and say what the server answers
            import base64
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            code, reply = conn.docmd("AUTH", "PLAIN " + token)
            out["ok"] = code == 235
            if not out["ok"]:
                out["error"] = f"AUTH not offered; AUTH PLAIN answered {code} {reply.decode(errors='replace')}"
        conn.quit()
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
'''

# Run on srv1: log in to IMAP as the recipient, open INBOX read-only (EXAMINE) and read the
# From, Subject and Received headers of every message with BODY.PEEK (no \Seen flag set).
INBOX_SCRIPT = r'''
import imaplib, json, os, ssl, sys
host, user = sys.argv[1:3]
conn = imaplib.IMAP4_SSL(host, 993, ssl_context=ssl.create_default_context(), timeout=8)
conn.login(user, os.environ["MAIL_PASSWORD"])
typ, data = conn.select("INBOX", readonly=True)
messages = []
count = int(data[0]) if typ == "OK" else 0
typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT RECEIVED)])") if count else ("NO", [])
for item in data if typ == "OK" else []:
    if isinstance(item, tuple):
        messages.append(item[1].decode("utf-8", "replace"))
conn.logout()
print(json.dumps(messages))
'''


def remote_login(host, protocol: str, server: str, port: int, security: str, user: str, password: str) -> dict:
    result = host.run("MAIL_PASSWORD=%s python3 -c %s %s %s %s %s %s",
                      password, LOGIN_SCRIPT, protocol, server, port, security, user, secrets=(password,))
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        detail = hide(result.stderr.strip()[-200:], (password,))
        raise InfraError(f"{host.name}: the {protocol} login test did not run (rc={result.rc}: {detail})") from None


# -- Reading the client's configuration --------------------------------------------------------

def read_as_user(host, expected, path, check) -> str | None:
    """A file of the user's client, read as the user (the client runs as them): None when absent,
    a failure when the user cannot read it (a file made by root in their home, mode 600...)."""
    probe, login = FileContent(path), expected["login"]
    try:
        return probe.evaluate(host.run_as(login, probe.command()))
    except UnreadableFile as exc:
        if exc.reason != "permission denied":
            raise
        check.fail(fr=f"{path} ne peut pas être lu par {login} : son client de messagerie, lancé par {login}, ne peut "
                      f"pas s'en servir (fichier créé par root ?)",
                   en=f"{path} cannot be read by {login}: their mail client, run by {login}, cannot use it "
                      f"(a file made by root?)")


def thunderbird_profile(host, expected, check) -> str:
    base = f"{expected['home']}/.thunderbird"
    ini = read_as_user(host, expected, f"{base}/profiles.ini", check)
    check.that(ini is not None, fr=f"pas de profil Thunderbird : {base}/profiles.ini n'existe pas",
               en=f"no Thunderbird profile: {base}/profiles.ini does not exist")
    try:
        profile = default_profile_dir(ini, base)
    except Exception as exc:  # configparser's errors: the trainee's file is broken
        check.fail(fr=f"{base}/profiles.ini est illisible ({type(exc).__name__})",
                   en=f"{base}/profiles.ini cannot be read ({type(exc).__name__})")
    check.that(profile, fr=f"{base}/profiles.ini ne désigne aucun profil par défaut",
               en=f"{base}/profiles.ini names no default profile")
    return profile


def neomutt_rc(host, expected, check) -> str:
    """The rc file NeoMutt reads: the first of its candidates that exists (NeoMutt takes it even
    when it is a directory, and then reads none); a failure when there is none, or when it is not
    a file."""
    home = expected["home"]
    candidates = [f"{home}/{rc}" for rc in NEOMUTT_RC]
    found = host.run("for f in " + " ".join(["%s"] * len(candidates))
                     + '; do if test -f "$f"; then echo "file $f"; elif test -e "$f"; then echo "other $f"; fi; done; true',
                     *candidates).stdout.splitlines()
    found = [line.split(" ", 1) for line in found if " " in line]
    check.that(found, fr=f"pas de configuration NeoMutt pour {expected['login']} (~/.neomuttrc n'existe pas)",
               en=f"no NeoMutt configuration for {expected['login']} (~/.neomuttrc does not exist)")
    kind, path = found[0]
    check.that(kind == "file", fr=f"{path} n'est pas un fichier ordinaire (un dossier ?) : NeoMutt ne peut pas le lire",
               en=f"{path} is not a regular file (a directory?): NeoMutt cannot read it")
    return path


def neomutt_settings(host, expected, check):
    """NeoMutt's effective settings for the user; a failure when NeoMutt cannot read their rc file."""
    path = neomutt_rc(host, expected, check)
    settings = host.probe(NeomuttSettings, expected["login"])
    reason = settings.unreadable(path)
    check.that(reason is None, fr=f"NeoMutt ne peut pas lire {path} ({reason}) : aucun de ses réglages ne s'applique",
               en=f"NeoMutt cannot read {path} ({reason}): none of its settings apply")
    return settings


def client_account(hosts, expected, check) -> MailAccount:
    """The account the client is configured with (a failure when there is none)."""
    pc = hosts.pc1
    if expected["client"] == "thunderbird":
        profile = thunderbird_profile(pc, expected, check)
        text = read_as_user(pc, expected, f"{profile}/prefs.js", check)
        check.that(text is not None, fr=f"le profil Thunderbird {profile} n'a pas de prefs.js",
                   en=f"Thunderbird profile {profile} has no prefs.js")
        prefs = parse_prefs_js(text)
        # Thunderbird reads user.js after prefs.js at every start: what it sets wins.
        prefs.update(parse_prefs_js(read_as_user(pc, expected, f"{profile}/user.js", check) or ""))
        account = thunderbird_account(prefs)
        check.that(account is not None, fr=f"aucun compte de messagerie dans {profile}/prefs.js",
                   en=f"no mail account in {profile}/prefs.js")
        return account
    return neomutt_account(neomutt_settings(pc, expected, check))


def reported(account: MailAccount, fr: str, en: str) -> dict[str, str]:
    """What is compared, with what the client said about its configuration when it complained."""
    if not account.problems:
        return {"fr": fr, "en": en}
    said = " ; ".join(account.problems[:3])
    return {"fr": f"{fr} (NeoMutt signale : {said})", "en": f"{en} (NeoMutt reports: {said})"}


def incoming_text(a: dict) -> str:
    return f"{a['type'] or '?'} {a['host'] or '?'}:{a['port'] or '?'}, {a['security'] or '?'}, {a['user'] or '?'}"


def outgoing_text(a: dict) -> str:
    return f"smtp {a['host'] or '?'}:{a['port'] or '?'}, {a['security'] or '?'}, auth {a['auth'] or '?'}, {a['user'] or '?'}"


# -- 010: configure a mail client -------------------------------------------------------------

@pytest.mark.competency("010", points=2)
def test_incoming_server(hosts, expected, check):
    """Incoming mail: IMAP on the mail server, port 993, implicit TLS, the user's login."""
    account = client_account(hosts, expected, check)
    want = {"type": "imap", "host": expected["mail_server"], "port": expected["imap_port"], "security": "ssl/tls",
            "user": expected["login"]}
    check.equal(incoming_text(account.incoming()), incoming_text(want),
                **reported(account, fr="serveur de réception (type serveur:port, sécurité, identifiant)",
                           en="incoming server (type server:port, security, user name)"))


@pytest.mark.competency("010", points=2)
def test_outgoing_server(hosts, expected, check):
    """Outgoing mail: submission on the mail server, port 587, STARTTLS, password authentication."""
    account = client_account(hosts, expected, check)
    want = {"host": expected["mail_server"], "port": expected["smtp_port"], "security": "starttls",
            "auth": "password", "user": expected["login"]}
    check.equal(outgoing_text(account.outgoing()), outgoing_text(want),
                **reported(account, fr="serveur d'envoi (serveur:port, sécurité, authentification, identifiant)",
                           en="outgoing server (server:port, security, authentication, user name)"))


@pytest.mark.competency("010", points=1)
def test_identity(hosts, expected, check):
    """The identity recipients see: the user's full name and e-mail address.

    Sides covered: the client's settings (Thunderbird: prefs.js then user.js; NeoMutt: real_name
    and from as NeoMutt applies them); and, for NeoMutt, the From of a message it composes as the
    user (caught before it is sent, no network): what my_hdr, use_from or a hook make of them."""
    account = client_account(hosts, expected, check)
    want = email.utils.formataddr((expected["full_name"], expected["email"]))
    found = email.utils.formataddr((account.full_name or "", account.email or "")) if account.email else account.full_name
    check.equal(found, want,
                **reported(account, fr="identité de l'expéditeur (nom <adresse>)", en="sender identity (name <address>)"))
    if expected["client"] != "neomutt":
        return
    message = hosts.pc1.probe(NeomuttComposed, expected["login"])
    said = message.output.splitlines()[-1:] if message.output else []
    check.that(message.header, fr=f"NeoMutt, lancé par {expected['login']}, n'écrit aucun message (« neomutt -s ... "
                                  f"-- destinataire » en mode batch) : {'; '.join(said) or f'code {message.rc}'}",
               en=f"NeoMutt, run by {expected['login']}, writes no message ('neomutt -s ... -- recipient' in batch "
                  f"mode): {'; '.join(said) or f'exit {message.rc}'}")
    senders = [email.utils.formataddr(email.utils.parseaddr(str(email.header.make_header(email.header.decode_header(v)))))
               for v in message.senders]
    check.equal(senders, [want], fr=f"expéditeur (From) des messages que NeoMutt écrit pour {expected['login']}, "
                                    f"réglages réels compris (my_hdr, use_from, hooks)",
                en=f"sender (From) of the messages NeoMutt writes for {expected['login']}, with every setting it "
                   f"applies (my_hdr, use_from, hooks)")


def _login_or_fail(hosts, expected, check, protocol: str, server: str | None, port: int | None, security: str | None,
                   user: str | None, password: str, want: tuple) -> dict:
    what = {"imap": ("réception (IMAP)", "incoming (IMAP)"), "smtp": ("envoi (SMTP)", "outgoing (SMTP)")}[protocol]
    check.that(server and port and user, fr=f"serveur de {what[0]} incomplet dans le client : serveur, port ou identifiant manquant",
               en=f"{what[1]} server incomplete in the client: server, port or user name missing")
    number = int(port) if str(port).isdigit() else 0  # what a client's file holds may be anything
    check.that(0 < number < 65536, fr=f"port du serveur de {what[0]} invalide dans le client : {port}",
               en=f"invalid {what[1]} server port in the client: {port}")
    port = number
    result = remote_login(hosts.pc1, protocol, server, port, security or "none", user, password)
    if not result["ok"] and result.get("network") and (server, port) == want:
        # The right server and port do not answer: the lab's server, not the trainee's settings.
        raise InfraError(f"pc1: the mail server {server}:{port} does not answer ({result.get('error')})")
    check.that(
        result["ok"],
        fr=f"connexion de {what[0]} refusée avec les paramètres du client ({server}:{port}, {security}, {user}) "
           f"à l'étape « {result['stage']} » : {result.get('error')}",
        en=f"{what[1]} login refused with the client's settings ({server}:{port}, {security}, {user}) "
           f"at stage '{result['stage']}': {result.get('error')}",
    )
    return result


@pytest.mark.competency("010", points=2)
def test_imap_login_works(hosts, expected, check):
    """With the client's incoming settings, the user's password opens the mailbox (certificate verified)."""
    account = client_account(hosts, expected, check)
    check.that(account.incoming_type == "imap", fr="le client n'a pas de compte IMAP", en="the client has no IMAP account")
    password = account.password or expected["password"]
    _login_or_fail(hosts, expected, check, "imap", account.incoming_host, account.incoming_port,
                   account.incoming_security, account.incoming_user, password,
                   (expected["mail_server"], expected["imap_port"]))


@pytest.mark.competency("010", points=2)
def test_smtp_login_works(hosts, expected, check):
    """With the client's outgoing settings, the user authenticates on submission (after STARTTLS)."""
    account = client_account(hosts, expected, check)
    check.that(account.outgoing_auth == "password",
               fr="le client n'est pas configuré pour s'authentifier auprès du serveur d'envoi : le serveur refusera ses messages",
               en="the client is not set to authenticate to the outgoing server: the server will refuse its messages")
    password = account.smtp_password or expected["password"]
    _login_or_fail(hosts, expected, check, "smtp", account.outgoing_host, account.outgoing_port,
                   account.outgoing_security, account.outgoing_user, password,
                   (expected["mail_server"], expected["smtp_port"]))


def neomutt_aliases(host, expected, check) -> MuttConfig:
    """The aliases NeoMutt loads: its rc file and every file it sources (a few levels deep)."""
    home = expected["home"]
    config, queue, seen = MuttConfig(), [neomutt_rc(host, expected, check)], set()
    while queue and len(seen) < 10:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        before = len(config.sources)
        text = host.probe(FileContent, path)
        if text is None:
            continue
        try:
            parse_muttrc(text, into=config)
        except ValueError as exc:
            check.fail(fr=f"{path} est illisible : {exc}", en=f"{path} cannot be read: {exc}")
        queue.extend(expand_path(s, home) for s in config.sources[before:])
    return config


@pytest.mark.competency("010", points=2)
def test_address_book_imported(hosts, expected, check):
    """Every contact of the file provided is in the client's address book, with its name and address.

    Sides covered: the address book's files (Thunderbird's abook.sqlite; NeoMutt's alias lines in
    its rc file and the files it sources), and the user's own access: Thunderbird's address book
    must be readable by the user, and NeoMutt run as the user (``neomutt -A``) must know each
    contact's alias, with that name and address."""
    login = expected["login"]

    def missing_from(contacts):
        found = {(c.name.strip().lower(), c.email.strip().lower()) for c in contacts}
        return found, [f"{c['name']} <{c['email']}>" for c in expected["contacts"]
                       if (c["name"].lower(), c["email"].lower()) not in found]

    if expected["client"] == "thunderbird":
        profile = thunderbird_profile(hosts.pc1, expected, check)
        path = f"{profile}/abook.sqlite"
        contacts = hosts.pc1.probe(AbookContacts, path)
        check.that(contacts is not None, fr=f"pas de carnet d'adresses personnel : {path} n'existe pas",
                   en=f"no personal address book: {path} does not exist")
        check.that(not isinstance(contacts, NotAnAddressBook),
                   fr=f"{path} n'est pas un carnet d'adresses Thunderbird ({getattr(contacts, 'reason', '')})",
                   en=f"{path} is not a Thunderbird address book ({getattr(contacts, 'reason', '')})")
        check.that(hosts.pc1.run_as(login, "test -r %s", path).rc == 0,
                   fr=f"{path} ne peut pas être lu par {login} : Thunderbird, lancé par {login}, n'a pas ce carnet "
                      f"(fichier créé par root ?)",
                   en=f"{path} cannot be read by {login}: Thunderbird, run by {login}, does not have this address book "
                      f"(a file made by root?)")
    else:
        config = neomutt_aliases(hosts.pc1, expected, check)
        contacts = [c for entries in config.aliases.values() for c in entries]
    found, missing = missing_from(contacts)
    check.that(not missing, fr=f"{len(missing)} contact(s) du fichier fourni absent(s) du carnet d'adresses "
                               f"(nom et adresse attendus) : {', '.join(missing)} ; {len(found)} contact(s) trouvé(s)",
               en=f"{len(missing)} contact(s) of the file provided missing from the address book "
                  f"(name and address expected): {', '.join(missing)}; {len(found)} contact(s) found")
    if expected["client"] == "neomutt":
        known = hosts.pc1.probe(NeomuttAliases, login, list(config.aliases))
        _, unknown = missing_from([c for entries in known.values() for c in entries])
        errors = [e for e in hosts.pc1.probe(NeomuttSettings, login).errors if "source" in e][:2] if unknown else []
        check.that(not unknown,
                   fr=f"NeoMutt, lancé par {login}, ne connaît pas ces contacts pourtant écrits dans ses fichiers "
                      f"(neomutt -A) : {', '.join(unknown)}" + (f" ; NeoMutt signale : {' ; '.join(errors)}" if errors else ""),
                   en=f"NeoMutt, run by {login}, does not know these contacts, though they are written in its files "
                      f"(neomutt -A): {', '.join(unknown)}" + (f"; NeoMutt reports: {'; '.join(errors)}" if errors else ""))


def _header(raw: str, name: str) -> list[str]:
    message = email.message_from_string(raw)
    return [str(email.header.make_header(email.header.decode_header(v))) for v in message.get_all(name, [])]


@pytest.mark.competency("010", points=3, critical=True)
def test_test_message_delivered(hosts, expected, check):
    """The test message is in the recipient's inbox, from the user's identity, and came in through
    authenticated submission over TLS (Received: ... (Authenticated sender: login) ... ESMTPSA)."""
    subject = expected["test_subject"]
    for attempt in range(3):  # a message just sent may still be in the server's queue for a moment
        if attempt:
            time.sleep(1)
        password = expected["recipient_password"]
        result = hosts.srv1.run("MAIL_PASSWORD=%s python3 -c %s %s %s", password, INBOX_SCRIPT,
                                expected["mail_server"], expected["recipient_login"], secrets=(password,))
        if result.rc != 0:  # the lab's own mailbox cannot be read: the server is broken, not the trainee's work
            raise InfraError(f"srv1: cannot read {expected['test_recipient']}'s inbox over IMAP: "
                             f"{hide((result.stderr.strip().splitlines() or ['?'])[-1], (password,))}")
        messages = json.loads(result.stdout)
        matching = [m for m in messages if [s.strip() for s in _header(m, "Subject")] == [subject]]
        if matching:
            break
    subjects = sorted({s for m in messages for s in _header(m, "Subject")})
    check.that(matching, fr=f"aucun message « {subject} » dans la boîte de {expected['test_recipient']} "
                            f"(objets trouvés : {', '.join(subjects) or 'aucun'})",
               en=f"no message '{subject}' in {expected['test_recipient']}'s inbox "
                  f"(subjects found: {', '.join(subjects) or 'none'})")
    want_from = email.utils.formataddr((expected["full_name"], expected["email"]))
    senders = [email.utils.formataddr(email.utils.parseaddr(f)) for m in matching for f in _header(m, "From")]
    check.contains(senders, want_from, fr=f"expéditeur du message « {subject} »", en=f"sender of message '{subject}'")
    good = [m for m in matching if want_from in [email.utils.formataddr(email.utils.parseaddr(f)) for f in _header(m, "From")]]
    submitted = [m for m in good if any(f"(Authenticated sender: {expected['login']})" in r and "with ESMTPSA" in r
                                        for r in _header(m, "Received")[:1])]
    check.that(submitted, fr=f"le message « {subject} » n'est pas passé par la soumission authentifiée et chiffrée "
                             f"(port 587, STARTTLS, compte {expected['login']}) : il n'a pas été envoyé par le client configuré",
               en=f"message '{subject}' did not come through authenticated, encrypted submission "
                  f"(port 587, STARTTLS, account {expected['login']}): it was not sent by the configured client")


@pytest.mark.competency("010", points=0)
def test_server_refuses_plaintext_login(hosts, expected, check):
    """Sanity of the lab's server (no points): no cleartext login. IMAP on 143 refuses LOGIN before
    STARTTLS, submission on 587 offers no AUTH before STARTTLS. If it does not hold, the lab is
    broken: an error for the instructor, never the trainee's failure. Run from pc1: dovecot
    counts a connection from the server's own address as secured."""
    server, login, password = expected["mail_server"], expected["login"], expected["password"]
    imap = remote_login(hosts.pc1, "imap", server, 143, "none", login, password)
    smtp = remote_login(hosts.pc1, "smtp", server, expected["smtp_port"], "none", login, password)
    for name, result in (("IMAP 143", imap), ("SMTP 587", smtp)):
        if result.get("network"):
            raise InfraError(f"srv1: {name} does not answer ({result.get('error')})")
        if result["ok"]:
            raise InfraError(f"srv1: {name} accepted a cleartext login: the lab's mail server is misconfigured")
    if "LOGINDISABLED" not in imap.get("capabilities", []) or "STARTTLS" not in imap.get("capabilities", []):
        raise InfraError(f"srv1: IMAP 143 should announce STARTTLS and LOGINDISABLED (found {imap.get('capabilities')})")
    if "auth" in smtp.get("extensions", []) or "starttls" not in smtp.get("extensions", []):
        raise InfraError(f"srv1: SMTP 587 should offer STARTTLS and no AUTH before it (found {smtp.get('extensions')})")
