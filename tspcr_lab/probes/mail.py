"""Mail client probes: what Thunderbird and NeoMutt are configured with, and their address books.

* Thunderbird keeps its settings in ``~/.thunderbird/profiles.ini`` (which profile is the default)
  and the profile's ``prefs.js`` (``user_pref("name", value);`` lines): the account
  (``mail.account.accountN``), its incoming server (``mail.server.serverN.*``), its identity
  (``mail.identity.idN.*``) and the identity's outgoing server (``mail.smtpserver.smtpN.*``). The
  personal address book is ``abook.sqlite`` (table ``properties(card, name, value)``).
* NeoMutt reads a muttrc (``set``, ``unset``, ``alias``, ``source`` lines). Its effective settings
  are best read from NeoMutt itself (``neomutt -D`` prints every variable as ``set name = value``
  after reading the user's files), which :func:`parse_muttrc` also reads. What NeoMutt says
  about the user's files before that (``Error in ~/.neomuttrc, line 4: ...``, ``~/.neomuttrc:
  Permission denied``) is kept as :attr:`NeomuttDump.errors`: it is the trainee's work, for the
  checks to judge, never an error of the probe. What NeoMutt does with them, as the user:
  :class:`NeomuttAliases` (``neomutt -A``: the aliases it knows) and :class:`NeomuttComposed` (the
  message it writes, caught before it is sent, in namespaces with no network).

Parsers are pure functions (tested on recorded files in tests/unit/recorded/mail); the probes
only read. A parse problem of a program's own output becomes a one-line
:class:`~tspcr_lab.errors.ProbeError`.
"""

from __future__ import annotations

import configparser
import dataclasses
import email.utils
import json
import posixpath
import re
from typing import Any

from ..errors import MASK
from .base import TIMED_OUT, Probe, quote_line
from .system import probe_parser

# -- Thunderbird ------------------------------------------------------------------------------

# nsMsgSocketType and nsMsgAuthMethod values, as Thunderbird writes them in prefs.js.
SOCKET_TYPES = {0: "none", 1: "starttls-if-available", 2: "starttls", 3: "ssl/tls"}
AUTH_METHODS = {0: "none", 1: "none", 2: "old", 3: "password", 4: "encrypted-password", 5: "kerberos",
                6: "ntlm", 7: "tls-certificate", 8: "secure", 9: "any", 10: "oauth2"}

_PREF_RE = re.compile(r'^\s*(?:user_pref|pref)\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*(.*?)\s*\)\s*;\s*(?://.*)?$')


def _js_string(literal: str) -> str:
    """The value of a JavaScript string literal as prefs.js writes it ("..." with \\ escapes)."""
    if len(literal) < 2 or literal[0] != literal[-1] or literal[0] not in "\"'":
        raise ValueError(f"not a string: {literal[:40]}")
    body, out, i = literal[1:-1], [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "/": "/", "b": "\b", "f": "\f"}
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2:i + 4]):
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(simple.get(nxt, nxt))
            i += 2
    return "".join(out)


def parse_prefs_js(text: str) -> dict[str, Any]:
    """``user_pref("name", value);`` lines -> {name: value} (str, int or bool); the last one wins.

    Comments and lines that are not preferences are skipped (Thunderbird ignores them too).
    """
    prefs: dict[str, Any] = {}
    in_comment = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_comment:
            if "*/" in line:
                in_comment = False
            continue
        if line.startswith("/*"):
            in_comment = "*/" not in line
            continue
        match = _PREF_RE.match(line)
        if not match:
            continue
        name, value = _js_string(f'"{match.group(1)}"'), match.group(2)
        if value in ("true", "false"):
            prefs[name] = value == "true"
        elif re.fullmatch(r"-?\d+", value):
            prefs[name] = int(value)
        elif value and value[0] in "\"'":
            try:
                prefs[name] = _js_string(value)
            except ValueError:  # a broken line: Thunderbird skips it too
                continue
    return prefs


