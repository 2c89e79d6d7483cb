"""The TSPCR referential: its 7 key activities and 36 competencies, in French and English.

The data lives in ``tspcr_lab/data/referential.toml`` (package data). :func:`load` reads it once,
checks it and returns a :class:`Referential`::

    ref = load()
    ref.competency("30").title("en")      # 'Plan and configure IP addressing'
    ref.activity_of(30).code               # 'TSPCR.07'

Competency codes are accepted as ``"030"``, ``"30"`` or ``30``; an unknown code raises
:class:`~tspcr_lab.errors.UserError`.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable

from .errors import TspcrError, UserError

ACTIVITY_COUNT = 7
COMPETENCY_COUNT = 36
DEFAULT_LANG = "fr"

_DATA_PACKAGE = "tspcr_lab"
_DATA_FILE = ("data", "referential.toml")


class ReferentialError(TspcrError, ValueError):
    """The referential data is malformed or inconsistent (a packaging bug, not a user mistake)."""


def _title(obj: Activity | Competency, lang: str | None) -> str:
    text = getattr(obj, lang, "") if lang in ("fr", "en") else ""
    return text or obj.fr


@dataclass(frozen=True)
class Activity:
    code: str  # "TSPCR.01"
    fr: str
    en: str

    def title(self, lang: str | None = DEFAULT_LANG) -> str:
        """The title in ``lang`` (``"fr"`` or ``"en"``); any other language falls back to French."""
        return _title(self, lang)


@dataclass(frozen=True)
class Competency:
    code: str  # "001" .. "036"
    activity: str  # code of its activity, "TSPCR.01"
    fr: str
    en: str

    def title(self, lang: str | None = DEFAULT_LANG) -> str:
        """The title in ``lang`` (``"fr"`` or ``"en"``); any other language falls back to French."""
        return _title(self, lang)


def activity_code(number: int) -> str:
    return f"TSPCR.{number:02d}"


def competency_code(number: int) -> str:
    return f"{number:03d}"


class Referential:
    """The validated referential. Build it with :func:`load`; the constructor checks consistency."""

    def __init__(self, activities: Iterable[Activity], competencies: Iterable[Competency]):
        activities = tuple(activities)
        competencies = tuple(sorted(competencies, key=lambda c: c.code))
        _validate(activities, competencies)
        self._activities = activities
        self._competencies = competencies
        self._activity_by_code = {a.code: a for a in activities}
        self._competency_by_code = {c.code: c for c in competencies}

    def __repr__(self) -> str:
        return f"<Referential {len(self._activities)} activities, {len(self._competencies)} competencies>"

    @property
    def activities(self) -> list[Activity]:
        """The activities in document order (TSPCR.01 .. TSPCR.07)."""
        return list(self._activities)

    @property
    def competencies(self) -> list[Competency]:
        """The competencies ordered by code (001 .. 036)."""
        return list(self._competencies)

    def competency(self, code: str | int) -> Competency:
        """The competency with ``code`` given as ``"030"``, ``"30"`` or ``30``.

        Raises :class:`UserError` for anything else or an unknown code.
        """
        key = _normalise_competency_code(code)
        found = self._competency_by_code.get(key) if key is not None else None
        if found is None:
            raise UserError(
                f"unknown competency {code!r}: expected a code from {self._competencies[0].code} "
                f"to {self._competencies[-1].code} (e.g. \"030\" or 30)"
            )
        return found

    def activity(self, code: str) -> Activity:
        """The activity with ``code`` (``"TSPCR.07"``); raises :class:`UserError` if unknown."""
        found = self._activity_by_code.get(code.strip()) if isinstance(code, str) else None
        if found is None:
            raise UserError(
                f"unknown activity {code!r}: expected a code from {self._activities[0].code} "
                f"to {self._activities[-1].code}"
            )
        return found

    def activity_of(self, code: str | int) -> Activity:
        """The activity a competency belongs to (same code forms as :meth:`competency`)."""
        return self._activity_by_code[self.competency(code).activity]

    def competencies_of(self, activity: str) -> list[Competency]:
        """The competencies of an activity (``"TSPCR.07"``), ordered by code."""
        code = self.activity(activity).code
        return [c for c in self._competencies if c.activity == code]


def _normalise_competency_code(code: Any) -> str | None:
    """``"030"``, ``"30"``, ``30`` -> ``"030"``; None when ``code`` is not of an accepted form."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        number = code
    elif isinstance(code, str):
        text = code.strip()
        if not (1 <= len(text) <= 3 and text.isascii() and text.isdigit()):
            return None
        number = int(text)
    else:
        return None
    if not 1 <= number <= 999:
        return None
    return competency_code(number)


