"""shares end to end, on the real virtual lab (Samba in the hosts): untouched, solved, after a
reboot, smbd stopped, pc1 unreachable, read-only grading. Each requirement broken alone, from
both sides, and the other correct ways are the lab's self-test (labs/shares/faults.toml, run by
test_selftest.py)."""

from __future__ import annotations

import pytest

from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, tree_digest

SEED = 3535
INSTANCE = "e2e-shares"
HOSTS = ("pc1", "srv1")

ALL_CHECKS = {
    "test_smb_service", "test_workgroup",
    "test_groups[dept1]", "test_groups[dept2]", "test_samba_accounts",
    "test_user_access[user1]", "test_user_access[user2]", "test_user_access[user3]", "test_user_access[user4]",
    "test_disabled_account",
    "test_department_share[dept1]", "test_department_share[dept2]",
    "test_directory_permissions[dept1]", "test_directory_permissions[dept2]", "test_directory_permissions[docs]",
    "test_readonly_share", "test_no_guest_access",
}
MAXIMA = {"033": 3.0, "034": 13.0, "035": 11.0}
# Checks that only read srv1's own state: they do not need pc1.
SERVER_ONLY = {"test_workgroup", "test_groups[dept1]", "test_groups[dept2]", "test_samba_accounts",
               "test_directory_permissions[dept1]", "test_directory_permissions[dept2]",
               "test_directory_permissions[docs]"}


@pytest.fixture(scope="module")
def lab():
    # The trainee's work is all on srv1 (pc1 only tests): only srv1 is snapshotted and restored.
    under_test = LabUnderTest("shares", INSTANCE, SEED).up_with_snapshots(["srv1"])
    yield under_test
    under_test.down()


@pytest.fixture(scope="module")
def expected(lab):
    return generate(lab.lab, SEED).expected


def test_untouched_lab_fails_with_clear_messages(lab, expected, tmp_path):
    lab.restore("untouched", ["srv1"])
    code, results = lab.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == ALL_CHECKS
    assert results["score"] == 0 and results["complete"] is True
    messages = {c["id"]: c["message"] for c in results["checks"]}
    user1 = expected["users"]["user1"]["name"]
    departed = expected["departed"]["name"]
    assert messages["test_workgroup"] == (
        f"groupe de travail (workgroup) de srv1 : attendu {expected['workgroup']}, trouvé WORKGROUP")
    assert messages["test_user_access[user1]"].startswith(f"{user1} n'a pas de compte Samba sur srv1 (smbpasswd -a)")
    assert messages["test_disabled_account"] == (
        f"le compte Samba de {departed} n'est pas désactivé (pdbedit : pas d'indicateur D)")
    assert "partage" in messages["test_no_guest_access"] and "existe toujours" in messages["test_no_guest_access"]
    assert all(c["hint"] for c in results["checks"]), "every failed check of shares has a hint"


def test_solved_lab_gets_the_maximum(lab, tmp_path):
    lab.restore("solved", ["srv1"])
    code, results = lab.grade(tmp_path)
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == sum(MAXIMA.values())
    assert results["competencies"] == {
        code: {"earned": points, "max": points, "mastered": True, "complete": True, "critical_failed": False}
        for code, points in MAXIMA.items()
    }
    # The evidence shows real SMB sessions from pc1.
    evidence = [e for c in results["checks"] if c["id"] == "test_user_access[user1]" for e in c["evidence"]]
    assert any(e["host"] == "pc1" and "smbclient" in e["command"] for e in evidence)


def test_solution_survives_reboot(lab, tmp_path):
    lab.restore("solved", ["srv1"])  # restoring reboots srv1, where all the work is
    lab.vlab.reboot("pc1")
    # Graded right after the reboot: smbd may still be starting, which is not the trainee's fault.
    code, results = lab.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


def test_stopped_smbd_is_the_trainees_failure(lab, tmp_path):
    lab.restore("solved", ["srv1"])
    lab.on("srv1", "service smbd stop")
    code, results = lab.grade(tmp_path)
    assert code == 1 and by_status(results, "error") == set()
    assert by_status(results, "failed") == ALL_CHECKS - SERVER_ONLY
    message = next(c["message"] for c in results["checks"] if c["id"] == "test_smb_service")
    assert "445" in message and "smbd" in message
    access = next(c["message"] for c in results["checks"] if c["id"] == "test_user_access[user1]")
    assert "NT_STATUS_CONNECTION_REFUSED" in access


def test_a_pc_that_is_not_running_gives_errors_not_failures(lab, tmp_path):
    """pc1 stopped dead: what needs pc1 is an error, what is read on srv1 alone is scored."""
    lab.restore("solved", ["srv1"])
    with lab.altered("pc1"):
        code, results = lab.grade(tmp_path)
    assert code == 3 and results["complete"] is False
    assert by_status(results, "failed") == set()
    assert by_status(results, "passed") == SERVER_ONLY
    assert by_status(results, "error") == ALL_CHECKS - SERVER_ONLY


def test_a_trainee_cutting_the_grader_off_pc1_changes_nothing(lab, tmp_path):
    """pc1's sshd stopped and its management interface down: the grader still reads pc1 through
    its console, and the shares (reached from pc1 over the lab's network) are judged as usual."""
    lab.restore("solved", ["srv1"])
    with lab.altered("pc1", "service ssh stop; ip link set mgmt0 down"):
        code, results = lab.grade(tmp_path)
    assert code == 0 and results["complete"] is True, by_status(results, "error") | by_status(results, "failed")


def test_grading_leaves_the_hosts_files_unchanged(lab, expected, tmp_path):
    """Probe files written over SMB are removed and their folder's time put back. What Samba writes
    about its own running (var/cache/samba: per-connection profile counters; var/log/samba: a log
    file per client, log.%m, created at a client's first connection, and the RPC helpers' logs) is
    the service's, as an sshd log line would be, not the trainee's work; everything else,
    including the share folders, smb.conf and the account database, must be byte for byte the same."""
    lab.restore("solved", ["srv1"])
    service_own = ("var/cache/samba/", "var/log/samba")

    def digest(host):
        return {path: value for path, value in tree_digest(lab.vlab.host_dir(host) / "upper").items()
                if not path.startswith(service_own)}

    before = {host: digest(host) for host in HOSTS}
    code, _ = lab.grade(tmp_path)
    after = {host: digest(host) for host in HOSTS}
    assert code == 0
    changed = {host: sorted(k for k in set(before[host]) | set(after[host]) if before[host].get(k) != after[host].get(k))
               for host in HOSTS}
    assert changed == {host: [] for host in HOSTS}
    covered = set(before["srv1"])
    assert "etc/samba/smb.conf" in covered and "var/lib/samba/private/passdb.tdb" in covered
    for department in expected["departments"].values():
        assert department["path"].lstrip("/") in covered


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/shares/faults.toml)."""
    assert_selftest_passes("shares")
