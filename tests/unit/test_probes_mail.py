"""Mail client probes and parsers, on files and outputs recorded from the mail-client lab's virtual
hosts (tests/unit/recorded/mail: a NeoMutt and a Thunderbird setup written by the lab's solution,
`neomutt -D` as the user, `sqlite3 -readonly -json` on abook.sqlite)."""

from __future__ import annotations


import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.mail import (
    AbookContacts,
    Contact,
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
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded

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
