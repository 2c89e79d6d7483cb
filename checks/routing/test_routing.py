"""Checks of the routing lab: competencies 031 (routers), 030 (IP addressing) and 032 (security).

Each router is read the way its administrator reads it: over SSH to its CLI (netmiko,
``cisco_ios``, FRR's vtysh) through the FRR driver (tspcr_lab.devices.frr), logged in as the admin
account with the plan's password, else the factory one (the untouched lab), else, when the
trainee set another password, through vtysh in the router's own console: reading the routers
never depends on the password requirement, which its own check judges by logging in. A check
that finds something not working first makes sure every device it depends on is up (else it is
an *error*: a dead router is never the trainee's failure). What the
routers say is then judged by traffic where it can be: the PCs ping each other and the provider's
"internet" address, traceroute shows the planned path, and a PC listens for OSPF packets on its
LAN. OSPF is given a named budget to converge (CONVERGENCE) before a check judges it. Checks only
read: logins, show commands, pings, a traceroute, listening; nothing is configured.
"""

import re
import threading
import time

import pytest

from tspcr_lab.devices import FrrDriver, ParseError
from tspcr_lab.devices.connection import LoginFailed, VtyshConnection
from tspcr_lab.errors import InfraError, ProbeError
from tspcr_lab.expect import eventually
from tspcr_lab.probes import FileContent, Ping

ROUTERS = ["r1", "r2", "r3"]
PCS = ["pc1", "pc2", "pc3"]
CONVERGENCE = 30.0  # seconds OSPF is given, once per grading, to converge (hello 1 s, dead 4 s, LSAs every 5 s)
IN_SYNC = 10.0  # seconds an adjacency has been Full once what it brought is flooded (FRR: an LSA every 5 s, SPF held up to 5 s)
STILL = 6.0  # seconds the tables must hold still besides (a rebooted router's LSAs are originated again, 5 s later)
STARTING, DOWN = "starting", "down"  # a router's state, for the convergence wait, when OSPF cannot be read
STEADY = 12.0  # seconds without any change after which OSPF is taken as settled (adjacencies that will not form)
LISTEN = 1.3  # seconds a PC listens for OSPF packets on its LAN (the hello interval is 1 s)

# Listen on IFACE for SECONDS: print the source address of every OSPF packet (IP protocol 89),
# then "done". A raw socket reads a copy of what reaches the PC; nothing is sent.
OSPF_LISTENER = r"""
import socket, sys, time
iface, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((iface, 0))
end = time.monotonic() + seconds
seen = set()
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data = s.recv(2048)
    except socket.timeout:
        break
    if len(data) >= 34 and data[23] == 89:
        seen.add(socket.inet_ntoa(data[26:30]))
for source in sorted(seen):
    print("ospf from " + source)
print("done")
"""


def ip(address: str) -> str:
    return address.split("/")[0]


