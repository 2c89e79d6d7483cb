"""Coverage of the referential: marked checks are counted as pytest collects them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tspcr_lab import cli
from tspcr_lab.coverage import checks_in, collect, coverage, lab_checks
from tspcr_lab.errors import UserError
from tspcr_lab.labfile import available_labs, checks_dir

REPO = Path(__file__).resolve().parents[2]

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


AUTOMATED = {"007", "008", "009", "010", "014", "015", "016", "018", "021", "022", "024", "025", "028", "029", "030", "031", "032", "033", "034", "035", "036"}
MANUAL = {"001", "002", "012", "017", "019", "020", "023", "026", "027"}
MANUAL_FROM = {code: "rubrics/workshop.toml" for code in MANUAL} | {"017": "rubrics/troubleshooting.toml",
                                                                    "019": "rubrics/troubleshooting.toml"}


def test_real_repo_covers_the_host_labs_and_the_manual_items(rows):
    assert len(rows) == 36
    assert {code for code, row in rows.items() if row["status"] == "automated"} == AUTOMATED
    assert {code for code, row in rows.items() if row["status"] == "manual"} == MANUAL
    for code in MANUAL:
        assert rows[code]["manual"] == {MANUAL_FROM[code]: 1} and rows[code]["checks"] == 0
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
    # checks/ip-plan/test_ip_plan.py: 030 = 4 checks over PCS (2 each); 007 = 2 over PCS + 2 single ones;
    # checks/routing/test_routing.py: 030 = one check over the 3 routers;
    # checks/dhcp-dns/test_dhcp_dns.py: 030 = 2 checks over its 2 PCs
    assert (rows["030"]["labs"], rows["030"]["checks"]) == ({"dhcp-dns": 4, "ip-plan": 8, "routing": 3}, 15)
    assert (rows["007"]["labs"], rows["007"]["checks"]) == ({"ip-plan": 6}, 6)


NAMED = '''
import pytest
from helpers import HOSTS

USERS = ("alice", "bob", "carol", "dave")
SLOTS = pytest.mark.parametrize("slot", ["s1", "s2"], ids=["one", "two"])


@pytest.mark.competency("009")
@pytest.mark.parametrize("user", USERS)
def test_module_name(user):
    pass


@pytest.mark.competency("009")
@pytest.mark.parametrize("host", HOSTS)
def test_imported_name(host):
    pass


@pytest.mark.competency("014", points=2)
@SLOTS
@pytest.mark.parametrize("user", USERS[:3])
def test_marker_in_a_variable_stacked(slot, user):
    pass


@pytest.mark.competency("014")
@pytest.mark.parametrize("n", range(5))
def test_range(n):
    pass
'''


def test_parametrize_values_through_names_are_counted(tmp_path):
    (tmp_path / "helpers.py").write_text('HOSTS = [f"pc{i}" for i in range(1, 8)]\n', encoding="utf-8")
    path = tmp_path / "test_named.py"
    path.write_text(NAMED, encoding="utf-8")
    assert sorted(checks_in(path)) == [("009", 4), ("009", 7), ("014", 5), ("014", 6)]
    assert str(tmp_path) not in sys.path  # the folder is on sys.path only while collecting
    assert "test_named" not in sys.modules and "helpers" not in sys.modules  # and its modules are forgotten


def test_a_check_file_that_does_not_load_is_one_line(tmp_path):
    path = tmp_path / "test_broken.py"
    path.write_text("import pytest\n\n@pytest.mark.competency('009')\ndef test_x(:\n    pass\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^coverage: the checks of .*test_broken.py do not load: ") as info:
        collect([path])
    assert "\n" not in str(info.value)


def _pytest_collects() -> Counter:
    """What ``pytest --collect-only -q`` itself lists, per lab (another process)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", str(checks_dir()), "--collect-only", "-q",
                           "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=REPO, check=True)
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    return Counter(Path(line.split("::")[0]).parent.name for line in ids)


def test_counts_per_lab_are_what_pytest_collects(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.cli, ["coverage", "--json"])
    assert result.exit_code == 0, result.output
    per_lab: Counter = Counter()
    for row in json.loads(result.output):
        per_lab.update(row["labs"])
    assert per_lab == _pytest_collects()
    assert set(per_lab) == set(available_labs())
    assert per_lab["local-accounts"] == 21  # 3 x 3 users (009) + 3 users (014) + 9 single checks


def test_local_accounts_checks_are_worth_30_points(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    class Points:
        total = 0.0

        def pytest_collection_modifyitems(self, items):
            for item in items:
                Points.total += float(item.get_closest_marker("competency").kwargs.get("points", 1))

    assert pytest.main([str(checks_dir() / "local-accounts"), "--collect-only", "-q", "-p", "no:cacheprovider",
                         "--import-mode=importlib"], plugins=[Points()]) == 0
    assert Points.total == 30  # the maximum an e2e grading of the solved lab gives
    assert len(lab_checks()["local-accounts"]) == 21


def test_coverage_counts_every_check_pytest_collects(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    rows = coverage()
    assert sum(row["checks"] for row in rows) == sum(_pytest_collects().values())


def test_real_repo_counts_local_accounts(rows):
    assert (rows["009"]["labs"], rows["009"]["checks"]) == ({"local-accounts": 12}, 12)
    assert (rows["014"]["labs"], rows["014"]["checks"]) == ({"local-accounts": 9}, 9)
