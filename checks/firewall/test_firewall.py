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

What costs time is waited for once per grading run: a filtered port is only known after SYN_WAIT
of silence, so each zone's probe sends the SYNs of every "must not be open" check of that zone in
one exchange, the first time one of them asks (:class:`ZoneProbes`), and a refused password costs
sshd's failure delay, so the three default-password logins start together with the grading's
first check and run while the others do (:class:`DefaultLogins`). Each check still records what it
judges in its own evidence and runs its own controls.
"""

from __future__ import annotations

import copy
import threading
import time

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import Links, ListeningSockets, ServiceAtBoot
from tspcr_lab.probes.nftables import NftablesAtBoot, NftRuleset, SavedRuleset
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


def opened(p, targets: dict[str, list[int]]) -> dict[str, dict[int, str]]:
    """Address -> port -> state of a SYN probe of each of ``targets``' ports, in one exchange."""
    return {target: {port: r.state for port, r in states.items()}
            for target, states in p.syn_many(targets, timeout=SYN_WAIT).items()}


def target_of(expected, label: str, name: str) -> str:
    """The address a "must not be open" target stands for: fw's on the zone its label names
    (``fw:guest``), else the host's."""
    return fw_on(expected, label.split(":")[1]) if name == "fw" else address(expected, name)


def up(hosts, names) -> None:
    """Raise (an *error*) when one of ``names`` is down: before judging that something does not
    answer because of the trainee."""
    for name in names:
        hosts[name].run("true")


def reach_failures(p, zone, expected, hosts, tcp: dict[str, list[int]], dns: bool) -> list[str]:
    """What the probe of ``zone`` cannot reach of what it must: TCP ports by host, and a DNS
    answer for the web site's name from srv1."""
    missing = []
    states = opened(p, {address(expected, name): ports for name, ports in tcp.items()})
    for name, ports in tcp.items():
        missing += [f"{name} ({address(expected, name)}) TCP {port}: {state}"
                    for port, state in states[address(expected, name)].items() if state != "open"]
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

# What each "must not be open" check probes, by label: (host, TCP ports); fw by "fw:ZONE".
def guest_nothing_else_targets(expected) -> dict[str, tuple[str, list[int]]]:
    return {"web": ("web", [expected["intranet_port"]]), "adm": ("adm", [SSH])}


def dmz_opens_nothing_targets(expected) -> dict[str, tuple[str, list[int]]]:
    return {"adm": ("adm", [SSH]), "gst": ("gst", [SSH])}


def ssh_from_admin_only_targets(expected, zone: str) -> dict[str, tuple[str, list[int]]]:
    targets = {f"fw:{zone}": ("fw", [SSH])}
    if zone != "dmz":
        targets |= {"srv1": ("srv1", [SSH]), "web": ("web", [SSH])}
    return targets


def blocked_targets(expected, zone: str) -> list[dict[str, tuple[str, list[int]]]]:
    """The targets of every "must not be open" check of ``zone``."""
    tables = [ssh_from_admin_only_targets(expected, zone)]
    if zone == "guest":
        tables.append(guest_nothing_else_targets(expected))
    if zone == "dmz":
        tables.append(dmz_opens_nothing_targets(expected))
    return tables


def merged(pairs) -> dict[str, list[int]]:
    """Address -> ports, each once, of (address, ports) pairs."""
    found: dict[str, list[int]] = {}
    for target, ports in pairs:
        mine = found.setdefault(target, [])
        mine += [port for port in ports if port not in mine]
    return found


def addresses(expected, targets: dict[str, tuple[str, list[int]]]) -> dict[str, list[int]]:
    """Address -> ports of a table of targets."""
    return merged((target_of(expected, label, name), ports) for label, (name, ports) in targets.items())


