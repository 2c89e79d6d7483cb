"""The portal's SSH endpoint on the real virtual lab, with real clients: a trainee logs in with
their access code, picks pc1 in the menu, and what they type lands on *their* pc1 as root, not on
another trainee's; a window change reaches the host's shell; leaving the shell is the menu again.
A wrong code, another trainee's code, a command (the OpenSSH client's ``ssh ID@server id``), sftp
and port forwarding are refused; a stopped host is one line and the menu; a name with escape
sequences in the class file reaches the terminal without them; the host key the client sees is
the one kept in the portal's state folder."""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
import time

import paramiko
import pytest
from asyncssh import read_private_key

from tspcr_lab.labfile import load_lab
from tspcr_lab.virtual.lab import STATE_ROOT, VirtualLab

from .conftest import cli, crash
from .portal_support import Serve, class_up, free_port

CLASS = """
[class]
name = "e2e ssh"
seed = 91

[[trainees]]
id = "s01"
name = "Sam \\u001b[31mRouge\\u001b]0;title\\u0007"

[[trainees]]
id = "s02"
name = "Sasha Deux"
"""
PROMPT = "Choix / Choice: ".encode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with class_up("ip-plan", CLASS, tmp_path_factory.mktemp("ssh"), secrets.token_hex(32)) as klass:
        serve = Serve(klass.folder, "ip-plan", "--class", str(klass.path), "--ssh-port", str(free_port()),
                      "--signing-key", str(klass.key))
        try:
            lab = load_lab("ip-plan")
            vlabs = {tid: VirtualLab(lab, f"ip-plan-{tid}") for tid in ("s01", "s02")}
            yield {"port": serve.ssh_port, "codes": klass.codes, "vlabs": vlabs, "folder": klass.folder}
        finally:
            serve.stop()


def connect(port: int, user: str, password: str) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # a fresh key of this test's server
    client.connect("127.0.0.1", port=port, username=user, password=password, look_for_keys=False,
                   allow_agent=False, timeout=10, banner_timeout=10, auth_timeout=10)
    return client


def read_until(chan: paramiko.Channel, needle: bytes, timeout: float = 20) -> bytes:
    out, deadline = b"", time.monotonic() + timeout
    chan.settimeout(0.2)
    while needle not in out:
        assert time.monotonic() < deadline, f"{needle!r} never came: {out[-2000:]!r}"
        try:
            data = chan.recv(65536)
        except socket.timeout:
            continue
        assert data, f"the session ended before {needle!r}: {out[-2000:]!r}"
        out += data
    return out


def on_pc1(tid: str) -> subprocess.CompletedProcess:
    return cli("exec", "pc1", "--instance", f"ip-plan-{tid}", "--", "cat", "/root/ssh.txt")


def test_menu_then_my_own_pc1_as_root_then_the_menu_again(served):
    client = connect(served["port"], "s01", served["codes"]["s01"])
    try:
        key_file = STATE_ROOT / "portal" / "ssh_host_ed25519_key"  # made once, kept for the next serve
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        seen = client.get_transport().get_remote_server_key()
        kept = read_private_key(key_file).export_public_key().decode().split()[:2]
        assert [seen.get_name(), seen.get_base64()] == kept
        chan = client.invoke_shell(term="xterm", width=100, height=30)
        menu = read_until(chan, PROMPT)
        assert b"1) pc1 (en marche / running)" in menu and b"q) quitter / quit" in menu
        assert b"Sam ?[31mRouge?]0;title?" in menu and b"\x1b" not in menu and b"\x07" not in menu
        chan.send(b"1\r")
        chan.send(b"echo ssh-ok > /root/ssh.txt; echo \"uid-$(id -u)-$((6*7))\"\r")
        assert b"uid-0-42" in read_until(chan, b"-42\r\n")
        chan.resize_pty(width=123, height=45)
        chan.send(b"stty size\r")
        read_until(chan, b"45 123")
        chan.send(b"exit\r")
        assert b"1) pc1" in read_until(chan, PROMPT)
        chan.send(b"q\r")
        read_until(chan, b"Goodbye")
        assert chan.recv_exit_status() == 0
    finally:
        client.close()
    mine, theirs = on_pc1("s01"), on_pc1("s02")
    assert (mine.returncode, mine.stdout) == (0, "ssh-ok\n"), mine.stderr
    assert theirs.returncode != 0 and "ssh-ok" not in theirs.stdout


def test_a_wrong_code_or_another_trainees_code_is_refused(served):
    codes = served["codes"]
    for user, code in (("s01", "AAAAA-AAAAA"), ("s01", codes["s02"]), ("nobody", codes["s01"])):
        with pytest.raises(paramiko.AuthenticationException):
            connect(served["port"], user, code).close()


def test_only_a_shell_a_command_sftp_and_forwarding_are_refused(served, tmp_path):
    askpass = tmp_path / "askpass"
    askpass.write_text(f"#!/bin/sh\necho {served['codes']['s01']}\n")
    askpass.chmod(stat.S_IRWXU)
    env = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
    proc = subprocess.run(
        ["setsid", "-w", "ssh", "-F", "/dev/null", "-p", str(served["port"]), "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
         "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10", "s01@127.0.0.1", "id"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30)
    assert proc.returncode != 0 and "uid=" not in proc.stdout
    assert "exec request failed" in proc.stderr, proc.stderr  # authenticated, then the command refused

    client = connect(served["port"], "s01", served["codes"]["s01"])
    try:
        with pytest.raises(paramiko.SSHException):
            client.exec_command("id", timeout=10)
        with pytest.raises(paramiko.SSHException):
            client.open_sftp()
        with pytest.raises(paramiko.ChannelException):
            client.get_transport().open_channel("direct-tcpip", ("127.0.0.1", served["port"]), ("127.0.0.1", 1))
        with pytest.raises(paramiko.SSHException):
            client.get_transport().request_port_forward("127.0.0.1", 0)
    finally:
        client.close()


def test_a_stopped_host_is_one_line_and_the_menu_again(served):
    crash(served["vlabs"]["s02"], "pc2")
    client = connect(served["port"], "s02", served["codes"]["s02"])
    try:
        chan = client.invoke_shell(term="xterm")
        assert b"2) pc2 (arr\xc3\xaat\xc3\xa9e / stopped)" in read_until(chan, PROMPT)
        chan.send(b"2\r")
        out = read_until(chan, PROMPT)
        assert b"pc2 ne fonctionne pas" in out and b"pc2 is not running" in out
        chan.send(b"\x04")  # Ctrl-D in the menu: leave
        assert chan.recv_exit_status() == 0
    finally:
        client.close()
