"""A troubleshooting lab's fault catalogue (``labs/<lab>/catalogue.toml``), as data.

Each fault says what it breaks and how it is judged, in the lab's files and not in check code:

* ``id``, ``competency``, ``difficulty`` (1 to 3), a ``title`` for the examiner and a ``ticket``:
  the user's complaint, all the trainee is told (never the fault);
* ``group`` and ``conflicts``: faults that hide one another (the same symptom, the same path): a
  trainee never gets two faults of one group nor a declared pair;
* ``scope``: per host, what repairing the fault may change (paths, by prefix, and the state kinds
  ``routes``, ``addresses``, ``firewall``, ``daemon:NAME``, ``package:NAME``); a change outside
  every drawn fault's scope and the catalogue's ``allow`` is collateral damage;
* ``inject`` (per host, a shell script run by the lab's deploy), ``repair`` (the reference repair,
  per host), ``workaround`` (ways around it that do not count, each per host);
* ``symptom`` and ``cause``: probes (a host and a read-only shell command that exits 0 when that
  side is right, with what to say when it is not, in French and English). The symptom is what
  the user sees; the cause is the faulted thing being right again, persistently.

Scripts and texts take ``{{ params.x }}`` and ``{{ expected.x | quote }}`` placeholders. Each
trainee's faults are drawn from their seed (:func:`draw`): no conflicting pair, the sum of their
difficulties within the catalogue's ``difficulty`` range. ``tspcr-lab variants`` proves each
trainee's set on the virtual lab before the exam.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
from pathlib import Path
from typing import Any

from .errors import UserError
from .labfile import FAULT_ID_RE, Lab, _new_id, _Table, _texts, read_toml, render_placeholders

CATALOGUE = "catalogue.toml"
STATE_KINDS = ("routes", "addresses", "firewall")
STATE_PREFIXES = ("daemon:", "package:")


@dataclasses.dataclass(frozen=True)
class Probe:
    """A read-only shell command on a host (``run``: exit 0 when that side is right), a service
    that must start at boot (``at_boot``: however the host boots, see
    :class:`tspcr_lab.probes.ServiceAtBoot`), or a user's password login over SSH (``login`` and
    ``password``: the user opens a session and runs ``run``, ``true`` when not given)."""

    host: str
    run: str | None
    at_boot: str | None
    says: dict[str, str]  # what is wrong when it is not so, per language
    login: str | None = None
    password: str | None = None


@dataclasses.dataclass(frozen=True)
class Workaround:
    id: str
    title: dict[str, str]
    run: dict[str, str]  # host -> script


@dataclasses.dataclass(frozen=True)
class Fault:
    id: str
    competency: str
    difficulty: int
    group: str | None
    conflicts: frozenset[str]
    title: dict[str, str]
    ticket: dict[str, str]
    scope: dict[str, tuple[str, ...]]  # host -> what its repair may change
    inject: dict[str, str]
    repair: dict[str, str]
    symptom: tuple[Probe, ...]
    cause: tuple[Probe, ...]
    workarounds: tuple[Workaround, ...]
    report_names: tuple[str, ...] = ()  # regular expressions the report's cause must hold (host, component)

    def rendered(self, values: dict[str, Any], where: str) -> "Fault":
        """The fault as a trainee's: its title, ticket, report names and scope with their
        placeholders replaced by the trainee's values (scripts and probes are rendered where
        they run)."""
        def one(text: str, what: str) -> str:
            return render(text, values, f"{where}: fault {self.id}: {what}")

        return dataclasses.replace(
            self, title={k: one(v, "title") for k, v in self.title.items()},
            ticket={k: one(v, "ticket") for k, v in self.ticket.items()},
            report_names=tuple(one(p, "report_names") for p in self.report_names),
            scope={h: tuple(one(i, f"scope.{h}") for i in items) for h, items in self.scope.items()})

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host the fault touches: where it is injected, repaired or allowed to change."""
        return tuple(dict.fromkeys([*self.inject, *self.repair, *self.scope]))

    def hides(self, other: Fault) -> bool:
        return (other.id in self.conflicts or self.id in other.conflicts
                or (self.group is not None and self.group == other.group))


@dataclasses.dataclass(frozen=True)
class Catalogue:
    lab: str
    file: Path
    faults: dict[str, Fault]
    count: int  # faults per trainee
    difficulty: tuple[int, int]  # sum of the drawn faults' difficulties, inclusive
    allow: dict[str, tuple[str, ...]]  # host ("*": every host) -> changes that are never damage
    report: tuple[str, str] | None = None  # (host, path with {n}): where the trainee writes ticket n's report

    def allowed(self, host: str) -> tuple[str, ...]:
        return (*self.allow.get("*", ()), *self.allow.get(host, ()))


render = render_placeholders  # the one renderer of the lab files' placeholders


