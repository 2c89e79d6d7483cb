"""Mail client probes and parsers, on files and outputs recorded from the mail-client lab's virtual
hosts (tests/unit/recorded/mail: a NeoMutt and a Thunderbird setup written by the lab's solution,
`neomutt -D` as the user, `sqlite3 -readonly -json` on abook.sqlite)."""

from __future__ import annotations

import shlex

import pytest

from tspcr_lab.errors import CheckFailed, ProbeError
from tspcr_lab.expect import Check
from tspcr_lab.probes.mail import (
    AbookContacts,
    ComposedMessage,
    Contact,
    NeomuttAliases,
    NeomuttComposed,
    NeomuttSettings,
    NotAnAddressBook,
    default_profile_dir,
    expand_path,
    neomutt_account,
    parse_mail_url,
    parse_muttrc,
    parse_prefs_js,
    parse_profiles_ini,
    parse_vcards,
    thunderbird_account,
)
from tspcr_lab.transport.base import CommandResult, Transport

from .recorded_runs import Recorded, fake, parse_error

REC = Recorded("mail")
RECORDED, RUNS, text, replay = REC.path, REC.runs, REC.text, REC.replay


# -- Thunderbird ------------------------------------------------------------------------------

def test_profiles_ini_default_profile():
    ini = text("profiles.ini")
    assert parse_profiles_ini(ini) == [
        {"name": "default-release", "path": "d7c8657a.default-release", "relative": True, "default": True}]
    assert default_profile_dir(ini, "/home/nbernard/.thunderbird") == "/home/nbernard/.thunderbird/d7c8657a.default-release"


def test_profiles_ini_install_section_wins_and_absolute_paths():
    ini = ("[Profile1]\nName=old\nIsRelative=1\nPath=old.default\nDefault=1\n\n"
           "[Profile0]\nName=new\nIsRelative=0\nPath=/data/tb/new\n\n[Install1]\nDefault=/data/tb/new\n")
    assert default_profile_dir(ini, "/home/u/.thunderbird") in ("/home/u/.thunderbird/old.default", "/data/tb/new")
    only = "[Profile0]\nName=x\nPath=x.default\n"
    assert default_profile_dir(only, "/h/.thunderbird") == "/h/.thunderbird/x.default"
    assert default_profile_dir("[General]\nVersion=2\n", "/h") is None
    two = "[Profile0]\nPath=a\n[Profile1]\nPath=b\n"
    assert default_profile_dir(two, "/h") is None  # which one Thunderbird opens is not said


def test_prefs_js_recorded_account():
    prefs = parse_prefs_js(text("prefs.js"))
    assert prefs["mail.server.server1.port"] == 993 and prefs["mail.identity.id1.valid"] is True
    account = thunderbird_account(prefs)
    assert account.incoming() == {"type": "imap", "host": "mail.atelier-girard.lan", "port": 993,
                                  "security": "ssl/tls", "user": "nbernard"}
    assert account.outgoing() == {"host": "mail.atelier-girard.lan", "port": 587, "security": "starttls",
                                  "auth": "password", "user": "nbernard"}
    assert (account.full_name, account.email) == ("Nathan Bernard", "nathan.bernard@atelier-girard.lan")


def test_prefs_js_values_comments_and_escapes():
    prefs = parse_prefs_js(
        '// comment\n/* block\nuser_pref("ignored", 1);\n*/\n'
        'user_pref("a.string", "Jo \\"O\'Brien\\" \\u00e9\\\\");\n'
        'user_pref("a.int", -3);\nuser_pref("a.bool", false);  // trailing\n'
        'pref("a.int", 4);\nnot a pref\nuser_pref("broken", );\n'
    )
    assert prefs == {"a.string": 'Jo "O\'Brien" é\\', "a.int": 4, "a.bool": False}


