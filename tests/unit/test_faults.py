"""The fault catalogue (tspcr_lab.faults), the ledger's comparison (tspcr_lab.ledger) and the
intervention report's reading (tspcr_lab.troubleshoot), without a lab up."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from tspcr_lab import faults, ledger
from tspcr_lab.errors import UserError
from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate
from tspcr_lab.troubleshoot import report_sections

REPO = Path(__file__).resolve().parents[2]
LAB = "troubleshoot-network"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A copy of the lab under TSPCR_HOME; returns its catalogue file."""
    shutil.copytree(REPO / "labs" / LAB, tmp_path / "labs" / LAB)
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / LAB / "catalogue.toml"


def test_real_catalogue_loads_and_every_variant_is_fair():
    lab = load_lab(LAB)
    catalogue = faults.load_catalogue(lab)
    assert len(catalogue.faults) == 11 and catalogue.count == 2
    sets = faults.variants(catalogue)
    assert len(sets) == 21
    for chosen in sets:
        members = [catalogue.faults[f] for f in chosen]
        assert not any(a.hides(b) for a, b in itertools.combinations(members, 2))
        assert 3 <= sum(f.difficulty for f in members) <= 4
        assert len({f.group for f in members}) == 2 and {f.group for f in members} <= {"site", "dhcp", "branch"}
        # r1 routing nothing would hide the branch's faults (srv1 reaches srv2 through r1)
        assert not ("r1-forwarding" in chosen and {"r1-route-missing", "srv2-duplicate-address"} & set(chosen))
    # every fault has a workaround the proof applies, and probes on hosts of the lab
    for fault in catalogue.faults.values():
        assert fault.workarounds and fault.symptom and fault.cause and fault.report_names
        assert {p.host for p in fault.symptom + fault.cause} <= set(lab.hosts)


def test_draw_is_the_seeds_and_tickets_never_name_the_fault():
    lab = load_lab(LAB)
    catalogue = faults.load_catalogue(lab)
    drawn = {seed: generate(lab, seed) for seed in range(200)}
    assert {tuple(sorted(g.expected["faults"])) for g in drawn.values()} == {tuple(sorted(v)) for v in faults.variants(catalogue)}
    again = generate(lab, 7)
    assert again.expected["faults"] == drawn[7].expected["faults"] and again.params["tickets"] == drawn[7].params["tickets"]
    for given in drawn.values():
        for lang in ("fr", "en"):
            text = given.params["tickets"][lang]
            assert text.startswith("#1. ") and "\n#2. " in text and "{{" not in text
            for fault_id in given.expected["faults"]:
                assert fault_id not in text and catalogue.faults[fault_id].title[lang] not in text


@pytest.mark.parametrize("old, new, fragments", [
    ('difficulty = 1\ngroup = "site"', 'dificulty = 1\ngroup = "site"', ["fault[0]", "difficulty", "dificulty"]),
    ('scope = { pc1 = ["/etc/resolv.conf"] }', 'scope = { pc9 = ["/etc/resolv.conf"] }', ["scope", "unknown host 'pc9'"]),
    ('scope = { pc1 = ["/etc/resolv.conf"] }', 'scope = { pc1 = ["resolv.conf"] }', ["'resolv.conf' is neither a path"]),
    ('run = "pidof nginx >/dev/null"', 'at_boot = "nginx", run = "pidof nginx >/dev/null"', ["either run", "at_boot (a service)"]),
    ('faults = 2', 'faults = 4', ["no 4 faults can be drawn together"]),  # three groups
    ('faults = 2', 'faults = 12', ["12 faults per trainee, but the catalogue has 11"]),
    ('competency = "021"', 'competency = "099"', ["competency"]),
    ('report_names = ["pc1", "dns|resolv|nameserver|résolu"]', 'report_names = ["pc1", "dns("]', ["not a regular expression"]),
])
def test_catalogue_mistake_is_one_line_naming_file_and_key(home, old, new, fragments):
    text = home.read_text(encoding="utf-8")
    assert old in text
    home.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        faults.load_catalogue(load_lab(LAB))
    message = str(caught.value)
    assert "\n" not in message and str(home) in message
    for fragment in fragments:
        assert fragment in message