def _scripts(table: _Table, key: str, hosts, required: bool) -> dict[str, str]:
    scripts = table.get(key, dict, default=... if required else {})
    for host, script in scripts.items():
        if host not in hosts:
            raise table.fail(key, f"unknown host '{host}' (hosts: {', '.join(hosts)})")
        if not isinstance(script, str) or not script.strip():
            raise table.fail(key, f"{host}: a shell script is needed")
    if required and not scripts:
        raise table.fail(key, "needs a script for at least one host")
    return dict(scripts)


def _changes(table: _Table, key: str, hosts, where_all: bool) -> dict[str, tuple[str, ...]]:
    value = table.get(key, dict, default={})
    out: dict[str, tuple[str, ...]] = {}
    for host, items in value.items():
        if host not in hosts and not (where_all and host == "*"):
            raise table.fail(key, f"unknown host '{host}' (hosts: {', '.join(hosts)}{', *' if where_all else ''})")
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise table.fail(key, f"{host}: a list of paths and state kinds is needed")
        for item in items:
            if not (item.startswith("/") or item in STATE_KINDS or item.startswith(STATE_PREFIXES)):
                raise table.fail(key, f"{host}: '{item}' is neither a path (/...) nor a state kind "
                                      f"({', '.join(STATE_KINDS)}, daemon:NAME, package:NAME)")
        out[host] = tuple(items)
    return out


def _probes(table: _Table, key: str, hosts) -> tuple[Probe, ...]:
    items = table.get(key, list)
    if not items:
        raise table.fail(key, "needs at least one probe")
    probes = []
    for i, item in enumerate(items):
        sub = _Table(item, f"{table.where}.{key}[{i}]", table.file)
        host = sub.get("host", str)
        if host not in hosts:
            raise sub.fail("host", f"unknown host '{host}' (hosts: {', '.join(hosts)})")
        run, at_boot = sub.get("run", str, default=None), sub.get("at_boot", str, default=None)
        login, password = sub.get("login", str, default=None), sub.get("password", str, default=None)
        if (login is None) != (password is None):
            raise sub.fail("login" if login is None else "password", "a login probe needs both login and password")
        if login is not None and at_boot is not None:
            raise sub.fail("at_boot", "a probe has either login (a user's session) or at_boot (a service)")
        if login is None and (run is None) == (at_boot is None):
            raise sub.fail("run", "a probe has either run (a shell command), at_boot (a service) or login and password")
        if run is not None and not run.strip():
            raise sub.fail("run", "a shell command is needed")
        says = {lang: sub.get(lang, str) for lang in ("fr", "en")}
        sub.done()
        probes.append(Probe(host, run, at_boot, says, login, password))
    return tuple(probes)


def _patterns(table: _Table, key: str) -> list[str]:
    items = table.get(key, list, default=[])
    for item in items:
        try:
            re.compile(item if isinstance(item, str) else "(")
        except re.error as exc:
            raise table.fail(key, f"'{item}' is not a regular expression: {exc}") from None
    return items


def _fault(table: _Table, lab: Lab, taken: set[str]) -> Fault:
    from .referential import load as load_referential

    fault_id = _new_id(table, FAULT_ID_RE, "lower-case letters, digits and '-'", taken)
    try:
        competency = load_referential().competency(table.get("competency", str)).code
    except UserError as exc:
        raise table.fail("competency", str(exc)) from None
    difficulty = table.get("difficulty", int)
    if not 1 <= difficulty <= 3:
        raise table.fail("difficulty", "must be 1, 2 or 3")
    group = table.get("group", str, default=None)
    conflicts = table.get("conflicts", list, default=[])
    if not all(isinstance(c, str) for c in conflicts):
        raise table.fail("conflicts", "a list of fault ids is needed")
    workarounds = []
    for i, item in enumerate(table.get("workaround", list, default=[])):
        sub = _Table(item, f"{table.where}.workaround[{i}]", table.file)
        workaround_id = _new_id(sub, FAULT_ID_RE, "lower-case letters, digits and '-'", {w.id for w in workarounds})
        title = _texts(sub, "title")
        run = _scripts(sub, "run", lab.hosts, required=True)
        sub.done()
        workarounds.append(Workaround(workaround_id, title, run))
    fault = Fault(
        id=fault_id, competency=competency, difficulty=difficulty, group=group, conflicts=frozenset(conflicts),
        title=_texts(table, "title"), ticket=_texts(table, "ticket"),
        scope=_changes(table, "scope", lab.hosts, where_all=False),
        inject=_scripts(table, "inject", lab.hosts, required=True),
        repair=_scripts(table, "repair", lab.hosts, required=True),
        symptom=_probes(table, "symptom", lab.hosts), cause=_probes(table, "cause", lab.hosts),
        workarounds=tuple(workarounds), report_names=tuple(_patterns(table, "report_names")),
    )
    table.done()
    return fault


