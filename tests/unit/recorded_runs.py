"""Outputs recorded on real virtual hosts, replayed through probes (``tests/unit/recorded/``).

A folder holds ``runs.json`` (per run: the command, its exit code, its stderr and any values the
run was made with) and ``<name>.out`` (its stdout).
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.transport.base import CommandResult, Transport

ROOT = pathlib.Path(__file__).parent / "recorded"


class Recorded:
    def __init__(self, folder: str = ""):
        self.path = ROOT / folder
        self.runs: dict[str, dict[str, Any]] = json.loads((self.path / "runs.json").read_text())

    def text(self, name: str) -> str:
        """A recorded file as a transport gives it: UTF-8, other bytes replaced (U+FFFD)."""
        return (self.path / name).read_bytes().decode("utf-8", "replace")

    def result(self, name: str, command: str | None = None) -> CommandResult:
        run = self.runs[name]
        return CommandResult(command=command or run.get("command", ""), rc=run["rc"], stdout=self.text(f"{name}.out"),
                             stderr=run.get("stderr", ""))

    def replay(self, probe, name: str):
        """Check the probe issues the recorded command, then parse what that command gave back."""
        result = self.result(name)
        assert probe.command() == result.command
        return probe.evaluate(result)


def fake(probe, stdout: str, rc: int = 0, stderr: str = ""):
    return probe.evaluate(CommandResult(probe.command(), rc, stdout, stderr))


def parse_error(probe, stdout: str, rc: int = 0, stderr: str = "") -> str:
    """A probe's error on a bad output: one line that names the probe."""
    with pytest.raises(ProbeError) as info:
        fake(probe, stdout, rc, stderr)
    message = str(info.value)
    assert "\n" not in message and type(probe).__name__ in message
    return message


class ReplayTransport(Transport):
    """Answers each command with its recorded result (a test double for probes and drivers that
    run commands through a Host): an unexpected command fails the test."""

    name = "replay"

    def __init__(self, results: dict[str, CommandResult]):
        self.results = results
        self.commands: list[str] = []

    def run(self, command: str, timeout: float) -> CommandResult:
        self.commands.append(command)
        if command not in self.results:
            pytest.fail(f"the driver ran an unexpected command: {command!r}")
        return self.results[command]

    def close(self) -> None:
        pass
