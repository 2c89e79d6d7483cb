"""Checks of the firewall lab: competencies 032 (securing the network) and 022 (network services
working again).

The filtering is judged by doing, as a device plugged into each zone would: the grader's probe
port of the zone (``prober``: its own stack, an address of the plan that is no lab host's, so the
staff probe is *not* adm) sends TCP SYNs to each target and port of the plan and asks the DNS
server; what answers is what the firewall lets through. "Must be blocked" means "not open" (a
drop, an ICMP reject or a forged reset are all the firewall's), and is only judged with its
controls: the probe's gateway (fw) answers ARP on the zone, and the target is up and listens on
that port (read through its console), so that a dead host or an unplugged probe is an *error*,
never a pass. "SSH from adm only" is judged both ways: the probes are refused SSH, and adm itself,
from its own stack (``host.run`` on adm), reads each device's SSH banner. The default passwords are
tried over SSH as an attacker would (a new login with the factory password must be refused, the
plan's accepted). fw's listening sockets and boot services are read through its console; its
ruleset (``nft list ruleset``) is compared with what /etc/nftables.conf gives when loaded in a
scratch network namespace on fw (``unshare -n``: fw's own ruleset is never touched). Checks only
read and probe: nothing is configured.
"""

from __future__ import annotations

import json
import re
import threading

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import ListeningSockets, ServiceAtBoot
from tspcr_lab.probes.system import VIRTUAL_BOOT_SERVICES

ZONES = ["staff", "guest", "dmz"]
DEVICES = ["fw", "srv1", "web"]
SSH = 22
SYN_WAIT = 0.6  # seconds a SYN probe waits for answers (a lab segment answers in milliseconds)

# Run on adm: connect to HOST:PORT from adm's own stack and print the first line the server says
# (an SSH server greets first: "SSH-2.0-..."), or why not.
BANNER = r"""
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    s.settimeout(3)
    print("banner " + s.recv(256).decode("latin-1").splitlines()[0])
except Exception as exc:
    print("failed " + type(exc).__name__ + ": " + str(exc))
"""


def address(expected, name: str) -> str:
    """A lab host's address on its zone; fw's on ``zone`` is given by :func:`fw_on`."""
    return expected["hosts"][name]["address"]


def fw_on(expected, zone: str) -> str:
    return expected["zones"][zone]["gateway"]


def controlled(p, zone: str, expected, hosts, targets: dict[str, tuple[str, list[int]]]) -> None:
    """The controls of a "must not be open" probe from ``zone`` (raise ProbeError, an *error*,
    when one fails): the probe's gateway fw answers ARP on the zone, and each target host is up
    and listens on each probed TCP port (through its console)."""
    gateway = fw_on(expected, zone)
    if p.arp(gateway) is None:
        hosts["fw"].run("true")  # fw down: an error of its own
        raise ProbeError(f"fw ({gateway}) does not answer ARP on the {zone} network: the probe port or the cable is broken")
    for label, (name, ports) in targets.items():
        listening = {s.port for s in hosts[name].probe(ListeningSockets) if s.proto == "tcp"}
        missing = [port for port in ports if port not in listening]
        if missing:
            raise ProbeError(f"{name} does not listen on TCP {', '.join(map(str, missing))}: "
                             f"the lab's target for '{label}' is broken, nothing can be judged")


def opened(p, target: str, ports: list[int]) -> dict[int, str]:
    """Port -> state of a SYN probe of ``target``'s ``ports``."""
    return {port: r.state for port, r in p.syn(target, ports, timeout=SYN_WAIT).items()}


def up(hosts, names) -> None:
    """Raise (an *error*) when one of ``names`` is down: before judging that something does not
    answer because of the trainee."""
    for name in names:
        hosts[name].run("true")


