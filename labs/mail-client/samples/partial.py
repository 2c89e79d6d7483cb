"""A sample trainee's work for mail-client, partly right (NeoMutt seeds; for demos and tests):

* incoming mail set to IMAP with STARTTLS on port 143 instead of SSL/TLS on 993 (it works, but is
  not what was asked);
* outgoing mail, identity right, and the test message really sent through submission;
* the address book not imported (no aliases).
"""

import json
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

p = host.data.lab_expected

if host.name == "pc1" and p["client"] == "neomutt":
    login, home = p["login"], p["home"]
    files.put(
        name="pc1: ~/.neomuttrc",
        src=StringIO(
            f'set real_name = "{p["full_name"]}"\nset from = "{p["email"]}"\nset imap_user = "{login}"\n'
            f'set folder = "imap://{p["mail_server"]}:143/"\n'
            f'set smtp_url = "smtp://{login}@{p["mail_server"]}:{p["smtp_port"]}/"\nset ssl_starttls = yes\n'
        ),
        dest=f"{home}/.neomuttrc", user=login, group=login, mode="600",
    )
    server.shell(
        name="pc1: send the test message",
        commands=[
            f"echo test | runuser -u {login} -- env -i HOME={home} PATH=/usr/bin:/bin neomutt "
            f"-e {shlex.quote('set smtp_pass=' + json.dumps(p['password']))} -s {shlex.quote(p['test_subject'])} "
            f"-- {shlex.quote(p['test_recipient'])}"
        ],
    )
