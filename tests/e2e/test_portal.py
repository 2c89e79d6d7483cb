"""The portal (tspcr-lab serve) in a real browser (Debian's Chromium, headless, driven by
Playwright) on the real virtual lab, for a class of two: a trainee logs in with the code of their
sheet and types in their own host's terminal, which survives a reload; a wrong code is refused and
repeated ones are rate-limited; a trainee cannot reach another's page or terminal, nor theirs once
logged out, and logging out in one tab sends the session's other tabs to the login page (not to
the end of time's notice); the self-check shows hints and the instructor's live view its score; an exam has no
self-check but a clock, closes the terminals when time is up and grades the class into --out."""

from __future__ import annotations

import json
import re
import shutil
import time
from types import SimpleNamespace

import pytest

from tspcr_lab.labfile import load_lab

from .conftest import cli
from .portal_support import (CHROMIUM, CHROMIUM_ARGS, Serve, access_rows, class_up, clock_files, handshake, login,
                             open_socket, screen, type_in, wait_screen)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

LAB = "ip-plan"
NAME = "Zoé <i>Test</i>"  # shown as text, never as an element
CLASS = f"""
[class]
name = "portal e2e"
seed = 93

[[trainees]]
id = "w01"
name = "{NAME}"

[[trainees]]
id = "w02"
name = "Noé Second"
"""
KEY = "5eedc0de" * 8  # 64 hex characters
TRAINEES = ("w01", "w02")
REFUSED = "Identifiant ou code incorrect."
OVER = "Le temps de l'épreuve est écoulé"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    with class_up(LAB, CLASS, tmp_path_factory.mktemp("portal"), KEY) as up:
        assert access_rows(up.folder)["w01"]["name"] == NAME
        yield up


class Serves:
    """Every serve the module starts: stopped by their pid at the end, their clocks removed."""

    def __init__(self, klass):
        self.klass = klass
        self.running: list[Serve] = []

    def start(self, *extra: str) -> Serve:
        serve = Serve(self.klass.folder, LAB, "--class", str(self.klass.path), "--signing-key", str(self.klass.key),
                      *extra)
        self.running.append(serve)
        return serve

    def stop_all(self) -> None:
        for serve in self.running:
            serve.stop()
        self.running.clear()

    def close(self) -> None:
        """Stop them all and remove the clocks they kept (and their grading logs and recordings)."""
        self.stop_all()
        for clock in clock_files(self.klass.path):
            for path in (clock, clock.with_suffix(".grading.log")):
                path.unlink(missing_ok=True)
            shutil.rmtree(clock.with_suffix(".recordings"), ignore_errors=True)


@pytest.fixture(scope="module")
def serves(klass):
    registry = Serves(klass)
    yield registry
    registry.close()


@pytest.fixture(scope="module")
def practice(serves):
    return serves.start()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own cookies: a trainee's own browser)."""
    contexts = []

    def make():
        context = browser.new_context()
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def on_pc1(tid: str, *argv: str):
    """A command on the trainee's pc1, from outside the portal (tspcr-lab exec)."""
    return cli("exec", "pc1", "--lab", LAB, "--instance", f"{LAB}-{tid}", "--", *argv)


def trainee_page(new_page, serve: Serve, klass, tid: str):
    """A trainee logged in, their page shown, pc1's shell answering."""
    page = new_page()
    response = login(page, serve.url, tid, klass.codes[tid])
    assert response.status == 200 and page.url.startswith(f"{serve.url}trainee/{tid}/"), page.content()
    wait_screen(page, "pc1", "root@")
    return page


def test_trainee_types_in_their_own_pc1(practice, klass, new_page):
    page = trainee_page(new_page, practice, klass, "w01")
    who = page.locator("#who")
    assert who.inner_text() == NAME and who.locator("i").count() == 0
    assert page.locator("section.host[data-host]").count() == len(load_lab(LAB).hosts)
    assert page.locator("#clock").count() == 0  # practice without --duration: no end
    type_in(page, "pc1", "echo web-ok > /root/web.txt; echo wrote-$((6*7))\n")
    wait_screen(page, "pc1", "wrote-42")
    mine = on_pc1("w01", "cat", "/root/web.txt")
    assert (mine.returncode, mine.stdout) == (0, "web-ok\n"), mine.stderr
    other = on_pc1("w02", "cat", "/root/web.txt")
    assert other.returncode != 0 and "web-ok" not in other.stdout


def test_terminal_survives_a_reload(practice, klass, new_page):
    page = trainee_page(new_page, practice, klass, "w01")
    type_in(page, "pc1", "KEPT=shell-$((40+2)); echo before-reload\n")
    wait_screen(page, "pc1", "before-reload")
    page.reload()
    wait_screen(page, "pc1", "before-reload")  # the scrollback, replayed by the server
    type_in(page, "pc1", "echo kept=$KEPT\n")
    assert "kept=shell-42" in wait_screen(page, "pc1", "kept=shell")  # the same shell


