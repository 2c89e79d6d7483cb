"""A correct trainee's work for mail-client (pyinfra deploy): what ``tspcr-lab solve`` applies.

On pc1, in the user's account:

* NeoMutt: ``~/.neomuttrc`` (IMAPS folder, submission URL with the login, STARTTLS, identity, the
  aliases file it sources), ``~/.neomutt/aliases`` made from the vCard file, and the test message
  sent for real with NeoMutt in batch mode (the password given for this one command only);
* Thunderbird (not installed here): the profile Thunderbird writes (``profiles.ini``,
  ``installs.ini``, ``prefs.js``), the personal address book ``abook.sqlite`` with the vCard
  file's contacts, and the test message sent the way Thunderbird sends it (submission on 587,
  STARTTLS, authentication, certificate verified), with python's smtplib.
"""

import hashlib
import json
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

p = host.data.lab_expected

if host.name == "pc1":
    login, home = p["login"], p["home"]
    runas = f"cd {home} && runuser -u {login} -- env -i HOME={home} PATH=/usr/bin:/bin LANG=C.UTF-8"
    body = f"Bonjour,\n\nCeci est un message de test envoyé par {p['full_name']}.\n"

    def put(text: str, dest: str, mode: str = "600"):
        files.put(name=f"pc1: {dest}", src=StringIO(text), dest=dest, user=login, group=login, mode=mode)

    def directory(path: str):
        files.directory(name=f"pc1: {path}/", path=path, user=login, group=login, mode="700")

    if p["client"] == "neomutt":
        directory(f"{home}/.neomutt")
        put(
            "# Compte de messagerie (IMAPS en réception, soumission STARTTLS en envoi)\n"
            f'set real_name = "{p["full_name"]}"\n'
            f'set from = "{p["email"]}"\n'
            "set use_from = yes\n"
            f'set imap_user = "{login}"\n'
            f'set folder = "imaps://{p["mail_server"]}:{p["imap_port"]}/"\n'
            'set spoolfile = "+INBOX"\n'
            f'set smtp_url = "smtp://{login}@{p["mail_server"]}:{p["smtp_port"]}/"\n'
            "set ssl_starttls = yes\n"
            "set ssl_force_tls = yes\n"
            'set alias_file = "~/.neomutt/aliases"\n'
            "source ~/.neomutt/aliases\n",
            f"{home}/.neomuttrc",
        )
        put("".join(f"alias {c['first'].lower()}{c['last'][0].lower()} {c['name']} <{c['email']}>\n"
                    for c in p["contacts"]), f"{home}/.neomutt/aliases")
        put(body, f"{home}/.neomutt/test-message.txt")
        server.shell(
            name="pc1: send the test message with neomutt (batch mode)",
            commands=[
                f"{runas} neomutt -e {shlex.quote('set smtp_pass=' + json.dumps(p['password']))} "
                f"-s {shlex.quote(p['test_subject'])} -- {shlex.quote(p['test_recipient'])} "
                f"< {home}/.neomutt/test-message.txt"
            ],
        )

    else:
        base = f"{home}/.thunderbird"
        folder = hashlib.sha256(f"{login}:{p['email']}".encode()).hexdigest()[:8] + ".default-release"
        profile = f"{base}/{folder}"
        directory(base)
        directory(profile)
        put(f"[Install4F96D1932A9F858E]\nDefault={folder}\nLocked=1\n", f"{base}/installs.ini", mode="644")
        put(
            f"[Install4F96D1932A9F858E]\nDefault={folder}\nLocked=1\n\n"
            f"[Profile0]\nName=default-release\nIsRelative=1\nPath={folder}\nDefault=1\n\n"
            "[General]\nStartWithLastProfile=1\nVersion=2\n",
            f"{base}/profiles.ini", mode="644",
        )
        prefs = {
            "mail.account.account1.identities": "id1",
            "mail.account.account1.server": "server1",
            "mail.account.account2.server": "server2",
            "mail.accountmanager.accounts": "account1,account2",
            "mail.accountmanager.defaultaccount": "account1",
            "mail.accountmanager.localfoldersserver": "server2",
            "mail.identity.id1.fullName": p["full_name"],
            "mail.identity.id1.useremail": p["email"],
            "mail.identity.id1.smtpServer": "smtp1",
            "mail.identity.id1.valid": True,
            "mail.identity.id1.reply_on_top": 1,
            "mail.server.server1.check_new_mail": True,
            "mail.server.server1.hostname": p["mail_server"],
            "mail.server.server1.login_at_startup": True,
            "mail.server.server1.name": p["email"],
            "mail.server.server1.port": p["imap_port"],
            "mail.server.server1.socketType": 3,
            "mail.server.server1.authMethod": 3,
            "mail.server.server1.type": "imap",
            "mail.server.server1.userName": login,
            "mail.server.server2.hostname": "Local Folders",
            "mail.server.server2.name": "Dossiers locaux",
            "mail.server.server2.type": "none",
            "mail.server.server2.userName": "nobody",
            "mail.smtp.defaultserver": "smtp1",
            "mail.smtpserver.smtp1.authMethod": 3,
            "mail.smtpserver.smtp1.description": p["mail_server"],
            "mail.smtpserver.smtp1.hostname": p["mail_server"],
            "mail.smtpserver.smtp1.port": p["smtp_port"],
            "mail.smtpserver.smtp1.try_ssl": 2,
            "mail.smtpserver.smtp1.username": login,
            "mail.smtpservers": "smtp1",
        }
        lines = [
            "// Mozilla User Preferences",
            "",
            "// DO NOT EDIT THIS FILE.",
            "//",
            "// If you make changes to this file while the application is running,",
            "// the changes will be overwritten when the application exits.",
            "//",
            "// To change a preference value, you can either:",
            "// - modify it via the UI (e.g. via about:config in the browser); or",
            "// - set it within a user.js file in your profile.",
            "",
        ] + [f"user_pref({json.dumps(k)}, {json.dumps(v, ensure_ascii=False)});" for k, v in sorted(prefs.items())]
        put("\n".join(lines) + "\n", f"{profile}/prefs.js")

        cards = []
        for i, c in enumerate(p["contacts"]):
            uid = hashlib.sha256(c["email"].encode()).hexdigest()
            uid = f"{uid[:8]}-{uid[8:12]}-4{uid[13:16]}-a{uid[17:20]}-{uid[20:32]}"
            vcard = (f"BEGIN:VCARD\r\nVERSION:4.0\r\nN:{c['last']};{c['first']};;;\r\nFN:{c['name']}\r\n"
                     f"EMAIL;PREF=1:{c['email']}\r\nUID:{uid}\r\nEND:VCARD\r\n")
            cards.append({"uid": uid, "DisplayName": c["name"], "FirstName": c["first"], "LastName": c["last"],
                          "PrimaryEmail": c["email"], "_vCard": vcard})
        abook = r'''
import json, sqlite3, sys
path, cards = sys.argv[1], json.loads(sys.argv[2])
db = sqlite3.connect(path)
db.executescript("""
CREATE TABLE IF NOT EXISTS properties (card TEXT, name TEXT, value TEXT);
CREATE TABLE IF NOT EXISTS lists (uid TEXT PRIMARY KEY, name TEXT, nickName TEXT, description TEXT);
CREATE TABLE IF NOT EXISTS list_cards (list TEXT, card TEXT, PRIMARY KEY(list, card));
CREATE INDEX IF NOT EXISTS properties_card ON properties(card);
CREATE INDEX IF NOT EXISTS properties_name ON properties(name);
PRAGMA user_version = 4;
""")
for card in cards:
    uid = card.pop("uid")
    db.execute("DELETE FROM properties WHERE card = ?", (uid,))
    db.executemany("INSERT INTO properties VALUES (?, ?, ?)", [(uid, k, v) for k, v in card.items()])
db.commit()
'''
        send = r'''
import email.message, email.utils, os, smtplib, ssl, sys
server, port, login, sender, recipient, subject = sys.argv[1:7]
msg = email.message.EmailMessage()
msg["From"], msg["To"], msg["Subject"] = sender, recipient, subject
msg["Date"] = email.utils.formatdate(localtime=True)
msg["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
msg["User-Agent"] = "Mozilla Thunderbird"
msg.set_content(sys.stdin.read())
with smtplib.SMTP(server, int(port), timeout=15) as smtp:
    smtp.starttls(context=ssl.create_default_context())
    smtp.login(login, os.environ["MAIL_PASSWORD"])
    smtp.send_message(msg)
'''
        server.shell(
            name="pc1: personal address book (abook.sqlite) and the test message",
            commands=[
                f"{runas} python3 -c {shlex.quote(abook)} {profile}/abook.sqlite {shlex.quote(json.dumps(cards))}",
                f"printf '%s' {shlex.quote(body)} | {runas} MAIL_PASSWORD={shlex.quote(p['password'])} python3 -c "
                f"{shlex.quote(send)} {p['mail_server']} {p['smtp_port']} {login} "
                f"{shlex.quote(p['full_name'] + ' <' + p['email'] + '>')} {shlex.quote(p['test_recipient'])} "
                f"{shlex.quote(p['test_subject'])}",
            ],
        )
