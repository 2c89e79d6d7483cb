"""A troubleshooting lab's faults, applied by its deploys (see :mod:`tspcr_lab.faults`).

``inject_faults()`` (at the end of the lab's deploy.py) runs, for each of the trainee's faults,
its ``inject`` script on each host it names; ``repair_faults()`` (the lab's solution.py) runs the
reference repairs. Every script runs under ``sh -e`` after :data:`PRELUDE`, whose functions do
what differs between a virtual lab host and a real one.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server

from ..errors import UserError
from ..faults import drawn, load_catalogue, render
from ..labfile import load_lab

PRELUDE = r'''
# tl_at_boot NAME on|off: the service starts at boot, or not, however the host boots (a virtual lab
# host's boot list; systemd; sysvinit's rc links)
tl_at_boot() {
    if [ -f /etc/tspcr-lab/boot-services ]; then
        if [ "$2" = on ]; then grep -qxF "$1" /etc/tspcr-lab/boot-services || echo "$1" >>/etc/tspcr-lab/boot-services
        else sed -i "/^$1\$/d" /etc/tspcr-lab/boot-services; fi
    fi
    verb=disable; [ "$2" = on ] && verb=enable
    if command -v systemctl >/dev/null 2>&1; then systemctl "$verb" "$1" || [ "$2" = off ]
    elif [ -x "/etc/init.d/$1" ]; then
        if [ "$2" = on ]; then update-rc.d "$1" defaults; fi  # its links made first when it had none
        update-rc.d "$1" "$verb"
    fi
}
'''


def script(text: str) -> str:
    """A catalogue script as pyinfra runs it: the prelude first, stopping at the first error."""
    import shlex

    return "sh -ec " + shlex.quote(PRELUDE + text)


def _apply(kind: str) -> None:
    """Each fault's scripts, fault after fault and, within a fault, host after host in the order
    the catalogue lists them (r1's DHCP server repaired before pc2 asks for a lease): every host
    walks the same steps (pyinfra orders operations by their place in the loop), and runs its own.
    Faults are injected in the catalogue's order and repaired in the reverse order (a fault that
    fills a disk is listed last: the others are injected while there is room, and it is repaired
    first)."""
    lab = load_lab(host.data.lab_id)
    values = {"params": host.data.lab_params, "expected": host.data.lab_expected}
    listed = list(load_catalogue(lab).faults)
    faults = sorted(drawn(lab, host.data.lab_expected), key=lambda fault: listed.index(fault.id),
                    reverse=kind == "repair")
    steps = [(fault, name) for fault in faults for name in (fault.inject if kind == "inject" else fault.repair)]
    for index in host.loop(range(len(steps))):
        fault, name = steps[index]
        if name != host.name:
            continue
        scripts = fault.inject if kind == "inject" else fault.repair
        text = render(scripts[name], values, f"fault {fault.id}: {kind}.{name}")
        server.shell(name=f"{name}: {kind} {fault.id}" if kind == "repair" else f"{name}: starting state, part 2",
                     commands=[script(text)])


@deploy("the trainee's faults")
def inject_faults() -> None:
    """Each of the trainee's faults injected where it lives (named in pyinfra's output only as a
    part of the starting state: a trainee watching the set-up learns nothing)."""
    if not host.data.get("lab_id"):
        raise UserError("inject_faults() runs in a lab's deploy (tspcr-lab up)")
    _apply("inject")


@deploy("the reference repair")
def repair_faults() -> None:
    _apply("repair")


@deploy("intervention reports")
def write_reports() -> None:
    """A reference intervention report per ticket (on the catalogue's report host): what a
    correct trainee writes, its cause naming the fault (its title)."""
    from io import StringIO

    from pyinfra.operations import files

    lab = load_lab(host.data.lab_id)
    catalogue = load_catalogue(lab)
    if catalogue is None or catalogue.report is None or host.name != catalogue.report[0]:
        return
    for number, fault in enumerate(drawn(lab, host.data.lab_expected, host.data.lab_params), 1):
        text = (f"# Ticket #{number}\n\n## Symptôme\n{fault.ticket['fr']}\n\n## Diagnostic\n"
                "Plainte reproduite depuis le poste de l'utilisateur, puis le chemin suivi pas à pas.\n\n"
                f"## Cause\n{fault.title['fr']}.\n\n## Action\nLa configuration corrigée à la source, "
                "de façon durable.\n\n## Test\nLa plainte reproduite à nouveau : elle a disparu ; "
                "redémarrage vérifié.\n\n## Sources\nman pages, documentation Debian.\n\n## Suivi\n"
                "Utilisateur prévenu ; ticket clos.\n")
        path = catalogue.report[1].replace("{n}", str(number))
        files.directory(name=f"{host.name}: the reports' folder", path=path.rsplit("/", 1)[0], mode="700")
        files.put(name=f"{host.name}: report of ticket #{number}", src=StringIO(text), dest=path)
