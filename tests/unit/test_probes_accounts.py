"""Account probes against outputs recorded on a virtual host of the local-accounts lab
(tests/unit/recorded/accounts: record.py says how, runs.json says in which state)."""

from __future__ import annotations

import ctypes.util
import shlex
import subprocess

import pytest

from tspcr_lab.probes.accounts import (
    ArchiveFile,
    ArchiveListing,
    ArchiveMembers,
    PasswordQualityPolicy,
    QualityVerdict,
    Shadow,
    ShadowEntry,
    UserGroups,
)

from .recorded_runs import Recorded, parse_error

REC = Recorded("accounts")
RECORDED, RUNS, replay = REC.path, REC.runs, REC.replay
# The values of local-accounts seed 7, the seed the outputs were recorded with.
TOO_SHORT, TOO_FEW_CLASSES, STRONG = "64zP?M7w%LRCf", "8b7zctjd0a6xw4g3u", "FjMO6#ERCv8c2%fV9"
ARCHIVE = "/srv/archives/jmartin-profil.tar.gz"


# --- shadow -------------------------------------------------------------------------------------


def test_shadow_untouched():
    shadow = replay(Shadow(), "shadow-untouched")
    assert shadow.today == 20785
    assert shadow.get("jmartin") == ShadowEntry("jmartin", locked=False, has_password=True, last_change=20785,
                                                min_days=0, max_days=99999, warn_days=7, inactive_days=None,
                                                expire=None)
    assert "ssimon" not in shadow and shadow.get("ssimon") is None
    # System accounts: "*" (no password) or "!" / "!*" (locked, no hash).
    assert shadow.get("root").has_password is False and shadow.get("root").locked is False
    assert shadow.get("sshd").locked is True and shadow.get("sshd").has_password is False
    assert shadow.get("sshd").max_days is None


def test_shadow_solved():
    shadow = replay(Shadow(), "shadow-solved")
    for login in ("ssimon", "clefebvre", "imichel"):
        entry = shadow.get(login)
        assert (entry.max_days, entry.warn_days, entry.has_password, entry.locked) == (90, 7, True, False)
    assert shadow.get("imichel").last_change == 0  # chage -d 0: must change at next logon
    assert shadow.get("ssimon").last_change == shadow.today
    assert shadow.get("tdubois").locked and shadow.get("tdubois").has_password  # usermod -L keeps the hash
    assert not shadow.get("tdubois").expired_on(shadow.today)
    assert "jmartin" not in shadow


def test_shadow_expired_empty_and_no_ageing():
    shadow = replay(Shadow(), "shadow-expired-empty")
    assert shadow.get("ssimon").expire == 0 and shadow.get("ssimon").expired_on(shadow.today)
    assert not shadow.get("ssimon").locked
    empty = shadow.get("clefebvre")
    assert (empty.locked, empty.has_password) == (False, False)
    off = shadow.get("imichel")
    assert (off.max_days, off.warn_days, off.last_change) == (None, None, 0)


def test_shadow_never_shows_a_hash():
    for name in ("shadow-untouched", "shadow-solved", "shadow-expired-empty"):
        assert "$" not in (RECORDED / f"{name}.out").read_text()


def test_shadow_command_on_awkward_lines(tmp_path):
    """The shell loop itself, with getent replaced by a function printing hostile lines."""
    lines = [
        "a:$y$j9T$salt$hash:20000:0:90:7:::",
        "b:!$6$x$y:1:2:3:4:5:6:",
        "c::0::::::",
        "d$(touch x):*:20000:::::: ",
        "e:!:20000::::::",
    ]
    script = "getent() { printf '%s\\n' " + " ".join(shlex.quote(l) for l in lines) + "; }; date() { echo 864000; }; " + Shadow().command()
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert not (tmp_path / "x").exists()
    shadow = Shadow().process(out)
    assert shadow.today == 10
    assert (shadow.get("a").locked, shadow.get("a").has_password, shadow.get("a").max_days) == (False, True, 90)
    assert (shadow.get("b").locked, shadow.get("b").has_password, shadow.get("b").expire) == (True, True, 6)
    assert (shadow.get("c").has_password, shadow.get("c").last_change) == (False, 0)
    assert shadow.get("d$(touch x)").has_password is False
    assert (shadow.get("e").locked, shadow.get("e").has_password) == (True, False)


@pytest.mark.parametrize("output", ["", "root:0:0:1:0:9:7:::\n", "today:x\n", "today:1\nroot:0:0:1\n",
                                    "today:1\nroot:0:0:a:0:9:7:::\n"])
def test_shadow_bad_output(output):
    parse_error(Shadow(), output)


def test_shadow_command_failure_is_a_probe_error():
    parse_error(Shadow(), "", rc=127, stderr="sh: 1: getent: not found")


# --- id -Gn -------------------------------------------------------------------------------------


def test_user_groups():
    assert replay(UserGroups("clefebvre"), "groups-two") == ["clefebvre", "logistique", "compta"]
    assert replay(UserGroups("jmartin"), "groups-departing") == ["jmartin"]
    assert replay(UserGroups("ssimon"), "groups-missing") is None


