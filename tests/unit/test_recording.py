"""Terminal recordings (asciicast v2): written by real terminals on real ptys (a real shell, not a
lab host), bounded, never breaking the terminal (a write that fails is a real one: /dev/full),
UTF-8 split across reads, what is typed never recorded; read back, listed, found only by the
names the portal writes; exported next to a grade with a replay page whose embedded JSON is safe."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import time

import pytest

from tspcr_lab.portal import pages
from tspcr_lab.portal.recording import (CUT, FILE_CAP, RESERVE, Budget, CastWriter, RecordingStore, cast_info,
                                        export, read_cast, trainee_source)
from tspcr_lab.portal.terminals import Terminal, TerminalKey, TerminalManager

HEADER = {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, "title": "t01 · pc1",
          "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"}}


def lines(path):
    """Every line of a recording, parsed: each one must be JSON on its own."""
    text = path.read_text(encoding="utf-8")
    assert "\u2028" not in text and "\u2029" not in text and text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def output(path) -> str:
    return "".join(e[2] for e in lines(path)[1:] if e[1] == "o")


# -- the writer -----------------------------------------------------------------------------------
def test_a_character_split_across_reads_is_written_whole(tmp_path):
    path = tmp_path / "a.cast"
    writer = CastWriter.create(path, HEADER)
    text = "é€😀 ok\r\n".encode()
    for i in range(len(text)):  # one byte per read: every split of every character
        writer.output(text[i:i + 1])
    writer.output(b"bad \xff\xfe then \xc3")  # not UTF-8, and a character cut at the very end
    writer.close()
    recorded = lines(path)
    assert recorded[0] == HEADER
    assert output(path) == "é€😀 ok\r\nbad \ufffd\ufffd then \ufffd"
    assert all(e[1] == "o" and isinstance(e[0], float) for e in recorded[1:])
    assert [e[0] for e in recorded[1:]] == sorted(e[0] for e in recorded[1:])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_recording_never_overwrites_nor_follows_a_link(tmp_path):
    (tmp_path / "taken.cast").write_text("x")
    with pytest.raises(FileExistsError):
        CastWriter.create(tmp_path / "taken.cast", HEADER)
    target = tmp_path / "elsewhere"
    (tmp_path / "link.cast").symlink_to(target)
    with pytest.raises(OSError):
        CastWriter.create(tmp_path / "link.cast", HEADER)
    assert not target.exists() and (tmp_path / "taken.cast").read_text() == "x"


def test_a_recording_is_cut_at_its_cap_with_a_final_marker(tmp_path):
    path = tmp_path / "big.cast"
    writer = CastWriter.create(path, HEADER, cap=64 * 1024)
    for _ in range(100):
        writer.output(b"y\r\n" * 1000)  # 300 kB of `yes`
    writer.resize(100, 30)
    writer.close()
    assert path.stat().st_size <= 64 * 1024
    recorded = lines(path)
    assert recorded[-1][1] == "m" and recorded[-1][2].startswith(CUT) and "65536 bytes" in recorded[-1][2]
    assert recorded[-2][1] == "o" and "recording cut" in recorded[-2][2]
    assert not any(e[1] == "r" for e in recorded[1:])  # nothing after the cut
    info = cast_info(path)
    assert info is None  # not a name the portal writes: not listed
    assert writer.cut and not writer.failed


def test_a_trainees_recordings_share_one_budget(tmp_path):
    budget = Budget(RESERVE + 3500)
    first = CastWriter.create(tmp_path / "1.cast", HEADER, budget=budget)
    first.output(b"a" * 3000)
    second = CastWriter.create(tmp_path / "2.cast", HEADER, budget=budget)
    second.output(b"b" * 3000)  # over what is left: cut
    third = CastWriter.create(tmp_path / "3.cast", HEADER, budget=budget)  # nothing left: said at once
    for writer in (first, second, third):
        writer.close()
    assert output(tmp_path / "1.cast") == "a" * 3000 and not first.cut
    assert second.cut and lines(tmp_path / "2.cast")[-1][2].startswith("cut: ")
    assert third.cut and lines(tmp_path / "3.cast")[-1][2].startswith("cut: the trainee's recordings")
    assert len(lines(tmp_path / "3.cast")) == 3  # header, notice, marker


def test_a_write_that_fails_stops_the_recording_quietly(tmp_path):
    fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC, as a full disk
    writer = CastWriter(fd, tmp_path / "full.cast", cap=FILE_CAP, budget=Budget(FILE_CAP))
    writer.output(b"lost")
    writer.output(b"lost again")
    writer.resize(10, 10)
    writer.close()
    assert writer.failed and writer.closed and not writer.cut


# -- real terminals, recorded -----------------------------------------------------------------------
async def _until(queue: asyncio.Queue, needle: bytes, seen: bytearray, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    while needle not in seen:
        data = await asyncio.wait_for(queue.get(), max(0.01, deadline - time.monotonic()))
        if data is None:
            break
        seen += data
    return bytes(seen)


def test_terminals_are_recorded_output_and_resizes_never_what_is_typed(tmp_path):
    store = RecordingStore(tmp_path / "session.recordings")
    secret = "Sapin-39e_+"

    async def scenario():
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "$ "}
        manager = TerminalManager(lambda trainee, host: (["/bin/sh", "-i"], env),
                                  recorder=lambda key, cols, rows: store.open(
                                      key.trainee, key.host, key.channel, cols=cols, rows=rows,
                                      title=f"{key.trainee} · {key.host}", env=env))
        term = manager.get(TerminalKey("t01", "pc1"), cols=100, rows=30)
        queue: asyncio.Queue = asyncio.Queue()
        seen = bytearray()
        term.attach(queue.put_nowait)
        term.write("printf 'caf\\303\\251-%s\\n' $((6*7))\n".encode())
        await _until(queue, "café-42".encode(), seen)
        # a password typed at a prompt that does not echo: the terminal never shows it
        term.write(b"stty -echo; read -r PW; stty echo; echo len=${#PW}\n")
        await asyncio.sleep(0.3)
        term.write(secret.encode() + b"\n")
        await _until(queue, b"len=11", seen)
        term.resize(120, 40)
        term.write(b"stty size\n")
        await _until(queue, b"40 120", seen)
        other = manager.get(TerminalKey("t01", "pc1", "ssh-1"))
        await manager.close_all()
        return term, other

    term, other = asyncio.run(scenario())
    recordings = store.recordings("t01")
    assert [(r.host, r.channel) for r in recordings] == [("pc1", "web"), ("pc1", "ssh-1")]
    assert not any(r.live for r in recordings)  # their terminals ended: closed
    web = store.find("t01", recordings[0].name)
    recorded = lines(web)
    assert recorded[0]["version"] == 2 and (recorded[0]["width"], recorded[0]["height"]) == (100, 30)
    assert recorded[0]["title"] == "t01 · pc1" and recorded[0]["env"]["TERM"] == "xterm"
    shown = output(web)
    assert "café-42" in shown and "len=11" in shown and "40 120" in shown
    assert ["r", "120x40"] in [e[1:] for e in recorded[1:]]
    assert {e[1] for e in recorded[1:]} <= {"o", "r"}  # no input event
    assert secret not in web.read_text(encoding="utf-8")
    folder = web.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert recordings[0].duration > 0 and recordings[0].bytes == web.stat().st_size


def test_a_terminal_whose_recording_fails_works_the_same(tmp_path):
    async def scenario():
        fd = os.open("/dev/full", os.O_WRONLY)
        writer = CastWriter(fd, tmp_path / "x.cast", cap=FILE_CAP, budget=Budget(FILE_CAP))
        env = {"PATH": "/usr/bin:/bin", "TERM": "xterm", "PS1": "$ "}
        term = Terminal(["/bin/sh", "-i"], env, recorder=writer)
        term.start()
        queue: asyncio.Queue = asyncio.Queue()
        term.attach(queue.put_nowait)
        term.write(b"echo still-$((40+2))\n")
        seen = await _until(queue, b"still-42", bytearray())
        term.resize(90, 20)
        term.close()
        return writer, seen

    writer, seen = asyncio.run(scenario())
    assert b"still-42" in seen and writer.failed and writer.closed


def test_a_store_that_cannot_write_leaves_terminals_unrecorded(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store = RecordingStore(blocker / "session.recordings")
    assert store.open("t01", "pc1", "web", cols=80, rows=24, title="x") is None
    assert store.recordings("t01") == []


# -- reading, listing, finding --------------------------------------------------------------------------
def test_reading_stops_before_a_line_being_written(tmp_path):
    path = tmp_path / "20260115-093012-01-pc1-web.cast"
    path.write_text(json.dumps(HEADER) + '\n[0.5, "o", "a"]\n[1.25, "o", "b"]\n[2.0, "o", "c', encoding="utf-8")
    header, events, good = read_cast(path)
    assert header == HEADER and events == [[0.5, "o", "a"], [1.25, "o", "b"]]
    assert path.read_bytes()[:good].endswith(b'"b"]\n')
    info = cast_info(path)
    assert (info.host, info.channel, info.duration, info.cut, info.width) == ("pc1", "web", 1.25, False, 80)
    (tmp_path / "bad.cast").write_text('{"version": 1}\n')
    with pytest.raises(ValueError):
        read_cast(tmp_path / "bad.cast")


def test_only_names_the_portal_writes_are_found(tmp_path):
    store = RecordingStore(tmp_path / "rec", roster="class|ip-plan-t01@1.5")
    writer = store.open("t01", "pc-1", "ssh-12", cols=80, rows=24, title="x")
    session = tmp_path / "rec" / "session.json"  # the labs they belong to, for pruning
    assert json.loads(session.read_text()) == {"roster": "class|ip-plan-t01@1.5"}
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    writer.output(b"hello")
    assert re.fullmatch(r"\d{8}-\d{6}-01-pc-1-ssh-12\.cast", writer.path.name)
    assert [(r.host, r.channel, r.live) for r in store.recordings("t01")] == [("pc-1", "ssh-12", True)]
    writer.close()
    name = writer.path.name
    assert store.find("t01", name) == writer.path
    (tmp_path / "secret.cast").write_text("x")
    os.symlink(tmp_path / "secret.cast", writer.path.parent / "20260101-000000-01-pc1-web.cast")
    for trainee, bad in (("t01", "../" + name), ("t01", "..%2F" + name), ("t01", "x.cast"), ("t02", name),
                         ("../t01", name), ("t01", "20260101-000000-01-pc1-web.cast"), ("t01", name + "/")):
        assert store.find(trainee, bad) is None, (trainee, bad)
    assert store.count("t01") == 2 and store.count("nobody") == 0
    second = store.open("t01", "pc-1", "ssh-12", cols=80, rows=24, title="x")  # the same second: another name
    assert second.path != writer.path
    second.close()


def test_a_server_started_again_keeps_the_trainees_budget(tmp_path):
    store = RecordingStore(tmp_path / "rec", trainee_cap=8 * RESERVE)
    writer = store.open("t01", "pc1", "web", cols=80, rows=24, title="x")
    writer.output(b"z" * (5 * RESERVE))
    writer.close()
    again = RecordingStore(tmp_path / "rec", trainee_cap=8 * RESERVE)
    cut = again.open("t01", "pc1", "web", cols=80, rows=24, title="x")
    cut.output(b"w" * (3 * RESERVE))
    cut.close()
    assert cut.cut and "w" not in output(cut.path)


# -- next to the grade ------------------------------------------------------------------------------
def test_export_copies_whole_events_with_a_replay_page_that_embeds_them_safely(tmp_path):
    store = RecordingStore(tmp_path / "session.recordings")
    hostile = "</script><script>alert(1)</script> \u2028\u2029 <!-- & é"
    writer = store.open("t01", "pc1", "web", cols=80, rows=24, title=f"<b>{hostile}</b>")
    writer.output(hostile.encode())
    writer.resize(100, 30)
    writer.marker("a marker")
    writer.close()
    live = store.open("t01", "srv1", "ssh-3", cols=80, rows=24, title="srv1")
    live.output(b"half")
    os.write(live.fd, b'[9.0, "o", "torn')  # a line being written when grading copies
    folder = tmp_path / "grades" / "t01"
    (folder / "recordings").mkdir(parents=True)
    (folder / "recordings" / "stale.txt").write_text("from an earlier grading")
    entries = export(trainee_source(store.root, "t01"), folder / "recordings", lang="fr", title="Zoé <i>")
    live.close()
    names = sorted(p.name for p in (folder / "recordings").iterdir())
    assert "stale.txt" not in names and "replay.html" in names
    assert {"replay.js", "replay.css", "xterm.js", "xterm.css"} <= set(names)
    assert [(e["host"], e["channel"]) for e in entries] == [("pc1", "web"), ("srv1", "ssh-3")]
    for entry in entries:
        assert entry["file"] == f"recordings/{entry['name']}" and entry["replay"] == f"recordings/replay.html#{entry['name']}"
        lines(folder / entry["file"])  # every line whole
    assert "torn" not in (folder / entries[1]["file"]).read_text()
    page = (folder / "recordings" / "replay.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="casts">(.*?)</script>', page, re.S).group(1)
    assert "</" not in block and "<!--" not in block and "\u2028" not in block and "\u2029" not in block
    data = json.loads(block)
    assert data["recordings"][0]["events"][0][2] == hostile and data["recordings"][0]["title"] == f"<b>{hostile}</b>"
    assert ["r", "100x30"] in [e[1:] for e in data["recordings"][0]["events"]]
    assert "<b>" not in page and "<i>" not in page and page.count("<script") == page.count("</script>") == 3
    assert '<script src="xterm.js" defer></script><script src="replay.js" defer></script>' in page
    assert not re.search(r"<script>(?!</script>)", page)  # no inline script: it plays under the portal's CSP
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (folder / "recordings").iterdir())


def test_export_of_nothing_leaves_no_folder(tmp_path):
    assert export(tmp_path / "absent", tmp_path / "out" / "recordings") == []
    assert not (tmp_path / "out" / "recordings").exists()
    assert trainee_source(tmp_path, None) == tmp_path
    (tmp_path / "trainee").mkdir()
    assert trainee_source(tmp_path, None) == tmp_path / "trainee" and trainee_source(tmp_path, "t01") == tmp_path / "t01"


def test_recording_pages_escape_what_comes_from_outside():
    hostile = '<img src=x onerror=alert(1)>"\'&'
    rows = [{"name": "20260115-093012-01-pc1-web.cast", "host": hostile, "channel": hostile, "started": hostile,
             "duration": "00:01", "size": "1 KiB", "state": hostile, "replay": '/x" onclick="y', "cast": hostile}]
    listing = pages.recordings_page("fr", lab_title=hostile, trainee_id="t01", trainee_name=hostile, rows=rows,
                                    back="/instructor", path="/instructor/recordings/t01")
    recording = {"name": "n", "title": hostile + "</script>", "width": 80, "height": 24, "duration": 1.0,
                 "events": [[0.1, "o", hostile + "</script>\u2028"]]}
    replay = pages.replay_page("en", lab_title=hostile, trainee_id="t01", trainee_name=hostile, recording=recording,
                               back="/instructor/recordings/t01", cast="/instructor/cast/t01/n",
                               path="/instructor/replay/t01/n", idle=2.0)
    for html in (listing, replay):
        assert "<img" not in html and 'onclick="y' not in html
        assert html.count("</script>") == html.count("<script")
    assert 'src="/static/replay.js"' in replay and 'src="/static/vendor/xterm.js"' in replay
    block = re.search(r'id="casts">(.*?)</script>', replay, re.S).group(1)
    assert json.loads(block)["recordings"][0]["events"][0][2] == hostile + "</script>\u2028"


# -- in results.json and the examiner's report (pytest-html) ------------------------------------------
pytest_plugins = ["pytester"]

CHECK_FILE = '''
import pytest


@pytest.mark.competency("016", points=1)
def test_reachable(check):
    check.that(True, fr="ok", en="ok")
'''


def test_grading_lists_the_recordings_in_results_and_links_them_from_the_report(pytester, tmp_path):
    from tspcr_lab.rubric import rubrics_dir
    from tspcr_lab.reporting import Recordings

    hostile = '<img src=x onerror=alert(1)>.cast'
    entries = [{"name": "20260115-093012-01-pc1-web.cast", "host": "pc1", "channel": "web",
                "started": "2026-01-15T09:30:12+0100", "duration": 12.5, "bytes": 900, "cut": False,
                "file": "recordings/20260115-093012-01-pc1-web.cast",
                "replay": "recordings/replay.html#20260115-093012-01-pc1-web.cast"},
               {"name": hostile, "host": hostile, "channel": "ssh-1", "started": hostile, "duration": 1,
                "bytes": 1, "cut": True, "file": hostile, "replay": hostile}]
    marks = tmp_path / "marks.csv"
    marks.write_text("trainee,item,points,comment\n,report_quality,2,<b>clair</b>\n", encoding="utf-8")
    pytester.makepyfile(test_lab=CHECK_FILE)
    pytester.runpytest("-p", "no:cacheprovider", "--results", "r.json", "--html", "r.html", "--self-contained-html",
                       "--lab", "troubleshoot-network", "--rubric", str(rubrics_dir() / "troubleshooting.toml"),
                       "--marks", str(marks), plugins=[Recordings(entries)])
    results = json.loads((pytester.path / "r.json").read_text())
    assert results["recordings"] == entries
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert 'href="recordings/replay.html#20260115-093012-01-pc1-web.cast"' in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.cast" in html
    assert "<b>clair</b>" not in html and "&lt;b&gt;clair&lt;/b&gt;" in html
    # Through the portal's /reports/, pytest-html's own inline script (it draws the table) may run,
    # by its hash; no other inline script a report could hold.
    import base64
    import hashlib

    from tspcr_lab.portal.app import CSP, report_csp

    csp = report_csp(pytester.path / "r.html")
    [script] = re.findall(r"<script>(.*?)</script>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert csp == CSP.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'")
    forged = pytester.path / "forged.html"
    forged.write_text(html.replace("<footer>", "<footer><script>alert(1)</script>"), encoding="utf-8")
    assert report_csp(forged) == csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    forged.write_text("<p>no script</p>", encoding="utf-8")
    assert report_csp(forged) is None
    without = pytester.runpytest("-p", "no:cacheprovider", "--results", "s.json")
    assert without.ret == 0 and json.loads((pytester.path / "s.json").read_text())["recordings"] == []
