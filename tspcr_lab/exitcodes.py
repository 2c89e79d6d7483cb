"""Exit codes of the ``tspcr-lab`` command."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # every check passed (or the command succeeded)
    CHECKS_FAILED = 1  # some checks failed: the trainee's work is not complete
    USAGE = 2  # bad input or usage (one line on stderr says why)
    INCOMPLETE = 3  # some checks could not run: the grade is incomplete
