"""Manual items: what no machine can judge, marked by the examiner and merged into the grade.

Items come from the lab file (``[[rubric]]`` tables) and from rubric files (``rubrics/*.toml`` or
``--rubric FILE``, the same ``[[rubric]]`` tables). The examiner's marks are a CSV file::

    trainee,item,points,comment
    t01,cabling,3,"câbles rangés, une nappe mal orientée"

(``trainee`` may be left empty when one trainee is graded) or a TOML file::

    [t01]
    cabling = { points = 3, comment = "câbles rangés, une nappe mal orientée" }

A marked item earns the points given (partial credit allowed) and is *passed* when it earns them
all, *failed* otherwise; an item not marked yet is *pending*, which makes the grade incomplete.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from .errors import UserError
from .labfile import Lab, RubricItem, project_root, read_rubric_items
from .tables import csv_rows, read_text
from .scoring import FAILED, MANUAL, PASSED, PENDING, CheckResult


def rubrics_dir() -> Path:
    return project_root() / "rubrics"


def load_rubric_file(path: str | Path) -> tuple[RubricItem, ...]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"rubric {path}: no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"rubric {path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"rubric"})
    if unknown:
        raise UserError(f"rubric {path}: unknown table '{unknown[0]}' (a rubric file holds [[rubric]] items)")
    items = data.get("rubric", [])
    if not isinstance(items, list):
        raise UserError(f"rubric {path}: rubric must be [[rubric]] tables")
    return read_rubric_items(items, "rubric", path)


def items_for(lab: Lab, extra_files: tuple[str | Path, ...] = ()) -> tuple[RubricItem, ...]:
    """The lab's own manual items and those of the rubric files given."""
    items = list(lab.rubric)
    for path in extra_files:
        for item in load_rubric_file(path):
            if any(other.id == item.id for other in items):
                raise UserError(f"rubric {path}: item '{item.id}' is already defined")
            items.append(item)
    return tuple(items)


@dataclasses.dataclass(frozen=True)
class Mark:
    points: float
    comment: str


def load_marks(path: str | Path, items: tuple[RubricItem, ...]) -> dict[str, dict[str, Mark]]:
    """trainee id ('' for a single trainee) -> item id -> mark, validated against the items."""
    path = Path(path)
    text = read_text(path, "marks")
    rows = _toml_marks(path, text) if path.suffix.lower() == ".toml" else _csv_marks(path, text)
    known = {item.id: item for item in items}
    marks: dict[str, dict[str, Mark]] = {}
    for where, trainee, item_id, points, comment in rows:
        item = known.get(item_id)
        if item is None:
            names = ", ".join(known) or "none"
            raise UserError(f"marks {path}: {where}: unknown item '{item_id}' (items: {names})")
        try:
            value = float(str(points).replace(",", "."))
        except ValueError:
            raise UserError(f"marks {path}: {where}: points '{points}' is not a number") from None
        if not 0 <= value <= item.points:
            raise UserError(f"marks {path}: {where}: {value:g} points for '{item_id}' (between 0 and {item.points:g})")
        mine = marks.setdefault(trainee, {})
        if item_id in mine:
            raise UserError(f"marks {path}: {where}: '{item_id}' is marked twice for '{trainee or 'the trainee'}'")
        mine[item_id] = Mark(value, comment)
    return marks


def _csv_marks(path: Path, text: str):
    for where, row in csv_rows(path, text, "marks", {"item", "points"}, "trainee,item,points,comment"):
        yield where, row.get("trainee", ""), row.get("item", ""), row.get("points", ""), row.get("comment", "")


def _toml_marks(path: Path, text: str):
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"marks {path}: not valid TOML: {exc}") from None
    for trainee, items in data.items():
        if not isinstance(items, dict):
            raise UserError(f"marks {path}: [{trainee}] must be a table of items")
        for item_id, mark in items.items():
            if isinstance(mark, (int, float)) and not isinstance(mark, bool):
                mark = {"points": mark}
            if not isinstance(mark, dict) or "points" not in mark or set(mark) - {"points", "comment"}:
                raise UserError(f"marks {path}: {trainee}.{item_id} must be {{ points = N, comment = \"...\" }}")
            yield f"{trainee}.{item_id}", trainee, item_id, mark["points"], str(mark.get("comment", ""))


def manual_results(items: tuple[RubricItem, ...], marks: dict[str, Mark], lang: str) -> list[CheckResult]:
    """The manual items of one trainee as results, next to the machine checks."""
    out = []
    for item in items:
        mark = marks.get(item.id)
        if mark is None:
            status, awarded = PENDING, None
            message = {"fr": "pas encore évalué par l'examinateur", "en": "not marked by the examiner yet"}[lang]
        else:
            status = PASSED if mark.points >= item.points - 1e-9 else FAILED
            awarded, message = mark.points, mark.comment
        out.append(CheckResult(
            id=item.id, name=item.id, competency=item.competency, points=item.points, critical=False,
            status=status, message=message, public=message, kind=MANUAL, awarded=awarded,
            title=item.title_in(lang),
        ))
    return out