def test_conflicts_are_honoured(home):
    text = home.read_text(encoding="utf-8")
    # pc1-gateway hides r1-dhcp-exhausted: that pair is never drawn any more
    home.write_text(text.replace('group = "site"\ntitle = { fr = "pc1 a une mauvaise passerelle',
                                 'group = "site"\nconflicts = ["r1-dhcp-exhausted"]\ntitle = { fr = "pc1 a une mauvaise passerelle', 1),
                    encoding="utf-8")
    sets = faults.variants(faults.load_catalogue(load_lab(LAB)))
    assert ("pc1-gateway", "r1-dhcp-exhausted") not in sets and len(sets) == 20


# -- the ledger's comparison ------------------------------------------------------------------

BEFORE = {
    "files": {"/etc/nftables.conf": ["f", 0o755, 0, 0, "aa"], "/etc/network/interfaces.d/eth0": ["f", 0o644, 0, 0, "bb"],
              "/home/alice": ["d", 0o700, 1000, 1000, ""], "/etc/rc2.d/S01nginx": ["l", 0o777, 0, 0, "../init.d/nginx"],
              "/etc/motd": ["f", 0o644, 0, 0, "cc"]},
    "texts": {"/etc/nftables.conf": "table inet filter {\n  chain input {\n    policy drop;\n  }\n}\n"},
    "daemons": ["dnsmasq", "nginx", "sshd"], "packages": {"nginx-light": "1.22", "curl": "7.88"},
    "firewall": "table inet filter { policy drop }", "routes": "default via 10.0.0.1 dev eth0", "addresses": "eth0 UP 10.0.0.9/26",
}


def now(**changes):
    state = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in BEFORE.items()}
    for key, value in changes.items():
        state[key] = value
    return state


def test_compare_names_every_change_with_its_evidence():
    files = dict(BEFORE["files"])
    files["/etc/nftables.conf"] = ["f", 0o755, 0, 0, "zz"]
    files["/home/alice"] = ["d", 0o777, 1000, 1000, ""]
    del files["/etc/rc2.d/S01nginx"]
    files["/etc/cron.d/evil"] = ["f", 0o644, 0, 0, "dd"]
    after = now(files=files, daemons=["nginx", "sshd"], packages={"curl": "7.88"}, firewall="",
                routes="default via 10.0.0.2 dev eth0")
    changes = ledger.compare("srv1", BEFORE, after, read_text=lambda p: "table inet filter {\n}\n")
    by_key = {(c.kind, c.key): c for c in changes}
    assert set(by_key) == {("file", "/etc/nftables.conf"), ("file", "/home/alice"), ("file", "/etc/rc2.d/S01nginx"),
                           ("file", "/etc/cron.d/evil"), ("daemon", "dnsmasq"), ("package", "nginx-light"),
                           ("firewall", "firewall"), ("routes", "routes")}
    assert "-    policy drop;" in by_key[("file", "/etc/nftables.conf")].detail
    assert "mode 0700 -> 0777" in by_key[("file", "/home/alice")].what["en"]
    assert by_key[("file", "/etc/rc2.d/S01nginx")].what["en"] == "/etc/rc2.d/S01nginx was removed"
    assert by_key[("daemon", "dnsmasq")].what["fr"] == "le service dnsmasq ne tourne plus"
    assert by_key[("package", "nginx-light")].what["en"] == "package nginx-light removed"
    assert "+default via 10.0.0.2 dev eth0" in by_key[("routes", "routes")].detail
    assert ledger.compare("srv1", BEFORE, now()) == []  # the same state: nothing changed


def test_damage_leaves_out_the_scopes():
    files = dict(BEFORE["files"])
    files["/etc/nftables.conf"] = ["f", 0o755, 0, 0, "zz"]
    files["/etc/network/interfaces.d/eth0"] = ["f", 0o644, 0, 0, "yy"]
    del files["/etc/rc2.d/S01nginx"]
    files["/etc/motd"] = ["f", 0o666, 0, 0, "cc"]
    changes = ledger.compare("pc1", BEFORE, now(files=files, daemons=["sshd"], firewall="x", routes="y"))
    scope = ("/etc/network/", "/etc/rc*", "daemon:nginx", "routes", "firewall", "/etc/nftables.conf")
    harm = ledger.damage(changes, scope)
    assert {(c.kind, c.key) for c in harm} == {("file", "/etc/motd"), ("daemon", "dnsmasq")}
    # a path scope is a folder or the file itself, never a name that merely starts the same
    assert not ledger.Change("h", "file", "/etc/networks", {}).in_scope(("/etc/network/",))
    assert ledger.Change("h", "file", "/etc/network", {}).in_scope(("/etc/network/",))


