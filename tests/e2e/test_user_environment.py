"""user-environment end to end, on the real virtual lab: untouched, solved, after a reboot, a
sample trainee's partial work, an unreachable PC, hostile strings and read-only grading. The checks
log in as the lab's users for real (SSH password, terminal, login shell; su - without a terminal),
so every result here comes from bash reading the logon script in a real session. Each requirement
broken alone, and other correct ways, are the lab's self-test (labs/user-environment/faults.toml,
run by test_selftest.py)."""

from __future__ import annotations

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, cli, tree_digest

LAB, INSTANCE, SEED = "user-environment", "e2e-userenv", 2026
EXPECTED = generate(load_lab(LAB), SEED).expected
USERS = ("user1", "user2", "user3")
POINTS = {"test_logon_script": 1, "test_banner": 2, "test_skeleton": 2,
          **{f"test_network_folder[{u}]": 1 for u in USERS}, **{f"test_variables[{u}]": 1 for u in USERS}}
ALL_CHECKS = set(POINTS)
MAX = sum(POINTS.values())
SCRIPT = EXPECTED["logon_script"]
# What a login itself records on the PC (sshd and PAM): not the trainee's work.
# (The first login copies var/log up into the PC's own layer: hence its folders.)
LOGIN_RECORDS = {"var", "var/log", "var/log/wtmp", "var/log/lastlog", "var/log/btmp"}


@pytest.fixture(scope="module")
def env_lab():
    lab = LabUnderTest(LAB, INSTANCE, SEED).up_with_snapshots()
    yield lab
    lab.down()


def test_untouched_lab_fails_with_clear_messages(env_lab, tmp_path):
    env_lab.restore("untouched")
    code, results = env_lab.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == ALL_CHECKS
    assert results["score"] == 0 and results["max_score"] == MAX and results["complete"] is True
    messages = {c["id"]: c["message"] for c in results["checks"]}
    user1 = EXPECTED["users"]["user1"]
    assert messages["test_logon_script"].startswith(f"le script d'ouverture de session {SCRIPT} n'existe pas")
    assert messages["test_variables[user1]"] == (
        f"variable COMPANY dans la session de {user1['name']} : attendu {EXPECTED['company']}, trouvé rien")
    assert f"pas de lien ~/{EXPECTED['link_name']} dans la session de {user1['name']}" in messages["test_network_folder[user1]"]
    assert EXPECTED["banner"] in messages["test_banner"] and user1["name"] in messages["test_banner"]
    assert f"ne reçoit pas le fichier {EXPECTED['skel_file']}" in messages["test_skeleton"]
    assert all(c["hint"] for c in results["checks"]), "every failed check has a hint"
    # The evidence of a session check is the session itself, banner and all, as the user saw it.
    evidence = next(c for c in results["checks"] if c["id"] == "test_variables[user1]")["evidence"]
    assert evidence[0]["command"].startswith(f"ssh {user1['name']}@") and "login session" in evidence[0]["command"]


def test_solved_lab_gets_the_maximum(env_lab, tmp_path):
    env_lab.restore("solved")
    code, results = env_lab.grade(tmp_path)
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == MAX
    assert results["competencies"] == {
        "036": {"earned": float(MAX), "max": float(MAX), "mastered": True, "complete": True, "critical_failed": False},
    }
    html = (tmp_path / "report.html").read_text()
    assert "Gérer l’environnement des utilisateurs" in html and f"{MAX} / {MAX}" in html


def test_solution_survives_a_reboot(env_lab, tmp_path):
    env_lab.restore("solved")
    env_lab.cli("grade", "--out", str(tmp_path / "first"), check=True)  # first logins make the links
    cli("reboot", "pc1", "--instance", INSTANCE, check=True)
    code, results = env_lab.grade(tmp_path / "after")
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


def script_edit(sed: str) -> str:
    return f"sed -i {sed} {SCRIPT}"


def test_sample_partial_work(env_lab, tmp_path):
    env_lab.restore("untouched")
    env_lab.cli("solve", "--sample", "partial", check=True)
    code, results = env_lab.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == {"test_banner", "test_skeleton"} | {f"test_network_folder[{u}]" for u in USERS}
    assert results["score"] == MAX - 2 - 2 - 3
    message = next(c for c in results["checks"] if c["id"] == "test_banner")["message"]
    assert "n'en est pas membre" in message and EXPECTED["users"]["user3"]["name"] in message


def test_a_pc_that_is_not_running_gives_errors_not_failures(env_lab, tmp_path):
    """pc1 stopped dead (not the trainee's doing): nothing can be observed, nothing is scored."""
    env_lab.restore("solved")
    with env_lab.altered("pc1"):
        code, results = env_lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "error") == ALL_CHECKS
    assert by_status(results, "failed") == set()


def test_sshd_stopped_by_the_trainee_is_their_result_not_an_error(env_lab, tmp_path):
    """No user can open a session on pc1: the session checks fail, they are not errors."""
    env_lab.restore("solved")
    with env_lab.altered("pc1", "service ssh stop >/dev/null"):
        code, results = env_lab.grade(tmp_path)
    assert code == 1 and results["complete"] is True
    assert by_status(results, "error") == set() and by_status(results, "failed")


HOSTILE = "<img src=x onerror=alert(1)>"


def test_hostile_values_are_escaped_in_the_report(env_lab, tmp_path):
    env_lab.restore("solved")
    env_lab.on("pc1", script_edit(f"'s/^export COMPANY=.*/export COMPANY=\"{HOSTILE}\"/'"))
    code, results = env_lab.grade(tmp_path)
    assert code == 1 and by_status(results, "failed") == {f"test_variables[{u}]" for u in USERS}
    message = next(c for c in results["checks"] if c["id"] == "test_variables[user1]")["message"]
    assert HOSTILE in message
    html = (tmp_path / "report.html").read_text()
    assert "img src=x onerror" in html, "the value is shown"
    assert HOSTILE not in html, "but escaped"


def test_grading_leaves_the_hosts_files_unchanged(env_lab, tmp_path):
    env_lab.restore("solved")
    upper = env_lab.vlab.host_dir("pc1") / "upper"
    link = EXPECTED["link_name"]

    def changed(before, after):
        return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}

    fresh = tree_digest(upper)
    env_lab.cli("grade", "--out", str(tmp_path / "first"), check=True)
    first = tree_digest(upper)
    # The users' first logins: the trainee's logon script makes their links, as it must; the
    # write test through the link leaves the network folders as they were (content and times).
    homes = {f"home/{u['name']}" for u in EXPECTED["users"].values()}
    assert changed(fresh, first) - LOGIN_RECORDS == homes | {f"{h}/{link}" for h in homes}
    env_lab.cli("grade", "--out", str(tmp_path / "second"), check=True)
    second = tree_digest(upper)
    # Once the links exist, grading changes nothing but the system's own login records.
    assert changed(first, second) <= LOGIN_RECORDS


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/user-environment/faults.toml)."""
    assert_selftest_passes("user-environment")
