"""Scoring: points per check, totals per competency, mastery per competency.

Pure functions over :class:`CheckResult` values, so they are tested without any host. A check that
could not run (*error*) is never counted as the trainee's failure: it keeps its points in the
maximum, earns nothing, and makes the grade (and its competency) incomplete.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
PENDING = "pending"  # a manual item the examiner has not marked yet
STATUSES = (PASSED, FAILED, ERROR, SKIPPED, PENDING)
AUTO, MANUAL = "auto", "manual"


@dataclasses.dataclass
class CheckResult:
    id: str
    name: str
    competency: str
    points: float
    critical: bool
    status: str
    message: str = ""
    hint: str = ""
    duration: float = 0.0
    evidence: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    public: str = ""  # the message without expected values, for what a trainee sees in an exam
    kind: str = AUTO  # AUTO: a machine check; MANUAL: a rubric item marked by the examiner
    awarded: float | None = None  # points the examiner gave (manual items)
    title: str = ""  # what a manual item is about

    @property
    def earned(self) -> float:
        if self.kind == MANUAL:
            return self.awarded or 0.0
        return self.points if self.status == PASSED else 0.0


@dataclasses.dataclass
class CompetencyGrade:
    code: str
    earned: float
    max: float
    mastered: bool
    complete: bool
    critical_failed: bool
    checks: int


@dataclasses.dataclass
class Grade:
    score: float
    max_score: float
    complete: bool
    competencies: dict[str, CompetencyGrade]
    counts: dict[str, int]


def grade(checks: Iterable[CheckResult], threshold: float, competencies: Iterable[str] = ()) -> Grade:
    """Grade a set of check results. ``competencies`` lists codes to report even without checks."""
    checks = list(checks)
    codes = list(dict.fromkeys([*competencies, *(c.competency for c in checks)]))
    per: dict[str, CompetencyGrade] = {}
    for code in codes:
        mine = [c for c in checks if c.competency == code and c.status != SKIPPED]
        earned = sum(c.earned for c in mine)
        maximum = sum(c.points for c in mine)
        critical_failed = any(c.critical and c.status == FAILED for c in mine)
        complete = not any(c.status in (ERROR, PENDING) for c in mine)
        mastered = maximum > 0 and earned >= threshold * maximum - 1e-9 and not critical_failed
        per[code] = CompetencyGrade(code, earned, maximum, mastered, complete, critical_failed, len(mine))
    counts = {status: sum(1 for c in checks if c.status == status) for status in STATUSES}
    return Grade(
        score=sum(c.earned for c in checks),
        max_score=sum(c.points for c in checks if c.status != SKIPPED),
        complete=counts[ERROR] == 0 and counts[PENDING] == 0,
        competencies=per,
        counts=counts,
    )


def exit_status_of(complete: bool, failed: int):
    """Incomplete wins over failed: a grade with checks that could not run is not final."""
    from .exitcodes import ExitStatus

    if not complete:
        return ExitStatus.INCOMPLETE
    if failed:
        return ExitStatus.CHECKS_FAILED
    return ExitStatus.OK


def exit_status(result: Grade):
    return exit_status_of(result.complete, result.counts[FAILED])
