"""Exception hierarchy.

Two families matter for grading:

* :class:`InfraError` -- the check could not run (host unreachable, timeout, lab not up). Such a
  check is reported as *error* and never counted as the trainee's failure.
* :class:`CheckFailed` -- the trainee's work is wrong. It is an ``AssertionError`` so that plain
  ``assert`` statements in checks behave the same way (only those written in a check module: an
  ``AssertionError`` raised in the engine is a bug, an *error*; see
  :func:`tspcr_lab.plugin.classify`).
  :class:`BrokenWork` is the one a probe raises when the trainee's work itself stops it from being
  read (a directory where a file was expected, a configuration its own program refuses to load).

:class:`UserError` is bad input from the person at the keyboard (a typo in a lab file, an unknown
host, missing root rights): the CLI prints its message on one line and exits with code 2.

Secrets (passwords a command holds) never appear in an exception's message: :func:`masked` gives
the same exception with every secret replaced by :data:`MASK`, as the evidence shows them.
"""

from __future__ import annotations

import shlex
from typing import Iterable

from .i18n import LANGS, file_kind, t

MASK = "********"


class TspcrError(Exception):
    """Base class of every error raised on purpose by tspcr-lab."""


class UserError(TspcrError):
    """Bad input or usage: shown as one clear line, exit code 2."""


class InfraError(TspcrError):
    """The check could not run: not the trainee's fault."""


class HostUnreachable(InfraError):
    """The host cannot be reached (connection refused, no route, authentication refused)."""


class CommandTimeout(InfraError):
    """A command or a whole check ran past its time limit."""


class ProbeError(InfraError):
    """A probe's command failed in a way that says nothing about the trainee's work."""


class CheckFailed(AssertionError):
    """The trainee's work does not meet the requirement.

    ``messages`` maps a language code (``fr``, ``en``) to the text a trainee reads.

    ``public`` is the same finding without the expected values, what a trainee may read during an
    exam (``grade --exam``); without it, the trainee only reads that the check failed.
    """

    def __init__(self, messages: dict[str, str], *, public: dict[str, str] | None = None):
        self.messages = dict(messages)
        self.public = dict(public or {})
        super().__init__(self.messages.get("en") or next(iter(self.messages.values()), ""))

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages.get("en") or str(self)

    def public_message(self, lang: str) -> str:
        return self.public.get(lang) or self.public.get("en") or ""


class BrokenWork(CheckFailed):
    """A probe could not read what it reads because of the trainee's work itself: a directory or
    a fifo where a file was expected, a file its owner cannot read, a configuration that its own
    program refuses to load. The trainee's failure, never an error. The finding holds no expected
    value, so it is also what a trainee reads during an exam."""

    def __init__(self, messages: dict[str, str]):
        super().__init__(messages, public=messages)


class UnreadableFile(BrokenWork):
    """The path exists but is not a file that can be read (``reason``: ``"directory"``,
    ``"fifo"``, ``"socket"``..., or ``"permission denied"``)."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        if reason == "permission denied":
            messages = {lang: t("file_denied", lang, path=path) for lang in LANGS}
        else:
            messages = {lang: t("not_a_file", lang, path=path, kind=file_kind(reason, lang)) for lang in LANGS}
        super().__init__(messages)


def hide(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, quoted for the shell (as :func:`shlex.quote` writes it) or raw,
    replaced by :data:`MASK`."""
    for secret in secrets:
        if not secret:
            continue
        quoted = shlex.quote(secret)
        if quoted != secret:  # 'pass word': the quotes stay, so that the command still reads as one
            text = text.replace(quoted, f"'{MASK}'")
        text = text.replace(secret, MASK)
    return text


def masked(exc: BaseException, secrets: Iterable[str]) -> BaseException:
    """``exc`` itself when it holds no secret, else a new exception of the same class, with the
    same attributes, whose message and text attributes (strings, ``{lang: text}`` tables) have
    every secret masked. It has no traceback nor context: raise it ``from None``."""
    secrets = tuple(s for s in secrets if s)

    def holds(value) -> bool:
        if isinstance(value, str):
            return hide(value, secrets) != value
        if isinstance(value, dict):
            return any(holds(v) for v in value.values())
        return False

    def cover(value):
        if isinstance(value, str):
            return hide(value, secrets)
        if isinstance(value, dict):
            return {k: cover(v) for k, v in value.items()}
        return value

    state = vars(exc) if hasattr(exc, "__dict__") else {}
    if not secrets or not (holds(str(exc)) or any(holds(a) for a in exc.args) or any(holds(v) for v in state.values())):
        return exc
    cls = type(exc)
    args = tuple(cover(a) for a in exc.args)
    copied = cls.__new__(cls, *args)  # not cls(...): subclasses' __init__ take other arguments
    copied.args = args
    for name, value in state.items():
        setattr(copied, name, cover(value))
    return copied
