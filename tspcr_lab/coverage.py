"""Which labs and how many checks cover each competency of the referential.

Checks are counted as pytest collects them: one collection-only run (``pytest --collect-only``,
in this process, no fixture runs, so no lab needs to be up) over every lab's ``checks/<lab>/``
folder, and each collected item's ``@pytest.mark.competency("NNN", ...)`` marker is read. Every
case of a ``parametrize`` is one check, whatever gives its values (a literal list, a module-level
name, an imported one, a marker stored in a variable). Manual items (``[[rubric]]`` of lab files
and of ``rubrics/*.toml``) count too: a competency is *automated* when a machine check covers it,
*manual* when only an examiner's item does, and *uncovered* otherwise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import sys
from pathlib import Path
from typing import Any

from .errors import UserError
from .labfile import available_labs, checks_dir
from .referential import load


@dataclasses.dataclass(frozen=True)
class Collected:
    """One check as pytest collects it."""

    nodeid: str
    path: Path
    name: str  # the check function's name (``test_address``), without its parameters
    code: str | None  # the competency of its marker (as written), None when it has none


class _Collector:
    """A pytest plugin that keeps the collected items and the files that failed to load."""

    def __init__(self) -> None:
        self.items: list[Collected] = []
        self.errors: list[tuple[str, str]] = []

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            lines = str(report.longrepr).strip().splitlines()
            self.errors.append((report.nodeid, lines[-1] if lines else "error"))

    def pytest_collection_modifyitems(self, items) -> None:
        for item in items:
            marker = item.get_closest_marker("competency")
            code = str(marker.args[0]) if marker is not None and marker.args else None
            self.items.append(Collected(item.nodeid, Path(item.path), getattr(item, "originalname", item.name), code))


def collect(paths: list[Path]) -> list[Collected]:
    """The checks pytest collects from ``paths`` (folders or files), without running any.

    A file that does not load (a syntax error, an import that fails) is a UserError on one line."""
    import pytest

    paths = [p for p in paths if p.exists()]
    if not paths:
        return []
    collector = _Collector()
    # Check modules of different labs may share a name (and a name already imported): each is
    # imported under a name of its own (importlib mode); a helper module next to the checks is
    # found as when one lab's checks run (its folder on sys.path, for the time of the run).
    args = [*(str(p) for p in paths), "--collect-only", "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
    folders = list(dict.fromkeys(str(p if p.is_dir() else p.parent) for p in paths))
    saved, modules = list(sys.path), set(sys.modules)
    sys.path[:0] = folders
    try:
        with contextlib.redirect_stdout(io.StringIO()) as captured:
            code = pytest.main(args, plugins=[collector])
    finally:
        sys.path[:] = saved
        _forget_modules(set(sys.modules) - modules, [Path(f).resolve() for f in folders])
    if collector.errors:
        nodeid, why = collector.errors[0]
        raise UserError(f"coverage: the checks of {nodeid} do not load: {why}")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        lines = captured.getvalue().strip().splitlines()
        raise UserError(f"coverage: pytest could not collect the checks (exit {int(code)})"
                        + (f": {lines[-1]}" if lines else ""))
    return collector.items


def _forget_modules(names: set[str], folders: list[Path]) -> None:
    """Check modules and their helpers imported by a collection are forgotten: a later run of the
    checks (in this process) imports them afresh, from wherever it finds them."""
    for name in names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file:
            continue
        try:
            where = Path(file).resolve()
        except OSError:
            continue
        if any(where.is_relative_to(folder) for folder in folders):
            del sys.modules[name]


def checks_in(path: Path) -> list[tuple[str, int]]:
    """(competency code, number of checks) for each marked check function of a file, as pytest
    collects it (a parametrized function counts its cases)."""
    counts: dict[str, tuple[str, int]] = {}
    for item in collect([path]):
        if item.code is not None:
            code, n = counts.get(item.name, (item.code, 0))
            counts[item.name] = (code, n + 1)
    return list(counts.values())


def lab_checks() -> dict[str, list[Collected]]:
    """Every lab's collected checks, from one pytest run."""
    root = checks_dir()
    labs = [lab for lab in available_labs() if (root / lab).is_dir()]
    found: dict[str, list[Collected]] = {lab: [] for lab in labs}
    for item in collect([root / lab for lab in labs]):
        try:
            lab = item.path.resolve().relative_to(root.resolve()).parts[0]
        except ValueError:
            continue
        found.setdefault(lab, []).append(item)
    return found


def coverage() -> list[dict[str, Any]]:
    from .labfile import load_lab
    from .rubric import load_rubric_file, rubrics_dir

    referential = load()
    labs: dict[str, dict[str, int]] = {}
    manual: dict[str, dict[str, int]] = {}
    collected = lab_checks()
    for lab in available_labs():
        for item in collected.get(lab, []):
            if item.code is None:
                continue
            code = referential.competency(item.code).code
            labs.setdefault(code, {}).setdefault(lab, 0)
            labs[code][lab] += 1
        for rubric_item in load_lab(lab).rubric:
            manual.setdefault(rubric_item.competency, {}).setdefault(lab, 0)
            manual[rubric_item.competency][lab] += 1
    if rubrics_dir().is_dir():
        for path in sorted(rubrics_dir().glob("*.toml")):
            for rubric_item in load_rubric_file(path):
                where = f"rubrics/{path.name}"
                manual.setdefault(rubric_item.competency, {}).setdefault(where, 0)
                manual[rubric_item.competency][where] += 1
    rows = []
    for comp in referential.competencies:
        per_lab = labs.get(comp.code, {})
        items = manual.get(comp.code, {})
        rows.append({
            "code": comp.code,
            "activity": comp.activity,
            "fr": comp.fr,
            "en": comp.en,
            "labs": per_lab,
            "checks": sum(per_lab.values()),
            "manual": items,
            "manual_items": sum(items.values()),
            "status": "automated" if per_lab else "manual" if items else "uncovered",
        })
    return rows
