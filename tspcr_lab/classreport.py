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

A troubleshooting lab's intervention reports (the text each ``test_report[N]`` check read on the
host, in its evidence) are shown whole, beside the items the examiner marks by hand and their
marks, with the links to the trainee's recorded terminal sessions (``recordings`` of
results.json, see :mod:`tspcr_lab.portal.recording`): :func:`interventions_html`.

Every string that may come from a host, a trainee or a class file is escaped.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import unicodedata
import xml.etree.ElementTree as ET
from html import escape
from typing import Any

from .i18n import t

INTERVENTION_STYLE = """
.tspcr-interventions,.tspcr-interventions h2,.tspcr-interventions h3,.tspcr-interventions p,
.tspcr-interventions pre,.tspcr-interventions td,.tspcr-interventions th,.tspcr-interventions li{color:#222}
.tspcr-interventions .side{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.tspcr-interventions .reports{flex:2 1 32em;min-width:0}.tspcr-interventions .marks{flex:1 1 22em;min-width:0}
.tspcr-interventions article{border:1px solid #bbb;border-radius:4px;margin:0 0 1em;padding:.3em .8em}
.tspcr-interventions h3{font-size:1em;margin:.4em 0}.tspcr-interventions .small{font-size:.85em;color:#555}
.tspcr-interventions pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f7;border:1px solid #ddd;
padding:.5em;max-height:40em;overflow:auto;font-size:.9em}
.tspcr-interventions table{border-collapse:collapse;margin:.5em 0}
.tspcr-interventions th,.tspcr-interventions td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
.tspcr-interventions .passed{background:#e3f6e3}.tspcr-interventions .failed{background:#fbe3e3}
.tspcr-interventions .error,.tspcr-interventions .pending{background:#fff3cd}
@media print{.tspcr-interventions .side{display:block}.tspcr-interventions pre{max-height:none}}
"""
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
    interventions = interventions_html(results["checks"], results.get("recordings") or [], lang, exam=exam)
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
        + interventions
    )
    return _page(f"{t('report_title', lang)} — {lab_title}", body, lang)


# -- intervention reports, the examiner's marks, recorded sessions ---------------------------------
WORDS = {
    "interventions": {"fr": "Rapports d'intervention", "en": "Intervention reports"},
    "sessions": {"fr": "Sessions de terminal enregistrées", "en": "Recorded terminal sessions"},
    "beside": {"fr": "Rapports d'intervention, notation de l'examinateur et sessions enregistrées",
               "en": "Intervention reports, the examiner's marks and the recorded sessions"},
    "no_file": {"fr": "aucun fichier : rien n'a été écrit", "en": "no file: nothing was written"},
    "unread": {"fr": "le rapport n'a pas pu être lu", "en": "the report could not be read"},
    "truncated": {"fr": "(seul le début du fichier a été lu)", "en": "(only the beginning of the file was read)"},
    "replay": {"fr": "Rejouer", "en": "Replay"},
    "cast": {"fr": "fichier .cast", "en": ".cast file"},
    "browser": {"fr": "navigateur", "en": "browser"},
    "cut": {"fr": "coupée (taille maximale)", "en": "cut (size limit)"},
    "ticket": {"fr": "Ticket", "en": "Ticket"},
    "no_manual": {"fr": "Aucun critère à noter à la main (ajoutez --rubric rubrics/troubleshooting.toml).",
                  "en": "No item marked by hand (add --rubric rubrics/troubleshooting.toml)."},
    "input": {"fr": "Seul ce que le terminal a affiché est enregistré, jamais ce qui a été tapé.",
              "en": "Only what the terminal showed is recorded, never what was typed."},
}
REPORT_CHECK = re.compile(r"^test_report\[(?P<ticket>[^\]]{1,20})\]$")
REPORT_READ = re.compile(r"^if test -f (?P<path>.+?); then cat -- ")
MAX_REPORT_TEXT = 64 * 1024  # what a check keeps of an output (plugin.MAX_EVIDENCE_TEXT)
_SHOWN_AS_CODE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _w(key: str, lang: str) -> str:
    return WORDS[key].get(lang) or WORDS[key]["fr"]


def visible(text: str) -> str:
    """A trainee's text as it is: control and bidirectional-formatting characters (which could
    hide or reorder what the examiner reads) shown as their code, e.g. ⟨U+202E⟩."""
    return _SHOWN_AS_CODE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text.replace("\r\n", "\n"))


