"""What the portal's browser tests need: ``tspcr-lab serve`` as a process of its own (on a free
port of 127.0.0.1, stopped by its pid), the exam clocks it leaves, and a trainee's hands in the
page (log in, type in a host's terminal, read what the terminal shows)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tspcr_lab.virtual.lab import STATE_ROOT

CLOCKS = STATE_ROOT / "portal"  # where serve keeps the exam clocks
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ANNOUNCE = re.compile(r"^instructor: (http://127\.0\.0\.1:\d+/)instructor\s+code (\S+)$", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clock_files(class_file: Path) -> list[Path]:
    """The exam clocks serve keeps for this class file (their roster starts with its path)."""
    roster = str(class_file.resolve()) + "|"
    found = []
    for path in CLOCKS.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("roster", "").startswith(roster):
                found.append(path)
    return found


class Serve:
    """``tspcr-lab serve LAB --class FILE ...`` running in the background until :meth:`stop`."""

    def __init__(self, lab: str, class_file: Path, key_file: Path, log_dir: Path, *extra: str, timeout: float = 30):
        port = free_port()
        self.log = log_dir / f"serve-{port}.log"
        argv = [sys.executable, "-m", "tspcr_lab", "serve", lab, "--class", str(class_file), "--listen",
                f"127.0.0.1:{port}", "--signing-key", str(key_file), *extra]
        env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=env)
        deadline = time.monotonic() + timeout
        while True:
            match = ANNOUNCE.search(self.output())
            if match:
                self.url, self.instructor_code = match.group(1), match.group(2)
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"serve did not start ({' '.join(argv)}):\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM (serve closes the terminals it opened), SIGKILL if it does not end in time."""
        if self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


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
