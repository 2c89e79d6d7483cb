"""The console transport's own mechanics, with an empty prefix (the command runs right here):
output, exit codes, a time limit that ends the whole command, outputs cut at a bound, and a
stopped host's login raised rather than taken for a refusal."""

from __future__ import annotations

import time

import pytest

from tspcr_lab.errors import CommandTimeout, HostUnreachable
from tspcr_lab.transport import console
from tspcr_lab.transport.base import Transport
from tspcr_lab.transport.console import ConsoleTransport


def local(running=lambda: True, **kwargs) -> ConsoleTransport:
    return ConsoleTransport("pc1", lambda: [], running=running, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                            **kwargs)


def test_output_exit_code_and_a_clean_environment(monkeypatch):
    monkeypatch.setenv("TSPCR_SECRET_OF_THE_GRADER", "x")
    result = local().run("echo out; echo err >&2; env | grep -c TSPCR_ || true; exit 3", timeout=5)
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n0\n", "err\n")
    assert result.host == "pc1" and result.duration > 0
    assert local().running() is True


def test_a_signal_is_an_exit_code_as_a_shell_says_it():
    assert local().run("kill -9 $$", timeout=5).rc == 137


def test_a_command_past_its_time_is_ended_with_what_it_started(tmp_path):
    marker = tmp_path / "still-running"
    t0 = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        local().run(f"(sleep 2; touch {marker}) & sleep 30", timeout=0.5)
    assert time.monotonic() - t0 < 3
    assert "sleep" not in str(info.value)  # the command line (it may hold secrets) is never in the message
    time.sleep(2.5)
    assert not marker.exists(), "the command's background child was ended too"


def test_a_runaway_output_is_cut(monkeypatch):
    monkeypatch.setattr(console, "MAX_OUTPUT", 1000)
    result = local().run("head -c 100000 /dev/zero | tr '\\0' x", timeout=10)
    assert len(result.stdout) == 1000 and result.rc == 0


class Unreachable(Transport):
    def run(self, command, timeout):
        raise AssertionError("not used")

    def login(self, username, password, command, timeout, *, session=False):
        raise HostUnreachable("pc1: cannot connect to 172.31.0.11:22 (Connection refused)")


def test_no_ssh_answering_on_a_running_host_is_a_refused_login():
    login = local(login_transport=Unreachable).login("ana", "pw", "id", 5)
    assert login.accepted is False and "Connection refused" in login.reason


def test_a_stopped_host_is_an_error_not_a_refusal():
    with pytest.raises(HostUnreachable):
        local(running=lambda: False, login_transport=Unreachable).login("ana", "pw", "id", 5)
