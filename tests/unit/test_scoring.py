"""Scoring: points, maximum, completeness and mastery per competency; the exit status."""

from __future__ import annotations

import pytest

from tspcr_lab.exitcodes import ExitStatus
from tspcr_lab.scoring import ERROR, FAILED, PASSED, PENDING, SKIPPED, CheckResult, exit_status, grade


def result(status: str, points: float = 1, competency: str = "030", critical: bool = False) -> CheckResult:
    return CheckResult(id=f"{competency}-{status}-{points}", name="test_x", competency=competency,
                       points=points, critical=critical, status=status)


@pytest.mark.parametrize("status, earned", [(PASSED, 2), (FAILED, 0), (ERROR, 0), (SKIPPED, 0)])
def test_points_are_earned_only_when_passed(status, earned):
    assert result(status, points=2).earned == earned
    assert grade([result(status, points=2)], 0.7).score == earned


def test_error_keeps_its_points_in_the_max_and_makes_the_grade_incomplete():
    g = grade([result(PASSED, 2), result(ERROR, 3)], 0.7)
    assert (g.score, g.max_score, g.complete) == (2, 5, False)
    comp = g.competencies["030"]
    assert (comp.earned, comp.max, comp.complete, comp.checks) == (2, 5, False, 2)


def test_skipped_check_leaves_the_max():
    g = grade([result(PASSED, 2), result(SKIPPED, 3)], 0.7)
    assert (g.score, g.max_score, g.complete) == (2, 2, True)
    comp = g.competencies["030"]
    assert (comp.max, comp.checks, comp.mastered) == (2, 1, True)


@pytest.mark.parametrize("passed, failed, threshold, mastered", [
    (7, 3, 0.7, True),      # exactly at the threshold
    (6.9, 3.1, 0.7, False),  # just under
    (0.3, 2.7, 0.1, True),  # 0.1 * 3.0 is 0.30000000000000004 in floating point: still at the threshold
    (10, 0, 1.0, True),
    (9.9, 0.1, 1.0, False),
])
def test_mastery_threshold(passed, failed, threshold, mastered):
    g = grade([result(PASSED, passed), result(FAILED, failed)], threshold)
    assert g.competencies["030"].mastered is mastered


def test_failed_critical_check_denies_mastery_above_the_threshold():
    comp = grade([result(PASSED, 9), result(FAILED, 1, critical=True)], 0.7).competencies["030"]
    assert comp.earned == 9 and comp.critical_failed
    assert not comp.mastered


def test_passed_critical_check_does_not_deny_mastery():
    comp = grade([result(PASSED, 9, critical=True), result(FAILED, 1)], 0.7).competencies["030"]
    assert not comp.critical_failed and comp.mastered


def test_listed_competency_without_checks_has_max_zero_and_is_not_mastered():
    g = grade([result(PASSED, 1, "030")], 0.7, competencies=["007", "030"])
    assert list(g.competencies) == ["007", "030"]
    comp = g.competencies["007"]
    assert (comp.earned, comp.max, comp.mastered, comp.checks) == (0, 0, False, 0)
    assert g.competencies["030"].mastered


def test_competencies_are_graded_separately():
    g = grade([result(PASSED, 1, "030"), result(FAILED, 1, "007")], 0.7)
    assert g.competencies["030"].mastered and not g.competencies["007"].mastered
    assert g.competencies["007"].complete


def test_counts_per_status():
    g = grade([result(PASSED), result(PASSED), result(FAILED), result(ERROR), result(SKIPPED)], 0.7)
    assert g.counts == {PASSED: 2, FAILED: 1, ERROR: 1, SKIPPED: 1, PENDING: 0}


@pytest.mark.parametrize("statuses, expected", [
    ([PASSED, FAILED, ERROR], ExitStatus.INCOMPLETE),
    ([PASSED, ERROR], ExitStatus.INCOMPLETE),
    ([PASSED, FAILED, SKIPPED], ExitStatus.CHECKS_FAILED),
    ([PASSED, SKIPPED], ExitStatus.OK),
    ([PASSED], ExitStatus.OK),
])
def test_exit_status_precedence(statuses, expected):
    assert exit_status(grade([result(s) for s in statuses], 0.7)) == expected
