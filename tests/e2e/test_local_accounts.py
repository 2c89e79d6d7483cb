"""local-accounts end to end, on the real virtual lab: untouched, solved (and grading changes no
file), after a reboot, each requirement broken alone, accepted alternatives, hostile strings and
an unreachable PC. The checks log in as the lab's users for real (SSH password through sshd and
PAM) and ask the host's own libpwquality about candidate passwords.

Grading a broken lab takes ~6 s (a refused login alone costs PAM's 2-3 s failure delay), so the
breaks are applied in a few batches: within a batch, every break touches other checks (a guard
test proves the sets are disjoint), the batch is graded once, and each break still has its own
test, asserting its checks fail, and that the batch fails exactly the union of its breaks' checks.
"""

from __future__ import annotations

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, cli, tree_digest

LAB, INSTANCE, SEED = "local-accounts", "e2e-accounts", 3141
EXPECTED = generate(load_lab(LAB), SEED).expected
U1 = EXPECTED["users"][0]["login"]
G1, G2 = EXPECTED["groups"]
USERS = ("user1", "user2", "user3")
POINTS = {
    **{f"test_account[{u}]": ("009", 1) for u in USERS},
    **{f"test_groups[{u}]": ("009", 1) for u in USERS},
    **{f"test_password[{u}]": ("009", 2) for u in USERS},
    "test_skeleton": ("009", 1), "test_homes_from_skeleton": ("009", 2), "test_homes_private": ("009", 1),
    **{f"test_password_ageing[{u}]": ("014", 1) for u in USERS},
    "test_must_change": ("014", 1), "test_complexity_policy": ("014", 2), "test_weak_passwords_refused": ("014", 2),
    "test_disabled_account": ("014", 2), "test_profile_archived": ("014", 2), "test_departed_account_removed": ("014", 2),
}
ALL_CHECKS = set(POINTS)
MAX = {"009": 16, "014": 14}
# What a login itself records on the PC (sshd and PAM), and the folders the overlay copies up to
# hold them the first time: not the trainee's work.
LOGIN_RECORDS = {"var/log/wtmp", "var/log/lastlog", "var/log/btmp", "var/log", "var"}
ON_LEAVE, DEPARTING, ARCHIVE = EXPECTED["on_leave"], EXPECTED["departing"], EXPECTED["archive"]


@pytest.fixture(scope="module")
def accounts():
    lab = LabUnderTest(LAB, INSTANCE, SEED).up_with_snapshots()
    yield lab
    lab.down()


def test_untouched_lab_fails_with_clear_messages(accounts, tmp_path):
    accounts.restore("untouched")
    code, results = accounts.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == ALL_CHECKS
    assert results["score"] == 0 and results["max_score"] == 30 and results["complete"] is True
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert messages["test_account[user1]"] == f"le compte {U1} n'existe pas sur pc1"
    assert messages["test_groups[user2]"] == f"groupe(s) de sécurité absent(s) sur pc1 : {G1}, {G2}"
    assert messages["test_skeleton"] == f"le fichier {EXPECTED['skel_file']} n'existe pas sur pc1"
    assert messages["test_complexity_policy"] == (
        f"longueur minimale (minlen) appliquée : attendu {EXPECTED['minlen']}, trouvé 8")
    short = EXPECTED["candidates"]["too_short"]
    assert messages["test_weak_passwords_refused"] == (
        f"le mot de passe « {short} » ({len(short)} caractères, trop court) est accepté : il doit être refusé")
    assert messages["test_disabled_account"] == f"{ON_LEAVE['login']} peut encore se connecter avec son mot de passe"
    assert messages["test_profile_archived"] == f"l'archive {ARCHIVE} n'existe pas sur pc1"
    assert messages["test_departed_account_removed"] == f"le compte {DEPARTING['login']} existe encore"
    assert all(c["hint"] for c in results["checks"]), "every failed check has a hint"
    assert results["competencies"]["014"]["critical_failed"] is True
    # The evidence of the disabled account is the login attempt itself.
    evidence = next(c for c in results["checks"] if c["id"] == "test_disabled_account")["evidence"]
    assert any(e["command"].startswith(f"ssh {ON_LEAVE['login']}@pc1 (password)") and e["rc"] == 0 for e in evidence)


