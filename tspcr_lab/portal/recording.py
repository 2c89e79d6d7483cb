"""Terminal sessions recorded as asciicast v2, replayed by the examiner.

Every terminal the portal opens for a trainee (a browser's, an SSH channel's: see
:mod:`.terminals`) is written, while it runs, to a ``.cast`` file of its own (asciicast v2: a
JSON header line, then one ``[seconds, code, text]`` line per event): the terminal's output
(``"o"``), its resizes (``"r"``, ``"COLSxROWS"``) and markers (``"m"``). What the trainee types
is **not** recorded (no ``"i"`` event): a password typed at a prompt is not echoed by the host,
so it is not in the output, and it must not be in the recording either.

Where: the portal's state folder, beside the exam's clock (``<clock>.recordings/<trainee>/``),
folders mode 0700, files mode 0600, owned by the portal's user: on the server, never inside a lab
host. A recording's name tells when it started, the host and the channel
(``20260115-093012-01-pc1-web.cast``); ``session.json`` beside the trainees' folders keeps the
session's roster (its labs as built), so that they are pruned with their labs even if the clock
was removed by hand (:func:`.exam.prune`).

Bounds: :data:`FILE_CAP` bytes per recording and :data:`TRAINEE_CAP` for all of a trainee's
recordings of one session; beyond, the recording ends with a visible notice and a final marker
``[t, "m", "cut: ..."]``, and the terminal goes on unrecorded. A write that fails (disk full, I/O
error) stops that recording, said once in the log; the trainee's terminal never notices.
Output is decoded incrementally (a UTF-8 character split across two reads is written whole; bytes
that are not UTF-8 become U+FFFD), so every line is valid JSON.

:func:`export` copies a trainee's recordings next to their grade (``recordings/`` of the results
folder) with ``replay.html``: a page that embeds the casts and plays them with xterm.js, its
player script and styles beside it (no network, no inline script: it also plays when the portal
serves it under its Content-Security-Policy).
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import errno
import json
import logging
import os
import re
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("tspcr_lab.portal")

FILE_CAP = 8 << 20  # bytes of one recording (a 90-minute session with editing: 1-3 MB)
TRAINEE_CAP = 32 << 20  # bytes of all of one trainee's recordings in one session
RESERVE = 1024  # bytes kept, under a cap, for the notice and the final marker
IDLE_GAP = 2.0  # seconds: a pause longer than this separates two bursts of activity (the player jumps between them)
CUT = "cut"  # a final marker's label starts with it: the rest of the session was not recorded
CUT_NOTICE = ("\r\n\x1b[0m[enregistrement coupé : taille maximale atteinte / "
              "recording cut: size limit reached]\r\n")
NAME_RE = re.compile(r"^(?P<stamp>\d{8}-\d{6})-(?P<seq>\d{2,4})-(?P<host>[A-Za-z0-9_.-]+?)-(?P<channel>web|ssh-\d+)\.cast$")
TRAINEE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# What a replay page loads from the npm packages that make setup installs (package.json).
VENDOR = {
    "xterm.js": "@xterm/xterm/lib/xterm.js",
    "xterm.css": "@xterm/xterm/css/xterm.css",
    "addon-fit.js": "@xterm/addon-fit/lib/addon-fit.js",
}
PLAYER_FILES = ("replay.js", "replay.css")  # the player's own, in the package's static/


def node_modules() -> Path:
    env = os.environ.get("TSPCR_NODE_MODULES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "node_modules"


# -- writing --------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    """One line of JSON, UTF-8 as it is but U+2028/U+2029 escaped (readers that split lines as
    Python's str.splitlines or old JavaScript does would cut a line there)."""
    return json.dumps(value, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@dataclasses.dataclass
class Budget:
    """Bytes a trainee's recordings may still take (shared by their writers)."""
    limit: int
    used: int = 0

    def left(self) -> int:
        return self.limit - self.used


class CastWriter:
    """One terminal's recording, written as it goes (one ``os.write`` per event: nothing is lost
    with the server). Every method swallows its own failures: a recording never breaks a terminal."""

    def __init__(self, fd: int, path: Path, *, cap: int, budget: Budget, clock: Callable[[], float] = time.monotonic):
        self.fd, self.path, self.cap, self.budget, self.clock = fd, path, cap, budget, clock
        self.started = clock()
        self.size = 0
        self.cut = False
        self.failed = False
        self.closed = False
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.on_close: Callable[["CastWriter"], None] | None = None

    @classmethod
    def create(cls, path: Path, header: dict[str, Any], *, cap: int = FILE_CAP, budget: Budget | None = None,
               clock: Callable[[], float] = time.monotonic) -> "CastWriter":
        """A new recording at ``path`` (which must not exist: never follows a link, never
        overwrites), mode 0600, its header written. Raises OSError."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            writer = cls(fd, path, cap=cap, budget=budget or Budget(cap), clock=clock)
            line = (_json(header) + "\n").encode()
            writer._write(line)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        if writer.failed:
            raise OSError(errno.EIO, f"cannot write the header of {path}")
        if writer.budget.left() < RESERVE:  # the trainee's budget is spent: a header and why, nothing else
            writer._cut("cut: the trainee's recordings reached their limit before this session")
        return writer

    @property
    def active(self) -> bool:
        return not (self.closed or self.cut or self.failed)

    def output(self, data: bytes) -> None:
        if self.active and data:
            try:
                text = self.decoder.decode(data)
            except Exception:  # noqa: BLE001 - never raised with errors="replace"; said, never fatal
                log.exception("recording %s", self.path)
                return
            if text:
                self._event("o", text)

    def resize(self, cols: int, rows: int) -> None:
        if self.active:
            self._event("r", f"{int(cols)}x{int(rows)}")

    def marker(self, label: str) -> None:
        if self.active:
            self._event("m", label)

    def close(self) -> None:
        if self.closed:
            return
        if self.active:
            with contextlib.suppress(Exception):
                rest = self.decoder.decode(b"", final=True)  # an incomplete character at the very end
                if rest:
                    self._event("o", rest)
        self.closed = True
        with contextlib.suppress(OSError):
            os.close(self.fd)
        if self.on_close is not None:
            with contextlib.suppress(Exception):
                self.on_close(self)

    # -- internals --------------------------------------------------------------------------------
    def _line(self, code: str, text: str) -> bytes:
        at = max(0.0, self.clock() - self.started)
        return (_json([round(at, 3), code, text]) + "\n").encode()

    def _event(self, code: str, text: str) -> None:
        line = self._line(code, text)
        if self.size + len(line) > self.cap - RESERVE:
            self._cut(f"cut: {self.cap} bytes per recording")
        elif len(line) > self.budget.left() - RESERVE:
            self._cut(f"cut: {self.budget.limit} bytes for all of the trainee's recordings")
        else:
            self._write(line)

    def _cut(self, label: str) -> None:
        self._write(self._line("o", CUT_NOTICE) + self._line("m", label))
        self.cut = True

    def _write(self, data: bytes) -> None:
        if self.failed or self.closed:
            return
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                self.size += n
                self.budget.used += n
                view = view[n:]
        except OSError as exc:
            self.failed = True
            log.warning("recording %s stopped: %s (the terminal goes on unrecorded)", self.path,
                        exc.strerror or exc)


class RecordingStore:
    """A session's recordings: ``root/<trainee>/<name>.cast``. Opens them for the terminals,
    lists and finds them for the pages, never lets a name from a URL out of its folder."""

    def __init__(self, root: Path, *, roster: str = "", file_cap: int = FILE_CAP, trainee_cap: int = TRAINEE_CAP,
                 clock: Callable[[], float] = time.time):
        self.root = root
        self.roster = roster  # the session's labs as built (as its clock's): session.json, for pruning
        self.file_cap, self.trainee_cap = file_cap, trainee_cap
        self.clock = clock
        self.budgets: dict[str, Budget] = {}
        self.live: dict[Path, CastWriter] = {}

    def folder(self, trainee: str) -> Path:
        if not TRAINEE_RE.match(trainee):
            raise ValueError(f"trainee id {trainee!r}")
        return self.root / trainee

    def _budget(self, trainee: str) -> Budget:
        budget = self.budgets.get(trainee)
        if budget is None:  # a server started again goes on with what this session already recorded
            used = 0
            with contextlib.suppress(OSError):
                used = sum(p.stat().st_size for p in self.folder(trainee).glob("*.cast"))
            budget = self.budgets[trainee] = Budget(self.trainee_cap, used)
        return budget

    def open(self, trainee: str, host: str, channel: str, *, cols: int, rows: int, title: str,
             env: dict[str, str] | None = None) -> CastWriter | None:
        """A new recording for a terminal just started, or None if it cannot be written (said in
        the log: the terminal works unrecorded)."""
        try:
            folder = self.folder(trainee)
            for path in (self.root, folder):
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path, 0o700)
            session = self.root / "session.json"
            if self.roster and not session.exists():
                _write_private(session, json.dumps({"roster": self.roster}).encode())
            safe_host = host if HOST_RE.match(host) else re.sub(r"[^A-Za-z0-9_.-]", "_", host)[:64] or "host"
            now = self.clock()
            header = {"version": 2, "width": int(cols), "height": int(rows), "timestamp": int(now),
                      "title": title, "env": {"TERM": (env or {}).get("TERM", "xterm-256color"),
                                              "SHELL": (env or {}).get("SHELL", "/bin/bash")}}
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
            first = 1 + sum(1 for p in folder.glob(f"{stamp}-*.cast"))  # in the order they were opened
            for seq in range(first, first + 1000):
                path = folder / f"{stamp}-{seq:02d}-{safe_host}-{channel}.cast"
                try:
                    writer = CastWriter.create(path, header, cap=self.file_cap, budget=self._budget(trainee))
                    break
                except FileExistsError:
                    continue
            else:
                raise OSError(errno.EEXIST, "no free name")
        except (OSError, ValueError) as exc:
            log.warning("terminal of %s/%s not recorded: %s", trainee, host, getattr(exc, "strerror", None) or exc)
            return None
        self.live[path] = writer
        writer.on_close = lambda w: self.live.pop(w.path, None)
        return writer

    def recordings(self, trainee: str) -> list["CastInfo"]:
        """A trainee's recordings, oldest first."""
        try:
            folder = self.folder(trainee)
            paths = sorted((p for p in folder.iterdir() if NAME_RE.match(p.name)), key=_order)
        except (OSError, ValueError):
            return []
        out = []
        for path in paths:
            info = cast_info(path)
            if info is not None:
                info.live = path in self.live and self.live[path].active
                out.append(info)
        return out

    def count(self, trainee: str) -> int:
        try:
            return sum(1 for p in self.folder(trainee).iterdir() if NAME_RE.match(p.name))
        except (OSError, ValueError):
            return 0

    def find(self, trainee: str, name: str) -> Path | None:
        """The recording ``name`` of ``trainee``: only a name the portal writes, in their folder."""
        if not NAME_RE.match(name):
            return None
        try:
            path = self.folder(trainee) / name
        except ValueError:
            return None
        return path if path.is_file() and not path.is_symlink() else None


# -- reading ---------------------------------------------------------------------------------------
def _order(path: Path) -> tuple[str, int]:
    """Recordings in the order they started (their names: when, then a number in that second)."""
    match = NAME_RE.match(path.name)
    return (match["stamp"], int(match["seq"])) if match else ("", 0)


@dataclasses.dataclass
class CastInfo:
    name: str
    host: str
    channel: str
    started: float  # the header's timestamp
    width: int
    height: int
    title: str
    duration: float  # the last event's time
    bytes: int
    cut: bool  # its last event is the marker of a cut
    live: bool = False  # its terminal is still recorded

    def entry(self, folder: str = "recordings") -> dict[str, Any]:
        """As results.json lists it (paths from the trainee's results folder)."""
        return {"name": self.name, "host": self.host, "channel": self.channel,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
                "duration": round(self.duration, 3), "bytes": self.bytes, "cut": self.cut,
                "file": f"{folder}/{self.name}", "replay": f"{folder}/replay.html#{self.name}"}


def _header(line: bytes) -> dict[str, Any] | None:
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if (not isinstance(header, dict) or header.get("version") != 2
            or not isinstance(header.get("width"), int) or not isinstance(header.get("height"), int)):
        return None
    return header


def _event(line: bytes) -> list | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if (isinstance(event, list) and len(event) == 3 and isinstance(event[0], (int, float))
            and not isinstance(event[0], bool) and isinstance(event[1], str) and isinstance(event[2], str)):
        return event
    return None


def read_cast(path: Path) -> tuple[dict[str, Any], list[list], int]:
    """A recording's header, its events and how many of its bytes they are: up to its first line
    that is not a whole event (a line being written now, or one a failed write tore). Raises
    ValueError for a file that is not asciicast v2."""
    data = path.read_bytes()
    first, sep, rest = data.partition(b"\n")
    header = _header(first) if sep else None
    if header is None:
        raise ValueError(f"{path.name}: not an asciicast v2 recording")
    events, good = [], len(first) + 1
    for line in rest.split(b"\n")[:-1] if rest else ():  # the last piece: after the last newline
        event = _event(line)
        if event is None:
            break
        events.append(event)
        good += len(line) + 1
    return header, events, good


def cast_info(path: Path) -> CastInfo | None:
    """What a recording is, read from its header and its last lines (not the whole file)."""
    match = NAME_RE.match(path.name)
    if match is None:
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            header = _header(f.readline(1 << 16))
            f.seek(max(0, size - (1 << 16)))
            tail = f.read()
    except OSError:
        return None
    if header is None:
        return None
    last = None
    for line in reversed(tail.split(b"\n")):
        last = _event(line)
        if last is not None:
            break
    return CastInfo(name=path.name, host=match["host"], channel=match["channel"],
                    started=float(header.get("timestamp") or 0), width=header["width"], height=header["height"],
                    title=str(header.get("title") or ""), duration=float(last[0]) if last else 0.0, bytes=size,
                    cut=bool(last and last[1] == "m" and last[2].startswith(CUT)))


# -- next to the grade ------------------------------------------------------------------------------
def trainee_source(root: Path, trainee_id: str | None) -> Path:
    """Where a trainee's recordings are under a session's folder (``grade --recordings DIR``):
    ``DIR/<id>``; graded alone (no class), the portal's single trainee's folder (``DIR/trainee``)
    or DIR itself when it holds the casts."""
    if trainee_id:
        return root / trainee_id
    single = root / "trainee"
    return single if single.is_dir() else root


def export(source: Path, dest: Path, *, lang: str = "fr", title: str = "") -> list[dict[str, Any]]:
    """Copy the recordings of ``source`` (a trainee's folder of casts) into ``dest`` (replacing
    what an earlier grading left there), each up to its last whole event, with ``replay.html``
    and the player's files; return their entries for results.json. No recording: no ``dest``."""
    from . import pages

    if dest.exists() or dest.is_symlink():
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        else:
            dest.unlink()
    try:
        paths = sorted((p for p in source.iterdir() if NAME_RE.match(p.name) and p.is_file() and not p.is_symlink()),
                       key=_order)
    except OSError:
        return []
    casts, entries = [], []
    for path in paths:
        try:
            header, events, good = read_cast(path)
            raw = path.read_bytes()[:good]
        except (OSError, ValueError) as exc:
            log.warning("recording %s not copied: %s", path, exc)
            continue
        if not casts:
            dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        copy = dest / path.name
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        info = cast_info(copy)
        if info is None:
            continue
        entries.append(info.entry(dest.name))
        casts.append(replay_data(info, header, events))
    if not casts:
        return []
    assets = _assets()
    for name, body in assets.items():
        _write_private(dest / name, body)
    page = pages.replay_file(lang, title=title, recordings=casts, player_present=bool(assets), idle=IDLE_GAP)
    _write_private(dest / "replay.html", page.encode())
    if not assets:
        log.warning("xterm.js is not installed (run make setup): %s/replay.html lists the recordings without "
                    "a player", dest)
    return entries


def replay_data(info: CastInfo, header: dict[str, Any], events: list[list]) -> dict[str, Any]:
    """What a replay page embeds of one recording (the input events, if a cast had any, left out)."""
    return {"name": info.name, "host": info.host, "channel": info.channel, "title": info.title,
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started)),
            "duration": round(info.duration, 3), "cut": info.cut, "bytes": info.bytes,
            "width": header["width"], "height": header["height"],
            "events": [e for e in events if e[1] in ("o", "r", "m")]}


def _assets() -> dict[str, bytes]:
    """The player's files to put beside a replay page: {} when xterm.js is not installed."""
    out = {}
    for name in ("xterm.js", "xterm.css"):
        path = node_modules() / VENDOR[name]
        if not path.is_file():
            return {}
        out[name] = path.read_bytes()
    for name in PLAYER_FILES:
        out[name] = resources.files(__package__).joinpath("static", name).read_bytes()
    return out


def _write_private(path: Path, body: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
