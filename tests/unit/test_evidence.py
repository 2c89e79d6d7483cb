"""Evidence files and signatures: verify tells an intact folder from an altered one, and a class
folder whose trainee folders were renamed, swapped, removed or added."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil

import pytest

from tspcr_lab.cli import main as cli_main
from tspcr_lab.errors import UserError
from tspcr_lab.evidence import identity, load_key, sign, verify, write_evidence

KEY = b"k" * 64
RESULTS = {"checks": [
    {"id": "test_address[pc1]", "competency": "030", "status": "failed", "message": "m", "kind": "auto",
     "evidence": [{"time": "2026-11-28T10:00:00+0000", "host": "pc1", "command": "ip -j addr", "rc": 0,
                   "duration": 0.01, "stdout": "[]\n", "stderr": ""}]},
    {"id": "../../etc/passwd", "competency": "030", "status": "passed", "message": "", "kind": "auto", "evidence": []},
    {"id": "assembly", "competency": "001", "status": "pending", "message": "", "kind": "manual"},
]}


@pytest.fixture
def graded(tmp_path):
    folder = tmp_path / "t01"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(RESULTS))
    (folder / "report.html").write_text("<html>report</html>")
    write_evidence(folder, RESULTS)
    sign(folder, KEY)
    return folder


def test_evidence_files_hold_commands_outputs_and_times(graded):
    files = sorted(p.name for p in (graded / "evidence").iterdir())
    assert files == ["01-test_address_pc1.txt", "02-etc_passwd.txt"]  # no manual item, no path escape
    text = (graded / "evidence" / files[0]).read_text()
    assert "[2026-11-28T10:00:00+0000] pc1$ ip -j addr" in text and "exit code: 0" in text and "[]" in text


def test_intact_folder(graded):
    [verdict] = verify(graded, KEY)
    assert verdict.intact and verdict.problems == []


@pytest.mark.parametrize("change, problem", [
    (lambda f: (f / "results.json").write_bytes((f / "results.json").read_bytes().replace(b"failed", b"passed")),
     "results.json: changed after grading"),
    (lambda f: (f / "evidence" / "01-test_address_pc1.txt").open("ab").write(b" "),
     "evidence/01-test_address_pc1.txt: changed after grading"),
    (lambda f: (f / "report.html").unlink(), "report.html: removed"),
    (lambda f: (f / "extra.txt").write_text("x"), "extra.txt: added after grading"),
])
def test_any_change_is_found(graded, change, problem):
    change(graded)
    [verdict] = verify(graded, KEY)
    assert not verdict.intact and problem in verdict.problems


def test_a_rewritten_manifest_is_found(graded):
    (graded / "results.json").write_text("{}")
    data = json.loads((graded / "SIGNATURE.json").read_text())
    data["files"]["results.json"] = hashlib.sha256(b"{}").hexdigest()
    (graded / "SIGNATURE.json").write_text(json.dumps(data))
    [verdict] = verify(graded, KEY)
    assert not verdict.intact and any("SIGNATURE.json was altered" in p for p in verdict.problems)


def test_another_key_is_said(graded):
    [verdict] = verify(graded, b"x" * 64)
    assert verdict.problems[0] == "signed with another key"


def test_class_folder_signs_its_files_and_each_trainee_folder(graded):
    root = graded.parent
    (root / "class.html").write_text("<html>class</html>")
    sign(root, KEY)
    assert [v.intact for v in verify(root, KEY)] == [True, True]
    (graded / "report.html").write_text("changed")
    verdicts = {v.folder.name: v for v in verify(root, KEY)}
    assert verdicts[root.name].intact and not verdicts["t01"].intact


def test_keys(tmp_path):
    path = tmp_path / "k" / "exam.key"
    with pytest.raises(UserError, match="no signing key"):
        load_key(path, create=False)
    key = load_key(path, create=True)
    assert len(key) == 64 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_key(path, create=False) == key
    with pytest.raises(UserError, match="not a graded results folder"):
        verify(tmp_path, key)


# -- who was graded -------------------------------------------------------------------------------

TRAINEES = {"t01": "Camille Martin", "t02": "Noah Bernard", "t03": "Léa Dubois"}


def grade_folder(folder, trainee_id, name, seed, place):
    """What grading leaves in a trainee's folder, signed with who it is."""
    folder.mkdir()
    results = {**RESULTS, "lab": "ip-plan", "trainee": name, "seed": seed}
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False))
    (folder / "report.html").write_text(f"<html>{name}</html>")
    write_evidence(folder, results)
    sign(folder, KEY, identity(trainee_id=trainee_id, trainee=name, lab="ip-plan", seed=seed, place=place))