def parse_profiles_ini(text: str) -> list[dict[str, Any]]:
    """``profiles.ini`` -> [{name, path, relative, default}] in file order."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(text)
    profiles = []
    install_defaults = {parser[s].get("Default") for s in parser.sections() if s.startswith("Install")}
    for section in parser.sections():
        if not section.startswith("Profile"):
            continue
        sec = parser[section]
        if "Path" not in sec:
            continue
        profiles.append({
            "name": sec.get("Name", ""),
            "path": sec["Path"],
            "relative": sec.get("IsRelative", "1") == "1",
            "default": sec.get("Default", "0") == "1" or sec["Path"] in install_defaults,
        })
    return profiles


def default_profile_dir(profiles_ini: str, base: str) -> str | None:
    """The folder of the profile Thunderbird opens: the [Install...] default, else Default=1, else
    the only profile. ``base`` is the folder of profiles.ini (``~/.thunderbird``)."""
    profiles = parse_profiles_ini(profiles_ini)
    chosen = [p for p in profiles if p["default"]] or (profiles if len(profiles) == 1 else [])
    if not chosen:
        return None
    profile = chosen[0]
    return posixpath.normpath(posixpath.join(base, profile["path"]) if profile["relative"] else profile["path"])


@dataclasses.dataclass(frozen=True)
class MailAccount:
    """A client's mail account, the same way for every client.

    ``incoming_security``/``outgoing_security``: "ssl/tls", "starttls", "starttls-if-available",
    "none"; ``outgoing_auth``: "password", "none", ... (see AUTH_METHODS).
    """

    incoming_type: str | None = None
    incoming_host: str | None = None
    incoming_port: int | None = None
    incoming_security: str | None = None
    incoming_user: str | None = None
    outgoing_host: str | None = None
    outgoing_port: int | None = None
    outgoing_security: str | None = None
    outgoing_auth: str | None = None
    outgoing_user: str | None = None
    full_name: str | None = None
    email: str | None = None
    password: str | None = None  # only when the client stores it in clear (NeoMutt imap_pass)
    smtp_password: str | None = None
    problems: tuple[str, ...] = ()  # what the client said about its configuration (NeoMutt's errors)

    def incoming(self) -> dict[str, Any]:
        return {"type": self.incoming_type, "host": self.incoming_host, "port": self.incoming_port,
                "security": self.incoming_security, "user": self.incoming_user}

    def outgoing(self) -> dict[str, Any]:
        return {"host": self.outgoing_host, "port": self.outgoing_port, "security": self.outgoing_security,
                "auth": self.outgoing_auth, "user": self.outgoing_user}


def _split_list(value: Any) -> list[str]:
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def thunderbird_account(prefs: dict[str, Any]) -> MailAccount | None:
    """The default mail account of a prefs.js (None when there is no mail account).

    The default account is ``mail.accountmanager.defaultaccount``, else the first account of
    ``mail.accountmanager.accounts`` that has an IMAP or POP server (the "Local Folders" account
    has type "none"). Its identity is the account's first one; the identity's outgoing server is
    ``mail.identity.idN.smtpServer``, else ``mail.smtp.defaultserver``, else the first of
    ``mail.smtpservers``. Missing ports take the protocol's default for the security chosen.
    """
    accounts = _split_list(prefs.get("mail.accountmanager.accounts"))
    default = prefs.get("mail.accountmanager.defaultaccount")

    def server_of(account: str) -> str | None:
        return prefs.get(f"mail.account.{account}.server")

    def is_mail(account: str) -> bool:
        server = server_of(account)
        return bool(server) and prefs.get(f"mail.server.{server}.type") in ("imap", "pop3")

    candidates = ([default] if default and is_mail(default) else []) + [a for a in accounts if is_mail(a)]
    if not candidates:
        return None
    account = candidates[0]
    server = server_of(account)
    identities = _split_list(prefs.get(f"mail.account.{account}.identities"))
    identity = identities[0] if identities else None
    smtp = None
    if identity:
        smtp = prefs.get(f"mail.identity.{identity}.smtpServer")
    smtp = smtp or prefs.get("mail.smtp.defaultserver") or next(iter(_split_list(prefs.get("mail.smtpservers"))), None)

    s = f"mail.server.{server}."
    kind = prefs.get(s + "type")
    socket = prefs.get(s + "socketType", 0)
    port = prefs.get(s + "port")
    if port is None:
        port = {("imap", 3): 993, ("pop3", 3): 995, ("pop3", 0): 110}.get((kind, socket), 143 if kind == "imap" else 110)
    values: dict[str, Any] = {
        "incoming_type": kind,
        "incoming_host": prefs.get(s + "hostname"),
        "incoming_port": port,
        "incoming_security": SOCKET_TYPES.get(socket, f"unknown ({socket})"),
        "incoming_user": prefs.get(s + "userName"),
    }
    if identity:
        i = f"mail.identity.{identity}."
        values["full_name"] = prefs.get(i + "fullName")
        values["email"] = prefs.get(i + "useremail")
    if smtp:
        o = f"mail.smtpserver.{smtp}."
        try_ssl = prefs.get(o + "try_ssl", 0)
        auth = prefs.get(o + "authMethod", 3)  # Thunderbird's default: normal password
        values.update({
            "outgoing_host": prefs.get(o + "hostname"),
            "outgoing_port": prefs.get(o + "port") or (465 if try_ssl == 3 else 587),
            "outgoing_security": SOCKET_TYPES.get(try_ssl, f"unknown ({try_ssl})"),
            "outgoing_auth": AUTH_METHODS.get(auth, f"unknown ({auth})"),
            "outgoing_user": prefs.get(o + "username"),
        })
    return MailAccount(**values)


@dataclasses.dataclass(frozen=True)
class Contact:
    name: str
    email: str


def _vcard_unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse_vcards(text: str) -> list[Contact]:
    """vCard 3.0/4.0 text -> contacts (FN, else N given + family; every EMAIL)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    contacts, card = [], None
    for line in unfolded.splitlines():
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        prop = key.split(";")[0].split(".")[-1].upper()
        if prop == "BEGIN" and value.strip().upper() == "VCARD":
            card = {"fn": "", "n": "", "emails": []}
        elif card is None:
            continue
        elif prop == "FN":
            card["fn"] = _vcard_unescape(value.strip())
        elif prop == "N":
            parts = [_vcard_unescape(p) for p in value.strip().split(";")] + ["", ""]
            card["n"] = " ".join(p for p in (parts[1], parts[0]) if p)
        elif prop == "EMAIL":
            card["emails"].append(value.strip())
        elif prop == "END":
            for address in card["emails"]:
                contacts.append(Contact(card["fn"] or card["n"], address))
            card = None
    return contacts


