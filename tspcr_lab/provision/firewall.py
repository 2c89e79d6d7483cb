"""Deploy helpers for a Linux firewall (nftables), written once for every lab that has one.

``nftables_at_boot()`` makes the rules of /etc/nftables.conf come back at every boot, the way the
host boots: a virtual lab host's boot services; systemd's nftables service on a Debian with
systemd; elsewhere (a Debian without systemd, whose nftables package ships no rc script) an
ifupdown hook that loads the file before the first interface comes up. The checks accept each of
these (:class:`tspcr_lab.probes.nftables.NftablesAtBoot`), as they accept a trainee's.
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.facts.server import Which
from pyinfra.operations import files, server

from .services import BOOT_SERVICES

RULES = "/etc/nftables.conf"
HOOK = "/etc/network/if-pre-up.d/nftables"  # run-parts runs names without a dot only


@deploy("nftables rules loaded at boot")
def nftables_at_boot() -> None:
    if host.get_fact(File, path=BOOT_SERVICES):
        files.line(name=f"{host.name}: nftables at boot (virtual lab host)", path=BOOT_SERVICES, line="nftables")
    elif host.get_fact(Which, command="systemctl"):
        server.shell(name=f"{host.name}: nftables at boot (systemd)", commands=["systemctl enable nftables"])
    else:
        files.put(name=f"{host.name}: nftables at boot (ifupdown hook, no systemd)",
                  src=StringIO("#!/bin/sh\n# the firewall's rules, loaded once, before the first interface (lo) comes up\n"
                               f'[ "$IFACE" = lo ] || exit 0\nexec nft -f {RULES}\n'),
                  dest=HOOK, mode="755")
