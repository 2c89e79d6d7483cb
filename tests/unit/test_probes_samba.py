"""Samba probes against outputs recorded in a shares lab (see tests/unit/recorded/samba/README.txt)."""

from __future__ import annotations

import shlex

import pytest

from tspcr_lab.errors import BrokenWork, CheckFailed, ProbeError
from tspcr_lab.probes.samba import (
    SambaAccount,
    SambaAccounts,
    SambaConfig,
    SmbClient,
    SmbShares,
    as_bool,
    parse_smbclient,
    split_list,
)

from .recorded_runs import Recorded, fake

REC = Recorded("samba")
RECORDED, RUNS, replay = REC.path, REC.runs, REC.replay
SERVER = "192.168.221.10"
OLIVIER = ("olivier", "Sapin-39e_")


# -- testparm -----------------------------------------------------------------------------------

def test_testparm_untouched_guest_share():
    config = replay(SambaConfig(), "testparm-untouched")
    assert config.loaded
    assert config.option("map to guest") == "Bad User"
    assert config.option("workgroup") == "WORKGROUP"  # a default: testparm -s does not print it
    assert list(config.shares) == ["partage"]
    share = config.share("PARTAGE")
    assert share.path == "/srv/partage" and share.guest_ok and not share.read_only
    assert share.get("force user") == "nobody"


def test_testparm_solved_shares():
    config = replay(SambaConfig(), "testparm-solved")
    assert config.option("workgroup") == "ATELIER"
    assert config.option("map to guest") == "never"  # the default
    assert config.option("restrict anonymous") == "2"
    assert sorted(config.shares) == ["accueil", "public", "rh"]
    accueil = config.share("accueil")
    assert accueil.path == "/srv/partages/accueil"
    assert not accueil.read_only and not accueil.guest_ok
    assert split_list(accueil.get("valid users")) == ["@accueil"]
    public = config.share("public")
    assert public.read_only and not public.guest_ok and public.get("write list") is None
    assert config.share("nosuch") is None


def test_testparm_cannot_load_is_a_result_not_an_error():
    config = replay(SambaConfig("/nonexistent/smb.conf"), "testparm-broken")
    assert not config.loaded
    assert "Error loading services" in config.error
    assert config.shares == {}


def test_testparm_synonyms_and_lists():
    config = fake(SambaConfig(), "[global]\n\tworkgroup = X\n\n[a]\n\tpath = /a b\n\twritable = yes\n"
                                 "\tpublic = yes\n\tvalid users = @g1, alice  bob\n")
    share = config.share("a")
    assert share.path == "/a b" and not share.read_only and share.guest_ok
    assert split_list(share.get("valid users")) == ["@g1", "alice", "bob"]
    assert as_bool("Yes") is True and as_bool("off") is False and as_bool("maybe") is None


def test_testparm_garbage_is_a_probe_error():
    with pytest.raises(ProbeError, match="SambaConfig: cannot parse"):
        fake(SambaConfig(), "no section here\n")
    with pytest.raises(ProbeError, match="SambaConfig"):
        fake(SambaConfig(), "", rc=2, stderr="testparm: not found")


def test_testparm_quotes_its_path():
    assert shlex.split(SambaConfig("/etc/x; rm -rf /").command())[-1] == "/etc/x; rm -rf /"


# -- pdbedit ------------------------------------------------------------------------------------

def test_pdbedit_untouched_one_enabled_account():
    accounts = replay(SambaAccounts(), "pdbedit-untouched")
    assert list(accounts) == ["bruno"]
    assert accounts["bruno"] == SambaAccount(name="bruno", flags=frozenset({"U"}), bad_password_count=0)
    assert not accounts["bruno"].disabled and accounts["bruno"].password_required


def test_pdbedit_solved_disabled_flag():
    accounts = replay(SambaAccounts(), "pdbedit-solved")
    assert sorted(accounts) == ["bruno", "karima", "olivier", "quentin", "theo"]
    assert accounts["bruno"].disabled and accounts["bruno"].flags == {"D", "U"}
    assert not any(accounts[n].disabled for n in ("karima", "olivier", "quentin", "theo"))


def test_pdbedit_empty_and_garbage():
    assert fake(SambaAccounts(), "") == {}
    with pytest.raises(ProbeError, match="SambaAccounts: cannot parse"):
        fake(SambaAccounts(), "---------------\nUnix username:        x\nAccount Flags:        U\n")
    with pytest.raises(ProbeError, match="SambaAccounts"):
        fake(SambaAccounts(), "", rc=1, stderr="Failed to load passdb")


def test_pdbedit_stopped_by_the_trainees_smb_conf_is_a_failure():
    """smb.conf names a passdb backend that does not exist (recorded): the trainee's work, a
    finding in both languages, not an error."""
    with pytest.raises(BrokenWork) as info:
        replay(SambaAccounts(), "pdbedit-bad-backend")
    found = info.value
    assert isinstance(found, CheckFailed) and not isinstance(found, ProbeError)
    assert found.message("en") == ("pdbedit cannot open the Samba accounts: 'No builtin nor plugin backend for "
                                   "smbpasswd-file found Can't initialize passdb backend.' (smb.conf's passdb backend option?)")
    assert "passdb backend de smb.conf" in found.message("fr") and found.public_message("fr") == found.message("fr")