def test_thunderbird_account_choices():
    base = {
        "mail.accountmanager.accounts": "account2,account1",
        "mail.account.account2.server": "server2", "mail.server.server2.type": "none",
        "mail.account.account1.server": "server1", "mail.account.account1.identities": "id3,id1",
        "mail.server.server1.type": "imap", "mail.server.server1.hostname": "h", "mail.server.server1.socketType": 2,
        "mail.identity.id3.fullName": "N", "mail.identity.id3.useremail": "n@d",
        "mail.smtpservers": "smtp4", "mail.smtpserver.smtp4.hostname": "s", "mail.smtpserver.smtp4.authMethod": 1,
        "mail.smtpserver.smtp4.try_ssl": 0,
    }
    account = thunderbird_account(base)
    # Local Folders is skipped; STARTTLS on the default port; the first identity; no auth, no TLS.
    assert account.incoming() == {"type": "imap", "host": "h", "port": 143, "security": "starttls", "user": None}
    assert account.outgoing() == {"host": "s", "port": 587, "security": "none", "auth": "none", "user": None}
    assert account.email == "n@d"
    assert thunderbird_account({"mail.accountmanager.accounts": "account2", **{k: v for k, v in base.items() if "2" in k}}) is None
    assert thunderbird_account({}) is None


def test_abook_recorded():
    contacts = replay(AbookContacts("/home/nbernard/.thunderbird/d7c8657a.default-release/abook.sqlite"), "abook")
    vcf = parse_vcards(text("contacts.vcf"))
    assert len(contacts) == 3 and len(vcf) == 3
    assert all(isinstance(c, Contact) and "@" in c.email for c in contacts)


def test_abook_missing_and_not_a_database():
    folder = "/home/nbernard/.thunderbird/d7c8657a.default-release"
    assert replay(AbookContacts(f"{folder}/nothing.sqlite"), "abook-missing") is None
    bad = replay(AbookContacts(f"{folder}/prefs.js"), "abook-not-a-db")
    assert isinstance(bad, NotAnAddressBook) and "not a database" in bad.reason
    probe = AbookContacts("/x/abook.sqlite")
    with pytest.raises(ProbeError):
        probe.evaluate(CommandResult(probe.command(), 127, "", "sh: sqlite3: not found"))
    with pytest.raises(ProbeError):
        probe.evaluate(CommandResult(probe.command(), 0, "[{not json", ""))
    assert probe.evaluate(CommandResult(probe.command(), 0, "", "")) == []  # an empty address book


def test_abook_vcard_only_cards():
    from tspcr_lab.probes.mail import parse_abook_rows

    rows = [{"card": "u1", "name": "_vCard",
             "value": "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana Lima\r\nEMAIL:ana@x.lan\r\nEMAIL:a2@x.lan\r\nEND:VCARD\r\n"}]
    assert parse_abook_rows(rows) == [Contact("Ana Lima", "ana@x.lan"), Contact("Ana Lima", "a2@x.lan")]


def test_vcards_folded_and_n_only():
    cards = "BEGIN:VCARD\nVERSION:3.0\nN:Roux;Léa;;;\nEMAIL;TYPE=INTERNET:lea.roux@\n x.lan\nEND:VCARD\n"
    assert parse_vcards(cards) == [Contact("Léa Roux", "lea.roux@x.lan")]
    assert [c.email for c in parse_vcards(text("contacts.vcf"))] == [
        "hugo.bonnet@client-a.lan", "ines.garcia@banque.lan", "laura.roux@fournisseur.lan"]


# -- NeoMutt ----------------------------------------------------------------------------------

def test_neomutt_dump_recorded():
    settings = replay(NeomuttSettings("lrousseau"), "neomutt-D")
    account = neomutt_account(settings)
    assert account.incoming() == {"type": "imap", "host": "mail.cabinet-moreau.lan", "port": 993,
                                  "security": "ssl/tls", "user": "lrousseau"}
    assert account.outgoing() == {"host": "mail.cabinet-moreau.lan", "port": 587, "security": "starttls",
                                  "auth": "password", "user": "lrousseau"}
    assert (account.full_name, account.email, account.password) == ("Louis Rousseau", "louis.rousseau@cabinet-moreau.lan", None)
    assert settings["ssl_force_tls"] is True and settings["alias_file"] == "~/.neomutt/aliases"


def test_neomutt_dump_garbage_is_a_probe_error():
    probe = NeomuttSettings("u")
    with pytest.raises(ProbeError):
        probe.evaluate(CommandResult(probe.command(), 0, "runuser: user u does not exist\n", ""))
    assert "'u'" not in probe.command() or "runuser -u u" in probe.command()
    hostile = NeomuttSettings("a; rm -rf /")
    assert "'a; rm -rf /'" in hostile.command()