def intervention_reports(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ticket's intervention report, as its check (``test_report[N]``) read it on the host:
    ``ticket``, ``check`` (the check itself), ``host``, ``path``, ``text`` (None: no file, or not
    read), ``truncated``. The text is the output of the check's FileContent probe, in its evidence."""
    from .probes.system import ABSENT, FileContent

    found = []
    for check in checks:
        match = REPORT_CHECK.match(str(check.get("id", "")))
        if match is None or check.get("kind") == "manual":
            continue
        report = {"ticket": match["ticket"], "check": check, "host": "", "path": "", "text": None,
                  "truncated": False, "absent": False}
        for item in check.get("evidence") or []:
            read = REPORT_READ.match(str(item.get("command", "")))
            if read is None:
                continue
            try:
                path = shlex.split(read["path"])[0]
            except (ValueError, IndexError):
                continue
            if FileContent(path).command() != item["command"]:
                continue
            report.update(host=str(item.get("host", "")), path=path)
            if item.get("rc") == 0:
                text = str(item.get("stdout", ""))
                report.update(text=text, truncated=len(text) >= MAX_REPORT_TEXT)
            report["absent"] = item.get("rc") == ABSENT
        found.append(report)
    return found


def _status_cell(status: str, lang: str) -> str:
    return f'<td class="{escape(status)}">{escape(t(status, lang))}</td>'


def manual_items_table(checks: list[dict[str, Any]], lang: str) -> str:
    """The items marked by hand (results.json's manual checks): points given, state, comment."""
    rows = []
    for item in checks:
        if item.get("kind") != "manual":
            continue
        earned = "" if item.get("status") == "pending" else num(item.get("earned", ""))
        rows.append(f'<tr data-item="{escape(str(item["id"]))}"><td>{escape(str(item.get("title") or item["id"]))}'
                    f'<br><span class="small">{escape(str(item["id"]))} · {escape(str(item.get("competency", "")))}</span></td>'
                    f'<td>{escape(earned)} / {escape(num(item.get("points", "")))}</td>'
                    f'{_status_cell(str(item.get("status", "")), lang)}'
                    f'<td>{escape(visible(str(item.get("message", ""))))}</td></tr>')
    if not rows:
        return f'<p class="small">{escape(_w("no_manual", lang))}</p>'
    return (f'<table class="manual-items"><thead><tr><th>{escape(t("title", lang))}</th>'
            f'<th>{escape(t("points", lang))}</th><th>{escape(t("result", lang))}</th>'
            f'<th>{escape(t("comment", lang))}</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def recordings_list(recordings: list[dict[str, Any]], lang: str, base: str = "") -> str:
    """Links to each recorded session's replay and .cast (``base``: where the results folder is
    from the page, "" when the page is in it)."""
    if not recordings:
        return ""
    items = []
    for rec in recordings:
        how = _w("browser", lang) if rec.get("channel") == "web" else "SSH"
        length = float(rec.get("duration") or 0)
        when = str(rec.get("started", "")).replace("T", " ")[:19]
        cut = f' · {escape(_w("cut", lang))}' if rec.get("cut") else ""
        items.append(
            f'<li data-recording="{escape(str(rec.get("name", "")))}"><strong>{escape(str(rec.get("host", "")))}</strong>'
            f' ({escape(how)}) · {escape(when)} · {int(length) // 60:02d}:{int(length) % 60:02d}{cut} — '
            f'<a class="replay" href="{escape(base + str(rec.get("replay", "")))}">{escape(_w("replay", lang))}</a> · '
            f'<a class="cast" href="{escape(base + str(rec.get("file", "")))}">{escape(_w("cast", lang))}</a></li>')
    return (f'<h3>{escape(_w("sessions", lang))}</h3><ul class="recordings">{"".join(items)}</ul>'
            f'<p class="small">{escape(_w("input", lang))}</p>')


def interventions_html(checks: list[dict[str, Any]], recordings: list[dict[str, Any]], lang: str, *,
                       exam: bool = False, base: str = "") -> str:
    """Each ticket's intervention report (its text escaped, whole), beside the items the examiner
    marks by hand and their marks, and the links to the recorded sessions. "" when the results
    have neither reports nor recordings."""
    reports = intervention_reports(checks)
    if not reports and not recordings:
        return ""
    articles = []
    for report in reports:
        check = report["check"]
        message = check.get("public", "") if exam else check.get("message", "")
        if check.get("status") == "error" and exam:
            message = t("error_public", lang)
        where = f'{report["host"]}:{report["path"]}' if report["path"] else ""
        if report["text"] is not None:
            text = (f'<pre class="report-text">{escape(visible(report["text"]))}</pre>'
                    + (f'<p class="small">{escape(_w("truncated", lang))}</p>' if report["truncated"] else ""))
        else:
            text = f'<p class="small">{escape(_w("no_file" if report["absent"] else "unread", lang))}</p>'
        articles.append(
            f'<article class="intervention" data-ticket="{escape(report["ticket"])}">'
            f'<h3>{escape(check_name(check, lang))} — <span class="{escape(str(check.get("status", "")))}">'
            f'{escape(t(str(check.get("status", "")), lang))}</span></h3>'
            f'<p class="small">{escape(where)}{" · " if where and message else ""}{escape(visible(str(message or "")))}</p>'
            f'{text}</article>')
    marks = manual_items_table(checks, lang) if reports else ""
    heading = _w("beside" if reports else "sessions", lang)
    aside = (f'<h3>{escape(t("manual_items", lang))}</h3>{marks}' if reports else "") + recordings_list(recordings, lang, base)
    side = (f'<div class="reports"><h3>{escape(_w("interventions", lang))}</h3>{"".join(articles)}</div>'
            if reports else "")
    return (f'<section class="tspcr-interventions" id="interventions"><style>{INTERVENTION_STYLE}</style>'
            f'<h2>{escape(heading)}</h2><div class="side">{side}<div class="marks">{aside}</div></div></section>')


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