def parse_abook_rows(rows: list[dict[str, Any]]) -> list[Contact]:
    """Rows of ``SELECT card, name, value FROM properties`` -> contacts.

    Thunderbird stores each card as properties (DisplayName, FirstName, LastName, PrimaryEmail,
    SecondEmail) and, since version 102, the whole card as a vCard (``_vCard``).
    """
    cards: dict[str, dict[str, str]] = {}
    for row in rows:
        cards.setdefault(str(row["card"]), {})[str(row["name"])] = "" if row["value"] is None else str(row["value"])
    contacts = []
    for props in cards.values():
        from_vcard = parse_vcards(props["_vCard"]) if props.get("_vCard") else []
        name = props.get("DisplayName") or " ".join(
            p for p in (props.get("FirstName", ""), props.get("LastName", "")) if p)
        emails = [props[k] for k in ("PrimaryEmail", "SecondEmail") if props.get(k)]
        seen = set()
        for address in emails + [c.email for c in from_vcard]:
            if address.lower() in seen:
                continue
            seen.add(address.lower())
            contacts.append(Contact(name or (from_vcard[0].name if from_vcard else ""), address))
    return contacts


@dataclasses.dataclass(frozen=True)
class NotAnAddressBook:
    """What :class:`AbookContacts` returns for a file that is not a Thunderbird address book (the
    trainee's file, not an infrastructure problem)."""

    path: str
    reason: str


