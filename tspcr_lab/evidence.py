"""Evidence and signatures of a results folder.

After grading, a trainee's folder holds ``results.json``, the reports and ``evidence/``: one text
file per check with every command it ran, its exit code, outputs and time. ``SIGNATURE.json``
then lists every file with its SHA-256 and an HMAC-SHA256 over all it says, computed with a key
the examiner keeps (``--key``, default ``~/.config/tspcr-lab/exam.key``, created on first use).
:func:`verify` tells whether anything was changed, added or removed after grading: a changed
byte anywhere changes a file's hash; a hash edited to match changes the HMAC, which cannot be
recomputed without the key.

A signature also binds who was graded (format 2). A trainee's ``SIGNATURE.json`` holds their
``identity``: trainee id and name, lab, seed, and ``place``, the folder's path from the class
folder (``t01``; empty when graded alone). A class folder's ``SIGNATURE.json`` lists, in
``folders``, every signed folder inside it with its place, identity and the HMAC of its
signature. So verify tells, besides changed files: a trainee folder renamed, two swapped,
one removed or added (class folder), a folder whose name is not the id it was signed for (a
trainee folder verified alone), and a ``results.json`` whose lab, trainee or seed are not the
ones signed. Format 1 signatures (files only) are still verified, for their files.

``SIGNATURE.json`` (format 2)::

    {"format": 2, "algorithm": "HMAC-SHA256", "key_id": "...", "signed_at": "...",
     "identity": {"trainee_id": "t01", "trainee": "Camille Martin", "lab": "ip-plan",
                  "seed": 123456, "place": "t01"},
     "folders": [{"place": "t01", "trainee_id": "t01", ..., "mac": "<HMAC of t01/SIGNATURE.json>"}],
     "files": {"results.json": "<SHA-256>", ...},
     "mac": "<HMAC-SHA256 of everything above>"}
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
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import UserError

SIGNATURE = "SIGNATURE.json"
ALGORITHM = "HMAC-SHA256"
FORMAT = 2  # 1: files only; 2: and who was graded (identity, folders)


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


def identity(*, trainee_id: str = "", trainee: str = "", lab: str = "", seed: int | None = None,
             place: str = "") -> dict[str, Any]:
    """Who a trainee folder holds the grade of; ``place``: its path from the class folder."""
    return {"trainee_id": trainee_id, "trainee": trainee, "lab": lab, "seed": seed, "place": place}


def _members(folder: Path) -> list[Path]:
    """The signed folders inside ``folder`` (a class folder's trainee folders), nearest ones only."""
    inner = sorted(p.parent for p in folder.rglob(SIGNATURE) if p.parent != folder)
    return [sub for sub in inner if not any(sub != other and sub.is_relative_to(other) for other in inner)]


def _files(folder: Path, apart: list[Path]) -> dict[str, str]:
    """Every file under ``folder`` and its SHA-256, except in the sub-folders ``apart`` (signed on
    their own: a class folder signs its own files; each trainee's folder inside it has its signature)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.parent == folder and path.name in (SIGNATURE, SIGNATURE + ".tmp"):
            continue
        if any(path.is_relative_to(sub) for sub in apart):
            continue
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _payload(data: dict[str, Any]) -> Any:
    """What the HMAC covers: all a signature says but its HMAC (format 1: its list of files only)."""
    if data.get("format") is None:
        return data["files"]
    return {name: value for name, value in data.items() if name != "mac"}


def _mac(key: bytes, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def _load(folder: Path) -> tuple[dict[str, Any] | None, str]:
    """A folder's signature, or None and why it cannot be used."""
    unreadable = f"{SIGNATURE} is unreadable or altered"
    try:
        data = json.loads((folder / SIGNATURE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, unreadable
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict) or not isinstance(data.get("mac"), str):
        return None, unreadable
    if data.get("format") is None:
        return data, ""
    if data["format"] != FORMAT:
        return None, f"{SIGNATURE} has format {data['format']!r}, unknown to this tspcr-lab (format {FORMAT})"
    folders = data.get("folders")
    if not isinstance(data.get("identity"), (dict, type(None))) or not isinstance(folders, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("place"), str) and isinstance(entry.get("mac"), str)
            for entry in folders):
        return None, unreadable
    return data, ""


def sign(folder: Path, key: bytes, who: dict[str, Any] | None = None) -> Path:
    """Sign every file under ``folder`` (sub-folders included) and whose grade it holds (``who``:
    a trainee folder's :func:`identity`; a class folder's says which class and lab). A signed
    folder inside (a trainee's, in a class folder) keeps its own signature: this one lists it,
    with its place, its identity and the HMAC of its signature."""
    members = _members(folder)
    folders = []
    for sub in members:
        data, problem = _load(sub)
        if data is None:
            raise UserError(f"{sub}: {problem}: cannot sign {folder}")
        folders.append({**(data.get("identity") or {}), "place": sub.relative_to(folder).as_posix(),
                        "mac": data["mac"]})
    data: dict[str, Any] = {"format": FORMAT, "algorithm": ALGORITHM, "key_id": key_id(key),
                            "signed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "identity": dict(who) if who is not None else None,
                            "folders": folders, "files": _files(folder, members)}
    data["mac"] = _mac(key, _payload(data))
    path = folder / SIGNATURE
    partial = folder / (SIGNATURE + ".tmp")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)  # never half a signature
    return path


