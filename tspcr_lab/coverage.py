"""Which labs and how many checks cover each competency of the referential.

Check files are read, not run: the ``@pytest.mark.competency("NNN", ...)`` decorators are found in
their syntax tree (a ``parametrize`` on the same check multiplies it by its number of cases).
Manual items (``[[rubric]]`` of lab files and of ``rubrics/*.toml``) count too: a competency is
*automated* when a machine check covers it, *manual* when only an examiner's item does, and
*uncovered* otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from .labfile import available_labs, checks_dir
from .referential import load


def _mark_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "mark":
        return target.attr
    return None


def _cases(decorator: ast.Call, constants: dict[str, int]) -> int:
    """How many cases a ``parametrize`` gives: a literal list, or a module-level list by name."""
    if len(decorator.args) >= 2:
        values = decorator.args[1]
        if isinstance(values, (ast.List, ast.Tuple)):
            return len(values.elts)
        if isinstance(values, ast.Name) and values.id in constants:
            return constants[values.id]
    return 1


def _module_lists(tree: ast.Module) -> dict[str, int]:
    sizes = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    sizes[target.id] = len(node.value.elts)
    return sizes


def checks_in(path: Path) -> list[tuple[str, int]]:
    """(competency code, number of checks) for each marked check function of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    constants = _module_lists(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        code, cases = None, 1
        for decorator in node.decorator_list:
            name = _mark_name(decorator)
            if name == "competency" and isinstance(decorator, ast.Call) and decorator.args:
                arg = decorator.args[0]
                if isinstance(arg, ast.Constant):
                    code = str(arg.value)
            elif name == "parametrize" and isinstance(decorator, ast.Call):
                cases *= _cases(decorator, constants)
        if code is not None:
            found.append((code, cases))
    return found


def coverage() -> list[dict[str, Any]]:
    from .labfile import load_lab
    from .rubric import load_rubric_file, rubrics_dir

    referential = load()
    labs: dict[str, dict[str, int]] = {}
    manual: dict[str, dict[str, int]] = {}
    for lab in available_labs():
        for path in sorted((checks_dir() / lab).glob("test_*.py")):
            for code, count in checks_in(path):
                code = referential.competency(code).code
                labs.setdefault(code, {}).setdefault(lab, 0)
                labs[code][lab] += count
        for item in load_lab(lab).rubric:
            manual.setdefault(item.competency, {}).setdefault(lab, 0)
            manual[item.competency][lab] += 1
    if rubrics_dir().is_dir():
        for path in sorted(rubrics_dir().glob("*.toml")):
            for item in load_rubric_file(path):
                where = f"rubrics/{path.name}"
                manual.setdefault(item.competency, {}).setdefault(where, 0)
                manual[item.competency][where] += 1
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