def reach_failures(p, zone, expected, hosts, tcp: dict[str, list[int]], dns: bool) -> list[str]:
    """What the probe of ``zone`` cannot reach of what it must: TCP ports by host, and a DNS
    answer for the web site's name from srv1."""
    missing = []
    for name, ports in tcp.items():
        states = opened(p, address(expected, name), ports)
        missing += [f"{name} ({address(expected, name)}) TCP {port}: {state}" for port, state in states.items() if state != "open"]
    if dns:
        answer = p.dns(address(expected, "srv1"), expected["web_name"])
        if address(expected, "web") not in answer.values("A"):
            missing.append(f"DNS {expected['web_name']} -> srv1 ({address(expected, 'srv1')}) UDP 53: "
                           f"{answer.rcode or 'no answer'}")
    if missing:
        up(hosts, ["fw", *tcp, "srv1"])
        controlled(p, zone, expected, hosts, {name: (name, ports) for name, ports in tcp.items()} | {"dns": ("srv1", [53])})
    return missing


# -- what must work (022) -------------------------------------------------------------------------

@pytest.mark.competency("022", points=2)
def test_guest_reaches_dmz(prober, hosts, expected, check):
    """From the guest network: web's HTTP and HTTPS answer, srv1's DNS answers (UDP, and TCP 53 open)."""
    p = prober("guest")
    missing = reach_failures(p, "guest", expected, hosts, {"web": expected["web_ports"], "srv1": [53]}, dns=True)
    check.that(not missing, fr=f"depuis le réseau guest, ne répond pas : {'; '.join(missing)}",
               en=f"from the guest network, no answer from: {'; '.join(missing)}")


@pytest.mark.competency("022", points=2)
def test_staff_reaches_dmz(prober, hosts, expected, check):
    """From the staff network (not adm): web's site, HTTPS and intranet answer, srv1's DNS answers."""
    p = prober("staff")
    missing = reach_failures(p, "staff", expected, hosts,
                             {"web": [*expected["web_ports"], expected["intranet_port"]], "srv1": [53]}, dns=True)
    check.that(not missing, fr=f"depuis le réseau staff, ne répond pas : {'; '.join(missing)}",
               en=f"from the staff network, no answer from: {'; '.join(missing)}")


# -- what must be blocked (032) -------------------------------------------------------------------

def blocked_check(p, zone, expected, hosts, check, targets: dict[str, tuple[str, list[int]]], fr: str, en: str) -> None:
    """Every (host, ports) of ``targets`` is not open from ``zone``'s probe, with the controls."""
    controlled(p, zone, expected, hosts, targets)
    through = []
    for label, (name, ports) in targets.items():
        target = fw_on(expected, label.split(":")[1]) if name == "fw" else address(expected, name)
        states = opened(p, target, ports)
        through += [f"{name} ({target}) TCP {port}" for port, state in states.items() if state == "open"]
    check.that(not through, fr=f"{fr} : {'; '.join(through)}", en=f"{en}: {'; '.join(through)}")


@pytest.mark.competency("032", points=2)
def test_guest_nothing_else(prober, hosts, expected, check):
    """From the guest network, nothing but the plan's: web's intranet and the staff network (adm's
    SSH) do not answer. (SSH to the devices is test_ssh_from_admin_only's.)"""
    blocked_check(prober("guest"), "guest", expected, hosts, check,
                  {"web": ("web", [expected["intranet_port"]]), "adm": ("adm", [SSH])},
                  fr="le réseau guest joint ce que le plan ne lui ouvre pas",
                  en="the guest network reaches what the plan does not open to it")


