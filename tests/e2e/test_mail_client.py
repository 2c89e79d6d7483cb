"""mail-client end to end, on the real virtual lab (postfix, dovecot and NeoMutt in the hosts):
untouched, solved, a reboot, read-only grading, a sample trainee's partial work, and the
Thunderbird variant of the lab (untouched and solved). Each requirement broken alone, and other
correct ways, are the lab's self-test (labs/mail-client/faults.toml, run by test_selftest.py for
NeoMutt's seed; `tspcr-lab selftest mail-client --seed 3` runs them on Thunderbird's)."""

from __future__ import annotations

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, tree_digest

INSTANCE = "e2e-mail"
SEED = 4242  # draws the NeoMutt client
THUNDERBIRD_SEED = 3
EXPECTED = generate(load_lab("mail-client"), SEED).expected
assert EXPECTED["client"] == "neomutt"
assert generate(load_lab("mail-client"), THUNDERBIRD_SEED).expected["client"] == "thunderbird"

POINTS = {
    "test_incoming_server": 2, "test_outgoing_server": 2, "test_identity": 1, "test_imap_login_works": 2,
    "test_smtp_login_works": 2, "test_address_book_imported": 2, "test_test_message_delivered": 3,
    "test_server_refuses_plaintext_login": 0,
}
ALL_CHECKS = set(POINTS)
SANITY = {"test_server_refuses_plaintext_login"}
MAX = sum(POINTS.values())
LOGIN = EXPECTED["login"]
MAILBOX = f"/home/{EXPECTED['recipient_login']}/Maildir"
SERVICES_READY = "for i in $(seq 50); do ss -ltn | grep -q ':993 ' && ss -ltn | grep -q ':587 ' && exit 0; sleep 0.1; done; exit 1"


@pytest.fixture(scope="module")
def lab():
    lab = LabUnderTest("mail-client", INSTANCE, SEED).up()
    lab.snapshot("untouched")
    lab.cli("solve", check=True)
    lab.on("srv1", f"for i in $(seq 50); do ls {MAILBOX}/new | grep -q . && exit 0; sleep 0.1; done; exit 1")
    lab.snapshot("solved")
    lab.on("srv1", SERVICES_READY)
    yield lab
    lab.down()


def restore(lab, name: str, hosts) -> None:
    lab.restore(name, hosts)
    if "srv1" in hosts:
        lab.on("srv1", SERVICES_READY)


def test_untouched_lab_fails_with_clear_messages(lab, tmp_path):
    restore(lab, "untouched", ["pc1", "srv1"])
    code, results = lab.grade(tmp_path)
    try:
        assert code == 1
        assert by_status(results, "failed") == ALL_CHECKS - SANITY
        assert by_status(results, "passed") == SANITY  # the lab's server refuses cleartext logins
        assert results["score"] == 0 and results["complete"] is True
        assert results["competencies"]["010"]["mastered"] is False
        messages = {c["id"]: c["message"] for c in results["checks"]}
        assert messages["test_incoming_server"] == f"pas de configuration NeoMutt pour {LOGIN} (~/.neomuttrc n'existe pas)"
        assert messages["test_test_message_delivered"] == (
            f"aucun message « {EXPECTED['test_subject']} » dans la boîte de {EXPECTED['test_recipient']} "
            "(objets trouvés : aucun)")
        assert all(c["hint"] for c in results["checks"] if c["status"] == "failed")
    finally:
        restore(lab, "solved", ["pc1", "srv1"])


def test_solved_lab_gets_the_maximum(lab, tmp_path):
    code, results = lab.grade(tmp_path)
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == MAX
    assert results["competencies"] == {
        "010": {"earned": float(MAX), "max": float(MAX), "mastered": True, "complete": True, "critical_failed": False}}
    # Passwords are masked in the evidence.
    text = (tmp_path / "results.json").read_text()
    assert EXPECTED["password"] not in text and EXPECTED["recipient_password"] not in text
    assert "********" in text


def test_grading_leaves_the_hosts_files_unchanged(lab, tmp_path):
    # The server's logs record the grader's logins, as they record any login: they are the only
    # files grading may change. Mailboxes (read-only EXAMINE, BODY.PEEK, indexes in memory), the
    # client's files and everything else stay as they were.
    logs = {"var/log/postfix.log", "var/log/dovecot.log"}

    def digest():
        return {h: {k: v for k, v in tree_digest(lab.vlab.host_dir(h) / "upper").items() if k not in logs}
                for h in ("pc1", "srv1")}

    before = digest()
    code, _ = lab.grade(tmp_path)
    assert code == 0
    assert digest() == before


def test_solution_survives_reboot(lab, tmp_path):
    for host in ("pc1", "srv1"):
        lab.vlab.reboot(host)
    lab.on("srv1", SERVICES_READY)
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


def test_sample_partial_work(lab, tmp_path):
    restore(lab, "untouched", ["pc1", "srv1"])
    try:
        lab.cli("solve", "--sample", "partial", check=True)
        lab.on("srv1", f"for i in $(seq 50); do ls {MAILBOX}/new | grep -q . && exit 0; sleep 0.1; done; exit 1")
        code, results = lab.grade(tmp_path)
    finally:
        restore(lab, "solved", ["pc1", "srv1"])
    assert code == 1
    assert by_status(results, "failed") == {"test_incoming_server", "test_address_book_imported"}
    assert results["score"] == MAX - 4 and results["competencies"]["010"]["mastered"] is True


def test_thunderbird_variant(lab, tmp_path):
    """The other client of the lab: the same checks read a Thunderbird profile and abook.sqlite."""
    lab.down()
    tb = LabUnderTest("mail-client", INSTANCE, THUNDERBIRD_SEED).up()
    code, results = tb.grade(tmp_path / "untouched")
    assert code == 1 and by_status(results, "failed") == ALL_CHECKS - SANITY
    assert "profiles.ini n'existe pas" in {c["id"]: c["message"] for c in results["checks"]}["test_identity"]
    tb.cli("solve", check=True)
    code, results = tb.grade(tmp_path / "solved")
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert results["score"] == MAX


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/mail-client/faults.toml)."""
    assert_selftest_passes("mail-client")



def test_selftest_with_thunderbird():
    """The same cases on a copy whose trainee was asked for Thunderbird (seed 3)."""
    assert_selftest_passes("mail-client", "--seed", "3")
