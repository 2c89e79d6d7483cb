"""Checks of a troubleshooting lab, written once for every such lab.

A trainee has tickets #1..#N (:data:`Catalogue.count`), each a fault drawn from their seed (see
:mod:`tspcr_lab.faults`). A lab's check file parametrizes its checks over the ticket numbers
(:func:`ticket_numbers`) and calls :class:`Tickets`, which judges each ticket in three parts:

* :meth:`Tickets.symptom`: the user's complaint is gone (the fault's symptom probes, from the
  user's side);
* :meth:`Tickets.cause`: the faulted thing itself is right again, for the next boot too (its
  cause probes): a workaround leaves the symptom gone and the cause there;
* :meth:`Tickets.damage`: nothing else changed on the hosts of that fault (the ledger's state,
  recorded after the faults were injected, against the state now; the drawn faults' scopes and
  the lab's allowances aside), each change shown with its evidence (a diff, modes, a daemon).

Hosts that no fault touches are judged by :meth:`Tickets.damage_elsewhere`. A probe that cannot
run (an unreachable host, no ledger) is an *error*, never the trainee's failure.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable

from . import ledger
from .errors import ProbeError
from .faults import Fault, Probe, drawn, load_catalogue, render
from .labfile import load_lab
from .probes import FileContent, ServiceAtBoot


# The headings of an intervention report (Markdown "## ..." lines, French or English), in order.
REPORT_SECTIONS = {
    "symptom": ("Symptôme", "Symptom"), "diagnosis": ("Diagnostic", "Diagnosis"), "cause": ("Cause", "Cause"),
    "action": ("Action", "Action"), "test": ("Test", "Test"), "sources": ("Sources", "Sources"),
    "follow-up": ("Suivi", "Follow-up"),
}


def report_sections(text: str) -> dict[str, str]:
    """The text under each known heading of a report (``#``/``##``... lines; case, accents on the
    first letter and a trailing colon do not matter)."""
    import unicodedata

    def key(title: str) -> str | None:
        plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().strip().rstrip(":").strip().lower()
        for name, titles in REPORT_SECTIONS.items():
            if plain in {unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode().lower() for t in titles}:
                return name
        return None

    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            name = key(heading.group(1))
            current = sections.setdefault(name, []) if name else None
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def ticket_numbers(lab_id: str) -> list[int]:
    """1..N for a lab's check file, read when pytest collects it (empty when the catalogue is broken:
    the lab's other checks say why)."""
    try:
        catalogue = load_catalogue(load_lab(lab_id))
    except Exception:  # noqa: BLE001 - collection must not fail; the fixture raises the one-line error
        return [1]
    return list(range(1, (catalogue.count if catalogue else 0) + 1))


