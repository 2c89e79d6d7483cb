"""Exception hierarchy.

Two families matter for grading:

* :class:`InfraError` -- the check could not run (host unreachable, timeout, lab not up). Such a
  check is reported as *error* and never counted as the trainee's failure.
* :class:`CheckFailed` -- the trainee's work is wrong. It is an ``AssertionError`` so that plain
  ``assert`` statements in checks behave the same way.

:class:`UserError` is bad input from the person at the keyboard (a typo in a lab file, an unknown
host, missing root rights): the CLI prints its message on one line and exits with code 2.
"""


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