# -- smbclient ----------------------------------------------------------------------------------

def test_smbclient_password_is_not_on_smbclient_command_line():
    command = SmbClient(SERVER, "accueil", "ls", *OLIVIER).command()
    words = shlex.split(command)
    assert words[:2] == ["LANG=C", "PASSWD=Sapin-39e_"]
    assert "Sapin-39e_" not in words[2:]
    assert words[2:6] == ["smbclient", "//192.168.221.10/accueil", "-U", "olivier"]


def test_smbclient_hostile_strings_are_quoted():
    words = shlex.split(SmbClient(SERVER, "a$(id)", "ls; !x", "u'; reboot", "p w'\"").command())
    assert "//192.168.221.10/a$(id)" in words and "u'; reboot" in words and "PASSWD=p w'\"" in words


@pytest.mark.parametrize("name, probe, stage, status", [
    ("smbclient-ls-ok", SmbClient(SERVER, "accueil", "ls", *OLIVIER), "done", None),
    ("smbclient-put-del-ok", SmbClient(SERVER, "accueil", "put /etc/hostname .rec-probe.tmp; del .rec-probe.tmp",
                                       *OLIVIER), "done", None),
    ("smbclient-put-denied", SmbClient(SERVER, "public", "put /etc/hostname .rec-probe.tmp; del .rec-probe.tmp",
                                       *OLIVIER), "command", "NT_STATUS_ACCESS_DENIED"),
    ("smbclient-tree-denied", SmbClient(SERVER, "rh", "ls", *OLIVIER), "tree", "NT_STATUS_ACCESS_DENIED"),
    ("smbclient-bad-network-name", SmbClient(SERVER, "nosuchshare", "ls", *OLIVIER), "tree",
     "NT_STATUS_BAD_NETWORK_NAME"),
    ("smbclient-logon-failure", SmbClient(SERVER, "rh", "ls", "theo", "wrong-password"), "session",
     "NT_STATUS_LOGON_FAILURE"),
    ("smbclient-anonymous-denied", SmbClient(SERVER, "public", "ls"), "tree", "NT_STATUS_ACCESS_DENIED"),
    ("smbclient-anonymous-guest-share", SmbClient(SERVER, "partage", "ls"), "done", None),
    ("smbclient-unknown-user-guest", SmbClient(SERVER, "partage", "ls", "visiteur42", "x"), "done", None),
    ("smbclient-no-account-mapped-guest", SmbClient(SERVER, "accueil", "ls", *OLIVIER), "tree",
     "NT_STATUS_BAD_NETWORK_NAME"),
    ("smbclient-connection-refused", SmbClient(SERVER, "public", "ls", *OLIVIER), "connect",
     "NT_STATUS_CONNECTION_REFUSED"),
    ("smbclient-host-unreachable", SmbClient("192.168.221.99", "public", "ls", *OLIVIER, timeout=2), "connect",
     "NT_STATUS_HOST_UNREACHABLE"),
])
def test_smbclient_stages(name, probe, stage, status):
    result = replay(probe, name)
    assert (result.stage, result.status) == (stage, status)
    assert result.ok == (stage == "done")
    assert result.connected == (stage in ("command", "done"))
    assert result.answered == (stage != "connect")


def test_smbclient_put_success_is_visible():
    assert "putting file" in replay(SmbClient(SERVER, "accueil", "put /etc/hostname .rec-probe.tmp; "
                                              "del .rec-probe.tmp", *OLIVIER), "smbclient-put-del-ok").output


def test_share_listing_as_user():
    listing = replay(SmbShares(SERVER, *OLIVIER), "smbclient-list")
    assert listing.result.ok
    assert listing.disk_shares == ["accueil", "public", "rh"]
    assert listing.shares["IPC$"] == "IPC"


def test_share_listing_untouched_anonymous_sees_the_guest_share():
    listing = replay(SmbShares(SERVER), "smbclient-list-anonymous-untouched")
    assert listing.result.ok and listing.disk_shares == ["partage"]


def test_share_listing_refused():
    disabled = replay(SmbShares(SERVER, "bruno", "Montagne-35u+"), "smbclient-account-disabled")
    assert (disabled.result.stage, disabled.result.status) == ("session", "NT_STATUS_ACCOUNT_DISABLED")
    assert disabled.shares == {}
    restricted = replay(SmbShares(SERVER), "smbclient-list-anonymous-restricted")
    assert (restricted.result.stage, restricted.result.status) == ("tree", "NT_STATUS_ACCESS_DENIED")


def test_smbclient_unexpected_exit_is_a_probe_error():
    with pytest.raises(ProbeError, match="SmbClient"):
        fake(SmbClient(SERVER, "x"), "", rc=127, stderr="sh: smbclient: not found")


def test_parse_smbclient_failure_without_status():
    result = parse_smbclient(1, "some error\n")
    assert result.stage == "command" and result.status is None and not result.ok
