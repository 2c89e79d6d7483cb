"""A class of three trainees on the real virtual lab: their own parameters and sheets, one solved,
one partly, one untouched; the class matrix, the gradebook CSV and JUnit hold the right values;
one trainee's unreachable host leaves the others' grades complete; the exam view hides expected
values; manual rubric points count; verify finds a changed byte."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tspcr_lab.classes import load_class
from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate
from tspcr_lab.virtual.lab import VirtualLab

from .conftest import cli, crash, on

HOSTILE = "<b onmouseover=alert(1)>Zoé</b>"
CLASS = f"""
[class]
name = "e2e class"
seed = 77

[[trainees]]
id = "e2e1"
name = "Camille Solved"
email = "camille@example.org"

[[trainees]]
id = "e2e2"
name = "Noah Partial"

[[trainees]]
id = "e2e3"
name = "{HOSTILE}"
"""
LAB = load_lab("ip-plan")
KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    path = folder / "class.toml"
    path.write_text(CLASS, encoding="utf-8")
    (folder / "exam.key").write_text(KEY)
    classroom = load_class(path)
    vlabs = [VirtualLab(LAB, f"ip-plan-{t.id}") for t in classroom.trainees]
    for vlab in vlabs:
        vlab.down(quiet=True)
    cli("up", "ip-plan", "--class", str(path), check=True)
    cli("solve", "ip-plan", "--instance", "ip-plan-e2e1", check=True)
    cli("solve", "ip-plan", "--instance", "ip-plan-e2e2", "--sample", "partial", check=True)
    yield path, classroom, folder
    proc = cli("down", "ip-plan", "--class", str(path))
    assert proc.returncode == 0, proc.stderr
    assert not any(v.is_up() for v in vlabs)


def grade_class(klass, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    path, classroom, folder = klass
    proc = cli("grade", "ip-plan", "--class", str(path), "--out", str(out), "--key", str(folder / "exam.key"), *extra)
    results = {}
    for trainee in classroom.trainees:
        file = out / trainee.id / "results.json"
        assert file.is_file(), proc.stdout + proc.stderr
        results[trainee.id] = json.loads(file.read_text())
    return proc, results


def test_each_trainee_has_their_own_parameters_and_sheet(klass, tmp_path):
    path, classroom, _ = klass
    params = {}
    for trainee in classroom.trainees:
        shown = json.loads(cli("params", "ip-plan", "--instance", f"ip-plan-{trainee.id}", "--json", check=True).stdout)
        assert shown["seed"] == classroom.seed_of(trainee)
        params[trainee.id] = shown["params"]
    assert len({json.dumps(p, sort_keys=True) for p in params.values()}) == 3
    cli("sheet", "ip-plan", "--class", str(path), "--out", str(tmp_path), check=True)
    for trainee in classroom.trainees:
        html = (tmp_path / f"{trainee.id}.html").read_text()
        assert params[trainee.id]["block"] in html
        others = [params[o]["block"] for o in params if o != trainee.id]
        assert not any(block in html for block in others)
    assert HOSTILE not in (tmp_path / "e2e3.html").read_text()
    english = cli("sheet", "ip-plan", "--class", str(path), "--out", str(tmp_path / "en"), "--lang", "en", check=True)
    assert english.returncode == 0 and "You are given the address block" in (tmp_path / "en" / "e2e1.html").read_text()


def test_class_grades_matrix_csv_and_junit(klass, tmp_path):
    proc, results = grade_class(klass, tmp_path)
    assert proc.returncode == 1, proc.stderr  # complete grades, some checks failed
    solved, partial, untouched = results["e2e1"], results["e2e2"], results["e2e3"]
    assert (solved["score"], solved["max_score"], solved["complete"]) == (17, 17, True)
    assert 0 < partial["score"] < 17 and partial["complete"]
    assert (untouched["score"], untouched["complete"]) == (0, True)
    assert {r["seed"] for r in results.values()} == {load_class(klass[0]).seed_of(t) for t in klass[1].trainees}

    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert [r["ID number"] for r in rows] == ["e2e1", "e2e2", "e2e3"]
    for row in rows:
        mine = results[row["ID number"]]
        assert float(row["ip-plan total"]) == mine["score"]
        assert float(row["ip-plan 030"]) == mine["competencies"]["030"]["earned"]
        assert float(row["ip-plan 007"]) == mine["competencies"]["007"]["earned"]
        assert row["ip-plan complete"] == "yes"
    assert rows[0]["Email address"] == "camille@example.org"

    html = (tmp_path / "class.html").read_text()
    assert HOSTILE not in html and "Camille Solved" in html and 'href="e2e2/report.html"' in html
    assert html.count('class="mastered"') == 2 + sum(c["mastered"] for r in (partial, untouched)
                                                     for c in r["competencies"].values())
    suites = ET.fromstring((tmp_path / "junit.xml").read_bytes()).findall("testsuite")
    assert [(s.get("name"), s.get("failures")) for s in suites] == [
        ("ip-plan.e2e1", "0"), ("ip-plan.e2e2", str(partial["counts"]["failed"])), ("ip-plan.e2e3", "14")]
    for trainee in ("e2e1", "e2e2", "e2e3"):
        assert (tmp_path / trainee / "report.html").is_file() and (tmp_path / trainee / "evidence").is_dir()


def test_one_trainees_unreachable_host_leaves_the_others_complete(klass, tmp_path):
    vlab = VirtualLab(LAB, "ip-plan-e2e2")
    crash(vlab, "pc1")
    try:
        proc, results = grade_class(klass, tmp_path)
    finally:
        vlab.reboot("pc1")
    assert proc.returncode == 3, proc.stdout
    assert not results["e2e2"]["complete"]
    errors = {c["id"] for c in results["e2e2"]["checks"] if c["status"] == "error"}
    # pc1 is stopped: what needs it is an error, and so is any other check that did not pass, since
    # what a stopped host would have shown (to r1, to pc2...) cannot be known
    assert {"test_address[pc1]", "test_hostname[pc1]", "test_mac_file"} <= errors
    assert not {c["id"] for c in results["e2e2"]["checks"] if c["status"] == "failed"}
    assert all("pc1" in c["message"] for c in results["e2e2"]["checks"] if c["status"] == "error")
    assert results["e2e1"]["complete"] and results["e2e1"]["score"] == 17
    assert results["e2e3"]["complete"]
    rows = {r["ID number"]: r for r in csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text()))}
    assert (rows["e2e1"]["ip-plan complete"], rows["e2e2"]["ip-plan complete"]) == ("yes", "no")
    assert "incomplet" in (tmp_path / "class.html").read_text()


def test_exam_hides_expected_values_from_the_trainee_view(klass, tmp_path):
    expected = generate(LAB, klass[1].seed_of(klass[1].trainee("e2e3"))).expected
    address = expected["pcs"]["pc1"]["address"]
    proc, results = grade_class(klass, tmp_path, "--exam")
    trainee_view = (tmp_path / "e2e3" / "trainee.html").read_text()
    examiner_view = (tmp_path / "e2e3" / "report.html").read_text()
    assert address not in trainee_view and address in examiner_view
    assert "Indice" not in trainee_view and "non conforme" in trainee_view
    # A single trainee's exam grading prints no expected value and no hint either.
    single = cli("grade", "ip-plan", "--instance", "ip-plan-e2e3", "--out", str(tmp_path / "single"), "--exam",
                 "--key", str(klass[2] / "exam.key"))
    assert single.returncode == 1 and address not in single.stdout and "Indice" not in single.stdout


def test_manual_rubric_points_count_in_scores_and_reports(klass, tmp_path):
    marks = tmp_path / "marks.csv"
    lines = ["trainee,item,points,comment"]
    for trainee in ("e2e1", "e2e2", "e2e3"):
        lines += [f"{trainee},assembly,{4 if trainee == 'e2e1' else 1},montage {trainee}",
                  f"{trainee},firmware_setup,3,", f"{trainee},cleaning,3,", f"{trainee},fault_identification,3,",
                  f"{trainee},request_analysis,3,", f"{trainee},user_advice,3,", f"{trainee},user_guidance,3,",
                  f"{trainee},part_replacement,3,"]
    marks.write_text("\n".join(lines) + "\n")
    proc, results = grade_class(klass, tmp_path / "out", "--rubric", "rubrics/workshop.toml", "--marks", str(marks))
    solved = results["e2e1"]
    assert (solved["score"], solved["max_score"], solved["complete"]) == (17 + 25, 17 + 25, True)
    assert solved["competencies"]["001"] == {"earned": 4.0, "max": 4.0, "mastered": True, "complete": True,
                                             "critical_failed": False}
    assert results["e2e2"]["competencies"]["001"]["earned"] == 1 and not results["e2e2"]["competencies"]["001"]["mastered"]
    manual = [c for c in solved["checks"] if c["kind"] == "manual"]
    assert len(manual) == 8 and manual[0]["message"] == "montage e2e1"
    report = (tmp_path / "out" / "e2e1" / "report.html").read_text()
    assert "montage e2e1" in report and "manuel" in report
    rows = {r["ID number"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text()))}
    assert rows["e2e2"]["ip-plan 001"] == "1"
    # Without marks, the manual items are pending: the grade is incomplete, not failed.
    proc, results = grade_class(klass, tmp_path / "pending", "--rubric", "rubrics/workshop.toml")
    assert proc.returncode == 3 and results["e2e1"]["counts"]["pending"] == 8 and not results["e2e1"]["complete"]


def test_verify_finds_a_changed_byte(klass, tmp_path):
    grade_class(klass, tmp_path)
    key = ["--key", str(klass[2] / "exam.key")]
    assert cli("verify", str(tmp_path), *key).returncode == 0
    results = tmp_path / "e2e2" / "results.json"
    data = results.read_bytes()
    results.write_bytes(data.replace(b'"score": ', b'"score": 1', 1))
    proc = cli("verify", str(tmp_path), *key)
    assert proc.returncode == 1 and "e2e2: ALTERED: results.json: changed after grading" in proc.stdout
    results.write_bytes(data)
    evidence = sorted((tmp_path / "e2e1" / "evidence").iterdir())[0]
    evidence.write_bytes(evidence.read_bytes()[:-1] + b"X")
    proc = cli("verify", str(tmp_path / "e2e1"), *key)
    assert proc.returncode == 1 and f"evidence/{evidence.name}: changed after grading" in proc.stdout
    wrong = tmp_path / "other.key"
    wrong.write_text("f" * 64)
    assert "signed with another key" in cli("verify", str(tmp_path / "e2e3"), "--key", str(wrong)).stdout


def test_the_single_instance_up_and_down_leaves_the_class_running(klass, tmp_path):
    """What `make demo` does (up then down of the lab's own instance) while a class is up on the
    same lab: every trainee's host still runs, with the same processes, and the class grades as before."""
    from tspcr_lab.virtual.lab import load_instance_state

    _, classroom, _ = klass
    names = [f"ip-plan-{t.id}" for t in classroom.trainees]
    before = {n: {h: s.pid for h, s in load_instance_state(n).hosts.items()} for n in names}
    _, graded_before = grade_class(klass, tmp_path / "before")
    cli("down", "ip-plan")  # nothing of a single instance may be up: this must touch no class copy
    cli("up", "ip-plan", "--seed", "3", check=True)
    cli("down", "ip-plan", check=True)
    after = {n: {h: s.pid for h, s in load_instance_state(n).hosts.items()} for n in names}
    assert after == before
    _, graded_after = grade_class(klass, tmp_path / "after")
    assert {t: r["score"] for t, r in graded_after.items()} == {t: r["score"] for t, r in graded_before.items()}
    assert all(r["complete"] for r in graded_after.values())
