"""Checks of the vlans lab: competencies 031 (switches), 029 (physical network) and 032 (security).

Each switch is read through the Open vSwitch driver (tspcr_lab.devices.ovs: access VLANs, the
trunk's VLANs, labels, unused ports, the management port) and the result is judged by traffic
where it can be: PCs of one VLAN ping each other across the trunk, adm pings both switches, and
PCs of two departments do not reach each other (an ARP request, the only thing that crosses a
LAN between two subnets, with a control that the probe's frames did enter the switch), and the
trunk turns away frames tagged with a VLAN outside the plan (sent from the grader's probe port on
the trunk's cable, with a control VLAN of the plan). Checks only read: the probes send a few
frames and add nothing to any configuration.
"""

import random
import time

import pytest

from tspcr_lab.devices.ovs import OvsDriver
from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import IfupdownAuto, IfupdownConfig, Links, Ping
from tspcr_lab.probes.frames import PROBE_ETHERTYPE, Frame, random_mac

SWITCHES = ["sw1", "sw2"]
ACCESS = ["pc1", "pc2", "adm", "pc3", "pc4"]

# An ARP request for TARGET sent from IFACE with SOURCE as sender address, on a raw socket: the
# target answers whatever its subnet, so this shows whether two PCs share a LAN (a VLAN).
ARP_PROBE = r"""
import socket, struct, sys, time
iface, target, source = sys.argv[1:4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((iface, 0))
mac = s.getsockname()[4]
frame = (b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac
         + socket.inet_aton(source) + b"\0" * 6 + socket.inet_aton(target))
end = time.monotonic() + 0.5
for _ in range(2):
    s.send(frame)
while True:
    left = end - time.monotonic()
    if left <= 0:
        print("no reply"); break
    s.settimeout(left)
    try:
        data = s.recv(128)
    except socket.timeout:
        print("no reply"); break
    if data[12:14] == b"\x08\x06" and data[20:22] == b"\0\2" and data[28:32] == socket.inet_aton(target):
        print("reply from " + data[22:28].hex(":")); break
"""


def arp_reaches(host, target: str, source: str) -> bool:
    result = host.run("python3 -c %s eth0 %s %s", ARP_PROBE, target, source)
    out = result.stdout.strip()
    if result.rc != 0 or not (out == "no reply" or out.startswith("reply from ")):
        raise ProbeError(f"{host.name}: the ARP probe failed (exit {result.rc}): {(result.stderr or out)[-200:]}")
    return out.startswith("reply from ")


def ip(address: str) -> str:
    return address.split("/")[0]


def driver_of(hosts, name, expected) -> OvsDriver:
    return OvsDriver(hosts[name], bridge=expected["bridge"])


def show_vlans(vlans) -> str:
    return "toutes / all" if vlans is None else ",".join(str(v) for v in sorted(vlans)) or "-"


# -- 031: switches --------------------------------------------------------------------------------

@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", ACCESS)
def test_access_vlan(pc, hosts, expected, check):
    """The PC's switch port is an access port in the VLAN of the plan."""
    want = expected["pcs"][pc]
    ports = driver_of(hosts, want["switch"], expected).switchports()
    where = f"{want['switch']} {want['port']}"
    check.that(want["port"] in ports, fr=f"{where} ({pc}) n'est plus dans le pont {expected['bridge']}",
               en=f"{where} ({pc}) is no longer in bridge {expected['bridge']}")
    port = ports[want["port"]]
    found = f"access {port.access_vlan}" if port.mode == "access" else f"{port.mode} {show_vlans(port.allowed_vlans)}"
    check.equal(found, f"access {want['vlan']}", fr=f"mode et VLAN du port {where} ({pc})",
                en=f"mode and VLAN of port {where} ({pc})")


@pytest.mark.competency("031", points=2)
@pytest.mark.parametrize("switch", SWITCHES)
def test_trunk(switch, hosts, expected, check):
    """p6 is a trunk carrying exactly the plan's three VLANs."""
    trunk = expected["trunk"]
    ports = driver_of(hosts, switch, expected).switchports()
    where = f"{switch} {trunk['port']}"
    check.that(trunk["port"] in ports, fr=f"{where} (trunk) n'est pas dans le pont {expected['bridge']}",
               en=f"{where} (trunk) is not in bridge {expected['bridge']}")
    port = ports[trunk["port"]]
    check.equal(port.mode, "trunk", fr=f"mode du port {where}", en=f"mode of port {where}")
    found = port.allowed_vlans
    check.equal(show_vlans(found), show_vlans(trunk["vlans"]), fr=f"VLAN transportés par le trunk {where}",
                en=f"VLANs carried by trunk {where}")


