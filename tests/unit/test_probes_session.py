"""Session probes against outputs recorded in real login sessions on the virtual lab
(see tests/unit/recorded/session/README.txt), and the report's command run by a real bash."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.session import (
    NewAccount,
    SessionReport,
    SkelEntry,
    SkeletonTrial,
    parse_env,
    split_sections,
)
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded

REC = Recorded("session")
RECORDED, RUNS = REC.path, REC.runs


def session(name: str):
    run = RUNS[name]
    return SessionReport(run["link"], run["folder"], run["tool"]).evaluate(REC.result(name, "login session"))


def skeleton(name: str) -> NewAccount:
    return REC.replay(SkeletonTrial(RUNS[name]["file"]), name)


def test_session_of_the_starting_state():
    s = session("session-untouched")
    assert s.complete
    assert s.env["USER"] == "farid" and s.env["HOME"] == "/home/farid" and "COMPANY" not in s.env
    assert s.path == ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/games", "/usr/games"]
    assert s.link is None and s.resolved is None and s.write == "skipped"
    assert s.tool_path is None and s.tool_output == ""


def test_session_of_the_solution():
    s = session("session-solved-member")
    assert s.complete
    assert s.env["COMPANY"] == "Garage Martin" and s.env["SHARE"] == "/srv/donnees/farid"
    assert s.path[-1] == "/opt/martin/bin"
    assert s.link == s.resolved == "/srv/donnees/farid" and s.write == "ok"
    assert s.tool_path == "/opt/martin/bin/martin-support"
    assert s.tool_output == "Garage Martin - support informatique : poste 535"
    assert "Reunion d'equipe" in RUNS["session-solved-member"]["greeting"]
    other = session("session-solved-other")
    assert other.env["SHARE"] == "/srv/donnees/emma" and other.write == "ok"
    assert "Reunion d'equipe" not in RUNS["session-solved-other"]["greeting"]


def test_dangling_link_is_a_link_leading_nowhere():
    s = session("session-dangling-link")
    assert s.link == "/srv/nowhere" and s.resolved is None and s.write == "skipped"


def test_folder_not_writable():
    s = session("session-not-writable")
    assert s.resolved == "/srv/donnees/emma" and s.write == "denied"


def test_session_cut_short_by_the_logon_script():
    s = session("session-cut-short")
    assert not s.complete and s.env == {} and s.link is None
    assert "Reunion d'equipe" in RUNS["session-cut-short"]["greeting"]


def test_skeleton_trials():
    default = skeleton("skel-default")
    assert set(default.entries) == {".bash_logout", ".bashrc", ".profile"} and default.file is None
    assert default.entries[".bashrc"] == SkelEntry(".bashrc", "file", 0o644)
    solved = skeleton("skel-solved")
    assert solved.entries["A-LIRE.txt"].type == "file" and solved.entries["Scans"] == SkelEntry("Scans", "directory", 0o755)
    assert solved.file.splitlines() == ["Support informatique : poste 535"]
    missing = skeleton("skel-missing-file")
    assert "A-LIRE.txt" not in missing.entries and "Scans" in missing.entries and missing.file is None


def test_useradd_refusing_is_a_finding_not_an_error():
    """useradd itself refusing (the host's account defaults, which the trainee edits) is returned
    for the check to judge; recorded with a login.defs whose UID range is empty."""
    refused = skeleton("skel-useradd-fails")
    assert refused == NewAccount(entries={}, file=None,
                                 error="useradd: Invalid configuration: UID_MIN (60000), UID_MAX (1000); "
                                       "useradd: can't create user")


def test_skeleton_trial_failure_is_a_probe_error():
    """The trial around useradd not working (a mount refused...) says nothing of the trainee's work."""
    probe = SkeletonTrial("A-LIRE.txt")
    with pytest.raises(ProbeError) as info:
        probe.evaluate(CommandResult(probe.command(), 32, "", "mount: /tmp: permission denied.\n"))
    assert "permission denied" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ProbeError):
        probe.evaluate(CommandResult(probe.command(), 0, "garbage\n", ""))


def test_skeleton_trial_command_quotes_its_arguments():
    probe = SkeletonTrial("a b;$(touch x).txt", user="probe'user")
    words = shlex.split(probe.command())
    assert words[:5] == ["unshare", "--mount", "--propagation", "private", "sh"]
    assert words[-2:] == ["probe'user", "a b;$(touch x).txt"]


def test_sections_and_env_parsing():
    text = "noise before\n@@tspcr:env\r\nA=1\nB=x=y\nMULTI=one\ntwo\n@@tspcr:end\n"
    assert split_sections(text) == {"env": "A=1\nB=x=y\nMULTI=one\ntwo", "end": ""}
    assert parse_env(split_sections(text)["env"]) == {"A": "1", "B": "x=y", "MULTI": "one\ntwo"}


AWKWARD = "dossier réseau;$(touch injected) 'q'"


def test_report_command_runs_in_a_real_bash_with_awkward_names(tmp_path):
    """The typed line quotes every name: run it in bash with a home holding an awkward link."""
    home, folder = tmp_path / "home", tmp_path / "srv" / AWKWARD
    home.mkdir()
    folder.mkdir(parents=True)
    (home / AWKWARD).symlink_to(folder)
    os.utime(folder, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    probe = SessionReport(AWKWARD, str(folder), "no-such-tool-$(touch injected)")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "USER": "someone"}
    proc = subprocess.run(["bash", "-c", probe.command()], cwd=tmp_path, env=env, capture_output=True, text=True)
    s = probe.process(proc.stdout)
    assert s.complete and s.env["USER"] == "someone"
    assert s.link == s.resolved == str(folder) and s.write == "ok"
    assert s.tool_path is None and s.tool_output == ""
    assert not list(tmp_path.rglob("injected"))
    assert list(folder.iterdir()) == [], "the write test removes its file"
    assert folder.stat().st_mtime_ns == 1_600_000_000_123_456_789, "and gives the folder its time back"
