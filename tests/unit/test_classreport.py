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


# -- intervention reports beside the examiner's marks, with the recorded sessions ------------------
def _ticket_results(report_text: str | None, rc: int = 0) -> dict:
    """A troubleshooting trainee's results as grading writes them: test_report[1] read the report
    with the real FileContent probe (its command, its output in the evidence), manual items marked."""
    from tspcr_lab.probes import FileContent

    path = "/root/tickets/ticket-1.md"
    data = results(9.0)
    evidence = [{"host": "pc1", "command": FileContent(path).command(), "rc": rc, "stdout": report_text or "",
                 "stderr": "", "time": "now", "duration": 0.01},
                {"host": "grader", "command": "sections of the report", "rc": 0, "stdout": "cause: 3 words",
                 "stderr": "", "time": "now", "duration": 0.0}]
    data["checks"] += [
        {"id": "test_report[1]", "title": "Ticket #1 : rapport d'intervention", "competency": "016", "points": 1.0,
         "earned": 0.0, "status": "failed", "message": "la cause du rapport ne nomme pas la vraie panne (attendu: passerelle)",
         "public": "la cause du rapport ne nomme pas la vraie panne", "hint": "", "kind": "auto", "duration": 0.1,
         "evidence": evidence},
        {"id": "report_quality", "title": "Qualité des rapports d'intervention (suivi)", "competency": "028",
         "points": 3.0, "earned": 2.0, "status": "failed", "message": f"démarche claire {HOSTILE}", "public": "",
         "hint": "", "kind": "manual", "duration": 0.0, "evidence": []},
        {"id": "recommendation", "title": "Intervention préconisée", "competency": "019", "points": 2.0,
         "earned": 0.0, "status": "pending", "message": "pas encore évalué par l'examinateur", "public": "",
         "hint": "", "kind": "manual", "duration": 0.0, "evidence": []},
    ]
    data["recordings"] = [{"name": "20260115-093012-01-pc1-web.cast", "host": "pc1", "channel": "web",
                           "started": "2026-01-15T09:30:12+0100", "duration": 75.4, "bytes": 1234, "cut": True,
                           "file": "recordings/20260115-093012-01-pc1-web.cast",
                           "replay": "recordings/replay.html#20260115-093012-01-pc1-web.cast"}]
    return data


def test_each_report_is_shown_whole_and_escaped_beside_the_manual_items_and_the_recordings():
    from tspcr_lab.classreport import interventions_html, intervention_reports

    text = ("## Cause\n<script>alert(1)</script> la passerelle de pc1 </pre>\n"
            "## Suivi\nsurveiller \u202eessap\u202c & rien \x1b[2J\r\nfin\u2028")
    data = _ticket_results(text)
    [report] = intervention_reports(data["checks"])
    assert (report["ticket"], report["host"], report["path"], report["text"]) == ("1", "pc1", "/root/tickets/ticket-1.md", text)
    for exam in (True, False):
        html = trainee_html(data, "Dépannage", "fr", exam=exam)
        section = html[html.index('<section class="tspcr-interventions"'):]
        assert "<script>" not in html and "</pre>\n" not in section and HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; la passerelle de pc1 &lt;/pre&gt;" in section
        assert "⟨U+202E⟩essap⟨U+202C⟩ &amp; rien ⟨U+001B⟩[2J\nfin\u2028" in section  # no bidi trick, no escape code
        assert section.index('data-ticket="1"') < section.index('data-item="report_quality"') < section.index("Rejouer")
        assert 'data-item="recommendation"' in section and "2 / 3" in section and "démarche claire &lt;img" in section
        assert 'href="recordings/replay.html#20260115-093012-01-pc1-web.cast"' in section
        assert 'href="recordings/20260115-093012-01-pc1-web.cast"' in section and "01:15" in section
        assert "coupée" in section and "pc1:/root/tickets/ticket-1.md" in section
        assert ("(attendu: passerelle)" in section) != exam  # the exam view: its public finding only
    en = interventions_html(data["checks"], data["recordings"], "en", base="t01/")
    assert 'href="t01/recordings/replay.html#' in en and "Intervention reports" in en


def test_a_missing_report_and_a_lab_without_reports():
    from tspcr_lab.classreport import interventions_html

    missing = interventions_html(_ticket_results(None, rc=3)["checks"], [], "fr")
    assert "aucun fichier" in missing and "<pre" not in missing and 'data-item="report_quality"' in missing
    plain = results(9.0)
    assert interventions_html(plain["checks"], [], "fr") == ""
    assert "tspcr-interventions" not in trainee_html(plain, "Plan IP", "fr", exam=False)
    only_sessions = interventions_html(plain["checks"], _ticket_results("x")["recordings"], "fr")
    assert "Sessions de terminal enregistrées" in only_sessions and "manual-items" not in only_sessions
    forged = _ticket_results("x")
    forged["checks"][-3]["evidence"][0]["command"] = "cat /etc/shadow"  # not the report's probe: not its text
    assert "aucun fichier" not in interventions_html(forged["checks"], [], "fr")
    assert "<pre" not in interventions_html(forged["checks"], [], "fr")