class Tickets:
    def __init__(self, lab_context):
        self.context = lab_context
        self.lab = lab_context.lab
        self.catalogue = load_catalogue(self.lab)
        if self.catalogue is None:
            raise ProbeError(f"lab {self.lab.id} has no fault catalogue")
        self.values = {"params": lab_context.params.params, "expected": lab_context.params.expected}
        self.faults = drawn(self.lab, lab_context.params.expected, lab_context.params.params)
        self._lock = threading.Lock()
        self._ledger: dict[str, Any] | None = None
        self._changes: dict[str, list[ledger.Change]] = {}

    # -- the ticket -------------------------------------------------------------------------

    def fault(self, number: int) -> Fault:
        if not 1 <= number <= len(self.faults):
            raise ProbeError(f"ticket #{number}: the trainee has {len(self.faults)} tickets")
        return self.faults[number - 1]

    def _run(self, probes: tuple[Probe, ...], where: str, check) -> None:
        __tracebackhide__ = True
        wrong = []
        for probe in probes:
            host = self.context.hosts[probe.host]
            if probe.at_boot is not None:
                right = host.probe(ServiceAtBoot, probe.at_boot).enabled
            elif probe.login is not None:
                attempt = host.login(render(probe.login, self.values, where), render(probe.password, self.values, where),
                                     render(probe.run, self.values, where) if probe.run else "true")
                right = attempt.accepted and attempt.result.rc == 0
            else:
                right = host.run(render(probe.run, self.values, where), timeout=30).rc == 0
            if not right:
                wrong.append(probe.says)
        if wrong:
            check.fail(fr=" ; ".join(render(w["fr"], self.values, where) for w in wrong),
                       en="; ".join(render(w["en"], self.values, where) for w in wrong))

    def symptom(self, number: int, check) -> None:
        """The user's complaint of ticket ``number`` is gone, tested as the user would."""
        __tracebackhide__ = True
        fault = self.fault(number)
        self._run(fault.symptom, f"{self.catalogue.file}: fault {fault.id}: symptom", check)

    def cause(self, number: int, check) -> None:
        """The faulted thing of ticket ``number`` is right again (not worked around)."""
        __tracebackhide__ = True
        fault = self.fault(number)
        self._run(fault.cause, f"{self.catalogue.file}: fault {fault.id}: cause", check)

    # -- the intervention report ----------------------------------------------------------------

    def report(self, number: int, check, note) -> None:
        """Ticket ``number``'s intervention report: every heading of :data:`REPORT_SECTIONS`
        with text under it, and its cause naming the real one (the fault's ``report_names``:
        its host and component). Its quality stays the examiner's (a rubric item)."""
        __tracebackhide__ = True
        fault = self.fault(number)
        if self.catalogue.report is None:
            raise ProbeError(f"{self.catalogue.file}: catalogue.report is not set")
        host, where = self.catalogue.report
        path = where.replace("{n}", str(number))
        text = self.context.hosts[host].probe(FileContent, path)
        check.that(text is not None and text.strip(), fr=f"pas de rapport d'intervention {path} sur {host}",
                   en=f"no intervention report {path} on {host}")
        sections = report_sections(text)
        note("sections of the report", ", ".join(f"{k}: {len(v.split())} words" for k, v in sections.items()) or "none")
        missing = [key for key in REPORT_SECTIONS if not sections.get(key, "").strip()]
        check.that(not missing, fr=f"{path} : rubriques absentes ou vides : {', '.join(REPORT_SECTIONS[k][0] for k in missing)}",
                   en=f"{path}: missing or empty headings: {', '.join(REPORT_SECTIONS[k][1] for k in missing)}")
        cause = sections["cause"]
        unnamed = [p for p in fault.report_names if not re.search(p, cause, re.I)]
        check.that(not unnamed, fr=f"la cause du rapport ne nomme pas la vraie panne ({fault.title['fr']})",
                   en=f"the report's cause does not name the real fault ({fault.title.get('en') or fault.title['fr']})")

    # -- collateral damage --------------------------------------------------------------------

    def _ledger_document(self) -> dict[str, Any]:
        if self._ledger is None:
            try:
                self._ledger = ledger.load(self.context.target, self.context.params.seed,
                                           [f.id for f in self.faults])
            except Exception as exc:  # noqa: BLE001 - an error of the check, said on one line
                raise ProbeError(str(exc)) from None
        return self._ledger

    def changes(self, host: str) -> list[ledger.Change]:
        """Every change of ``host`` since the faults were injected (taken once per grading run)."""
        with self._lock:
            if host not in self._changes:
                before = self._ledger_document()["hosts"].get(host)
                if before is None:
                    raise ProbeError(f"the fault ledger holds no state of {self.context.target.name}'s {host}")
                target = self.context.hosts[host]
                now = target.probe(ledger.StateSnapshot())

                def read_text(path: str) -> str | None:
                    try:
                        return target.probe(FileContent, path)
                    except Exception:  # noqa: BLE001 - the diff is only evidence
                        return None

                self._changes[host] = ledger.compare(host, before, now, read_text)
            return self._changes[host]

    def scope(self, host: str) -> tuple[str, ...]:
        """What may change on ``host``: every drawn fault's scope there and the lab's allowances."""
        allowed = (render(item, self.values, f"{self.catalogue.file}: catalogue.allow.{host}")
                   for item in self.catalogue.allowed(host))
        return (*allowed, *(item for f in self.faults for item in f.scope.get(host, ())))

    def _judge(self, hosts, check, note: Callable[..., None]) -> None:
        __tracebackhide__ = True
        found: list[ledger.Change] = []
        for host in hosts:
            changes = self.changes(host)
            harm = ledger.damage(changes, self.scope(host))
            note(f"changes on {host} since the faults were injected",
                 f"{len(changes)} in all, {len(harm)} outside the repair's scope" +
                 "".join(f"\n- {c.what['en']}" for c in changes), host=host)
            for change in harm:
                note(f"collateral damage on {host}: {change.what['en']}", change.detail or change.what["en"], host=host)
            found += harm
        if found:
            shown = found[:5]
            more = len(found) - len(shown)
            check.fail(fr="dommages collatéraux : " + " ; ".join(f"{c.host} : {c.what['fr']}" for c in shown)
                          + (f" (et {more} autres)" if more else ""),
                       en="collateral damage: " + "; ".join(f"{c.host}: {c.what['en']}" for c in shown)
                          + (f" (and {more} more)" if more else ""))

    def damage(self, number: int, check, note) -> None:
        """Nothing outside the repair changed on the hosts of ticket ``number``'s fault."""
        __tracebackhide__ = True
        self._judge(self.fault(number).hosts, check, note)

    def damage_elsewhere(self, check, note) -> None:
        """Nothing changed on the hosts that no ticket's fault touches."""
        __tracebackhide__ = True
        touched = {h for f in self.faults for h in f.hosts}
        self._judge([h for h in self.lab.hosts if h not in touched], check, note)