@pytest.fixture
def exam(tmp_path):
    """A graded class: one folder per trainee, then the class files and the class signature."""
    root = tmp_path / "exam"
    root.mkdir()
    for number, (trainee_id, name) in enumerate(TRAINEES.items(), 1):
        grade_folder(root / trainee_id, trainee_id, name, 1000 + number, trainee_id)
    (root / "class.html").write_text("<html>class</html>")
    sign(root, KEY, {"lab": "ip-plan", "class": "TSPCR démo"})
    return root


def class_problems(root):
    verdicts = {v.folder: v for v in verify(root, KEY)}
    for verdict in verdicts.values():
        assert all("\n" not in problem for problem in verdict.problems)
    return verdicts[root].problems, {f.name: v.problems for f, v in verdicts.items() if f != root}


def test_an_untouched_class_verifies(exam):
    verdicts = verify(exam, KEY)
    assert [v.folder.name for v in verdicts] == ["exam", "t01", "t02", "t03"]
    assert all(v.intact and not v.problems and not v.note for v in verdicts)
    data = json.loads((exam / "SIGNATURE.json").read_text())
    assert data["format"] == 2 and data["identity"] == {"lab": "ip-plan", "class": "TSPCR démo"}
    assert [(f["place"], f["trainee_id"], f["trainee"], f["seed"]) for f in data["folders"]] == [
        ("t01", "t01", "Camille Martin", 1001), ("t02", "t02", "Noah Bernard", 1002),
        ("t03", "t03", "Léa Dubois", 1003)]
    own = json.loads((exam / "t02" / "SIGNATURE.json").read_text())
    assert own["identity"] == {"trainee_id": "t02", "trainee": "Noah Bernard", "lab": "ip-plan", "seed": 1002,
                               "place": "t02"}
    assert data["folders"][1]["mac"] == own["mac"]
    assert list(data["files"]) == ["class.html"]  # the trainees' files are in their own signatures
    [verdict] = verify(exam / "t01", KEY)
    assert verdict.intact


def test_swapped_trainee_folders(exam):
    (exam / "t01").rename(exam / "tmp")
    (exam / "t02").rename(exam / "t01")
    (exam / "tmp").rename(exam / "t02")
    problems, trainees = class_problems(exam)
    assert problems == ["t01, t02: trainee folders swapped (t01 holds Noah Bernard's results, "
                        "t02 holds Camille Martin's)"]
    assert trainees == {"t01": [], "t02": [], "t03": []}  # each one's own files are intact
    [alone] = verify(exam / "t01", KEY)
    assert alone.problems == ["folder is named 't01' but was signed as 't02' (trainee t02, Noah Bernard)"]


def test_renamed_trainee_folder(exam):
    (exam / "t01").rename(exam / "t09")
    problems, _ = class_problems(exam)
    assert problems == ["t01: trainee folder renamed to t09 (Camille Martin)"]
    [alone] = verify(exam / "t09", KEY)
    assert alone.problems == ["folder is named 't09' but was signed as 't01' (trainee t01, Camille Martin)"]


def test_renamed_onto_a_removed_one(exam):
    shutil.rmtree(exam / "t02")
    (exam / "t01").rename(exam / "t02")
    problems, _ = class_problems(exam)
    assert problems == ["t01: trainee folder renamed to t02 (Camille Martin)",
                        "t02: trainee folder removed (Noah Bernard)"]


def test_removed_trainee_folder(exam):
    shutil.rmtree(exam / "t03")
    problems, trainees = class_problems(exam)
    assert problems == ["t03: trainee folder removed (Léa Dubois)"] and set(trainees) == {"t01", "t02"}


def test_removed_trainee_signature(exam):
    (exam / "t02" / "SIGNATURE.json").unlink()
    problems, _ = class_problems(exam)
    assert problems == ["t02: its SIGNATURE.json was removed (Noah Bernard)"]


