"""The packaged TSPCR referential matches the French document "Les activités clés"."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tspcr_lab import referential
from tspcr_lab.errors import UserError
from tspcr_lab.referential import Activity, Competency, Referential, ReferentialError, load

# Where the source document lives on the project machines; the cross-check is skipped elsewhere.
DOCUMENT = Path("/work/shared/referential/referentiel-tspcr.txt")

EXPECTED_SPLIT = {
    "TSPCR.01": range(1, 7),
    "TSPCR.02": range(7, 11),
    "TSPCR.03": range(11, 16),
    "TSPCR.04": range(16, 20),
    "TSPCR.05": range(20, 23),
    "TSPCR.06": range(23, 29),
    "TSPCR.07": range(29, 37),
}

# Copied from the document, extraction artefacts fixed (stray " x", titles broken over two lines).
FRENCH_TITLES = {
    "001": "Monter les composants d’une configuration standard et/ou spécifique",
    "007": "Configurer l’accès à un réseau filaire",
    "008": "Configurer l’accès au réseau sans-fil sécurisé",
    "010": "Configurer un client « mail »",
    "013": "Utiliser des outils logiciels de maintenance (sauvegarde, vérification de l’intégrité du "
    "disque, défragmentation des disques, suppression des éléments obsolètes ou inutiles, …)",
    "030": "Planifier et configurer l’IP",
    "031": "Configurer les fonctionnalités de base de l’appareillage réseau (switch, routeur, points "
    "d’accès WIFI, proxy…)",
    "036": "Gérer l’environnement des utilisateurs",
}

ACTIVITY_TITLES = {
    "TSPCR.01": "Assembler/configurer un PC, installer des périphériques et des logiciels",
    "TSPCR.03": "Assurer la maintenance de l'infrastructure (hard/soft/réseaux) et de l'environnement utilisateur",
    "TSPCR.07": "Déployer et gérer un réseau",
}


@pytest.fixture(scope="module")
def ref() -> Referential:
    return load()


def test_counts(ref):
    assert len(ref.activities) == 7
    assert len(ref.competencies) == 36


def test_codes_are_contiguous_and_ordered(ref):
    assert [c.code for c in ref.competencies] == [f"{i:03d}" for i in range(1, 37)]
    assert [a.code for a in ref.activities] == [f"TSPCR.{i:02d}" for i in range(1, 8)]


@pytest.mark.parametrize("activity, numbers", EXPECTED_SPLIT.items())
def test_competencies_per_activity(ref, activity, numbers):
    assert [c.code for c in ref.competencies_of(activity)] == [f"{i:03d}" for i in numbers]
    for number in numbers:
        assert ref.activity_of(number).code == activity


@pytest.mark.parametrize("code, title", FRENCH_TITLES.items())
def test_french_competency_titles(ref, code, title):
    assert ref.competency(code).fr == title
    assert ref.competency(code).title("fr") == title


@pytest.mark.parametrize("code, title", ACTIVITY_TITLES.items())
def test_french_activity_titles(ref, code, title):
    assert ref.activity(code).fr == title


def test_no_extraction_artefacts(ref):
    for item in [*ref.activities, *ref.competencies]:
        assert item.fr == item.fr.strip()
        assert "  " not in item.fr and "\n" not in item.fr
        assert not item.fr.endswith(" x")
        assert "co mp" not in item.fr and "de s " not in item.fr


def test_english_titles(ref):
    for item in [*ref.activities, *ref.competencies]:
        assert item.en.strip(), item.code
        assert item.en != item.fr, item.code
        assert item.title("en") == item.en


def test_title_falls_back_to_french(ref):
    c = ref.competency("030")
    assert c.title("en") == "Plan and configure IP addressing"
    assert c.title("nl") == c.fr
    assert c.title(None) == c.fr
    assert c.title() == c.fr
    assert ref.activities[0].title("de") == ref.activities[0].fr


@pytest.mark.parametrize("code", ["030", "30", 30, " 30 "])
def test_lookup_forms(ref, code):
    assert ref.competency(code).code == "030"
    assert ref.activity_of(code).code == "TSPCR.07"


@pytest.mark.parametrize("code, expected", [("1", "001"), (1, "001"), ("001", "001"), (36, "036"), ("036", "036")])
def test_lookup_bounds(ref, code, expected):
    assert ref.competency(code).code == expected


@pytest.mark.parametrize(
    "code", ["037", 37, 0, "0", "000", -1, "-1", "", "abc", "TSPCR.07.030", "0030", "3O", 30.0, None, True]
)
def test_unknown_code_raises_user_error(ref, code):
    with pytest.raises(UserError) as info:
        ref.competency(code)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError):
        ref.activity_of(code)


def test_unknown_activity_raises_user_error(ref):
    with pytest.raises(UserError):
        ref.activity("TSPCR.08")
    with pytest.raises(UserError):
        ref.competencies_of("TSPCR.00")


def test_dataclasses_are_frozen(ref):
    c = ref.competency(1)
    assert isinstance(c, Competency) and isinstance(ref.activities[0], Activity)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.fr = "x"  # type: ignore[misc]


def test_load_is_cached_and_lists_are_copies(ref):
    assert load() is load()
    ref.competencies.clear()
    ref.activities.clear()
    assert len(load().competencies) == 36 and len(load().activities) == 7


# --- validation -------------------------------------------------------------------------------


def _raw(ref: Referential) -> dict:
    return {
        "activities": [dataclasses.asdict(a) for a in ref.activities],
        "competencies": [dataclasses.asdict(c) for c in ref.competencies],
    }


def test_parse_round_trip(ref):
    again = referential.parse(_raw(ref))
    assert again.competencies == ref.competencies and again.activities == ref.activities


def test_validation_rejects_missing_competency(ref):
    data = _raw(ref)
    del data["competencies"][5]
    with pytest.raises(ReferentialError, match="36 competencies"):
        referential.parse(data)


def test_validation_rejects_missing_activity(ref):
    data = _raw(ref)
    data["activities"].pop()
    with pytest.raises(ReferentialError, match="7 activities"):
        referential.parse(data)


def test_validation_rejects_duplicate_codes(ref):
    data = _raw(ref)
    data["competencies"][1]["code"] = "001"
    with pytest.raises(ReferentialError, match="duplicate competency codes: 001"):
        referential.parse(data)


def test_validation_rejects_gaps(ref):
    data = _raw(ref)
    data["competencies"][-1]["code"] = "037"
    with pytest.raises(ReferentialError, match="without gaps"):
        referential.parse(data)


def test_validation_rejects_unknown_activity(ref):
    data = _raw(ref)
    data["competencies"][0]["activity"] = "TSPCR.09"
    with pytest.raises(ReferentialError, match="'001' refers to unknown activity 'TSPCR.09'"):
        referential.parse(data)


def test_validation_rejects_malformed_entries(ref):
    data = _raw(ref)
    del data["competencies"][0]["en"]
    with pytest.raises(ReferentialError, match="missing or non-string en"):
        referential.parse(data)
    with pytest.raises(ReferentialError, match="competencies"):
        referential.parse({"activities": _raw(ref)["activities"]})


# --- cross-check with the source document ------------------------------------------------------


def _key_activities_section() -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    start = text.index("TSPCR.01")
    end = text.index("Les compétences du Technicien", start)
    return " ".join(text[start:end].split())  # joins the titles broken over lines


@pytest.mark.skipif(not DOCUMENT.is_file(), reason="source document not available")
def test_every_title_appears_in_the_document(ref):
    section = _key_activities_section()
    for a in ref.activities:
        assert re.search(rf"{re.escape(a.code)} [–-] {re.escape(a.fr)}", section), a.code
    for c in ref.competencies:
        assert f"{c.code} {c.fr}" in section, c.code
