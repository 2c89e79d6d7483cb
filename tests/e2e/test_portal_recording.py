"""Terminal sessions recorded by the portal (asciicast v2) and replayed by the examiner, on the real
virtual lab (troubleshoot-network, one trainee, instance rec-tsn) in a real browser (Debian's
Chromium through Playwright) and a real SSH client: the trainee types commands, a password at a
prompt that does not echo, and their intervention report, in pc1's web terminal and over SSH;
the instructor lists the recordings and replays them (play at a speed, seek by time, jump between
bursts of activity) and sees what the trainee saw, never the password; the trainee is refused the
instructor's pages, another trainee's recordings and, during an exam, their own; grading (the
portal's, and ``grade --recordings`` with the troubleshooting rubric and marks) copies the
recordings beside the grade, lists them in results.json, links them from both reports next to
the intervention report (its text escaped, beside the examiner's marks), and the copied replay
plays from the file system with no network; the signed folder verifies."""

from __future__ import annotations

import json
import re
import shutil
import socket
import stat
import time
from pathlib import Path

import paramiko
import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.rubric import rubrics_dir
from tspcr_lab.virtual.lab import VirtualLab

from .conftest import cli
from .portal_support import CHROMIUM, CHROMIUM_ARGS, CLOCKS, Serve, free_port, login, type_in, wait_screen

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

