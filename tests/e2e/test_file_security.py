"""file-security end to end, on the real virtual lab: untouched, solved, after a reboot, a sample
trainee's work, and grading that leaves the host's files as they were (on a solved and on a
broken tree). Each requirement broken alone, from both sides, and the other correct ways are the
lab's self-test (labs/file-security/faults.toml, run by test_selftest.py)."""

from __future__ import annotations

import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate

from .conftest import LabUnderTest, assert_selftest_passes, by_status, cli, tree_digest

LAB, INSTANCE, SEED = "file-security", "e2e-filesec", 2015
FOLDERS = ["base", "dept1", "dept2", "direction", "common", "notes"]
INHERITING = ["dept1", "dept2", "direction", "common", "notes"]
ALL_CHECKS = (
    {f"test_structure[{f}]" for f in FOLDERS}
    | {f"test_access[{f}]" for f in FOLDERS}
    | {f"test_inheritance[{f}]" for f in INHERITING}
)
MAX_SCORE = 6 * 1 + 6 * 2 + 5 * 1


@pytest.fixture(scope="module")
def fs():
    lab = LabUnderTest(LAB, INSTANCE, SEED).up_with_snapshots()
    yield lab
    lab.down()


EXPECTED = generate(load_lab(LAB), SEED).expected


def expected() -> dict:
    return EXPECTED


def test_untouched_lab_fails_with_messages_that_teach(fs, tmp_path):
    fs.restore("untouched")
    code, results = fs.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == ALL_CHECKS
    assert results["score"] == 0 and results["complete"] is True
    messages = {c["id"]: c["message"] for c in results["checks"]}
    e = expected()
    base, contractor = e["folders"]["base"], e["users"]["contractor"]
    assert messages["test_structure[base]"] == (
        f"droits du dossier [1] {base} : groupe : attendu {e['groups']['staff']}, trouvé root ; "
        "mode : attendu 0750, trouvé 0777 ; entrée ACL group:: : attendu r-x, trouvé rwx ; "
        "entrée ACL other:: : attendu ---, trouvé rwx"
    )
    assert messages["test_structure[dept1]"] == f"le dossier [2] {e['folders']['dept1']} n'existe pas"
    # Verified by doing: the outside contractor gets into the wide-open base folder.
    assert (f"{contractor} (droit -) : lister le dossier autorisé (attendu refusé), lire un document autorisé "
            "(attendu refusé), créer un fichier autorisé (attendu refusé), supprimer un document autorisé "
            "(attendu refusé)") in messages["test_access[base]"]
    assert all(c["hint"] for c in results["checks"]), "every failed check has a hint"


def test_solved_lab_gets_the_maximum(fs, tmp_path):
    fs.restore("solved")
    code, results = fs.grade(tmp_path)
    assert code == 0, [(c["id"], c["message"]) for c in results["checks"] if c["status"] != "passed"]
    assert by_status(results, "passed") == ALL_CHECKS
    assert results["score"] == results["max_score"] == MAX_SCORE
    assert results["competencies"] == {
        "015": {"earned": MAX_SCORE, "max": MAX_SCORE, "mastered": True, "complete": True, "critical_failed": False},
    }
    evidence = {c["id"]: c["evidence"] for c in results["checks"]}
    # The functional check really ran as the users (runuser), one command each.
    commands = [e["command"] for e in evidence["test_access[dept1]"]]
    assert sum("runuser -u" in c for c in commands) == len(expected()["users"])


def test_solution_survives_a_reboot(fs, tmp_path):
    fs.restore("solved")
    cli("reboot", "srv1", "--instance", INSTANCE, check=True)
    code, results = fs.grade(tmp_path)
    assert code == 0 and by_status(results, "passed") == ALL_CHECKS


def test_sample_partial_work(fs, tmp_path):
    fs.restore("untouched")
    fs.cli("solve", "--sample", "partial", check=True)
    code, results = fs.grade(tmp_path)
    assert code == 1
    assert by_status(results, "failed") == {
        "test_structure[dept1]", "test_structure[dept2]", "test_inheritance[dept1]", "test_inheritance[dept2]",
        "test_structure[notes]", "test_access[notes]", "test_inheritance[notes]",
    }
    assert results["score"] == MAX_SCORE - 8
    messages = {c["id"]: c["message"] for c in results["checks"]}
    assert "bit setgid du dossier" in messages["test_inheritance[dept1]"]
    assert "aucune ACL par défaut" in messages["test_structure[dept2]"]


@pytest.mark.parametrize("state", ["solved", "broken"])
def test_grading_leaves_the_hosts_files_unchanged(fs, tmp_path, state):
    """Every probe file and folder a check creates is removed, even when the check fails midway,
    and the folders' modification times are put back."""
    fs.restore("solved")
    if state == "broken":
        e = expected()
        f = e["folders"]
        # failing checks of every kind, several of them after creating their probe files
        fs.on("srv1", f"setfacl -k {f['common']}; chmod g-s {f['dept1']}; chmod o+rx {f['dept2']};"
                      f" setfacl -m u:{e['users']['intern']}:rwx {f['notes']}")
    upper = fs.vlab.host_dir("srv1") / "upper"
    before = tree_digest(upper)
    code, results = fs.grade(tmp_path)
    after = tree_digest(upper)
    assert code == (0 if state == "solved" else 1)
    if state == "broken":
        assert len(by_status(results, "failed")) >= 6
    assert before == after
    leftovers = fs.on("srv1", f"find {expected()['folders']['base']} -name '.tspcr-check-*'")
    assert leftovers == ""


def test_selftest():
    """Each requirement broken alone, its other sides, and the other correct ways
    (labs/file-security/faults.toml)."""
    assert_selftest_passes("file-security")