class AbookContacts(Probe):
    """The contacts of a Thunderbird address book (``abook.sqlite``): a list of :class:`Contact`,
    None if the file is absent, :class:`NotAnAddressBook` if it is not an SQLite database with a
    ``properties`` table. ``sqlite3 -readonly`` opens it without writing anything.
    """

    ABSENT = 3
    QUERY = "SELECT card, name, value FROM properties ORDER BY card, name"

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        return quote_line(
            f"if test -f %s; then sqlite3 -readonly -json %s %s; else (exit {self.ABSENT}); fi",
            self.path, self.path, self.QUERY,
        )

    @probe_parser
    def process(self, output: str) -> list[Contact]:
        return parse_abook_rows(json.loads(output) if output.strip() else [])

    def failed(self, result) -> Any:
        if result.rc == self.ABSENT:
            return None
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else ""
        if any(sign in last for sign in ("not a database", "no such table", "no such column", "malformed")):
            return NotAnAddressBook(self.path, last.removeprefix("Error: ").removeprefix("in prepare, "))
        return super().failed(result)


# -- NeoMutt ----------------------------------------------------------------------------------

@dataclasses.dataclass
class MuttConfig:
    """What a muttrc sets: variables (after ``unset``/``reset``), aliases, files it sources."""

    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    aliases: dict[str, list[Contact]] = dataclasses.field(default_factory=dict)
    sources: list[str] = dataclasses.field(default_factory=list)


# NeoMutt's synonyms for the variables this lab reads (old name -> current name).
SYNONYMS = {"realname": "real_name", "spool_file": "spoolfile", "smtp_authenticators": "smtp_authenticators"}


def _tokens(line: str) -> list[list[str]]:
    """Split a muttrc line into commands (``;``) of words, with quotes and backslashes resolved."""
    commands, words, word, quote, has_word, i = [], [], [], None, False, 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(line):
                nxt = line[i + 1]
                word.append({"n": "\n", "t": "\t", "r": "\r", "e": "\x1b"}.get(nxt, nxt))
                i += 2
                continue
            if ch == quote:
                quote = None
            else:
                word.append(ch)
            i += 1
            continue
        if ch in "\"'":
            quote, has_word = ch, True
        elif ch == "\\" and i + 1 < len(line):
            word.append(line[i + 1])
            has_word = True
            i += 1
        elif ch == "#" and not has_word:
            break
        elif ch.isspace() or ch in ";=":
            if has_word:
                words.append("".join(word))
                word, has_word = [], False
            if ch == "=":
                words.append("=")
            elif ch == ";":
                commands.append(words)
                words = []
        else:
            word.append(ch)
            has_word = True
        i += 1
    if quote:
        raise ValueError(f"unterminated quote in: {line.strip()[:60]}")
    if has_word:
        words.append("".join(word))
    commands.append(words)
    return [c for c in commands if c]


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("yes", "no"):
        return lowered == "yes"
    if lowered in ("ask-yes", "ask-no"):
        return lowered
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def parse_alias_addresses(words: list[str]) -> list[Contact]:
    """The address list of an alias line (``Name <a@b>, c@d (Other)``) -> contacts."""
    return [Contact(name, address) for name, address in email.utils.getaddresses([" ".join(words)]) if address]


def parse_muttrc(text: str, into: MuttConfig | None = None) -> MuttConfig:
    """Read muttrc commands (``set``/``unset``/``toggle``/``reset``/``alias``/``unalias``/``source``);
    other commands are ignored. Also reads the output of ``neomutt -D``."""
    config = into or MuttConfig()
    logical = re.sub(r"\\\r?\n", "", text)  # a backslash at the end of a line continues it
    for line in logical.splitlines():
        for words in _tokens(line):
            command, args = words[0], words[1:]
            if command in ("set", "unset", "toggle", "reset"):
                i = 0
                while i < len(args):
                    name = args[i]
                    if i + 2 < len(args) and args[i + 1] == "=" and command == "set":
                        key = SYNONYMS.get(name, name)
                        config.settings[key] = _value(args[i + 2])
                        i += 3
                        continue
                    if name == "=":  # "set x =" with nothing after: an empty value
                        i += 1
                        continue
                    if i + 1 < len(args) and args[i + 1] == "=":  # "set x =" at the end of the line
                        config.settings[SYNONYMS.get(name, name)] = ""
                        i += 2
                        continue
                    value: Any = True
                    for prefix, prefixed in (("no", False), ("inv", "toggle")):
                        if command == "set" and name.startswith(prefix) and len(name) > len(prefix):
                            name, value = name[len(prefix):], prefixed
                            break
                    key = SYNONYMS.get(name.lstrip("&?"), name.lstrip("&?"))
                    if command == "unset":
                        config.settings[key] = False
                    elif command == "reset" or name.startswith("&"):
                        config.settings.pop(key, None)
                    elif command == "toggle" or value == "toggle":
                        config.settings[key] = not config.settings.get(key, False)
                    elif not name.startswith("?"):
                        config.settings[key] = value
                    i += 1
            elif command == "alias" and args:
                while len(args) >= 2 and args[0] == "-group":
                    args = args[2:]
                if len(args) >= 2:
                    config.aliases[args[0]] = parse_alias_addresses(args[1:])
            elif command == "unalias":
                for name in args:
                    if name == "*":
                        config.aliases.clear()
                    config.aliases.pop(name, None)
            elif command == "source" and args:
                config.sources.append(" ".join(args))
    return config


