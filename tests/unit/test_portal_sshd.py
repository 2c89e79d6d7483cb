"""The SSH endpoint's own pieces: names made safe for a terminal, the menu, the answers to it, the
menu's line editing, the host key kept across restarts, a port taken; and a session's life with a
stand-in portal (a console that ends goes back to the menu, the time being up ends the session,
a client that leaves ends its console)."""

from __future__ import annotations

import asyncio
import socket
import stat
import types

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.portal import sshd
from tspcr_lab.portal.sshd import QUIT, LineInput, clean, load_host_key, parse_choice, render_menu

HOSTS = [{"name": "pc1", "role": "pc", "running": True}, {"name": "pc2", "role": "pc", "running": False}]


def test_clean_removes_what_a_terminal_would_obey():
    assert clean("Zoé Dupont") == "Zoé Dupont"
    assert clean("\x1b]0;owned\x07Ana\x1b[2J") == "?]0;owned?Ana?[2J"
    assert clean("a\u202eb\u200bc\x9bd\r\ne") == "a?b?c?d??e"  # bidi override, zero width, C1 CSI, CR LF
    assert clean("a\u00a0b") == "a b" and len(clean("x" * 500)) == sshd.MAX_NAME


def test_menu_numbers_the_hosts_in_both_languages():
    text = render_menu(title="Plan IP", trainee_id="s01", name="Camille", hosts=HOSTS, remaining=None).decode()
    lines = text.split("\r\n")
    assert "Plan IP - Camille (s01)" in lines
    assert "  1) pc1 (en marche / running)" in lines and "  2) pc2 (arrêtée / stopped)" in lines
    assert "  q) quitter / quit" in lines and lines[-1] == sshd.PROMPT
    assert "\n" not in text.replace("\r\n", "")  # a raw terminal: every line ends with CR LF
    assert "Temps restant" not in text
    timed = render_menu(title="t", trainee_id="s01", name="n", hosts=HOSTS, remaining=600.4).decode()
    assert "Temps restant / Time left: 10 min" in timed


def test_menu_shows_no_escape_sequence_from_a_name():
    hostile = [{"name": "pc1\x1b[31m", "running": True}]
    text = render_menu(title="\x1b[2J", trainee_id="s01\x07", name="\x1b]52;c;ZWNobyBoaQ==\x07", hosts=hostile,
                       remaining=None)
    assert b"\x1b" not in text and b"\x07" not in text


def test_choice_by_number_name_or_quit():
    names = ["pc1", "pc2", "r1"]
    assert parse_choice("1", names) == "pc1" and parse_choice(" 3 \t", names) == "r1"
    assert parse_choice("PC2", names) == "pc2"
    for leave in ("q", "Q", "quit", "quitter", "exit"):
        assert parse_choice(leave, names) == QUIT
    for wrong in ("0", "4", "-1", "", "²", "1e3", "pc9", "9" * 40):
        assert parse_choice(wrong, names) is None


def test_line_input_echoes_and_edits():
    line = LineInput()
    assert line.feed(b"12") == (b"12", [])
    assert line.feed(b"\x7f") == (b"\b \b", [])
    assert line.feed(b"\r\n") == (b"\r\n", ["1"])  # CR LF is one Enter
    assert line.feed(b"ab\x15q\r") == (b"ab\b \b\b \bq\r\n", ["q"])
    assert line.feed(b"\x1b[A\x1bOB\x1b[1;5C2\n") == (b"2\r\n", ["2"])  # arrows ignored
    assert line.feed(b"x\x03") == (b"x^C\r\n", [""])
    assert line.feed(b"x\x04")[1] == [] and line.feed(b"\x15\x04")[1] == [None]  # Ctrl-D on an empty line
    assert line.feed("é\x00\t".encode()) == (b"", [])  # only printable ASCII is taken
    long = LineInput(limit=4)
    assert long.feed(b"123456\r") == (b"1234\r\n", ["1234"])


def test_host_key_is_made_once_and_kept_private(tmp_path):
    folder = tmp_path / "portal"
    first = load_host_key(folder)
    path = folder / sshd.HOST_KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_host_key(folder).get_fingerprint() == first.get_fingerprint()
    path.chmod(0o644)
    assert load_host_key(folder).get_fingerprint() == first.get_fingerprint()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("not a key")
    with pytest.raises(UserError, match=sshd.HOST_KEY):
        load_host_key(folder)