def test_a_trainee_cannot_reach_anothers_page_or_terminal(practice, klass, new_page):
    page = trainee_page(new_page, practice, klass, "w01")
    response = page.goto(f"{practice.url}trainee/w02/")
    assert response.status == 403 and "Accès refusé." in page.content()
    assert NAME not in page.content() and "Noé Second" not in page.content()
    page.goto(f"{practice.url}trainee/w01/")
    assert open_socket(page, "/trainee/w01/terminal/pc1") == "open"  # the page's own: accepted
    assert open_socket(page, "/trainee/w02/terminal/pc1").startswith("closed")
    assert handshake(page, f"{practice.url}trainee/w02/terminal/pc1") == 403
    assert page.request.get(f"{practice.url}trainee/w02/state").status == 403
    csrf = page.locator("body").get_attribute("data-csrf")
    check = page.request.post(f"{practice.url}trainee/w02/check", headers={"X-CSRF-Token": csrf})
    assert check.status == 403
    assert page.request.get(f"{practice.url}instructor", max_redirects=0).status == 403
    assert "web.txt" not in on_pc1("w02", "ls", "/root").stdout


@pytest.fixture(scope="module")
def w01_checked(practice, klass, browser):
    """w01's self-check, run once from their page: the page and the score it showed."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, practice.url, "w01", klass.codes["w01"])
    started = time.monotonic()
    page.click("#check")  # disabled until the check's answer is shown
    page.wait_for_function("() => !document.getElementById('check').disabled", timeout=240_000)
    status = page.locator("#check-status").inner_text()
    assert page.locator("#check-result table").count() == 1, status
    shown = SimpleNamespace(page=page, status=status, seconds=time.monotonic() - started,
                            hints=page.locator("#check-result .hint").all_inner_texts(),
                            rows=page.locator("#check-result tbody tr").count())
    yield shown
    context.close()


def test_self_check_shows_the_results_with_hints(w01_checked):
    assert w01_checked.status.startswith("Score : ") and w01_checked.status.endswith(" / 17"), w01_checked.status
    assert w01_checked.rows >= 5
    assert w01_checked.hints and all(h.startswith("Indice : ") and len(h) > len("Indice : ") for h in w01_checked.hints)
    failed = w01_checked.page.locator('#check-result tbody tr[data-status="failed"]').count()
    assert failed >= 1  # an untouched lab: the hostname is not set, among others


def test_instructor_sees_the_self_check_score(practice, w01_checked, new_page):
    page = new_page()
    page.goto(f"{practice.url}instructor")
    assert page.url.startswith(f"{practice.url}instructor/login")
    page.fill("input[name=code]", "AAAA-BBBB-CCCC-DDDD")
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    assert navigation.value.status == 401 and REFUSED in page.locator(".error").inner_text()
    page.fill("input[name=code]", practice.instructor_code)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.startswith(f"{practice.url}instructor")
    score = w01_checked.status.removeprefix("Score : ")  # "N / 17"
    cell = page.locator("#rows tbody tr[data-trainee=w01] td.check")
    cell.locator("strong").filter(has_text=score).wait_for()
    assert cell.locator("strong").inner_text() == score
    assert page.locator("#rows tbody tr[data-trainee=w02] td.check").inner_text() == "—"
    row = page.locator("#rows tbody tr[data-trainee=w01]")
    assert row.locator("td").nth(1).inner_text() == NAME and row.locator("i").count() == 0


def test_logout_closes_the_session(practice, klass, new_page):
    page = trainee_page(new_page, practice, klass, "w01")
    cookies = page.context.cookies()
    with page.expect_navigation():
        page.click("form[action='/logout'] button[type=submit]")
    assert page.url.startswith(practice.url) and page.locator("input[name=code]").count() == 1
    assert open_socket(page, "/trainee/w01/terminal/pc1").startswith("closed")
    assert handshake(page, f"{practice.url}trainee/w01/terminal/pc1") == 403
    # The server forgot the session: its cookie, given back, opens nothing.
    page.context.add_cookies(cookies)
    assert handshake(page, f"{practice.url}trainee/w01/terminal/pc1") == 403
    assert page.request.get(f"{practice.url}trainee/w01/state", max_redirects=0).status == 303
    assert open_socket(page, "/trainee/w01/terminal/pc1").startswith("closed")
    response = page.goto(f"{practice.url}trainee/w01/")
    assert page.url.startswith(f"{practice.url}?") and response.status == 200  # back to the login page


def test_logout_in_one_tab_sends_the_sessions_other_tab_to_the_login_page(practice, klass, new_page):
    page = trainee_page(new_page, practice, klass, "w01")
    other = page.context.new_page()  # a second tab of the same browser: the same session
    shown_over = []  # what #over said, if it was ever shown in the other tab (it must not be)
    other.expose_function("overShown", lambda text: shown_over.append(text))
    other.add_init_script("""new MutationObserver(() => {
        const over = document.getElementById("over");
        if (over && !over.hidden) window.overShown(over.textContent);
    }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["hidden"]});""")
    other.goto(f"{practice.url}trainee/w01/")
    wait_screen(other, "pc1", "root@")
    started = time.monotonic()
    # Not expect_navigation: this tab's own terminals are told "logout" too, and portal.js's
    # navigation to / may then abort the form's own (net::ERR_ABORTED); that tab is the subject of
    # test_logout_closes_the_session. Here: where both tabs end up.
    page.click("form[action='/logout'] button[type=submit]", no_wait_after=True)
    login_page = re.compile("^" + re.escape(f"{practice.url}?"))
    playwright_api.expect(other).to_have_url(login_page, timeout=10_000)
    playwright_api.expect(other.locator("input[name=code]")).to_have_count(1, timeout=10_000)
    assert time.monotonic() - started <= 10
    assert other.locator("#over").count() == 0 and shown_over == []
    playwright_api.expect(page).to_have_url(login_page)
    playwright_api.expect(page.locator("input[name=code]")).to_have_count(1)


def test_wrong_codes_are_refused_then_rate_limited(serves, klass, new_page):
    # A serve of its own: 5 failures from 127.0.0.1 lock the address out of this server for 300 s.
    serve = serves.start()
    page = new_page()
    for attempt in range(5):
        response = login(page, serve.url, "w02", "WRONG-CODE1")
        assert response.status == 401, (attempt, response.status)
        assert REFUSED in page.locator(".error").inner_text()
        assert page.locator("input[name=trainee]").input_value() == "w02"
    response = login(page, serve.url, "w02", "WRONG-CODE1")
    assert response.status == 429 and "Trop d'essais" in page.locator(".error").inner_text()
    assert 0 < int(response.headers["retry-after"]) <= 301
    response = login(page, serve.url, "w02", klass.codes["w02"])  # even the right code, for now
    assert response.status == 429 and "/trainee/" not in page.url
    serve.stop()


def exam_grading(klass) -> dict:
    """The grading's state, as the exam's clock keeps it ({} before it starts)."""
    for clock in clock_files(klass.path):
        data = json.loads(clock.read_text(encoding="utf-8"))
        if data["exam"]:
            return data["grading"]
    return {}


def test_exam_has_a_clock_closes_at_the_end_and_grades_the_class(serves, klass, new_page, tmp_path):
    serves.stop_all()  # the practice serves: the exam's serve alone opens terminals on these labs
    out = tmp_path / "grades"
    started = time.monotonic()
    exam = serves.start("--exam", "--duration", "1", "--out", str(out))
    page = trainee_page(new_page, exam, klass, "w01")
    assert page.locator("#check").count() == 0 and page.locator("#check-result").count() == 0
    assert page.locator(".hint").count() == 0
    clock = page.locator("#clock")
    assert 0 < int(clock.get_attribute("data-remaining")) <= 60
    first = clock.inner_text()
    page.wait_for_timeout(1500)
    assert clock.inner_text() != first and clock.inner_text().startswith("00:"), (first, clock.inner_text())
    type_in(page, "pc1", "echo exam-ok > /root/exam.txt; echo exam-$((6*7))\n")
    wait_screen(page, "pc1", "exam-42")
    assert on_pc1("w01", "cat", "/root/exam.txt").stdout == "exam-ok\n"

    page.locator("#over").wait_for(state="visible", timeout=90_000)
    assert time.monotonic() - started >= 55
    assert OVER in page.locator("#over").inner_text()
    assert "[temps écoulé : terminal fermé]" in screen(page, "pc1")
    assert open_socket(page, "/trainee/w01/terminal/pc1").startswith("closed")
    again = new_page()
    response = login(again, exam.url, "w01", klass.codes["w01"])
    assert response.status == 403 and OVER in again.locator("body").inner_text() and "/trainee/" not in again.url

    # The class is graded once everyone's time is up: the exam's clock says when it is done.
    deadline = time.monotonic() + 120
    while (grading := exam_grading(klass)).get("state") in (None, "running"):
        assert time.monotonic() < deadline, f"not graded: {grading}\n{exam.output()}"
        time.sleep(0.5)
    assert grading["state"] == "done" and grading["code"] == 1, grading  # graded, some checks failed
    assert (out / "class.html").is_file() and (out / "grades.csv").is_file()
    results = {tid: json.loads((out / tid / "results.json").read_text()) for tid in TRAINEES}
    assert all(r["complete"] and r["max_score"] == 17 for r in results.values())
    assert results["w01"]["trainee"] == NAME
    assert NAME not in (out / "class.html").read_text()  # escaped in the class's report
    assert "Indice" not in (out / "w01" / "trainee.html").read_text()
    assert cli("verify", str(out), "--key", str(klass.key)).returncode == 0
