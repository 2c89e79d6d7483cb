"""Local transport: the machine the grader runs on is the host (a trainee checking their own PC).

As every transport, it never puts the command line in an exception's message (it may hold a
password): a timeout says which host and how long, in words."""

from __future__ import annotations

import subprocess
import time

from ..errors import CommandTimeout
from .base import CommandResult, Transport, timeout_message


class LocalTransport(Transport):
    name = "local"

    def __init__(self, host: str = "localhost"):
        self.host = host

    def run(self, command: str, timeout: float) -> CommandResult:
        started, t0 = time.time(), time.monotonic()
        try:
            proc = subprocess.run(
                ["/bin/sh", "-c", command], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise CommandTimeout(timeout_message(self.host, timeout)) from None
        return CommandResult(
            command=command,
            rc=proc.returncode,
            stdout=proc.stdout.decode("utf-8", "replace"),
            stderr=proc.stderr.decode("utf-8", "replace"),
            host=self.host,
            started=started,
            duration=time.monotonic() - t0,
        )
