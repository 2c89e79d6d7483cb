"""What the portal serves, apart from HTTP: the seats (a trainee, their lab instance, their code),
their hosts, self-checks, reboots, and grading the class when the exam ends.

The web application (:mod:`.app`) and the SSH endpoint (:mod:`.sshd`) both go through a
:class:`Portal`; neither touches the virtual lab, pytest or the clock on its own.

Self-checks and grading run in processes of their own (``python -m pytest`` with the lab's
checks, ``tspcr-lab grade``): pytest is not made to run several sessions at once in one process,
and the server must keep answering keystrokes while a check waits on a host.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..classes import Classroom, Trainee, instance_name
from ..classreport import check_name
from ..errors import UserError
from ..exitcodes import ExitStatus
from ..i18n import t
from ..labfile import Lab
from ..params import generate
from ..runner import pytest_args
from ..sheet import render_instructions
from .access import TRAINEE_FAILURES, RateLimiter, Sessions, access_code, instructor_code, same_code
from .exam import ExamClock, prune_clocks
from .recording import RecordingStore
from .terminals import TerminalKey, TerminalManager

log = logging.getLogger("tspcr_lab.portal")

CHECK_INTERVAL = 20.0  # seconds between two self-checks of one trainee
CHECKS_AT_ONCE = 4  # self-checks of the whole class running at the same time
CHECK_TIMEOUT = 600.0
SINGLE_ID = "trainee"  # the trainee id of a single trainee's instance (serve without --class)
CONNECTED_FOR = 15.0  # seconds: a page that polled this recently counts as connected


@dataclasses.dataclass
class Seat:
    trainee: Trainee
    instance: str
    seed: int
    code: str
    last_check: dict[str, Any] | None = None  # {"at", "score", "max", "competencies": {...}}
    last_seen: float = 0.0  # the trainee's page asked something
    last_activity: float = 0.0  # the trainee typed in a terminal
    checking: bool = False
    check_started: float = 0.0


@dataclasses.dataclass(frozen=True)
class Settings:
    lab: Lab
    classroom: Classroom | None
    instance: str | None
    exam: bool
    duration_minutes: float
    out_dir: Path | None
    key: bytes
    key_file: str | None
    exam_seed: int | None = None
    lang: str = "fr"


def _instance_state(instance: str, lab_id: str, class_file):
    from ..virtual.lab import load_instance_state

    try:
        return load_instance_state(instance, lab_id)
    except UserError:
        how = f" --class {class_file}" if class_file else ""
        raise UserError(f"lab {instance} is not up: start it first (tspcr-lab up {lab_id}{how})") from None


class Portal:
    def __init__(self, settings: Settings, *, state_dir: Path):
        self.settings = settings
        self.lab = settings.lab
        self.seats: dict[str, Seat] = {}
        self.params: dict[str, dict[str, Any]] = {}
        if settings.classroom is not None:
            classroom = settings.classroom
            exam_seed = settings.exam_seed if settings.exam_seed is not None else classroom.seed
            if exam_seed is None:
                raise UserError(f"class {classroom.path}: no exam seed (set [class] seed or pass --seed)")
            roster = str(classroom.path.resolve())
            for trainee in classroom.trainees:
                self._seat(trainee, instance_name(self.lab.id, trainee), classroom.seed_of(trainee, exam_seed),
                           exam_seed)
        else:
            instance = settings.instance or self.lab.id
            state = _instance_state(instance, self.lab.id, "")
            exam_seed = state.seed
            roster = f"instance:{instance}"
            self._seat(Trainee(SINGLE_ID, state.trainee or SINGLE_ID), instance, state.seed, state.seed)
        self.exam_seed = exam_seed
        self.roster = roster
        self.instructor_code = instructor_code(settings.key, self.lab.id, exam_seed, roster)
        # The clock belongs to these labs: labs taken down and built again start a new session.
        created = []
        for seat in self.seats.values():
            state = _instance_state(seat.instance, self.lab.id, settings.classroom.path if settings.classroom else "")
            if state.seed != seat.seed:
                raise UserError(f"{seat.instance} is up with seed {state.seed}, not this exam's {seat.seed} "
                                f"(give serve the --seed given to up)")
            created.append(f"{seat.instance}@{state.created}")
        roster += "|" + ",".join(created)
        if settings.exam and not settings.duration_minutes:
            raise UserError("an exam needs its length: --duration MINUTES")
        if settings.exam and settings.out_dir is None:
            raise UserError("an exam needs a folder for the grades: --out DIR")
        # one clock per session: these labs (as built), this seed, exam or practice
        digest = hashlib.sha256(f"{roster}|{exam_seed}|{settings.exam}".encode()).hexdigest()[:10]
        prune_clocks(state_dir)
        self.clock = ExamClock.open(state_dir / f"{self.lab.id}-{digest}.json", lab=self.lab.id, roster=roster,
                                    seed=exam_seed, exam=settings.exam, duration=settings.duration_minutes * 60)
        self.sessions = Sessions()
        self.limiter = RateLimiter(limits={"trainee": TRAINEE_FAILURES})
        # Every terminal recorded beside the clock: this session's, kept and pruned with it.
        self.recordings = RecordingStore(self.clock.path.with_suffix(".recordings"), roster=roster)
        self.terminals = TerminalManager(self._console, recorder=self._recorder)
        self.checks = asyncio.Semaphore(CHECKS_AT_ONCE)
        self.grading: asyncio.Task | None = None
        self.changed = asyncio.Event()  # something an instructor's live view shows has changed

    def _seat(self, trainee: Trainee, instance: str, seed: int, exam_seed: int) -> None:
        code = access_code(self.settings.key, self.lab.id, exam_seed, trainee.id)
        self.seats[trainee.id] = Seat(trainee, instance, seed, code)

    # -- who -----------------------------------------------------------------------------------
    def login(self, trainee_id: str, code: str, address: str) -> tuple[str, Any]:
        """("ok", session) | ("refused", None) | ("limited", seconds) | ("over", None)."""
        trainee_id = trainee_id.strip().lower()[:32]
        keys = (f"trainee:{trainee_id}", f"address:{address}")
        wait = self.limiter.retry_after(*keys)
        if wait > 0:
            return "limited", wait
        seat = self.seats.get(trainee_id)
        expected = seat.code if seat else access_code(self.settings.key, self.lab.id, self.exam_seed, "\0")
        if not same_code(code, expected) or seat is None:
            self.limiter.failed(*keys)
            return "refused", None
        if self.clock.is_over(trainee_id):
            return "over", None
        return "ok", self.sessions.open("trainee", trainee_id)

    def instructor_login(self, code: str, address: str) -> tuple[str, Any]:
        keys = ("instructor", f"address:{address}")
        wait = self.limiter.retry_after(*keys)
        if wait > 0:
            return "limited", wait
        if not same_code(code, self.instructor_code):
            self.limiter.failed(*keys)
            return "refused", None
        return "ok", self.sessions.open("instructor")

    def may_work(self, trainee_id: str) -> bool:
        return trainee_id in self.seats and not self.clock.is_over(trainee_id)

    def seen(self, trainee_id: str, typed: bool = False) -> None:
        seat = self.seats[trainee_id]
        seat.last_seen = time.time()
        if typed:
            seat.last_activity = seat.last_seen

    # -- hosts ---------------------------------------------------------------------------------
    def _vlab(self, trainee_id: str):
        from ..virtual.lab import VirtualLab

        return VirtualLab(self.lab, self.seats[trainee_id].instance)

    def hosts(self, trainee_id: str) -> list[dict[str, Any]]:
        """The trainee's hosts, in the lab's order, each running or not."""
        try:
            status = self._vlab(trainee_id).status()["hosts"]
        except UserError:  # the instance is not up at all
            status = {}
        return [{"name": name, "role": host.role, "running": bool(status.get(name, {}).get("running"))}
                for name, host in self.lab.hosts.items()]

    def _console(self, trainee_id: str, host: str) -> tuple[list[str], dict[str, str]]:
        from ..virtual.lab import console_command, console_env

        if host not in self.lab.hosts:
            raise UserError(f"no host {host}")
        argv = console_command(self.seats[trainee_id].instance, host, ["/bin/bash", "--login"], tty=True)
        env = dict(console_env())
        env["TERM"] = "xterm-256color"
        return argv, env

    def _recorder(self, key: TerminalKey, cols: int, rows: int):
        """A new terminal's recording (None if it cannot be written: the terminal works the same)."""
        seat = self.seats[key.trainee]
        how = "SSH" if key.channel.startswith("ssh") else "web"
        title = f"{seat.trainee.name} ({key.trainee}) · {key.host} · {self.lab.id} · {how}"
        return self.recordings.open(key.trainee, key.host, key.channel, cols=cols, rows=rows, title=title,
                                    env={"TERM": "xterm-256color", "SHELL": "/bin/bash"})

    def terminal(self, trainee_id: str, host: str, channel: str = "web", cols: int = 80, rows: int = 24):
        return self.terminals.get(TerminalKey(trainee_id, host, channel), cols, rows)

    async def reboot(self, trainee_id: str, host: str) -> None:
        if host not in self.lab.hosts:
            raise UserError(f"no host {host}")
        self.terminals.close_host(trainee_id, host)
        vlab = self._vlab(trainee_id)
        await asyncio.get_running_loop().run_in_executor(None, vlab.reboot, host)
        self.changed.set()

    # -- what the trainee reads ----------------------------------------------------------------
    def instructions(self, trainee_id: str, lang: str) -> str:
        seat = self.seats[trainee_id]
        if seat.instance not in self.params:
            self.params[seat.instance] = generate(self.lab, seat.seed).params
        return render_instructions(self.lab, self.params[seat.instance], lang)

    # -- self-check ----------------------------------------------------------------------------
    async def self_check(self, trainee_id: str, lang: str) -> tuple[str, Any]:
        """("ok", rows) | ("busy", None) | ("wait", seconds) | ("closed", None) | ("error", message)."""
        if self.settings.exam:
            return "closed", None
        seat = self.seats[trainee_id]
        if seat.checking:
            return "busy", None
        wait = seat.check_started + CHECK_INTERVAL - time.monotonic()
        if seat.check_started and wait > 0:
            return "wait", wait
        seat.checking, seat.check_started = True, time.monotonic()
        try:
            async with self.checks:
                results = await self._run_checks(seat, lang)
        except UserError as exc:
            return "error", str(exc)
        finally:
            seat.checking = False
        seat.last_check = {
            "at": time.time(), "score": results["score"], "max": results["max_score"],
            "competencies": {code: {"earned": c["earned"], "max": c["max"], "mastered": c["mastered"]}
                             for code, c in results["competencies"].items()}}
        self.changed.set()
        rows = [{"name": check_name(check, lang), "status": check["status"], "status_label": t(check["status"], lang),
                 "competency": check["competency"], "earned": check["earned"], "points": check["points"],
                 "message": check["message"], "hint": check.get("hint") or ""} for check in results["checks"]]
        return "ok", {"checks": rows, "score": results["score"], "max": results["max_score"]}

    async def _run_checks(self, seat: Seat, lang: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="tspcr-selfcheck-") as folder:
            results = Path(folder) / "results.json"
            args = pytest_args(self.lab, lang=lang, results=results, instance=seat.instance, seed=seat.seed,
                               trainee=seat.trainee.name, trainee_id=seat.trainee.id)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pytest", *args, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
            try:
                output, _ = await asyncio.wait_for(process.communicate(), CHECK_TIMEOUT)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                await process.wait()
                raise UserError("the self-check took too long") from None
            if not results.is_file():
                last = output.decode(errors="replace").strip().splitlines()[-1:]
                log.warning("self-check of %s did not run: %s", seat.trainee.id, " ".join(last))
                raise UserError("the self-check could not run")
            return json.loads(results.read_text(encoding="utf-8"))

    # -- the end -------------------------------------------------------------------------------
    def end_access(self, trainee_id: str) -> None:
        """The trainee's time is up (or the class is graded): terminals closed, sessions gone."""
        self.clock.end(trainee_id)
        self.terminals.close_trainee(trainee_id)
        self.sessions.close_trainee(trainee_id)
        self.changed.set()

    def tick(self) -> None:
        """Called every second: end the access of trainees whose time is up; once everyone's is,
        grade the class (an exam, once)."""
        if not self.clock.duration:
            return
        for tid in self.seats:
            if tid not in self.clock.ended and self.clock.is_over(tid):
                self.end_access(tid)
        if (self.settings.exam and not self.clock.final_graded and not self.grading_now()
                and all(tid in self.clock.ended for tid in self.seats)
                and not self._failed_after_end()):  # not again every second: the instructor retries
            self.grade()

    def _failed_after_end(self) -> bool:
        grading = self.clock.grading
        return grading.get("state") == "failed" and grading.get("finished", 0) >= max(self.clock.ended.values())

    def grading_now(self) -> bool:
        return self.grading is not None and not self.grading.done()

    def grade(self) -> asyncio.Task:
        """Grade the class now, into --out (the same outputs as ``tspcr-lab grade --class``)."""
        if self.grading_now():
            return self.grading
        if self.settings.out_dir is None:
            raise UserError("no folder for the grades: start serve with --out DIR")
        self.grading = asyncio.get_running_loop().create_task(self._grade())
        return self.grading

    def grade_command(self) -> list[str]:
        settings = self.settings
        argv = [sys.executable, "-m", "tspcr_lab", "grade", self.lab.id, "--out", str(settings.out_dir),
                "--lang", settings.lang]
        if settings.classroom is not None:
            argv += ["--class", str(settings.classroom.path), "--seed", str(self.exam_seed)]
        else:
            argv += ["--instance", self.seats[SINGLE_ID].instance]
        if settings.exam:
            argv.append("--exam")
        argv += ["--recordings", str(self.recordings.root)]  # each trainee's, copied beside their grade
        if settings.key_file:
            argv += ["--key", settings.key_file]
        return argv

    async def _grade(self) -> None:
        self.clock.grading = {"state": "running", "started": time.time()}
        self.clock.save()
        self.changed.set()
        process = await asyncio.create_subprocess_exec(
            *self.grade_command(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True, env={**os.environ, "COLUMNS": "160"})
        output, _ = await process.communicate()
        text = output.decode(errors="replace").strip()
        # beside the clock, not in --out: the signed folder holds only what grade wrote
        self.clock.path.with_suffix(".grading.log").write_text(text + "\n", encoding="utf-8")
        # grade's exit codes: graded (OK, CHECKS_FAILED; INCOMPLETE: written, some checks could
        # not run, said in class.html); anything else: not graded, the log says why
        done = process.returncode in (ExitStatus.OK, ExitStatus.CHECKS_FAILED, ExitStatus.INCOMPLETE)
        state = "incomplete" if process.returncode == ExitStatus.INCOMPLETE else "done" if done else "failed"
        self.clock.grading = {"state": state, "code": process.returncode, "finished": time.time(),
                              "message": "" if done else (text.splitlines()[-1:] or [""])[0][:300]}
        if done:
            self.clock.graded_at = time.time()
        self.clock.save()
        self.changed.set()

    # -- the instructor's view -----------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for tid, seat in self.seats.items():
            hosts = self.hosts(tid)
            remaining = self.clock.remaining(tid)
            out.append({
                "id": tid, "name": seat.trainee.name, "instance": seat.instance,
                "connected": self.terminals.viewers(tid) > 0 or time.time() - seat.last_seen < CONNECTED_FOR,
                "terminals": self.terminals.viewers(tid),
                "last_activity": seat.last_activity or None,
                "hosts": [{"name": h["name"], "running": h["running"]} for h in hosts],
                "hosts_up": sum(1 for h in hosts if h["running"]), "hosts_total": len(hosts),
                "remaining": None if remaining is None else round(remaining),
                "ended": tid in self.clock.ended,
                "check": seat.last_check,
                "report": (f"/reports/{tid}/report.html" if self.settings.classroom is not None else "/reports/report.html")
                if self.clock.graded_at else None,
                "recordings": self.recordings.count(tid), "recordings_url": f"/instructor/recordings/{tid}",
            })
        return out

    def summary(self) -> dict[str, Any]:
        return {"lab": self.lab.id, "exam": self.settings.exam, "graded_at": self.clock.graded_at or None,
                "grading": self.clock.grading, "class_report": "/reports/class.html"
                if self.clock.graded_at and self.settings.classroom is not None else None,
                "rows": self.rows()}

    async def close(self) -> None:
        await self.terminals.close_all()
        if self.grading is not None and not self.grading.done():
            self.grading.cancel()
