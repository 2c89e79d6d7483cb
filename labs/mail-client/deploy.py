"""Starting state of the mail-client lab (pyinfra deploy).

srv1 is the company's mail server, mail.<domain>: postfix (SMTP on 25 for delivery, submission on
587 with STARTTLS required and SASL authentication through dovecot, no authentication before TLS)
and dovecot (IMAPS on 993, IMAP on 143 with STARTTLS, no cleartext authentication), mailboxes in
Maildir under the users' homes, a certificate signed by the lab's own CA. pc1 is the user's PC:
the user's account, the CA in the system trust store, the address book file to import. The mail
client itself is left unconfigured: that is the trainee's work.

The CA is made with openssl on the machine that runs the deploy, once per run (cached on pyinfra's
state, shared by every host of the run), and copied to the hosts.
"""

import shlex
from io import StringIO

from pyinfra import host, state
from pyinfra.operations import files, server

from tspcr_lab.provision.pki import lab_pki
from tspcr_lab.provision.services import service_at_boot

p = host.data.lab_expected
role = host.data.lab_role
domain = p["domain"]
mail_server = p["mail_server"]
srv_ip = p["srv1"].split("/")[0]
CA_FILE = "/usr/local/share/ca-certificates/lab-ca.crt"
TLS_DIR = "/etc/ssl/lab"


pki = lab_pki(state, "mail_client_pki", p["ca_name"], [mail_server])


def put(text: str, dest: str, mode: str = "644", user: str = "root", group: str = "root", name: str = ""):
    files.put(name=name or f"{host.name}: {dest}", src=StringIO(text), dest=dest, mode=mode, user=user, group=group)


address = p[host.name]
put(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {address}\n", "/etc/network/interfaces.d/lab")
put(
    f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    f"{srv_ip}\t{mail_server} mail srv1.{domain} srv1\n{p['pc1'].split('/')[0]}\tpc1.{domain} pc1\n",
    "/etc/hosts",
)
put(pki["ca.crt"], CA_FILE, name=f"{host.name}: the lab's CA in the trust store")


def set_password(user: str, password: str) -> str:
    return f"printf '%s\\n' {shlex.quote(f'{user}:{password}')} | chpasswd"


POSTFIX_MAIN = f"""\
# Mail server of the lab (written by the deploy)
compatibility_level = 3.6
myhostname = {mail_server}
mydomain = {domain}
myorigin = $mydomain
mydestination = $myhostname, $mydomain, localhost
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
home_mailbox = Maildir/
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
recipient_delimiter = +
biff = no
smtpd_banner = $myhostname ESMTP
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = {TLS_DIR}/server.crt
smtpd_tls_key_file = {TLS_DIR}/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_authenticated_header = yes
smtp_tls_security_level = may
maillog_file = /var/log/postfix.log
"""

SUBMISSION = """\
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
"""

# Indexes in memory and control files (uidlist) on tmpfs: reading a mailbox (the grader does)
# leaves the Maildir as it was; dovecot rebuilds them when needed.
DOVECOT = f"""\
# Mail server of the lab (written by the deploy): IMAP only, never a cleartext login
protocols = imap
listen = *
disable_plaintext_auth = yes
auth_mechanisms = plain login
ssl = yes
mail_location = maildir:~/Maildir:INDEX=MEMORY:CONTROL=/tmp/dovecot-control-%u
log_path = /var/log/dovecot.log
service auth {{
  unix_listener /var/spool/postfix/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""

if host.name == "srv1":
    put(pki["server.crt"], f"{TLS_DIR}/server.crt")
    put(pki["server.key"], f"{TLS_DIR}/server.key", mode="600")
    # dovecot's stock 10-ssl.conf reads these paths (Debian's place for its certificate)
    put(pki["server.crt"], "/etc/dovecot/private/dovecot.pem")
    put(pki["server.key"], "/etc/dovecot/private/dovecot.key", mode="600")
    put(f"{mail_server}\n", "/etc/mailname")
    put(POSTFIX_MAIN, "/etc/postfix/main.cf")
    put(DOVECOT, "/etc/dovecot/local.conf")
    local_part = p["email"].split("@")[0]
    put(f"postmaster: root\n{local_part}: {p['login']}\n", "/etc/aliases")
    server.shell(
        name="srv1: mail accounts, postfix and dovecot",
        commands=[
            "update-ca-certificates >/dev/null",
            "grep -q '^submission ' /etc/postfix/master.cf || cat >>/etc/postfix/master.cf <<'EOF'\n" + SUBMISSION + "EOF",
            f"id -u {p['login']} >/dev/null 2>&1 || useradd -m -s /usr/sbin/nologin -c {shlex.quote(p['full_name'])} {p['login']}",
            f"id -u {p['recipient_login']} >/dev/null 2>&1 || useradd -m -s /usr/sbin/nologin {p['recipient_login']}",
            set_password(p["login"], p["password"]),
            set_password(p["recipient_login"], p["recipient_password"]),
            f"install -d -o {p['login']} -g {p['login']} -m 700 /home/{p['login']}/Maildir /home/{p['login']}/Maildir/cur "
            f"/home/{p['login']}/Maildir/new /home/{p['login']}/Maildir/tmp",
            f"install -d -o {p['recipient_login']} -g {p['recipient_login']} -m 700 /home/{p['recipient_login']}/Maildir "
            f"/home/{p['recipient_login']}/Maildir/cur /home/{p['recipient_login']}/Maildir/new /home/{p['recipient_login']}/Maildir/tmp",
            "newaliases",
            "touch /var/log/postfix.log /var/log/dovecot.log",
            "ifup -a",
        ],
    )
    service_at_boot("postfix", "dovecot")
    # A fresh host runs neither yet: start them (a restart would first wait for a stop).
    server.shell(name="srv1: start the mail services",
                 commands=[f"(service {svc} status && service {svc} restart || service {svc} start) >/dev/null 2>&1"
                           for svc in ("postfix", "dovecot")])

elif host.name == "pc1":
    login, home = p["login"], p["home"]
    cards = "".join(
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"N:{c['last']};{c['first']};;;\r\nFN:{c['name']}\r\nEMAIL;TYPE=INTERNET:{c['email']}\r\nEND:VCARD\r\n"
        for c in p["contacts"]
    )
    server.shell(
        name="pc1: the user's account and the trust store",
        commands=[
            f"id -u {login} >/dev/null 2>&1 || useradd -m -s /bin/bash -c {shlex.quote(p['full_name'])} {login}",
            set_password(login, p["password"]),
            "update-ca-certificates >/dev/null",
            "ifup -a",
        ],
    )
    put(cards, p["contacts_file"], mode="644", user=login, group=login, name="pc1: the address book to import")
