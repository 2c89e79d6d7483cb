"""The host object: arguments quoted, evidence recorded, secrets masked in the evidence and in
every exception a trainee or an examiner may read."""

from __future__ import annotations

import shlex
import socket
import threading
import time
import traceback

import pytest

from tspcr_lab.errors import BrokenWork, CommandTimeout, HostUnreachable, ProbeError, UnreadableFile, masked
from tspcr_lab.host import MASK, Host
from tspcr_lab.probes.samba import SmbClient
from tspcr_lab.transport import ssh
from tspcr_lab.transport.base import CommandResult, LoginResult, Transport
from tspcr_lab.transport.local import LocalTransport


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


# -- secrets never reach an exception ---------------------------------------------------------------

SECRET = "Sapin 39e'_+"  # needs quoting: both of its forms must go


class Failing(Transport):
    """A transport that puts the command line in its exceptions (as a careless one would)."""

    name = "failing"

    def __init__(self, exc_type=CommandTimeout):
        self.exc_type = exc_type

    def run(self, command, timeout):
        raise self.exc_type(f"pc1: `{command}` did not finish in time")

    def login(self, username, password, command, timeout, *, session=False):
        raise HostUnreachable(f"pc1: login as {username} with {password} lost during {command}")


@pytest.mark.parametrize("exc_type", [CommandTimeout, HostUnreachable, ProbeError])
def test_an_exception_raised_while_a_command_with_secrets_runs_is_masked(exc_type):
    host = Host("pc1", Failing(exc_type))
    with pytest.raises(exc_type) as info:
        host.run("PASSWD=%s smbclient -U %s", SECRET, "olivier", secrets=(SECRET,))
    text = str(info.value)
    assert SECRET not in text and text == f"pc1: `PASSWD='{MASK}' smbclient -U olivier` did not finish in time"
    # Not even in the context that a traceback would print.
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    assert SECRET not in "".join(traceback.format_exception(info.value))


def test_without_secrets_the_exception_is_the_transports_own():
    host = Host("pc1", Failing())
    with pytest.raises(CommandTimeout) as info:
        host.run("sleep %s", 5)
    assert str(info.value) == "pc1: `sleep 5` did not finish in time" and not info.value.__suppress_context__


def test_what_a_probe_with_secrets_raises_is_masked():
    """SmbClient holds the password in PASSWD: its ProbeError (built from the command line and the
    output) never shows it."""
    quoted = shlex.quote(SECRET)

    class Smb(Transport):
        def run(self, command, timeout):
            return CommandResult(command, 127, "", f"sh: 1: {SECRET}: smbclient: not found\n", host="pc1")

    with pytest.raises(ProbeError) as info:
        Host("pc1", Smb()).probe(SmbClient("10.0.0.1", "rh", "ls", "olivier", SECRET))
    assert SECRET not in str(info.value) and quoted not in str(info.value) and MASK in str(info.value)


def test_a_login_password_is_masked_in_exceptions_and_evidence():
    host = Host("pc1", Failing())
    with pytest.raises(HostUnreachable) as info:
        host.login("olivier", SECRET, "id -un")
    assert SECRET not in str(info.value) and MASK in str(info.value)

    class Echo(Transport):
        def run(self, command, timeout):  # pragma: no cover - not used
            raise AssertionError

        def login(self, username, password, command, timeout, *, session=False):
            result = CommandResult(f"ssh {username}@pc1 (password) {command}", 0, f"typed {password}\n", "", host="pc1")
            return LoginResult(username, True, result)

    evidence = []
    host = Host("pc1", Echo())
    host.recorder = evidence.append
    login = host.login("olivier", SECRET, "id -un")
    assert login.result.stdout == f"typed {SECRET}\n"  # the check reads the real output
    assert evidence[0].stdout == f"typed {MASK}\n"


def test_findings_holding_a_secret_are_masked_in_every_language():
    found = BrokenWork({"fr": f"refusé : {SECRET}", "en": f"refused: {SECRET}"})
    hidden = masked(found, (SECRET,))
    assert type(hidden) is BrokenWork and hidden is not found
    assert hidden.messages == {"fr": f"refusé : {MASK}", "en": f"refused: {MASK}"} and hidden.public == hidden.messages
    assert SECRET not in str(hidden)
    unreadable = UnreadableFile(f"/home/u/{SECRET}", "directory")
    hidden = masked(unreadable, (SECRET,))
    assert (type(hidden), hidden.path, hidden.reason) == (UnreadableFile, f"/home/u/{MASK}", "directory")
    assert masked(found, ("not in it",)) is found and masked(found, ("",)) is found


def test_a_timed_out_command_is_not_in_the_message():
    """Real timeouts of the local transport and of the SSH transport's reading loop."""
    with pytest.raises(CommandTimeout) as info:
        Host("pc1", LocalTransport("pc1")).run("PASSWD=%s sleep 5", SECRET, timeout=0.2)
    assert str(info.value) == "pc1: a command did not finish within 0.2 s"

    class SilentChannel:
        """A paramiko channel whose command never answers."""

        status_event = threading.Event()

        def exec_command(self, command):
            self.command = command

        def settimeout(self, value):
            pass

        def recv(self, size):
            raise socket.timeout()

        recv_stderr = recv

        def exit_status_ready(self):
            return False

    with pytest.raises(CommandTimeout) as info:
        ssh._exec(SilentChannel(), f"PASSWD={SECRET} smbclient", time.monotonic() + 5, "srv1", limit=10)
    assert str(info.value) == "srv1: a command did not finish within 10 s"
    with pytest.raises(CommandTimeout) as info:
        ssh._read_until(SilentChannel(), b"READY", time.monotonic() + 5, "pc1", limit=8)
    assert str(info.value) == "pc1: the login session did not start within 8 s"