@dataclasses.dataclass
class Verdict:
    folder: Path
    intact: bool
    problems: list[str]
    note: str = ""  # said of an intact folder (a format 1 signature binds no identity)


def verify(folder: str | Path, key: bytes) -> list[Verdict]:
    """Check ``folder`` and every signed folder inside it (a class folder holds one per trainee).
    A trainee folder's place in its class is checked by the class folder's signature when that is
    verified too, by its own name when it is verified alone."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    signed = sorted(p.parent for p in folder.rglob(SIGNATURE))
    if not signed:
        raise UserError(f"{folder}: no {SIGNATURE} (not a graded results folder)")
    return [_verify_one(path, key, alone=not any(path != other and path.is_relative_to(other) for other in signed))
            for path in signed]


def _verify_one(folder: Path, key: bytes, *, alone: bool) -> Verdict:
    data, problem = _load(folder)
    if data is None:
        return Verdict(folder, False, [problem])
    problems: list[str] = []
    if data.get("key_id") != key_id(key):
        problems.append("signed with another key")
    elif not hmac.compare_digest(data["mac"], _mac(key, _payload(data))):
        problems.append(f"{SIGNATURE} was altered (what it says does not match its signature)")
    if data.get("format") is None:
        problems += _file_problems(dict(data["files"]), _files(folder, _members(folder)))
        return Verdict(folder, not problems, problems, note="format 1 signature: who was graded is not signed")
    listed = [folder / entry["place"] for entry in data["folders"]]
    problems += _file_problems(dict(data["files"]), _files(folder, _members(folder) + listed))
    problems += _member_problems(folder, data["folders"])
    who = data["identity"] or {}
    if alone:
        problems += _name_problems(folder, who)
    problems += _results_problems(folder, who)
    return Verdict(folder, not problems, problems)


def _file_problems(signed: dict[str, str], current: dict[str, str]) -> list[str]:
    problems, new_folders = [], set()
    for name in sorted(set(signed) | set(current)):
        if name not in current:
            problems.append(f"{name}: removed")
        elif name in signed:
            if current[name] != signed[name]:
                problems.append(f"{name}: changed after grading")
        elif "/" in name and not any(s.startswith(name.split("/")[0] + "/") for s in signed):
            top = name.split("/")[0]  # a whole folder that was not there: one line
            if top not in new_folders:
                new_folders.add(top)
                problems.append(f"{top}/: folder added after grading")
        else:
            problems.append(f"{name}: added after grading")
    return problems


def _member_problems(folder: Path, listed: list[dict[str, Any]]) -> list[str]:
    """The signed folders inside ``folder`` against the ones its signature lists: each one where
    it was signed, none missing, none added. A folder is told by the HMAC of its signature."""
    signed = {entry["place"]: entry for entry in listed}
    by_mac = {entry["mac"]: entry["place"] for entry in listed}
    found: dict[str, str | None] = {}  # place now -> the place it was signed at (None: not signed here)
    for sub in _members(folder):
        data, _ = _load(sub)
        place = sub.relative_to(folder).as_posix()
        found[place] = place if data is None else by_mac.get(data["mac"])  # unreadable: its own verdict says so

    def name(place: str) -> str:
        return str(signed[place].get("trainee") or place)

    problems = []
    for place, origin in found.items():
        if origin == place:
            continue
        if origin is None:
            problems.append(f"{place}: not the trainee folder graded for this class (its signature is not the one "
                            f"the class signed)" if place in signed else f"{place}: trainee folder added after grading")
        elif found.get(origin) == origin:
            problems.append(f"{place}: trainee folder added after grading (a copy of {origin}, {name(origin)})")
        elif found.get(origin) == place:
            if place < origin:
                problems.append(f"{place}, {origin}: trainee folders swapped ({place} holds {name(origin)}'s "
                                f"results, {origin} holds {name(place)}'s)")
        elif origin not in found:
            problems.append(f"{origin}: trainee folder renamed to {place} ({name(origin)})")
        else:
            problems.append(f"{place}: holds the results graded for {origin} ({name(origin)})")
    origins = set(found.values())
    for place in signed:
        if place in origins:
            continue  # its results are somewhere (said above if not in place)
        if place not in found and (folder / place).is_dir():
            problems.append(f"{place}: its {SIGNATURE} was removed ({name(place)})")
        elif found.get(place, "") is not None:  # None: replaced by a folder the class did not sign (said above)
            problems.append(f"{place}: trainee folder removed ({name(place)})")
    return problems


def _name_problems(folder: Path, who: dict[str, Any]) -> list[str]:
    """A trainee folder verified alone: its name is the place it was signed at."""
    place = PurePosixPath(str(who.get("place") or ""))
    if not place.parts or folder.resolve().parts[-len(place.parts):] == place.parts:
        return []
    trainee = ", ".join(str(v) for v in (who.get("trainee_id"), who.get("trainee")) if v)
    return [f"folder is named '{folder.resolve().name}' but was signed as '{place}' (trainee {trainee})"]


def _results_problems(folder: Path, who: dict[str, Any]) -> list[str]:
    """``results.json`` says the lab, trainee and seed that were signed."""
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # removed or changed: said with the files
    if not isinstance(results, dict):
        return []
    problems = []
    for field in ("lab", "trainee", "seed"):
        if field in who and results.get(field) != who[field]:
            problems.append(f"results.json: {field} is {json.dumps(results.get(field), ensure_ascii=False)}, "
                            f"but {json.dumps(who[field], ensure_ascii=False)} was graded")
    return problems
