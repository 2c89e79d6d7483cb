"""A class: the trainees of a practical exam, and what each one gets.

A class file is TOML (``classes/<name>.toml``)::

    [class]
    name = "TSPCR 2026 A"
    seed = 2026              # the exam's seed; each trainee's seed is derived from it and their id

    [[trainees]]
    id = "t01"               # short, unique: lowercase letters, digits, '-' (names the lab copy)
    name = "Camille Martin"
    email = "camille.martin@example.org"   # optional: what a gradebook may match on
    station = "station01"    # optional: the inventory group of their real hosts

or CSV with a header ``id,name[,email][,station]`` (the exam's seed then comes from ``--seed``).
Every trainee gets their own parameters from :func:`trainee_seed`, so neighbours get different
addresses, names and passwords, and the same seed drives their checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from pathlib import Path

from .errors import UserError
from .tables import csv_rows, read_text

TRAINEE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,11}$")
TRAINEE_KEYS = {"id", "name", "email", "station"}


@dataclasses.dataclass(frozen=True)
class Trainee:
    id: str
    name: str
    email: str = ""
    station: str = ""


@dataclasses.dataclass(frozen=True)
class Classroom:
    path: Path
    name: str
    seed: int | None
    trainees: tuple[Trainee, ...]

    def seed_of(self, trainee: Trainee, exam_seed: int | None = None) -> int:
        seed = self.seed if exam_seed is None else exam_seed
        if seed is None:
            raise UserError(f"class {self.path}: no exam seed (set [class] seed or pass --seed)")
        return trainee_seed(seed, trainee.id)

    def trainee(self, trainee_id: str) -> Trainee:
        for trainee in self.trainees:
            if trainee.id == trainee_id:
                return trainee
        raise UserError(f"class {self.path}: no trainee '{trainee_id}'")


def trainee_seed(exam_seed: int, trainee_id: str) -> int:
    """A trainee's seed: stable for an exam and a trainee, unrelated between neighbours."""
    digest = hashlib.sha256(f"tspcr-lab:{exam_seed}:{trainee_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10**6


def instance_name(lab_id: str, trainee: Trainee) -> str:
    """The virtual lab instance that holds a trainee's copy of a lab."""
    return f"{lab_id}-{trainee.id}"


def load_class(path: str | Path) -> Classroom:
    path = Path(path)
    text = read_text(path, "class")
    if path.suffix.lower() == ".csv":
        name, seed, rows = path.stem, None, csv_rows(path, text, "class", {"id"}, "id,name[,email][,station]")
    else:
        name, seed, rows = _toml_rows(path, text)
    trainees, seen = [], set()
    for where, row in rows:
        unknown = sorted(set(row) - TRAINEE_KEYS)
        if unknown:
            raise UserError(f"class {path}: {where}: unknown key '{unknown[0]}' (keys: id, name, email, station)")
        tid = str(row.get("id", "")).strip()
        if not TRAINEE_ID_RE.match(tid):
            raise UserError(f"class {path}: {where}: id '{tid}' must be 1-12 lowercase letters, digits or '-'")
        if tid in seen:
            raise UserError(f"class {path}: {where}: id '{tid}' appears twice")
        seen.add(tid)
        values = {key: str(row.get(key) or "").strip() for key in ("name", "email", "station")}
        if any(ch in value for value in values.values() for ch in "\r\n\x00"):
            raise UserError(f"class {path}: {where}: a value holds a line break")
        trainees.append(Trainee(tid, values["name"] or tid, values["email"], values["station"]))
    if not trainees:
        raise UserError(f"class {path}: no trainees")
    return Classroom(path, name, seed, tuple(trainees))


def _toml_rows(path: Path, text: str) -> tuple[str, int | None, list[tuple[str, dict]]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"class {path}: {exc}") from None
    unknown = sorted(set(data) - {"class", "trainees"})
    if unknown:
        raise UserError(f"class {path}: unknown table '{unknown[0]}' (tables: [class], [[trainees]])")
    head = data.get("class", {})
    if not isinstance(head, dict) or set(head) - {"name", "seed"}:
        raise UserError(f"class {path}: [class] takes name and seed")
    seed = head.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise UserError(f"class {path}: [class] seed must be a whole number")
    rows = data.get("trainees", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise UserError(f"class {path}: trainees must be [[trainees]] tables")
    return str(head.get("name", path.stem)), seed, [(f"trainee {i}", r) for i, r in enumerate(rows, 1)]
