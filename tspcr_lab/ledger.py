"""The fault ledger of a troubleshooting lab: what was injected, and the state it left.

Right after the lab's deploy has injected a trainee's faults, :func:`record` takes, on every host
of the lab, a :class:`StateSnapshot` (its files' owners, modes and digests under the watched
folders, the text of its small configuration files, the daemons that run, the packages, the
firewall's ruleset, routes and addresses) and keeps it on the grader's side (the trainee, root in
their hosts, cannot touch it), with the seed and the faults. Grading takes the snapshot again and
:func:`compare` lists every change, each with its evidence (a diff of a configuration file, a mode
that changed, a daemon no longer running); :func:`damage` keeps those outside the faults' scopes
and the lab's allowances: the collateral damage of the repair.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import time
from pathlib import Path
from typing import Any

from .errors import ProbeError, UserError
from .probes.base import Probe

LEDGER = "fault-ledger.json"
WATCHED = ("/etc", "/home", "/srv", "/var/www", "/usr/local")
TEXT_ROOT = "/etc"  # the text of its small files is kept, to show a diff of what changed
TEXT_LIMIT = 16384
DIFF_LINES = 30

# Runs on the host (python3 -I: no site, no environment): one JSON document on stdout.
_SNAPSHOT = r'''
import hashlib, json, os, stat, subprocess, sys
roots, text_root, limit, with_texts = sys.argv[1].split(":"), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
files, texts = {}, {}
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            h.update(block)
    return h.hexdigest()
def walk(top):
    try:
        st = os.lstat(top)
    except OSError:
        return
    dev = st.st_dev
    stack = [top]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            files[path] = ["d", mode, st.st_uid, st.st_gid, ""]
            if st.st_dev != dev:
                continue
            try:
                stack.extend(os.path.join(path, name) for name in os.listdir(path))
            except OSError:
                pass
        elif stat.S_ISLNK(st.st_mode):
            files[path] = ["l", mode, st.st_uid, st.st_gid, os.readlink(path)]
        elif stat.S_ISREG(st.st_mode):
            try:
                files[path] = ["f", mode, st.st_uid, st.st_gid, digest(path)]
            except OSError as exc:
                files[path] = ["f", mode, st.st_uid, st.st_gid, "unreadable"]
                continue
            if with_texts and path.startswith(text_root + "/") and st.st_size <= limit:
                try:
                    with open(path, "rb") as f:
                        texts[path] = f.read().decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    pass
        else:
            files[path] = ["o", mode, st.st_uid, st.st_gid, ""]
for root in roots:
    walk(root)
def out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
daemons = set()
for pid in os.listdir("/proc"):
    if not pid.isdigit() or pid == "1":
        continue
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
    except OSError:
        continue
    if fields[1] in ("0", "1"):
        daemons.add(comm)
packages = {}
listed = out(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"])
for line in (listed or "").splitlines():
    parts = line.split()
    if len(parts) >= 3 and parts[2].startswith("ii"):
        packages[parts[0]] = parts[1]
def brief(text):  # "eth0@if8  UP  10.0.0.1/26": the peer's index changes when a cable is plugged again
    return None if text is None else "\n".join(" ".join([l.split()[0].split("@")[0], *l.split()[1:]])
                                               for l in text.splitlines() if l.split())
json.dump({"files": files, "texts": texts, "daemons": sorted(daemons), "packages": packages,
           "firewall": out(["nft", "list", "ruleset"]), "routes": out(["ip", "-4", "route", "show", "table", "all"]),
           "addresses": brief(out(["ip", "-4", "-br", "addr", "show"]))}, sys.stdout)
'''


class StateSnapshot(Probe):
    """A host's state as the ledger keeps it (see the module); ``texts``: also the text of the
    small files under /etc (taken once, at injection, to show diffs later)."""

    def __init__(self, texts: bool = False, roots: tuple[str, ...] = WATCHED):
        self.texts, self.roots = texts, roots

    def command(self) -> str:
        import shlex

        return " ".join(shlex.quote(a) for a in ("python3", "-I", "-c", _SNAPSHOT, ":".join(self.roots),
                                                   TEXT_ROOT, str(TEXT_LIMIT), "1" if self.texts else "0"))

    def process(self, output: str) -> dict[str, Any]:
        try:
            return json.loads(output)
        except ValueError:
            raise ProbeError("StateSnapshot: the host's state could not be read (python3 gave no JSON)") from None


def ledger_path(target) -> Path:
    return target.state_dir / LEDGER


def record(target, lab_params, faults: list[str]) -> Path:
    """Takes every host's snapshot and writes the ledger (after the deploy injected the faults)."""
    hosts = target.hosts(default_timeout=60.0)
    try:
        snapshots = {name: host.probe(StateSnapshot(texts=True)) for name, host in hosts.items()}
    finally:
        for host in hosts.values():
            host.close()
    path = ledger_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"lab": target.lab.id, "seed": lab_params.seed, "faults": faults,
                "taken": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "hosts": snapshots}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def load(target, seed: int | None, faults: list[str]) -> dict[str, Any]:
    """The ledger of the target, checked against the trainee's seed and faults."""
    path = ledger_path(target)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"no fault ledger for {target.name} ({path}): set the lab up with tspcr-lab up "
                        "(it injects the faults and records the state they leave)") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"the fault ledger {path} cannot be read: {exc}") from None
    if document.get("lab") != target.lab.id or document.get("seed") != seed or document.get("faults") != faults:
        raise UserError(f"the fault ledger {path} was recorded for lab {document.get('lab')}, seed "
                        f"{document.get('seed')} (faults {', '.join(document.get('faults') or [])}), not for this "
                        f"trainee's seed {seed}: set the lab up again")
    return document


