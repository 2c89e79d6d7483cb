"""What a graded class gives the people who read it, from each trainee's ``results.json``:

* ``trainee.html`` -- one trainee's report as the trainee may see it: in an exam (``--exam``) no
  hint, no expected value, and for a check that could not run one generic line instead of its
  cause (the examiner's ``report.html`` keeps everything);
* ``class.html`` -- trainees x competencies (acquis / non acquis, points), totals, incomplete
  grades flagged, a link to each trainee's report;
* ``grades.csv`` -- for a gradebook (Moodle's CSV grade import: an identifier column, here
  ``ID number`` and ``Email address``, and one column per grade item);
* ``junit.xml`` -- one ``testsuite`` per trainee, for tools that read JUnit XML (each check's
  ``testcase`` named by its id, its human title among its properties).

Reports show a check's human title (``title`` of results.json), never its pytest id.

Every string that may come from a host, a trainee or a class file is escaped.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html import escape
from typing import Any

from .i18n import t

STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}
.passed,.mastered{background:#e3f6e3}.failed,.not-mastered{background:#fbe3e3}
.error,.incomplete,.pending{background:#fff3cd}.small{font-size:.85em;color:#555}
@media print{a{color:inherit;text-decoration:none}}
"""


def num(value: Any) -> str:
    """A number as people write it: 17, not 17.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _page(title: str, body: str, lang: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n')


def competency_table(competencies: dict[str, dict[str, Any]], lang: str, *,
                     classes: tuple[str, str, str | None] = ("mastered", "not-mastered", "incomplete"),
                     table_id: str = "") -> str:
    """The per-competency table (code, title, points, acquis / non acquis) of every report.
    ``classes``: the CSS class of a mastered, a not mastered and an incomplete competency (None:
    an incomplete one keeps the class of its mastery)."""
    from .referential import load

    referential = load()
    rows = []
    for code, comp in competencies.items():
        title = referential.competency(code).title(lang) if code else ""
        state = t("mastered" if comp["mastered"] else "not_mastered", lang)
        css = classes[0] if comp["mastered"] else classes[1]
        if not comp["complete"]:
            state += f" ({t('incomplete', lang)})"
            css = classes[2] or css
        rows.append(f'<tr><td>{escape(code)}</td><td>{escape(title)}</td>'
                    f'<td>{escape(num(comp["earned"]))} / {escape(num(comp["max"]))}</td>'
                    f'<td class="{css}">{escape(state)}</td></tr>')
    head = f' id="{escape(table_id)}"' if table_id else ""
    return (f'<table{head}><thead><tr><th>{escape(t("competency", lang))}</th><th>{escape(t("title", lang))}</th>'
            f'<th>{escape(t("points", lang))}</th><th>{escape(t("result", lang))}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def check_name(check: dict[str, Any], lang: str) -> str:
    """What people read for a check of results.json: its human title (a manual item marked so),
    its id when it has none (results written before titles existed)."""
    name = check.get("title") or check["id"]
    return name + (f" ({t('manual', lang)})" if check.get("kind") == "manual" else "")


def trainee_html(results: dict[str, Any], lab_title: str, lang: str, *, exam: bool) -> str:
    """A trainee's report: in an exam, findings without expected values and without hints."""
    rows = []
    for check in results["checks"]:
        message = check.get("public", "") if exam else check["message"]
        if check["status"] == "failed" and exam and not message:
            message = t("not_as_required", lang)
        if check["status"] == "error" and exam:  # its cause is the examiner's, whatever results.json holds
            message = t("error_public", lang)
        hint = "" if exam else check.get("hint", "")
        name = check_name(check, lang)
        rows.append(
            f'<tr><td class="{escape(check["status"])}">{escape(t(check["status"], lang))}</td>'
            f'<td>{escape(name)}</td><td>{escape(check["competency"])}</td>'
            f'<td>{escape(num(check["earned"]))} / {escape(num(check["points"]))}</td>'
            f'<td>{escape(message)}'
            + (f'<br><span class="small">{escape(t("hint", lang))} : {escape(hint)}</span>' if hint else "")
            + "</td></tr>"
        )
    status = t("grade_complete", lang) if results["complete"] else t("incomplete", lang)
    body = (
        f'<h1>{escape(t("report_title", lang))} — {escape(lab_title)}</h1>'
        f'<p><strong>{escape(t("trainee", lang))}</strong> : {escape(str(results.get("trainee", "")))}<br>'
        f'<strong>{escape(t("score", lang))}</strong> : {escape(num(results["score"]))} / '
        f'{escape(num(results["max_score"]))} — {escape(status)}<br>'
        f'<span class="small">{escape(str(results.get("graded_at", "")))}</span></p>'
        + competency_table(results["competencies"], lang)
        + f'<table><thead><tr><th>{escape(t("result", lang))}</th><th>{escape(t("check", lang))}</th>'
        f'<th>{escape(t("competency", lang))}</th><th>{escape(t("points", lang))}</th>'
        f'<th>{escape(t("message", lang))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    return _page(f"{t('report_title', lang)} — {lab_title}", body, lang)


def class_html(lab_id: str, lab_title: str, class_name: str, rows: list[dict[str, Any]], lang: str) -> str:
    """``rows``: per trainee, ``trainee`` (id, name), ``results`` (or None) and ``error``."""
    from .referential import load

    referential = load()
    codes: list[str] = []
    for row in rows:
        for code in (row.get("results") or {}).get("competencies", {}):
            if code not in codes:
                codes.append(code)
    head = "".join(f'<th title="{escape(referential.competency(c).title(lang))}">{escape(c)}</th>' for c in codes)
    lines = []
    mastered_count = {c: 0 for c in codes}
    for row in rows:
        trainee, results = row["trainee"], row.get("results")
        link = f'<a href="{escape(trainee.id)}/report.html">{escape(trainee.name)}</a>'
        if results is None:
            lines.append(f'<tr><td>{escape(trainee.id)}</td><td>{escape(trainee.name)}</td>'
                         f'<td class="error" colspan="{len(codes) + 2}">{escape(row.get("error", ""))}</td></tr>')
            continue
        cells = []
        for code in codes:
            comp = results["competencies"].get(code)
            if comp is None:
                cells.append("<td></td>")
                continue
            word = t("mastered" if comp["mastered"] else "not_mastered", lang)
            css = "mastered" if comp["mastered"] else "not-mastered"
            if not comp["complete"]:
                word, css = f"{word} ({t('incomplete', lang)})", "incomplete"
            mastered_count[code] += comp["mastered"]
            cells.append(f'<td class="{css}">{escape(word)}<br><span class="small">'
                         f'{escape(num(comp["earned"]))} / {escape(num(comp["max"]))}</span></td>')
        state = t("grade_complete", lang) if results["complete"] else t("incomplete", lang)
        lines.append(
            f'<tr><td>{escape(trainee.id)}</td><td>{link}</td>{"".join(cells)}'
            f'<td>{escape(num(results["score"]))} / {escape(num(results["max_score"]))}</td>'
            f'<td class="{"passed" if results["complete"] else "incomplete"}">{escape(state)}</td></tr>'
        )
    totals = "".join(f"<td>{mastered_count[c]} / {len(rows)}</td>" for c in codes)
    mastered_word = escape(t("mastered", lang))
    body = (
        f'<h1>{escape(lab_title)} — {escape(class_name)}</h1>'
        f'<p class="small">{escape(t("lab", lang))} : {escape(lab_id)} · {len(rows)} '
        f'{escape(t("trainees", lang))}</p>'
        f'<table id="class"><thead><tr><th>id</th><th>{escape(t("trainee", lang))}</th>{head}'
        f'<th>{escape(t("score", lang))}</th><th>{escape(t("result", lang))}</th></tr></thead>'
        f'<tbody>{"".join(lines)}</tbody><tfoot><tr><th colspan="2">{mastered_word}</th>{totals}'
        f'<td></td><td></td></tr></tfoot></table>'
    )
    return _page(f"{lab_title} — {class_name}", body, lang)


def grades_csv(lab_id: str, rows: list[dict[str, Any]]) -> str:
    """Moodle's grade import: map ``ID number`` (or ``Email address``) to the user, and each
    other column to a grade item. Numbers use a dot; an incomplete grade says so in its column."""
    codes: list[str] = []
    for row in rows:
        for code in (row.get("results") or {}).get("competencies", {}):
            if code not in codes:
                codes.append(code)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ID number", "Email address", "Full name", f"{lab_id} total",
                     *(f"{lab_id} {code}" for code in codes), f"{lab_id} complete"])
    for row in rows:
        trainee, results = row["trainee"], row.get("results")
        if results is None:
            writer.writerow([trainee.id, trainee.email, _csv_safe(trainee.name), "", *([""] * len(codes)), "no"])
            continue
        comps = results["competencies"]
        writer.writerow([trainee.id, trainee.email, _csv_safe(trainee.name), num(float(results["score"])),
                         *(num(float(comps[c]["earned"])) if c in comps else "" for c in codes),
                         "yes" if results["complete"] else "no"])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A spreadsheet must not read a name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: Any) -> str:
    """XML 1.0 cannot hold control characters, which a hostile output may contain."""
    return _XML_BAD.sub("\ufffd", str(value))


def junit_xml(lab_id: str, rows: list[dict[str, Any]]) -> str:
    suites = ET.Element("testsuites", name=lab_id)
    for row in rows:
        trainee, results = row["trainee"], row.get("results")
        suite = ET.SubElement(suites, "testsuite", name=f"{lab_id}.{trainee.id}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="trainee", value=_x(trainee.name))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if results is None:
            case = ET.SubElement(suite, "testcase", classname=f"{lab_id}.{trainee.id}", name="grading")
            ET.SubElement(case, "error", message=_x(row.get("error", "")))
            counts.update(tests=1, errors=1)
        for check in (results or {}).get("checks", []):
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"{lab_id}.{trainee.id}", name=_x(check["id"]),
                                 time=f"{check.get('duration', 0):.3f}")
            cprops = ET.SubElement(case, "properties")
            for key in ("title", "competency", "points", "earned", "kind"):
                ET.SubElement(cprops, "property", name=key, value=_x(check.get(key, "")))
            if check["status"] == "failed":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=_x(check["message"]))
            elif check["status"] in ("error", "pending"):
                counts["errors"] += 1
                ET.SubElement(case, "error", message=_x(check["message"]))
            elif check["status"] == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_x(check["message"]))
        for key, value in counts.items():
            suite.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
