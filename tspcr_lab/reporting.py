"""Reporters: results.json and the additions to pytest-html's report.

:class:`ResultsReporter` runs in the pytest process that receives the reports (the controller
under xdist) and turns each check's ``user_properties`` into a
:class:`~tspcr_lab.scoring.CheckResult`. :class:`HtmlAdditions` adds to pytest-html's report the
trainee, the lab, the score and a per-competency table above the checks, two columns
(competency, points), and shows each check's human title (``[titles]`` of the lab file) in the
test column, its id as the cell's tooltip, and, for a troubleshooting lab, each ticket's
intervention report beside the items the examiner marks by hand, with the links to the trainee's
recorded terminal sessions (:class:`Recordings`, given by ``grade --recordings``). Every string
that may come from a host or a trainee is HTML-escaped, titles and test ids included
(pytest-html 4.2 leaves ids raw).
"""

from __future__ import annotations

import dataclasses
import json
import time
from html import escape
from pathlib import Path
from typing import Any

import pytest

from .classreport import competency_table, interventions_html, num
from .i18n import pick, t
from .scoring import ERROR, FAILED, PENDING, CheckResult, Grade, grade


def _lab_from_args(args: list[str]) -> str | None:
    """``pytest checks/ip-plan`` (or a file in it): the lab is the folder's name."""
    from .labfile import labs_dir

    for arg in args:
        path = Path(arg.split("::")[0])
        folder = path.parent if path.suffix == ".py" else path
        if (labs_dir() / folder.name / "lab.toml").is_file():
            return folder.name
    return None