def at_once(function, names) -> None:
    """``function(name)`` for each of ``names``, side by side (each in a thread of its own)."""
    threads = [threading.Thread(target=function, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture(scope="module")
def router(devices, hosts, expected):
    """``router("r1")``: the FRR driver of r1 (see the module's docstring for how it logs in)."""
    admin = expected["admin"]
    credentials = [(admin["user"], admin["password"]), (admin["user"], admin["default_password"])]

    def get(name: str) -> FrrDriver:
        return devices.login_any(name, credentials, driver=FrrDriver, fallback=lambda: VtyshConnection(hosts[name]))

    def warm(name: str) -> None:
        try:
            get(name)
        except Exception:  # noqa: BLE001 - said again, in its own check, when that check logs in
            pass

    at_once(warm, ROUTERS)  # the three logins (a key exchange each) at once, not one after the other
    return get


def address_on(expected, router_name: str, segment: str) -> str:
    """Router ``router_name``'s address (without prefix) on ``segment``, per the plan."""
    return ip(expected["addresses"][router_name][interface_on(expected, router_name, segment)])


def planned_adjacencies(expected, name: str) -> dict[str, str]:
    """Interface -> "PEER ADDRESS full": the adjacencies of the plan for router ``name``."""
    return {iface: f"{peer['router']} {address_on(expected, peer['router'], expected['interfaces'][name][iface])} full"
            for iface, peer in sorted(expected["neighbors"][name].items())}


def adjacencies(neighbors, want: dict[str, str]) -> dict[str, str]:
    """What the OSPF ``neighbors`` (a router's) show on each interface of ``want`` (same shape)."""
    by_iface = {}
    for n in neighbors:
        by_iface.setdefault(n.interface, []).append(n)
    found = {}
    for iface, text in want.items():
        peer_name, address, _ = text.split()
        matches = [n for n in by_iface.get(iface, []) if n.address == address]
        if matches:
            found[iface] = f"{peer_name} {address} {matches[0].state}"
        else:
            found[iface] = ", ".join(f"{n.address} {n.state}" for n in by_iface.get(iface, [])) or "-"
    return found


def uplink(expected) -> str:
    """The router on the provider's link (the plan's "wan" segment)."""
    return next(r for r in ROUTERS if "wan" in expected["interfaces"][r].values())


def relay(expected) -> str:
    """The router through which the two ends of the backup link reach each other."""
    return next(r for r in ROUTERS if r not in expected["segments"][expected["backup"]["segment"]]["routers"])


def planned_next_hops(expected, name: str) -> dict[str, str]:
    """Prefix -> next hop, in router ``name``'s table once OSPF has converged to the plan: each
    other LAN and the default route through the neighbour on the way that avoids the backup link
    (its two ends reach each other through the third router); the default route of the router on
    the provider's link goes to isp."""
    ends = set(expected["segments"][expected["backup"]["segment"]]["routers"])
    exit_router = uplink(expected)

    def next_hop(towards: str) -> str:
        peer = relay(expected) if {name, towards} == ends else towards
        segment = next(seg for iface, seg in expected["interfaces"][name].items()
                       if expected["neighbors"][name].get(iface, {}).get("router") == peer)
        return address_on(expected, peer, segment)

    hops = {p["network"]: next_hop(p["router"]) for p in expected["pcs"].values() if p["router"] != name}
    hops["0.0.0.0/0"] = ip(expected["isp"]["address"]) if name == exit_router else next_hop(exit_router)
    return hops


@pytest.fixture(scope="module")
def ospf_settled(router, hosts, expected):
    """``ospf_settled()``: wait, once per grading run, for OSPF to settle, for at most CONVERGENCE
    seconds (routers just rebooted, a change just made), then let the checks judge what they read:
    a wrong configuration costs this wait once, not once per check. Settled is the first of:

    * converged to the plan and in sync: every router that runs OSPF has the adjacencies of the
      plan Full and routes each other LAN and the default route through the planned next hop,
      every adjacency Full for IN_SYNC seconds with nothing left to exchange (an adjacency just
      Full has not brought its LSAs yet: a router routes the plan's way for a few seconds before
      it learns of the link the trainee's costs make shorter);
    * in sync, whatever the configuration: every adjacency that exists is Full for IN_SYNC
      seconds at least with nothing left to exchange (FRR originates an LSA at most every 5 s:
      what the adjacencies brought has been flooded) and nothing changed for STILL seconds (a
      router that rebooted meets its own LSAs of before and originates them again, 5 s later);
    * nothing changed at all for STEADY seconds (adjacencies that will not form, a router down).

    A router whose FRR is starting (ospfd not running yet, or running without the OSPF of its saved
    configuration) is never settled. No router running OSPF: nothing to wait for."""
    done = []

    def settle() -> None:
        if done:
            return
        done.append(True)
        want = {name: planned_adjacencies(expected, name) for name in ROUTERS}
        hops = {name: planned_next_hops(expected, name) for name in ROUTERS}

        def state():
            found = {}
            for name in ROUTERS:
                try:
                    driver = router(name)
                    if driver.ospf_router_id() is None:
                        # no OSPF: not configured, or FRR, just started, has not loaded its saved
                        # configuration yet (watchfrr does it once every daemon is up)
                        saved = hosts[name].probe(FileContent, "/etc/frr/frr.conf") or ""
                        if re.search(r"(?m)^router ospf", saved):
                            found[name] = STARTING
                        continue
                    routes = frozenset((r.prefix, r.protocol, r.next_hops) for r in driver.routes())
                    found[name] = (driver.ospf_neighbors(), routes)
                except ParseError:  # "ospfd is not running": starting, or restarted by watchfrr
                    found[name] = STARTING
                except InfraError:  # down: its own checks say so (an error); wait a little for it
                    found[name] = DOWN
            return found

        def converged(found) -> bool:
            return all(found[n] not in (STARTING, DOWN) and adjacencies(found[n][0], want[n]) == want[n]
                       and all(any(r[0] == prefix and hop in r[2] for r in found[n][1]) for prefix, hop in hops[n].items())
                       for n in found)

        def in_sync(found) -> bool:
            return all(value not in (STARTING, DOWN) and value[0]
                       and all(x.state == "full" and (x.up_seconds or 0) >= IN_SYNC and x.pending == 0 for x in value[0])
                       for value in found.values())

        def shape(found):  # what "a change" is: adjacencies' states and the tables
            return {n: value if value in (STARTING, DOWN) else
                    (sorted((x.interface, x.address, x.state) for x in value[0]), value[1])
                    for n, value in found.items()}

        deadline = time.monotonic() + CONVERGENCE
        last, since = None, time.monotonic()
        while True:
            found = state()
            now = time.monotonic()
            if shape(found) != last:
                last, since = shape(found), now
            still = now - since
            if (in_sync(found) and (converged(found) or still >= STILL)) or still >= STEADY or now >= deadline:
                return
            time.sleep(0.5)

    return settle


@pytest.fixture(scope="module")
def lan_listening(hosts, expected):
    """``lan_listening()[pc]``: the OSPF packets each PC heard on its LAN in LISTEN seconds (their
    source addresses). The three LANs are listened to at once, in the first check that asks
    (whose evidence holds the three listeners)."""
    heard: dict[str, list[str] | ProbeError] = {}

    def listen(pc: str) -> None:
        try:
            result = hosts[pc].run("python3 -c %s eth0 %s", OSPF_LISTENER, str(LISTEN), timeout=LISTEN + 10)
            if result.rc != 0 or "done" not in result.stdout.split():
                raise ProbeError(f"{pc}: the OSPF listener failed (exit {result.rc}): "
                                 f"{(result.stderr or result.stdout)[-200:]}")
            heard[pc] = [line[10:] for line in result.stdout.splitlines() if line.startswith("ospf from ")]
        except ProbeError as exc:
            heard[pc] = exc

    def get() -> dict[str, list[str] | ProbeError]:
        if not heard:
            at_once(listen, PCS)
        return heard

    return get


@pytest.fixture(scope="module")
def owners(expected):
    """Address -> the lab host holding it (every router interface of the plan, the PCs)."""
    table = {ip(address): r for r, ifaces in expected["addresses"].items() for address in ifaces.values()}
    table.update({ip(p["address"]): pc for pc, p in expected["pcs"].items()})
    return table


def all_up(hosts, names) -> None:
    """Raise (an *error*, never the trainee's failure) when one of ``names`` is down: what a check
    calls before judging that something does not work, when that something depends on them."""
    for name in names:
        hosts[name].run("true")


def interface_on(expected, router_name: str, segment: str) -> str:
    return next(i for i, seg in expected["interfaces"][router_name].items() if seg == segment)


# -- 030: IP addressing ---------------------------------------------------------------------------

@pytest.mark.competency("030", points=2)
@pytest.mark.parametrize("name", ROUTERS)
def test_interface_addresses(name, router, expected, check):
    """Every interface of the router holds the plan's address (and only it) and is not shut down."""
    want = {iface: address for iface, address in sorted(expected["addresses"][name].items())}
    interfaces = router(name).interfaces()
    found = {}
    for iface in want:
        i = interfaces.get(iface)
        if i is None:
            found[iface] = "absente / missing"
        elif not i.enabled:
            found[iface] = "shutdown"
        else:
            found[iface] = ", ".join(i.addresses) or "-"
    check.equal(found, want, fr=f"adresses des interfaces de {name}", en=f"addresses of {name}'s interfaces")


# -- 031: routers ---------------------------------------------------------------------------------

@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("name", ROUTERS)
def test_hostname(name, router, hosts, expected, check):
    """The router's name, as its CLI shows it (``show version``, its prompt), is the plan's, and
    it is saved (FRR takes the name of its system: /etc/hostname, read at boot)."""
    want = expected["hostnames"][name]
    check.equal(router(name).facts().hostname, want, fr=f"nom de {name} (show version)", en=f"name of {name} (show version)")
    saved = hosts[name].probe(FileContent, "/etc/hostname")
    check.equal((saved or "").strip(), want, fr=f"nom enregistré de {name} (/etc/hostname, repris au redémarrage)",
                en=f"saved name of {name} (/etc/hostname, used at boot)")


@pytest.mark.competency("031", points=2)
@pytest.mark.parametrize("name", ROUTERS)
def test_ospf(name, router, ospf_settled, hosts, expected, check):
    """OSPF runs with the plan's router id, and on each link to another router the adjacency with
    the neighbour of the plan (its address on the link) is Full (after the convergence wait)."""
    driver = router(name)
    check.equal(driver.ospf_router_id(), expected["router_ids"][name], fr=f"router-id OSPF de {name}",
                en=f"OSPF router id of {name}")
    ospf_settled()
    want = planned_adjacencies(expected, name)
    found = adjacencies(driver.ospf_neighbors(), want)
    if found != want:
        all_up(hosts, [peer["router"] for peer in expected["neighbors"][name].values()])
    check.equal(found, want, fr=f"voisins OSPF de {name}", en=f"OSPF neighbours of {name}")


@pytest.mark.competency("031", points=2)
@pytest.mark.parametrize("name", ROUTERS)
def test_routing_table(name, router, ospf_settled, hosts, expected, check):
    """The router's table has each LAN of the plan (its own connected, the others by OSPF) and a
    default route: r1's static, to isp; the others' learnt by OSPF (r1 announces it)."""
    want = {}
    for pc, p in expected["pcs"].items():
        want[p["network"]] = "connected" if p["router"] == name else "ospf"
    isp = ip(expected["isp"]["address"])
    want["0.0.0.0/0"] = f"static via {isp}" if name == uplink(expected) else "ospf"
    driver = router(name)
    ospf_settled()

    def table():
        routes = {r.prefix: r for r in driver.routes()}
        found = {}
        for prefix in want:
            r = routes.get(prefix)
            if r is None:
                found[prefix] = "-"
            elif r.protocol == "static":
                found[prefix] = f"static via {', '.join(r.next_hops) or ', '.join(r.interfaces)}"
            else:
                found[prefix] = r.protocol
        return found

    found = table()
    if found != want:
        all_up(hosts, ROUTERS)
    check.equal(found, want, fr=f"table de routage de {name}", en=f"routing table of {name}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("name", ["r1", "r3"])
def test_backup_cost(name, router, expected, check):
    """The backup link's interface has the plan's OSPF cost at this end."""
    backup = expected["backup"]
    iface = interface_on(expected, name, backup["segment"])
    interfaces = router(name).ospf_interfaces()
    found = interfaces[iface].cost if iface in interfaces else "OSPF absent"
    check.equal(found, backup["cost"], fr=f"coût OSPF de {name} {iface} (lien de secours {backup['segment']})",
                en=f"OSPF cost of {name} {iface} (backup link {backup['segment']})")


def trace(host, target: str) -> list[str]:
    """The addresses of the hops from ``host`` to ``target`` (``*`` for a hop that did not answer)."""
    result = host.run("traceroute -n -q 1 -w 1 -m 6 %s", target)
    if result.rc != 0 and not result.stdout:
        raise ProbeError(f"{host.name}: traceroute failed (exit {result.rc}): {(result.stderr or '').strip()[-200:]}")
    hops = []
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue
        answers = [f for f in fields[1:] if f.count(".") == 3]
        hops.append(answers[0] if answers else "*")
    return hops


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("source,target", [("pc1", "pc3"), ("pc3", "pc1")])
def test_planned_path(source, target, hosts, owners, ospf_settled, expected, check):
    """Traffic between lan1 and lan3 goes through r2 (the backup link l13 unused): a traceroute
    from one PC to the other answers hop by hop from r1, r2, r3 (in that order or reversed)."""
    first, last = expected["pcs"][source]["router"], expected["pcs"][target]["router"]
    want = [first, relay(expected), last, target]
    address = ip(expected["pcs"][target]["address"])

    ospf_settled()

    def path():
        return [owners.get(hop, hop) for hop in trace(hosts[source], address)]

    # a hop that did not answer (ICMP rate limits) is asked again; a path that answers is judged
    found = eventually(path, lambda p: p == want or "*" not in p or set(p) == {"*"}, budget=3.0, interval=0.5)
    if found != want:
        all_up(hosts, [*ROUTERS, target])
    check.equal(" > ".join(found), " > ".join(want), fr=f"chemin de {source} vers {target} (traceroute {address})",
                en=f"path from {source} to {target} (traceroute {address})")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_lans_reach_each_other(pc, hosts, expected, check):
    """The PC pings the PCs of the two other LANs."""
    unreachable = []
    for other, p in expected["pcs"].items():
        if other != pc and not hosts[pc].probe(Ping, ip(p["address"]), count=1, wait=1).reachable:
            unreachable.append(f"{other} ({ip(p['address'])})")
    if unreachable:
        all_up(hosts, [*ROUTERS, *PCS])
    check.that(not unreachable, fr=f"{pc} ne joint pas {', '.join(unreachable)}",
               en=f"{pc} cannot reach {', '.join(unreachable)}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_internet_access(pc, hosts, expected, check):
    """The PC pings the provider's "internet" address (through r1's default route)."""
    address = expected["isp"]["internet"]
    ping = hosts[pc].probe(Ping, address, count=1, wait=1)
    if not ping.reachable:
        all_up(hosts, [*ROUTERS, "isp"])
    check.that(ping.reachable, fr=f"{pc} ne joint pas l'adresse internet {address}",
               en=f"{pc} cannot reach the internet address {address}")


FRR_ALWAYS = ("Building configuration", "Current configuration", "frr version", "frr defaults", "hostname ", "end")


def config_lines(text: str) -> list[str]:
    """A configuration's meaningful lines: without comments (``!``), blank lines, and what FRR
    writes whatever the configuration (its version, defaults, header, ``end``) or ignores (its
    ``hostname`` line: FRR takes the system's name)."""
    lines = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if not stripped.strip() or stripped.lstrip().startswith("!") or stripped.startswith(FRR_ALWAYS):
            continue
        lines.append(stripped)
    return lines


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("name", ROUTERS)
def test_configuration_saved(name, router, hosts, expected, check):
    """The saved configuration (/etc/frr/frr.conf, what FRR loads at boot) holds the running one:
    ``write memory`` was done after the last change."""
    running = config_lines(router(name).running_config())
    saved_text = hosts[name].probe(FileContent, "/etc/frr/frr.conf")
    saved = config_lines(saved_text or "")
    missing = [line.strip() for line in running if line not in saved]
    extra = [line.strip() for line in saved if line not in running]
    check.that(saved_text is not None, fr=f"{name} : aucune configuration enregistrée (/etc/frr/frr.conf)",
               en=f"{name}: no saved configuration (/etc/frr/frr.conf)")
    check.that(any(line.strip().startswith("ip address ") for line in running),
               fr=f"{name} : la configuration en cours n'a encore aucune adresse : rien d'enregistré",
               en=f"{name}: the running configuration has no address yet: nothing saved")
    check.that(not missing and not extra,
               fr=f"{name} : la configuration en cours n'est pas enregistrée (write memory) ; non enregistré : "
                  f"{'; '.join(missing) or '-'} ; enregistré mais plus en cours : {'; '.join(extra) or '-'}",
               en=f"{name}: the running configuration is not saved (write memory); not saved: "
                  f"{'; '.join(missing) or '-'}; saved but no longer running: {'; '.join(extra) or '-'}")


# -- 032: security --------------------------------------------------------------------------------

@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("name", ROUTERS)
def test_admin_password(name, devices, expected, check):
    """By doing, as an attacker would: an SSH login as the admin account with the factory password
    is refused (the router's SSH answered and said no), and the plan's password is accepted."""
    admin = expected["admin"]
    try:
        devices.login(name, admin["user"], admin["default_password"], driver=FrrDriver)
        default_refused = False
    except LoginFailed:
        default_refused = True
    check.that(default_refused, fr=f"{name} accepte encore le mot de passe d'usine du compte {admin['user']} (SSH)",
               en=f"{name} still accepts the factory password of the {admin['user']} account (SSH)")
    try:
        devices.login(name, admin["user"], admin["password"], driver=FrrDriver)
    except LoginFailed:
        check.fail(fr=f"{name} refuse le mot de passe du plan pour le compte {admin['user']} (SSH)",
                   en=f"{name} refuses the plan's password for the {admin['user']} account (SSH)")


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("name", ROUTERS)
def test_lan_passive(name, router, lan_listening, expected, check):
    """No OSPF packet reaches the users' LAN: its PC hears none for LISTEN seconds (OSPF hellos go
    out every second on an active interface). Positive evidence that silence means "passive" and
    not "OSPF is off there": OSPF runs on the router's LAN interface (its network is announced)
    and says it is passive."""
    pc = next(pc for pc, p in expected["pcs"].items() if p["router"] == name)
    iface = interface_on(expected, name, expected["pcs"][pc]["segment"])
    ospf = router(name).ospf_interfaces()
    check.that(iface in ospf, fr=f"{name} : OSPF ne tourne pas sur {iface} (le réseau local n'est pas annoncé)",
               en=f"{name}: OSPF does not run on {iface} (the LAN is not announced)")
    check.that(ospf[iface].passive, fr=f"{name} : {iface} n'est pas passive dans OSPF",
               en=f"{name}: {iface} is not passive in OSPF")
    heard = lan_listening()[pc]
    if isinstance(heard, ProbeError):
        raise heard
    check.that(not heard, fr=f"{pc} reçoit des paquets OSPF sur {expected['pcs'][pc]['segment']} "
                             f"({'; '.join(heard)}) : l'interface {iface} de {name} n'est pas passive",
               en=f"{pc} receives OSPF packets on {expected['pcs'][pc]['segment']} ({'; '.join(heard)}): "
                  f"{name}'s interface {iface} is not passive")
