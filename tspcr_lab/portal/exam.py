"""The exam's clock, kept on disk so that a server stopped and started again mid-exam goes on with
the same start, the same extensions and the same ends (the labs themselves never stop with it).

State file (JSON, written atomically)::

    {"lab": "ip-plan", "roster": "<class file or instance>", "seed": 2026, "exam": true,
     "duration": 5400, "started_at": 1764633600.0,
     "extensions": {"*": 600, "t01": 300},      # seconds added for everyone, for one trainee
     "ended": {"t01": 1764639600.0},            # when each trainee's access ended
     "graded_at": 0, "grading": {"state": "done", "code": 0, "message": ""}}
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..errors import UserError


def prune(folder: Path, is_current) -> list[Path]:
    """Remove the saved clocks whose labs are gone (taken down, or built again since), with their
    grading log and their terminal recordings (grading copies these into the grades): a clock
    belongs to labs as built (its roster ends with ``|instance@created,...``), ``is_current(instance,
    created)`` tells whether that instance is still the one. A session's recordings whose clock
    was removed by hand are judged by the roster they keep (``session.json``), the same way.
    Returns what was removed."""
    removed = []
    if not folder.is_dir():
        return removed

    def current(document: Path) -> bool:
        try:
            roster = json.loads(document.read_text(encoding="utf-8"))["roster"]
            built = [item.rsplit("@", 1) for item in roster.rsplit("|", 1)[1].split(",")]
            return all(is_current(name, float(created)) for name, created in built)
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return False

    def remove_folder(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)

    for path in folder.glob("*.json"):
        if not current(path):
            for stale in (path, path.with_suffix(".grading.log")):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
            remove_folder(path.with_suffix(".recordings"))  # the session's terminal recordings (see .recording)
            removed.append(path)
    for recordings in folder.glob("*.recordings"):
        if not recordings.with_suffix(".json").exists() and not current(recordings / "session.json"):
            remove_folder(recordings)
            removed.append(recordings)
    return removed


def prune_clocks(state_dir: Path) -> list[Path]:
    """Forget the portal clocks of labs that are no longer up as they were built."""
    from ..virtual.lab import STATE_ROOT

    def is_current(instance: str, created: float) -> bool:
        try:
            return json.loads((STATE_ROOT / instance / "state.json").read_text())["created"] == created
        except (OSError, ValueError, KeyError):
            return False

    return prune(state_dir, is_current)


@dataclasses.dataclass
class ExamClock:
    path: Path
    lab: str
    roster: str
    seed: int
    exam: bool
    duration: float  # seconds; 0 in practice mode without --duration: no end
    started_at: float
    extensions: dict[str, float] = dataclasses.field(default_factory=dict)
    ended: dict[str, float] = dataclasses.field(default_factory=dict)
    graded_at: float = 0.0
    grading: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, *, lab: str, roster: str, seed: int, exam: bool, duration: float,
             clock=time.time) -> "ExamClock":
        """The clock of this exam: the saved one if it is the same exam (lab, roster, seed, mode),
        else a new one started now. A saved clock of another exam is refused, not overwritten."""
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                saved = cls(path=path, **{k: data[k] for k in (
                    "lab", "roster", "seed", "exam", "duration", "started_at", "extensions", "ended",
                    "graded_at", "grading")})
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise UserError(f"the exam's saved clock {path} is unreadable ({exc}): remove it to start anew") from None
            if (saved.lab, saved.roster, saved.seed, saved.exam) != (lab, roster, seed, exam):
                raise UserError(f"{path} holds the clock of another session (lab {saved.lab}, seed {saved.seed}, "
                                f"{'exam' if saved.exam else 'practice'}): remove it to start anew")
            if duration and duration != saved.duration:
                raise UserError(f"this exam was started with --duration {saved.duration / 60:g}: "
                                f"give the same, or extend the time from /instructor")
            return saved
        created = cls(path=path, lab=lab, roster=roster, seed=seed, exam=exam, duration=duration,
                      started_at=clock())
        created.save()
        return created

    def save(self) -> None:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "path"}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)

    # -- time -------------------------------------------------------------------------------------
    def deadline(self, trainee: str) -> float | None:
        """When the trainee's time is up (None: no end)."""
        if not self.duration:
            return None
        return (self.started_at + self.duration + self.extensions.get("*", 0.0)
                + self.extensions.get(trainee, 0.0))

    def remaining(self, trainee: str, now: float | None = None) -> float | None:
        deadline = self.deadline(trainee)
        if deadline is None:
            return None
        return max(0.0, deadline - (time.time() if now is None else now))

    def is_over(self, trainee: str, now: float | None = None) -> bool:
        """The trainee's access has ended, or their time is up."""
        return trainee in self.ended or self.is_over_by_time(trainee, now)

    def extend(self, trainee: str | None, minutes: float) -> None:
        """More time for one trainee (or everyone: None). A trainee whose access already ended
        gets it back, unless the class was graded."""
        if not self.duration:
            raise UserError("this session has no end time to extend")
        if self.final_graded:
            raise UserError("the exam is over and graded: its time can no longer be extended")
        key = trainee or "*"
        self.extensions[key] = self.extensions.get(key, 0.0) + minutes * 60
        for tid in list(self.ended):
            if trainee is None or tid == trainee:
                if not self.is_over_by_time(tid):
                    del self.ended[tid]
        self.save()

    def is_over_by_time(self, trainee: str, now: float | None = None) -> bool:
        """The trainee's time is up (whether or not their access was ended yet)."""
        remaining = self.remaining(trainee, now)
        return remaining is not None and remaining <= 0

    @property
    def final_graded(self) -> bool:
        """Graded after every trainee's end (a grading asked for before is not the final one)."""
        return bool(self.graded_at and self.ended and self.graded_at >= max(self.ended.values()))

    def end(self, trainee: str, when: float | None = None) -> None:
        if trainee not in self.ended:
            self.ended[trainee] = time.time() if when is None else when
            self.save()
