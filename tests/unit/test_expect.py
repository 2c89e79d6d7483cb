"""The check helper: what was expected and what was found, in French and English."""

from __future__ import annotations

import pytest

from tspcr_lab.errors import CheckFailed
from tspcr_lab.expect import Check, show


def failure(call, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        call(*args, **kwargs)
    return info.value


def test_equal_fails_with_expected_and_found_in_both_languages():
    exc = failure(Check().equal, "pc-9", "pc-1", fr="nom d'hôte de pc1", en="host name of pc1")
    assert exc.message("fr") == "nom d'hôte de pc1 : attendu pc-1, trouvé pc-9"
    assert exc.message("en") == "host name of pc1: expected pc-1, found pc-9"
    assert str(exc) == exc.message("en")


def test_equal_shows_lists_and_nothing():
    exc = failure(Check().equal, [], ["10.0.0.1/24"], fr="adresse", en="address")
    assert exc.message("fr") == "adresse : attendu 10.0.0.1/24, trouvé rien"
    assert exc.message("en") == "address: expected 10.0.0.1/24, found nothing"


def test_passing_expectations_do_not_raise():
    check = Check()
    check.equal([1, 2], [1, 2], fr="x", en="x")
    check.that(True, fr="x", en="x")
    check.contains(iter(["a", "b"]), "b", fr="x", en="x")


def test_that_fails_with_the_given_sentences():
    exc = failure(Check("en").that, 0, fr="le fichier manque", en="the file is missing")
    assert (exc.message("fr"), exc.message("en")) == ("le fichier manque", "the file is missing")


def test_contains_fails_with_what_was_found():
    exc = failure(Check().contains, iter(["sw1", "sw2"]), "sw3", fr="switchs", en="switches")
    assert exc.message("fr") == "switchs : attendu sw3, trouvé sw1, sw2"
    assert exc.message("en") == "switches: expected sw3, found sw1, sw2"


@pytest.mark.parametrize("value", [None, "", [], ()])
def test_show_empty_is_nothing(value):
    assert (show(value, "fr"), show(value, "en")) == ("rien", "nothing")


def test_show_empty_set_is_nothing():
    assert show(set(), "fr") == "rien"


def test_show_values():
    assert show(["a", "b"], "fr") == "a, b"
    assert show(0, "en") == "0"


def test_check_failed_is_an_assertion_error():
    with pytest.raises(AssertionError):
        Check().equal(1, 2, fr="x", en="x")
    assert failure(Check().fail, fr="faux", en="wrong").message("de") == "wrong"
