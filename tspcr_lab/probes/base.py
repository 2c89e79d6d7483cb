"""Typed probes: in the spirit of pyinfra facts, a probe is a command plus a parser.

A probe never changes the host: it only reads. ``command()`` returns a complete shell line whose
arguments are quoted with :func:`shlex.quote`; ``process(stdout)`` turns the output into Python
values. A non-zero exit code outside ``ok_codes`` goes to ``failed(result)``, which by default
raises :class:`~tspcr_lab.errors.ProbeError` (an infrastructure error, not the trainee's fault),
with the probe's ``secrets`` masked.
Probes whose command legitimately fails when the thing is absent (a missing file, an interface
that is not configured) list that code in ``ok_codes`` or override ``failed``. What the trainee's
work itself makes unreadable (a directory where a file goes, a configuration its program refuses)
is never a ProbeError: the probe returns a value the check judges (``FileStat.type``,
``SambaSettings.loaded``, ``NewAccount.error``...) or raises
:class:`~tspcr_lab.errors.BrokenWork`, a failure with its reason.
"""

from __future__ import annotations

import abc
import shlex
from typing import Any

from ..errors import ProbeError, hide
from ..transport.base import CommandResult

# Exit codes of a command run under timeout(1): 124 when it was ended in time, 137 when it had to
# be killed (``timeout -k``). A probe that gives a slow session a limit reads it with these.
TIMED_OUT = (124, 137)


def quote_line(command: str, *args: Any) -> str:
    """``quote_line("cat %s", path)`` -> ``"cat '/a b'"``: every argument goes through shlex.quote."""
    if not args:
        return command
    return command % tuple(shlex.quote(str(a)) for a in args)


class Probe(abc.ABC):
    #: Values (passwords) the command holds, masked in the evidence: see :meth:`Host.run`.
    secrets: tuple[str, ...] = ()

    """Base class of probes. Subclasses set ``ok_codes`` and implement ``command`` and ``process``."""

    ok_codes: tuple[int, ...] = (0,)

    @abc.abstractmethod
    def command(self) -> str:
        """The complete, quoted shell line to run."""

    @abc.abstractmethod
    def process(self, output: str) -> Any:
        """Parse the command's standard output."""

    def failed(self, result: CommandResult) -> Any:
        detail = (result.stderr or result.stdout).strip().splitlines()
        # Built from the command line and its output: the probe's secrets are masked here already
        # (Host.probe masks them again in whatever the probe raises).
        raise ProbeError(hide(
            f"{type(self).__name__}: `{result.command}` exited {result.rc}" + (f": {detail[-1]}" if detail else ""),
            self.secrets,
        ))

    def evaluate(self, result: CommandResult) -> Any:
        if result.rc in self.ok_codes:
            return self.process(result.stdout)
        return self.failed(result)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.command()!r})"