@pytest.mark.parametrize("add, problem", [
    (lambda root: shutil.copytree(root / "t01", root / "t04"),
     "t04: trainee folder added after grading (a copy of t01, Camille Martin)"),
    (lambda root: grade_folder(root / "t04", "t04", "Mallory", 1004, "t04"), "t04: trainee folder added after grading"),
    (lambda root: (root / "t04").mkdir() or (root / "t04" / "results.json").write_text("{}")
     or (root / "t04" / "report.html").write_text(""), "t04/: folder added after grading"),
])
def test_added_trainee_folder(exam, add, problem):
    add(exam)
    problems, _ = class_problems(exam)
    assert problems == [problem]


def test_a_folder_signed_apart_is_not_the_one_graded(exam):
    shutil.rmtree(exam / "t02")
    grade_folder(exam / "t02", "t02", "Noah Bernard", 1002, "t02")  # same trainee, graded again...
    (exam / "t02" / "report.html").write_text("<html>all passed</html>")  # ...with another outcome
    sign(exam / "t02", KEY, identity(trainee_id="t02", trainee="Noah Bernard", lab="ip-plan", seed=1002, place="t02"))
    problems, trainees = class_problems(exam)
    assert problems == ["t02: not the trainee folder graded for this class (its signature is not the one the "
                        "class signed)"]
    assert trainees["t02"] == []


@pytest.mark.parametrize("field, value, problem", [
    ("trainee", "Mallory", 'results.json: trainee is "Mallory", but "Camille Martin" was graded'),
    ("seed", 7, "results.json: seed is 7, but 1001 was graded"),
    ("lab", "shares", 'results.json: lab is "shares", but "ip-plan" was graded'),
])
def test_results_whose_identity_was_edited(exam, field, value, problem):
    path = exam / "t01" / "results.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    problems, trainees = class_problems(exam)
    assert problems == [] and trainees["t01"] == ["results.json: changed after grading", problem]
    [alone] = verify(exam / "t01", KEY)
    assert alone.problems == trainees["t01"]


def test_an_edited_class_list_is_found(exam):
    data = json.loads((exam / "SIGNATURE.json").read_text())
    data["folders"][0]["trainee"], data["folders"][1]["trainee"] = "Noah Bernard", "Camille Martin"
    (exam / "SIGNATURE.json").write_text(json.dumps(data))
    problems, _ = class_problems(exam)
    assert problems == ["SIGNATURE.json was altered (what it says does not match its signature)"]


def test_a_format_1_signature_still_verifies_its_files(graded):
    files = json.loads((graded / "SIGNATURE.json").read_text())["files"]
    mac = hmac.new(KEY, json.dumps(files, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256).hexdigest()
    legacy = {"algorithm": "HMAC-SHA256", "key_id": json.loads((graded / "SIGNATURE.json").read_text())["key_id"],
              "signed_at": "2026-01-01T00:00:00+0000", "files": files, "mac": mac}
    (graded / "SIGNATURE.json").write_text(json.dumps(legacy))
    [verdict] = verify(graded, KEY)
    assert verdict.intact and "who was graded is not signed" in verdict.note
    (graded / "report.html").write_text("changed")
    [verdict] = verify(graded, KEY)
    assert verdict.problems == ["report.html: changed after grading"]


def test_verify_command_says_each_problem_on_one_line(exam, tmp_path, capsys):
    key = tmp_path / "exam.key"
    key.write_text(KEY.decode())

    def main(argv):
        with pytest.raises(SystemExit) as exit_:
            cli_main(argv)
        return exit_.value.code

    assert main(["verify", str(exam), "--key", str(key)]) == 0
    assert f"{exam}/t02: intact" in capsys.readouterr().out
    (exam / "t01").rename(exam / "tmp")
    (exam / "t02").rename(exam / "t01")
    (exam / "tmp").rename(exam / "t02")
    shutil.rmtree(exam / "t03")
    assert main(["verify", str(exam), "--key", str(key)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "ALTERED" in line]
    assert lines == [f"{exam}: ALTERED: t01, t02: trainee folders swapped (t01 holds Noah Bernard's results, "
                     f"t02 holds Camille Martin's)", f"{exam}: ALTERED: t03: trainee folder removed (Léa Dubois)"]
    assert main(["verify", str(exam / "t02"), "--key", str(key)]) == 1
    assert capsys.readouterr().out.strip() == (f"{exam}/t02: ALTERED: folder is named 't02' but was signed as "
                                               f"'t01' (trainee t01, Camille Martin)")
