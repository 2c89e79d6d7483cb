"""A lab's self-test: does the lab grade what it says it grades?

``tspcr-lab selftest LAB`` brings up copies of the lab on the virtual lab (their own instances,
``selftest-<lab>-<n>``), and checks, with the lab's own checks run as ``grade`` runs them:

* the untouched starting state does not score the maximum, and nothing is an *error*;
* the lab's solution scores the maximum;
* every *fault* of ``labs/<lab>/faults.toml`` (a trainee's mistake, applied to a fresh solved copy
  of the hosts it touches) fails exactly the checks it names, and only its competency loses points;
* every *alternative* (another correct way to do the work) keeps the maximum.

Cases are spread over the copies and run side by side (``--copies``), each host restored to its
solved files (and rebooted) before a case touches it. The copies are taken down at the end.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .errors import TspcrError, UserError
from .labfile import Case, Lab, load_cases
from .params import generate

RESTORE = "solved"


@dataclasses.dataclass
class Outcome:
    case: str  # a case id, or "untouched" / "solution"
    kind: str  # fault, alternative, untouched, solution
    ok: bool
    problems: list[str]
    failed: list[str]
    errors: list[str]
    score: float
    max_score: float
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def judge(case: Case | None, kind: str, results: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether a grade is what the case expects, and what differs (one short line each)."""
    checks = results["checks"]
    failed = {c["id"] for c in checks if c["status"] == "failed"}
    errors = {c["id"] for c in checks if c["status"] == "error"}
    known = {c["id"] for c in checks}
    problems = []
    if errors:
        problems.append(f"errors: {', '.join(sorted(errors))}")
    if kind == "untouched":
        if results["score"] >= results["max_score"]:
            problems.append("the untouched lab scores the maximum")
    elif kind in ("solution", "alternative"):
        if failed:
            problems.append(f"failed: {', '.join(sorted(failed))}")
    else:
        assert case is not None
        unknown = case.fails - known
        if unknown:
            problems.append(f"no such check: {', '.join(sorted(unknown))}")
        missed, extra = case.fails - failed - unknown, failed - case.fails
        if missed:
            problems.append(f"not failed: {', '.join(sorted(missed))}")
        if extra:
            problems.append(f"also failed: {', '.join(sorted(extra))}")
        lost = sorted(code for code, c in results["competencies"].items() if c["earned"] < c["max"])
        if set(lost) - set(case.competencies):
            problems.append(f"competencies that lost points: {', '.join(lost)} "
                            f"(expected {', '.join(case.competencies)} only)")
    return not problems, problems


class Copy:
    """One instance of the lab under test, with its solved snapshot."""

    def __init__(self, lab: Lab, index: int, seed: int, instance: str | None = None):
        from .virtual.lab import VirtualLab

        self.lab, self.seed = lab, seed
        self.vlab = VirtualLab(lab, instance or f"selftest-{lab.id}-{index}")
        given = generate(lab, seed)
        self.values = {"params": given.params, "expected": given.expected}
        self.dirty: set[str] = set()  # hosts a case changed since their last restore

    def up(self) -> None:
        from .provision import apply_to_targets
        from .targets import virtual_target

        self.vlab.down(quiet=True)
        self.vlab.up(self.seed, "selftest")
        target = virtual_target(self.lab, self.vlab.instance)
        apply_to_targets([(target, generate(self.lab, self.seed))], self.lab.deploy_file)

    def solve_only(self) -> None:
        """The lab's solution applied (no snapshot)."""
        from .provision import apply_to_targets
        from .targets import virtual_target

        target = virtual_target(self.lab, self.vlab.instance)
        apply_to_targets([(target, generate(self.lab, self.seed))], self.lab.solution_file)

    def solve(self) -> None:
        self.solve_only()
        for host in self.lab.hosts:
            self.vlab.snapshot(host, RESTORE)

    def apply(self, case: Case) -> None:
        """Bring back to their solved files every host the last case changed and this one will,
        then run the case's scripts."""
        changed = [h for h in self.lab.hosts if h in self.dirty or h in case.hosts]
        if changed:
            self.vlab.restore(changed, RESTORE)  # a radio VM's hosts together: one restart
        self.dirty = set(case.hosts)
        for host in case.hosts:
            script = case.script(host, self.values)
            proc = subprocess.run(self.vlab.console_argv(host, ["sh", "-ec", script]), capture_output=True,
                                  text=True, timeout=120)
            if proc.returncode != 0:
                detail = (proc.stderr or proc.stdout).strip().splitlines()
                raise UserError(f"{case.kind} {case.id}: its script failed on {host} (exit {proc.returncode}): "
                                f"{detail[-1] if detail else 'no output'}")

    def grade(self) -> dict[str, Any]:
        from .runner import pytest_args

        with tempfile.TemporaryDirectory(prefix="tspcr-selftest-") as folder:
            results = Path(folder) / "results.json"
            args = pytest_args(self.lab, lang="en", results=results, instance=self.vlab.instance)
            proc = subprocess.run([sys.executable, "-m", "pytest", *args], capture_output=True, text=True,
                                  timeout=900)
            if not results.is_file():
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:]
                raise UserError(f"the checks of {self.lab.id} did not run on {self.vlab.instance}: {' '.join(tail)}")
            return json.loads(results.read_text(encoding="utf-8"))

    def down(self) -> None:
        self.vlab.down(quiet=True)