def test_muttrc_and_aliases_recorded():
    config = parse_muttrc(text("neomuttrc"))
    assert config.sources == ["~/.neomutt/aliases"]
    assert config.settings["real_name"] == "Louis Rousseau" and config.settings["ssl_starttls"] is True
    parse_muttrc(text("aliases"), into=config)
    found = sorted((c.name, c.email) for entries in config.aliases.values() for c in entries)
    assert found == sorted((c.name, c.email) for c in parse_vcards(text("contacts.vcf")))


def test_muttrc_syntax():
    config = parse_muttrc(
        "# comment\nset realname='Jo O\"B' ; set from=jo@x.lan # trailing\n"
        "set nossl_starttls invuse_from\nunset imap_pass\nset smtp_url = \\\n  \"smtp://jo@h:587\"\n"
        "alias -group work jo \"Jo B\" <jo@x.lan>, other@x.lan (Other One)\nalias bad\n"
        "unalias nobody\nset ssl_force_tls=no\nreset ssl_force_tls\nsource \"~/my aliases\"\n"
    )
    assert config.settings == {"real_name": 'Jo O"B', "from": "jo@x.lan", "ssl_starttls": False, "use_from": True,
                               "imap_pass": False, "smtp_url": "smtp://jo@h:587"}
    assert config.aliases == {"jo": [Contact("Jo B", "jo@x.lan"), Contact("Other One", "other@x.lan")]}
    assert config.sources == ["~/my aliases"]
    with pytest.raises(ValueError):
        parse_muttrc('set from = "unterminated\n')


def test_neomutt_account_variants():
    plain = neomutt_account({"folder": "imap://u@h/", "smtp_url": "smtp://h:25", "ssl_starttls": False,
                             "ssl_force_tls": False, "from": "Jo <jo@x>"})
    assert plain.incoming() == {"type": "imap", "host": "h", "port": 143, "security": "none", "user": "u"}
    assert plain.outgoing() == {"host": "h", "port": 25, "security": "none", "auth": "none", "user": None}
    assert (plain.full_name, plain.email) == ("Jo", "jo@x")
    tls = neomutt_account({"folder": "~/Mail", "spoolfile": "imaps://h:1993/INBOX", "smtp_url": "smtps://h",
                           "smtp_user": "jo", "imap_user": "jo", "imap_pass": "pw"})
    assert tls.incoming()["port"] == 1993 and tls.incoming()["security"] == "ssl/tls" and tls.password == "pw"
    assert tls.outgoing() == {"host": "h", "port": 465, "security": "ssl/tls", "auth": "password", "user": "jo"}
    empty = neomutt_account({"from": "", "smtp_url": ""})
    assert empty.incoming_host is None and empty.outgoing_host is None and empty.email is None


def test_mail_urls_and_paths():
    assert parse_mail_url("smtp://jo:secret@mail.x.lan:587/") == parse_mail_url("smtp://jo@mail.x.lan:587")
    assert parse_mail_url("smtp://jo@mail.x.lan:587").port == 587
    assert parse_mail_url("not a url").scheme is None
    assert expand_path("~/.neomutt/aliases", "/home/jo") == "/home/jo/.neomutt/aliases"
    assert expand_path("$HOME/a", "/home/jo") == "/home/jo/a"
    assert expand_path("aliases", "/home/jo") == "/home/jo/aliases"


# -- NeoMutt on broken configurations (recorded: see recorded/mail/README.txt) ----------------------

RC = "/home/lrousseau/.neomuttrc"


def test_neomutt_says_what_it_cannot_read():
    """A directory or an unreadable file where ~/.neomuttrc goes: NeoMutt exits 0 with its
    defaults, after one line that says why; the probe keeps it, it does not fail."""
    directory = replay(NeomuttSettings("lrousseau"), "neomutt-D-rc-directory")
    assert directory.errors == [f"{RC}: Invalid argument"] and directory.unreadable(RC) == "Invalid argument"
    assert neomutt_account(directory).incoming_host is None  # none of the user's settings applied
    unreadable = replay(NeomuttSettings("lrousseau"), "neomutt-D-rc-unreadable")
    assert unreadable.unreadable(RC) == "Permission denied"
    solved = replay(NeomuttSettings("lrousseau"), "neomutt-D")
    assert solved.errors == [] and solved.unreadable(RC) is None