LAB = "troubleshoot-network"
INSTANCE = "rec-tsn"
SEED = 4242  # tickets: #1 r1-dhcp-exhausted, #2 srv1-nginx
NAME = "Zoé <i>Rec</i>"
TID = "trainee"  # a single instance's trainee, as serve names it
KEY = "7ec0ded0" * 8
SECRET = "Rec-S3cret-77"
RECORDINGS_LINE = re.compile(r"^terminal recordings: (\S+) ", re.M)
REPORT = """## Symptôme
Les PC n'obtiennent pas d'adresse.
## Diagnostic
ip -br addr sur pc1, journal de dnsmasq sur r1.
## Cause
r1 : la plage DHCP de dnsmasq est épuisée. <script>alert(1)</script> </pre> & co
## Action
Plage agrandie dans /etc/dnsmasq.conf.
## Test
dhclient sur pc1.
## Sources
man dnsmasq
## Suivi
Surveiller les baux.
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("recording")
    key = path / "exam.key"
    key.write_text(KEY + "\n")
    key.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def lab():
    vlab = VirtualLab(load_lab(LAB), INSTANCE)
    vlab.down(quiet=True)
    started = time.monotonic()
    cli("up", LAB, "--instance", INSTANCE, "--seed", str(SEED), "--trainee", NAME, check=True, timeout=600)
    print(f"up {LAB}: {time.monotonic() - started:.1f} s")
    try:
        yield vlab
    finally:
        vlab.down(quiet=True)
        assert not vlab.is_up()
        for clock in CLOCKS.glob("*.json"):  # this instance's clocks, logs and recordings
            try:
                roster = json.loads(clock.read_text(encoding="utf-8")).get("roster", "")
            except (OSError, ValueError):
                continue
            if roster.startswith(f"instance:{INSTANCE}|"):
                clock.with_suffix(".grading.log").unlink(missing_ok=True)
                shutil.rmtree(clock.with_suffix(".recordings"), ignore_errors=True)
                clock.unlink(missing_ok=True)


class Served:
    def __init__(self, serve: Serve, out: Path):
        self.serve, self.out = serve, out
        self.trainee, self.code = serve.single
        found = RECORDINGS_LINE.search(serve.output())
        assert found, serve.output()
        self.recordings = Path(found.group(1))


@pytest.fixture(scope="module")
def practice(lab, folder):
    serve = Serve(folder, LAB, "--instance", INSTANCE, "--signing-key", str(folder / "exam.key"),
                  "--ssh-port", str(free_port()), "--out", str(folder / "portal-grades"))
    try:
        yield Served(serve, folder / "portal-grades")
    finally:
        assert serve.stop() == 0, serve.output()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def instructor(new_page, served: Served):
    page = new_page()
    page.goto(f"{served.serve.url}instructor/login")
    page.fill("input[name=code]", served.serve.instructor_code)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.startswith(f"{served.serve.url}instructor"), page.content()
    return page


def player_screen(page) -> str:
    return page.locator("#screen .xterm-rows").inner_text()


def jump_until(page, text: str) -> str:
    """Jump from burst to burst of activity until the player shows ``text`` (or the end)."""
    for _ in range(100):
        shown = player_screen(page)
        if text in shown:
            return shown
        if page.locator("#player").get_attribute("data-state") == "ended":
            break
        page.click("#next-gap")
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)
    shown = player_screen(page)
    assert text in shown, f"the replay never showed {text!r}:\n{shown}"
    return shown


def read_until(chan: paramiko.Channel, needle: bytes, timeout: float = 20) -> bytes:
    out, deadline = b"", time.monotonic() + timeout
    chan.settimeout(0.2)
    while needle not in out:
        assert time.monotonic() < deadline, f"{needle!r} never came: {out[-2000:]!r}"
        try:
            data = chan.recv(65536)
        except socket.timeout:
            continue
        assert data, f"the session ended before {needle!r}: {out[-2000:]!r}"
        out += data
    return out


@pytest.fixture(scope="module")
def worked(practice, browser):
    """The trainee's session: in pc1's web terminal a command, a pause, a password at a prompt that
    does not echo, the intervention report of ticket #1; a command over SSH. Its recordings."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    started = time.monotonic()
    response = login(page, practice.serve.url, practice.trainee, practice.code)
    assert response.status == 200, page.content()
    wait_screen(page, "pc1", "root@")
    type_in(page, "pc1", "echo rec-$((6*7))\n")
    wait_screen(page, "pc1", "rec-42")
    page.wait_for_timeout(3000)  # a pause: the next burst of activity is one the player jumps to
    type_in(page, "pc1", "read -rs -p 'Mot de passe : ' PW; echo; echo \"lu ${#PW} caracteres\"\n")
    wait_screen(page, "pc1", "Mot de passe :")
    page.keyboard.type(SECRET + "\n")
    wait_screen(page, "pc1", f"lu {len(SECRET)} caracteres")
    page.wait_for_timeout(2500)
    type_in(page, "pc1", "mkdir -p /root/tickets; cat > /root/tickets/ticket-1.md <<'EOF'\n" + REPORT + "EOF\n")
    type_in(page, "pc1", "wc -l /root/tickets/ticket-1.md; echo report-$((5*5))\n")
    wait_screen(page, "pc1", "report-25")
    typed = time.monotonic() - started

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=practice.serve.ssh_port, username=practice.trainee, password=practice.code,
                   look_for_keys=False, allow_agent=False, timeout=10, banner_timeout=10, auth_timeout=10)
    try:
        chan = client.invoke_shell(term="xterm", width=100, height=30)
        read_until(chan, b"Choix / Choice: ")
        chan.send(b"1\r")
        chan.send(b"echo ssh-rec-$((7*6))\r")
        read_until(chan, b"ssh-rec-42\r\n")
        chan.resize_pty(width=110, height=33)
        chan.send(b"stty size\r")
        read_until(chan, b"33 110")
    finally:
        client.close()
    deadline = time.monotonic() + 10
    while not any("-pc1-ssh-" in p.name for p in (practice.recordings / TID).glob("*.cast")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield {"page": page, "typed": typed}
    context.close()


def casts(served: Served) -> dict[str, Path]:
    return {p.name: p for p in sorted((served.recordings / TID).glob("*.cast"))}


def events(path: Path) -> tuple[dict, list]:
    lines = path.read_text(encoding="utf-8").split("\n")
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:] if line]