def _load(lab: Lab, file: Path) -> Catalogue:
    raw = read_toml(file)
    top = _Table(raw, "", file)
    head = _Table(top.get("catalogue", dict), "catalogue", file)
    count = head.get("faults", int)
    low, high = (head.get("difficulty", list) + [None, None])[:2]
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
        raise head.fail("difficulty", "must be [lowest, highest], the range of a trainee's sum of difficulties")
    allow = _changes(head, "allow", lab.hosts, where_all=True)
    report = None
    if "report" in head.data:
        sub = _Table(head.get("report", dict), "catalogue.report", file)
        host, where = sub.get("host", str), sub.get("path", str)
        if host not in lab.hosts:
            raise sub.fail("host", f"unknown host '{host}' (hosts: {', '.join(lab.hosts)})")
        if not where.startswith("/") or "{n}" not in where:
            raise sub.fail("path", "an absolute path holding {n} (the ticket's number)")
        sub.done()
        report = (host, where)
    head.done()
    faults: dict[str, Fault] = {}
    for i, item in enumerate(top.get("fault", list)):
        fault = _fault(_Table(item, f"fault[{i}]", file), lab, set(faults))
        faults[fault.id] = fault
    top.done()
    for fault in faults.values():
        unknown = sorted(fault.conflicts - set(faults))
        if unknown:
            raise UserError(f"{file}: fault {fault.id}: conflicts names no fault '{unknown[0]}'")
    if not 1 <= count <= len(faults):
        raise UserError(f"{file}: catalogue.faults: {count} faults per trainee, but the catalogue has {len(faults)}")
    catalogue = Catalogue(lab.id, file, faults, count, (low, high), allow, report)
    if not variants(catalogue):
        raise UserError(f"{file}: no {count} faults can be drawn together: every set holds two that hide one "
                        f"another or its difficulty is outside {low}-{high}")
    return catalogue


def load_catalogue(lab: Lab) -> Catalogue | None:
    """The lab's fault catalogue, or None when the lab is not a troubleshooting lab."""
    file = lab.path / CATALOGUE
    if not file.is_file():
        return None
    key = (str(file), file.stat().st_mtime_ns)
    if key not in _LOADED:  # read once per process and version of the file (params, checks, variants)
        _LOADED[key] = _load(lab, file)
    return _LOADED[key]


_LOADED: dict[tuple[str, int], Catalogue] = {}


def variants(catalogue: Catalogue) -> list[tuple[str, ...]]:
    """Every set of faults a trainee may get (ids in the catalogue's order)."""
    low, high = catalogue.difficulty
    out = []
    for combo in itertools.combinations(catalogue.faults.values(), catalogue.count):
        if any(a.hides(b) for a, b in itertools.combinations(combo, 2)):
            continue
        if low <= sum(f.difficulty for f in combo) <= high:
            out.append(tuple(f.id for f in combo))
    return out


def draw(catalogue: Catalogue, seed: int) -> tuple[str, ...]:
    """A trainee's faults, from their seed: one of the allowed sets (no two that hide one
    another, a sum of difficulties in range), and their order (the tickets' numbers)."""
    rng = random.Random(f"{catalogue.lab}:faults:{seed}")
    chosen = list(rng.choice(variants(catalogue)))
    rng.shuffle(chosen)
    return tuple(chosen)


def assign(lab: Lab, seed: int, params: dict[str, Any], expected: dict[str, Any]) -> None:
    """Adds a trainee's faults to what their ``params.py`` drew: ``expected["faults"]`` (ids, in
    the tickets' order) and ``params["tickets"]`` (the numbered complaints, per language)."""
    catalogue = load_catalogue(lab)
    if catalogue is None:
        raise UserError(f"lab {lab.id} has no {CATALOGUE}")
    chosen = draw(catalogue, seed)
    expected["faults"] = list(chosen)
    values = {"params": params, "expected": expected}
    tickets = {}
    for lang in ("fr", "en"):
        lines = []
        for number, fault_id in enumerate(chosen, 1):
            fault = catalogue.faults[fault_id]
            text = fault.ticket.get(lang) or fault.ticket["fr"]
            lines.append(f"#{number}. {render(text, values, f'{catalogue.file}: fault {fault_id}: ticket')}")
        tickets[lang] = "\n".join(lines)
    params["tickets"] = tickets


def drawn(lab: Lab, expected: dict[str, Any], params: dict[str, Any] | None = None) -> list[Fault]:
    """The trainee's faults, in their tickets' order; given the trainee's ``params`` too, with
    their texts and scopes rendered (:meth:`Fault.rendered`)."""
    catalogue = load_catalogue(lab)
    if catalogue is None:
        raise UserError(f"lab {lab.id} has no {CATALOGUE}")
    ids = expected.get("faults") or []
    unknown = [f for f in ids if f not in catalogue.faults]
    if unknown:
        raise UserError(f"{catalogue.file}: no fault '{unknown[0]}' (the trainee's plan names it)")
    if params is None:
        return [catalogue.faults[f] for f in ids]
    values = {"params": params, "expected": expected}
    return [catalogue.faults[f].rendered(values, str(catalogue.file)) for f in ids]
