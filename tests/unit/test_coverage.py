"""Coverage of the referential: marked checks are counted from the syntax tree of check files."""

from __future__ import annotations

import pytest

from tspcr_lab.coverage import checks_in, coverage

CHECKS = '''
import pytest

@pytest.mark.competency("030", points=2)
@pytest.mark.parametrize("pc", ["pc1", "pc2", "pc3"])
def test_address(pc, hosts, check):
    pass

@pytest.mark.competency("007")
def test_hostname(hosts, check):
    pass

def test_not_marked():
    pass
'''


def test_checks_in_counts_parametrized_cases(tmp_path):
    path = tmp_path / "test_demo.py"
    path.write_text(CHECKS, encoding="utf-8")
    assert sorted(checks_in(path)) == [("007", 1), ("030", 3)]


@pytest.fixture
def rows(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    return {row["code"]: row for row in coverage()}


def test_real_repo_automates_007_and_030_only(rows):
    assert len(rows) == 36
    for code in ("007", "030"):
        assert rows[code]["status"] == "automated" and list(rows[code]["labs"]) == ["ip-plan"]
    others = [row for code, row in rows.items() if code not in ("007", "030")]
    assert all(row["status"] == "uncovered" and row["checks"] == 0 and not row["labs"] for row in others)


def test_real_repo_counts(rows):
    # checks/ip-plan/test_ip_plan.py: 030 = 4 checks over PCS (2 each); 007 = 2 over PCS + 2 single ones
    assert (rows["030"]["labs"], rows["030"]["checks"]) == ({"ip-plan": 8}, 8)
    assert (rows["007"]["labs"], rows["007"]["checks"]) == ({"ip-plan": 6}, 6)