@pytest.mark.competency("031", points=2)
@pytest.mark.parametrize("vlan", ["a", "b"])
def test_same_vlan(vlan, hosts, expected, check):
    """The two PCs of a department's VLAN (one on each switch) ping each other across the trunk."""
    pcs = [pc for pc, p in expected["pcs"].items() if p["role"] == vlan]
    first, second = pcs
    vid = expected["vlan_ids"][vlan]
    for source, target in ((first, second), (second, first)):
        address = ip(expected["pcs"][target]["address"])
        ping = hosts[source].probe(Ping, address, count=1, wait=2)
        check.that(ping.reachable, fr=f"{source} ne joint pas {target} ({address}) dans le VLAN {vid}",
                   en=f"{source} cannot reach {target} ({address}) in VLAN {vid}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_management_address(switch, hosts, expected, check):
    """An internal port of the switch in the management VLAN holds the switch's address."""
    mgmt = expected["mgmt"]
    want = mgmt["addresses"][switch]
    driver = driver_of(hosts, switch, expected)
    ports = driver.switchports()
    interfaces = driver.interfaces()
    holders = [name for name, i in interfaces.items() if want in i.addresses]
    check.that(holders, fr=f"aucune interface de {switch} n'a l'adresse {want}",
               en=f"no interface of {switch} holds the address {want}")
    name = holders[0]
    port = ports.get(name)
    found = "-" if port is None else (f"access {port.access_vlan}" if port.mode == "access" else port.mode)
    check.equal(found, f"access {mgmt['vlan']}", fr=f"VLAN de l'interface {name} qui porte {want} sur {switch}",
                en=f"VLAN of interface {name} holding {want} on {switch}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_management_persistent(switch, hosts, expected, check):
    """The management interface is an OVS port (kept in the switch's database) and its address is
    in the interfaces files, brought up at boot (``auto`` or ``allow-hotplug``, or an
    ``allow-BRIDGE`` stanza of Debian's Open vSwitch integration)."""
    mgmt = expected["mgmt"]
    want = mgmt["addresses"][switch]
    host = hosts[switch]
    ports = driver_of(hosts, switch, expected).switchports()
    internal = [name for name, p in ports.items() if p.mode == "access" and p.access_vlan == mgmt["vlan"]
                and name not in expected["ports"][switch]]
    saved = []
    for name in internal:
        try:
            config = host.probe(IfupdownConfig, name)
        except ProbeError as exc:
            check.fail(fr=f"{switch} : /etc/network/interfaces est illisible ({exc})",
                       en=f"{switch}: /etc/network/interfaces cannot be read ({exc})")
        if config is not None and config.cidr == want:
            saved.append(name)
    check.that(saved, fr=f"{switch} : l'adresse {want} n'est enregistrée (/etc/network/interfaces) pour aucune "
                         f"interface du VLAN {mgmt['vlan']} : elle sera perdue au redémarrage",
               en=f"{switch}: the address {want} is saved (/etc/network/interfaces) for no interface of VLAN "
                  f"{mgmt['vlan']}: it will be lost at reboot")
    boot = host.probe(IfupdownAuto)
    allowed = set(boot["auto"] + boot["hotplug"])
    bridge_allow = host.run("ifquery --list --allow=%s", expected["bridge"])
    if bridge_allow.rc == 0:
        allowed.update(line.strip() for line in bridge_allow.stdout.splitlines() if line.strip())
    check.that(allowed & set(saved), fr=f"{switch} : {saved[0]} n'est pas activée au démarrage (auto {saved[0]})",
               en=f"{switch}: {saved[0]} is not brought up at boot (auto {saved[0]})")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_adm_reaches_switch(switch, hosts, expected, check):
    """adm, in the management VLAN, pings the switch's management address. An ARP request first:
    an internal port gets a new MAC address when it is created again (a reboot, a new port), and
    the answer refreshes what adm had cached, as the switch's own gratuitous ARP would."""
    address = ip(expected["mgmt"]["addresses"][switch])
    arp_reaches(hosts.adm, address, ip(expected["pcs"]["adm"]["address"]))
    ping = hosts.adm.probe(Ping, address, count=1, wait=2)
    check.that(ping.reachable, fr=f"adm ne joint pas {switch} à son adresse d'administration {address}",
               en=f"adm cannot reach {switch} at its management address {address}")


# -- 029: physical network ------------------------------------------------------------------------

@pytest.mark.competency("029", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_labels(switch, hosts, expected, check):
    """Every used port's description (external_ids:description) is its wall socket's label, the
    trunk's the link to the other switch."""
    want = {port: p["label"] for port, p in expected["ports"][switch].items()}
    want[expected["trunk"]["port"]] = expected["trunk"]["labels"][switch]
    ports = driver_of(hosts, switch, expected).switchports()
    found = {port: (ports[port].description if port in ports else None) for port in want}
    check.equal(found, want, fr=f"descriptions des ports de {switch}", en=f"descriptions of the ports of {switch}")


# -- 032: security --------------------------------------------------------------------------------

@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_unused_ports(switch, hosts, expected, check):
    """Each unused port carries nothing, now and after a reboot: removed from the bridge (kept so
    in the switch's database), or administratively down and not brought up again at boot."""
    host = hosts[switch]
    ports = driver_of(hosts, switch, expected).switchports()
    boot = host.probe(IfupdownAuto)
    at_boot = set(boot["auto"] + boot["hotplug"])
    found = {}
    for name in expected["unused"][switch]:
        if name not in ports:
            found[name] = "fermé / shut"
        elif not ports[name].shutdown:
            found[name] = "ouvert / open"
        elif name in at_boot:
            config = host.probe(IfupdownConfig, name) or {}
            ups = config.getall("up") if hasattr(config, "getall") else []
            if any("link set" in up and name in up and up.split()[-1] == "down" for up in ups):
                found[name] = "fermé / shut"
            else:
                found[name] = "rouvert au démarrage / up again at boot"
        else:
            found[name] = "fermé / shut"
    check.equal(found, {name: "fermé / shut" for name in found}, fr=f"ports inutilisés de {switch}",
                en=f"unused ports of {switch}")


@pytest.mark.competency("032", points=2)
@pytest.mark.parametrize("switch", SWITCHES)
def test_vlans_isolated(switch, hosts, expected, check):
    """The two departments' PCs on this switch do not share a LAN: neither answers the other's ARP
    request. Control: the switch learned each PC's MAC address on its port (the probe's frames did
    enter the switch), else the check cannot conclude and is an error, never a pass."""
    pcs = {p["role"]: (pc, p) for pc, p in expected["pcs"].items() if p["switch"] == switch and p["role"] in "ab"}
    (a, pa), (b, pb) = pcs["a"], pcs["b"]
    for source, target, ps, pt in ((a, b, pa, pb), (b, a, pb, pa)):
        reached = arp_reaches(hosts[source], ip(pt["address"]), ip(ps["address"]))
        check.that(not reached, fr=f"{source} (VLAN {ps['vlan']}) joint {target} (VLAN {pt['vlan']}) : même réseau",
                   en=f"{source} (VLAN {ps['vlan']}) reaches {target} (VLAN {pt['vlan']}): same network")
    table = driver_of(hosts, switch, expected).mac_table()
    for pc, p in ((a, pa), (b, pb)):
        links = hosts[pc].probe(Links)
        mac = links["eth0"].mac if "eth0" in links else None
        if not any(e.mac == mac and e.port == p["port"] for e in table):
            raise ProbeError(f"{switch}: no frame of {pc} ({mac}) was seen on port {p['port']}: "
                             f"whether {pc} is isolated cannot be told")


# Frames from the probe port on the trunk's cable: sent to a MAC address nobody has (RFC 7042's
# documentation unicast address: flooded, then dropped by every PC's network card), of an
# ethertype no stack handles.
NOBODY = "00:00:5e:00:53:00"
PROBE_PAYLOAD = b"tspcr-lab trunk probe"
MAX_OUTSIDE = 8  # VLANs outside the plan sent at most (the trunk's own extra ones first)
LEARN_WAIT = 2.0  # seconds given to the switch to learn the probe's address


def vlans_outside(plan: list[int], configured) -> list[int]:
    """VLANs that are not the plan's, to send on the trunk: those the trunk is configured to carry
    beyond the plan (they must not be), then one drawn anew among all the others (so that a trunk
    carrying every VLAN is caught whatever is drawn, and nothing can be tuned to the draw)."""
    extra = sorted(set(configured or ()) - set(plan) - {0})[:MAX_OUTSIDE - 1]
    others = sorted(set(range(1, 4095)) - set(plan) - set(extra))
    return extra + [random.SystemRandom().choice(others)]


def learned_vlans(driver: OvsDriver, port: str, mac: str, until, wait: float, settle: float = 1.0) -> set[int]:
    """The VLANs in which the switch learned ``mac`` on ``port`` (what it accepted from there),
    read again until ``until(vlans)`` holds or ``wait`` seconds have passed; once it holds, read
    once more ``settle`` seconds later: a userspace switch handles the first frame of each VLAN
    in its own upcall, not always in the order sent (under load, a VLAN sent first could be
    learned after the control, and a check that stopped at the control would pass a trunk that
    carries it)."""
    deadline = time.monotonic() + wait
    while True:
        vlans = {e.vlan for e in driver.mac_table() if e.mac == mac and e.port == port}
        if until(vlans):
            time.sleep(settle)
            return vlans | {e.vlan for e in driver.mac_table() if e.mac == mac and e.port == port}
        if time.monotonic() >= deadline:
            return vlans
        time.sleep(0.1)


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("switch", SWITCHES)
def test_trunk_drops_other_vlans(switch, hosts, expected, check, probe_port):
    """Frames tagged with a VLAN outside the plan, sent from the grader's probe port on the trunk's
    cable, are not accepted by the switch's trunk port; frames of a plan's VLAN are (the control).

    032, not 031: test_trunk (031) reads the trunk's configuration; this one shows its effect as
    an attacker plugged into the link would meet it (VLAN hopping, a rogue switch's VLANs): the
    trunk is a barrier, the security side of the same work. Evidence of "accepted": the switch
    learned the probe's fresh source address in that VLAN on its trunk port. Nothing learned in a
    plan's VLAN either (every plan VLAN is tried, so a trunk missing one still has a control)
    proves nothing: an error, never a pass. A trunk port that is not in the bridge (or not a trunk
    at all, or shut down) carries no tagged frame, but there is then no trunk whose filtering
    could be judged: the switch's configuration says so for certain, and it is the trainee's, so
    a failure (as test_trunk's), not an error that grading again could never resolve."""
    trunk = expected["trunk"]
    name, plan = trunk["port"], sorted(trunk["vlans"])
    driver = driver_of(hosts, switch, expected)
    ports = driver.switchports()
    check.that(name in ports, fr=f"{switch} {name} (trunk) n'est pas dans le pont {expected['bridge']} : "
                                 f"aucun trunk dont le filtrage puisse être vérifié",
               en=f"{switch} {name} (trunk) is not in bridge {expected['bridge']}: no trunk whose filtering "
                  f"could be checked")
    check.that(ports[name].mode == "trunk",
               fr=f"{switch} {name} n'est pas un trunk ({ports[name].mode} {ports[name].access_vlan}) : il ne "
                  f"transporte aucun VLAN étiqueté, aucun filtrage de trunk à vérifier",
               en=f"{switch} {name} is not a trunk ({ports[name].mode} {ports[name].access_vlan}): it carries no "
                  f"tagged VLAN, no trunk filtering to check")
    check.that(not ports[name].shutdown, fr=f"{switch} {name} (trunk) est désactivé : il ne transporte rien, "
                                            f"aucun filtrage de trunk à vérifier",
               en=f"{switch} {name} (trunk) is shut down: it carries nothing, no trunk filtering to check")
    outside = vlans_outside(plan, ports[name].allowed_vlans)
    source = random_mac()
    port = probe_port("trunk")
    for vlan in outside + plan:  # the plan's last: once one is learned, the others were handled
        port.send(Frame(dst=NOBODY, src=source, ethertype=PROBE_ETHERTYPE, vlan=vlan, payload=PROBE_PAYLOAD),
                  count=2)
    learned = learned_vlans(driver, name, source, lambda vlans: vlans & set(plan), LEARN_WAIT)
    carried = sorted(learned & set(outside))
    check.equal(carried, [], fr=f"VLAN hors du plan acceptés par le trunk {switch} {name} (trames étiquetées "
                                f"envoyées : VLAN {show_vlans(outside)})",
                en=f"VLANs outside the plan accepted by trunk {switch} {name} (tagged frames sent: VLAN "
                   f"{show_vlans(outside)})")
    if not learned & set(plan):
        raise ProbeError(f"{switch}: no frame tagged with a VLAN of the plan ({show_vlans(plan)}) sent on the "
                         f"trunk's cable was learned on {name} within {LEARN_WAIT:g} s: whether the trunk turns "
                         f"other VLANs away cannot be told")
