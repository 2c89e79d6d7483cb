"""Services started at boot, written once for every lab's deploy.

``service_at_boot("dnsmasq")`` (or ``enabled=False``) sets whether services start when the host
boots, the way the host boots: a virtual lab host by its list of boot services
(/etc/tspcr-lab/boot-services, read by its init); a real Debian host by systemd
(``systemctl enable``) or, without systemd, by its rc links (``update-rc.d NAME enable``, when the
package ships an init script). The checks read the same three (:class:`tspcr_lab.probes.ServiceAtBoot`).
"""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import files, server

BOOT_SERVICES = "/etc/tspcr-lab/boot-services"  # how a virtual lab host starts its services; a real one has none


@deploy("services at boot")
def service_at_boot(*names: str, enabled: bool = True) -> None:
    verb = "enable" if enabled else "disable"
    if host.get_fact(File, path=BOOT_SERVICES):
        for name in names:
            files.line(name=f"{host.name}: {name} {'' if enabled else 'not '}started at boot (virtual lab host)",
                       path=BOOT_SERVICES, line=name, present=enabled)
    commands = []
    for name in names:
        n = shlex.quote(name)
        commands.append(f"if command -v systemctl >/dev/null 2>&1; then systemctl {verb} {n}{'' if enabled else ' || true'}; "
                        f"elif [ -x /etc/init.d/{n} ]; then {'update-rc.d ' + n + ' defaults && ' if enabled else ''}"
                        f"update-rc.d {n} {verb}; fi")
    server.shell(name=f"{host.name}: {verb} {', '.join(names)} at boot", commands=commands)