def expand_path(path: str, home: str) -> str:
    """``~/x``, ``$HOME/x`` and relative paths (relative to the home, as NeoMutt reads them from
    the user's muttrc in practice) -> an absolute path."""
    path = path.strip()
    if path.startswith("~/") or path == "~":
        path = home + path[1:]
    path = re.sub(r"^\$\{?HOME\}?", home, path)
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(home, path))


@dataclasses.dataclass(frozen=True)
class SmtpUrl:
    scheme: str | None
    user: str | None
    host: str | None
    port: int | None


def parse_mail_url(url: str) -> SmtpUrl:
    """``smtp://user@host:587/`` or ``imaps://user@host:993/INBOX`` -> its parts (port None when
    the URL has none)."""
    match = re.fullmatch(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*)://(?:([^@/]*)@)?(\[[^\]]+\]|[^:/]*)(?::(\d*))?(/.*)?\s*", url or "")
    if not match:
        return SmtpUrl(None, None, None, None)
    scheme, user, host, port, _ = match.groups()
    user = user.split(":", 1)[0] if user else None
    return SmtpUrl(scheme.lower(), user or None, host or None, int(port) if port else None)


def neomutt_account(settings: dict[str, Any]) -> MailAccount:
    """The account NeoMutt uses, from its effective settings (``neomutt -D``).

    Incoming: ``folder`` (or ``spoolfile`` when it is a URL) ``imaps://host[:port]`` is IMAP over
    TLS (default port 993), ``imap://`` is IMAP with STARTTLS when ``ssl_starttls`` or
    ``ssl_force_tls`` is set (port 143). Outgoing: ``smtp_url``; ``smtps://`` is implicit TLS
    (465), ``smtp://`` uses STARTTLS when ``ssl_starttls`` or ``ssl_force_tls`` is set; NeoMutt
    authenticates when it has a user name (in the URL or ``smtp_user``).
    """
    starttls = bool(settings.get("ssl_starttls", True)) or bool(settings.get("ssl_force_tls", False))
    incoming = SmtpUrl(None, None, None, None)
    for key in ("folder", "spoolfile"):
        candidate = parse_mail_url(str(settings.get(key) or ""))
        if candidate.scheme in ("imap", "imaps", "pop", "pops"):
            incoming = candidate
            break
    values: dict[str, Any] = {}
    if incoming.scheme:
        secure = incoming.scheme.endswith("s")
        kind = "imap" if incoming.scheme.startswith("imap") else "pop3"
        default_port = {("imap", True): 993, ("imap", False): 143, ("pop3", True): 995, ("pop3", False): 110}[kind, secure]
        values.update({
            "incoming_type": kind,
            "incoming_host": incoming.host,
            "incoming_port": incoming.port or default_port,
            "incoming_security": "ssl/tls" if secure else ("starttls" if starttls else "none"),
            "incoming_user": incoming.user or settings.get("imap_user") or None,
        })
    smtp = parse_mail_url(str(settings.get("smtp_url") or ""))
    if smtp.scheme in ("smtp", "smtps"):
        secure = smtp.scheme == "smtps"
        user = smtp.user or settings.get("smtp_user") or None
        values.update({
            "outgoing_host": smtp.host,
            "outgoing_port": smtp.port or (465 if secure else 25),
            "outgoing_security": "ssl/tls" if secure else ("starttls" if starttls else "none"),
            "outgoing_auth": "password" if user else "none",
            "outgoing_user": user,
        })
    from_ = email.utils.parseaddr(str(settings.get("from") or ""))
    values["full_name"] = settings.get("real_name") or from_[0] or None
    values["email"] = from_[1] or None
    values["password"] = settings.get("imap_pass") or None
    values["smtp_password"] = settings.get("smtp_pass") or None
    values["problems"] = tuple(getattr(settings, "errors", ()))
    return MailAccount(**values)