@dataclasses.dataclass(frozen=True)
class Change:
    host: str
    kind: str  # "file", "daemon", "package", "firewall", "routes", "addresses"
    key: str  # the path, the daemon's or package's name, or the kind again
    what: dict[str, str]  # one line per language
    detail: str = ""  # the evidence: a diff, the values before and after

    def in_scope(self, scope: tuple[str, ...]) -> bool:
        for item in scope:
            if self.kind == "file" and item.startswith("/"):
                if item.endswith("*"):  # "/etc/rc*": a raw prefix (/etc/rc2.d/S01dnsmasq)
                    if self.key.startswith(item[:-1]):
                        return True
                elif self.key == item.rstrip("/") or self.key.startswith(item.rstrip("/") + "/"):
                    return True
            elif item == self.kind or item == f"{self.kind}:{self.key}":
                return True
        return False


def _text_diff(before: str | None, after: str | None, path: str) -> str:
    if before is None or after is None:
        return ""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"{path} (after injection)",
                                      f"{path} (now)", lineterm="", n=1))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more lines)"]
    return "\n".join(lines)


def compare(host: str, before: dict[str, Any], now: dict[str, Any], read_text=None) -> list[Change]:
    """Every change of a host's state since the ledger, each explained (``read_text(path)``: the
    file's text now, to show a diff of a changed configuration file)."""
    changes: list[Change] = []
    old, new = before.get("files", {}), now.get("files", {})
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        if b is None:
            changes.append(Change(host, "file", path, {"fr": f"{path} a été supprimé", "en": f"{path} was removed"}))
        elif a is None:
            changes.append(Change(host, "file", path, {"fr": f"{path} a été créé", "en": f"{path} was created"}))
        elif a[0] != b[0]:
            changes.append(Change(host, "file", path, {"fr": f"{path} a changé de type", "en": f"{path} changed type"}))
        else:
            parts, detail = [], []
            if a[1] != b[1]:
                parts.append((f"droits {a[1]:04o} → {b[1]:04o}", f"mode {a[1]:04o} -> {b[1]:04o}"))
            if a[2:4] != b[2:4]:
                parts.append((f"propriétaire {a[2]}:{a[3]} → {b[2]}:{b[3]}", f"owner {a[2]}:{a[3]} -> {b[2]}:{b[3]}"))
            if a[4] != b[4]:
                parts.append(("contenu modifié", "content changed") if a[0] == "f" else
                             (f"cible {a[4]} → {b[4]}", f"target {a[4]} -> {b[4]}"))
                if a[0] == "f" and read_text is not None and path in before.get("texts", {}):
                    detail.append(_text_diff(before["texts"][path], read_text(path), path))
            changes.append(Change(host, "file", path, {"fr": f"{path} : " + ", ".join(p[0] for p in parts),
                                                       "en": f"{path}: " + ", ".join(p[1] for p in parts)},
                                  "\n".join(d for d in detail if d)))
    for name in sorted(set(before.get("daemons", [])) - set(now.get("daemons", []))):
        changes.append(Change(host, "daemon", name, {"fr": f"le service {name} ne tourne plus",
                                                     "en": f"daemon {name} no longer runs"}))
    old_p, new_p = before.get("packages", {}), now.get("packages", {})
    for name in sorted(set(old_p) | set(new_p)):
        if old_p.get(name) == new_p.get(name):
            continue
        if name not in new_p:
            what = {"fr": f"paquet {name} supprimé", "en": f"package {name} removed"}
        elif name not in old_p:
            what = {"fr": f"paquet {name} installé", "en": f"package {name} installed"}
        else:
            what = {"fr": f"paquet {name} : {old_p[name]} → {new_p[name]}", "en": f"package {name}: {old_p[name]} -> {new_p[name]}"}
        changes.append(Change(host, "package", name, what))
    for kind, fr in (("firewall", "le pare-feu (nft list ruleset)"), ("routes", "les routes"),
                     ("addresses", "les adresses")):
        a, b = before.get(kind), now.get(kind)
        if (a or "").strip() != (b or "").strip():
            changes.append(Change(host, kind, kind, {"fr": f"{fr} ont changé" if kind != "firewall" else f"{fr} a changé",
                                                     "en": f"the {kind} changed"},
                                  _text_diff(a or "", b or "", kind)))
    return changes


def damage(changes: list[Change], scope: tuple[str, ...]) -> list[Change]:
    """The changes outside ``scope`` (the drawn faults' scopes on that host and the lab's allowances)."""
    return [c for c in changes if not c.in_scope(scope)]