# -- the intervention report ------------------------------------------------------------------

def test_report_sections_in_french_or_english():
    text = ("# Ticket 1\n## Symptôme\nLe site ne s'ouvre pas.\n## diagnostic :\nping, curl\n### Cause\npc1 : passerelle fausse\n"
            "## Action\nifup\n## Test\ncurl ok\n## Sources\nman interfaces\n## Suivi\nutilisateur prévenu\n")
    sections = report_sections(text)
    assert set(sections) == set(("symptom", "diagnosis", "cause", "action", "test", "sources", "follow-up"))
    assert sections["cause"] == "pc1 : passerelle fausse"
    english = report_sections("## Symptom\nx\n## Follow-up\ny\n## Other\nz\n")
    assert english == {"symptom": "x", "follow-up": "y"}
    assert report_sections("no heading at all") == {}


TROUBLESHOOTING_LABS = ("troubleshoot-network", "troubleshoot-system")


@pytest.mark.parametrize("lab_id", TROUBLESHOOTING_LABS)
def test_every_fault_rendered_for_a_trainee_names_its_cause_in_its_title(lab_id):
    """A trainee's faults come with their placeholders replaced (title, ticket, report names,
    scope), and each title, the cause of the reference report, holds its report names: the
    report check can pass, in French and in English."""
    import re

    lab = load_lab(lab_id)
    seen = set()
    for seed in range(40):
        plan = generate(lab, seed)
        for fault in faults.drawn(lab, plan.expected, plan.params):
            seen.add(fault.id)
            texts = [*fault.title.values(), *fault.ticket.values(), *fault.report_names,
                     *(i for items in fault.scope.values() for i in items)]
            assert not any("{{" in text for text in texts), fault.id
            for lang, title in fault.title.items():
                assert all(re.search(p, title, re.I) for p in fault.report_names), (fault.id, lang, title)
    assert seen == set(faults.load_catalogue(lab).faults)


def test_system_catalogue_every_variant_is_fair():
    catalogue = faults.load_catalogue(load_lab("troubleshoot-system"))
    assert len(catalogue.faults) == 8 and catalogue.count == 3
    sets = faults.variants(catalogue)
    assert len(sets) == 21
    for chosen in sets:
        members = [catalogue.faults[f] for f in chosen]
        assert len({f.group for f in members}) == 3
        assert not ({"srv1-dns-stopped"} < set(chosen) and {"srv1-nginx-syntax", "srv1-nginx-corrupted"} & set(chosen))
        assert 4 <= sum(f.difficulty for f in members) <= 6
    # the full disk is injected last (the others while there is room) and repaired first
    assert list(catalogue.faults)[-1] == "ws1-disk-full"


def test_a_login_probe_needs_its_user_and_password(home):
    text = home.read_text()
    old = 'symptom = [{ host = "pc2", run = "ping -c 1 -W 2 {{ expected.r1_a }} >/dev/null"'
    assert old in text
    home.write_text(text.replace(old, 'symptom = [{ host = "pc2", login = "bob"', 1))
    with pytest.raises(UserError) as raised:
        faults.load_catalogue(load_lab(LAB))
    message = str(raised.value)
    assert "\n" not in message and "needs both login and password" in message and "symptom[0]" in message
    home.write_text(text.replace(old, 'symptom = [{ host = "pc2", login = "bob", password = "{{ expected.r1_a }}"', 1))
    probe = faults.load_catalogue(load_lab(LAB)).faults["r1-dhcp-stopped"].symptom[0]
    assert (probe.login, probe.password, probe.run) == ("bob", "{{ expected.r1_a }}", None)