def test_every_terminal_is_recorded_output_only_in_the_portals_state(practice, worked):
    recorded = casts(practice)
    web = [p for name, p in recorded.items() if name.endswith("-pc1-web.cast")]
    ssh = [p for name, p in recorded.items() if "-pc1-ssh-" in name]
    assert len(web) == 1 and len(ssh) == 1, list(recorded)
    header, web_events = events(web[0])
    assert header["version"] == 2 and header["env"]["TERM"] == "xterm-256color"
    assert NAME in header["title"] and "pc1" in header["title"] and LAB in header["title"]
    shown = "".join(e[2] for e in web_events if e[1] == "o")
    assert "rec-42" in shown and f"lu {len(SECRET)} caracteres" in shown and "report-25" in shown
    assert "<script>alert(1)</script>" in shown  # the report as the terminal echoed it
    assert {e[1] for e in web_events} <= {"o", "r"}  # no input events
    _, ssh_events = events(ssh[0])
    assert "ssh-rec-42" in "".join(e[2] for e in ssh_events if e[1] == "o")
    assert ["r", "110x33"] in [e[1:] for e in ssh_events]
    for path in recorded.values():
        assert SECRET not in path.read_text(encoding="utf-8")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == 0
    assert stat.S_IMODE((practice.recordings / TID).stat().st_mode) == 0o700
    assert CLOCKS in practice.recordings.parents  # the portal's state folder, not a lab host's files
    sizes = {name: p.stat().st_size for name, p in recorded.items()}
    print(f"recordings after {worked['typed']:.1f} s of typing: {sizes}")


def test_the_instructor_replays_what_the_trainee_saw(practice, worked, new_page):
    page = instructor(new_page, practice)
    link = page.locator(f"#rows tbody tr[data-trainee={TID}] td.recordings a")
    playwright_api.expect(link).to_have_text(re.compile(r"Enregistrements \([2-9]\)"))
    link.click()
    page.wait_for_url(re.compile(f"/instructor/recordings/{TID}"))
    assert page.locator("#who").inner_text() == NAME and page.locator("#who i").count() == 0
    rows = page.locator("table.recordings tbody tr")
    assert rows.count() >= 2
    web_row = page.locator("table.recordings tbody tr[data-recording$='-pc1-web.cast']")
    assert "en cours" in web_row.inner_text()  # its terminal is still open
    web_row.locator("a.replay").click()
    page.wait_for_url(re.compile(f"/instructor/replay/{TID}/"))
    player = page.locator("#player")
    assert int(player.get_attribute("data-activities")) >= 3  # three bursts, 2.5 s and more apart
    # play at x16, pauses cut to 2 s: to the end
    page.select_option("#speed", "16")
    started = time.monotonic()
    page.click("#play")
    playwright_api.expect(player).to_have_attribute("data-state", "ended", timeout=60_000)
    played = time.monotonic() - started
    shown = player_screen(page)
    assert "rec-42" in shown and f"lu {len(SECRET)} caracteres" in shown and "report-25" in shown
    assert SECRET not in page.content()
    # seek by time to the start: the screen as it was then; then burst by burst
    page.fill("#goto", "0:00")
    page.press("#goto", "Enter")
    playwright_api.expect(player).to_have_attribute("data-position", "0.000")
    assert "rec-42" not in player_screen(page)
    jump_until(page, "rec-42")
    first = float(player.get_attribute("data-position"))
    assert f"lu {len(SECRET)}" not in player_screen(page)  # the next burst not yet
    jump_until(page, f"lu {len(SECRET)} caracteres")
    second = float(player.get_attribute("data-position"))
    assert second > first + 2
    page.click("#prev-gap")
    assert float(player.get_attribute("data-position")) < second
    # the .cast itself, for asciinema play: whole events only, never the password
    cast = page.request.get(f"{practice.serve.url}instructor/cast/{TID}/{player.get_attribute('data-recording')}")
    assert cast.status == 200 and cast.headers["content-type"].startswith("application/x-asciicast")
    assert json.loads(cast.text().split("\n")[0])["version"] == 2 and SECRET not in cast.text()
    print(f"replayed to the end at x16 in {played:.1f} s")