@pytest.mark.competency("032", points=2)
def test_dmz_opens_nothing(prober, hosts, expected, check):
    """From the DMZ, no new connection reaches the staff or the guest network (adm's and gst's SSH)."""
    blocked_check(prober("dmz"), "dmz", expected, hosts, check,
                  {"adm": ("adm", [SSH]), "gst": ("gst", [SSH])},
                  fr="une connexion partie de la DMZ atteint un réseau local",
                  en="a connection from the DMZ reaches a LAN")


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("zone", ZONES)
def test_ssh_from_admin_only(zone, prober, hosts, expected, check):
    """A PC of ``zone`` that is not adm is refused SSH by fw (its address on the zone) and, through
    fw, by srv1 and web (from the DMZ itself they are on the same segment: fw is not on the way)."""
    targets = {f"fw:{zone}": ("fw", [SSH])}
    if zone != "dmz":
        targets |= {"srv1": ("srv1", [SSH]), "web": ("web", [SSH])}
    blocked_check(prober(zone), zone, expected, hosts, check, targets,
                  fr=f"SSH d'administration ouvert à un poste du réseau {zone} qui n'est pas adm",
                  en=f"management SSH open to a PC of the {zone} network other than adm")


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("name", DEVICES)
def test_admin_ssh(name, hosts, expected, check):
    """adm, from its own stack, reaches the device's SSH (its banner): fw on its staff address,
    srv1 and web through fw."""
    target = fw_on(expected, "staff") if name == "fw" else address(expected, name)
    result = hosts["adm"].run("python3 -c %s %s %s", BANNER, target, str(SSH), timeout=10)
    line = result.stdout.strip()
    if not line.startswith("banner SSH-"):
        up(hosts, ["fw", name])
        listening = {s.port for s in hosts[name].probe(ListeningSockets) if s.proto == "tcp"}
        if SSH not in listening:
            raise ProbeError(f"{name}'s sshd does not listen on port 22: the lab's service is broken")
    check.that(line.startswith("banner SSH-"), fr=f"adm n'atteint pas SSH de {name} ({target}:22) : {line[7:] or result.stderr[-200:]}",
               en=f"adm cannot reach {name}'s SSH ({target}:22): {line[7:] or result.stderr[-200:]}")


@pytest.fixture(scope="module")
def default_logins(hosts, expected):
    """``default_logins()[name]``: the SSH login of each device with the default password, tried
    on the three at once in the first check that asks (a refused password costs sshd's failure
    delay, about 2 s: paid once, not three times; that check's evidence holds the three)."""
    admin = expected["admin"]
    tried: dict = {}

    def attempt(name: str) -> None:
        try:
            tried[name] = hosts[name].login(admin["user"], admin["default_password"], "true")
        except Exception as exc:  # noqa: BLE001 - raised again in the device's own check
            tried[name] = exc

    def get() -> dict:
        if not tried:
            threads = [threading.Thread(target=attempt, args=(name,)) for name in DEVICES]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return tried

    return get


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("name", DEVICES)
def test_default_password(name, hosts, expected, default_logins, check):
    """By doing, as an attacker would: an SSH login as the admin account with the default password
    is refused, and the plan's password is accepted (the control that SSH answers)."""
    admin = expected["admin"]
    default = default_logins()[name]
    if isinstance(default, Exception):
        raise default
    check.that(not default.accepted, fr=f"{name} accepte encore le mot de passe par défaut du compte {admin['user']} (SSH)",
               en=f"{name} still accepts the default password of the {admin['user']} account (SSH)")
    planned = hosts[name].login(admin["user"], admin["password"], "true")
    check.that(planned.accepted, fr=f"{name} refuse le mot de passe du plan pour le compte {admin['user']} (SSH : {planned.reason})",
               en=f"{name} refuses the plan's password for the {admin['user']} account (SSH: {planned.reason})")


@pytest.mark.competency("032", points=1)
def test_needless_service_off(hosts, expected, check):
    """Nothing listens on fw's needless port any more, and its service is not started at boot."""
    needless = expected["needless"]
    fw = hosts["fw"]
    listening = [s for s in fw.probe(ListeningSockets) if s.proto == "tcp" and s.port == needless["port"]]
    check.that(not listening, fr=f"fw écoute encore sur le port TCP {needless['port']} ({needless['service']} tourne toujours)",
               en=f"fw still listens on TCP port {needless['port']} ({needless['service']} is still running)")
    boot = fw.probe(ServiceAtBoot, needless["service"])
    where = VIRTUAL_BOOT_SERVICES if boot.virtual else boot.evidence()
    check.that(not boot.enabled, fr=f"{needless['service']} redémarrera avec fw ({where})",
               en=f"{needless['service']} will start again when fw boots ({where})")


