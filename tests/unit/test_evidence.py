"""Evidence files and signatures: verify tells an intact folder from an altered one."""

from __future__ import annotations

import json

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.evidence import load_key, sign, verify, write_evidence

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
    import hashlib
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
