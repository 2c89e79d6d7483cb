"""nftables probes (tspcr_lab.probes.nftables) on outputs of nft, ifquery and the boot files: the
ruleset's listing and whether it filters a hook, a saved file loaded apart, and every way a
Debian host loads its rules at boot (and the ways that look like it but do not)."""

from __future__ import annotations

import json

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.nftables import (
    DEBIAN_RULES,
    NftablesAtBoot,
    NftRuleset,
    SavedRuleset,
    loaded_files,
    ruleset_lines,
)
from tspcr_lab.probes.system import _BOOT_MARK
from tspcr_lab.transport.base import CommandResult

TEXT = """table inet filter {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tip saddr 10.0.0.0/24 tcp dport { 80, 443 } counter packets 12 bytes 720 reject with tcp reset
\t}
}
"""


def listing(policy="accept", rule_expr=({"reject": {"type": "tcp reset"}},), hook="forward") -> str:
    data = {"nftables": [
        {"metainfo": {"json_schema_version": 1}},
        {"table": {"family": "inet", "name": "filter"}},
        {"chain": {"family": "inet", "table": "filter", "name": "fw", "hook": hook, "policy": policy}},
        {"rule": {"family": "inet", "table": "filter", "chain": "fw", "expr": list(rule_expr)}},
    ]}
    return TEXT + "@@tspcr-nft-json\n" + json.dumps(data)


def result(rc: int, stdout: str = "", stderr: str = "") -> CommandResult:
    return CommandResult(command="x", rc=rc, stdout=stdout, stderr=stderr, host="fw")


def test_counters_values_are_left_out_of_the_lines():
    assert ruleset_lines(TEXT)[3] == "ip saddr 10.0.0.0/24 tcp dport { 80, 443 } counter reject with tcp reset"


def test_a_hook_is_filtered_by_its_policy_or_by_a_drop_or_reject_rule():
    assert NftRuleset().process(listing()).filters("forward")
    assert NftRuleset().process(listing(policy="drop", rule_expr=({"accept": None},))).filters("forward")
    open_one = NftRuleset().process(listing(rule_expr=({"accept": None},)))
    assert not open_one.filters("forward") and not open_one.filters("input")
    assert not NftRuleset().process(listing(hook="input")).filters("forward")
    with pytest.raises(ProbeError):
        NftRuleset().process(TEXT)  # no JSON part: the listing is not what was asked


def test_a_saved_file_missing_unloadable_or_loaded():
    probe = SavedRuleset("/etc/nftables.conf", ("eth0", "eth1"))
    assert "unshare -n" in probe.command() and "ip link add eth1 type veth" in probe.command()
    assert probe.evaluate(result(3)).exists is False
    bad = probe.evaluate(result(4, stderr="/etc/nftables.conf:3:1-5: Error: syntax error"))
    assert bad.exists and not bad.loads and "syntax error" in bad.error
    good = probe.evaluate(result(0, listing()))
    assert good.loads and good.ruleset.blocks_anything
    with pytest.raises(ProbeError):
        probe.evaluate(result(1, stderr="unshare: unshare failed: Operation not permitted"))


def test_running_and_saved_rules_compared_line_by_line():
    running = NftRuleset().process(listing())
    saved = NftRuleset().process(listing().replace("80, 443", "80"))
    only_running, only_saved = running.compare(saved)
    assert only_running == ["ip saddr 10.0.0.0/24 tcp dport { 80, 443 } counter reject with tcp reset"]
    assert only_saved == ["ip saddr 10.0.0.0/24 tcp dport { 80 } counter reject with tcp reset"]


@pytest.mark.parametrize("line, files", [
    ("nft -f /etc/nftables.conf", ["/etc/nftables.conf"]),
    ("/usr/sbin/nft -f /etc/fw.nft", ["/etc/fw.nft"]),
    ("[ \"$IFACE\" = lo ] && exec nft --file '/etc/nftables.conf'", ["/etc/nftables.conf"]),
    ("nft -c -f /etc/nftables.conf", ["/etc/nftables.conf"]),
    ("# nft -f /etc/nftables.conf", []),
    ("nft list ruleset > /etc/nftables.conf", []),
    ("iptables-restore < /etc/iptables/rules.v4", []),
    ("nft -f rules.nft", []),  # a relative path: from where?
])
def test_loaded_files(line, files):
    assert loaded_files(line) == files


def boot_output(*, virtual="absent", systemd="absent", rc="", ifaces=(), hooks=()) -> str:
    mark = "@@tspcr-boot "
    lines = [f"{mark}service"]
    # ServiceAtBoot's own three sections (its marker), as its command prints them
    lines += [f"{_BOOT_MARK}virtual", virtual if virtual != "absent" else f"{_BOOT_MARK}absent",
              f"{_BOOT_MARK}systemd", systemd if systemd != "absent" else f"{_BOOT_MARK}absent",
              f"{_BOOT_MARK}rc", *([rc] if rc else [])]
    for name, options in ifaces:
        lines += [f"{mark}iface {name}", *options]
    for path, text in hooks:
        lines += [f"{mark}hook {path}", *text.splitlines()]
    return "\n".join(lines) + "\n"


def test_the_nftables_service_at_boot_loads_debians_file():
    boot = NftablesAtBoot().process(boot_output(systemd="enabled"))
    assert boot.enabled and boot.loads(DEBIAN_RULES) and boot.file() == DEBIAN_RULES
    assert NftablesAtBoot().process(boot_output(virtual="nftables\nssh")).loads(DEBIAN_RULES)
    masked = NftablesAtBoot().process(boot_output(systemd="masked", rc="/etc/rc2.d/S01nftables"))
    assert not masked.enabled and "no ifupdown line or hook runs nft -f" in masked.evidence()


def test_ifupdown_loads_rules_from_a_stanza_of_an_interface_brought_up_at_boot_or_a_hook():
    stanza = NftablesAtBoot().process(boot_output(ifaces=[("eth0", ["address: 10.0.0.1", "pre-up: nft -f /etc/fw.nft"])]))
    assert stanza.enabled and stanza.file() == "/etc/fw.nft" and "interface eth0" in stanza.evidence()
    hook = NftablesAtBoot().process(boot_output(hooks=[("/etc/network/if-pre-up.d/nftables",
                                                        "#!/bin/sh\n[ \"$IFACE\" = lo ] || exit 0\nexec nft -f /etc/nftables.conf\n")]))
    assert hook.loads(DEBIAN_RULES) and "ifupdown hook" in hook.evidence()


def test_what_looks_like_loading_at_boot_but_is_not():
    # run-parts skips a hook whose name has a dot; a commented line loads nothing; no stanza at all
    dotted = NftablesAtBoot().process(boot_output(hooks=[("/etc/network/if-pre-up.d/fw.sh", "nft -f /etc/nftables.conf")]))
    commented = NftablesAtBoot().process(boot_output(ifaces=[("eth0", ["up: true # nft -f /etc/nftables.conf"])]))
    assert not dotted.enabled and not commented.enabled and NftablesAtBoot().process(boot_output()).file() == DEBIAN_RULES