def ticket_checks(lab_id: str, competency: str, *, cause: str = "018", report: str = "016",
                  report_points: float = 1) -> dict[str, Callable[..., None]]:
    """The checks of a troubleshooting lab, for its check file to take as they are::

        globals().update(ticket_checks("troubleshoot-system", "021"))

    Per ticket: the user's complaint gone (the ticket's fault's competency, 1 point), the cause
    repaired (``cause``, 2 points, critical), no collateral damage on its hosts (the fault's
    competency), the intervention report (``report``, ``report_points``); and nothing changed on
    the hosts no ticket is about (``competency``: the lab's own, also the default of a ticket's
    check that could not read its fault)."""
    import pytest

    numbers = ticket_numbers(lab_id)

    @pytest.fixture(scope="module")
    def tickets(lab_context):
        return Tickets(lab_context)

    per_ticket = pytest.mark.parametrize("ticket", numbers)

    @pytest.mark.competency(competency, points=1)
    @per_ticket
    def test_symptom(tickets, ticket, check, counts_for):
        """The user's complaint is gone, tested from the user's side."""
        counts_for(tickets.fault(ticket).competency)
        tickets.symptom(ticket, check)

    @pytest.mark.competency(cause, points=2, critical=True)
    @per_ticket
    def test_cause(tickets, ticket, check):
        """The faulted thing is right again, persistently: not a workaround."""
        tickets.cause(ticket, check)

    @pytest.mark.competency(competency, points=1)
    @per_ticket
    def test_no_damage(tickets, ticket, check, note, counts_for):
        """Nothing outside the repair changed on the hosts of the ticket's fault."""
        counts_for(tickets.fault(ticket).competency)
        tickets.damage(ticket, check, note)

    @pytest.mark.competency(report, points=report_points)
    @per_ticket
    def test_report(tickets, ticket, check, note):
        """The intervention report: its headings filled in, its cause naming the real fault."""
        tickets.report(ticket, check, note)

    @pytest.mark.competency(competency, points=1)
    def test_no_damage_elsewhere(tickets, check, note):
        """The hosts no ticket is about are as they were."""
        tickets.damage_elsewhere(check, note)

    return {"tickets": tickets, "test_symptom": test_symptom, "test_cause": test_cause,
            "test_no_damage": test_no_damage, "test_report": test_report,
            "test_no_damage_elsewhere": test_no_damage_elsewhere}
