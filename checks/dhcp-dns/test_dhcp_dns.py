"""Checks of the dhcp-dns lab: competencies 033 (centralised network services) and 030 (IP).

srv1's services are judged as a device plugged into the LAN meets them: the grader's probe port
``lan`` (an address of the plan, outside the DHCP range) is a real DHCP client from fresh MAC
addresses (DISCOVER, OFFER, REQUEST, ACK, then RELEASE: no lease is left behind) and from the
printer's MAC (the reservation), and asks srv1 for every record of the zone, each its own check.
The PCs are read from their own state: the address eth0 holds and the lease dhclient keeps for
it, the route and DNS server that came with it, what ifupdown would run at boot. A service that
does not answer is the trainee's failure only once srv1 is shown to be running (its console) and
on the LAN (it answers ARP from the probe); if the probe hears no host at all, that is an error.
Checks only read: the probe's leases are released, nothing is configured.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import Hostname, IfupdownAuto, Probe, Resolve, Resolver, Routes, ServiceAtBoot, default_gateways
from tspcr_lab.probes.system import probe_parser

PCS = ["pc1", "pc2"]
OPTIONS = ["mask", "router", "dns", "domain", "lease_time"]
RECORDS = ["a-srv1", "a-gw", "a-printer", "a-mail", "ptr-srv1", "ptr-gw", "ptr-printer", "cname-alias", "mx"]
# dnsmasq pings (ARPs) an address for about 3 s before it first offers it, one address at a time:
# OFFERS fresh MAC addresses take about 3 s each, and the probe waits for all of them, so that no
# DISCOVER is left queued at srv1 to delay the next check's exchange.
OFFERS = 3  # fresh MAC addresses whose offers must all fall in the range (with the lease's: 4)
DHCP_TIMEOUT = 6.0
OFFERS_TIMEOUT = 3.5 * OFFERS + 2
DHCP_CLIENTS = ("dhclient", "udhcpc", "dhcpcd", "pump")  # what ifupdown's dhcp method runs


# -- probes of the PCs (read only) -------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DynamicAddress:
    address: str
    prefixlen: int
    dynamic: bool  # given a lifetime (what a DHCP client sets), not "forever"
    valid_lifetime: int | None


class DynamicAddresses(Probe):
    """``ip -j -4 addr show dev IFACE`` -> [:class:`DynamicAddress`] (``[]`` without the interface)."""

    def __init__(self, iface: str):
        self.iface = iface

    def command(self) -> str:
        return f"ip -j -4 addr show dev {self.iface} 2>/dev/null || echo '[]'"

    @probe_parser
    def process(self, output: str) -> list[DynamicAddress]:
        found = []
        for link in json.loads(output.strip() or "[]"):
            for info in link.get("addr_info", []):
                lifetime = info.get("valid_life_time")
                forever = lifetime is None or lifetime >= 0xFFFFFFFF
                found.append(DynamicAddress(info["local"], int(info["prefixlen"]),
                                            bool(info.get("dynamic")) or not forever,
                                            None if forever else int(lifetime)))
        return found


@dataclasses.dataclass(frozen=True)
class ClientLease:
    """One ``lease { ... }`` of a dhclient lease file."""

    file: str
    interface: str | None
    address: str | None
    options: dict[str, str]

    @property
    def server(self) -> str | None:
        return self.options.get("dhcp-server-identifier")


class ClientLeases(Probe):
    """The leases dhclient keeps (``/var/lib/dhcp/dhclient*.leases``, oldest first in each file;
    ifup's dhclient writes ``dhclient.IFACE.leases``) -> [:class:`ClientLease`]."""

    MARK = "@@tspcr-file "

    def command(self) -> str:
        return (f"for f in /var/lib/dhcp/dhclient*.leases; do if test -f \"$f\"; then echo \"{self.MARK}$f\"; "
                "cat -- \"$f\"; fi; done; true")

    @probe_parser
    def process(self, output: str) -> list[ClientLease]:
        leases, current, block = [], None, None
        for line in output.splitlines():
            if line.startswith(self.MARK):
                current, block = line[len(self.MARK):], None
                continue
            text = line.strip().rstrip(";").strip()
            if text == "lease {":
                block = {"interface": None, "address": None, "options": {}}
            elif text == "}" and block is not None:
                leases.append(ClientLease(current or "?", block["interface"], block["address"], block["options"]))
                block = None
            elif block is not None and text:
                key, _, value = text.partition(" ")
                if key == "interface":
                    block["interface"] = value.strip('"')
                elif key == "fixed-address":
                    block["address"] = value
                elif key == "option":
                    name, _, rest = value.partition(" ")
                    block["options"][name] = rest
        return leases


class IfupPlan(Probe):
    """What ``ifup IFACE`` would run (``ifup --no-act --force -v``: nothing is run, no state is
    written) -> the commands, or None when IFACE is not in the interfaces files. The DHCP
    method runs a DHCP client (dhclient); static runs ``ip addr add``."""

    ok_codes = (0, 1)

    def __init__(self, iface: str):
        self.iface = iface

    def command(self) -> str:
        return f"ifup --no-act --force -v {self.iface} 2>&1"

    @probe_parser
    def process(self, output: str) -> list[str] | None:
        if f"configuring interface {self.iface}=" not in output:
            return None
        return [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("ifup:")]


# -- helpers -----------------------------------------------------------------------------------

def in_range(address: str | None, expected) -> bool:
    if not address:
        return False
    low, high = (ipaddress.IPv4Address(expected["range"][k]) for k in ("start", "end"))
    return low <= ipaddress.IPv4Address(address) <= high


def srv1_silent(p, hosts, expected, check, what_fr: str, what_en: str) -> None:
    """srv1's service did not answer the probe: the trainee's failure once srv1 is shown running
    (its console) and on the LAN (ARP); an error when the probe hears no host of the LAN."""
    hosts.srv1.probe(Hostname)  # a host that is not running: an error, raised here
    srv1 = expected["srv1"]
    if p.arp(srv1) is None:
        if p.arp(expected["gateway"]) is None:
            raise ProbeError(f"probe port lan hears neither srv1 ({srv1}) nor gw ({expected['gateway']}): "
                             "the probe is not on the LAN")
        check.fail(fr=f"srv1 ({srv1}) ne répond pas sur le réseau local (ARP) : son interface eth0 est-elle active ?",
                   en=f"srv1 ({srv1}) does not answer on the LAN (ARP): is its eth0 interface up?")
    check.fail(fr=f"srv1 ne répond pas : {what_fr}", en=f"srv1 does not answer: {what_en}")


class SharedLease:
    """One DHCP lease from a fresh MAC address, taken and released by the first check that asks
    (its exchange in that check's evidence), then the same for each option's check (each records
    which lease it judges)."""

    def __init__(self):
        self.taken = False
        self.lease = None

    def peek(self, p):
        """The lease (None when srv1 did not answer), taken now if no check took it yet."""
        if not self.taken:
            self.lease, self.taken = p.dhcp(timeout=DHCP_TIMEOUT), True
        else:
            p.record(f"probe lan ({p.address}): DHCP lease taken earlier in this grading (released)",
                     self.lease.summary() if self.lease else "no lease: srv1 did not answer")
        return self.lease

    def __call__(self, p, hosts, expected, check):
        """The lease, judged as the answer to a new PC: no answer or no ACK fails the check."""
        lease = self.peek(p)
        if lease is None:
            srv1_silent(p, hosts, expected, check, "aucune réponse DHCP à un nouveau poste",
                        "no DHCP answer to a new PC")
        check.equal(lease.message, "ACK", fr="réponse de srv1 à la demande DHCP d'un nouveau poste",
                    en="srv1's answer to a new PC's DHCP request")
        return lease


@pytest.fixture(scope="module")
def shared_lease():
    """``shared_lease(p, hosts, expected, check)``: see :class:`SharedLease`."""
    return SharedLease()


def lease_options(lease) -> dict:
    return {"mask": lease.mask, "router": list(lease.routers), "dns": list(lease.dns), "domain": lease.domain,
            "lease_time": lease.lease_time}


# -- 033: the DHCP service ---------------------------------------------------------------------

@pytest.mark.competency("033", points=2, critical=True)
def test_dhcp_range(prober, hosts, expected, shared_lease, check):
    """A new PC gets an address of the plan's range, and no address outside it is offered to
    OFFERS other fresh MAC addresses (a server picks an address from the MAC: they are spread
    over its range)."""
    p = prober("lan")
    rng = expected["range"]
    lease = shared_lease(p, hosts, expected, check)
    check.that(in_range(lease.address, expected),
               fr=f"adresse donnée à un nouveau poste : {lease.address}, hors de la plage {rng['start']}-{rng['end']}",
               en=f"address given to a new PC: {lease.address}, outside the range {rng['start']}-{rng['end']}")
    offers = p.dhcp_offers(count=OFFERS, timeout=OFFERS_TIMEOUT)
    check.that(offers, fr="srv1 n'a fait aucune offre DHCP à de nouveaux postes",
               en="srv1 made no DHCP offer to new PCs")
    outside = sorted({o.address or "-" for o in offers if not in_range(o.address, expected)})
    check.equal(outside, [], fr=f"adresses offertes hors de la plage {rng['start']}-{rng['end']}",
                en=f"addresses offered outside the range {rng['start']}-{rng['end']}")


@pytest.mark.competency("033", points=1)
@pytest.mark.parametrize("option", OPTIONS)
def test_dhcp_option(option, prober, hosts, expected, shared_lease, check):
    """Each option of a new PC's lease is the plan's: netmask, router (gw), DNS server (srv1),
    domain name, lease time."""
    lease = shared_lease(prober("lan"), hosts, expected, check)
    if option == "mask":
        check.equal(lease.mask, expected["netmask"], fr="masque donné par DHCP", en="netmask given by DHCP")
    elif option == "router":
        check.equal(list(lease.routers), [expected["gateway"]], fr="passerelle donnée par DHCP",
                    en="gateway given by DHCP")
    elif option == "dns":
        check.equal(list(lease.dns), [expected["srv1"]], fr="serveur(s) DNS donné(s) par DHCP",
                    en="DNS server(s) given by DHCP")
    elif option == "domain":
        check.equal(lease.domain, expected["domain"], fr="nom de domaine donné par DHCP",
                    en="domain name given by DHCP")
    else:
        check.equal(lease.lease_time, expected["lease_time"], fr="durée du bail DHCP (secondes)",
                    en="DHCP lease time (seconds)")


@pytest.mark.competency("033", points=2)
def test_dhcp_reservation(prober, hosts, expected, shared_lease, check):
    """The printer's MAC address gets its reserved address (asked from the probe with that MAC:
    the printer is a device of the plan, not a host of the lab; the lease is released), with the
    same netmask, gateway, DNS server, domain and lease time as a new PC."""
    p = prober("lan")
    printer = expected["printer"]
    lease = p.dhcp(mac=printer["mac"], timeout=DHCP_TIMEOUT)
    if lease is None:
        srv1_silent(p, hosts, expected, check, f"aucune réponse DHCP à l'imprimante ({printer['mac']})",
                    f"no DHCP answer to the printer ({printer['mac']})")
    check.equal(lease.message, "ACK", fr="réponse de srv1 à la demande DHCP de l'imprimante",
                en="srv1's answer to the printer's DHCP request")
    check.equal(lease.address, printer["address"], fr=f"adresse donnée à l'imprimante ({printer['mac']})",
                en=f"address given to the printer ({printer['mac']})")
    # the printer's other options are those every PC gets (judged against the plan by the option
    # checks: a wrong option for all fails there, not here)
    fresh = shared_lease.peek(p)
    if fresh is not None and fresh.message == "ACK":
        mine, theirs = lease_options(lease), lease_options(fresh)
        differ = {key: (mine[key], theirs[key]) for key in mine if mine[key] != theirs[key]}
        check.equal(differ, {}, fr="options de l'imprimante différentes de celles d'un nouveau poste (imprimante, poste)",
                    en="the printer's options differ from a new PC's (printer, PC)")


@pytest.mark.competency("033", points=1)
def test_dhcp_at_boot(hosts, check):
    """dnsmasq starts when srv1 boots (the way srv1 boots: its list of boot services on the
    virtual lab, systemd or rc links on a real Debian)."""
    boot = hosts.srv1.probe(ServiceAtBoot, "dnsmasq")
    check.that(boot.enabled, fr=f"dnsmasq ne démarre pas avec srv1 ({boot.evidence()})",
               en=f"dnsmasq does not start with srv1 ({boot.evidence()})")


# -- 033: the DNS zone -------------------------------------------------------------------------

@pytest.mark.competency("033", points=1)
@pytest.mark.parametrize("record", RECORDS)
def test_dns_record(record, prober, hosts, expected, check):
    """srv1 answers the record of the plan (A, PTR, CNAME, MX). A PTR may also name the other
    planned names of that address (srv1 is mail too), never another."""
    want = expected["records"][record]
    p = prober("lan")
    answer = p.dns(expected["srv1"], want["name"], want["type"])
    if answer.unreachable:
        check.fail(fr=f"aucun serveur DNS n'écoute sur srv1 : port UDP 53 fermé (ICMP « port unreachable » "
                      f"de {answer.unreachable} pour {want['name']})",
                   en=f"no DNS server listens on srv1: UDP port 53 closed (ICMP 'port unreachable' "
                      f"from {answer.unreachable} for {want['name']})")
    if answer.rcode is None:
        srv1_silent(p, hosts, expected, check, f"aucune réponse DNS pour {want['name']}",
                    f"no DNS answer for {want['name']}")
    found = answer.values(want["type"])
    what_fr, what_en = f"{want['type']} de {want['name']} selon srv1", f"{want['type']} of {want['name']} from srv1"
    if want["type"] == "PTR":
        check.contains(found, want["value"], fr=what_fr, en=what_en)
        others = [name for name in found if name not in expected["names_of"][want["name"]]]
        check.equal(others, [], fr=f"autres noms donnés pour {want['name']}", en=f"other names given for {want['name']}")
    else:
        check.equal(found, [want["value"]], fr=what_fr, en=what_en)


# -- the PCs -----------------------------------------------------------------------------------

@pytest.mark.competency("030", points=2)
@pytest.mark.parametrize("pc", PCS)
def test_pc_lease(pc, hosts, expected, check):
    """eth0 holds one address of the range, obtained by DHCP from srv1 (a lifetime set by the
    client, and dhclient's lease for it from srv1), and the default route goes through gw."""
    host = hosts[pc]
    addresses = host.probe(DynamicAddresses, "eth0")
    rng = expected["range"]
    check.that(addresses, fr=f"{pc} : eth0 n'a aucune adresse IPv4", en=f"{pc}: eth0 has no IPv4 address")
    check.equal([a.address for a in addresses if in_range(a.address, expected) and a.prefixlen == expected["prefix"]],
                [a.address for a in addresses],
                fr=f"adresses de eth0 sur {pc} dans la plage {rng['start']}-{rng['end']} /{expected['prefix']}",
                en=f"addresses of eth0 on {pc} in the range {rng['start']}-{rng['end']} /{expected['prefix']}")
    address = addresses[0]
    check.that(address.dynamic and len(addresses) == 1,
               fr=f"{pc} : l'adresse {address.address} est posée à la main (sans durée de bail), pas obtenue par DHCP",
               en=f"{pc}: address {address.address} is set by hand (no lease time), not obtained by DHCP")
    leases = [lease for lease in host.probe(ClientLeases) if lease.address == address.address]
    check.that(leases, fr=f"{pc} : dhclient n'a aucun bail pour {address.address}",
               en=f"{pc}: dhclient holds no lease for {address.address}")
    check.equal(leases[-1].server, expected["srv1"], fr=f"serveur DHCP du bail de {pc}", en=f"DHCP server of {pc}'s lease")
    check.equal(default_gateways(host.probe(Routes)), [expected["gateway"]], fr=f"passerelle par défaut de {pc}",
                en=f"default gateway of {pc}")


@pytest.mark.competency("030", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_pc_dhcp_persistent(pc, hosts, check):
    """After a reboot eth0 is configured by DHCP again: what ``ifup eth0`` would run is a DHCP
    client (the interfaces files say ``inet dhcp``), and eth0 is ``auto`` or ``allow-hotplug``."""
    host = hosts[pc]
    plan = host.probe(IfupPlan, "eth0")
    check.that(plan is not None,
               fr=f"{pc} : eth0 n'est pas déclarée dans /etc/network/interfaces, sa configuration sera perdue au redémarrage",
               en=f"{pc}: eth0 is not declared in /etc/network/interfaces, its configuration will be lost at reboot")
    clients = [line for line in plan if re.search(rf"\b({'|'.join(DHCP_CLIENTS)})\b", line)]
    check.that(clients, fr=f"{pc} : eth0 n'est pas configurée en DHCP (iface eth0 inet dhcp)",
               en=f"{pc}: eth0 is not configured by DHCP (iface eth0 inet dhcp)")
    boot = host.probe(IfupdownAuto)
    check.that("eth0" in boot["auto"] + boot["hotplug"],
               fr=f"{pc} : eth0 n'est pas activée au démarrage (il manque « auto eth0 » ou « allow-hotplug eth0 »)",
               en=f"{pc}: eth0 is not brought up at boot ('auto eth0' or 'allow-hotplug eth0' is missing)")


@pytest.mark.competency("033", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_pc_resolver(pc, hosts, expected, check):
    """The PC asks srv1 (the DNS server its lease gave, in resolv.conf) and resolves srv1's name."""
    host = hosts[pc]
    check.equal(host.probe(Resolver).nameservers, [expected["srv1"]], fr=f"serveur(s) DNS de {pc}",
                en=f"DNS server(s) of {pc}")
    name = expected["records"]["a-srv1"]["name"]
    resolved = host.probe(Resolve, name)
    if resolved != [expected["srv1"]]:
        hosts.srv1.probe(Hostname)  # srv1 not running: an error, not the PC's failure
    check.equal(resolved, [expected["srv1"]], fr=f"adresse de {name} résolue par {pc}",
                en=f"address of {name} resolved by {pc}")
