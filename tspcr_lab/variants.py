"""``tspcr-lab variants LAB --class FILE``: every trainee's faults proven before the exam.

For each trainee of the class, a copy of the lab is brought up on the virtual lab with their seed
(their faults injected, the ledger recorded, as ``up`` does), and graded with the lab's own checks:

* *injected*: each ticket's symptom and cause checks fail, and nothing is counted as damage (the
  ledger matches the state the faults leave, even after the hosts restart);
* each of a fault's *workarounds*, applied to the injected state: that ticket's symptom passes
  and its cause still fails (a workaround is never graded as a repair);
* the lab's *reference repair* (its solution): every check passes, the maximum.

Up to ``copies`` trainees are proven side by side, each in a process of its own. Nothing of a
trainee's exam is touched: the copies are instances of their own (``variants-<lab>-<n>``), taken
down after each proof.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import subprocess
import time
from typing import Any, Callable

from .errors import TspcrError, UserError
from .faults import load_catalogue, render
from .labfile import Lab
from .params import generate
from .provision.faults import PRELUDE
from .selftest import Copy

INJECTED = "injected"


@dataclasses.dataclass
class CaseOutcome:
    case: str  # "injected", "<fault>/<workaround>", "repaired"
    ok: bool
    problems: list[str]
    seconds: float


@dataclasses.dataclass
class Proof:
    trainee: str
    seed: int
    faults: list[str]
    difficulty: int
    competencies: list[str]
    cases: list[CaseOutcome]
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.cases) and all(c.ok for c in self.cases)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def _status(results: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in results["checks"]}


def judge_injected(results: dict[str, Any], count: int) -> list[str]:
    status, problems = _status(results), []
    errors = sorted(k for k, v in status.items() if v == "error")
    if errors:
        problems.append(f"errors: {', '.join(errors)}")
    for n in range(1, count + 1):
        for check in (f"test_symptom[{n}]", f"test_cause[{n}]"):
            if status.get(check) != "failed":
                problems.append(f"{check} {status.get(check, 'missing')} (expected: failed)")
        if status.get(f"test_no_damage[{n}]") != "passed":
            problems.append(f"test_no_damage[{n}] {status.get(f'test_no_damage[{n}]', 'missing')} (expected: passed)")
    if status.get("test_no_damage_elsewhere") != "passed":
        problems.append("test_no_damage_elsewhere not passed (expected: passed)")
    return problems


def judge_workaround(results: dict[str, Any], number: int) -> list[str]:
    status, problems = _status(results), []
    errors = sorted(k for k, v in status.items() if v == "error")
    if errors:
        problems.append(f"errors: {', '.join(errors)}")
    if status.get(f"test_symptom[{number}]") != "passed":
        problems.append(f"test_symptom[{number}] {status.get(f'test_symptom[{number}]', 'missing')} "
                        "(expected: passed, the workaround hides the symptom)")
    if status.get(f"test_cause[{number}]") != "failed":
        problems.append(f"test_cause[{number}] {status.get(f'test_cause[{number}]', 'missing')} "
                        "(expected: failed, a workaround is not a repair)")
    return problems


def judge_repaired(results: dict[str, Any]) -> list[str]:
    status = _status(results)
    bad = sorted(k for k, v in status.items() if v != "passed")
    problems = [f"{k} {status[k]}" for k in bad]
    if not bad and results["score"] < results["max_score"]:
        problems.append(f"score {results['score']:g}/{results['max_score']:g}")
    return problems


class VariantCopy(Copy):
    """A copy of the lab for one trainee after another."""

    def __init__(self, lab: Lab, index: int):
        super().__init__(lab, index, 0, instance=f"variants-{lab.id}-{index}")

    def prove(self, trainee: str, seed: int) -> Proof:
        t0 = time.monotonic()
        catalogue = load_catalogue(self.lab)
        given = generate(self.lab, seed)
        self.seed, self.values = seed, {"params": given.params, "expected": given.expected}
        faults = [catalogue.faults[f] for f in given.expected["faults"]]
        proof = Proof(trainee, seed, [f.id for f in faults], sum(f.difficulty for f in faults),
                      sorted({f.competency for f in faults}), [], 0.0)

        def case(name: str, run: Callable[[], list[str]]) -> None:
            c0 = time.monotonic()
            try:
                problems = run()
            except TspcrError as exc:
                problems = [str(exc)]
            except Exception as exc:  # noqa: BLE001 - a case that could not run is a result, never lost
                problems = [f"could not run: {type(exc).__name__}: {exc}"]
            proof.cases.append(CaseOutcome(name, not problems, problems, round(time.monotonic() - c0, 2)))

        try:
            self.up()
            for host in self.lab.hosts:
                self.vlab.snapshot(host, INJECTED)
            self.dirty = set()
            case(INJECTED, lambda: judge_injected(self.grade(), len(faults)))
            for number, fault in enumerate(faults, 1):
                for workaround in fault.workarounds:
                    def run(workaround=workaround, number=number, fault=fault) -> list[str]:
                        self.back_to_injected(workaround.run)
                        for host, script in workaround.run.items():
                            self.script(host, render(script, self.values, f"fault {fault.id}: workaround "
                                                                          f"{workaround.id}"), workaround.id)
                        return judge_workaround(self.grade(), number)

                    case(f"{fault.id}/{workaround.id}", run)

            def repaired() -> list[str]:
                self.back_to_injected(self.lab.hosts)
                self.solve_only()
                return judge_repaired(self.grade())

            case("repaired", repaired)
        except TspcrError as exc:
            proof.cases.append(CaseOutcome("up", False, [str(exc)], round(time.monotonic() - t0, 2)))
        proof.seconds = round(time.monotonic() - t0, 2)
        return proof

    def back_to_injected(self, hosts) -> None:
        """The hosts a case changed, and those the next one will, back to their injected files."""
        changed = [h for h in self.lab.hosts if h in self.dirty or h in hosts]
        if changed:
            self.vlab.restore(changed, INJECTED)
        self.dirty = set(hosts)

    def script(self, host: str, text: str, what: str) -> None:
        proc = subprocess.run(self.vlab.console_argv(host, ["sh", "-ec", PRELUDE + text]), capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise UserError(f"{what}: its script failed on {host} (exit {proc.returncode}): "
                            f"{detail[-1] if detail else 'no output'}")


def prove_one(lab_id: str, index: int, trainee: str, seed: int) -> Proof:
    """One trainee's proof on a copy of its own (``variants-<lab>-<index>``), taken down after."""
    from .labfile import load_lab

    copy = VariantCopy(load_lab(lab_id), index)
    try:
        return copy.prove(trainee, seed)
    finally:
        copy.down()