class NeomuttDump(dict):
    """NeoMutt's effective settings ({variable: value}) and ``errors``: the lines it printed about
    the user's files before its settings (a file it cannot read, a line it rejects), in order."""

    def __init__(self, settings: dict[str, Any], errors: list[str]):
        super().__init__(settings)
        self.errors = list(errors)

    def unreadable(self, path: str) -> str | None:
        """Why NeoMutt could not open ``path`` ("Permission denied", "Invalid argument" for a
        directory...), None when it read it."""
        for line in self.errors:
            if line.startswith(f"{path}: "):
                return line[len(path) + 2:].strip()
        return None


class NeomuttSettings(Probe):
    """NeoMutt's effective settings for a user: ``neomutt -D`` run as that user (it reads their
    muttrc and the files it sources, applies the defaults, prints every variable and exits without
    connecting anywhere) -> :class:`NeomuttDump`. NeoMutt exits 0 and prints its settings even
    when the user's files are broken: it says so first, and that goes to ``errors``."""

    def __init__(self, user: str):
        self.user = user

    def command(self) -> str:
        return quote_line(
            "cd / && runuser -u %s -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "
            "sh -c 'HOME=$(getent passwd \"$(id -un)\" | cut -d: -f6) exec neomutt -D' 2>&1",
            self.user,
        )

    @probe_parser
    def process(self, output: str) -> NeomuttDump:
        lines = output.splitlines()
        # Only NeoMutt's own "set name = value" lines are parsed: the messages about the user's
        # files quote what the user wrote, quotes and all.
        dump = [line for line in lines if line.startswith("set ")]
        errors = [line.strip() for line in lines if line.strip() and not line.startswith("set ")]
        config = parse_muttrc("\n".join(dump))
        if "smtp_url" not in config.settings or "from" not in config.settings:
            raise ValueError(f"no variables in neomutt -D output: {output.strip()[:120]}")
        return NeomuttDump(config.settings, errors)


class NeomuttAliases(Probe):
    """What NeoMutt itself, run as ``user`` with their files, expands each of ``nicks`` to
    (``neomutt -A nick...``): {nick: [Contact]}, empty for a nick NeoMutt does not know (it prints
    the nick back). This is the address book the user gets, whatever the files say: an alias file
    the user cannot read, or that NeoMutt does not reach, gives nothing."""

    ok_codes = (0, 1)  # 1: some nick is not an alias

    def __init__(self, user: str, nicks: list[str]):
        self.user, self.nicks = user, list(nicks)

    def command(self) -> str:
        return quote_line(
            "cd / && runuser -u %s -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "
            "sh -c 'HOME=$(getent passwd \"$(id -un)\" | cut -d: -f6) exec neomutt \"$@\"' sh"
            + " -A %s" * len(self.nicks) + " 2>/dev/null",
            self.user, *self.nicks,
        )

    @probe_parser
    def process(self, output: str) -> dict[str, list[Contact]]:
        lines = output.splitlines()
        if len(lines) != len(self.nicks):
            raise ValueError(f"neomutt -A printed {len(lines)} lines for {len(self.nicks)} aliases")
        found = {}
        for nick, line in zip(self.nicks, lines):
            contacts = [Contact(name, address) for name, address in email.utils.getaddresses([line]) if "@" in address]
            found[nick] = [] if line.strip() == nick else contacts
        return found


