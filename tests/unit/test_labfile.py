"""Lab files: the real ip-plan lab loads; every mistake in a lab.toml is one line naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tspcr_lab.errors import UserError
from tspcr_lab.labfile import load_lab

REPO = Path(__file__).resolve().parents[2]


def test_real_ip_plan_lab_loads(monkeypatch):
    monkeypatch.delenv("TSPCR_HOME", raising=False)
    lab = load_lab("ip-plan")
    assert lab.id == "ip-plan"
    assert {name: h.role for name, h in lab.hosts.items()} == {"pc1": "pc", "pc2": "pc", "r1": "router", "srv1": "server"}
    assert lab.switches == ("sw1", "sw2")
    assert len(lab.links) == 5
    assert lab.hosts["r1"].interfaces == ("eth0", "eth1")
    assert lab.competencies == ("007", "030")
    assert (lab.mastery_threshold, lab.check_timeout) == (0.7, 20.0)
    assert lab.hints["test_address"]["en"].startswith("File /etc/network/interfaces")
    assert lab.packages == ("dnsmasq",)  # what its hosts need beyond the base image


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A TSPCR_HOME holding a copy of labs/ip-plan; returns the copied lab.toml."""
    shutil.copytree(REPO / "labs" / "ip-plan", tmp_path / "labs" / "ip-plan")
    monkeypatch.setenv("TSPCR_HOME", str(tmp_path))
    return tmp_path / "labs" / "ip-plan" / "lab.toml"


def test_copied_lab_loads_from_tspcr_home(home):
    assert load_lab("ip-plan").path == home.parent


LINK_SRV1 = 'host = "srv1"\niface = "eth0"\nswitch = "sw2"'

MUTATIONS = [
    pytest.param("mastery_threshold = 0.7", "mastery_treshold = 0.7",
                 ["lab.mastery_treshold", "did you mean 'mastery_threshold'"], id="typo-key"),
    pytest.param("[hints]", "[hint]", ["hint", "did you mean 'hints'"], id="typo-table"),
    pytest.param('role = "router"', 'role = "firewall"', ["hosts[2].role", "'firewall'"], id="unknown-role"),
    pytest.param(LINK_SRV1, LINK_SRV1.replace("sw2", "sw3"), ["links[4].switch", "sw3"], id="unknown-switch"),
    pytest.param('name = "pc2"', 'name = "pc1"', ["hosts[1].name", "'pc1'", "twice"], id="duplicate-host"),
    pytest.param('mgmt = "172.31.0.12"', 'mgmt = "172.31.1.12"', ["hosts[1].mgmt", "172.31.1.12", "172.31.0.0/24"],
                 id="mgmt-outside-network"),
    pytest.param('mgmt = "172.31.0.12"', 'mgmt = "172.31.0.11"', ["hosts[1].mgmt", "172.31.0.11", "already used"],
                 id="duplicate-mgmt"),
    pytest.param('mgmt = "172.31.0.12"', 'mgmt = "172.31.0.254"', ["hosts[1].mgmt", "already used"],
                 id="mgmt-of-grader"),
    pytest.param("[management]", "[management", ["not valid TOML"], id="invalid-toml"),
    pytest.param('id = "ip-plan"', 'id = "ip-plans"', ["lab.id", "'ip-plans'", "'ip-plan'"], id="id-not-folder"),
    pytest.param('competencies = ["007", "030"]', 'competencies = ["007", "099"]', ["lab.competencies", "099"],
                 id="unknown-competency"),
    pytest.param('grader = "172.31.0.254"', 'grader = "172.31.0.999"', ["management.grader", "172.31.0.999"],
                 id="bad-grader-address"),
    pytest.param("mastery_threshold = 0.7", "mastery_threshold = true", ["lab.mastery_threshold", "true"],
                 id="bool-threshold"),
    pytest.param('packages = ["dnsmasq"]', 'packages = ["dnsmasq; rm -rf /"]', ["lab.packages", "not a Debian package"],
                 id="bad-package-name"),
    pytest.param('packages = ["dnsmasq"]', 'packages = "dnsmasq"', ["lab.packages", "expected list"],
                 id="packages-not-a-list"),
    pytest.param('packages = ["dnsmasq"]', 'pakages = ["dnsmasq"]', ["lab.pakages", "did you mean 'packages'"],
                 id="typo-packages"),
]


@pytest.mark.parametrize("old, new, fragments", MUTATIONS)
def test_lab_file_mistake_is_one_line_naming_file_and_key(home, old, new, fragments):
    text = home.read_text(encoding="utf-8")
    assert text.count(old) == 1
    home.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_lab("ip-plan")
    message = str(info.value)
    assert "\n" not in message
    assert str(home) in message
    for fragment in fragments:
        assert fragment in message


def test_unknown_lab_lists_known_labs(home):
    shutil.copytree(home.parent, home.parent.parent / "dns-basics")
    with pytest.raises(UserError, match=r"unknown lab 'nope' \(known labs: dns-basics, ip-plan\)") as info:
        load_lab("nope")
    assert "\n" not in str(info.value)
