"""What the portal's end-to-end tests share: a class brought up on the virtual lab with its access
codes (:func:`class_up`), ``tspcr-lab serve`` as a process of its own on a free port of 127.0.0.1,
stopped by its pid (:class:`Serve`), the exam clocks it leaves, and a trainee's hands in the page
(log in, type in a host's terminal, read what the terminal shows)."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tspcr_lab.labfile import load_lab
from tspcr_lab.virtual.lab import STATE_ROOT, VirtualLab

from .conftest import cli

CLOCKS = STATE_ROOT / "portal"  # where serve keeps the exam clocks
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# What serve prints once it listens (its last line: "stop with Ctrl+C ...").
INSTRUCTOR_LINE = re.compile(r"^instructor: (https?://\S+/)instructor\s+code (\S+)$", re.M)
TRAINEE_LINE = re.compile(r"^trainee: (\S+)\s+code (\S+)$", re.M)  # serve --instance: its one trainee
SSH_LINE = re.compile(r"^SSH endpoint: ssh -p (\d+) ", re.M)
READY_LINE = re.compile(r"^stop with ", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- a class on the virtual lab -------------------------------------------------------------------
class Class(NamedTuple):
    path: Path  # the class file
    key: Path  # the signing key its access codes derive from
    folder: Path  # where both are, the sheets (folder/sheets) and serve's logs
    codes: dict[str, str]  # trainee id -> access code, from the sheets' access.csv


def access_rows(folder: Path) -> dict[str, dict[str, str]]:
    """The rows of ``folder/sheets/access.csv`` (written by ``sheet --out``), by trainee id."""
    with open(folder / "sheets" / "access.csv", encoding="utf-8", newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


@contextlib.contextmanager
def class_up(lab: str, class_toml: str, folder: Path, key: str) -> Iterator[Class]:
    """``class_toml`` written to ``folder/class.toml`` and ``key`` (hex) to ``folder/exam.key``;
    the class's labs brought up (``up LAB --class``, after taking down what a previous run left),
    their sheets written (``sheet --out folder/sheets --key``); taken down (``down --class``) after."""
    path = folder / "class.toml"
    path.write_text(class_toml, encoding="utf-8")
    key_file = folder / "exam.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    trainees = [trainee["id"] for trainee in tomllib.loads(class_toml)["trainees"]]
    vlabs = [VirtualLab(load_lab(lab), f"{lab}-{tid}") for tid in trainees]
    for vlab in vlabs:
        vlab.down(quiet=True)
    try:
        cli("up", lab, "--class", str(path), check=True)
        cli("sheet", lab, "--class", str(path), "--out", str(folder / "sheets"), "--key", str(key_file), check=True)
        rows = access_rows(folder)
        yield Class(path, key_file, folder, {tid: rows[tid]["code"] for tid in trainees})
    finally:
        proc = cli("down", lab, "--class", str(path))
        assert proc.returncode == 0, proc.stderr
        assert not any(vlab.is_up() for vlab in vlabs)


# -- the portal's server ----------------------------------------------------------------------------
class Serve:
    """``tspcr-lab serve ARGS --listen 127.0.0.1:PORT`` (any arguments: ``LAB --class FILE`` or
    ``LAB --instance NAME``, ``--signing-key``, ``--ssh-port``, ``--cert/--key``, the exam's
    options) running in the background until :meth:`stop`, its output in ``log_dir``. Started
    once it has said where it listens and its ports accept connections: ``url`` as it says it
    ("http://127.0.0.1:PORT/", https with a certificate), ``base`` the same without the last
    slash (the origin), ``instructor_code``; ``single``, the (trainee, code) of a single
    instance's trainee (else None); ``ssh_port``, with --ssh-port (else None)."""

    def __init__(self, log_dir: Path, *args: str, timeout: float = 30):
        self.port = free_port()
        self.log = log_dir / f"serve-{self.port}.log"
        argv = [sys.executable, "-m", "tspcr_lab", "serve", *args, "--listen", f"127.0.0.1:{self.port}"]
        env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=env)
        try:
            self._wait(args, time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, args: tuple[str, ...], deadline: float) -> None:
        def fail(what: str) -> AssertionError:
            return AssertionError(f"serve {what} ({' '.join(args)}):\n{self.output()}")

        while not READY_LINE.search(self.output()):
            if self.process.poll() is not None:
                raise fail(f"ended with {self.process.returncode} before it listened")
            if time.monotonic() > deadline:
                raise fail("did not say it listens in time")
            time.sleep(0.1)
        text = self.output()
        announced = INSTRUCTOR_LINE.search(text)
        if announced is None:
            raise fail("did not give the instructor's address and code")
        self.url, self.instructor_code = announced.groups()
        self.base = self.url.rstrip("/")
        single = TRAINEE_LINE.search(text)
        self.single = single.groups() if single else None
        if (self.single is None) != ("--class" in args):
            raise fail("gave a trainee's code with --class, or none without")
        ssh = SSH_LINE.search(text)
        self.ssh_port = int(ssh.group(1)) if ssh else None
        if (self.ssh_port is None) == ("--ssh-port" in args):
            raise fail("gave an SSH endpoint without --ssh-port, or none with")
        for port in filter(None, (self.port, self.ssh_port)):
            while not accepts(port):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise fail(f"does not accept connections on port {port}")
                time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM (serve closes the terminals it opened), SIGKILL if it does not end in time;
        its exit status (0: it ended on SIGTERM, as it should)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        return self.process.returncode


def clock_files(class_file: Path) -> list[Path]:
    """The exam clocks serve keeps for this class file (their roster starts with its path)."""
    roster = str(class_file.resolve()) + "|"
    found = []
    for path in CLOCKS.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("roster", "").startswith(roster):
                found.append(path)
    return found


# -- a trainee's hands in the page --------------------------------------------------------------
def terminal(page, host: str):
    return page.locator(f'section.host[data-host="{host}"] .terminal[data-host="{host}"]')


def screen(page, host: str) -> str:
    """What the host's terminal shows (xterm.js's DOM renderer: its visible rows)."""
    return terminal(page, host).locator(".xterm-rows").inner_text()


def wait_screen(page, host: str, text: str, timeout: float = 20) -> str:
    """Wait until the host's terminal shows ``text``; return the whole screen."""
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(page, host)
        if text in shown:
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"{host}'s terminal never showed {text!r}; it shows:\n{shown}")
        page.wait_for_timeout(100)


def type_in(page, host: str, keys: str) -> None:
    terminal(page, host).click()
    page.keyboard.type(keys)


def login(page, base: str, trainee: str, code: str):
    """Log in at the portal's front page; the response to the form's POST (after any redirect,
    the page it lands on)."""
    page.goto(base)
    page.fill("input[name=trainee]", trainee)
    page.fill("input[name=code]", code)
    with page.expect_navigation() as navigation:
        page.click("form[action^='/login'] button[type=submit]")
    return navigation.value


def open_socket(page, path: str) -> str:
    """Open a websocket to ``path`` from the page: "open", or how it closed ("closed 1006")."""
    return page.evaluate("""(path) => new Promise((resolve) => {
        const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
        ws.onopen = () => { ws.close(); resolve("open"); };
        ws.onclose = (event) => resolve("closed " + event.code);
    })""", path)


def handshake(page, url: str) -> int:
    """The status of a websocket handshake to ``url`` with the page's cookies, from the portal's
    own origin (so that only who asks decides); only for refusals (an accepted one would hang)."""
    origin = url.split("/", 3)
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "/".join(origin[:3])}
    return page.request.get(url, headers=headers, max_redirects=0, timeout=10_000).status