def test_neomutt_lines_it_rejects_are_kept_and_the_rest_applies():
    for name, error in (("neomutt-D-rc-unknown-command", f"Error in {RC}, line 4: sett: unknown command"),
                        ("neomutt-D-rc-stray-quote", f"Error in {RC}, line 5: noublie pas: unknown command"),
                        ("neomutt-D-source-directory",
                         f"Error in {RC}, line 12: source: file /home/lrousseau/.neomutt/aliases could not be sourced")):
        settings = replay(NeomuttSettings("lrousseau"), name)
        assert settings.errors == [error, f"source: errors in {RC}"] and settings.unreadable(RC) is None
        account = neomutt_account(settings)
        assert account.incoming_host == "mail.cabinet-moreau.lan" and account.problems == tuple(settings.errors)


def test_neomutt_output_that_is_not_utf8_is_read():
    account = neomutt_account(replay(NeomuttSettings("lrousseau"), "neomutt-D-rc-not-utf8"))
    assert account.full_name == "Lou\ufffds Rousseau"  # the identity check then says what it found


def test_neomutt_error_lines_quoting_the_user_never_break_the_parser():
    dump = REC.text("neomutt-D.out")
    settings = NeomuttSettings("u").evaluate(CommandResult("", 0, 'Error in /h/.neomuttrc, line 2: "it\'s: unknown\n' + dump, ""))
    assert settings.errors == ['Error in /h/.neomuttrc, line 2: "it\'s: unknown'] and "smtp_url" in settings


# -- the mail-client checks on those outputs --------------------------------------------------------

def _mail_checks():
    import importlib.util

    from tspcr_lab.labfile import checks_dir

    spec = importlib.util.spec_from_file_location("mail_client_checks", checks_dir() / "mail-client" / "test_mail_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTED = {"home": "/home/lrousseau", "login": "lrousseau", "client": "neomutt",
            "mail_server": "mail.cabinet-moreau.lan", "imap_port": 993, "smtp_port": 587}


class Pc1(Transport):
    """pc1 as recorded: the rc files found (the check's own listing: "file PATH" or "other PATH"
    per existing candidate), NeoMutt's dump, file contents."""

    def __init__(self, rc_kind: str, dump: str, files: dict[str, CommandResult] | None = None, listing: str = ""):
        self.listing = listing or f"{rc_kind} {RC}\n"
        self.dump, self.files = dump, files or {}

    def run(self, command, timeout):
        if command.startswith("for f in"):
            return CommandResult(command, 0, self.listing, "", host="pc1")
        if command == NeomuttSettings("lrousseau").command():
            return REC.result(self.dump)
        return self.files[command]


def _pc1(rc_kind: str, dump: str, files=None, listing: str = ""):
    from tspcr_lab.host import Host

    return Host("pc1", Pc1(rc_kind, dump, files, listing))


def test_checks_look_for_the_rc_file_where_neomutt_does():
    """NeoMutt reads the first rc file that exists, ~/.config/neomutt/neomuttrc before ~/.neomuttrc:
    recorded with that one a directory and a good ~/.neomuttrc, NeoMutt read neither."""
    checks = _mail_checks()
    assert checks.NEOMUTT_RC[0] == ".config/neomutt/neomuttrc" and checks.NEOMUTT_RC[-2:] == (".neomuttrc", ".muttrc")
    xdg = "/home/lrousseau/.config/neomutt/neomuttrc"
    assert replay(NeomuttSettings("lrousseau"), "neomutt-D-xdg-directory").unreadable(xdg) == "Invalid argument"
    host = _pc1("", "neomutt-D-xdg-directory", listing=f"other {xdg}\nfile {RC}\n")
    with pytest.raises(CheckFailed, match="config/neomutt/neomuttrc is not a regular file"):
        checks.neomutt_settings(host, EXPECTED, Check("en"))
    # The listing the check runs names the candidates in that order.
    command = _Recorder()
    with pytest.raises(CheckFailed):
        checks.neomutt_rc(command.host, EXPECTED, Check("en"))
    assert command.lines[0].index("/.config/neomutt/neomuttrc") < command.lines[0].index("/.neomuttrc ")


class _Recorder(Transport):
    """Records the commands it is given; nothing exists."""

    def __init__(self):
        from tspcr_lab.host import Host

        self.lines, self.host = [], Host("pc1", self)

    def run(self, command, timeout):
        self.lines.append(command)
        return CommandResult(command, 0, "", "", host="pc1")


def test_checks_fail_a_directory_instead_of_the_muttrc():
    checks = _mail_checks()
    with pytest.raises(CheckFailed) as info:
        checks.neomutt_settings(_pc1("other", "neomutt-D-rc-directory"), EXPECTED, Check("en"))
    assert info.value.message("en") == f"{RC} is not a regular file (a directory?): NeoMutt cannot read it"
    assert "n'est pas un fichier ordinaire" in info.value.message("fr")