def run_selftest(lab: Lab, *, seed: int = 4242, copies: int = 2, only: tuple[str, ...] = (),
                 on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run the lab's self-test; one outcome per step and case, in the order of the faults file."""
    cases = load_cases(lab)
    if only:
        unknown = set(only) - {c.id for c in cases}
        if unknown:
            raise UserError(f"lab {lab.id}: no fault or alternative {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(c.id for c in cases) or 'none'})")
        cases = tuple(c for c in cases if c.id in only)
    copies = max(1, min(copies, len(cases) or 1))
    outcomes: dict[str, Outcome] = {}

    def record(name: str, kind: str, case: Case | None, t0: float, grade: Callable[[], dict[str, Any]]) -> None:
        try:
            results = grade()
            ok, problems = judge(case, kind, results)
            failed = sorted(c["id"] for c in results["checks"] if c["status"] == "failed")
            errors = sorted(c["id"] for c in results["checks"] if c["status"] == "error")
            outcome = Outcome(name, kind, ok, problems, failed, errors, results["score"], results["max_score"],
                              round(time.monotonic() - t0, 2))
        except TspcrError as exc:
            outcome = Outcome(name, kind, False, [str(exc)], [], [], 0.0, 0.0, round(time.monotonic() - t0, 2))
        except Exception as exc:  # noqa: BLE001 - a case that could not run is a result, never lost
            outcome = Outcome(name, kind, False, [f"could not run: {type(exc).__name__}: {exc}"], [], [], 0.0, 0.0,
                              round(time.monotonic() - t0, 2))
        outcomes[name] = outcome
        if on_outcome:
            on_outcome(outcome)

    pool = [Copy(lab, index, seed) for index in range(copies)]
    try:
        # Provisioning runs pyinfra in this process (its state is global): one copy after the other.
        for index, copy in enumerate(pool):
            copy.up()
            if index == 0:
                record("untouched", "untouched", None, time.monotonic(), copy.grade)
            copy.solve()
        t0 = time.monotonic()
        record("solution", "solution", None, t0, pool[0].grade)

        def work(copy: Copy, mine: list[Case]) -> None:
            for case in mine:
                t0 = time.monotonic()

                def grade(case: Case = case) -> dict[str, Any]:
                    copy.apply(case)
                    return copy.grade()

                record(case.id, case.kind, case, t0, grade)

        shares = [list(cases[i::copies]) for i in range(copies)]
        threads = [threading.Thread(target=work, args=(copy, mine)) for copy, mine in zip(pool, shares)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for copy in pool:
            copy.down()
    order = ["untouched", "solution", *(c.id for c in cases)]
    kinds = {"untouched": "untouched", "solution": "solution", **{c.id: c.kind for c in cases}}
    return [outcomes.get(name) or Outcome(name, kinds[name], False, ["not run"], [], [], 0.0, 0.0, 0.0)
            for name in order]
