"""Class files (TOML and CSV), their errors, and the per-trainee seeds."""

from __future__ import annotations

import pytest

from tspcr_lab.classes import instance_name, load_class, trainee_seed
from tspcr_lab.errors import UserError

TOML = """
[class]
name = "TSPCR A"
seed = 2026

[[trainees]]
id = "t01"
name = "Camille Martin"
email = "camille@example.org"

[[trainees]]
id = "t02"
name = "Noah Bernard"
station = "station02"
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_class(tmp_path):
    c = load_class(write(tmp_path, "a.toml", TOML))
    assert c.name == "TSPCR A" and c.seed == 2026
    assert [(t.id, t.name, t.email, t.station) for t in c.trainees] == [
        ("t01", "Camille Martin", "camille@example.org", ""), ("t02", "Noah Bernard", "", "station02")]


def test_csv_class_with_semicolons_and_bom(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("\ufeffid;name;email\nt01;Léa Dubois;lea@example.org\n\nt02;Noah;\n".encode())
    c = load_class(path)
    assert [(t.id, t.name, t.email) for t in c.trainees] == [("t01", "Léa Dubois", "lea@example.org"), ("t02", "Noah", "")]
    assert c.seed is None
    with pytest.raises(UserError, match="no exam seed"):
        c.seed_of(c.trainees[0])
    assert c.seed_of(c.trainees[0], 7) == trainee_seed(7, "t01")


def test_seeds_differ_between_trainees_and_are_stable():
    seeds = {trainee_seed(2026, f"t{i:02d}") for i in range(1, 25)}
    assert len(seeds) == 24
    assert trainee_seed(2026, "t01") == trainee_seed(2026, "t01") != trainee_seed(2027, "t01")


@pytest.mark.parametrize("text, message", [
    ('[[trainees]]\nid = "T 01"\n', "must be 1-12 lowercase"),
    ('[[trainees]]\nid = "../x"\n', "must be 1-12 lowercase"),
    ('[[trainees]]\nid = "t01"\n[[trainees]]\nid = "t01"\n', "appears twice"),
    ('[[trainees]]\nid = "t01"\nnom = "x"\n', "unknown key 'nom'"),
    ('[class]\nseed = "x"\n[[trainees]]\nid = "t01"\n', "seed must be a whole number"),
    ('[klass]\n', "unknown table 'klass'"),
    ('[class]\nname = "x"\n', "no trainees"),
    ('[[trainees]\n', "class"),
])
def test_bad_class_files_give_one_line(tmp_path, text, message):
    with pytest.raises(UserError, match=message) as exc:
        load_class(write(tmp_path, "c.toml", text))
    assert "\n" not in str(exc.value)


def test_bad_csv(tmp_path):
    with pytest.raises(UserError, match="first line must name the columns"):
        load_class(write(tmp_path, "d.csv", "t01,Camille\n"))
    with pytest.raises(UserError, match="line 2: more values than columns"):
        load_class(write(tmp_path, "e.csv", "id,name\nt01,Camille,extra\n"))
    with pytest.raises(UserError, match="no such file"):
        load_class(tmp_path / "missing.toml")


def test_instance_names_do_not_collide(tmp_path):
    c = load_class(write(tmp_path, "a.toml", TOML))
    assert [instance_name("ip-plan", t) for t in c.trainees] == ["ip-plan-t01", "ip-plan-t02"]
