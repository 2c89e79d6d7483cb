"""Class outputs: the matrix, the gradebook CSV, JUnit XML and the trainee's exam view."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from html import escape

from tspcr_lab.classes import Trainee
from tspcr_lab.classreport import class_html, grades_csv, junit_xml, trainee_html

HOSTILE = "<img src=x onerror=alert(1)>"


def results(score, complete=True, message="adresse : attendu 10.0.0.1/24, trouvé rien"):
    return {
        "trainee": HOSTILE, "score": score, "max_score": 17.0, "complete": complete, "graded_at": "now",
        "counts": {"passed": 1, "failed": 1, "error": 0 if complete else 1, "skipped": 0, "pending": 0},
        "competencies": {"007": {"earned": 7.0, "max": 7.0, "mastered": True, "complete": True},
                         "030": {"earned": score - 7, "max": 10.0, "mastered": False, "complete": complete}},
        "checks": [
            {"id": "test_address[pc1]", "competency": "030", "points": 2.0, "earned": 0.0, "status": "failed",
             "message": message, "public": "adresse : non conforme (trouvé rien)", "hint": "utilisez ip addr",
             "kind": "auto", "title": "", "duration": 0.1},
            {"id": "test_x\x00\x1b", "competency": "030", "points": 1.0, "earned": 0.0,
             "status": "error" if not complete else "passed", "message": "pc1: unreachable\x07", "public": "",
             "hint": "", "kind": "auto", "title": "", "duration": 0.1},
        ],
    }


ROWS = [
    {"trainee": Trainee("t01", "=HYPERLINK(\"http://x\")", "a@example.org"), "results": results(17.0)},
    {"trainee": Trainee("t02", HOSTILE), "results": results(9.0, complete=False)},
    {"trainee": Trainee("t03", "Léa"), "results": None, "error": "lab ip-plan-t03 is not up"},
]


def test_grades_csv_for_a_gradebook():
    rows = list(csv.reader(io.StringIO(grades_csv("ip-plan", ROWS))))
    assert rows[0] == ["ID number", "Email address", "Full name", "ip-plan total", "ip-plan 007", "ip-plan 030",
                       "ip-plan complete"]
    assert rows[1] == ["t01", "a@example.org", "'=HYPERLINK(\"http://x\")", "17", "7", "10", "yes"]
    assert rows[2][3:] == ["9", "7", "2", "no"]
    assert rows[3] == ["t03", "", "Léa", "", "", "", "no"]


def test_class_matrix_escapes_and_flags_incomplete():
    html = class_html("ip-plan", "Plan IP", HOSTILE, ROWS, "fr")
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="t01/report.html"' in html
    assert "non acquis (incomplet)" in html and "lab ip-plan-t03 is not up" in html
    assert html.count('class="mastered"') == 2  # 007 for t01 and t02


def test_junit_is_valid_xml_with_one_suite_per_trainee():
    root = ET.fromstring(junit_xml("ip-plan", ROWS).encode())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["ip-plan.t01", "ip-plan.t02", "ip-plan.t03"]
    assert (suites[0].get("failures"), suites[1].get("errors"), suites[2].get("errors")) == ("1", "1", "1")


def test_exam_view_hides_expected_values_and_hints():
    exam = trainee_html(results(9.0), "Plan IP", "fr", exam=True)
    practice = trainee_html(results(9.0), "Plan IP", "fr", exam=False)
    assert "10.0.0.1/24" not in exam and "utilisez ip addr" not in exam and "non conforme (trouvé rien)" in exam
    assert "10.0.0.1/24" in practice and "utilisez ip addr" in practice
    assert HOSTILE not in exam and HOSTILE not in practice


def test_exam_view_of_an_error_is_one_generic_line():
    """What a check that could not run shows a trainee in an exam: never its cause (a host, an
    address, a command), whatever results.json holds in ``public``."""
    data = results(9.0, complete=False)
    data["checks"][1]["public"] = "pc1: `PASSWD=x smbclient` did not finish"  # written by an older version
    for lang, generic in (("fr", "cette vérification n'a pas pu être exécutée : elle n'est pas comptée contre vous ; "
                                 "l'examinateur en a le détail"),
                          ("en", "this check could not run: not counted against you; the examiner has the details")):
        exam = trainee_html(data, "Plan IP", lang, exam=True)
        assert escape(generic) in exam and "unreachable" not in exam and "smbclient" not in exam
    assert "pc1: unreachable" in trainee_html(data, "Plan IP", "fr", exam=False)  # self-check: the cause