def test_a_trainee_is_refused_the_instructors_pages_and_anothers_recordings(practice, worked):
    page = worked["page"]
    base = practice.serve.url
    name = next(iter(casts(practice)))
    for path in (f"instructor/recordings/{TID}", f"instructor/replay/{TID}/{name}", f"instructor/cast/{TID}/{name}",
                 "trainee/t02/recordings", f"trainee/t02/replay/{name}", "reports/recordings/replay.html"):
        assert page.request.get(base + path, max_redirects=0).status == 403, path
    # in practice, their own: yes
    own = page.request.get(f"{base}trainee/{TID}/recordings")
    assert own.status == 200 and name in own.text()
    assert page.request.get(f"{base}trainee/{TID}/replay/{name}").status == 200
    for bad in ("..%2F..%2Fssh_host_ed25519_key", "x.cast", name.replace(".cast", ".json")):
        assert page.request.get(f"{base}trainee/{TID}/cast/{bad}").status == 404, bad


def test_the_portals_grading_puts_the_recordings_beside_the_grade(practice, worked, new_page, folder):
    page = instructor(new_page, practice)
    started = time.monotonic()
    page.click("#grade-now")
    deadline = time.monotonic() + 240
    while True:
        summary = page.request.get(f"{practice.serve.url}instructor/summary").json()
        if summary["graded_at"] and summary["grading"].get("state") not in (None, "running"):
            break
        assert time.monotonic() < deadline, summary
        time.sleep(0.5)
    print(f"graded by the portal in {time.monotonic() - started:.1f} s")
    out = practice.out
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in results["recordings"]}
    assert names == set(casts(practice)) and all((out / r["file"]).is_file() for r in results["recordings"])
    trainee_html = (out / "trainee.html").read_text(encoding="utf-8")
    report_html = (out / "report.html").read_text(encoding="utf-8")
    for html in (trainee_html, report_html):
        assert all(f'href="recordings/replay.html#{n}"' in html for n in names)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;/pre&gt; &amp; co" in html and "<script>alert(1)" not in html
    # the copied replay, through the portal's /reports/ (under its CSP: scripts from 'self' only)
    web = next(n for n in names if n.endswith("-pc1-web.cast"))
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{practice.serve.url}reports/recordings/replay.html#{web}")
    playwright_api.expect(page.locator("#player")).to_have_attribute("data-recording", web)
    jump_until(page, "report-25")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    # the examiner's report itself through /reports/: pytest-html's table drawn (its script allowed by hash)
    page.goto(f"{practice.serve.url}reports/report.html")
    playwright_api.expect(page.locator("#results-table tbody.results-table-row").first).to_be_visible()
    assert page.locator("#results-table tbody.results-table-row").count() == len(
        [c for c in results["checks"] if c["kind"] == "auto"])
    assert page.locator("#interventions article[data-ticket]").count() == 2
    # (its template's onclick="location.reload()" stays refused: a button for a report still being written)
    assert not [e for e in errors if "Content Security Policy" in e and "inline event handler" not in e], errors
    assert cli("verify", str(out), "--key", str(folder / "exam.key")).returncode == 0


