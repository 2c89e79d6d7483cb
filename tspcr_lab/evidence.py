"""Evidence and signatures of a results folder.

After grading, a trainee's folder holds ``results.json``, the reports and ``evidence/``: one text
file per check with every command it ran, its exit code, outputs and time. ``SIGNATURE.json``
then lists every file with its SHA-256 and an HMAC-SHA256 over that list, computed with a key the
examiner keeps (``--key``, default ``~/.config/tspcr-lab/exam.key``, created on first use).
:func:`verify` tells whether anything was changed, added or removed after grading: a changed
byte anywhere changes a file's hash; a hash edited to match changes the HMAC, which cannot be
recomputed without the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from .errors import UserError

SIGNATURE = "SIGNATURE.json"
ALGORITHM = "HMAC-SHA256"


def default_key_path() -> Path:
    env = os.environ.get("TSPCR_EXAM_KEY")
    if env:
        return Path(env)
    return Path(os.path.expanduser("~")) / ".config" / "tspcr-lab" / "exam.key"


def load_key(path: str | Path | None, *, create: bool) -> bytes:
    """The examiner's key; created (random, mode 0600) when grading and none exists yet."""
    path = Path(path) if path else default_key_path()
    if not path.exists():
        if not create:
            raise UserError(f"no signing key at {path} (give the examiner's key with --key)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        except OSError as exc:
            raise UserError(f"cannot create the signing key {path} ({exc.strerror}); give one with --key") from None
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the signing key {path} ({exc})") from None
    if len(key) < 32:
        raise UserError(f"signing key {path} is too short (at least 32 characters)")
    return key.encode()


def key_id(key: bytes) -> str:
    """Names a key without revealing it (so verify can say 'signed with another key')."""
    return hashlib.sha256(b"tspcr-lab key id:" + key).hexdigest()[:16]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:80] or "check"


def write_evidence(folder: Path, results: dict[str, Any]) -> list[Path]:
    """``evidence/NN-<check>.txt``: the raw outputs each check read, with their timestamps."""
    target = folder / "evidence"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for index, check in enumerate(results.get("checks", []), 1):
        if check.get("kind") == "manual":
            continue
        lines = [f"check: {check['id']}", f"competency: {check['competency']}", f"status: {check['status']}",
                 f"message: {check['message']}", ""]
        for item in check.get("evidence", []):
            lines.append(f"[{item['time']}] {item['host']}$ {item['command']}")
            lines.append(f"exit code: {item['rc']}  duration: {item['duration']} s")
            if item.get("stdout"):
                lines += ["--- stdout ---", item["stdout"].rstrip("\n")]
            if item.get("stderr"):
                lines += ["--- stderr ---", item["stderr"].rstrip("\n")]
            lines.append("")
        path = target / f"{index:02d}-{_slug(check['id'])}.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and its SHA-256, except in sub-folders signed on their own (a
    class folder signs its own files; each trainee's folder inside it has its signature)."""
    nested = [p.parent for p in folder.rglob(SIGNATURE) if p.parent != folder]
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == SIGNATURE and path.parent == folder:
            continue
        if any(path.is_relative_to(sub) for sub in nested):
            continue
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _mac(key: bytes, files: dict[str, str]) -> str:
    canonical = json.dumps(files, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def sign(folder: Path, key: bytes) -> Path:
    """Sign every file under ``folder`` (sub-folders included)."""
    files = _files(folder)
    data = {"algorithm": ALGORITHM, "key_id": key_id(key),
            "signed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files, "mac": _mac(key, files)}
    path = folder / SIGNATURE
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


@dataclasses.dataclass
class Verdict:
    folder: Path
    intact: bool
    problems: list[str]


def verify(folder: str | Path, key: bytes) -> list[Verdict]:
    """Check ``folder`` and every signed folder inside it (a class folder holds one per trainee)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    signed = sorted(p.parent for p in folder.rglob(SIGNATURE))
    if not signed:
        raise UserError(f"{folder}: no {SIGNATURE} (not a graded results folder)")
    return [_verify_one(path, key) for path in signed]


def _verify_one(folder: Path, key: bytes) -> Verdict:
    problems: list[str] = []
    try:
        data = json.loads((folder / SIGNATURE).read_text(encoding="utf-8"))
        files, mac = dict(data["files"]), str(data["mac"])
    except (OSError, ValueError, KeyError, TypeError):
        return Verdict(folder, False, [f"{SIGNATURE} is unreadable or altered"])
    if data.get("key_id") != key_id(key):
        problems.append("signed with another key")
    elif not hmac.compare_digest(mac, _mac(key, files)):
        problems.append(f"{SIGNATURE} was altered (its list of files does not match its signature)")
    current = _files(folder)
    for name in sorted(set(files) | set(current)):
        if name not in current:
            problems.append(f"{name}: removed")
        elif name not in files:
            problems.append(f"{name}: added after grading")
        elif current[name] != files[name]:
            problems.append(f"{name}: changed after grading")
    return Verdict(folder, not problems, problems)