class ZoneProbes:
    """The SYN probes of what must not be open from each zone, made once per grading run: the
    first such check sends, from each zone's probe, in ONE exchange per zone and the three zones
    at once (a thread each, each on its own probe port), the SYNs of every target and port of
    every such check of that zone: a filtered port costs SYN_WAIT of silence, paid once in all,
    not once per target, check and zone. Those exchanges are that check's evidence; each check
    judges its own targets from its zone's, and a later check records the results it judges, as
    probed earlier in this grading. A zone whose probe port cannot be opened there is left to its
    own checks (probed, or raising, then)."""

    def __init__(self, expected):
        self.expected = expected
        self.done: dict[str, tuple[str, dict]] = {}  # zone -> (when, address -> port -> PortResult)

    def everything(self, zone: str) -> dict[str, list[int]]:
        """Address -> ports of every "must not be open" check of ``zone``."""
        tables = [addresses(self.expected, table) for table in blocked_targets(self.expected, zone)]
        return merged(pair for table in tables for pair in table.items())

    def _probe_zones(self, prober, p, zone: str, wanted: dict[str, list[int]]) -> None:
        probers = {zone: p}
        for other in ZONES:
            if other not in self.done and other != zone:
                try:
                    probers[other] = prober(other)
                except ProbeError:
                    pass  # that zone's own checks raise it
        found: dict = {}

        def probe(name: str) -> None:
            targets = merged([*self.everything(name).items(), *(wanted.items() if name == zone else [])])
            try:
                found[name] = probers[name].syn_many(targets, timeout=SYN_WAIT)
            except Exception as exc:  # noqa: BLE001 - raised in this zone's checks
                found[name] = exc

        when = time.strftime("%H:%M:%S")
        threads = [threading.Thread(target=probe, args=(name,), name=f"syn-{name}") for name in probers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if isinstance(found[zone], Exception):
            raise found[zone]
        self.done |= {name: (when, states) for name, states in found.items() if not isinstance(states, Exception)}

    def __call__(self, prober, p, zone: str, wanted: dict[str, list[int]]) -> dict[str, dict[int, str]]:
        """Address -> port -> state of ``wanted``'s ports, as ``zone``'s probe ``p`` found them
        (``prober``: the check's fixture, that opens the other zones' probes)."""
        if zone not in self.done:
            self._probe_zones(prober, p, zone, wanted)
        else:
            when, results = self.done[zone]
            missing = {t: [port for port in ports if port not in results.get(t, {})] for t, ports in wanted.items()}
            missing = {t: ports for t, ports in missing.items() if ports}
            if missing:  # a target no check of the zone declared: probed now
                for target, found in p.syn_many(missing, timeout=SYN_WAIT).items():
                    results.setdefault(target, {}).update(found)
            if p.record:
                p.record(f"probe {zone} ({p.address}): TCP SYN probed at {when}, earlier in this grading, with "
                         f"every \"must not be open\" target of the zone, all at once ({SYN_WAIT:g} s)",
                         "\n".join(f"{t} {port} {results[t][port].state} ({results[t][port].detail})"
                                   for t, ports in wanted.items() for port in ports))
        results = self.done[zone][1]
        return {t: {port: results[t][port].state for port in ports} for t, ports in wanted.items()}


@pytest.fixture(scope="module")
def zone_probes(expected):
    """``zone_probes(prober, p, zone, {address: ports})``: see :class:`ZoneProbes`."""
    return ZoneProbes(expected)


def blocked_check(prober, zone, expected, hosts, check, zone_probes, targets: dict[str, tuple[str, list[int]]],
                  fr: str, en: str) -> None:
    """Every (host, ports) of ``targets`` is not open from ``zone``'s probe, with the controls."""
    p = prober(zone)
    controlled(p, zone, expected, hosts, targets)
    states = zone_probes(prober, p, zone, addresses(expected, targets))
    through = []
    for label, (name, ports) in targets.items():
        target = target_of(expected, label, name)
        through += [f"{name} ({target}) TCP {port}" for port in ports if states[target][port] == "open"]
    check.that(not through, fr=f"{fr} : {'; '.join(through)}", en=f"{en}: {'; '.join(through)}")


@pytest.mark.competency("032", points=2)
def test_guest_nothing_else(prober, hosts, expected, zone_probes, check):
    """From the guest network, nothing but the plan's: web's intranet and the staff network (adm's
    SSH) do not answer. (SSH to the devices is test_ssh_from_admin_only's.)"""
    blocked_check(prober, "guest", expected, hosts, check, zone_probes, guest_nothing_else_targets(expected),
                  fr="le réseau guest joint ce que le plan ne lui ouvre pas",
                  en="the guest network reaches what the plan does not open to it")


@pytest.mark.competency("032", points=2)
def test_dmz_opens_nothing(prober, hosts, expected, zone_probes, check):
    """From the DMZ, no new connection reaches the staff or the guest network (adm's and gst's SSH)."""
    blocked_check(prober, "dmz", expected, hosts, check, zone_probes, dmz_opens_nothing_targets(expected),
                  fr="une connexion partie de la DMZ atteint un réseau local",
                  en="a connection from the DMZ reaches a LAN")


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("zone", ZONES)
def test_ssh_from_admin_only(zone, prober, hosts, expected, zone_probes, check):
    """A PC of ``zone`` that is not adm is refused SSH by fw (its address on the zone) and, through
    fw, by srv1 and web (from the DMZ itself they are on the same segment: fw is not on the way)."""
    targets = ssh_from_admin_only_targets(expected, zone)
    blocked_check(prober, zone, expected, hosts, check, zone_probes, targets,
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


class DefaultLogins:
    """The SSH login of each device as the admin account with the default password, tried once per
    grading run, on the three devices at once and in the background from the grading's first check
    (:func:`_default_logins_early`): a refused password costs sshd's failure delay (PAM's 2 s, more
    or less, that OpenSSH's minimum failure time may double: 1.8 to 4.4 s measured), paid while
    the other checks run, not by them. Each device's check waits for its own login and
    records that attempt in its own evidence (a host's unreachability is raised there)."""

    def __init__(self, hosts, expected):
        self.hosts, self.admin = hosts, expected["admin"]
        self.threads: dict[str, threading.Thread] = {}
        self.tried: dict = {}  # name -> LoginResult, or the exception the attempt raised
        self.evidence: dict[str, list] = {name: [] for name in DEVICES}

    def start(self) -> None:
        for name in DEVICES:
            if name not in self.threads:
                self.threads[name] = threading.Thread(target=self._attempt, args=(name,), daemon=True,
                                                      name=f"default-login-{name}")
                self.threads[name].start()

    def _attempt(self, name: str) -> None:
        # the same host, with a record of its own: not the evidence of the check running meanwhile
        device = copy.copy(self.hosts[name])
        device.recorder, device.deadline = self.evidence[name].append, None
        try:
            self.tried[name] = device.login(self.admin["user"], self.admin["default_password"], "true")
        except Exception as exc:  # noqa: BLE001 - raised again in the device's own check
            self.tried[name] = exc

    def wait(self) -> None:
        for thread in self.threads.values():
            thread.join()

    def __call__(self, name: str):
        """``name``'s login with the default password (a LoginResult), recorded as the evidence
        of the check that asks."""
        self.start()
        self.threads[name].join()
        host = self.hosts[name]
        for result in self.evidence[name]:
            if host.recorder is not None:
                host.recorder(result)
        tried = self.tried[name]
        if isinstance(tried, Exception):
            raise tried
        return tried


@pytest.fixture(scope="module")
def default_logins(hosts, expected):
    """``default_logins(name)``: see :class:`DefaultLogins`."""
    logins = DefaultLogins(hosts, expected)
    yield logins
    logins.wait()  # none outlives the grading


@pytest.fixture(scope="module", autouse=True)
def _default_logins_early(request):
    """With the grading's first check: the default-password logins start, when one of their checks
    is to run in this grading (``-k`` may leave them out: then no login is tried)."""
    if any(getattr(item, "module", None) is request.module and "default_logins" in getattr(item, "fixturenames", ())
           for item in request.session.items):
        request.getfixturevalue("default_logins").start()


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("name", DEVICES)
def test_default_password(name, hosts, expected, default_logins, check):
    """By doing, as an attacker would: an SSH login as the admin account with the default password
    is refused, and the plan's password is accepted (the control that SSH answers)."""
    admin = expected["admin"]
    default = default_logins(name)
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

@pytest.mark.competency("022", points=2)
def test_ruleset_saved(hosts, expected, check):
    """The ruleset in force is the one fw loads at boot (/etc/nftables.conf by the nftables
    service, or the file ifupdown loads), that file filters the forwarded traffic (loaded in a
    scratch network namespace on fw, with interfaces of fw's names), and it is loaded at boot."""
    fw = hosts["fw"]
    running = fw.probe(NftRuleset)
    boot = fw.probe(NftablesAtBoot)
    path = boot.file()
    names = tuple(name for name in fw.probe(Links) if name != "lo")
    saved = fw.probe(SavedRuleset, path, names)
    check.that(saved.exists, fr=f"fw n'a pas de {path}", en=f"fw has no {path}")
    check.that(saved.loads, fr=f"{path} ne se charge pas (nft -f) : {saved.error}",
               en=f"{path} does not load (nft -f): {saved.error}")
    check.that(saved.ruleset.filters("forward"),
               fr=f"{path} ne filtre pas le trafic routé (chaîne forward sans policy drop ni règle drop/reject)",
               en=f"{path} does not filter the routed traffic (forward chain without policy drop nor a drop/reject rule)")
    missing, extra = running.compare(saved.ruleset)
    check.that(not missing and not extra,
               fr=f"les règles en service ne sont pas celles de {path} (perdues au redémarrage) ; en service "
                  f"seulement : {'; '.join(missing) or '-'} ; dans le fichier seulement : {'; '.join(extra) or '-'}",
               en=f"the rules in force are not those of {path} (lost at reboot); in force only: "
                  f"{'; '.join(missing) or '-'}; in the file only: {'; '.join(extra) or '-'}")
    check.that(boot.enabled, fr=f"nftables n'est pas chargé au démarrage de fw ({boot.evidence()})",
               en=f"nftables is not loaded when fw boots ({boot.evidence()})")
