"""``check`` and ``grade`` are thin wrappers over pytest: the same checks, the same plugin options.

An instructor gets the same results with ``pytest checks/ip-plan --results r.json --html r.html``.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from .errors import UserError
from .labfile import Lab


def pytest_args(lab: Lab, *, lang: str, results: Path, html: Path | None = None, instance: str | None = None,
                inventory: str | None = None, station: str | None = None, seed: int | None = None,
                trainee: str | None = None, trainee_id: str | None = None, marks: str | None = None,
                rubric: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> list[str]:
    if not lab.checks_path.is_dir():
        raise UserError(f"lab {lab.id} has no checks (expected {lab.checks_path})")
    args = [str(lab.checks_path), "-p", "no:cacheprovider", "-q", "--lab", lab.id, "--lang", lang,
            "--results", str(results)]
    if html is not None:
        args += ["--html", str(html), "--self-contained-html"]
    for option, value in (("--instance", instance), ("--inventory", inventory), ("--station", station),
                          ("--trainee", trainee), ("--trainee-id", trainee_id), ("--marks", marks)):
        if value:
            args += [option, str(value)]
    for path in rubric:
        args += ["--rubric", str(path)]
    if seed is not None:
        args += ["--seed", str(seed)]
    return args + list(extra)


def run_checks(lab: Lab, *, out_dir: Path | None = None, verbose: bool = False, plugins: tuple = (),
               **options: Any) -> dict[str, Any]:
    """Run the lab's checks; return results.json's content (also written to out_dir if given)."""
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tspcr-check-")))
            html = None
        else:
            folder = out_dir
            folder.mkdir(parents=True, exist_ok=True)
            html = folder / "report.html"
        results = folder / "results.json"
        args = pytest_args(lab, results=results, html=html, **options)
        if verbose:
            code = pytest.main(args, plugins=list(plugins))
        else:
            with contextlib.redirect_stdout(io.StringIO()) as captured:
                code = pytest.main(args, plugins=list(plugins))
        if not results.is_file():
            detail = "" if verbose else captured.getvalue().strip().splitlines()[-1:]
            raise UserError(f"the checks of {lab.id} did not run (pytest exit {int(code)}): {' '.join(detail)}")
        return json.loads(results.read_text(encoding="utf-8"))
