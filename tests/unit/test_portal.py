"""The portal's parts that need no lab: access codes, rate limits, sessions, the exam clock, the
pages' escaping, and terminals on a real pty (a real shell, not a lab host)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.portal import pages
from tspcr_lab.portal.access import RateLimiter, Sessions, access_code, instructor_code, normalize, same_code
from tspcr_lab.portal.exam import ExamClock
from tspcr_lab.portal.terminals import Terminal, TerminalKey, TerminalManager, _session_members

KEY = b"k" * 64


# -- access codes ---------------------------------------------------------------------------------
def test_codes_are_stable_and_differ_by_trainee_exam_and_key():
    code = access_code(KEY, "ip-plan", 2026, "t01")
    assert re.fullmatch(r"[A-Z2-7]{5}-[A-Z2-7]{5}", code)
    assert code == access_code(KEY, "ip-plan", 2026, "t01")
    others = {access_code(KEY, "ip-plan", 2026, "t02"), access_code(KEY, "ip-plan", 2027, "t01"),
              access_code(KEY, "shares", 2026, "t01"), access_code(b"j" * 64, "ip-plan", 2026, "t01")}
    assert code not in others and len(others) == 4
    assert instructor_code(KEY, "ip-plan", 2026, "class") not in (code, *others)


def test_a_typed_code_is_read_as_people_type_it():
    code = access_code(KEY, "ip-plan", 2026, "t01")
    assert same_code(code.lower().replace("-", " "), code)
    assert same_code(f"  {code[:3]} {code[3:]}  ", code)
    assert normalize("ab0-1c8") == "ABOICB"
    assert not same_code(code[:-1], code)
    assert not same_code("", code)
    assert not same_code("x" * 10_000, code)


def test_login_failures_are_limited_per_key_and_leave_the_window():
    now = [1000.0]
    limiter = RateLimiter(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("trainee:t01", "address:1.2.3.4") == 0
        limiter.failed("trainee:t01", "address:1.2.3.4")
    assert limiter.retry_after("trainee:t01") == pytest.approx(60)
    assert limiter.retry_after("address:1.2.3.4") > 0
    assert limiter.retry_after("trainee:t02", "address:5.6.7.8") == 0  # others are not locked out
    now[0] += 61
    assert limiter.retry_after("trainee:t01", "address:1.2.3.4") == 0


def test_sessions_are_random_forgotten_on_logout_and_after_idle_time():
    now = [0.0]
    sessions = Sessions(clock=lambda: now[0])
    a, b = sessions.open("trainee", "t01"), sessions.open("trainee", "t01")
    assert a.token != b.token and a.csrf != b.csrf and len(a.token) >= 40
    assert sessions.get(a.token) is a and sessions.get("forged") is None and sessions.get(None) is None
    sessions.close(a.token)
    assert sessions.get(a.token) is None and sessions.get(b.token) is b
    sessions.close_trainee("t01")
    assert sessions.get(b.token) is None
    c = sessions.open("instructor")
    now[0] += 13 * 3600
    assert sessions.get(c.token) is None


# -- the exam clock -------------------------------------------------------------------------------
def _clock(path, **over):
    options = dict(lab="ip-plan", roster="class|a@1", seed=7, exam=True, duration=3600)
    options.update(over)
    return ExamClock.open(path, **options)


def test_the_clock_survives_a_restart_and_refuses_another_exams_file(tmp_path):
    path = tmp_path / "clock.json"
    clock = _clock(path)
    clock.extend("t01", 10)
    again = _clock(path, duration=0)  # restarted without --duration: the saved one
    assert again.started_at == clock.started_at and again.duration == 3600
    assert again.deadline("t01") == clock.started_at + 3600 + 600
    assert again.deadline("t02") == clock.started_at + 3600
    with pytest.raises(UserError, match="another session"):
        _clock(path, seed=8)
    with pytest.raises(UserError, match="--duration 60"):
        _clock(path, duration=1800)
    path.write_text("{not json")
    with pytest.raises(UserError, match="unreadable"):
        _clock(path)


def test_time_up_extensions_and_the_final_grading(tmp_path):
    clock = _clock(tmp_path / "c.json", duration=60)
    start = clock.started_at
    assert not clock.is_over("t01", now=start + 59) and clock.is_over("t01", now=start + 61)
    clock.started_at = start - 120  # two minutes ago: time is up for everyone
    clock.end("t01")
    clock.end("t02")
    clock.extend("t01", 5)  # t01 gets five more minutes, and their access back
    assert "t01" not in clock.ended and "t02" in clock.ended
    assert 230 < clock.remaining("t01") <= 240  # over by 60 s, then 300 s more
    clock.extend(None, 1)  # everyone: still over for t02 (-60 + 60 s)
    assert clock.is_over("t02")
    clock.graded_at = time.time() - 1000  # a grading asked before the end is not the final one
    clock.end("t01")
    assert not clock.final_graded
    clock.graded_at = time.time() + 1
    assert clock.final_graded
    with pytest.raises(UserError, match="graded"):
        clock.extend(None, 5)


def test_practice_without_a_duration_never_ends(tmp_path):
    clock = _clock(tmp_path / "c.json", exam=False, duration=0)
    assert clock.remaining("t01") is None and not clock.is_over("t01")
    with pytest.raises(UserError, match="no end"):
        clock.extend("t01", 5)


# -- pages ----------------------------------------------------------------------------------------
HOSTILE = '<img src=x onerror=alert(1)>"\'&</script>'


def test_every_page_escapes_what_comes_from_outside():
    page = pages.trainee_page("fr", lab_title=HOSTILE, trainee_id="t01", trainee_name=HOSTILE,
                              instructions=HOSTILE, hosts=[{"name": "pc1", "role": HOSTILE, "running": True}],
                              exam=False, csrf=HOSTILE, remaining=None)
    login = pages.login_page("en", HOSTILE, error=HOSTILE, trainee=HOSTILE)
    instructor = pages.instructor_page("fr", lab_title=HOSTILE, csrf=HOSTILE, exam=True, competencies=["030"])
    for html in (page, login, instructor, pages.message_page("fr", HOSTILE, HOSTILE)):
        assert "<img" not in html and "onerror=alert(1)>" not in html.replace("&gt;", "")
        assert html.count("</script>") == html.count("<script")  # no script closed early
    block = re.search(r'<script type="application/json" id="strings">(.*?)</script>', page, re.S).group(1)
    assert json.loads(block)["check"] == "Vérifier mon travail"


def test_exam_page_has_no_self_check_and_a_clock():
    common = dict(lab_title="Lab", trainee_id="t01", trainee_name="A", instructions="x",
                  hosts=[{"name": "pc1", "role": "pc", "running": False}], csrf="c")
    exam = pages.trainee_page("fr", exam=True, remaining=600, **common)
    practice = pages.trainee_page("en", exam=False, remaining=None, **common)
    assert 'id="check"' not in exam and 'id="clock" data-remaining="600"' in exam
    assert 'id="check"' in practice and 'id="clock"' not in practice
    # a trainee replays their own terminals in practice only (the server refuses it during an exam)
    assert 'id="my-recordings"' not in exam and 'href="/trainee/t01/recordings?lang=en"' in practice
    instructor = pages.instructor_page("fr", lab_title="Lab", csrf="c", exam=True, competencies=["030"])
    assert "<th>Enregistrements</th>" in instructor
    assert 'data-host="pc1"' in exam and 'data-state="stopped"' in exam


# -- terminals on a real pty ----------------------------------------------------------------------
async def _read_until(queue: asyncio.Queue, needle: bytes, seen: bytearray, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        data = await asyncio.wait_for(queue.get(), max(0.01, deadline - time.monotonic()))
        if data is None:
            break
        seen += data
    return bytes(seen)


def test_a_terminal_echoes_resizes_replays_and_ends_its_whole_session():
    async def scenario():
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "$ "}
        manager = TerminalManager(lambda trainee, host: (["/bin/sh", "-i"], env))
        term = manager.get(TerminalKey("t01", "pc1"), cols=100, rows=30)
        queue: asyncio.Queue = asyncio.Queue()
        seen = bytearray()
        term.attach(queue.put_nowait)
        term.write(b"stty size; echo mark-$((6*7))\n")
        assert b"30 100" in await _read_until(queue, b"mark-42", seen)
        term.resize(120, 40)
        term.write(b"stty size\n")
        await _read_until(queue, b"40 120", seen)
        # a viewer that comes later (a page reload) gets the recent output first, and the same shell
        assert manager.get(TerminalKey("t01", "pc1")) is term
        assert b"mark-42" in term.attach(lambda data: None)
        term.write(b"sleep 300 & echo bg-$((1+1))-started\n")  # the echo of the line itself has no "bg-2"
        await _read_until(queue, b"bg-2-started", seen)
        members = _session_members(term.process.pid)
        assert len(members) >= 2  # the shell and its background sleep
        manager.close_trainee("t01")
        for _ in range(100):
            if not any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in members):
                break
            await asyncio.sleep(0.05)
        assert not any(_alive(pid) for pid in members)
        assert term.ended and manager.terminals == {}
    asyncio.run(scenario())


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_a_shell_that_exits_ends_its_terminal_and_a_new_one_opens():
    async def scenario():
        manager = TerminalManager(lambda trainee, host: (["/bin/sh", "-c", "echo bye"], {"PATH": "/bin"}))
        key = TerminalKey("t01", "pc1")
        term = manager.get(key)
        ended = asyncio.Event()
        term.attach(lambda data: ended.set() if data is None else None)
        await asyncio.wait_for(ended.wait(), 5)
        assert term.ended and key not in manager.terminals
        assert manager.get(key) is not term
        await manager.close_all()
    asyncio.run(scenario())


def test_input_a_shell_does_not_read_is_bounded():
    async def scenario():
        term = Terminal(["/bin/sh", "-c", "sleep 5"], {"PATH": "/bin"})
        term.start()
        for _ in range(40):
            term.write(b"x" * 65536)  # 2.5 MiB into a pty nobody reads
        assert len(term.pending) <= 1 << 20
        term.close()
    asyncio.run(scenario())


def test_clocks_of_labs_gone_or_built_again_are_pruned(tmp_path):
    from tspcr_lab.portal.exam import prune

    live = {"ip-plan-t01": 1.5, "ip-plan-t02": 2.5}
    keep = _clock(tmp_path / "keep.json", roster="c|ip-plan-t01@1.5,ip-plan-t02@2.5")
    rebuilt = _clock(tmp_path / "rebuilt.json", roster="c|ip-plan-t01@1.0,ip-plan-t02@2.5")
    (tmp_path / "rebuilt.grading.log").write_text("log")
    for clock in ("rebuilt", "keep"):  # each session's terminal recordings, beside its clock
        (tmp_path / f"{clock}.recordings" / "t01").mkdir(parents=True)
        (tmp_path / f"{clock}.recordings" / "t01" / "20260101-000000-01-pc1-web.cast").write_text("{}\n")
    (tmp_path / "broken.json").write_text("{")
    # recordings whose clock was removed by hand: judged by the roster they keep
    for orphan, roster in (("alive", "c|ip-plan-t01@1.5"), ("gone", "c|ip-plan-t01@1.0"), ("unknown", None)):
        (tmp_path / f"{orphan}.recordings").mkdir()
        if roster:
            (tmp_path / f"{orphan}.recordings" / "session.json").write_text(json.dumps({"roster": roster}))
    removed = prune(tmp_path, lambda name, created: live.get(name) == created)
    assert sorted(p.name for p in removed) == ["broken.json", "gone.recordings", "rebuilt.json", "unknown.recordings"]
    assert keep.path.exists() and not rebuilt.path.exists() and not (tmp_path / "rebuilt.grading.log").exists()
    assert not (tmp_path / "rebuilt.recordings").exists() and (tmp_path / "keep.recordings" / "t01").is_dir()
    assert (tmp_path / "alive.recordings").is_dir()


def test_closing_every_terminal_at_server_stop_ends_their_background_jobs():
    async def scenario():
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "$ "}
        manager = TerminalManager(lambda trainee, host: (["/bin/sh", "-i"], env))
        term = manager.get(TerminalKey("t01", "pc1"))
        queue: asyncio.Queue = asyncio.Queue()
        term.attach(queue.put_nowait)
        term.write(b"sleep 307 & echo job-$((3+4))\n")
        await _read_until(queue, b"job-7", bytearray())
        members = _session_members(term.process.pid)
        assert len(members) >= 2
        await manager.close_all()  # the loop stops right after: nothing may be left for later
        return members
    members = asyncio.run(scenario())
    assert not any(_alive(pid) for pid in members)
