"""Session probes against outputs recorded in real login sessions on the virtual lab
(see tests/unit/recorded/session/README.txt), and the report's command run by a real bash."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.session import (
    LoginTrial,
    MembershipTrial,
    NewAccount,
    SessionReport,
    SkelEntry,
    SkeletonTrial,
    parse_env,
    split_sections,
)
from tspcr_lab.transport.base import CommandResult

from .recorded_runs import Recorded, parse_error

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


# -- LoginTrial and MembershipTrial, recorded on user-environment seed 4242 (recorded/trial) -------

TRIAL = Recorded("trial")


def login_trial(name: str) -> dict:
    run = TRIAL.runs[name]
    kw = {key: run[key] for key in ("states", "seconds") if key in run}
    if "states" in kw:
        kw["states"] = tuple(kw["states"])
    probe = LoginTrial(run["user"], run["home"], run["link"], run["folder"], run["tool"], run["elsewhere"], **kw)
    return TRIAL.replay(probe, name)


def membership_trial(name: str) -> dict:
    run = TRIAL.runs[name]
    probe = MembershipTrial(run["group"], run["leave"], run["join"], **({"seconds": run["seconds"]} if "seconds" in run else {}))
    return TRIAL.replay(probe, name)


BANNER = "[accueil] Reunion d'equipe mardi a 14h - Garage Martin"


def test_login_trial_of_the_solution():
    trial = login_trial("login-solved")
    assert list(trial) == ["missing", "elsewhere", "right"]
    for state, login in trial.items():
        assert login.state == state and login.rc == 0 and not login.timed_out
        s = login.session
        assert s.complete and s.env["COMPANY"] == "Garage Martin" and s.env["SHARE"] == "/srv/commun/bruno"
        assert s.path[-1] == "/opt/martin/bin" and s.tool_path == "/opt/martin/bin/martin-support"
        assert s.tool_output == "Garage Martin - support informatique : poste 887"
        assert s.link == s.resolved == "/srv/commun/bruno" and s.write == "ok"
        assert login.added == () and login.greeting == BANNER
    assert trial["right"].kept is True and trial["missing"].kept is None and trial["elsewhere"].kept is None
    other = login_trial("login-solved-other")  # ines: not in the group, no banner
    assert all(login.greeting == "" and login.session.resolved == "/srv/commun/ines" for login in other.values())


def test_login_trial_without_a_home_is_empty():
    assert login_trial("login-no-home") == {}


def test_login_trial_of_scripts_read_only_by_interactive_shells():
    for name in ("login-script-interactive-only", "login-script-in-bashrc"):
        trial = login_trial(name)
        missing = trial["missing"].session
        assert missing.complete and "COMPANY" not in missing.env and "SHARE" not in missing.env
        assert missing.link is None and missing.resolved is None and missing.write == "skipped"
        assert missing.tool_path is None and trial["missing"].greeting == ""
        elsewhere = trial["elsewhere"].session
        assert elsewhere.link == elsewhere.resolved == "/srv/commun", "nothing repairs the link"
    bashrc = login_trial("login-variables-in-bash-bashrc")
    assert all(login.session.resolved == "/srv/commun/bruno" for login in bashrc.values())
    assert all("COMPANY" not in login.session.env and login.session.tool_path is None for login in bashrc.values())


def test_login_trial_of_a_link_never_repaired():
    trial = login_trial("login-link-not-repaired")
    assert trial["missing"].session.resolved == "/srv/commun/bruno"
    elsewhere = trial["elsewhere"]
    assert elsewhere.session.link == elsewhere.session.resolved == "/srv/commun" and elsewhere.session.write == "skipped"
    assert trial["right"].kept is True and trial["right"].added == ()


def test_login_trial_of_ln_s_at_every_login():
    trial = login_trial("login-link-duplicated")
    assert trial["missing"].added == ()
    right = trial["right"]
    assert right.added == ("bruno",), "ln -s on the existing link made a link inside the folder"
    assert right.session.resolved == "/srv/commun/bruno" and right.kept is True
    assert right.greeting.splitlines() == [
        "ln: failed to create symbolic link '/home/bruno/Dossier-reseau/bruno': File exists", BANNER]


def test_login_trial_of_a_script_that_exits():
    trial = login_trial("login-script-exits")
    for login in trial.values():
        assert not login.session.complete and login.session.env == {} and login.rc == 0
        assert login.greeting == BANNER
    assert trial["right"].kept is True


def test_login_trial_that_times_out():
    trial = login_trial("login-script-hangs")
    assert list(trial) == ["missing"]
    login = trial["missing"]
    assert login.rc == 137 and login.timed_out and not login.session.complete
    assert login.greeting.startswith(BANNER)


def test_membership_trial_of_the_solution():
    trial = membership_trial("membership-solved")
    assert set(trial) == {"bruno", "ines"}
    assert trial["bruno"].user == "bruno" and trial["bruno"].rc == 0 and not trial["bruno"].timed_out
    assert BANNER not in trial["bruno"].text, "bruno left the group: no banner"
    assert BANNER in trial["ines"].text.splitlines(), "ines joined it: the banner"
    assert "ines@pc1:~$" in trial["ines"].text


def test_membership_trial_of_banners_not_tied_to_membership():
    named = membership_trial("membership-banner-named-users")
    assert BANNER in named["bruno"].text and BANNER not in named["ines"].text
    everybody = membership_trial("membership-banner-for-everybody")
    assert BANNER in everybody["bruno"].text and BANNER in everybody["ines"].text
    primary = membership_trial("membership-banner-primary-group")
    assert BANNER not in primary["bruno"].text and BANNER not in primary["ines"].text


def test_trials_on_malformed_or_truncated_outputs_are_probe_errors():
    login = LoginTrial("bruno", "/home/bruno", "Dossier-reseau", "/srv/commun/bruno", "martin-support", "/srv/commun")
    solved = TRIAL.text("login-solved.out")
    assert "no login for state missing" in parse_error(login, "")
    assert "no login for state missing" in parse_error(login, "garbage\n")
    assert "no login for state right" in parse_error(login, solved.split("@@tspcr-trial:right")[0])
    cut = solved[:solved.index("@@tspcr:rc", solved.index("@@tspcr-trial:right"))]
    assert "incomplete trial of state right" in parse_error(login, cut)
    assert "cannot parse" in parse_error(login, solved.replace("@@tspcr:rc\n0", "@@tspcr:rc\nzero", 1))
    assert "cannot parse" in parse_error(login, solved.replace("@@tspcr:rc\n0", "@@tspcr:rc\n", 1))
    member = MembershipTrial("accueil", "bruno", "ines")
    text = TRIAL.text("membership-solved.out")
    assert "no login of bruno" in parse_error(member, "")
    assert "no login of ines" in parse_error(member, text.split("@@tspcr-trial:ines")[0])
    assert "incomplete login of ines" in parse_error(member, text[:text.rindex("@@tspcr:rc")])
    assert "cannot parse" in parse_error(member, text.replace("@@tspcr:rc\n0", "@@tspcr:rc\n", 1))
    # The trial itself failing (a mount refused...) is the probe's error, never the trainee's.
    with pytest.raises(ProbeError) as info:
        login.evaluate(CommandResult(login.command(), 32, "", "mount: /tmp: permission denied.\n"))
    assert "permission denied" in str(info.value)
    with pytest.raises(ProbeError):
        member.evaluate(CommandResult(member.command(), 1, "", "cp: cannot stat '/etc'\n"))


def test_trials_refuse_bad_arguments_and_quote_the_rest():
    with pytest.raises(ValueError):
        LoginTrial("u", "/home/u", "l", "/f", "t", "/e", states=("missing", "sideways"))
    with pytest.raises(ValueError):
        MembershipTrial("g", "bad name", "ines")
    probe = LoginTrial("o'neil", "/home/a b", "lien;$(x)", "/srv/f", "t", "/srv", states=("right",))
    words = shlex.split(probe.command())
    assert words[:5] == ["unshare", "--mount", "--propagation", "private", "sh"]
    assert words[-8:-3] == ["o'neil", "/home/a b", "lien;$(x)", "/srv/f", "/srv"] and words[-2:] == ["5", "right"]
    group = shlex.split(MembershipTrial("grp $(x)", "bruno", "ines", seconds=3).command())
    assert group[-4:] == ["grp $(x)", "3", "bruno", "ines"]


def test_membership_trial_of_a_login_that_never_ends():
    trial = membership_trial("membership-script-hangs")
    assert trial["bruno"].rc == trial["ines"].rc == 137 and trial["ines"].timed_out