def test_grade_with_recordings_and_marks_shows_each_report_beside_its_marks(practice, worked, new_page, folder):
    marks = folder / "marks.csv"
    marks.write_text("trainee,item,points,comment\n,report_quality,2,\"démarche claire, <b>sources</b> minces\"\n"
                     ",recommendation,1,surveillance des baux\n,documentary_research,2,man pages citées\n",
                     encoding="utf-8")
    out = folder / "cli-grades"
    started = time.monotonic()
    proc = cli("grade", LAB, "--instance", INSTANCE, "--out", str(out), "--key", str(folder / "exam.key"),
               "--rubric", str(rubrics_dir() / "troubleshooting.toml"), "--marks", str(marks),
               "--recordings", str(practice.recordings), timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    print(f"grade --recordings in {time.monotonic() - started:.1f} s")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    checks = {c["id"]: c for c in results["checks"]}
    assert checks["test_report[1]"]["status"] == "passed", checks["test_report[1]"]["message"]
    assert checks["report_quality"]["earned"] == 2 and len(results["recordings"]) >= 2
    for html in ((out / "report.html").read_text(encoding="utf-8"), (out / "trainee.html").read_text(encoding="utf-8")):
        section = html[html.index('<section class="tspcr-interventions"'):]
        section = section[:section.index("</section>")]
        ticket1 = section.index('data-ticket="1"')
        assert ticket1 < section.index('data-item="report_quality"') < section.index('class="replay"')
        assert "r1 : la plage DHCP de dnsmasq est épuisée. &lt;script&gt;" in section
        assert 'data-ticket="2"' in section and "aucun fichier" in section  # ticket #2's report: not written
        assert "démarche claire, &lt;b&gt;sources&lt;/b&gt; minces" in section and "<b>sources" not in html
        assert "surveillance des baux" in section and "1 / 2" in section
        assert section.count('class="replay"') == len(results["recordings"])
    assert cli("verify", str(out), "--key", str(folder / "exam.key")).returncode == 0
    # the replay beside the report, from the file system, with no network at all
    page = new_page(offline=True)
    web = next(r for r in results["recordings"] if r["channel"] == "web")
    page.goto((out / web["replay"].split("#")[0]).as_uri() + "#" + web["name"])
    playwright_api.expect(page.locator("#player")).to_have_attribute("data-recording", web["name"])
    page.select_option("#speed", "16")
    page.click("#play")
    playwright_api.expect(page.locator("#player")).to_have_attribute("data-state", "ended", timeout=60_000)
    shown = player_screen(page)
    assert "rec-42" in shown and "report-25" in shown and SECRET not in page.content()
    ssh = next(r for r in results["recordings"] if r["channel"].startswith("ssh"))
    page.goto((out / ssh["replay"].split("#")[0]).as_uri() + "#" + ssh["name"])
    playwright_api.expect(page.locator("#player")).to_have_attribute("data-recording", ssh["name"])
    jump_until(page, "ssh-rec-42")


def test_during_an_exam_a_trainee_replays_nothing_not_even_their_own(practice, worked, new_page, folder):
    practice.serve.stop()  # one serve at a time on this lab
    serve = Serve(folder, LAB, "--instance", INSTANCE, "--signing-key", str(folder / "exam.key"),
                  "--exam", "--duration", "30", "--out", str(folder / "exam-grades"))
    try:
        exam = Served(serve, folder / "exam-grades")
        assert exam.recordings != practice.recordings  # a session of its own
        page = new_page()
        assert login(page, serve.url, exam.trainee, exam.code).status == 200
        wait_screen(page, "pc1", "root@")
        type_in(page, "pc1", "echo exam-$((3*3))\n")
        wait_screen(page, "pc1", "exam-9")
        assert page.locator("#my-recordings").count() == 0
        [name] = [p.name for p in (exam.recordings / TID).glob("*-pc1-web.cast")]
        for path in (f"trainee/{TID}/recordings", f"trainee/{TID}/replay/{name}", f"trainee/{TID}/cast/{name}",
                     f"instructor/recordings/{TID}", f"instructor/cast/{TID}/{name}"):
            assert page.request.get(serve.url + path, max_redirects=0).status == 403, path
        teacher = instructor(new_page, exam)
        teacher.goto(f"{serve.url}instructor/replay/{TID}/{name}")
        page.wait_for_timeout(200)
        jump_until(teacher, "exam-9")
    finally:
        assert serve.stop() == 0