def check_id(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


RECORDINGS = pytest.StashKey[list]()


class Recordings:
    """A plugin object that grading gives pytest: the trainee's terminal recordings, already
    copied beside the report (entries of :func:`tspcr_lab.portal.recording.export`), for
    results.json and the report to list."""

    def __init__(self, entries: list[dict[str, Any]]):
        self.entries = list(entries)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[RECORDINGS] = self.entries


class ResultsReporter:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.lang = config.getoption("tspcr_lang")
        self.path = config.getoption("tspcr_results")
        self.results: dict[str, CheckResult] = {}
        self.lab_id: str | None = config.getoption("tspcr_lab") or _lab_from_args(config.args)
        self.started = time.time()
        self._info: dict[str, Any] | None = None

    # -- collecting ------------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "status" not in props:
            return
        self.lab_id = self.lab_id or props["lab"]
        self.results[report.nodeid] = CheckResult(
            id=check_id(report.nodeid),
            name=props["check"],
            title=str(props.get("title") or ""),
            competency=props["competency"],
            points=float(props["points"]),
            critical=bool(props["critical"]),
            status=props["status"],
            message=props["message"],
            # An error's cause is the examiner's: a trainee reads one generic line.
            public=t("error_public", self.lang) if props["status"] == ERROR else props.get("public", ""),
            duration=report.duration,
            evidence=props.get("evidence", []),
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a check file that does not even load: its checks could not run
            text = str(report.longrepr).strip().splitlines()
            self.results[report.nodeid] = CheckResult(
                id=report.nodeid, name=report.nodeid, title=report.nodeid, competency="", points=0.0, critical=False,
                status=ERROR, message=f"could not load checks: {text[-1] if text else 'error'}",
                public=t("error_public", self.lang),
            )

    # -- what it means ---------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The lab, the trainee and the scoring rules (read once, after the checks)."""
        if self._info is None:
            from .labfile import load_lab
            from .targets import resolve_target

            info: dict[str, Any] = {"lab": self.lab_id or "", "title": self.lab_id or "", "trainee":
                                    self.config.getoption("tspcr_trainee") or "", "seed": self.config.getoption("tspcr_seed"),
                                    "threshold": 0.7, "competencies": [], "hints": {}, "manual": []}
            try:
                lab = load_lab(self.lab_id) if self.lab_id else None
            except Exception:
                lab = None
            if lab is not None:
                info.update(title=lab.title_in(self.lang), threshold=lab.mastery_threshold,
                            competencies=list(lab.competencies), hints=lab.hints,
                            manual=self._manual(lab))
                try:
                    target = resolve_target(lab, instance=self.config.getoption("tspcr_instance"),
                                            inventory=self.config.getoption("tspcr_inventory"),
                                            station=self.config.getoption("tspcr_station"),
                                            seed=info["seed"], trainee=info["trainee"] or None)
                    info.update(trainee=target.trainee, seed=target.seed)
                except Exception:
                    pass
            if self.lab_id:  # before any check reported, the lab may still be unknown: ask again later
                self._info = info
            return info
        return self._info

    def _manual(self, lab) -> list[CheckResult]:
        """The manual items (lab's rubric and --rubric files) with the examiner's --marks."""
        from .rubric import items_for, load_marks, manual_results

        items = items_for(lab, tuple(self.config.getoption("tspcr_rubric") or ()))
        marks = {}
        if self.config.getoption("tspcr_marks"):
            marks = load_marks(self.config.getoption("tspcr_marks"), items).get(
                self.config.getoption("tspcr_trainee_id") or "", {})
        return manual_results(items, marks, self.lang)

    def checks(self) -> list[CheckResult]:
        info = self.info()
        hints = info["hints"]
        out = []
        for result in self.results.values():
            if result.status == FAILED and result.name in hints:
                result.hint = pick(hints[result.name], self.lang)
            out.append(result)
        return out + list(info["manual"])

    def grade(self, checks: list[CheckResult] | None = None) -> Grade:
        info = self.info()
        return grade(self.checks() if checks is None else checks, info["threshold"], info["competencies"])

    def as_json(self) -> dict[str, Any]:
        checks = self.checks()
        info, result = self.info(), self.grade(checks)
        return {
            "lab": info["lab"],
            "trainee": info["trainee"],
            "seed": info["seed"],
            "lang": self.lang,
            "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "score": result.score,
            "max_score": result.max_score,
            "complete": result.complete,
            "counts": result.counts,
            "competencies": {
                code: {"earned": c.earned, "max": c.max, "mastered": c.mastered, "complete": c.complete,
                       "critical_failed": c.critical_failed}
                for code, c in result.competencies.items()
            },
            "checks": [check_json(c) for c in checks],
            "recordings": self.recordings(),
        }

    def recordings(self) -> list[dict[str, Any]]:
        return list(self.config.stash.get(RECORDINGS, []))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.path:
            return
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)


class HtmlAdditions:
    """pytest-html hooks; registered only when ``--html`` is given."""

    def __init__(self, results: ResultsReporter):
        self.results = results

    def pytest_html_report_title(self, report) -> None:
        info = self.results.info()
        report.title = f"{t('report_title', self.results.lang)} — {info['title']}"  # autoescaped by its template

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        lang = self.results.lang
        cells.insert(2, f'<th class="sortable" data-column-type="competency">{escape(t("competency", lang))}</th>')
        cells.insert(3, f'<th class="sortable" data-column-type="points">{escape(t("points", lang))}</th>')

    def pytest_html_results_table_row(self, report, cells: list[str]) -> None:
        props = dict(getattr(report, "user_properties", []) or [])
        test_id = report.nodeid + ("" if report.when == "call" else f"::{report.when}")
        title = str(props.get("title") or "")
        # pytest-html reads the cell's text for sorting and as the row's element id: one line, escaped
        cells[1] = (f'<td class="col-testId" title="{escape(test_id)}">{escape(title)}</td>' if title
                    else f'<td class="col-testId">{escape(test_id)}</td>')
        earned, points = props.get("earned", ""), props.get("points", "")
        cells.insert(2, f'<td class="col-competency">{escape(str(props.get("competency", "")))}</td>')
        cells.insert(3, f'<td class="col-points">{escape(num(earned))} / {escape(num(points))}</td>'
                     if points != "" else '<td class="col-points"></td>')

    def pytest_html_results_summary(self, prefix: list[str], summary, postfix, session) -> None:
        info = self.results.info()
        prefix.extend(summary_html(info, self.results.grade(), self.results.lang))
        if info["manual"]:
            prefix.append(manual_html(info["manual"], self.results.lang))
        beside = interventions_html([check_json(c) for c in self.results.checks()], self.results.recordings(),
                                    self.results.lang)
        if beside:
            prefix.append(beside)


def check_json(c: CheckResult) -> dict[str, Any]:
    """A check as results.json holds it."""
    return {"id": c.id, "title": c.title or c.id, "check": c.name, "kind": c.kind, "competency": c.competency,
            "points": c.points, "earned": c.earned, "critical": c.critical, "status": c.status,
            "message": c.message, "public": c.public, "hint": c.hint, "duration": round(c.duration, 4),
            "evidence": c.evidence}


def manual_html(items: list[CheckResult], lang: str) -> str:
    """The manual items, marked as such, with the examiner's points and comment."""
    rows = []
    for item in items:
        points = "" if item.awarded is None else num(item.awarded)
        rows.append(
            f'<tr><td>{escape(item.id)}</td><td>{escape(item.competency)}</td><td>{escape(item.title)}</td>'
            f'<td>{escape(points)} / {escape(num(item.points))}</td>'
            f'<td class="{escape(item.status)}">{escape(t(item.status, lang))}</td>'
            f'<td>{escape(item.message)}</td></tr>'
        )
    return (
        f'<h2>{escape(t("manual_items", lang))} ({escape(t("manual", lang))})</h2>'
        f'<table id="manual-items"><thead><tr><th>id</th><th>{escape(t("competency", lang))}</th>'
        f'<th>{escape(t("title", lang))}</th><th>{escape(t("points", lang))}</th>'
        f'<th>{escape(t("result", lang))}</th><th>{escape(t("comment", lang))}</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
    )


def summary_html(info: dict[str, Any], result: Grade, lang: str) -> list[str]:
    competencies = {code: dataclasses.asdict(comp) for code, comp in result.competencies.items()}
    table = competency_table(competencies, lang, classes=("passed", "failed", None), table_id="competencies")
    status = (t("grade_complete", lang) if result.complete
              else t("grade_incomplete", lang, n=result.counts[ERROR]) if result.counts[ERROR]
              else t("grade_pending", lang, n=result.counts[PENDING]))
    return [
        '<div class="tspcr-summary">'
        f'<p><strong>{escape(t("trainee", lang))}</strong> : {escape(str(info["trainee"]))}<br>'
        f'<strong>{escape(t("lab", lang))}</strong> : {escape(str(info["lab"]))} — {escape(str(info["title"]))}<br>'
        f'<strong>{escape(t("score", lang))}</strong> : {escape(num(result.score))} / {escape(num(result.max_score))}</p>'
        f'<p class="{"passed" if result.complete else "error"}">{escape(status)}</p>'
        + table + '</div>'
    ]