@dataclasses.dataclass(frozen=True)
class ComposedMessage:
    """A message NeoMutt composed as the user (see :class:`NeomuttComposed`): its header, the From
    addresses in it, NeoMutt's exit status and what it printed."""

    rc: int  # 124 or 137: NeoMutt did not finish in time
    header: str
    senders: tuple[str, ...]  # every From: field of the header, as written
    output: str

    @property
    def timed_out(self) -> bool:
        return self.rc in TIMED_OUT


# Run as root under `unshare --mount --net`: no network at all (nothing can be sent anywhere), the
# user's home is a copy on a tmpfs, NeoMutt hands the message to a program that keeps it in /tmp.
_COMPOSE = "; ".join([
    "set -e",
    "user=$1 limit=$2",
    """home=$(getent passwd "$user" | cut -d: -f6)""",
    "mount -t tmpfs tspcr-compose /tmp",
    "chmod 1777 /tmp",
    """if [ -n "$home" ] && [ -d "$home" ]; then cp -a -- "$home" /tmp/.tspcr-home; mount --bind /tmp/.tspcr-home "$home"; fi""",
    """printf '#!/bin/sh\\ncat > /tmp/.tspcr-message\\n' > /tmp/.tspcr-capture""",
    "chmod 755 /tmp/.tspcr-capture",
    "cd /",
    """rc=0; echo 'tspcr probe' | timeout -k 1 "$limit" runuser -u "$user" -- env -i HOME="$home" PATH=/usr/bin:/bin"""
    """ LANG=C.UTF-8 neomutt -e 'set smtp_url=""' -e 'set sendmail="/tmp/.tspcr-capture"' -e 'unset copy'"""
    """ -s tspcr-probe -- probe@example.invalid >/tmp/.tspcr-output 2>&1 || rc=$?""",
    """printf '%s\\n' @@tspcr:rc "$rc" @@tspcr:output""",
    "head -c 2000 /tmp/.tspcr-output",
    """printf '\\n%s\\n' @@tspcr:header""",
    """if [ -f /tmp/.tspcr-message ]; then sed '/^$/q' /tmp/.tspcr-message | head -c 16384; fi""",
])


class NeomuttComposed(Probe):
    """The message NeoMutt composes when ``user`` sends one (batch mode, ``neomutt -s ... -- to``,
    their files read as for any message: ``from``, ``real_name``, ``my_hdr``, hooks...), handed to
    a program that keeps it instead of sending it: what recipients of that user's messages see.

    Runs as root in private mount and network namespaces (the home is a copy, there is no network):
    nothing is sent, nothing stays. -> :class:`ComposedMessage`."""

    def __init__(self, user: str, seconds: int = 8):
        self.user, self.seconds = user, seconds

    def command(self) -> str:
        return quote_line("unshare --mount --net --propagation private sh -c %s sh %s %s", _COMPOSE, self.user,
                          self.seconds)

    @probe_parser
    def process(self, output: str) -> ComposedMessage:
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in output.splitlines():
            if line.startswith("@@tspcr:") and line[8:] in ("rc", "output", "header"):
                current = sections.setdefault(line[8:], [])
            elif current is not None:
                current.append(line)
        if "rc" not in sections or "header" not in sections:
            raise ValueError("no @@tspcr:rc and @@tspcr:header sections")
        header = "\n".join(sections["header"]).strip("\n")
        message = email.message_from_string(header + "\n\n") if header else None
        senders = tuple(str(v) for v in message.get_all("From", [])) if message else ()
        return ComposedMessage(rc=int(sections["rc"][0].strip()), header=header, senders=senders,
                               output="\n".join(sections.get("output", [])).strip())


__all__ = [
    "AUTH_METHODS", "AbookContacts", "ComposedMessage", "Contact", "MASK", "MailAccount", "MuttConfig", "NeomuttAliases",
    "NeomuttComposed", "NeomuttDump", "NeomuttSettings",
    "NotAnAddressBook", "SOCKET_TYPES",
    "SmtpUrl", "default_profile_dir", "expand_path", "neomutt_account", "parse_abook_rows", "parse_alias_addresses",
    "parse_mail_url", "parse_muttrc", "parse_prefs_js", "parse_profiles_ini", "parse_vcards",
    "thunderbird_account",
]


# -- Talking to the mail server with a password -----------------------------------------------