def test_solved_lab_gets_the_maximum_and_grading_changes_no_file(accounts, tmp_path):
    accounts.restore("solved")
    upper = accounts.vlab.host_dir("pc1") / "upper"
    before = tree_digest(upper)
    code, results = accounts.grade(tmp_path)
    after = tree_digest(upper)
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == 30
    assert results["competencies"] == {
        code: {"earned": float(m), "max": float(m), "mastered": True, "complete": True, "critical_failed": False}
        for code, m in MAX.items()
    }
    html = (tmp_path / "report.html").read_text()
    assert "Créer des comptes et des profils utilisateurs locaux" in html and "30 / 30" in html
    # Logins (sessions included) and password checks leave every file as it was, homes included;
    # only the system's own login records change.
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= LOGIN_RECORDS, changed


def test_solution_survives_a_reboot(accounts, tmp_path):
    accounts.restore("solved")
    cli("reboot", "pc1", "--instance", INSTANCE, check=True)
    code, results = accounts.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


# Each requirement broken alone, and the other correct ways: labs/local-accounts/faults.toml, run by
# test_selftest below (tspcr-lab selftest local-accounts).


def test_sample_partial_work(accounts, tmp_path):
    accounts.restore("untouched")
    accounts.cli("solve", "--sample", "partial", check=True)
    code, results = accounts.grade(tmp_path)
    assert code == 1
    failed = by_status(results, "failed")
    assert failed == {
        "test_homes_from_skeleton", "test_groups[user2]", "test_password_ageing[user3]", "test_complexity_policy",
        "test_weak_passwords_refused", "test_disabled_account", "test_profile_archived",
        "test_departed_account_removed",
    }
    assert results["score"] == 30 - sum(POINTS[c][1] for c in failed) == 16
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "que son shell refuse ensuite la session ne suffit pas" in messages["test_disabled_account"]
    assert messages["test_profile_archived"] == (
        f"fichiers de {DEPARTING['home']} absents de l'archive : .signature")
    assert messages["test_departed_account_removed"] == f"le dossier personnel {DEPARTING['home']} existe encore"
    assert results["competencies"]["009"]["mastered"] is True  # 13 / 16
    assert results["competencies"]["014"]["mastered"] is False


HOSTILE = "<script>alert(1)</script>"


def test_hostile_strings_are_escaped_in_the_report(accounts, tmp_path):
    accounts.restore("solved")
    accounts.on("pc1", f"usermod -c '{HOSTILE}' {U1}")
    code, results = accounts.grade(tmp_path, "--trainee", "<img src=x onerror=alert(2)>")
    assert code == 1 and by_status(results, "failed") == {"test_account[user1]"}
    message = next(c for c in results["checks"] if c["id"] == "test_account[user1]")["message"]
    assert message == f"nom complet (GECOS) de {U1} : attendu {EXPECTED['users'][0]['full_name']}, trouvé {HOSTILE}"
    html = (tmp_path / "report.html").read_text()
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)" in html.replace("&amp;", "&") and "&lt;img src=x" in html


def test_a_pc_that_is_not_running_gives_errors_not_failures(accounts, tmp_path):
    """pc1 stopped dead (not the trainee's doing): nothing can be observed, nothing is scored."""
    accounts.restore("solved")
    with accounts.altered("pc1"):
        code, results = accounts.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "error") == ALL_CHECKS
    assert by_status(results, "failed") == set()


def test_sshd_stopped_by_the_trainee_is_their_result_not_an_error(accounts, tmp_path):
    """The grader reads pc1 through its console whatever the trainee did to sshd: the checks that
    need a user's SSH login fail (the users cannot log in), the others pass; the grade is complete."""
    accounts.restore("solved")
    with accounts.altered("pc1", "service ssh stop >/dev/null"):
        code, results = accounts.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "error") == set()
    failed = by_status(results, "failed")
    assert failed and by_status(results, "passed"), failed
    messages = [c["message"] for c in results["checks"] if c["status"] == "failed"]
    assert all("SSH" in m or "ssh" in m or "connexion" in m.lower() or "session" in m.lower() for m in messages), messages


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/local-accounts/faults.toml)."""
    assert_selftest_passes("local-accounts")
