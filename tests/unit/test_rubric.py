"""Manual items: rubric files, the examiner's marks, and how they count in the grade."""

from __future__ import annotations

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.labfile import RubricItem
from tspcr_lab.rubric import load_marks, load_rubric_file, manual_results
from tspcr_lab.scoring import FAILED, MANUAL, PASSED, PENDING, CheckResult, exit_status, grade
from tspcr_lab.exitcodes import ExitStatus

ITEMS = (
    RubricItem("assembly", "001", 4.0, {"fr": "Montage"}, {}),
    RubricItem("cleaning", "012", 3.0, {"fr": "Nettoyage", "en": "Cleaning"}, {}),
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_workshop_rubric_loads():
    items = load_rubric_file("rubrics/workshop.toml")
    assert [i.competency for i in items] == ["001", "002", "012", "016", "023", "026", "027", "020"]
    assert all(i.points > 0 and i.title["fr"] and i.title["en"] for i in items)


def test_csv_marks(tmp_path):
    marks = load_marks(write(tmp_path, "m.csv", 'trainee,item,points,comment\nt01,assembly,"3,5",nappe inversée\n'
                                                't02,assembly,4,\n'), ITEMS)
    assert marks["t01"]["assembly"].points == 3.5 and marks["t01"]["assembly"].comment == "nappe inversée"
    assert marks["t02"]["assembly"].points == 4


def test_toml_marks(tmp_path):
    marks = load_marks(write(tmp_path, "m.toml", '[t01]\nassembly = { points = 4, comment = "ok" }\ncleaning = 1\n'), ITEMS)
    assert (marks["t01"]["assembly"].points, marks["t01"]["cleaning"].points) == (4, 1)


@pytest.mark.parametrize("text, message", [
    ("trainee,item,points\nt01,assembli,3\n", "unknown item 'assembli'"),
    ("trainee,item,points\nt01,assembly,5\n", "between 0 and 4"),
    ("trainee,item,points\nt01,assembly,-1\n", "between 0 and 4"),
    ("trainee,item,points\nt01,assembly,beaucoup\n", "not a number"),
    ("trainee,item,points\nt01,assembly,1\nt01,assembly,2\n", "marked twice"),
    ("who,what\nt01,x\n", "first line must name the columns"),
])
def test_bad_marks_give_one_line(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        load_marks(write(tmp_path, "m.csv", text), ITEMS)


def test_bad_rubric_file(tmp_path):
    with pytest.raises(UserError, match=r"rubric\[0\].competency"):
        load_rubric_file(write(tmp_path, "r.toml", '[[rubric]]\nid = "x"\ncompetency = "099"\npoints = 1\ntitle = { fr = "x" }\n'))
    with pytest.raises(UserError, match=r"rubric\[0\].point: unknown key \(did you mean 'points'\?\)"):
        load_rubric_file(write(tmp_path, "r.toml", '[[rubric]]\nid = "x"\ncompetency = "001"\npoint = 1\npoints = 1\ntitle = { fr = "x" }\n'))


def test_manual_items_count_with_partial_credit_and_pending_makes_incomplete(tmp_path):
    marks = load_marks(write(tmp_path, "m.csv", "trainee,item,points,comment\n,assembly,3,presque\n"), ITEMS)[""]
    manual = manual_results(ITEMS, marks, "en")
    assert [(r.status, r.earned, r.kind) for r in manual] == [(FAILED, 3.0, MANUAL), (PENDING, 0.0, MANUAL)]
    assert manual[1].message == "not marked by the examiner yet" and manual[1].title == "Cleaning"
    auto = CheckResult("test_x", "test_x", "030", 2.0, False, PASSED)
    g = grade([auto, *manual], 0.7)
    assert (g.score, g.max_score) == (5.0, 9.0)
    assert g.competencies["001"].earned == 3 and g.competencies["001"].mastered  # 3/4 >= 0.7
    assert not g.competencies["012"].complete and not g.complete
    assert exit_status(g) == ExitStatus.INCOMPLETE
    full = manual_results(ITEMS, {"assembly": marks["assembly"].__class__(4, ""), "cleaning": marks["assembly"].__class__(0, "")}, "fr")
    assert [r.status for r in full] == [PASSED, FAILED]
    assert grade(full, 0.7).complete
