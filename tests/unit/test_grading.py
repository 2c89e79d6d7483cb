"""Class grading: one forked worker per trainee; a worker that dies leaves its trainee an error row
and the others are graded. The real machinery runs, with a stand-in for one trainee's grading (no
virtual lab): the workers are forked after it is patched in, and call it."""

from __future__ import annotations

import json
import os
import signal
import types
from pathlib import Path

import pytest

from tspcr_lab import grading
from tspcr_lab.classes import Classroom, Trainee
from tspcr_lab.errors import UserError
from tspcr_lab.evidence import identity, sign, verify
from tspcr_lab.grading import GradeOptions, grade_class

KEY = b"k" * 64
LAB = types.SimpleNamespace(id="ip-plan", title_in=lambda lang: "Plan IP")
CLASS = Classroom(Path("demo.toml"), "TSPCR démo", 2026, tuple(
    Trainee(f"t0{n}", name) for n, name in enumerate(["Camille Martin", "Noah Bernard", "Léa Dubois", "Ana Costa",
                                                      "Yanis Petit"], 1)))
BIG = "x" * (8 << 20)  # a result far bigger than a pipe's buffer


def results_of(job) -> dict:
    return {
        "lab": "ip-plan", "trainee": job.trainee.name, "seed": job.target["seed"], "score": 7.0, "max_score": 7.0,
        "complete": True, "graded_at": "now",
        "counts": {"passed": 1, "failed": 0, "error": 0, "skipped": 0, "pending": 0},
        "competencies": {"007": {"earned": 7.0, "max": 7.0, "mastered": True, "complete": True}},
        "checks": [{"id": "test_plan", "competency": "007", "points": 7.0, "earned": 7.0, "status": "passed",
                    "message": "", "public": "", "hint": "", "kind": "auto", "title": "", "duration": 0.1,
                    "evidence": [{"host": "pc1", "command": "ip -j addr", "rc": 0, "stdout": BIG, "stderr": "",
                                  "time": "now"}]}],
    }


def fake_grade_one(lab, job, options, plugins=(), verbose=False):
    """One trainee's grading, in the worker: progress events, then t02's worker is killed, t03 cannot
    start, t04's worker exits; the others write a signed folder and return big results."""
    [progress] = plugins
    job.folder.mkdir(parents=True, exist_ok=True)
    progress.pytest_collection_finish(types.SimpleNamespace(items=[1, 2]))
    progress.pytest_runtest_logreport(types.SimpleNamespace(user_properties=[("status", "passed")]))
    trainee_id = job.trainee.id
    if trainee_id == "t02":
        os.kill(os.getpid(), signal.SIGKILL)
    if trainee_id == "t03":
        raise UserError("lab ip-plan-t03 is not up\n(start it)")
    if trainee_id == "t04":
        os._exit(3)
    results = results_of(job)
    (job.folder / "results.json").write_text(json.dumps(results))
    sign(job.folder, options.key, identity(trainee_id=trainee_id, trainee=job.trainee.name, lab=lab.id,
                                           seed=job.target["seed"], place=job.place))
    progress.pytest_runtest_logreport(types.SimpleNamespace(user_properties=[("status", "failed")]))
    return results


@pytest.fixture
def no_hang():
    """A hung class fails the test instead of hanging it."""
    def hung(signum, frame):
        raise TimeoutError("grade_class hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_dead_worker_leaves_an_error_row_and_the_others_are_graded(tmp_path, monkeypatch, no_hang, workers):
    monkeypatch.setattr(grading, "grade_one", fake_grade_one)
    monkeypatch.setattr(grading, "_preload", lambda lab: None)  # what it imports is not needed here
    events = []
    rows = grade_class(LAB, CLASS, tmp_path, GradeOptions(key=KEY), workers=workers,
                       on_event=lambda kind, trainee_id, value: events.append((kind, trainee_id, value)))

    assert [row["trainee"].id for row in rows] == ["t01", "t02", "t03", "t04", "t05"]
    errors = {row["trainee"].id: row["error"] for row in rows if row["results"] is None}
    assert errors == {"t02": "grading of t02 stopped: worker killed by signal 9 (SIGKILL)",
                      "t03": "lab ip-plan-t03 is not up (start it)",
                      "t04": "grading of t04 stopped: worker exited (code 3) without a result"}
    for row in (rows[0], rows[4]):
        assert row["error"] == "" and row["results"] == results_of(grading.class_jobs(LAB, CLASS, tmp_path)[
            int(row["trainee"].id[1:]) - 1])
        assert row["folder"] == tmp_path / row["trainee"].id

    for trainee in CLASS.trainees:  # every trainee's progress, and one "done" each
        mine = [(kind, value) for kind, trainee_id, value in events if trainee_id == trainee.id]
        assert mine[:2] == [("collected", 2), ("check", "passed")] and mine[-1] == ("done", 0)
        assert [kind for kind, _ in mine].count("done") == 1
    assert [(k, v) for k, t, v in events if t == "t01"] == [("collected", 2), ("check", "passed"),
                                                             ("check", "failed"), ("done", 0)]

    assert "grading of t02 stopped: worker killed by signal 9" in (tmp_path / "class.html").read_text()
    assert all(verdict.intact for verdict in verify(tmp_path, KEY))
    assert [f["place"] for f in json.loads((tmp_path / "SIGNATURE.json").read_text())["folders"]] == ["t01", "t05"]
