"""The ``check`` fixture: say what was expected and what was found, in the trainee's language.

    def test_hostname(hosts, expected, check):
        check.equal(hosts.pc1.probe(Hostname), expected["hostname"],
                    fr="nom d'hôte de pc1", en="pc1's host name")

A failing expectation raises :class:`~tspcr_lab.errors.CheckFailed` with both languages; the
report shows the one asked for. Helpers hide their own frames from tracebacks.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, TypeVar

from .errors import CheckFailed
from .i18n import LANGS, t

T = TypeVar("T")


def show(value: Any, lang: str) -> str:
    if value is None or (isinstance(value, (str, list, tuple, set, frozenset, dict)) and not value):
        return t("nothing", lang)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


class Check:
    def __init__(self, lang: str = "fr"):
        self.lang = lang

    def fail(self, *, fr: str, en: str) -> None:
        __tracebackhide__ = True
        raise CheckFailed({"fr": fr, "en": en})

    def that(self, condition: Any, *, fr: str, en: str) -> None:
        """Fail with the given sentence when ``condition`` is false."""
        __tracebackhide__ = True
        if not condition:
            self.fail(fr=fr, en=en)

    def equal(self, found: Any, expected: Any, *, fr: str, en: str) -> None:
        """``fr``/``en`` name what is compared (e.g. "adresse de pc1")."""
        __tracebackhide__ = True
        if found != expected:
            raise CheckFailed(_expected_found({"fr": fr, "en": en}, expected, found),
                              public=_found({"fr": fr, "en": en}, found))

    def contains(self, found: Iterable[Any], expected: Any, *, fr: str, en: str) -> None:
        __tracebackhide__ = True
        found = list(found)
        if expected not in found:
            raise CheckFailed(_expected_found({"fr": fr, "en": en}, expected, found),
                              public=_found({"fr": fr, "en": en}, found))


def eventually(read: Callable[[], T], done: Callable[[T], bool], *, budget: float, interval: float = 0.5) -> T:
    """``read()`` again until ``done(value)`` or ``budget`` seconds have passed; the last value.

    For a state that converges (OSPF adjacencies, routes after a reboot): a check waits within a
    named budget, then judges what it found, instead of failing on a first look taken too early.
    A correct state is seen at once and costs one read."""
    deadline = time.monotonic() + budget
    while True:
        value = read()
        if done(value) or time.monotonic() + interval > deadline:
            return value
        time.sleep(interval)


def _expected_found(what: dict[str, str], expected: Any, found: Any) -> dict[str, str]:
    return {
        lang: t("expected_found", lang, what=what[lang], expected=show(expected, lang), found=show(found, lang))
        for lang in LANGS
    }


def _found(what: dict[str, str], found: Any) -> dict[str, str]:
    """The finding without the expected value (what a trainee reads during an exam)."""
    return {lang: t("found_only", lang, what=what[lang], found=show(found, lang)) for lang in LANGS}
