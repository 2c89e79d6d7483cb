"""Grading: one trainee, or a whole class in parallel.

One trainee's grade is a folder: ``report.html`` (the examiner's, from pytest-html: every finding,
expected values, hints, evidence), ``trainee.html`` (what the trainee may see: in an exam, no
hint and no expected value), ``results.json``, ``evidence/`` (the raw outputs each check read,
with timestamps), ``recordings/`` (with ``--recordings``: the trainee's terminal sessions in the
portal, asciicast v2, and ``replay.html``) and ``SIGNATURE.json`` (HMAC with the examiner's key, see
:mod:`tspcr_lab.evidence`).

A class is graded by worker processes, one per trainee, a bounded number at a time. Each is
forked from this process once everything is imported, so a trainee costs a fork and a pytest
session, not a Python start.
Progress (checks done) and the trainee's results come back through the worker's own pipe. A
trainee whose grading cannot even start (lab not up...), or whose worker dies (killed by the
OOM killer...), gets a row saying why; the others are graded normally.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Callable

from .classes import Classroom, Trainee, instance_name
from .classreport import class_html, grades_csv, junit_xml, trainee_html
from .errors import TspcrError
from .evidence import identity, sign, write_evidence
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
    recordings: Path | None = None  # the portal's terminal recordings of the session (one folder per trainee)


@dataclasses.dataclass(frozen=True)
class Job:
    trainee: Trainee | None
    folder: Path
    target: dict[str, Any]  # instance / inventory / station / seed / trainee (name) / trainee_id
    place: str = ""  # the folder's path from the class folder ("t01"); "" when graded alone


def grade_one(lab: Lab, job: Job, options: GradeOptions, plugins: tuple = (), verbose: bool = False) -> dict[str, Any]:
    """Run the checks of one trainee and write their signed results folder; return results."""
    job.folder.mkdir(parents=True, exist_ok=True)
    extra = ("--reconnect-each-check",) if options.reconnect else ()
    if options.recordings is not None:  # copied first: the reports link them
        from .portal.recording import export, trainee_source
        from .reporting import Recordings

        entries = export(trainee_source(options.recordings, job.trainee.id if job.trainee else None),
                         job.folder / "recordings", lang=options.lang,
                         title=job.trainee.name if job.trainee else str(job.target.get("trainee") or ""))
        plugins = (*plugins, Recordings(entries))
    results = run_checks(lab, out_dir=job.folder, verbose=verbose, plugins=plugins, lang=options.lang,
                         marks=options.marks, rubric=options.rubric, extra=extra, **job.target)
    (job.folder / "trainee.html").write_text(
        trainee_html(results, lab.title_in(options.lang), options.lang, exam=options.exam), encoding="utf-8")
    write_evidence(job.folder, results)
    if options.key:
        sign(job.folder, options.key, identity(
            trainee_id=job.trainee.id if job.trainee else "", trainee=results.get("trainee") or "",
            lab=results.get("lab") or lab.id, seed=results.get("seed"), place=job.place))
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
        jobs.append(Job(trainee, out_dir / trainee.id, target, place=trainee.id))
    return jobs


class _Progress:
    """Pytest plugin in a worker: tells the parent how many checks there are and each one done."""

    def __init__(self, conn):
        self.conn = conn

    def pytest_collection_finish(self, session) -> None:
        self.conn.send(("collected", len(session.items)))

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        if "status" in props:
            self.conn.send(("check", props["status"]))


def _work(lab: Lab, job: Job, options: GradeOptions, conn) -> None:
    """A worker (a forked process, one per trainee): grade, send the outcome, exit."""
    try:
        try:
            results, error = grade_one(lab, job, options, plugins=(_Progress(conn),)), ""
        except TspcrError as exc:
            results, error = None, " ".join(str(exc).split())
        except Exception as exc:  # never lose the other trainees' results
            results, error = None, f"{type(exc).__name__}: {exc}"
        conn.send(("result", (results, error)))
    finally:
        conn.close()


@dataclasses.dataclass
class _Worker:
    job: Job
    process: Any
    conn: Any  # the parent's end of the worker's pipe; None once the worker closed it
    outcome: tuple[dict[str, Any] | None, str] | None = None

    @property
    def trainee_id(self) -> str:
        return self.job.trainee.id if self.job.trainee else ""

    def receive(self, on_event: Callable[[str, str, Any], None] | None) -> None:
        """Read one message (the worker is sending it: a big result is read while it is written)."""
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):  # the worker closed its end, or died (maybe halfway through a message)
            self.conn.close()
            self.conn = None
            return
        if kind == "result":
            self.outcome = value
        elif on_event:
            on_event(kind, self.trainee_id, value)

    def stopped(self) -> str:
        """Why a worker that is gone gave no result."""
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = f" ({signal.Signals(-code).name})"
            except ValueError:
                name = ""
            how = f"worker killed by signal {-code}{name}"
        else:
            how = f"worker exited (code {code}) without a result"
        return f"grading of {self.trainee_id} stopped: {how}"


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
    finished = _run_workers(lab, jobs, options, max(1, min(len(jobs), workers or default_workers())), on_event)
    rows = []
    for job in jobs:
        results, error = finished.get(job.trainee.id, (None, "not graded"))
        rows.append({"trainee": job.trainee, "results": results, "error": error, "folder": job.folder})
    write_class_files(lab, classroom, out_dir, rows, options)
    return rows


def _run_workers(lab: Lab, jobs: list[Job], options: GradeOptions, workers: int,
                 on_event: Callable[[str, str, Any], None] | None) -> dict[str, tuple[dict[str, Any] | None, str]]:
    """One forked process per job, ``workers`` at a time, each with its own pipe back: progress
    events, then its outcome. A process that ends without giving one (killed by a signal, exited)
    leaves its trainee an error; the others go on. Nothing is waited for but a pipe's data and a
    process's end, so a dead worker cannot hang the class."""
    _preload(lab)
    context = multiprocessing.get_context("fork")
    queue, running = list(jobs), []
    finished: dict[str, tuple[dict[str, Any] | None, str]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(lab, job, options, writer), daemon=True,
                                          name=f"grade-{job.trainee.id if job.trainee else ''}")
                process.start()
                writer.close()  # the worker holds the only writing end: its death closes the pipe
                running.append(_Worker(job, process, reader))
            ready = set(wait([w.process.sentinel for w in running] + [w.conn for w in running if w.conn]))
            for worker in list(running):
                if worker.conn is not None and worker.conn in ready:
                    worker.receive(on_event)
                if worker.process.sentinel not in ready:
                    continue
                while worker.conn is not None and worker.conn.poll():  # what it sent before it ended
                    worker.receive(on_event)
                if worker.conn is not None:
                    worker.conn.close()
                worker.process.join()
                running.remove(worker)
                finished[worker.trainee_id] = worker.outcome or (None, worker.stopped())
                if on_event:
                    on_event("done", worker.trainee_id, 0)
    finally:
        for worker in running:  # interrupted: no worker outlives the class
            worker.process.kill()
            worker.process.join()
            if worker.conn is not None:
                worker.conn.close()
    return finished


def write_class_files(lab: Lab, classroom: Classroom, out_dir: Path, rows: list[dict[str, Any]],
                      options: GradeOptions) -> None:
    (out_dir / "class.html").write_text(
        class_html(lab.id, lab.title_in(options.lang), classroom.name, rows, options.lang), encoding="utf-8")
    (out_dir / "grades.csv").write_text(grades_csv(lab.id, rows), encoding="utf-8")
    (out_dir / "junit.xml").write_text(junit_xml(lab.id, rows), encoding="utf-8")
    if options.key:  # after the trainees' folders: it lists them, with their identities and signatures
        sign(out_dir, options.key, {"lab": lab.id, "class": classroom.name})


def default_workers() -> int:
    """Grading mostly waits: on hosts' answers, and on time-outs a check must sit through (a DNS
    server that does not answer, a ping that gets no reply). Four workers per core, at most 16;
    each costs ~25 MiB of its own (forked from a parent that has everything imported)."""
    return max(2, min(16, 4 * (os.cpu_count() or 1)))
