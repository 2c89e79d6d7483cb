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


AUTOMATED = {"007", "009", "010", "014", "015", "030", "033", "034", "035", "036"}
MANUAL = {"001", "002", "012", "016", "023", "026", "027"}


def test_real_repo_covers_the_host_labs_and_the_manual_items(rows):
    assert len(rows) == 36
    assert {code for code, row in rows.items() if row["status"] == "automated"} == AUTOMATED
    assert {code for code, row in rows.items() if row["status"] == "manual"} == MANUAL
    for code in MANUAL:
        assert rows[code]["manual"] == {"rubrics/workshop.toml": 1} and rows[code]["checks"] == 0
    uncovered = [row for code, row in rows.items() if code not in AUTOMATED | MANUAL]
    assert all(row["status"] == "uncovered" and not row["labs"] and not row["manual"] for row in uncovered)


def test_a_lab_rubric_item_makes_a_competency_manual(tmp_path, monkeypatch):
    lab = tmp_path / "labs" / "bench"
    lab.mkdir(parents=True)
    (lab / "lab.toml").write_text('''
[lab]
id = "bench"
title = { fr = "Atelier" }
competencies = ["001"]
[management]
network = "172.31.0.0/24"
grader = "172.31.0.254"
[[hosts]]
name = "pc1"
role = "pc"
mgmt = "172.31.0.11"
[[rubric]]
id = "assembly"
competency = "1"
points = 4
title = { fr = "Montage" }
''', encoding="utf-8")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    found = {row["code"]: row for row in coverage()}
    assert found["001"]["status"] == "manual" and found["001"]["manual"] == {"bench": 1}
    assert found["002"]["status"] == "uncovered"


def test_real_repo_counts(rows):
    # checks/ip-plan/test_ip_plan.py: 030 = 4 checks over PCS (2 each); 007 = 2 over PCS + 2 single ones
    assert (rows["030"]["labs"], rows["030"]["checks"]) == ({"ip-plan": 8}, 8)
    assert (rows["007"]["labs"], rows["007"]["checks"]) == ({"ip-plan": 6}, 6)