def test_a_port_taken_is_one_line(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        with pytest.raises(UserError) as info:
            asyncio.run(sshd.start_ssh(object(), "127.0.0.1", port, tmp_path))
        assert str(info.value).startswith(f"cannot listen for SSH on 127.0.0.1:{port}: ")
        assert "\n" not in str(info.value)
    finally:
        taken.close()


# -- a session with a stand-in portal -------------------------------------------------------------
class Chan:
    def __init__(self):
        self.out, self.status = bytearray(), None

    def get_terminal_type(self):
        return "xterm"

    def get_write_buffer_size(self):
        return 0

    def write(self, data):
        self.out += data

    def exit(self, status):
        self.status = status


class Terminal:
    def __init__(self):
        self.viewers, self.input, self.size, self.closed = [], bytearray(), None, False

    def attach(self, viewer):
        self.viewers.append(viewer)
        return b"scrollback"

    def detach(self, viewer):
        self.viewers.remove(viewer)

    def write(self, data):
        self.input += data

    def resize(self, cols, rows):
        self.size = (cols, rows)

    def close(self):
        self.closed = True
        for viewer in list(self.viewers):
            viewer(None)


class Portal:
    def __init__(self):
        self.working, self.opened = True, []
        self.seats = {"s01": types.SimpleNamespace(trainee=types.SimpleNamespace(name="Camille"))}
        self.lab = types.SimpleNamespace(title_in=lambda lang: "Plan IP")
        self.clock = types.SimpleNamespace(remaining=lambda tid: None)

    def may_work(self, tid):
        return self.working

    def hosts(self, tid):
        return HOSTS

    def seen(self, tid, typed=False):
        pass

    def terminal(self, tid, host, channel, cols, rows):
        if host == "pc2":
            from tspcr_lab.virtual.lab import HostNotRunning

            raise HostNotRunning("down")
        self.opened.append((tid, host, channel, cols, rows))
        return self.terminal_made


def session(portal):
    s = sshd.PortalSession(portal, "s01")
    s.connection_made(Chan())
    s.pty_requested("xterm", (100, 30, 0, 0), {})
    return s


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_session_goes_to_a_console_and_back_then_time_ends_it(monkeypatch):
    monkeypatch.setattr(sshd, "CHECK_PERIOD", 0.01)

    async def scenario():
        portal, terminal = Portal(), Terminal()
        portal.terminal_made = terminal
        s = session(portal)
        chan = s.chan
        s.session_started()
        await settle()
        assert b"1) pc1 (en marche / running)" in chan.out
        s.data_received(b"2\r", None)  # a stopped host: a line, and the menu again
        await settle()
        assert b"pc2 ne fonctionne pas" in chan.out and chan.out.count(b"Vos machines") == 2
        s.data_received(b"1\r", None)
        await settle()
        assert portal.opened[0][:3] == ("s01", "pc1", s.channel) and s.channel.startswith("ssh-")
        assert terminal.size == (100, 30) and b"scrollback" in chan.out
        s.data_received(b"ls\r\x1b[A", None)  # in the console, every byte goes to the host
        s.terminal_size_changed(120, 40, 0, 0)
        assert bytes(terminal.input) == b"ls\r\x1b[A" and terminal.size == (120, 40)
        terminal.viewers[0](b"\x1b[1mout\xff")
        assert chan.out.endswith(b"\x1b[1mout\xff")  # the host's bytes as they are
        terminal.close()  # the shell ended: back to the menu
        await settle()
        assert chan.out.count(b"Vos machines") == 3 and not terminal.viewers
        portal.working = False  # the time is up while in the menu
        await asyncio.wait_for(s.task, 1)
        assert b"The exam's time is up" in chan.out and chan.status == 1

    asyncio.run(scenario())


def test_a_client_that_leaves_ends_its_console():
    async def scenario():
        portal, terminal = Portal(), Terminal()
        portal.terminal_made = terminal
        s = session(portal)
        s.session_started()
        await settle()
        s.data_received(b"pc1\r", None)
        await settle()
        assert terminal.viewers
        s.connection_lost(None)
        await settle()
        assert terminal.closed and not terminal.viewers and s.task.done()

    asyncio.run(scenario())


def test_quit_and_refusals():
    async def scenario():
        s = session(Portal())
        assert s.shell_requested() and not s.exec_requested("id") and not s.subsystem_requested("sftp")
        s.session_started()
        await settle()
        s.data_received(b"nope\rq\r", None)
        await asyncio.wait_for(s.task, 1)
        assert b"Unknown choice" in s.chan.out and b"Goodbye" in s.chan.out and s.chan.status == 0

    asyncio.run(scenario())