def test_user_groups_quoting_and_errors():
    assert shlex.split(UserGroups("-x; reboot").command())[-2:] == ["--", "-x; reboot"]
    parse_error(UserGroups("a"), "", rc=1, stderr="id: cannot find name for group ID 1234")
    parse_error(UserGroups("a"), "\n")


# --- password quality ---------------------------------------------------------------------------


def test_password_quality_default_policy():
    policy = replay(PasswordQualityPolicy(TOO_SHORT, TOO_FEW_CLASSES, STRONG), "pwquality-default")
    assert policy.in_pam and policy.pam_options == ["retry=3"] and policy.config_error is None
    assert (policy.settings["minlen"], policy.settings["minclass"], policy.settings["enforcing"]) == (8, 0, 1)
    assert all(v.accepted for v in policy.verdicts.values())


def test_password_quality_solved_policy():
    policy = replay(PasswordQualityPolicy(TOO_SHORT, TOO_FEW_CLASSES, STRONG), "pwquality-solved")
    assert (policy.settings["minlen"], policy.settings["minclass"]) == (14, 3)
    short, few, strong = (policy.verdicts[p] for p in (TOO_SHORT, TOO_FEW_CLASSES, STRONG))
    assert not short.accepted and "shorter than 14" in short.error
    assert not few.accepted and "less than 3 character classes" in few.error
    assert strong.accepted and strong.error == ""
    assert replay(PasswordQualityPolicy(), "pwquality-settings").settings == policy.settings


def test_password_quality_pam_options_override_the_file():
    policy = replay(PasswordQualityPolicy(TOO_SHORT, TOO_FEW_CLASSES, STRONG), "pwquality-pam-options")
    assert policy.pam_options == ["retry=3", "minclass=2", "enforcing=0"]
    assert policy.config_error == "Unknown setting - foo"
    assert (policy.settings["minlen"], policy.settings["minclass"], policy.settings["enforcing"]) == (9, 2, 0)
    assert policy.verdicts[TOO_SHORT] == QualityVerdict(TOO_SHORT, 98, "")


def test_password_quality_without_pam_line():
    policy = replay(PasswordQualityPolicy(), "pwquality-no-pam")
    assert policy.pam_options is None and not policy.in_pam and policy.verdicts == {}


def test_password_quality_candidates_are_quoted():
    command = PasswordQualityPolicy("a b", "$(reboot)", "'").command()
    words = shlex.split(command)
    assert words[:2] == ["python3", "-c"] and words[-3:] == ["a b", "$(reboot)", "'"]


@pytest.mark.parametrize("output", ["", "not json", "{}", '{"pam": null, "config_error": null, "settings": {}}',
                                    '{"pam": null, "config_error": null, "settings": {"minlen": "x"}, "candidates": []}'])
def test_password_quality_bad_output(output):
    parse_error(PasswordQualityPolicy(), output)


@pytest.mark.skipif(not ctypes.util.find_library("pwquality"), reason="libpwquality is not installed here")
def test_password_quality_script_runs_against_the_real_library():
    """The script, run here for real (it only reads): an empty and a dictionary word are refused."""
    probe = PasswordQualityPolicy("", "password")
    out = subprocess.run(["sh", "-c", probe.command()], capture_output=True, text=True, check=True).stdout
    policy = probe.process(out)
    assert {"minlen", "minclass", "dcredit", "enforcing"} <= set(policy.settings)
    assert not policy.verdicts[""].accepted and not policy.verdicts["password"].accepted


# --- tar archives -------------------------------------------------------------------------------


def test_archive_listing():
    listing = replay(ArchiveMembers(ARCHIVE), "archive")
    assert listing.exists and not listing.error
    assert listing.find(".signature") == "jmartin/.signature"
    assert listing.find("Documents/planning-equipe.txt") == "jmartin/Documents/planning-equipe.txt"
    assert listing.find("signature") is None  # a suffix counts only on a path boundary
    assert listing.find("Documents/other.txt") is None


def test_archive_find_any_prefix():
    listing = ArchiveListing("/a.tar", True, ["home/u/.x", "./y/z", "w"])
    assert (listing.find(".x"), listing.find("y/z"), listing.find("w")) == ("home/u/.x", "./y/z", "w")


def test_archive_missing_and_not_an_archive():
    assert replay(ArchiveMembers(ARCHIVE), "archive-missing") == ArchiveListing(ARCHIVE, False)
    listing = replay(ArchiveMembers("/etc/hostname"), "archive-not-tar")
    assert listing.exists and listing.error == "tar: This does not look like a tar archive"


def test_archive_file():
    member = "jmartin/Documents/planning-equipe.txt"
    assert replay(ArchiveFile(ARCHIVE, member), "archive-file") == "planning-equipe - Jules Martin - ref 21026\n"
    assert replay(ArchiveFile(ARCHIVE, "no/such/member"), "archive-file-missing") is None


def test_archive_quoting():
    words = shlex.split(ArchiveFile("/a b.tgz", "-rf /").command())
    assert words[-3:] == ["/a b.tgz", "--", "-rf /"]
    words = list(shlex.shlex(ArchiveMembers("/x;y").command(), posix=True, punctuation_chars=True))
    assert words.count("/x;y") == 2
