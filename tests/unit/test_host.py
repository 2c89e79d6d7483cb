"""The host object: arguments quoted, evidence recorded, secrets masked in the evidence."""

from __future__ import annotations

from tspcr_lab.host import MASK, Host
from tspcr_lab.transport.base import CommandResult, Transport


class Echoing(Transport):
    """Runs nothing: gives back the line it was asked to run (so outputs may hold the secret)."""

    def __init__(self):
        self.lines = []

    def run(self, command, timeout):
        self.lines.append(command)
        return CommandResult(command, 0, f"ran {command}\n", f"err {command}\n", host="pc1")


def test_secrets_run_unchanged_and_are_masked_in_the_evidence():
    transport, evidence = Echoing(), []
    host = Host("pc1", transport)
    host.recorder = evidence.append
    secret = "s3cr.t pass'x"
    result = host.run("PASSWD=%s smbclient -U %s", secret, "olivier", secrets=(secret, ""))
    assert transport.lines[0] == "PASSWD='s3cr.t pass'\"'\"'x' smbclient -U olivier"
    assert "s3cr.t pass" in result.stdout  # what the check reads is the real output
    shown = evidence[0]
    for text in (shown.command, shown.stdout, shown.stderr):
        assert "s3cr.t" not in text and MASK in text
    assert shown.command == f"PASSWD='{MASK}' smbclient -U olivier"


def test_without_secrets_the_evidence_is_the_result():
    transport, evidence = Echoing(), []
    host = Host("pc1", transport)
    host.recorder = evidence.append
    result = host.run("echo %s", "a b")
    assert evidence == [result] and transport.lines == ["echo 'a b'"]
