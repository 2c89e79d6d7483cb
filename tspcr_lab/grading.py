"""Grading: one trainee, or a whole class in parallel.

One trainee's grade is a folder: ``report.html`` (the examiner's, from pytest-html: every finding,
expected values, hints, evidence), ``trainee.html`` (what the trainee may see: in an exam, no
hint and no expected value), ``results.json``, ``evidence/`` (the raw outputs each check read,
with timestamps) and ``SIGNATURE.json`` (HMAC with the examiner's key, see
:mod:`tspcr_lab.evidence`).

A class is graded by a bounded pool of worker processes, one trainee per worker at a time. The
workers are forked from this process once everything is imported, so a trainee costs a fork and
a pytest session, not a Python start; each trainee's checks use one pooled SSH connection per
host. Progress (checks done) comes back through a queue. A trainee whose grading cannot even
start (lab not up...) gets a row saying why; the others are graded normally.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any, Callable

from .classes import Classroom, Trainee, instance_name
from .classreport import class_html, grades_csv, junit_xml, trainee_html
from .errors import TspcrError
from .evidence import sign, write_evidence
from .labfile import Lab
from .runner import run_checks


@dataclasses.dataclass(frozen=True)
class GradeOptions:
    lang: str = "fr"
    exam: bool = False
    marks: str | None = None
    rubric: tuple[str, ...] = ()
    key: bytes = b""
    reconnect: bool = False  # a new SSH connection per check (for comparisons only)


@dataclasses.dataclass(frozen=True)
class Job:
    trainee: Trainee | None
    folder: Path
    target: dict[str, Any]  # instance / inventory / station / seed / trainee (name) / trainee_id


def grade_one(lab: Lab, job: Job, options: GradeOptions, plugins: tuple = (), verbose: bool = False) -> dict[str, Any]:
    """Run the checks of one trainee and write their signed results folder; return results."""
    job.folder.mkdir(parents=True, exist_ok=True)
    extra = ("--reconnect-each-check",) if options.reconnect else ()
    results = run_checks(lab, out_dir=job.folder, verbose=verbose, plugins=plugins, lang=options.lang,
                         marks=options.marks, rubric=options.rubric, extra=extra, **job.target)
    (job.folder / "trainee.html").write_text(
        trainee_html(results, lab.title_in(options.lang), options.lang, exam=options.exam), encoding="utf-8")
    write_evidence(job.folder, results)
    if options.key:
        sign(job.folder, options.key)
    return results


def class_jobs(lab: Lab, classroom: Classroom, out_dir: Path, *, exam_seed: int | None = None,
               inventory: str | None = None) -> list[Job]:
    jobs = []
    for trainee in classroom.trainees:
        target: dict[str, Any] = {"trainee": trainee.name, "trainee_id": trainee.id,
                                  "seed": classroom.seed_of(trainee, exam_seed)}
        if inventory:
            target.update(inventory=inventory, station=trainee.station or None)
        else:
            target.update(instance=instance_name(lab.id, trainee))
        jobs.append(Job(trainee, out_dir / trainee.id, target))
    return jobs


class _Progress:
    """Pytest plugin in a worker: tells the parent how many checks there are and each one done."""

    def __init__(self, events, trainee_id: str):
        self.events, self.trainee_id = events, trainee_id

    def pytest_collection_finish(self, session) -> None:
        self.events.put(("collected", self.trainee_id, len(session.items)))

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        if "status" in props:
            self.events.put(("check", self.trainee_id, props["status"]))


_WORKER: dict[str, Any] = {}


def _init_worker(lab: Lab, options: GradeOptions, events) -> None:
    _WORKER.update(lab=lab, options=options, events=events)


def _work(job: Job) -> tuple[str, dict[str, Any] | None, str]:
    events = _WORKER["events"]
    trainee_id = job.trainee.id if job.trainee else ""
    try:
        results = grade_one(_WORKER["lab"], job, _WORKER["options"], plugins=(_Progress(events, trainee_id),))
        return trainee_id, results, ""
    except TspcrError as exc:
        return trainee_id, None, " ".join(str(exc).split())
    except Exception as exc:  # never lose the other trainees' results
        return trainee_id, None, f"{type(exc).__name__}: {exc}"
    finally:
        events.put(("done", trainee_id, 0))


def _preload(lab: Lab) -> None:
    """Import, once in the parent, what every worker's pytest session needs (pytest and its
    plugins, paramiko, the lab's parameters): forked workers then start with all of it."""
    import importlib
    import importlib.metadata

    for entry in importlib.metadata.entry_points(group="pytest11"):
        try:
            importlib.import_module(entry.value.split(":")[0])
        except Exception:  # noqa: BLE001 - pytest itself will say what is wrong with a plugin
            pass
    for name in ("context", "plugin", "reporting", "targets", "transport.ssh", "virtual.lab"):
        importlib.import_module(f"{__package__}.{name}")
    from .params import generate
    from .referential import load

    load()
    generate(lab, 0)


def grade_class(lab: Lab, classroom: Classroom, out_dir: Path, options: GradeOptions, *,
                exam_seed: int | None = None, inventory: str | None = None, workers: int | None = None,
                on_event: Callable[[str, str, Any], None] | None = None) -> list[dict[str, Any]]:
    """Grade every trainee; write the class files; return one row per trainee (class order)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = class_jobs(lab, classroom, out_dir, exam_seed=exam_seed, inventory=inventory)
    workers = max(1, min(len(jobs), workers or default_workers()))
    _preload(lab)
    context = multiprocessing.get_context("fork")
    events = context.SimpleQueue()
    finished: dict[str, tuple[dict[str, Any] | None, str]] = {}

    def pump() -> None:
        while True:
            kind, trainee_id, value = events.get()
            if kind == "stop":
                return
            if on_event:
                on_event(kind, trainee_id, value)

    listener = threading.Thread(target=pump, daemon=True)
    listener.start()
    try:
        with context.Pool(workers, initializer=_init_worker, initargs=(lab, options, events),
                          maxtasksperchild=1) as pool:
            for trainee_id, results, error in pool.imap_unordered(_work, jobs):
                finished[trainee_id] = (results, error)
    finally:
        events.put(("stop", "", 0))
        listener.join(timeout=5)

    rows = []
    for job in jobs:
        results, error = finished.get(job.trainee.id, (None, "not graded"))
        rows.append({"trainee": job.trainee, "results": results, "error": error, "folder": job.folder})
    write_class_files(lab, classroom, out_dir, rows, options)
    return rows


def write_class_files(lab: Lab, classroom: Classroom, out_dir: Path, rows: list[dict[str, Any]],
                      options: GradeOptions) -> None:
    (out_dir / "class.html").write_text(
        class_html(lab.id, lab.title_in(options.lang), classroom.name, rows, options.lang), encoding="utf-8")
    (out_dir / "grades.csv").write_text(grades_csv(lab.id, rows), encoding="utf-8")
    (out_dir / "junit.xml").write_text(junit_xml(lab.id, rows), encoding="utf-8")
    if options.key:
        sign(out_dir, options.key)


def default_workers() -> int:
    """Grading mostly waits: on hosts' answers, and on time-outs a check must sit through (a DNS
    server that does not answer, a ping that gets no reply). Four workers per core, at most 16;
    each costs ~25 MiB of its own (forked from a parent that has everything imported)."""
    return max(2, min(16, 4 * (os.cpu_count() or 1)))