# -- the ruleset saved (022) ----------------------------------------------------------------------

COUNTER = re.compile(r"\b(counter|quota)( packets \d+ bytes \d+| \d+ bytes used \d+ bytes)?")


def ruleset_lines(text: str) -> list[str]:
    """``nft list ruleset``'s lines, counters' values left out (they count traffic)."""
    return [COUNTER.sub(lambda m: m.group(1), line.strip()) for line in text.splitlines() if line.strip()]


def filters_forward(ruleset: dict) -> bool:
    """A forward hook chain drops what is not accepted: policy drop, or a drop/reject rule in it."""
    items = ruleset.get("nftables", [])
    forward = {(c["family"], c["table"], c["name"]) for c in (i.get("chain") for i in items) if c and c.get("hook") == "forward"}
    if any(i["chain"].get("policy") == "drop" for i in items if "chain" in i and i["chain"].get("hook") == "forward"):
        return True
    for item in items:
        rule = item.get("rule")
        if rule and (rule["family"], rule["table"], rule["chain"]) in forward:
            if any("drop" in e or "reject" in e for e in rule.get("expr", [])):
                return True
    return False


@pytest.mark.competency("022", points=2)
def test_ruleset_saved(hosts, expected, check):
    """The ruleset in force is the one /etc/nftables.conf gives (loaded in a scratch network
    namespace on fw, with interfaces of fw's names (veths)), that file filters the forwarded traffic,
    and nftables loads it at boot."""
    fw = hosts["fw"]
    running = fw.run("nft list ruleset")
    if running.rc != 0:
        raise ProbeError(f"fw: nft list ruleset failed: {running.stderr.strip()[-200:]}")
    names = " ".join([*expected["fw_interfaces"], "mgmt0"])
    saved = fw.run("test -r /etc/nftables.conf || { echo 'no /etc/nftables.conf' >&2; exit 3; }; "
                   "exec unshare -n sh -ec %s", f"ip link set lo up; n=0; for i in {names}; do n=$((n+1)); "
                   "ip link add $i type veth peer name peer$n; ip link set $i up; done; nft -f /etc/nftables.conf; nft list ruleset; echo @@json; nft -j list ruleset")
    if saved.rc == 3:
        check.fail(fr="fw n'a pas de /etc/nftables.conf", en="fw has no /etc/nftables.conf")
    check.that(saved.rc == 0 and "@@json" in saved.stdout,
               fr=f"/etc/nftables.conf ne se charge pas (nft -f) : {saved.stderr.strip()[-300:]}",
               en=f"/etc/nftables.conf does not load (nft -f): {saved.stderr.strip()[-300:]}")
    text, _, as_json = saved.stdout.partition("@@json")
    want, found = ruleset_lines(text), ruleset_lines(running.stdout)
    check.that(filters_forward(json.loads(as_json)),
               fr="/etc/nftables.conf ne filtre pas le trafic routé (chaîne forward sans policy drop ni règle drop/reject)",
               en="/etc/nftables.conf does not filter the routed traffic (forward chain without policy drop nor a drop/reject rule)")
    missing = [line for line in found if line not in want]
    extra = [line for line in want if line not in found]
    check.that(found == want,
               fr=f"les règles en service ne sont pas celles de /etc/nftables.conf (perdues au redémarrage) ; en service "
                  f"seulement : {'; '.join(missing) or '-'} ; dans le fichier seulement : {'; '.join(extra) or '-'}",
               en=f"the rules in force are not those of /etc/nftables.conf (lost at reboot); in force only: "
                  f"{'; '.join(missing) or '-'}; in the file only: {'; '.join(extra) or '-'}")
    boot = fw.probe(ServiceAtBoot, "nftables")
    check.that(boot.enabled, fr=f"nftables n'est pas chargé au démarrage de fw ({boot.evidence()})",
               en=f"nftables is not loaded when fw boots ({boot.evidence()})")
