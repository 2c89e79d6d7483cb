"""ServiceAtBoot: does a service start at boot, on a virtual lab host (its boot-services file) as on
a real Debian host (systemd, sysvinit rc links)? Outputs recorded on Debian 12
(tests/unit/recorded/boot/README.txt)."""

from __future__ import annotations

import shlex

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import BootStart, ServiceAtBoot

from .recorded_runs import Recorded, fake

REC = Recorded("boot")


@pytest.mark.parametrize("name, virtual, enabled, systemd, links", [
    ("real-not-installed", False, False, "not-found", ()),
    ("real-systemd-enabled", False, True, "enabled", ("/etc/rc2.d/S01smbd",)),
    ("real-systemd-disabled", False, False, "disabled", ()),
    ("real-systemd-masked", False, False, "masked", ("/etc/rc2.d/S01smbd",)),  # masked wins over old links
    ("real-sysvinit-only", False, True, "enabled", ("/etc/rc2.d/S01smbd",)),
    # A virtual host: only boot-services counts, not what the machine's own files enable.
    ("virtual-listed", True, True, "enabled", ("/etc/rc2.d/S01smbd",)),
    ("virtual-removed", True, False, "enabled", ("/etc/rc2.d/S01smbd",)),
])
def test_recorded(name, virtual, enabled, systemd, links):
    found = REC.replay(ServiceAtBoot("smbd"), name)
    assert (found.virtual, found.enabled, found.systemd, found.rc_links) == (virtual, enabled, systemd, links)


def test_a_real_host_with_rc_links_only_and_no_systemctl():
    """sysvinit without systemd installed: the S link decides."""
    out = "@@tspcr:virtual\n@@tspcr:absent\n@@tspcr:systemd\n@@tspcr:absent\n@@tspcr:rc\n/etc/rc2.d/S03smbd\n"
    assert fake(ServiceAtBoot("smbd"), out) == BootStart("smbd", False, False, None, ("/etc/rc2.d/S03smbd",))
    out = out.replace("/etc/rc2.d/S03smbd\n", "")
    found = fake(ServiceAtBoot("smbd"), out)
    assert not found.enabled and found.evidence() == "no systemctl; /etc/rc2.d: no S link"


def test_boot_services_lines_as_the_virtual_boot_reads_them():
    """One name a line, blanks around it dropped, comments skipped; a name inside a longer line is
    not the service (the boot would run `service "smbd nmbd" start`)."""
    def listed(text: str) -> bool:
        out = f"@@tspcr:virtual\n{text}@@tspcr:systemd\nenabled\n@@tspcr:rc\n"
        return fake(ServiceAtBoot("smbd"), out).enabled

    assert listed("ssh\n  smbd  \n") and not listed("ssh\nsmbd nmbd\n") and not listed("# smbd\n")
    assert not listed("@@tspcr:not-a-file\n")  # boot-services made a directory: a virtual host that starts nothing


def test_command_quotes_the_service_and_bad_output_is_a_probe_error():
    words = shlex.split(ServiceAtBoot("a b;x").command())
    assert "'a b;x.service'" in ServiceAtBoot("a b;x").command() and "a b;x.service" in words
    with pytest.raises(ProbeError):
        fake(ServiceAtBoot("smbd"), "nothing recognisable\n")