def _validate(activities: tuple[Activity, ...], competencies: tuple[Competency, ...]) -> None:
    problems: list[str] = []

    for kind, items in (("activity", activities), ("competency", competencies)):
        for item in items:
            for field in ("code", "fr", "en"):
                value = getattr(item, field)
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"{kind} {item.code!r}: {field!r} must be a non-empty string")

    if len(activities) != ACTIVITY_COUNT:
        problems.append(f"expected {ACTIVITY_COUNT} activities, found {len(activities)}")
    if len(competencies) != COMPETENCY_COUNT:
        problems.append(f"expected {COMPETENCY_COUNT} competencies, found {len(competencies)}")

    for kind, codes, expected in (
        ("activity", [a.code for a in activities], [activity_code(i) for i in range(1, len(activities) + 1)]),
        ("competency", [c.code for c in competencies], [competency_code(i) for i in range(1, len(competencies) + 1)]),
    ):
        duplicates = sorted({c for c in codes if codes.count(c) > 1}, key=str)
        if duplicates:
            problems.append(f"duplicate {kind} codes: {', '.join(map(str, duplicates))}")
        elif sorted(codes, key=str) != expected:
            problems.append(
                f"{kind} codes must run {expected[0] if expected else '?'}..{expected[-1] if expected else '?'} "
                f"without gaps, found: {', '.join(map(str, codes))}"
            )

    activity_codes = {a.code for a in activities}
    for c in competencies:
        if c.activity not in activity_codes:
            problems.append(f"competency {c.code!r} refers to unknown activity {c.activity!r}")
    used = {c.activity for c in competencies}
    for a in activities:
        if a.code not in used:
            problems.append(f"activity {a.code!r} has no competency")

    if problems:
        raise ReferentialError("invalid TSPCR referential: " + "; ".join(problems))


def _entries(data: dict[str, Any], table: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    entries = data.get(table)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ReferentialError(f"invalid TSPCR referential: missing or malformed [[{table}]] tables")
    for index, entry in enumerate(entries):
        missing = [f for f in fields if not isinstance(entry.get(f), str)]
        unknown = sorted(set(entry) - set(fields))
        if missing or unknown:
            detail = []
            if missing:
                detail.append(f"missing or non-string {', '.join(missing)}")
            if unknown:
                detail.append(f"unknown keys {', '.join(unknown)}")
            raise ReferentialError(
                f"invalid TSPCR referential: {table}[{index}] ({entry.get('code', '?')!r}): {'; '.join(detail)}"
            )
    return entries


def parse(data: dict[str, Any]) -> Referential:
    """Build and validate a :class:`Referential` from the parsed TOML document."""
    activities = [Activity(**e) for e in _entries(data, "activities", ("code", "fr", "en"))]
    competencies = [Competency(**e) for e in _entries(data, "competencies", ("code", "activity", "fr", "en"))]
    return Referential(activities, competencies)


@functools.lru_cache(maxsize=None)
def load() -> Referential:
    """The packaged referential, read and validated once."""
    resource = resources.files(_DATA_PACKAGE)
    for part in _DATA_FILE:
        resource = resource.joinpath(part)
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReferentialError(f"cannot read the TSPCR referential {'/'.join(_DATA_FILE)}: {exc}") from exc
    return parse(data)