def test_checks_fail_a_muttrc_neomutt_cannot_read():
    checks = _mail_checks()
    with pytest.raises(CheckFailed) as info:
        checks.neomutt_settings(_pc1("file", "neomutt-D-rc-unreadable"), EXPECTED, Check("en"))
    assert info.value.message("en") == f"NeoMutt cannot read {RC} (Permission denied): none of its settings apply"


def test_checks_judge_what_neomutt_applied_and_quote_what_it_rejected():
    checks = _mail_checks()

    class Hosts:
        pc1 = _pc1("file", "neomutt-D-rc-unknown-command")

    checks.test_incoming_server(Hosts, EXPECTED, Check("en"))  # the account itself is right
    with pytest.raises(CheckFailed) as info:
        checks.test_identity(Hosts, {**EXPECTED, "full_name": "Louise Rousseau", "email": "louise@x.lan"}, Check("en"))
    assert f"(NeoMutt reports: Error in {RC}, line 4: sett: unknown command" in info.value.message("en")


def test_checks_fail_an_address_book_that_is_a_directory():
    """~/.neomuttrc sources ~/.neomutt/aliases, which is a directory: the trainee's failure."""
    from tspcr_lab.probes import FileContent

    aliases = "/home/lrousseau/.neomutt/aliases"
    files = {FileContent(RC).command(): CommandResult(FileContent(RC).command(), 0, text("neomuttrc"), ""),
             FileContent(aliases).command(): CommandResult(FileContent(aliases).command(), 4, "directory\n", "")}

    class Hosts:
        pc1 = _pc1("file", "neomutt-D-source-directory", files)

    with pytest.raises(CheckFailed) as info:
        checks = _mail_checks()
        checks.test_address_book_imported(Hosts, {**EXPECTED, "contacts": []}, Check("en"))
    assert info.value.message("en") == f"{aliases} is not a regular file: it is a directory"


# -- NeoMutt run as the user: neomutt -A and a composed message (recorded/neomutt) -----------------
# Recorded on mail-client seed 4242 (NeoMutt, user lrousseau), solved, then faults and alternatives
# of labs/mail-client/faults.toml (see recorded/neomutt/record.py).

NEOMUTT = Recorded("neomutt")
HUGO = Contact("Hugo Bonnet", "hugo.bonnet@client-a.lan")
INES = Contact("Ines Garcia", "ines.garcia@banque.lan")
LAURA = Contact("Laura Roux", "laura.roux@fournisseur.lan")
IDENTITY = "Louis Rousseau <louis.rousseau@cabinet-moreau.lan>"


def aliases(name: str):
    run = NEOMUTT.runs[name]
    return NEOMUTT.replay(NeomuttAliases(run["user"], run["nicks"]), name)


def composed(name: str) -> ComposedMessage:
    run = NEOMUTT.runs[name]
    return NEOMUTT.replay(NeomuttComposed(run["user"], **({"seconds": run["seconds"]} if "seconds" in run else {})), name)


def test_neomutt_aliases_recorded():
    everyone = {"hugob": [HUGO], "inesg": [INES], "laurar": [LAURA]}
    for name in ("aliases-solved", "aliases-identity-overridden", "aliases-wrong-identity-address",
                 "aliases-identity-written-another-way", "aliases-address-book-another-way", "aliases-rc-error"):
        assert aliases(name) == everyone, name
    assert aliases("aliases-unknown-nick") == {"hugob": [HUGO], "nobody": [], "laurar": [LAURA]}
    assert aliases("aliases-address-book-wrong-address")["hugob"] == [Contact("Hugo Bonnet", "hugo.bonnet@mail.client-a.lan")]


def test_neomutt_aliases_the_user_does_not_get():
    """An alias file the user cannot read, or that NeoMutt never sources: NeoMutt prints each nick back."""
    for name in ("aliases-address-book-unreadable", "aliases-address-book-not-imported"):
        assert NEOMUTT.runs[name]["rc"] == 1
        assert aliases(name) == {"hugob": [], "inesg": [], "laurar": []}, name


