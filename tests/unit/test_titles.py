"""Human titles of checks: ``[titles]`` of a lab file, filled with each check's parameters, shown
by every report instead of the pytest id (which stays in results.json and JUnit)."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from tspcr_lab import cli
from tspcr_lab.classes import Trainee
from tspcr_lab.classreport import junit_xml, trainee_html
from tspcr_lab.errors import UserError
from tspcr_lab.i18n import check_title, render_title, title_placeholders, title_values
from tspcr_lab.labfile import available_labs, load_lab

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x onerror=alert(1)>"


# -- rendering -------------------------------------------------------------------------------------

def test_a_title_is_filled_with_the_checks_parameters():
    texts = {"fr": "Adresse IPv4 de eth0 — {pc}", "en": "IPv4 address of eth0 — {pc}"}
    values = title_values({"pc": "pc2"}, 2)
    assert check_title(texts, "fr", values) == "Adresse IPv4 de eth0 — pc2"
    assert check_title(texts, "en", values) == "IPv4 address of eth0 — pc2"
    # a value that is not a string is shown with str(); {n} is the case's number, from 1
    assert render_title("Compte n° {n} ({index}, {pair})", title_values({"index": 0, "pair": (1, "a")}, 1)) \
        == "Compte n° 1 (0, (1, 'a'))"
    # a parameter named n wins over the case number
    assert title_values({"n": "mine"}, 3)["n"] == "mine"


def test_a_title_is_one_line_whatever_a_parameter_holds():
    values = title_values({"pc": "pc1\nrm -rf /\x1b[31m\x07"}, 1)
    title = render_title("Adresse — {pc}", values)
    assert "\n" not in title and "\x1b" not in title and "\x07" not in title
    assert title == "Adresse — pc1 rm -rf / [31m"


def test_without_a_title_the_docstring_then_the_id():
    doc = "eth0 has the planned IPv4 address.\n\nMore text."
    assert check_title(None, "fr", {}, doc=doc, check_id="test_address") == "eth0 has the planned IPv4 address."
    assert check_title({}, "fr", {}, doc=doc, case_id="pc2", check_id="test_address[pc2]") \
        == "eth0 has the planned IPv4 address. — pc2"
    assert check_title(None, "en", {}, doc=None, check_id="test_address[pc2]") == "test_address[pc2]"
    assert check_title(None, "en", {}, doc="  \n ", check_id="test_mac_file") == "test_mac_file"
    # English asked, only French written: the French title; a placeholder with no value: the fallback
    assert check_title({"fr": "Nom d'hôte"}, "en", {}) == "Nom d'hôte"
    assert check_title({"fr": "Nom — {pcx}"}, "fr", title_values({"pc": "pc1"}, 1), doc="Host name.") == "Host name."


@pytest.mark.parametrize("template, error", [
    ("Adresse — {pc.name}", "not a parameter name"),
    ("Adresse — {0}", "not a parameter name"),
    ("Adresse — {}", "empty placeholder"),
    ("Adresse — {pc[0]}", "not a parameter name"),
    ("Adresse — {pc!r}", "no conversion or format"),
    ("Adresse — {pc:>5}", "no conversion or format"),
    ("Adresse — {pc", "expected '}'"),
    ("Adresse — pc}", "'}'"),
])
def test_malformed_placeholders_are_refused(template, error):
    with pytest.raises(ValueError, match=re.escape(error)):
        title_placeholders(template)


def test_placeholders_and_literal_braces():
    assert title_placeholders("Dossier [{n}] : {folder} {{brut}}") == ["n", "folder"]
    assert render_title("{{ {pc} }}", {"pc": "pc1"}) == "{ pc1 }"


# -- validation of the lab file --------------------------------------------------------------------

@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A TSPCR_HOME holding a copy of labs/ip-plan and its checks; returns the copied lab.toml."""
    shutil.copytree(REPO / "labs" / "ip-plan", tmp_path / "labs" / "ip-plan")
    shutil.copytree(REPO / "checks" / "ip-plan", tmp_path / "checks" / "ip-plan",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / "ip-plan" / "lab.toml"


ADDRESS = 'test_address = { fr = "Adresse IPv4 de eth0 — {pc}", en = "IPv4 address of eth0 — {pc}" }'

MISTAKES = [
    pytest.param(ADDRESS.replace("{pc}\", en", "{pc.x}\", en"), ["titles.test_address", "{pc.x}", "not a parameter name"],
                 id="attribute"),
    pytest.param(ADDRESS.replace("{pc}\", en", "{pc\", en"), ["titles.test_address", "fr title"], id="unbalanced"),
    pytest.param(ADDRESS.replace('fr = "Adresse IPv4 de eth0 — {pc}", ', ""), ["titles.test_address", "French"],
                 id="no-french"),
    pytest.param(ADDRESS.replace("en =", "eng ="), ["titles.test_address", "unknown language 'eng'"], id="language"),
    pytest.param(ADDRESS.replace('"Adresse IPv4 de eth0 — {pc}"', '" "'), ["titles.test_address", "empty fr title"],
                 id="empty"),
    pytest.param(ADDRESS.replace("test_address =", "address ="), ["titles.address", "not a check's name"],
                 id="not-a-check-name"),
    pytest.param('test_address = "Adresse"', ["titles.test_address", "expected dict"], id="not-a-table"),
    pytest.param(ADDRESS.replace('en = "IPv4', 'en = 4, x = "IPv4'), ["titles.test_address", "must be a string"],
                 id="not-a-string"),
]


@pytest.mark.parametrize("new, fragments", MISTAKES)
def test_a_titles_mistake_is_one_line_naming_file_and_key(home, new, fragments):
    text = home.read_text(encoding="utf-8")
    assert text.count(ADDRESS) == 1
    home.write_text(text.replace(ADDRESS, new), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_lab("ip-plan")
    message = str(info.value)
    assert "\n" not in message and str(home) in message
    for fragment in fragments:
        assert fragment in message


def collected(pytester, *paths: str) -> tuple[dict, str]:
    """Run the checks of ``paths`` through the plugin (nothing needs the lab up: no check runs
    further than its collection when the lab file's titles do not fit)."""
    result = pytester.runpytest(*paths, "-p", "no:cacheprovider", "--results", "r.json", "--lang", "en")
    return json.loads((pytester.path / "r.json").read_text()), "\n".join(result.outlines)


@pytest.mark.parametrize("new, fragments", [
    pytest.param(ADDRESS.replace("{pc}\", en", "{pcc}\", en"),
                 ["titles.test_address: unknown placeholder {pcc} in the fr title", "placeholders of test_address: {n}, {pc}"],
                 id="unknown-placeholder"),
    pytest.param(ADDRESS.replace("{pc}\" }", "{n} {host}\" }"), ["unknown placeholder {host} in the en title"],
                 id="unknown-placeholder-en"),
    pytest.param(ADDRESS + '\ntest_mac_file = { fr = "Adresse MAC — {pc}" }',
                 ["titles.test_mac_file: unknown placeholder {pc}", "placeholders of test_mac_file: none"],
                 id="placeholder-of-an-unparametrized-check"),
    pytest.param(ADDRESS + '\ntest_adress = { fr = "Adresse" }',
                 ["titles.test_adress: no check test_adress in", "did you mean 'test_address'"], id="unknown-check"),
])
def test_titles_that_do_not_fit_the_checks_are_a_clear_error(home, pytester, new, fragments):
    text = home.read_text(encoding="utf-8")
    text = text.replace(ADDRESS, new)
    if "test_mac_file = " in new:  # the lab's own title of test_mac_file is replaced, not doubled
        text = re.sub(r'\ntest_mac_file = \{ fr = "Adresse MAC de pc1[^\n]*', "", text)
    home.write_text(text, encoding="utf-8")
    load_lab("ip-plan")  # what the lab file alone says is fine: what does not fit is said at collection
    results, output = collected(pytester, str(home.parents[2] / "checks" / "ip-plan"))
    [check] = results["checks"]
    assert check["status"] == "error" and check["message"].startswith("could not load checks: ")
    assert str(home) in check["message"] and "\n" not in check["message"]
    for fragment in fragments:
        assert fragment in check["message"] and fragment in output


# -- the plugin: titles in results.json and in pytest-html's table ---------------------------------

LAB = '''
[lab]
id = "demo"
title = { fr = "Démo" }
competencies = ["030"]
[management]
network = "172.31.0.0/24"
grader = "172.31.0.254"
[[hosts]]
name = "pc1"
role = "pc"
mgmt = "172.31.0.11"
[titles]
test_address = { fr = "Adresse IPv4 de eth0 — {pc}", en = "IPv4 address of eth0 — {pc}" }
test_account = { fr = "Compte n° {n}", en = "Account {n} ({index})" }
test_hostile = { fr = "Valeur {value}", en = "Value {value}" }
'''

CHECKS = f'''
import pytest

USERS = pytest.mark.parametrize("index", [0, 1, 2], ids=["user1", "user2", "user3"])
PCS = ["pc1", "pc2"]


@pytest.mark.competency("030", points=2)
@pytest.mark.parametrize("pc", PCS)
def test_address(pc):
    """eth0 has the planned address."""
    assert pc == "pc1"


@pytest.mark.competency("030")
@USERS
def test_account(index):
    pass


@pytest.mark.competency("030")
@pytest.mark.parametrize("value", [{HOSTILE!r}], ids=[{HOSTILE!r}])
def test_hostile(value):
    pass


@pytest.mark.competency("030")
@pytest.mark.parametrize("slot", ["a", "b"])
def test_documented(slot):
    """What the check verifies.

    More details.
    """


@pytest.mark.competency("030")
def test_bare():
    pass
'''


@pytest.fixture
def demo(tmp_path, monkeypatch) -> Path:
    (tmp_path / "labs" / "demo").mkdir(parents=True)
    (tmp_path / "labs" / "demo" / "lab.toml").write_text(LAB, encoding="utf-8")
    (tmp_path / "checks" / "demo").mkdir(parents=True)
    (tmp_path / "checks" / "demo" / "test_demo.py").write_text(CHECKS, encoding="utf-8")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "checks" / "demo"


def _rows(report: Path) -> dict[str, str]:
    """pytest-html 4's rows (in its JSON blob): test id -> the HTML of the test column's cell."""
    blob = re.search(r'data-jsonblob="([^"]*)"', report.read_text(encoding="utf-8")).group(1)
    tests = json.loads(html.unescape(blob))["tests"]
    return {nodeid.rsplit("::", 1)[-1]: runs[-1]["resultsTableRow"][1] for nodeid, runs in tests.items()}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_results_and_report_show_titles_and_keep_ids(demo, pytester, lang):
    result = pytester.runpytest(str(demo), "-p", "no:cacheprovider", "--results", "r.json", "--lang", lang,
                                "--html", "r.html", "--self-contained-html")
    result.assert_outcomes(passed=8, failed=1)
    checks = {c["id"]: c for c in json.loads((pytester.path / "r.json").read_text())["checks"]}
    titles = {name: c["title"] for name, c in checks.items()}
    if lang == "fr":
        assert titles["test_address[pc2]"] == "Adresse IPv4 de eth0 — pc2"
        assert titles["test_account[user3]"] == "Compte n° 3"
    else:
        assert titles["test_address[pc2]"] == "IPv4 address of eth0 — pc2"
        assert titles["test_account[user1]"] == "Account 1 (0)"  # a value that is not a string: str()
    assert titles["test_documented[b]"] == "What the check verifies. — b"  # no title: the docstring's first line
    assert titles["test_bare"] == "test_bare"  # no title, no docstring: its id
    assert list(checks["test_address[pc1]"])[:2] == ["id", "title"]  # the title next to the id
    hostile_id = next(name for name in checks if name.startswith("test_hostile"))
    assert titles[hostile_id].endswith(HOSTILE)

    cells = _rows(pytester.path / "r.html")
    assert set(cells) == set(checks)
    assert re.fullmatch(r'<td class="col-testId" title="[^"]*test_demo\.py::test_address\[pc2\]">(.*)</td>',
                        cells["test_address[pc2]"]).group(1) == html.escape(titles["test_address[pc2]"])
    assert "test_address[pc2]" not in cells["test_address[pc2]"].split(">", 1)[1]  # the id only as a tooltip
    hostile = cells[hostile_id]
    assert HOSTILE not in hostile and "<img" not in hostile
    assert html.escape(HOSTILE) in hostile.split(">", 1)[1]  # escaped in the title
    assert html.escape(hostile_id) in hostile.split(">", 1)[0]  # and in the id of its tooltip


def test_junit_keeps_ids_and_adds_titles(demo, pytester):
    pytester.runpytest(str(demo), "-p", "no:cacheprovider", "--results", "r.json", "--junitxml", "j.xml")
    results = json.loads((pytester.path / "r.json").read_text())
    root = ET.fromstring(junit_xml("demo", [{"trainee": Trainee("t1", "Léa"), "results": results}]).encode())
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert "test_address[pc2]" in cases
    props = {p.get("name"): p.get("value") for p in cases["test_address[pc2]"].iter("property")}
    assert props["title"] == "Adresse IPv4 de eth0 — pc2"
    # pytest's own JUnit XML keeps its ids too
    names = {case.get("name") for case in ET.parse(pytester.path / "j.xml").getroot().iter("testcase")}
    assert "test_address[pc2]" in names


# -- what people read: trainee.html and the terminal summary ---------------------------------------

def _results(title: str) -> dict:
    return {
        "trainee": "Léa", "score": 0.0, "max_score": 3.0, "complete": True, "graded_at": "now",
        "counts": {"passed": 0, "failed": 2, "error": 0, "skipped": 0, "pending": 0},
        "competencies": {"030": {"earned": 0.0, "max": 3.0, "mastered": False, "complete": True}},
        "checks": [
            {"id": "test_address[pc2]", "title": title, "competency": "030", "points": 2.0, "earned": 0.0,
             "status": "failed", "message": "adresse : attendu 10.0.0.2/24, trouvé rien", "public": "adresse",
             "hint": "", "kind": "auto", "duration": 0.1},
            {"id": "test_old", "competency": "030", "points": 1.0, "earned": 0.0,  # results without titles
             "status": "failed", "message": "non", "public": "non", "hint": "", "kind": "auto", "duration": 0.1},
        ],
    }


def test_trainee_report_shows_titles_escaped():
    page = trainee_html(_results(f"Adresse IPv4 de eth0 — {HOSTILE}"), "Plan IP", "fr", exam=False)
    assert f"<td>Adresse IPv4 de eth0 — {html.escape(HOSTILE)}</td>" in page
    assert HOSTILE not in page and "test_address[pc2]" not in page
    assert "<td>test_old</td>" in page  # no title: its id


def test_terminal_summary_shows_titles(monkeypatch):
    console = Console(file=io.StringIO(), width=300, color_system=None)
    monkeypatch.setattr(cli, "out", console)
    cli._summary(None, _results("Adresse IPv4 de eth0 — pc2"), "fr", hints=True)
    text = console.file.getvalue()
    assert "Adresse IPv4 de eth0 — pc2" in text and "test_address[pc2]" not in text and "test_old" in text


# -- the labs ------------------------------------------------------------------------------------

def test_every_check_of_every_lab_has_a_french_and_an_english_title(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    from tspcr_lab.coverage import lab_checks

    found = lab_checks()  # collecting also verifies the titles fit the checks (else: UserError)
    assert sorted(found) == available_labs() and len(found) == 15
    for lab_id, items in found.items():
        titles = load_lab(lab_id).titles
        names = {item.name for item in items}
        assert names <= set(titles), (lab_id, names - set(titles))
        assert set(titles) <= names, (lab_id, set(titles) - names)
        for name in names:
            assert set(titles[name]) == {"fr", "en"}, (lab_id, name)
            assert all(0 < len(text) <= 70 for text in titles[name].values()), (lab_id, name)
