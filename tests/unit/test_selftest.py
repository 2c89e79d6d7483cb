"""A lab's self-test cases (faults.toml) and how a grade is judged against them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.labfile import Case, load_cases, load_lab
from tspcr_lab.selftest import judge

REPO = Path(__file__).resolve().parents[2]


def results(failed=(), errors=(), passed=("test_a", "test_b", "test_c"), lost=()):
    checks = [{"id": c, "status": "failed"} for c in failed] + [{"id": c, "status": "error"} for c in errors]
    checks += [{"id": c, "status": "passed"} for c in passed if c not in failed and c not in errors]
    competencies = {code: {"earned": 1.0 if code in lost else 2.0, "max": 2.0} for code in ("007", "030")}
    score = 10.0 - len(failed) - len(errors)
    return {"checks": checks, "competencies": competencies, "score": score, "max_score": 10.0}


FAULT = Case("fault", "f", {"fr": "f"}, ("pc1",), {"pc1": "true"}, frozenset({"test_a"}), ("030",))


def test_a_fault_must_fail_exactly_its_checks_and_only_its_competency():
    assert judge(FAULT, "fault", results(failed=["test_a"], lost=["030"])) == (True, [])
    ok, problems = judge(FAULT, "fault", results(failed=["test_a", "test_b"], lost=["030", "007"]))
    assert not ok and "also failed: test_b" in problems
    assert any("competencies that lost points: 007, 030 (expected 030 only)" in p for p in problems)
    ok, problems = judge(FAULT, "fault", results())
    assert not ok and problems == ["not failed: test_a"]
    ok, problems = judge(FAULT, "fault", results(failed=["test_a"], errors=["test_c"], lost=["030"]))
    assert not ok and problems == ["errors: test_c"]


def test_a_fault_naming_an_unknown_check_says_so():
    case = Case("fault", "f", {"fr": "f"}, ("pc1",), {"pc1": "true"}, frozenset({"test_x"}), ("030",))
    ok, problems = judge(case, "fault", results())
    assert not ok and problems == ["no such check: test_x"]


def test_solution_alternatives_and_untouched():
    assert judge(None, "solution", results()) == (True, [])
    assert judge(None, "alternative", results(failed=["test_b"]))[1] == ["failed: test_b"]
    assert judge(None, "untouched", results(failed=["test_a"]))[0] is True
    assert judge(None, "untouched", results())[1] == ["the untouched lab scores the maximum"]


def test_every_lab_with_faults_loads_them():
    lab = load_lab("ip-plan")
    cases = load_cases(lab)
    assert [c for c in cases if c.kind == "fault"] and [c for c in cases if c.kind == "alternative"]
    for case in cases:
        assert set(case.hosts) <= set(lab.hosts)


def test_placeholders_take_the_copys_values():
    case = Case("fault", "f", {"fr": "f"}, ("pc1",), {"pc1": "echo {{ expected.users.0.login }} "
                                                           "{{ expected.users.0.gecos | quote }} {{params.x}}"},
                frozenset({"test_a"}), ("030",))
    values = {"expected": {"users": [{"login": "ana", "gecos": "Ana Lima; rm -rf /"}]}, "params": {"x": 3}}
    assert case.script("pc1", values) == "echo ana 'Ana Lima; rm -rf /' 3"
    with pytest.raises(UserError, match="no value expected.users.1"):
        Case("fault", "f", {}, ("pc1",), {"pc1": "{{ expected.users.1.login }}"}).script("pc1", values)


@pytest.fixture
def lab_copy(tmp_path, monkeypatch):
    shutil.copytree(REPO / "labs" / "ip-plan", tmp_path / "labs" / "ip-plan")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / "ip-plan" / "faults.toml"


@pytest.mark.parametrize("text, fragment", [
    ('[[fault]]\nid = "x"\ntitle = { fr = "x" }\nrun.pc9 = "true"\nfails = ["t"]\ncompetency = "030"\n', "unknown host 'pc9'"),
    ('[[fault]]\nid = "x"\ntitle = { fr = "x" }\nrun.pc1 = "true"\nfails = ["t"]\ncompetency = "099"\n', "'099' is not one of"),
    ('[[fault]]\nid = "x"\ntitle = { fr = "x" }\nrun.pc1 = "true"\ncompetency = "030"\n', "fails: missing"),
    ('[[fault]]\nid = "x"\ntitle = { fr = "x" }\nrun.pc1 = "true"\nfail = ["t"]\ncompetency = "030"\n', "did you mean 'fails' where you wrote 'fail'"),
    ('[[faults]]\nid = "x"\n', "did you mean 'fault'"),
])
def test_a_mistake_in_faults_toml_is_one_line(lab_copy, text, fragment):
    lab_copy.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_cases(load_lab("ip-plan"))
    assert fragment in str(info.value) and "\n" not in str(info.value) and "faults.toml" in str(info.value)