def test_neomutt_aliases_bad_outputs_are_probe_errors():
    # runuser for a user that does not exist prints nothing (its message goes to 2>/dev/null), exit 1
    with pytest.raises(ProbeError) as info:
        aliases("aliases-no-such-user")
    assert "printed 0 lines for 3 aliases" in str(info.value) and "NeomuttAliases" in str(info.value)
    probe = NeomuttAliases("lrousseau", ["hugob", "inesg", "laurar"])
    solved = NEOMUTT.text("aliases-solved.out")
    assert "printed 2 lines" in parse_error(probe, "".join(solved.splitlines(True)[:2]))
    assert "printed 4 lines" in parse_error(probe, solved + "extra\n")
    with pytest.raises(ProbeError):  # NeoMutt itself failing (not 0 or 1)
        probe.evaluate(CommandResult(probe.command(), 127, "", "sh: 1: exec: neomutt: not found\n"))
    assert fake(probe, "not an address\nhugob\n<>\n") == {"hugob": [], "inesg": [], "laurar": []}


def test_neomutt_aliases_command_quotes_its_arguments():
    line = NeomuttAliases("lrousseau", ["a b", "$(touch x)"]).command()
    assert shlex.split(line)[-5:] == ["-A", "a b", "-A", "$(touch x)", "2>/dev/null"]
    assert "-A 'a b' -A '$(touch x)' 2>/dev/null" in line and "runuser -u lrousseau --" in line


def test_neomutt_composed_recorded():
    for name in ("composed-solved", "composed-wrong-identity-address", "composed-identity-overridden",
                 "composed-identity-written-another-way", "composed-address-book-not-imported"):
        message = composed(name)
        assert message.rc == 0 and not message.timed_out and message.output == "", name
        assert "Subject: tspcr-probe" in message.header and "To: probe@example.invalid" in message.header
    assert composed("composed-solved").senders == (IDENTITY,)
    assert composed("composed-identity-written-another-way").senders == (IDENTITY,)
    # my_hdr From wins over from/real_name: the message carries the login's address
    assert composed("composed-identity-overridden").senders == ("Louis Rousseau <lrousseau@cabinet-moreau.lan>",)
    assert composed("composed-wrong-identity-address").senders == ("Louis Rousseau <lrousseau@cabinet-moreau.lan>",)


def test_neomutt_composed_keeps_what_neomutt_said():
    unreadable = composed("composed-address-book-unreadable")
    assert unreadable.senders == (IDENTITY,)
    assert unreadable.output.splitlines() == [
        "Error in /home/lrousseau/.neomuttrc, line 12: source: file /home/lrousseau/.neomutt/aliases could not be sourced",
        "source: errors in /home/lrousseau/.neomuttrc"]
    rc_error = composed("composed-rc-error")
    assert rc_error.senders == (IDENTITY,) and "sett: unknown command" in rc_error.output


def test_neomutt_composed_without_a_message():
    nobody = composed("composed-no-such-user")
    assert nobody.rc == 1 and nobody.header == "" and nobody.senders == ()
    assert nobody.output.startswith("runuser: user no-such-user does not exist")
    hang = composed("composed-hangs")
    assert hang.rc == 137 and hang.timed_out and hang.header == "" and hang.senders == ()
    assert hang.output == "Session terminated, killing shell..."


def test_neomutt_composed_bad_outputs_are_probe_errors():
    probe = NeomuttComposed("lrousseau")
    solved = NEOMUTT.text("composed-solved.out")
    assert "no @@tspcr:rc and @@tspcr:header" in parse_error(probe, "")
    assert "no @@tspcr:rc and @@tspcr:header" in parse_error(probe, solved.split("@@tspcr:header")[0])
    assert "cannot parse" in parse_error(probe, solved.replace("@@tspcr:rc\n0", "@@tspcr:rc\nzero"))
    assert "cannot parse" in parse_error(probe, "@@tspcr:rc\n@@tspcr:header\n")
    with pytest.raises(ProbeError) as info:  # the namespaces refused: the probe's error
        probe.evaluate(CommandResult(probe.command(), 1, "", "unshare: unshare failed: Operation not permitted\n"))
    assert "Operation not permitted" in str(info.value)
    # a header cut short keeps what was there
    cut = solved[:solved.index("To:")]
    assert fake(probe, cut).senders == (IDENTITY,)
    words = shlex.split(NeomuttComposed("o'neil", seconds=3).command())
    assert words[:5] == ["unshare", "--mount", "--net", "--propagation", "private"] and words[-2:] == ["o'neil", "3"]