def prove_class(lab: Lab, trainees: list[tuple[str, int]], *, copies: int = 2,
                on_proof: Callable[[Proof], None] | None = None) -> list[Proof]:
    """Every trainee's variant proven (``trainees``: (name, seed) pairs), in the class's order;
    ``copies`` proofs at a time, each in a process of its own (pyinfra, which sets the faults up,
    keeps its state in its process and runs in its main thread only)."""
    if load_catalogue(lab) is None:
        raise UserError(f"lab {lab.id} has no fault catalogue (labs/{lab.id}/catalogue.toml): nothing to prove")
    copies = max(1, min(copies, len(trainees)))
    proofs: dict[int, Proof] = {}

    def done(index: int, proof: Proof) -> None:
        proofs[index] = proof
        if on_proof:
            on_proof(proof)

    if copies == 1:
        for index, (name, seed) in enumerate(trainees):
            done(index, prove_one(lab.id, index, name, seed))
    else:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=copies, mp_context=context) as pool:
            futures = {pool.submit(prove_one, lab.id, index, name, seed): index
                       for index, (name, seed) in enumerate(trainees)}
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                name, seed = trainees[index]
                try:
                    proof = future.result()
                except Exception as exc:  # noqa: BLE001 - a proof that could not run is a result, never lost
                    proof = Proof(name, seed, [], 0, [], [CaseOutcome("up", False, [f"{type(exc).__name__}: {exc}"],
                                                                      0.0)], 0.0)
                done(index, proof)
    return [proofs[i] for i in range(len(trainees))]
